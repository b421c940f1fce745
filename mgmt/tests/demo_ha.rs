//! The README's main command, `demo/ha.sh`, run as a user would run it
//! (with this build's pfd): the pair boots from etc/fw1 and etc/fw2,
//! connections go through fw1, fw1 dies, and the script's summary says
//! every connection lived on through fw2. Keeps the demo and the
//! example configuration from rotting. Needs root; skipped with a
//! message otherwise, and failed when CI is set.

#[path = "../../dataplane/tests/netns/mod.rs"]
mod netns;

use std::process::Command;

#[test]
fn the_demo_shows_connections_surviving_the_masters_death() {
    if !netns::can_run("the_demo_shows_connections_surviving_the_masters_death") {
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // the script bounds every wait itself (about 40 s in all)
    let out = Command::new("bash")
        .arg(root.join("demo/ha.sh"))
        .env("PFD", env!("CARGO_BIN_EXE_pfd"))
        .env("CONNS", "20")
        .output()
        .expect("run demo/ha.sh");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo/ha.sh failed:\n{text}");
    for line in [
        "fw1  carp0: state transition: BACKUP -> MASTER",
        "fw2  pfsync0: bulk update done",
        "fw1 dies: pfd SIGKILLed",
        "fw2  carp0: state transition: BACKUP -> MASTER",
        "fw2  carp1: state transition: BACKUP -> MASTER",
        "result: 20 of 20 connections alive after the failover, 0 reset, 0 lost otherwise",
    ] {
        assert!(text.contains(line), "no {line:?} in:\n{text}");
    }
    // nothing left behind
    let ns = Command::new("ip").args(["netns", "list"]).output().unwrap();
    assert!(
        !String::from_utf8_lossy(&ns.stdout).contains("pfddemo-"),
        "namespaces left"
    );
}
