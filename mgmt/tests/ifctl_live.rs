//! The real `ifctl` binary against two `pfd run` firewalls sharing
//! carp0 (192.0.2.1, vhid 1) on one LAN: the status lines show one
//! MASTER and one BACKUP, and the OpenBSD FAQ's forced failovers move
//! the master, raising advskew on it or demoting its `carp` group, and
//! back (net.inet.carp.preempt=1). pf.conf filters on the carpdev and
//! names carp0 as an address. Needs root; skipped with a message
//! otherwise, and failed when CI is set.

mod live;
#[path = "../../dataplane/tests/netns/mod.rs"]
mod netns;

use live::{lan, ping, Etc, Pfd};
use netns::Ns;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// As the FAQ advises: CARP passed on the physical interface, and the
/// shared address (only) answering pings.
const PF_CONF: &str = "\
block
pass on veth0 proto carp keep state (no-sync)
pass in on veth0 proto icmp to carp0
pass out
";

fn etc(tag: &str, me: &str, advskew: u8) -> Etc {
    Etc::with(
        tag,
        &[
            ("hostname.veth0", &format!("inet {me} 255.255.255.0\nup\n")),
            (
                "hostname.carp0",
                &format!("inet 192.0.2.1 255.255.255.0 192.0.2.255 vhid 1 carpdev veth0 pass lanpasswd advskew {advskew}\n"),
            ),
            ("sysctl.conf", "net.inet.carp.preempt=1\n"),
            ("pf.conf", PF_CONF),
        ],
    )
}

/// The MAC the client's kernel resolved 192.0.2.1 to.
fn neighbour_mac(client: &Ns) -> String {
    let o = Command::new("ip")
        .args(["-n", &client.name, "neigh", "show", "192.0.2.1"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `ifctl ARGS` against `sock`: (success, stdout, stderr).
fn ifctl(sock: &Path, args: &[&str]) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_ifctl"))
        .arg("--control")
        .arg(sock)
        .args(args)
        .output()
        .expect("run ifctl");
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The carp line of `ifctl carp0`.
fn carp_line(sock: &Path) -> String {
    let (ok, out, err) = ifctl(sock, &["carp0"]);
    assert!(ok, "ifctl carp0: {err}");
    out.lines()
        .find(|l| l.starts_with("\tcarp: "))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Wait (bounded) until `ifctl carp0` on `sock` shows `state`.
fn wait_state(sock: &Path, state: &str, within: Duration) -> bool {
    let t = Instant::now();
    while t.elapsed() < within {
        if carp_line(sock).starts_with(&format!("carp: {state} ")) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn must(sock: &Path, args: &[&str]) -> String {
    let (ok, out, err) = ifctl(sock, args);
    assert!(ok, "ifctl {}: {err}", args.join(" "));
    out
}

#[test]
fn ifctl_shows_and_forces_failover_between_two_pfd() {
    if !netns::can_run("ifctl_shows_and_forces_failover_between_two_pfd") {
        return;
    }
    let l = lan("ic");
    let (e1, e2) = (etc("ifc1", "192.0.2.2", 0), etc("ifc2", "192.0.2.3", 100));
    let log = |n: &str| -> PathBuf {
        std::env::temp_dir().join(format!("pfd-ifctl-{n}-{}.log", std::process::id()))
    };
    let (s1, s2) = (e1.0.join("pfd.sock"), e2.0.join("pfd.sock"));
    let fw1 = Pfd::start(&l.fw1, &e1.0, &s1, log("1"));
    let within = Duration::from_secs(10);
    assert!(
        wait_state(&s1, "MASTER", within),
        "fw1 alone becomes master: {}",
        fw1.stderr()
    );
    let fw2 = Pfd::start(&l.fw2, &e2.0, &s2, log("2"));
    // fw2 hears fw1 (advskew 0 beats 100) past its master-down (3 s)
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        carp_line(&s1),
        "carp: MASTER carpdev veth0 vhid 1 advbase 1 advskew 0"
    );
    assert_eq!(
        carp_line(&s2),
        "carp: BACKUP carpdev veth0 vhid 1 advbase 1 advskew 100",
        "{}",
        fw2.stderr()
    );
    let block = must(&s1, &["carp0"]);
    assert!(
        block.starts_with(
            "carp0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n\tlladdr 00:00:5e:00:01:01\n"
        ),
        "{block}"
    );
    assert!(block.contains("\tgroups: carp\n\tstatus: master\n\tinet 192.0.2.1 netmask 0xffffff00 broadcast 192.0.2.255\n"), "{block}");
    assert!(must(&s2, &["carp0"]).contains("\tstatus: backup\n"));
    // every interface: veth0 then carp0
    let all = must(&s1, &[]);
    assert!(all.starts_with("veth0: flags="), "{all}");
    assert!(
        all.contains("\tinet 192.0.2.2 netmask 0xffffff00 broadcast 192.0.2.255\n"),
        "{all}"
    );
    // pf: `to carp0` passes the shared address only
    assert!(ping(&l.client, "192.0.2.1"), "the carp address answers");
    assert!(
        !ping(&l.client, "192.0.2.2"),
        "fw1's own address is blocked"
    );
    // and pf blocked it: with pf off it answers
    let pfctl = |flag: &str| {
        let st = Command::new(env!("CARGO_BIN_EXE_pfctl"))
            .arg("--control")
            .arg(&s1)
            .arg(flag)
            .status()
            .unwrap();
        assert!(st.success(), "pfctl {flag}");
    };
    pfctl("-d");
    assert!(ping(&l.client, "192.0.2.2"), "fw1 answers with pf off");
    pfctl("-e");

    // FAQ: raise advskew on the master; the backup (preempt) takes over
    must(&s1, &["carp0", "advskew", "200"]);
    assert!(
        wait_state(&s2, "MASTER", within),
        "fw2 preempts: {}",
        fw2.stderr()
    );
    assert!(wait_state(&s1, "BACKUP", within), "fw1 steps down");
    assert_eq!(
        carp_line(&s1),
        "carp: BACKUP carpdev veth0 vhid 1 advbase 1 advskew 200"
    );
    assert!(ping(&l.client, "192.0.2.1"), "the address answers from fw2");
    must(&s1, &["carp0", "advskew", "0"]);
    assert!(
        wait_state(&s1, "MASTER", within),
        "fw1 preempts back: {}",
        fw1.stderr()
    );
    assert!(wait_state(&s2, "BACKUP", within));

    // FAQ: demote the carp group on the master
    assert_eq!(must(&s1, &["-g", "carp"]), "carp: carp demote count 0\n");
    must(&s1, &["-g", "carp", "carpdemote", "50"]);
    assert_eq!(must(&s1, &["-g", "carp"]), "carp: carp demote count 50\n");
    assert!(
        wait_state(&s2, "MASTER", within),
        "demoted fw1 loses master: {}",
        fw2.stderr()
    );
    assert!(wait_state(&s1, "BACKUP", within));
    must(&s1, &["-g", "carp", "-carpdemote", "50"]);
    assert_eq!(must(&s1, &["-g", "carp"]), "carp: carp demote count 0\n");
    assert!(
        wait_state(&s1, "MASTER", within),
        "fw1 takes it back: {}",
        fw1.stderr()
    );
    assert!(wait_state(&s2, "BACKUP", within));

    // netstat -s -p carp
    let st = must(&s1, &["-s", "carp"]);
    assert!(st.starts_with("carp:\n\t"), "{st}");
    let transitions: u64 = st
        .lines()
        .find(|l| l.contains("to master"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(transitions >= 3, "{st}");
    assert!(!must(&s1, &["-ss", "carp"]).contains(" 0 "), "zeros hidden");

    // --json, and errors as ifconfig words them
    let j: serde_json::Value =
        serde_json::from_str(&must(&s2, &["--json", "carp0"])).expect("JSON");
    assert_eq!(j[0]["status"], "backup");
    let (ok, _, err) = ifctl(&s1, &["carp0", "advskew", "300"]);
    assert!(!ok);
    assert_eq!(err, "ifctl: advskew 300: too large\n");
    let (ok, _, err) = ifctl(&s1, &["carp9"]);
    assert!(!ok);
    assert_eq!(err, "ifctl: carp9: no such interface\n");
    // a new vhid on both: a new virtual MAC, answered by the master
    must(&s2, &["carp0", "vhid", "2"]);
    must(&s1, &["carp0", "vhid", "2"]);
    assert!(
        wait_state(&s1, "MASTER", within),
        "fw1 master on vhid 2: {}",
        fw1.stderr()
    );
    assert!(
        wait_state(&s2, "BACKUP", within),
        "fw2 backup on vhid 2: {}",
        fw2.stderr()
    );
    assert_eq!(
        carp_line(&s1),
        "carp: MASTER carpdev veth0 vhid 2 advbase 1 advskew 0"
    );
    assert!(must(&s1, &["carp0"]).contains("\tlladdr 00:00:5e:00:01:02\n"));
    l.client.ip(&["neigh", "flush", "all"]);
    assert!(
        ping(&l.client, "192.0.2.1"),
        "the address answers on vhid 2"
    );
    assert!(
        neighbour_mac(&l.client).contains("00:00:5e:00:01:02"),
        "answered with the new virtual MAC: {}",
        neighbour_mac(&l.client)
    );
    drop(fw2);
    drop(fw1);
}
