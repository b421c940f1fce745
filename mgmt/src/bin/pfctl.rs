//! pfctl: control pfd, OpenBSD style. This build works offline (`-n`):
//! it parses and prints a ruleset exactly as OpenBSD's pfctl does.

use clap::Parser;
use mgmt::control::{
    control_path, Client, DebugLevel, FlushWhat, KillBy, Request, Response, RuleSource, ShowWhat,
    SrcNodeFilter, StateFilter, TableOp,
};
use mgmt::offline::{run, Request as OfflineRequest};
use std::io::{Read, Write};
use std::process::ExitCode;

const AFTER_HELP: &str = "\
CHECKING A RULESET:
  pfctl -n reads pf.conf exactly as OpenBSD's pfctl does: the same syntax,
  the same expansion, the same output and the same errors (FILE:LINE:
  message, every error in one run, exit status 1). Features pfd parses but
  does not enforce (OS fingerprints, divert, route labels, urpf-failed,
  user/group, received-on, rtable/rdomain other than 0, queues, set
  prio/queue/delay, prio, max-pkt-rate, af-to, pflow) are listed on stderr
  as 'not supported'; pfd refuses to load such a ruleset.

ENVIRONMENT:
  PFD_HOST_PROFILE  Which machine host names, interfaces, users, groups,
                    services and protocols are looked up on:
                      system           this Linux machine (the default)
                      openbsd-regress  the OpenBSD host of OpenBSD's pfctl
                                       regression suite (lo0 with ::1,
                                       fe80::1 and 127.0.0.1; lo1000000,
                                       tun1000000, tun1000001; groups lo
                                       and tun; localhost; OpenBSD's
                                       services and protocols)

TALKING TO A RUNNING PFD:
  Without -n, pfctl asks the running pfd over its control socket
  (--control PATH, or $PFD_CONTROL, else /run/pfd.sock), in pfctl's
  formats and with its messages; --json prints any answer as JSON.
  -s rules|labels|states|Sources|info|Tables|Interfaces|timeouts|memory|
     Anchors|osfp|all (any unambiguous prefix: -sr, -sl, -ss, -sS, -si,
     -sT, -sI, -st, -sm, -sA, -so, -sa); -v / -vv add rule counters,
     state details and status sections as pfctl's; -R NR: one rule (or
     its states).
  -f FILE  load FILE: compiled against pfd's interfaces; on any error
     pfctl prints the FILE:LINE: messages and the running ruleset stays;
     every state stays either way.
  -F rules|states|Sources|info|Tables|all  flush (rules: pf's default
     pass, states stay; Tables empties every table).
  -z  clear the rule counters (after showing them, with -s).
  -k HOST [-k DST]  kill the states from HOST (to DST; addresses or
     networks); -k label -k NAME, -k id -k ID[/CREATOR]: by rule label
     or state id.  -K HOST  kill HOST's source-tracking nodes.
  -i IF  only the states bound to IF (-s states, -k).
  -e / -d  enable / disable pf (disabled, pfd routes without filtering).
  -x emerg|alert|crit|error|warning|notice|info|debug  pf's debug level.
  -t T -T show|add|delete|replace|flush|test|zero|expire [ADDR...|SECS]
     edit table T (networks, !negated); -T test exits 2 when some
     address does not match; -v prints pfctl's per-address lines.
  -a ANCHOR  with -s rules|labels|Tables|Anchors and -t -T: an inline
     anchor of the loaded ruleset.
  Refused as not supported: -f into an anchor, -F osfp|Reset, -F -i,
  -T kill, -k key|gateway, -sS -v, -T show -v, -sT -vv, -sI -vv, anchor
  wildcards.

EXAMPLES:
  pfctl -nvf /etc/pf.conf        check a ruleset and print it expanded
  pfctl -si                      counters of the running pfd
  pfctl -o none -nv -f - < pf.conf";

/// Parse and print a pf.conf ruleset as OpenBSD's pfctl does.
#[derive(Parser, Debug)]
#[command(name = "pfctl", version, after_help = AFTER_HELP)]
// pub(crate): mgmt's gendocs example and docs test include this file
// for its clap definition (man pages, completions).
pub(crate) struct Args {
    /// Do not load the rules into pfd, only parse them.
    #[arg(short = 'n')]
    noaction: bool,
    /// Print the parsed ruleset; repeat for more detail.
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    verbose: u8,
    /// Ruleset file to read; `-` reads standard input.
    #[arg(short = 'f', value_name = "FILE")]
    file: Option<String>,
    /// Ruleset optimization level: none or basic. pfd prints and loads
    /// rules in the order written; basic is accepted and reported.
    #[arg(short = 'o', value_name = "LEVEL")]
    optimize: Option<String>,
    /// Define a macro, overriding the file's definition.
    #[arg(short = 'D', value_name = "MACRO=VALUE")]
    define: Vec<String>,
    /// The anchor -s and -T work on (offline: load into it).
    #[arg(short = 'a', value_name = "ANCHOR", default_value = "")]
    anchor: String,
    /// Show what the running pfd holds: rules, labels, states, Sources,
    /// info, Tables, Interfaces, timeouts, memory, Anchors, osfp, all.
    #[arg(short = 's', value_name = "WHAT")]
    show: Option<String>,
    /// Only this rule number (-s rules, labels) or its states (-s states).
    #[arg(short = 'R', value_name = "ID")]
    rule: Option<u32>,
    /// Only states bound to this interface (-s states, -k).
    #[arg(short = 'i', value_name = "INTERFACE")]
    interface: Option<String>,
    /// The table `-T` works on.
    #[arg(short = 't', value_name = "TABLE")]
    table: Option<String>,
    /// Table command: show, add, delete, replace, flush, test, zero,
    /// expire (the addresses or seconds follow), kill.
    #[arg(short = 'T', value_name = "COMMAND", requires = "table")]
    table_cmd: Option<String>,
    /// Addresses or networks for -T add/delete/replace/test.
    #[arg(value_name = "ADDRESS")]
    addresses: Vec<String>,
    /// Enable pf in the running pfd.
    #[arg(short = 'e')]
    enable: bool,
    /// Disable pf in the running pfd: it routes without filtering.
    #[arg(short = 'd', conflicts_with = "enable")]
    disable: bool,
    /// Flush: rules, states, Sources, info, Tables or all.
    #[arg(short = 'F', value_name = "WHAT")]
    flush: Option<String>,
    /// Kill the states from this host or network (a second -k: to this
    /// one).
    #[arg(short = 'k', value_name = "HOST")]
    kill: Vec<String>,
    /// Set pf's debug level: emerg, alert, crit, error, warning, notice,
    /// info or debug (any unambiguous prefix).
    #[arg(short = 'x', value_name = "LEVEL")]
    debug: Option<String>,
    /// Clear the per-rule counters (after showing them, with -s).
    #[arg(short = 'z')]
    zero: bool,
    /// Kill the source-tracking nodes of this host or network.
    #[arg(short = 'K', value_name = "HOST")]
    kill_src: Vec<String>,
    /// Print the answer as JSON instead of pfctl's text.
    #[arg(long)]
    json: bool,
    /// The running pfd's control socket (default $PFD_CONTROL, else
    /// /run/pfd.sock).
    #[arg(long, value_name = "PATH")]
    control: Option<String>,
    /// Print a shell completion script for pfctl (bash, zsh, fish,
    /// elvish, powershell) on stdout and exit.
    #[arg(long, value_name = "SHELL", value_enum)]
    completions: Option<clap_complete::Shell>,
}

/// pfctl -x's levels, by unambiguous prefix as pfctl looks them up.
fn debug_level(s: &str) -> Lookup<DebugLevel> {
    lookup(
        s,
        &[
            ("debug", DebugLevel::Debug),
            ("info", DebugLevel::Info),
            ("notice", DebugLevel::Notice),
            ("warning", DebugLevel::Warning),
            ("error", DebugLevel::Err),
            ("crit", DebugLevel::Crit),
            ("alert", DebugLevel::Alert),
            ("emerg", DebugLevel::Emerg),
        ],
    )
}

/// pfctl_lookup_option: the one entry `s` abbreviates.
fn lookup<T: Copy>(s: &str, all: &[(&str, T)]) -> Lookup<T> {
    let hits: Vec<T> = all
        .iter()
        .filter(|(name, _)| !s.is_empty() && name.starts_with(s))
        .map(|(_, l)| *l)
        .collect();
    match hits.as_slice() {
        [one] => Lookup::One(*one),
        [] => Lookup::None,
        _ => Lookup::Ambiguous,
    }
}

/// What an abbreviated option names.
enum Lookup<T> {
    One(T),
    None,
    Ambiguous,
}

/// pfctl -s's modifiers, as OpenBSD's pfctl abbreviates them.
fn show_what(s: &str) -> Option<ShowWhat> {
    let all = [
        ("rules", ShowWhat::Rules),
        ("Anchors", ShowWhat::Anchors),
        ("states", ShowWhat::States),
        ("Sources", ShowWhat::Sources),
        ("info", ShowWhat::Info),
        ("labels", ShowWhat::Labels),
        ("Tables", ShowWhat::Tables),
        ("timeouts", ShowWhat::Timeouts),
        ("memory", ShowWhat::Memory),
        ("Interfaces", ShowWhat::Interfaces),
        ("osfp", ShowWhat::Osfp),
        ("queue", ShowWhat::Queue),
        ("all", ShowWhat::All),
    ];
    // pfctl accepts any prefix that picks one modifier (-si, -sr, -sT).
    let hits: Vec<ShowWhat> = all
        .iter()
        .filter(|(name, _)| !s.is_empty() && name.starts_with(s))
        .map(|(_, w)| *w)
        .collect();
    match hits.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// `pfctl -f FILE` into the running pfd: it compiles the file against
/// its interfaces and replaces the ruleset, keeping every state; on any
/// error it prints pfctl's diagnostics and keeps the running ruleset.
fn load(args: &Args, file: &str) -> ExitCode {
    if file == "-" || !args.define.is_empty() || !args.anchor.is_empty() {
        eprintln!("pfctl: not supported: loading a running pfd from stdin, with -D or into an anchor; give a file");
        return ExitCode::from(1);
    }
    let path = match std::fs::canonicalize(file) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("pfctl: {file}: {}", ruleset::io_error_text(&e));
            return ExitCode::from(1);
        }
    };
    let mut client = match Client::connect(control_path(args.control.as_deref())) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pfctl: {e}");
            return ExitCode::from(1);
        }
    };
    let req = Request::LoadRules {
        source: RuleSource::Path { path },
        anchor: None,
        defines: Vec::new(),
        optimizer: None,
    };
    match client.call(&req) {
        Ok(Response::Ok { .. }) => ExitCode::SUCCESS,
        Ok(Response::Error { message, .. }) => {
            eprint!(
                "{}",
                if message.ends_with('\n') {
                    message
                } else {
                    message + "\n"
                }
            );
            ExitCode::from(1)
        }
        Ok(_) => {
            eprintln!("pfctl: unexpected answer from pfd");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("pfctl: {e}");
            ExitCode::from(1)
        }
    }
}

/// One request to the running pfd; its text goes to stdout (`show`) or,
/// as pfctl reports what it changed, to stderr.
fn call(args: &Args, req: &Request, to_stdout: bool) -> ExitCode {
    let mut client = match Client::connect(control_path(args.control.as_deref())) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pfctl: {e}");
            return ExitCode::from(1);
        }
    };
    match client.call(req) {
        Ok(Response::Ok { text, json }) => {
            if args.json {
                println!("{}", json.unwrap_or(serde_json::Value::Null));
            } else {
                if let Some(t) = text {
                    if to_stdout {
                        print!("{t}");
                    } else {
                        eprint!("{t}");
                    }
                }
                feedback(json.as_ref());
            }
            ExitCode::SUCCESS
        }
        Ok(Response::Error { message, .. }) => {
            eprintln!("pfctl: {message}");
            ExitCode::from(1)
        }
        Ok(_) => {
            eprintln!("pfctl: unexpected answer from pfd");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("pfctl: {e}");
            ExitCode::from(1)
        }
    }
}

/// pfctl -k's forms: `label NAME`, `id ID[/CREATOR]` (hex), `key
/// KEY`, `gateway ADDR`, else `HOST [DST]`; pfctl's complaints.
fn kill_by(k: &[String]) -> Result<KillBy, String> {
    let second = k.get(1).filter(|s| !s.is_empty()).cloned();
    match k[0].as_str() {
        "label" => Ok(KillBy::Label {
            label: second.ok_or("no label specified")?,
        }),
        "key" => Ok(KillBy::Key {
            key: second.ok_or("no key specified")?,
        }),
        "gateway" => Ok(KillBy::Gateway {
            addr: second.ok_or("no gateway specified")?,
        }),
        "id" => {
            let s = second.ok_or("no id specified")?;
            let (id, creator) = match s.split_once('/') {
                Some((i, c)) => (i, Some(c)),
                None => (s.as_str(), None),
            };
            let wrong = || "wrong id format specified".to_string();
            let id = u64::from_str_radix(id, 16).map_err(|_| wrong())?;
            let creator = match creator {
                Some(c) => Some(u32::from_str_radix(c, 16).map_err(|_| wrong())?),
                None => None,
            };
            if id == 0 {
                return Err("cannot kill id 0".into());
            }
            Ok(KillBy::Id { id, creator })
        }
        _ => Ok(KillBy::Hosts {
            src: k[0].clone(),
            dst: k.get(1).cloned(),
        }),
    }
}

/// `-T ... -v`: pfctl's per-address lines, on stdout after the count.
fn feedback(json: Option<&serde_json::Value>) {
    let lines = json.and_then(|j| j["feedback"].as_array());
    for l in lines.into_iter().flatten() {
        if let Some(l) = l.as_str() {
            println!("{l}");
        }
    }
}

/// `-T test`: exit status 2 when some address does not match, as pfctl.
fn table_test(args: &Args, req: &Request) -> ExitCode {
    let mut client = match Client::connect(control_path(args.control.as_deref())) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pfctl: {e}");
            return ExitCode::from(1);
        }
    };
    match client.call(req) {
        Ok(Response::Ok { text, json }) => {
            if let Some(t) = text {
                eprint!("{t}");
            }
            feedback(json.as_ref());
            let j = json.unwrap_or_default();
            if j["match"].as_u64() < j["given"].as_u64() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        Ok(Response::Error { message, .. }) => {
            eprintln!("pfctl: {message}");
            ExitCode::from(1)
        }
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("pfctl: {e}");
            ExitCode::from(1)
        }
    }
}

/// `pfctl -s WHAT` against the running pfd.
fn show(args: &Args, what: &str) -> ExitCode {
    let Some(w) = show_what(what) else {
        eprintln!("pfctl: Unknown show modifier '{what}'");
        return ExitCode::from(1);
    };
    let path = control_path(args.control.as_deref());
    let mut client = match Client::connect(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pfctl: {e}");
            return ExitCode::from(1);
        }
    };
    let req = Request::Show {
        what: w,
        verbose: args.verbose,
        anchor: (!args.anchor.is_empty()).then(|| args.anchor.clone()),
        rule: args.rule,
        interface: args.interface.clone(),
    };
    match client.call(&req) {
        Ok(Response::Ok { text, json }) => {
            if args.json {
                let v = json.unwrap_or(serde_json::Value::Null);
                println!("{v}");
            } else if let Some(t) = text {
                print!("{t}");
            }
            ExitCode::SUCCESS
        }
        Ok(Response::Error { message, .. }) => {
            eprintln!("pfctl: {message}");
            ExitCode::from(1)
        }
        Ok(_) => {
            eprintln!("pfctl: unexpected answer from pfd");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("pfctl: {e}");
            ExitCode::from(1)
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut err = std::io::stderr();
    if let Some(shell) = args.completions {
        use clap::CommandFactory;
        let script = mgmt::docs::completion(Args::command(), shell);
        return match std::io::stdout().write_all(&script) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                let _ = writeln!(err, "pfctl: stdout: {e}");
                ExitCode::from(1)
            }
        };
    }
    if !args.noaction {
        if let Some(code) = live(&args) {
            return code;
        }
    }
    let Some(file) = args.file.clone() else {
        let _ = writeln!(
            err,
            "pfctl: nothing to do: give -f FILE or -s WHAT (see pfctl --help)"
        );
        return ExitCode::from(1);
    };
    match args.optimize.as_deref() {
        None | Some("none") => {}
        Some("basic") | Some("profile") => {
            let _ = writeln!(err, "pfctl: warning: -o {}: rule optimization is not performed; rules are printed in the order written", args.optimize.as_deref().unwrap_or(""));
        }
        Some(o) => {
            let _ = writeln!(err, "pfctl: Unknown optimization '{o}'");
            return ExitCode::from(1);
        }
    }
    let mut macros = Vec::new();
    for d in &args.define {
        match d.rsplit_once('=') {
            Some((k, v)) => macros.push((k.to_string(), v.to_string())),
            None => {
                let _ = writeln!(err, "pfctl: could not parse macro definition {d}");
                return ExitCode::from(1);
            }
        }
    }
    let env = match ruleset::hostenv::from_env() {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(err, "pfctl: {e}");
            return ExitCode::from(1);
        }
    };
    let mut text = None;
    if file == "-" {
        let mut buf = Vec::new();
        if let Err(e) = std::io::stdin().read_to_end(&mut buf) {
            let _ = writeln!(err, "pfctl: stdin: {e}");
            return ExitCode::from(1);
        }
        text = Some(buf);
    }
    let req = OfflineRequest {
        file: &file,
        text,
        verbose: args.verbose,
        macros,
        anchor: args.anchor.clone(),
    };
    let out = run(&req, env.as_ref());
    let _ = err.write_all(out.stderr.as_bytes());
    let _ = std::io::stdout().write_all(out.stdout.as_bytes());
    ExitCode::from(out.code as u8)
}

/// One kind of action: its exit status if it was asked for.
type Step = dyn Fn(&Args) -> Option<ExitCode>;

/// Everything asked of the running pfd, in pfctl's order (-d, -s, -z,
/// -F, -k, -K, -T, -f, -e, -x), stopping at the first that fails, as
/// pfctl exits on it; `None` when nothing was asked of it.
fn live(args: &Args) -> Option<ExitCode> {
    if args.table.is_some() && args.table_cmd.is_some() && args.file.is_some() {
        eprintln!("pfctl: not supported: -T with -f (give the addresses on the command line)");
        return Some(ExitCode::from(1));
    }
    let steps: [&Step; 9] = [
        &|a| a.disable.then(|| call(a, &Request::Disable, false)),
        &step_show,
        &step_flush,
        &step_kill,
        &step_kill_src,
        &step_table,
        &|a| a.file.as_deref().map(|f| load(a, f)),
        &|a| a.enable.then(|| call(a, &Request::Enable, false)),
        &step_debug,
    ];
    let mut last = None;
    for step in steps {
        if let Some(code) = step(args) {
            if code != ExitCode::SUCCESS {
                return Some(code);
            }
            last = Some(code);
        }
    }
    last
}

/// `-t T -T CMD` against the running pfd, if asked for.
fn step_table(args: &Args) -> Option<ExitCode> {
    if let (Some(table), Some(cmd)) = (args.table.clone(), args.table_cmd.clone()) {
        let addrs = args.addresses.clone();
        let cmds = [
            "kill", "flush", "add", "delete", "replace", "show", "test", "zero", "expire",
        ];
        let named: Vec<(&str, &str)> = cmds.iter().map(|c| (*c, *c)).collect();
        let cmd = match lookup(&cmd, &named) {
            Lookup::One(c) => c,
            Lookup::Ambiguous => {
                eprintln!("pfctl: {cmd} is ambigious");
                return Some(ExitCode::from(1));
            }
            Lookup::None => {
                eprintln!("pfctl: Unknown table command '{cmd}'");
                return Some(ExitCode::from(1));
            }
        };
        let op = match cmd {
            "show" => TableOp::Show,
            "add" => TableOp::Add { addrs },
            "delete" => TableOp::Delete { addrs },
            "replace" => TableOp::Replace { addrs },
            "flush" => TableOp::Flush,
            "test" => TableOp::Test { addrs },
            "zero" => TableOp::Zero { addrs },
            "kill" => TableOp::Kill,
            _ => {
                // expire: exactly one number of seconds
                let [secs] = addrs.as_slice() else {
                    eprintln!("pfctl: -T expire takes one number of seconds");
                    return Some(ExitCode::from(1));
                };
                match secs.parse::<u32>() {
                    Ok(n) => TableOp::Expire { secs: u64::from(n) },
                    Err(_) => {
                        let why = if secs.chars().all(|c| c.is_ascii_digit()) && !secs.is_empty() {
                            "too large"
                        } else {
                            "invalid"
                        };
                        eprintln!("pfctl: expiry time: {why}");
                        return Some(ExitCode::from(1));
                    }
                }
            }
        };
        let test = matches!(op, TableOp::Test { .. });
        let show = matches!(op, TableOp::Show);
        let req = Request::Table {
            name: table,
            anchor: (!args.anchor.is_empty()).then(|| args.anchor.clone()),
            op,
            verbose: args.verbose,
        };
        if test {
            return Some(table_test(args, &req));
        }
        return Some(call(args, &req, show));
    }
    None
}

/// `-x LEVEL` against the running pfd, if asked for.
fn step_debug(args: &Args) -> Option<ExitCode> {
    if let Some(level) = args.debug.clone() {
        let l = match debug_level(&level) {
            Lookup::One(l) => l,
            Lookup::Ambiguous => {
                // pfctl_lookup_option's message, its spelling kept
                eprintln!("pfctl: {level} is ambigious");
                return Some(ExitCode::from(1));
            }
            Lookup::None => {
                eprintln!("pfctl: Unknown debug level '{level}'");
                return Some(ExitCode::from(1));
            }
        };
        return Some(call(args, &Request::SetDebug { level: l }, false));
    }
    None
}

/// `-s WHAT` (then `-z`), or `-z` alone against the running pfd, if asked for.
fn step_show(args: &Args) -> Option<ExitCode> {
    if let Some(what) = args.show.clone() {
        let shown = show(args, &what);
        // pfctl -z with -s: the counters shown, then cleared
        if args.zero && shown == ExitCode::SUCCESS {
            return Some(call(args, &Request::ZeroCounters, false));
        }
        return Some(shown);
    }
    if args.zero {
        return Some(call(args, &Request::ZeroCounters, false));
    }
    None
}

/// `-F WHAT` against the running pfd, if asked for.
fn step_flush(args: &Args) -> Option<ExitCode> {
    if let Some(what) = args.flush.clone() {
        if args.interface.is_some() {
            eprintln!("pfctl: not supported: -F with -i");
            return Some(ExitCode::from(1));
        }
        let all = [
            ("rules", FlushWhat::Rules),
            ("Sources", FlushWhat::Sources),
            ("states", FlushWhat::States),
            ("info", FlushWhat::Info),
            ("Tables", FlushWhat::Tables),
            ("osfp", FlushWhat::Osfp),
            ("Reset", FlushWhat::Reset),
            ("all", FlushWhat::All),
        ];
        let w = match lookup(&what, &all) {
            Lookup::One(w) => w,
            Lookup::Ambiguous => {
                eprintln!("pfctl: {what} is ambigious");
                return Some(ExitCode::from(1));
            }
            Lookup::None => {
                eprintln!("pfctl: Unknown flush modifier '{what}'");
                return Some(ExitCode::from(1));
            }
        };
        return Some(call(
            args,
            &Request::Flush {
                what: w,
                anchor: (!args.anchor.is_empty()).then(|| args.anchor.clone()),
            },
            false,
        ));
    }
    None
}

/// `-K HOST` against the running pfd, if asked for.
fn step_kill_src(args: &Args) -> Option<ExitCode> {
    if !args.kill_src.is_empty() {
        if args.kill_src.len() > 2 {
            eprintln!("pfctl: can only specify -K twice");
            return Some(ExitCode::from(1));
        }
        let req = Request::KillSrcNodes {
            filters: SrcNodeFilter {
                src: args.kill_src[0].clone(),
                dst: args.kill_src.get(1).cloned(),
            },
        };
        return Some(call(args, &req, false));
    }
    None
}

/// `-k ...` against the running pfd, if asked for.
fn step_kill(args: &Args) -> Option<ExitCode> {
    if !args.kill.is_empty() {
        if args.kill.len() > 2 {
            eprintln!("pfctl: can only specify -k twice");
            return Some(ExitCode::from(1));
        }
        let by = match kill_by(&args.kill) {
            Ok(b) => b,
            Err(msg) => {
                eprintln!("pfctl: {msg}");
                return Some(ExitCode::from(1));
            }
        };
        let req = Request::KillStates {
            filters: StateFilter {
                interface: args.interface.clone(),
                by,
            },
        };
        return Some(call(args, &req, false));
    }
    None
}
