//! ifctl: ifconfig(8) for the interfaces of a running pfd (its physical
//! ones and the carp interfaces it provides), and `netstat -s -p carp`.

use clap::Parser;
use mgmt::control::{control_path, Client, IfctlOp, Request, Response};
use mgmt::ifctl_args::{carp_changes, group, pfsync_changes};
use std::process::ExitCode;

const AFTER_HELP: &str = "\
USAGE AS IFCONFIG:
  ifctl                          every interface pfd runs on or provides
  ifctl carp1                    one interface (or every member of a
                                 group: ifctl carp)
  ifctl carp1 advskew 100 state backup
                                 change a carp interface live; the
                                 parameters apply in order and the first
                                 refused one stops the rest: vhid N,
                                 advbase N, advskew N, pass PASSPHRASE,
                                 carppeer IPv4, -carppeer,
                                 state init|backup|master, carpdev IF,
                                 up, down
  ifctl -g carp                  the group's demote counter
                                 (carp: carp demote count N)
  ifctl -g carp carpdemote [N]   raise it by N (default 1, at most 128 at
                                 a time): every carp interface in the
                                 group advertises the higher demotion and
                                 a peer takes over as master (the OpenBSD
                                 FAQ's forced failover)
  ifctl -g carp -carpdemote [N]  lower it by N
  ifctl -s carp                  CARP statistics as netstat -s -p carp
                                 prints them; -ss carp leaves out the
                                 counters at zero
  ifctl pfsync0                  pfsync's block (syncdev, syncpeer,
                                 maxupd, defer; pfd's authkey on/off and
                                 bulkburst)
  ifctl pfsync0 maxupd N syncpeer ADDR|-syncpeer defer|-defer
                                 change them live (another syncdev is
                                 refused: not supported); --json adds
                                 the deferral counters
  ifctl -s pfsync                pfsync statistics as netstat -s -p pfsync
                                 prints them (with authkey: the packets
                                 without a valid HMAC, and replayed)

  What is not changed live (addresses, lladdr, mtu, groups, carpnodes,
  balancing, another carpdev) is refused as 'not supported': set it in
  hostname.carpN and restart pfd. A new vhid is a new virtual MAC
  (00:00:5e:00:01:VHID), which pfd answers ARP/ND with from then on.
  Changes made with ifctl last until pfd restarts.

  Options (-g, -s, --json, --control) go before the interface: what
  follows it is ifconfig's parameters. --json prints each answer as JSON
  instead of ifconfig's text.

ENVIRONMENT:
  PFD_CONTROL  The control socket when --control is not given (default
               /run/pfd.sock).

EXIT STATUS:
  0 on success, 1 on any error (printed as ifctl: MESSAGE).";

/// ifconfig(8) for a running pfd's interfaces, and CARP statistics.
#[derive(Parser, Debug)]
#[command(name = "ifctl", version, after_help = AFTER_HELP)]
// pub(crate): mgmt's gendocs example and docs test include this file
// for its clap definition (man pages, completions).
pub(crate) struct Args {
    /// Work on interface group GROUP: show its carp demote counter, or
    /// change it with carpdemote N / -carpdemote N.
    #[arg(short = 'g', value_name = "GROUP")]
    group: Option<String>,
    /// Protocol statistics (netstat -s): `-s carp` or `-s pfsync`; `-ss`
    /// leaves out the counters at zero.
    #[arg(short = 's', action = clap::ArgAction::Count)]
    stats: u8,
    /// Print the answer as JSON instead of ifconfig's text.
    #[arg(long)]
    json: bool,
    /// The running pfd's control socket (default $PFD_CONTROL, else
    /// /run/pfd.sock).
    #[arg(long, value_name = "PATH")]
    control: Option<String>,
    /// Print a shell completion script for ifctl (bash, zsh, fish,
    /// elvish, powershell) on stdout and exit.
    #[arg(long, value_name = "SHELL", value_enum)]
    completions: Option<clap_complete::Shell>,
    /// The interface (or group) and the parameters to set, as ifconfig
    /// takes them; with -s, the protocol (carp or pfsync).
    #[arg(
        value_name = "INTERFACE [PARAMETER ...]",
        allow_hyphen_values = true,
        trailing_var_arg = true
    )]
    words: Vec<String>,
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("ifctl: {msg}");
    ExitCode::from(1)
}

/// The request the command line asks for.
fn request(args: &Args) -> Result<IfctlOp, String> {
    if args.stats > 0 {
        if args.group.is_some() {
            return Err("-s and -g do not go together".into());
        }
        return match args.words.as_slice() {
            [p] if p == "carp" => Ok(IfctlOp::CarpStats {
                hide_zero: args.stats > 1,
            }),
            [p] if p == "pfsync" => Ok(IfctlOp::PfsyncStats {
                hide_zero: args.stats > 1,
            }),
            [p] => Err(format!(
                "{p}: not supported: only carp and pfsync statistics (-s carp, -s pfsync)"
            )),
            _ => Err("-s takes one protocol: carp or pfsync".into()),
        };
    }
    // What follows the interface is ifconfig's; a long option there was
    // meant for ifctl.
    if let Some(o) = args.words.iter().skip(1).find(|w| w.starts_with("--")) {
        return Err(format!("{o}: options go before the interface"));
    }
    if let Some(g) = &args.group {
        return group(g, &args.words).map_err(|e| e.to_string());
    }
    match args.words.split_first() {
        None => Ok(IfctlOp::Status { name: None }),
        Some((name, [])) => Ok(IfctlOp::Status {
            name: Some(name.clone()),
        }),
        Some((name, params)) if name == "pfsync0" => Ok(IfctlOp::SetPfsync {
            changes: pfsync_changes(params).map_err(|e| e.to_string())?,
        }),
        Some((name, params)) => Ok(IfctlOp::SetCarp {
            name: name.clone(),
            changes: carp_changes(params).map_err(|e| e.to_string())?,
        }),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(shell) = args.completions {
        use clap::CommandFactory;
        use std::io::Write;
        let script = mgmt::docs::completion(Args::command(), shell);
        return match std::io::stdout().write_all(&script) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(format!("stdout: {e}")),
        };
    }
    let op = match request(&args) {
        Ok(op) => op,
        Err(e) => return fail(e),
    };
    let mut client = match Client::connect(control_path(args.control.as_deref())) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    match client.call(&Request::Ifctl { op }) {
        Ok(Response::Ok { text, json }) => {
            if args.json {
                if let Some(j) = json {
                    println!("{j}");
                }
            } else if let Some(t) = text {
                print!("{t}");
            }
            ExitCode::SUCCESS
        }
        Ok(Response::Error { message, .. }) => fail(message),
        Ok(_) => fail("unexpected answer from pfd"),
        Err(e) => fail(e),
    }
}
