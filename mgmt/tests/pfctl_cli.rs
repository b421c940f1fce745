//! The pfctl command line: exit status, stderr, and the warning about
//! features pfd does not enforce.

use std::io::Write;
use std::process::{Command, Stdio};

fn pfctl(args: &[&str], input: &str) -> (i32, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pfctl"))
        .args(args)
        .env("PFD_HOST_PROFILE", "openbsd-regress")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pfctl");
    c.stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let o = c.wait_with_output().expect("wait");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn valid_ruleset_prints_and_exits_zero() {
    let (code, out, err) = pfctl(&["-nvf", "-"], "pass in on em0 proto tcp to port 22\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "pass in on em0 proto tcp from any to any port = 22 flags S/SA\n"
    );
    assert_eq!(err, "");
}

#[test]
fn errors_exit_one_and_print_no_rules() {
    let (code, out, err) = pfctl(&["-nvf", "-"], "pass\npass from 10.0.0.0.1\nblock bogus\n");
    assert_eq!(code, 1);
    assert_eq!(out, "");
    assert_eq!(err, "no IP address found for 10.0.0.0.1\nstdin:2: could not parse host specification\nstdin:3: syntax error\n");
}

#[test]
fn unenforced_features_are_named_on_stderr() {
    let (code, out, err) = pfctl(
        &["-nvf", "-"],
        "pass\npass in proto tcp user root\nblock in from urpf-failed\n",
    );
    assert_eq!(code, 0, "pf.conf itself is valid, as on OpenBSD");
    assert!(out.contains("user = 0"));
    assert_eq!(
        err,
        "pfctl: warning: pfd will refuse to load this ruleset:\nstdin:2: not supported: user\nstdin:3: not supported: urpf-failed\n"
    );
}

#[test]
fn macros_from_the_command_line() {
    let (code, out, _) = pfctl(&["-D", "ext=em1", "-nvf", "-"], "ext = em0\npass on $ext\n");
    assert_eq!(code, 0);
    assert_eq!(out, "ext = \"em0\"\npass on em1 all flags S/SA\n");
}

#[test]
fn missing_file_is_reported() {
    let (code, _, err) = pfctl(&["-nf", "/nonexistent/pf.conf"], "");
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "pfctl: /nonexistent/pf.conf: No such file or directory\n"
    );
}
