//! pfsync's `defer` end to end, on the HA pair of the OpenBSD FAQ in
//! namespaces (see `ha`), with `defer` in both boxes' hostname.pfsync0.
//! New connections through the master work; the first packet of each
//! (the client's SYN) is held by fw1 until fw2 acknowledges the state's
//! insert, so it reaches the server only once fw2 holds the state (the
//! deferral counters: as many held as connections, released by fw2's
//! INS_ACK). With fw2 killed, connections still work: each SYN leaves
//! after the 20 ms timeout. `ifctl pfsync0 -defer` stops the holding
//! live. Needs root; skipped with a message otherwise, and failed when
//! CI is set.

mod ha;
mod live;
#[path = "../../dataplane/tests/netns/mod.rs"]
mod netns;

use ha::{client, ha, round, server, settled_pair_with, Go, Pair};
use serde_json::Value;
use std::time::Duration;

/// `ifctl --control SOCK ARGS...`: (status, stdout and stderr).
fn ifctl(sock: &std::path::Path, args: &[&str]) -> (bool, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_ifctl"))
        .arg("--control")
        .arg(sock)
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
    )
}

/// pfsync0's deferral counters, from `ifctl --json pfsync0`.
fn deferrals(sock: &std::path::Path) -> Value {
    let (ok, out) = ifctl(sock, &["--json", "pfsync0"]);
    assert!(ok, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    v[0]["deferrals"].clone()
}

fn n(v: &Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"))
}

/// How the counters moved from `a` to `b`: (add, ack, run, over).
fn moved(a: &Value, b: &Value) -> (u64, u64, u64, u64) {
    let d = |k| n(b, k) - n(a, k);
    (d("add"), d("ack"), d("run"), d("over"))
}

/// `conns` new connections from the client, each echoing one line.
fn connect_and_echo(h: &ha::Ha, conns: usize, what: &str) {
    let (go, res) = client(&h.client, conns, 0);
    let (ok, errs, took, _) = round(&go, &res, 1);
    assert_eq!(ok, conns, "{what}: {errs:?}");
    eprintln!("{what}: {conns} connections echoed in {took:?}");
    let _ = go.send(Go::Stop);
}

const ACKED: usize = 20;
const TIMED_OUT: usize = 10;
const UNDEFERRED: usize = 5;

#[test]
fn first_packets_wait_for_the_peer_or_the_timeout() {
    if !netns::can_run("first_packets_wait_for_the_peer_or_the_timeout") {
        return;
    }
    let h = ha("hd");
    let Pair {
        // kept: dropping it removes the etc directories and sockets
        etc: _etc,
        sock: [s1, s2],
        fw1,
        mut fw2,
    } = settled_pair_with(&h, "d", "up syncdev veth2 defer\n");
    for s in [&s1, &s2] {
        let (ok, out) = ifctl(s, &["pfsync0"]);
        assert!(
            ok && out.contains("\tpfsync: syncdev: veth2 maxupd: 128 defer: on\n"),
            "{out}"
        );
    }
    let _peers = server(&h.server, ACKED + TIMED_OUT + UNDEFERRED);
    // fw1 learns the server's address first: a packet waiting for the
    // next hop's is sent when it answers, not held (pfd's one departure
    // from OpenBSD, which holds it either way)
    assert!(live::ping(&h.client, "198.51.100.10"), "ping through fw1");

    // fw2 up: each SYN is held until fw2 has the state
    let d0 = deferrals(&s1);
    connect_and_echo(&h, ACKED, "with fw2");
    let d1 = deferrals(&s1);
    let (add, ack, run, over) = moved(&d0, &d1);
    assert_eq!(add, ACKED as u64, "one SYN held per connection: {d1}");
    assert_eq!(over, 0, "{d1}");
    assert_eq!(ack + run, add, "every one released: {d1}");
    assert_eq!(
        ack,
        add,
        "released by fw2's INS_ACK, so sent once fw2 held the state: {d1}\nfw1: {}\nfw2: {}",
        fw1.stderr(),
        fw2.stderr()
    );
    assert_eq!(n(&d1, "held"), 0, "{d1}");
    eprintln!(
        "held for fw2's INS_ACK: mean {} µs, longest {} µs",
        n(&d1, "wait_ns_mean") / 1000,
        n(&d1, "wait_ns_max") / 1000
    );
    // fw2 took both states of each connection (in on veth0, out on veth1)
    assert!(ha::states_of(&s2) >= 2 * ACKED, "fw2's states");

    // fw2 gone: no INS_ACK comes, each SYN leaves after 20 ms
    let _ = fw2.child.kill();
    let _ = fw2.child.wait();
    connect_and_echo(&h, TIMED_OUT, "without fw2");
    let d2 = deferrals(&s1);
    let (add, ack, run, over) = moved(&d1, &d2);
    assert_eq!(
        (add, ack, run, over),
        (TIMED_OUT as u64, 0, TIMED_OUT as u64, 0),
        "held, then sent at the timeout: {d2}"
    );
    let waited = (n(&d2, "wait_ns_mean") * n(&d2, "released")
        - n(&d1, "wait_ns_mean") * n(&d1, "released"))
        / TIMED_OUT as u64;
    eprintln!("held without fw2: mean {} µs", waited / 1000);
    assert!(waited >= 20_000_000, "at least the 20 ms: {waited} ns");

    // -defer live: nothing held any more
    assert!(ifctl(&s1, &["pfsync0", "-defer"]).0);
    assert!(ifctl(&s1, &["pfsync0"]).1.contains("defer: off"));
    connect_and_echo(&h, UNDEFERRED, "defer off");
    let d3 = deferrals(&s1);
    assert_eq!(moved(&d2, &d3).0, 0, "{d3}");
    assert_eq!(
        n(&d3, "queue_full") + n(&d3, "declined") + n(&d3, "unsent"),
        0,
        "{d3}"
    );
    std::thread::sleep(Duration::from_millis(10));
}
