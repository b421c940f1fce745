//! pfsync's `defer` in the daemon without a kernel or a peer: a worker's
//! pipeline and the pfsync thread's driver, stepped on a virtual clock.
//! The first packet of a new synced state is held, not sent; the INS
//! leaves at once, flagged for acknowledgement; the peer's INS_ACK, or
//! 20 ms, sends the packet out of the worker that held it. Packets of
//! existing states, of `no-sync` states, and every packet once `-defer`
//! is set, leave at once.

use dataplane::pdesc::tcp_flags;
use dataplane::wire::build::{ethernet_wrap, tcp_segment, TcpSegment};
use dataplane::worker::Fate;
use mgmt::daemon::pfsync::driver::{PfsyncDriver, PfsyncHandle};
use mgmt::daemon::{mailboxes, EngineSlot, Forwarding, Pipeline, Published};
use pfsync::state::flags;
use pfsync::sync::DEFER_NS;
use pfsync::wire::{PacketRepr, Section};
use pfsync::StateId;
use ruleset::addr::Af;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;

const FW0: [u8; 6] = [2, 0, 0, 0, 1, 1];
const FW1: [u8; 6] = [2, 0, 0, 0, 1, 2];
const FW2: [u8; 6] = [2, 0, 0, 0, 1, 3];
const CLIENT: [u8; 6] = [2, 0, 0, 0, 2, 10];
const SERVER: [u8; 6] = [2, 0, 0, 0, 3, 10];
const PEER: [u8; 6] = [2, 0, 0, 0, 4, 10];
const PFSYNC_MAC: [u8; 6] = [1, 0, 0x5e, 0, 0, 0xf0];
const MS: u64 = 1_000_000;
const SEC: u64 = 1_000 * MS;

const PF_CONF: &str = "\
pass
pass quick on veth2 proto pfsync keep state (no-sync)
pass quick proto tcp to port 9000 keep state (no-sync)
";

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What a port sent: (port, frame).
type Sent = Vec<(usize, Vec<u8>)>;

struct Lab {
    pipe: Pipeline,
    driver: PfsyncDriver,
    handle: PfsyncHandle,
    /// The worker's mail port: letters wake it (kept open).
    _mail: dataplane::port::LoopbackPort,
    _dir: Dir,
}

fn lab(tag: &str) -> Lab {
    let dir = std::env::temp_dir().join(format!("pfd-defer-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let w = |f: &str, t: &str| std::fs::write(dir.join(f), t).unwrap();
    w("hostname.veth0", "inet 192.0.2.1 255.255.255.0\n");
    w("hostname.veth1", "inet 198.51.100.1 255.255.255.0\n");
    w("hostname.veth2", "inet 203.0.113.1 255.255.255.0\n");
    // -mirror: this test runs in the machine's own namespace
    w("hostname.pfsync0", "up syncdev veth2 defer -mirror\n");
    w("pf.conf", PF_CONF);
    w("sysctl.conf", "net.inet.ip.forwarding=1\n");
    let env = ruleset::hostenv::from_env().unwrap();
    let checked = mgmt::check::check(&dir, None, env.as_ref()).unwrap();
    let cfg = &checked.config;
    let plan = mgmt::daemon::ports(cfg).unwrap();
    let names: Vec<String> = plan.iter().map(|p| p.name.clone()).collect();
    assert_eq!(names, ["veth0", "veth1", "veth2"]);
    let macs = [FW0, FW1, FW2];
    let router = mgmt::daemon::router(cfg, &plan, &macs, &[None, None, None]).unwrap();
    let slot = Arc::new(EngineSlot::new(Arc::new(checked.engine)));
    let (mut boxes, addrs) = mailboxes(1).unwrap();
    let (mailbox, mail) = boxes.remove(0);
    let p = cfg.pfsync.as_ref().expect("hostname.pfsync0");
    assert!(p.defer);
    let (mut driver, handle) =
        mgmt::daemon::pfsync::boot(p, cfg, &names, &macs, &slot, addrs, None).unwrap();
    let mut pipe = Pipeline::new(
        Arc::clone(&slot),
        router,
        plan.iter().map(|p| p.engine_if).collect(),
        Arc::new(Published::default()),
        Forwarding {
            inet: true,
            inet6: false,
        },
    );
    pipe.join(0, mailbox);
    pipe.set_pfsync(handle.clone());
    driver.begin(SEC);
    assert!(handle.deferring(), "up with defer");
    Lab {
        pipe,
        driver,
        handle,
        _mail: mail,
        _dir: Dir(dir),
    }
}

impl Lab {
    fn send(&mut self, port: usize, now: u64, frame: &[u8]) -> (Fate, Vec<u8>, Sent) {
        let mut f = frame.to_vec();
        let fate = self.pipe.frame(port, now, &mut f);
        let mut out = Vec::new();
        self.pipe.drain_out(|p, b| out.push((p, b.to_vec())));
        (fate, f, out)
    }

    /// The pfsync thread's work at `now`, then the worker reading the
    /// letters it posted: what the worker sent.
    fn step(&mut self, now: u64) -> Sent {
        assert!(self.driver.step(now));
        self.pipe.mail(now);
        let mut out = Vec::new();
        self.pipe.drain_out(|p, b| out.push((p, b.to_vec())));
        out
    }

    fn stats(&self) -> pfsync::sync::DeferStats {
        self.driver.machine().defer_stats()
    }

    /// The neighbours' addresses, as their ARP requests for ours teach
    /// them (so forwarded packets leave at once instead of waiting).
    fn learn_neighbours(&mut self, now: u64) {
        self.send(0, now, &arp_request(CLIENT, "192.0.2.10", "192.0.2.1"));
        self.send(
            1,
            now,
            &arp_request(SERVER, "198.51.100.10", "198.51.100.1"),
        );
        self.send(2, now, &arp_request(PEER, "203.0.113.2", "203.0.113.1"));
    }
}

fn v4(s: &str) -> [u8; 4] {
    s.parse::<Ipv4Addr>().unwrap().octets()
}

fn key(s: &str) -> u128 {
    u128::from(u32::from_be_bytes(v4(s))) << 96
}

fn arp_request(sha: [u8; 6], spa: &str, tpa: &str) -> Vec<u8> {
    let mut f = [0xff; 6].to_vec();
    f.extend_from_slice(&sha);
    f.extend_from_slice(&[0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
    f.extend_from_slice(&sha);
    f.extend_from_slice(&v4(spa));
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&v4(tpa));
    f
}

fn segment(src: &str, dst: &str, sport: u16, dport: u16, flags: u8) -> Vec<u8> {
    tcp_segment(&TcpSegment {
        af: Af::Inet,
        src: key(src),
        dst: key(dst),
        sport,
        dport,
        seq: 1000,
        ack: if flags & tcp_flags::ACK != 0 { 5001 } else { 0 },
        flags,
        win: 65535,
        mss: None,
        ttl: 64,
    })
}

/// The client's SYN to the server, as it arrives at veth0.
fn syn(sport: u16, dport: u16) -> Vec<u8> {
    ethernet_wrap(
        &segment("192.0.2.10", "198.51.100.10", sport, dport, tcp_flags::SYN),
        CLIENT,
        FW0,
        None,
    )
}

/// The TCP frames among `out` that left by `port`, to `dport`.
fn tcp_out(out: &Sent, port: usize, dport: u16) -> Vec<Vec<u8>> {
    out.iter()
        .filter(|(p, f)| {
            *p == port
                && f.len() > 38
                && f[12..14] == [8, 0]
                && f[23] == 6
                && u16::from_be_bytes([f[36], f[37]]) == dport
        })
        .map(|(_, f)| f.clone())
        .collect()
}

/// The pfsync payloads among `out` (out of veth2, to the group).
fn pfsync_out(out: &Sent) -> Vec<PacketRepr> {
    out.iter()
        .filter(|(p, f)| *p == 2 && f.len() > 34 && f[12..14] == [8, 0] && f[23] == 240)
        .map(|(_, f)| PacketRepr::parse(&f[34..]).expect("a pfsync packet"))
        .collect()
}

/// The states the INS records of `pkts` carry, with their flags.
fn inserts(pkts: &[PacketRepr]) -> Vec<(StateId, u16)> {
    let mut out = Vec::new();
    for p in pkts {
        for s in &p.sections {
            if let Section::Ins(v) = s {
                out.extend(v.iter().map(|r| (r.id, r.state_flags)));
            }
        }
    }
    out
}

/// The peer's INS_ACK for `ids`, as it arrives on veth2.
fn ins_ack(ids: Vec<StateId>) -> Vec<u8> {
    let payload = PacketRepr {
        sections: vec![Section::InsAck(ids)],
    }
    .emit();
    let ip = pfsync::wire::ip::encap(
        &payload,
        Ipv4Addr::new(203, 0, 113, 2),
        Ipv4Addr::new(224, 0, 0, 240),
        7,
    );
    ethernet_wrap(&ip, PEER, PFSYNC_MAC, None)
}

#[test]
fn the_first_packet_waits_for_the_peers_ins_ack() {
    let mut l = lab("ack");
    let t = 2 * SEC;
    l.learn_neighbours(t);
    let (fate, _, out) = l.send(0, t, &syn(40000, 8080));
    assert_eq!(fate, Fate::Drop, "held, not forwarded");
    assert!(tcp_out(&out, 1, 8080).is_empty(), "{out:?}");
    // the pfsync thread holds it and sends the inserts at once, the
    // deferred state's flagged for an acknowledgement
    let out = l.step(t);
    assert!(tcp_out(&out, 1, 8080).is_empty(), "still held: {out:?}");
    assert_eq!(l.driver.machine().deferred(), 1);
    assert_eq!(l.stats().add, 1);
    let ins = inserts(&pfsync_out(&out));
    // the SYN made two states, inbound on veth0 and outbound on veth1:
    // both go now; the outbound one (pf_test's PF_OUT) is deferred
    assert_eq!(ins.len(), 2, "{ins:?}");
    let acked: Vec<StateId> = ins
        .iter()
        .filter(|(_, f)| f & flags::ACK != 0)
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(acked.len(), 1, "{ins:?}");
    // nothing leaves until the peer answers, short of 20 ms
    assert!(tcp_out(&l.step(t + MS), 1, 8080).is_empty());
    // an INS_ACK for another state releases nothing
    let other = StateId::new(acked[0].id ^ 1, acked[0].creator);
    let (fate, _, _) = l.send(2, t + 2 * MS, &ins_ack(vec![other]));
    assert_eq!(fate, Fate::Drop);
    assert!(tcp_out(&l.step(t + 2 * MS), 1, 8080).is_empty());
    // the peer's INS_ACK: the SYN leaves by veth1, as routed before
    l.send(2, t + 3 * MS, &ins_ack(acked.clone()));
    let out = l.step(t + 3 * MS);
    let syns = tcp_out(&out, 1, 8080);
    assert_eq!(syns.len(), 1, "{out:?}");
    let f = &syns[0];
    assert_eq!((&f[..6], &f[6..12]), (&SERVER[..], &FW1[..]));
    assert_eq!(f[14 + 8], 63, "TTL decremented once");
    assert_eq!(f[47], tcp_flags::SYN);
    assert_eq!((l.stats().ack, l.stats().run), (1, 0));
    assert_eq!(l.driver.machine().deferred(), 0);
    // the same packet again (a retransmission) matches the state: sent
    let (fate, _, _) = l.send(0, t + 4 * MS, &syn(40000, 8080));
    assert_eq!(fate, Fate::Forward(1));
    // and so does the server's answer, the other way
    let synack = ethernet_wrap(
        &segment(
            "198.51.100.10",
            "192.0.2.10",
            8080,
            40000,
            tcp_flags::SYN | tcp_flags::ACK,
        ),
        SERVER,
        FW1,
        None,
    );
    let (fate, _, _) = l.send(1, t + 5 * MS, &synack);
    assert_eq!(fate, Fate::Forward(0));
    l.step(t + 5 * MS);
    assert_eq!(l.stats().add, 1, "only the first packet was held");
    let j = l.handle.defer_counters().json(l.stats(), 0);
    assert_eq!(
        (j["released"].clone(), j["wait_ns_max"].clone()),
        (1.into(), (3 * MS).into())
    );
}

#[test]
fn without_an_answer_the_packet_leaves_after_20_ms() {
    let mut l = lab("run");
    let t = 2 * SEC;
    l.learn_neighbours(t);
    let (fate, _, _) = l.send(0, t, &syn(40001, 8080));
    assert_eq!(fate, Fate::Drop);
    assert!(tcp_out(&l.step(t), 1, 8080).is_empty());
    assert!(tcp_out(&l.step(t + DEFER_NS - 1), 1, 8080).is_empty());
    let out = l.step(t + DEFER_NS);
    assert_eq!(tcp_out(&out, 1, 8080).len(), 1, "{out:?}");
    let s = l.stats();
    assert_eq!((s.add, s.ack, s.run), (1, 0, 1));
}

#[test]
fn no_sync_states_and_defer_off_send_at_once() {
    let mut l = lab("nosync");
    let t = 2 * SEC;
    l.learn_neighbours(t);
    let (fate, _, _) = l.send(0, t, &syn(40002, 9000));
    assert_eq!(fate, Fate::Forward(1), "a no-sync state is never held");
    l.step(t);
    assert_eq!(l.stats().add, 0);
    // `ifctl pfsync0 -defer` while running: the thread answers the call
    // as it steps
    let h = l.handle.clone();
    let call = std::thread::spawn(move || h.call(|m, _, _, _| m.set_defer(false)));
    let mut now = t;
    while !call.is_finished() {
        now += MS;
        l.step(now);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    call.join().unwrap().unwrap();
    l.step(now);
    assert!(!l.handle.deferring());
    let (fate, _, _) = l.send(0, now, &syn(40003, 8080));
    assert_eq!(fate, Fate::Forward(1), "defer off");
    l.step(now);
    assert_eq!(l.stats().add, 0);
}
