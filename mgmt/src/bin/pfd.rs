//! pfd: the firewall. `pfd run` runs it on live interfaces from an etc
//! directory; `pfd check` checks such a directory; `pfd replay` runs the
//! packet engine offline over a capture.

use clap::{CommandFactory, Parser, Subcommand};
use mgmt::logging::LogFormat;
use mgmt::replay::{parse_mac, parse_net, Inbound, ReplayArgs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const AFTER_HELP: &str = "\
RUN:
  pfd run takes over the interfaces of the etc directory's hostname.if
  files: the kernel should hold no address on them and not forward
  (pfd answers ARP and ping for their addresses and routes between
  them, as sysctl.conf's net.inet.ip.forwarding allows).
  hostname.carpN runs CARP (ifctl shows and changes it live);
  hostname.pfsync0 runs pfsync on its syncdev (with defer, new
  states' first packets wait for the peer's INS_ACK, 20 ms at most;
  pfd's authkey FILE authenticates it) and copies its packets to a TUN
  interface pfsync0 for tcpdump (mirror NAME, -mirror for none).
  --workers N runs N worker threads sharing the state table. The
  control socket answers pfctl (-s, -f FILE keeping every state, -F,
  -k, -K, -z, -x, -e, -d, -t -T, -a; see pfctl --help) and ifctl;
  SIGTERM or SIGINT stops it (CARP bows out first).
  It logs on stderr (--log, --log-format): starting and stopping,
  CARP state transitions (carp0: state transition: BACKUP -> MASTER),
  pfsync's bulk updates and syncdev link, and what the control socket
  changed at pf's debug level (set debug, pfctl -x).
  --metrics ADDR:PORT serves Prometheus's GET /metrics (rule, label,
  state table, drop reason, interface, CARP and pfsync counters, the
  figures pfctl -si, -vsr, -sl and ifctl -s carp|pfsync show).

REPLAY:
  pfd replay runs pf's exact per-packet pipeline (reassembly, state
  lookup, rule evaluation, state creation, translation, pflog) over a
  capture taken on one interface, with the capture's timestamps as the
  clock. Say which packets are inbound with --inbound-from NET (source
  address in NET; repeatable) or --mac MAC (Ethernet destination is the
  firewall's MAC, or a group address it did not send); the rest are
  outbound.

  Each line of the verdicts file is a JSON object:
    index   packet number in the capture, from 1 (as tshark numbers them)
    ts      capture timestamp, seconds
    dir     in | out
    action  pass | block | held (a fragment waiting for the rest)
    rule    pf's rule number (@nr) that decided, or null (default pass,
            or dropped before the rules)
    anchor  the rule's anchor, when not the main ruleset
    state   new (a state was created) | match (an existing state passed
            or blocked it; the rules were not run) | none
    reason  pf's drop reason when blocked (match, short, state-mismatch,
            state-limit, ip-option, translate, ...), else null
    nat     {src, sport, dst, dport} the packet leaves with, when
            translated, else null
    log     whether it was logged to pflog
    reply   true when a frame went back to the packet's sender
    emit    the frames the firewall sent itself because of this packet,
            in order, each \"sender\" (back to the packet's sender: a
            block return reply; synproxy's SYN|ACK to the client's SYN,
            its ACK to the server's SYN|ACK; the challenge ACK to a SYN
            on an established connection; the RST to a segment out of
            window in a simultaneous open) or \"onward\" (on toward
            the packet's destination: synproxy's SYN to the server on
            the client's ACK, its ACK to the client on the server's
            SYN|ACK); absent when none
    fragments  a reassembled IPv6 packet that passed: how many
            fragments it left as (cut back as its source sent them,
            as pf_refragment6 does); refragment_error instead when it
            could not be cut (not written to --out)

  --out gets, in capture order, each passed packet as it leaves (after
  translation; a reassembled IPv6 packet as its fragments) followed by the frames the firewall sent onward because
  of it; --replies gets the frames sent back to the sender. With
  synproxy state the server's packets are outbound on the captured
  interface (the state is floating), so a one-interface capture holds
  the whole exchange. Frames pf would run through the rules again on
  their way out (synproxy's SYN and ACK to the server) are written as
  built: a one-interface replay has no other interface to filter them
  on.

  --summary writes, at the end, each rule's evaluations, packets, bytes
  and states created (as pfctl -vsr counts them), every remaining state
  with its keys, rule and counters (pfctl -vss), the drop reasons
  (pfctl -si), and refrag_failed (reassembled IPv6 packets that passed
  but could not be cut back into fragments).

EXAMPLES:
  pfd replay --rules /etc/pf.conf --pcap em0.pcap --if em0 \\
      --inbound-from 203.0.113.0/24 --out passed.pcap --verdicts v.jsonl";

/// pfd: OpenBSD's pf for Linux.
#[derive(Parser, Debug)]
#[command(name = "pfd", version, after_help = AFTER_HELP)]
// pub(crate): mgmt's gendocs example and docs test include this file
// for its clap definition (man pages, completions).
pub(crate) struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
// One value per run: the size difference between commands costs nothing.
#[allow(clippy::large_enum_variant)]
enum Cmd {
    /// Run the firewall: boot from an etc directory (as `pfd check
    /// --interfaces` checks it), take over its interfaces and filter and
    /// route until SIGTERM or SIGINT.
    Run {
        /// The directory holding hostname.<if>, mygate, sysctl.conf and
        /// pf.conf.
        #[arg(long, value_name = "DIR")]
        etc: String,
        /// The control socket (default $PFD_CONTROL, else /run/pfd.sock).
        #[arg(long, value_name = "PATH")]
        control: Option<String>,
        /// Worker threads; each has a port on every interface and the
        /// kernel spreads flows over them (PACKET_FANOUT_HASH).
        #[arg(long, value_name = "N", default_value_t = 1,
              value_parser = clap::value_parser!(u16).range(1..=256))]
        workers: u16,
        /// Pin worker i to the i-th CPU of this list (`1,3` or `2-5`);
        /// workers past its end are not pinned.
        #[arg(long, value_name = "LIST", value_parser = parse_cpus)]
        cpus: Option<Vec<usize>>,
        /// Microseconds a worker keeps polling after the last frame
        /// before it sleeps in poll(2) (0: sleep at once).
        #[arg(long, value_name = "US", default_value_t = 50)]
        busy_poll_us: u64,
        /// The longest sleep of an idle worker, in milliseconds, before
        /// it looks again (0: never sleep; it spins on its core).
        #[arg(long, value_name = "MS", default_value_t = 50)]
        idle_max_ms: u64,
        /// What to log: a level (error, warn, info, debug, trace, off) or
        /// RUST_LOG-style directives by target, e.g.
        /// `warn,pfd::carp=info` (targets: pfd, pfd::carp, pfd::pfsync,
        /// pfd::control).
        #[arg(long = "log", value_name = "FILTER", default_value = "info")]
        log: String,
        /// Log lines as text (no colours unless stderr is a terminal; no
        /// timestamps and a syslog <N> prefix when stderr is the
        /// journal) or as one JSON object per line (timestamp, level,
        /// target, message).
        #[arg(long, value_name = "FORMAT", value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
        /// Serve Prometheus metrics on ADDR:PORT (`GET /metrics`; off
        /// unless given), in pfd's network namespace: rule, label,
        /// state, drop-reason, interface, CARP and pfsync counters, the
        /// figures pfctl -si/-vsr/-sl and ifctl -s carp/pfsync show.
        #[arg(long, value_name = "ADDR:PORT")]
        metrics: Option<std::net::SocketAddr>,
        /// Write the packets `log` rules log to this file as pflogd
        /// does (pcap, DLT_PFLOG; appended to), or to a FIFO a live
        /// `tcpdump -n -e -r FIFO` reads. Without it they are not
        /// written anywhere; their rules still count them.
        #[arg(long, value_name = "FILE")]
        pflog: Option<std::path::PathBuf>,
    },
    /// Check an etc directory (hostname.if files, mygate, sysctl.conf,
    /// pf.conf) as `pfd run --etc DIR` reads it, without touching any
    /// interface: every error as FILE:LINE: message, exit status 1.
    Check {
        /// The directory holding hostname.<if>, mygate, sysctl.conf and
        /// pf.conf.
        #[arg(long, value_name = "DIR")]
        etc: String,
        /// Also require every interface named by a hostname.<if> file
        /// (carpN aside) to exist on this machine.
        #[arg(long)]
        interfaces: bool,
    },
    /// Run a ruleset over a capture and write each packet's verdict.
    Replay {
        /// pf.conf to load (refused, with pfctl's errors, if invalid).
        #[arg(long, value_name = "FILE")]
        rules: String,
        /// Capture to replay (pcap; Ethernet or raw IP).
        #[arg(long, value_name = "IN.pcap")]
        pcap: String,
        /// Name of the interface the capture was taken on, as pf.conf
        /// names it (`pass in on NAME`).
        #[arg(long = "if", value_name = "NAME")]
        ifname: String,
        /// An address of that interface (ADDR or ADDR/PREFIX), for rules
        /// on `(NAME)` and `NAME:network`; repeatable.
        #[arg(long = "if-addr", value_name = "ADDR/PREFIX")]
        if_addr: Vec<String>,
        /// An interface group the interface is in besides its driver's
        /// (`egress`, or a hostname.if `group` line); repeatable.
        #[arg(long = "group", value_name = "GROUP")]
        group: Vec<String>,
        /// Write the packets that pass, as they leave (translated), and
        /// the frames the firewall sends onward (synproxy), in order.
        #[arg(long, value_name = "PASSED.pcap")]
        out: Option<String>,
        /// Write one JSON verdict per packet.
        #[arg(long, value_name = "VERDICTS.jsonl")]
        verdicts: String,
        /// Packets from this network are inbound; repeatable.
        #[arg(long = "inbound-from", value_name = "NET", conflicts_with = "mac")]
        inbound_from: Vec<String>,
        /// Frames to this MAC (the firewall's) are inbound.
        #[arg(long, value_name = "MAC")]
        mac: Option<String>,
        /// Write logged packets with pflog headers (DLT_PFLOG).
        #[arg(long, value_name = "PFLOG.pcap")]
        pflog: Option<String>,
        /// Write the frames sent back to a packet's sender (block return
        /// replies, synproxy's answers to the client).
        #[arg(long, value_name = "REPLIES.pcap")]
        replies: Option<String>,
        /// Write rule, state and drop-reason counters (JSON) at the end.
        #[arg(long, value_name = "SUMMARY.json")]
        summary: Option<String>,
        /// Seed of the random numbers (ports, probability), for a
        /// repeatable run.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Print a shell completion script for pfd on stdout (bash: save
    /// as /usr/share/bash-completion/completions/pfd; zsh: _pfd in
    /// $fpath; fish: ~/.config/fish/completions/pfd.fish).
    Completions {
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run {
            etc,
            control,
            workers,
            cpus,
            busy_poll_us,
            idle_max_ms,
            log,
            log_format,
            metrics,
            pflog,
        } => {
            if let Err(e) = mgmt::logging::init(&log, log_format) {
                return fail(&e);
            }
            let env = match ruleset::hostenv::from_env() {
                Ok(e) => e,
                Err(e) => return fail(&e.to_string()),
            };
            let stop = Arc::new(AtomicBool::new(false));
            let s2 = Arc::clone(&stop);
            if let Err(e) = ctrlc::set_handler(move || s2.store(true, Ordering::SeqCst)) {
                return fail(&format!("signal handler: {e}"));
            }
            let args = mgmt::daemon::RunArgs {
                etc: etc.into(),
                control: mgmt::control::control_path(control.as_deref()),
                workers: mgmt::daemon::Workers {
                    count: usize::from(workers),
                    cpus: cpus.unwrap_or_default(),
                    busy_poll_us,
                    idle_max: std::time::Duration::from_millis(idle_max_ms),
                },
                metrics,
                pflog,
            };
            let daemon = match mgmt::daemon::boot(&args, env.as_ref()) {
                Ok(d) => d,
                Err(e) => {
                    eprint!("{}", if e.ends_with('\n') { e } else { e + "\n" });
                    return ExitCode::from(1);
                }
            };
            tracing::info!(
                target: "pfd",
                "running on {} with {} worker{}; control socket {}",
                daemon.interfaces().join(" "),
                daemon.workers(),
                if daemon.workers() == 1 { "" } else { "s" },
                daemon.control_path().display()
            );
            if let Some(a) = daemon.metrics_addr() {
                tracing::info!(target: "pfd", "metrics on http://{a}/metrics");
            }
            match daemon.serve(&stop) {
                Ok(each) => {
                    let st = mgmt::daemon::total(&each);
                    tracing::info!(
                        target: "pfd",
                        "stopped: {} frames in, {} out, {} dropped",
                        st.rx, st.tx, st.dropped
                    );
                    if each.len() > 1 {
                        for (w, st) in each.iter().enumerate() {
                            tracing::info!(
                                target: "pfd",
                                "worker {w}: {} frames in, {} out, {} dropped",
                                st.rx, st.tx, st.dropped
                            );
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprint!("{}", if e.ends_with('\n') { e } else { e + "\n" });
                    ExitCode::from(1)
                }
            }
        }
        Cmd::Completions { shell } => emit(&mgmt::docs::completion(Cli::command(), shell)),
        Cmd::Check { etc, interfaces } => {
            let env = match ruleset::hostenv::from_env() {
                Ok(e) => e,
                Err(e) => return fail(&e.to_string()),
            };
            let exists = |name: &str| std::path::Path::new("/sys/class/net").join(name).exists();
            let exists: Option<&dyn Fn(&str) -> bool> =
                if interfaces { Some(&exists) } else { None };
            match mgmt::check::check(std::path::Path::new(&etc), exists, env.as_ref()) {
                Ok(c) => {
                    print!("{}", mgmt::check::report(&c));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprint!("{}", if e.ends_with('\n') { e } else { e + "\n" });
                    ExitCode::from(1)
                }
            }
        }
        Cmd::Replay {
            rules,
            pcap,
            ifname,
            if_addr,
            group,
            out,
            verdicts,
            inbound_from,
            mac,
            pflog,
            replies,
            summary,
            seed,
        } => {
            let inbound = match (inbound_from.is_empty(), mac) {
                (false, _) => match inbound_from.iter().map(|s| parse_net(s)).collect() {
                    Ok(nets) => Inbound::From(nets),
                    Err(e) => return fail(&format!("--inbound-from {e}")),
                },
                (true, Some(m)) => match parse_mac(&m) {
                    Ok(mac) => Inbound::Mac(mac),
                    Err(e) => return fail(&format!("--mac {e}")),
                },
                (true, None) => {
                    return fail("say which packets are inbound: --inbound-from NET or --mac MAC")
                }
            };
            let if_addrs = match if_addr.iter().map(|s| parse_net(s)).collect() {
                Ok(a) => a,
                Err(e) => return fail(&format!("--if-addr {e}")),
            };
            let env = match ruleset::hostenv::from_env() {
                Ok(e) => e,
                Err(e) => return fail(&e.to_string()),
            };
            let args = ReplayArgs {
                rules,
                pcap,
                ifname,
                if_addrs,
                groups: group,
                out,
                verdicts,
                pflog,
                replies,
                summary,
                inbound,
                seed,
            };
            match mgmt::replay::run(&args, env.as_ref()) {
                Ok(s) => {
                    eprintln!(
                        "pfd: {} packets: {} passed, {} blocked, {} held; {} states",
                        s.packets, s.passed, s.blocked, s.held, s.states
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprint!("{}", if e.ends_with('\n') { e } else { e + "\n" });
                    ExitCode::from(1)
                }
            }
        }
    }
}

/// Write `bytes` on stdout.
fn emit(bytes: &[u8]) -> ExitCode {
    use std::io::Write;
    match std::io::stdout().write_all(bytes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("stdout: {e}")),
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("pfd: {msg}");
    ExitCode::from(1)
}

/// A CPU list as taskset(1) writes it: `0,2,4-7`.
fn parse_cpus(s: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let num = |t: &str| {
            t.trim()
                .parse::<usize>()
                .map_err(|_| format!("{t:?} is not a CPU number"))
        };
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b || b - a > 1024 {
                    return Err(format!("{part:?} is not a CPU range"));
                }
                out.extend(a..=b);
            }
            None => out.push(num(part)?),
        }
    }
    Ok(out)
}
