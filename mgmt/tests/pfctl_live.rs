//! pfctl -s against a running pfd, through its control socket (here a
//! control server with a stand-in engine).

use mgmt::control::{
    ErrorKind, FlushWhat, KillBy, Request, Response, Server, ServerConfig, ShowWhat, TableOp,
};
use std::process::Command;

fn pfctl(args: &[&str]) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_pfctl"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn server(name: &str) -> (Server, String) {
    let dir = std::env::temp_dir().join(format!("pfd-pfctl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pfd.sock");
    let s = Server::start(&path, ServerConfig::default(), |req: Request| match req {
        Request::Show {
            what: ShowWhat::Info,
            verbose,
            ..
        } => Response::Ok {
            text: Some(format!("Status: Enabled\nverbose {verbose}\n")),
            json: Some(serde_json::json!({"status": "enabled"})),
        },
        Request::Show {
            what: ShowWhat::States,
            ..
        } => Response::text(
            "all tcp 192.0.2.10:40000 -> 198.51.100.10:80       ESTABLISHED:ESTABLISHED\n",
        ),
        Request::Flush {
            what: FlushWhat::States,
            ..
        } => Response::text("3 states cleared\n"),
        Request::Table {
            name,
            op: TableOp::Test { addrs },
            ..
        } if name == "t" => Response::Ok {
            text: Some(format!("1/{} addresses match.\n", addrs.len())),
            json: Some(serde_json::json!({"match": 1, "given": addrs.len()})),
        },
        Request::Table {
            name,
            op: TableOp::Add { addrs },
            ..
        } if name == "t" => Response::text(format!(
            "{}/{} addresses added.\n",
            addrs.len(),
            addrs.len()
        )),
        Request::KillStates { filters } => match filters.by {
            KillBy::Hosts { src, dst } => {
                Response::text(format!("killed {src} {}\n", dst.unwrap_or_default()))
            }
            _ => Response::error(ErrorKind::NotSupported, "no"),
        },
        _ => Response::error(ErrorKind::NotSupported, "not supported: this request"),
    })
    .unwrap();
    (s, path.to_string_lossy().into_owned())
}

#[test]
fn show_info_and_states_from_the_running_pfd() {
    let (_s, path) = server("show");
    let (ok, out, err) = pfctl(&["--control", &path, "-si"]);
    assert!(ok, "{err}");
    assert_eq!(out, "Status: Enabled\nverbose 0\n");
    let (ok, out, _) = pfctl(&["--control", &path, "-s", "info", "-v"]);
    assert!(ok);
    assert!(out.contains("verbose 1"), "{out}");
    let (ok, out, _) = pfctl(&["--control", &path, "-ss"]);
    assert!(ok);
    assert!(out.contains("ESTABLISHED:ESTABLISHED"));
    let (ok, out, _) = pfctl(&["--control", &path, "-si", "--json"]);
    assert!(ok);
    assert_eq!(out.trim(), r#"{"status":"enabled"}"#);
}

#[test]
fn errors_are_the_daemons_and_pfctls() {
    let (_s, path) = server("errors");
    let (ok, _, err) = pfctl(&["--control", &path, "-sr"]);
    assert!(!ok);
    assert!(err.contains("not supported"), "{err}");
    let (ok, _, err) = pfctl(&["--control", &path, "-sx"]);
    assert!(!ok);
    assert!(err.contains("Unknown show modifier 'x'"), "{err}");
    let (ok, _, err) = pfctl(&["--control", "/nonexistent/pfd.sock", "-si"]);
    assert!(!ok);
    assert!(err.contains("/nonexistent/pfd.sock"), "{err}");
}

#[test]
fn flush_and_kill_report_on_stderr() {
    let (_s, path) = server("flush");
    let (ok, out, err) = pfctl(&["--control", &path, "-F", "states"]);
    assert!(ok, "{err}");
    assert_eq!((out.as_str(), err.as_str()), ("", "3 states cleared\n"));
    let (ok, _, err) = pfctl(&[
        "--control",
        &path,
        "-k",
        "192.0.2.10",
        "-k",
        "198.51.100.0/24",
    ]);
    assert!(ok, "{err}");
    assert_eq!(err, "killed 192.0.2.10 198.51.100.0/24\n");
    let (ok, _, err) = pfctl(&["--control", &path, "-k", "a", "-k", "b", "-k", "c"]);
    assert!(!ok);
    assert!(err.contains("can only specify -k twice"), "{err}");
    let (ok, _, err) = pfctl(&["--control", &path, "-F", "bogus"]);
    assert!(!ok);
    assert!(err.contains("Unknown flush modifier 'bogus'"), "{err}");
}

#[test]
fn tables_and_the_test_exit_status() {
    let (_s, path) = server("tables");
    let (ok, _, err) = pfctl(&[
        "--control",
        &path,
        "-t",
        "t",
        "-T",
        "add",
        "192.0.2.1",
        "192.0.2.0/24",
    ]);
    assert!(ok, "{err}");
    assert_eq!(err, "2/2 addresses added.\n");
    let o = Command::new(env!("CARGO_BIN_EXE_pfctl"))
        .args([
            "--control",
            &path,
            "-t",
            "t",
            "-T",
            "test",
            "192.0.2.1",
            "192.0.2.2",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "not every address matches");
    let o = Command::new(env!("CARGO_BIN_EXE_pfctl"))
        .args(["--control", &path, "-t", "t", "-T", "test", "192.0.2.1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let (ok, _, err) = pfctl(&["--control", &path, "-t", "t", "-T", "frob"]);
    assert!(!ok);
    assert!(err.contains("Unknown table command 'frob'"), "{err}");
}
