//! The `ifctl` binary without a daemon: its help says what it does,
//! bad command lines are refused with ifconfig's words before any
//! connection, and a missing daemon is named.

use std::process::Command;

fn ifctl(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_ifctl"))
        .args(args)
        .env("PFD_CONTROL", "/nonexistent/pfd.sock")
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn help_names_every_form_and_parameter() {
    let (code, out, _) = ifctl(&["--help"]);
    assert_eq!(code, 0);
    for w in [
        "ifctl carp1 advskew 100 state backup",
        "vhid N",
        "advbase N",
        "advskew N",
        "pass PASSPHRASE",
        "carppeer IPv4",
        "-carppeer",
        "state init|backup|master",
        "carpdev IF",
        "up, down",
        "ifctl -g carp carpdemote [N]",
        "ifctl -g carp -carpdemote [N]",
        "ifctl -s carp",
        "netstat -s -p carp",
        "--json",
        "PFD_CONTROL",
    ] {
        assert!(out.contains(w), "--help lacks {w:?}:\n{out}");
    }
}

#[test]
fn bad_command_lines_are_refused_as_ifconfig_words_them() {
    for (args, want) in [
        (
            &["carp1", "advskew", "300"][..],
            "ifctl: advskew 300: too large\n",
        ),
        (&["carp1", "vhid"][..], "ifctl: 'vhid' requires argument\n"),
        (
            &["carp1", "advbase", "fast"][..],
            "ifctl: advbase fast: invalid\n",
        ),
        (
            &["-g", "carp", "carpdemote", "200"][..],
            "ifctl: carp: invalid carp demotion: too large\n",
        ),
        (
            &["carp1", "carppeer", "2001:db8::1"][..],
            "ifctl: only IPv4 addresses supported for the carppeer\n",
        ),
    ] {
        let (code, out, err) = ifctl(args);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (1, "", want),
            "{args:?}"
        );
    }
    let (code, _, err) = ifctl(&["carp1", "balancing", "ip"]);
    assert_eq!(code, 1);
    assert!(err.starts_with("ifctl: not supported: balancing"), "{err}");
    let (code, _, err) = ifctl(&["carp1", "--json"]);
    assert_eq!(code, 1);
    assert_eq!(err, "ifctl: --json: options go before the interface\n");
    let (code, _, err) = ifctl(&["-s", "tcp"]);
    assert_eq!(code, 1);
    assert!(err.contains("only carp statistics"), "{err}");
}

#[test]
fn no_daemon_is_named() {
    let (code, _, err) = ifctl(&["carp1"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("ifctl: /nonexistent/pfd.sock: ") && err.contains("is pfd running?"),
        "{err}"
    );
}
