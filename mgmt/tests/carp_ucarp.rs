//! CARP between `pfd run` and ucarp (Debian's package) in one group on
//! one LAN segment (a bridge in a namespace of its own), with a kernel
//! client using the shared address: one master at a time, seen from
//! both sides' logs and from the wire; killing either side makes the
//! other master; a clean stop of pfd bows out and ucarp takes over at
//! once; tshark decodes pfd's adverts as CARP with a correct checksum.
//! pfd needs no ucarp switch for this: one IPv4 address, no IPv6 and
//! no demotion is the plain configuration (carp.md §2.4, §5.7).
//! Needs root, ucarp, tcpdump and tshark; skipped with a message
//! otherwise, and failed when CI is set.

mod live;
#[path = "../../dataplane/tests/netns/mod.rs"]
mod netns;
mod ucarp;

use live::{ping, Etc, Pfd};
use netns::Ns;
use std::process::Command;
use std::time::Duration;
use ucarp::{runs, tshark_carp, wait_until, Capture, Ucarp, UcarpArgs};

const VIP: &str = "192.0.2.1";
/// pfd's virtual MAC for vhid 1 (OpenBSD's), and ucarp's advert source.
const PFD_VMAC: &str = "00:00:5e:00:01:01";
const UCARP_SRC: &str = "00:00:5e:00:00:01";
/// The ucarp host's own MAC: it answers ARP for the address with it.
const UCARP_NIC: &str = "02:00:00:00:00:0b";
const TO_MASTER: &str = "carp0: state transition: BACKUP -> MASTER";

/// fw (pfd on veth0, 192.0.2.2), uc (ucarp on eth0, 192.0.2.3) and a
/// client (192.0.2.10) on br0 in sw.
struct Lan {
    sw: Ns,
    fw: Ns,
    uc: Ns,
    client: Ns,
}

fn lan(tag: &str) -> Lan {
    let sw = Ns::new(&format!("{tag}sw"));
    let fw = Ns::new(&format!("{tag}fw"));
    let uc = Ns::new(&format!("{tag}uc"));
    let client = Ns::new(&format!("{tag}cl"));
    sw.ip(&["link", "add", "br0", "type", "bridge"]);
    // the recipe's bridge: multicast flooded to every port
    sw.ip(&[
        "link",
        "set",
        "br0",
        "type",
        "bridge",
        "mcast_snooping",
        "0",
    ]);
    sw.ip(&["link", "set", "br0", "up"]);
    for (port, ns, dev) in [
        ("p1", &fw, "veth0"),
        ("p2", &uc, "eth0"),
        ("p3", &client, "cl0"),
    ] {
        sw.veth(port, dev);
        sw.give(dev, ns);
        sw.ip(&["link", "set", port, "master", "br0"]);
    }
    uc.ip(&["link", "set", "eth0", "address", UCARP_NIC]);
    uc.ip(&["addr", "add", "192.0.2.3/24", "dev", "eth0"]);
    client.ip(&["addr", "add", "192.0.2.10/24", "dev", "cl0"]);
    Lan { sw, fw, uc, client }
}

fn pfd_etc() -> Etc {
    Etc::with(
        "ucarp-fw",
        &[
            ("hostname.veth0", "inet 192.0.2.2 255.255.255.0\nup\n"),
            (
                "hostname.carp0",
                "inet 192.0.2.1 255.255.255.0 192.0.2.255 vhid 1 carpdev veth0 pass lanpasswd advskew 0\n",
            ),
            ("pf.conf", "pass\n"),
        ],
    )
}

fn ucarp_args() -> UcarpArgs<'static> {
    UcarpArgs {
        dev: "eth0",
        srcip: "192.0.2.3",
        vhid: 1,
        pass: "lanpasswd",
        addr: VIP,
        advbase: 1,
        advskew: 100,
    }
}

/// The MAC the client resolved the shared address to, after a ping.
fn resolved_mac(client: &Ns) -> String {
    let o = Command::new("ip")
        .args(["-n", &client.name, "neigh", "show", VIP])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn log(n: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("pfd-ucarp-{n}-{}.log", std::process::id()))
}

/// Lines of `text` that say a state change of either side.
fn transitions(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.contains("state transition") || l.contains("Switching to state"))
        .collect()
}

#[test]
fn pfd_and_ucarp_share_one_address() {
    const T: &str = "pfd_and_ucarp_share_one_address";
    if !netns::can_run(T)
        || !ucarp::have(T, "ucarp")
        || !ucarp::have(T, "tcpdump")
        || !ucarp::have(T, "tshark")
    {
        return;
    }
    let l = lan("uc");
    let pcap = std::env::temp_dir().join(format!("pfd-ucarp-{}.pcap", std::process::id()));
    let mut cap = Capture::start(&l.sw, "br0", "ip proto 112", pcap);
    let etc = pfd_etc();
    let sock = etc.0.join("pfd.sock");

    // pfd (advskew 0) alone becomes master; ucarp (advskew 100) joins
    // and stays backup.
    let mut fw = Pfd::start(&l.fw, &etc.0, &sock, log("fw1"));
    assert!(
        wait_until(Duration::from_secs(10), || fw.stderr().contains(TO_MASTER)),
        "pfd alone becomes master: {}",
        fw.stderr()
    );
    let mut uc = Ucarp::start(&l.uc, "uc", &ucarp_args());
    assert!(
        uc.proc
            .wait_for("Switching to state: BACKUP", Duration::from_secs(10)),
        "ucarp starts as backup: {}",
        uc.proc.output()
    );
    // Longer than ucarp's master-down (3 x 1.39 s, plus up to 1 s of
    // libpcap batching): had it not accepted pfd's adverts, it would
    // have taken over by now.
    std::thread::sleep(Duration::from_secs(7));
    let out = uc.proc.output();
    assert!(
        !out.contains("Switching to state: MASTER"),
        "ucarp accepts pfd's adverts and stays backup: {out}"
    );
    for bad in ["Bad digest", "Bad IP checksum", "Bad TTL", "Bad version"] {
        assert!(!out.contains(bad), "ucarp rejected pfd's advert: {out}");
    }
    assert!(
        !fw.stderr().contains("MASTER -> BACKUP"),
        "pfd stays master: {}",
        fw.stderr()
    );
    assert!(ping(&l.client, VIP), "the shared address answers from pfd");
    assert!(
        resolved_mac(&l.client).contains(PFD_VMAC),
        "answered with pfd's virtual MAC: {}",
        resolved_mac(&l.client)
    );
    assert_eq!(
        uc.hooks(),
        "down.sh eth0 192.0.2.1\n",
        "only ucarp's start-up downscript"
    );

    // pfd dies: ucarp takes over and its kernel answers with its own MAC.
    fw.child.kill().unwrap();
    let _ = fw.child.wait();
    assert!(
        uc.proc
            .wait_for("Switching to state: MASTER", Duration::from_secs(15)),
        "ucarp takes over when pfd dies: {}",
        uc.proc.output()
    );
    assert!(
        wait_until(Duration::from_secs(5), || uc.hooks().contains("up.sh")),
        "ucarp ran its upscript: {}",
        uc.hooks()
    );
    assert!(
        ping(&l.client, VIP),
        "the shared address answers from ucarp"
    );
    assert!(
        resolved_mac(&l.client).contains(UCARP_NIC),
        "answered with the ucarp host's MAC: {}",
        resolved_mac(&l.client)
    );

    // pfd comes back: without preempt it stays backup under ucarp's
    // adverts, and ucarp stays master.
    drop(fw);
    let mut fw = Pfd::start(&l.fw, &etc.0, &sock, log("fw2"));
    std::thread::sleep(Duration::from_secs(6));
    assert!(
        !fw.stderr().contains("-> MASTER"),
        "pfd hears ucarp's adverts and stays backup: {}",
        fw.stderr()
    );
    assert!(
        !uc.proc.output().contains("going back to BACKUP"),
        "ucarp stays master: {}",
        uc.proc.output()
    );

    // ucarp dies (SIGKILL: no downscript; a dead host loses its address
    // too, removed by hand): pfd takes over and answers again.
    uc.proc.kill9();
    l.uc.ip(&["addr", "del", "192.0.2.1/24", "dev", "eth0"]);
    assert!(
        wait_until(Duration::from_secs(10), || fw.stderr().contains(TO_MASTER)),
        "pfd takes over when ucarp dies: {}",
        fw.stderr()
    );
    assert!(
        ping(&l.client, VIP),
        "the shared address answers from pfd again"
    );
    assert!(
        resolved_mac(&l.client).contains(PFD_VMAC),
        "the client followed pfd's gratuitous ARP: {}",
        resolved_mac(&l.client)
    );
    // A new ucarp backup joins; pfd stops cleanly: ucarp takes its bow-out
    // advert (advbase 255 / advskew 255) as a master that will time out
    // and takes over at once, not after its master-down.
    let mut uc2 = Ucarp::start(&l.uc, "uc2", &ucarp_args());
    std::thread::sleep(Duration::from_secs(6));
    assert!(
        !uc2.proc.output().contains("Switching to state: MASTER"),
        "the new ucarp stays backup under pfd: {}",
        uc2.proc.output()
    );
    let st = fw.terminate();
    assert!(st.success(), "{}", fw.stderr());
    assert!(
        uc2.proc.wait_for(
            "Putting MASTER DOWN (going to time out)",
            Duration::from_secs(5)
        ),
        "ucarp honours pfd's bow-out: {}",
        uc2.proc.output()
    );
    assert!(
        uc2.proc
            .wait_for("Switching to state: MASTER", Duration::from_secs(5)),
        "{}",
        uc2.proc.output()
    );
    assert!(
        wait_until(Duration::from_secs(5), || uc2.hooks().contains("up.sh")),
        "{}",
        uc2.hooks()
    );
    assert!(
        ping(&l.client, VIP),
        "the shared address answers from ucarp"
    );
    uc2.proc.signal_and_wait("TERM");
    cap.stop();

    // Each side's own account: pfd master, backup then master again;
    // ucarp backup, master once.
    let pfd_says = transitions(&fw.stderr()).join("\n");
    assert!(pfd_says.contains(TO_MASTER), "{pfd_says}");
    let uc_says = transitions(&uc.proc.output()).join("\n");
    assert_eq!(
        uc_says.matches("Switching to state: MASTER").count(),
        1,
        "ucarp was master once: {uc_says}"
    );

    // The wire: tshark reads every advert as CARP version 2
    // advertisement for vhid 1 with a correct checksum, pfd's from
    // its virtual MAC as OpenBSD sends them.
    let frames = tshark_carp(&cap.pcap);
    let ours: Vec<_> = frames.iter().filter(|f| f.eth_src == PFD_VMAC).collect();
    let theirs: Vec<_> = frames.iter().filter(|f| f.eth_src == UCARP_SRC).collect();
    assert!(ours.len() >= 8, "pfd's adverts captured: {frames:?}");
    assert!(theirs.len() >= 3, "ucarp's adverts captured: {frames:?}");
    for f in &ours {
        let c = f
            .carp
            .as_ref()
            .unwrap_or_else(|| panic!("tshark did not decode pfd's advert as CARP: {f:?}"));
        assert_eq!(f.ip_src, "192.0.2.2", "{f:?}");
        assert_eq!(
            (c.version, c.typ, c.vhid, c.authlen, c.demote),
            (2, 1, 1, 7, 0),
            "{f:?}"
        );
        // advbase 1 advskew 0, or the bow-out at the clean stop
        assert!(
            (c.advbase, c.advskew) == (1, 0) || (c.advbase, c.advskew) == (255, 255),
            "{f:?}"
        );
        assert_eq!(c.checksum_status, "1", "tshark: checksum [correct]: {f:?}");
    }
    assert_eq!(
        ours.last()
            .and_then(|f| f.carp.as_ref())
            .map(|c| (c.advbase, c.advskew)),
        Some((255, 255)),
        "pfd's last advert is its bow-out: {:?}\n{}",
        &ours[ours.len().saturating_sub(2)..],
        fw.stderr()
    );
    for f in &theirs {
        let c = f.carp.as_ref().expect("ucarp's advert decoded as CARP");
        assert_eq!((c.vhid, c.advbase, c.advskew), (1, 1, 100), "{f:?}");
        assert_eq!(c.checksum_status, "1", "{f:?}");
    }
    // One master at a time, seen from outside: the adverts come in
    // four runs (pfd, ucarp, pfd, the second ucarp), never interleaved.
    let runs = runs(&frames);
    let senders: Vec<&str> = runs.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        senders,
        [PFD_VMAC, UCARP_SRC, PFD_VMAC, UCARP_SRC],
        "one advertiser at a time: {runs:?}"
    );
}
