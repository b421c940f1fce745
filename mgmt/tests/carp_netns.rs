//! CARP between two `pfd run` firewalls on one LAN segment (a bridge in
//! a namespace of its own), and a kernel client that uses the shared
//! address: one master at a time, the address answered with the virtual
//! MAC, failover when the master dies or bows out. Needs root; skipped
//! with a message otherwise, and failed when CI is set.

mod live;
#[path = "../../dataplane/tests/netns/mod.rs"]
mod netns;

use live::{lan, ping, Etc, Pfd};
use netns::Ns;
use std::process::Command;
use std::time::{Duration, Instant};

/// A firewall's etc: its own address `me` and carp0 = 192.0.2.1 vhid 1
/// with `advskew`, everything passed.
fn etc(tag: &str, me: &str, advskew: u8) -> Etc {
    Etc::with(
        tag,
        &[
            ("hostname.veth0", &format!("inet {me} 255.255.255.0\nup\n")),
            (
                "hostname.carp0",
                &format!("inet 192.0.2.1 255.255.255.0 192.0.2.255 vhid 1 carpdev veth0 pass lanpasswd advskew {advskew}\n"),
            ),
            ("pf.conf", "pass\n"),
        ],
    )
}

/// Wait (bounded) until `log` of `pfd` says `what`.
fn wait_log(pfd: &Pfd, what: &str, within: Duration) -> bool {
    let t = Instant::now();
    while t.elapsed() < within {
        if pfd.stderr().contains(what) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The MAC the client's kernel resolved 192.0.2.1 to.
fn neighbour_mac(client: &Ns) -> String {
    let o = Command::new("ip")
        .args(["-n", &client.name, "neigh", "show", "192.0.2.1"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn kill9(pfd: &mut Pfd) {
    let _ = pfd.child.kill();
    let _ = pfd.child.wait();
}

#[test]
fn two_pfd_firewalls_share_one_gateway_address() {
    if !netns::can_run("two_pfd_firewalls_share_one_gateway_address") {
        return;
    }
    let l = lan("cp");
    let (e1, e2) = (etc("carp1", "192.0.2.2", 0), etc("carp2", "192.0.2.3", 100));
    let log =
        |n: &str| std::env::temp_dir().join(format!("pfd-carp-{n}-{}.log", std::process::id()));
    let mut fw1 = Pfd::start(&l.fw1, &e1.0, &e1.0.join("pfd.sock"), log("1"));
    assert!(
        wait_log(
            &fw1,
            "carp0: state transition: BACKUP -> MASTER",
            Duration::from_secs(10)
        ),
        "fw1 alone becomes master: {}",
        fw1.stderr()
    );
    let mut fw2 = Pfd::start(&l.fw2, &e2.0, &e2.0.join("pfd.sock"), log("2"));
    // fw2 hears fw1's adverts (advskew 0 beats 100) and stays backup
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        !fw2.stderr().contains("-> MASTER"),
        "fw2 stays backup while fw1 advertises: {}",
        fw2.stderr()
    );
    assert!(ping(&l.client, "192.0.2.1"), "the shared address answers");
    assert!(
        neighbour_mac(&l.client).contains("00:00:5e:00:01:01"),
        "answered with the virtual MAC: {}",
        neighbour_mac(&l.client)
    );

    // the master dies: fw2 takes over within master-down (3 s) and a bit
    kill9(&mut fw1);
    assert!(
        wait_log(
            &fw2,
            "carp0: state transition: BACKUP -> MASTER",
            Duration::from_secs(10)
        ),
        "fw2 takes over: {}",
        fw2.stderr()
    );
    assert!(ping(&l.client, "192.0.2.1"), "the address answers from fw2");

    // fw1 comes back: no preemption by default, fw2 stays master and
    // fw1 backs off
    let mut fw1 = Pfd::start(&l.fw1, &e1.0, &e1.0.join("pfd.sock"), log("1b"));
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        !fw1.stderr().contains("-> MASTER"),
        "without preempt the returning fw1 stays backup: {}",
        fw1.stderr()
    );

    // a clean stop of the master bows out: fw1 takes over at once,
    // without waiting out master-down
    let t = Instant::now();
    let st = fw2.terminate();
    assert!(st.success(), "{}", fw2.stderr());
    assert!(
        wait_log(
            &fw1,
            "carp0: state transition: BACKUP -> MASTER",
            Duration::from_secs(10)
        ),
        "fw1 takes over after fw2's bow-out: {}",
        fw1.stderr()
    );
    let took = t.elapsed();
    assert!(ping(&l.client, "192.0.2.1"), "the address answers from fw1");
    eprintln!("bow-out takeover seen after {took:?}");
    fw1.terminate();
}
