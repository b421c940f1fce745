//! The bulk update of 1,000,000 states between two pfsync machines, in
//! memory: engine A is filled through its packet path (TCP connections
//! taken to ESTABLISHED, a third of them NATed, and UDP flows with a
//! reply), then B's machine comes up, asks for the table, and A's
//! machine streams it through the wire codec into B's `EngineStore`.
//! The clock is virtual: each machine's timer is run when it is due, so
//! the run reports both the protocol's own pacing (OpenBSD's one packet
//! per 20 ms, in virtual time) and the CPU it costs (wall time), with
//! the bytes B holds for the states (a counting allocator).
//!
//! `cargo run --release -p mgmt --example pfsync_bulk [-- STATES [MTU [BURST]]]`
//! (BURST: packets per 20 ms, hostname.pfsync0's `bulkburst`; 1 = OpenBSD)
//!
//! The counting allocator needs `unsafe` (`GlobalAlloc` is an unsafe
//! trait), as dataplane's state bench has it.
#![allow(unsafe_code)]

use dataplane::engine::{Action, Engine, EngineConfig, IfConfig, Packet, Verdict};
use dataplane::pdesc::Dir;
use dataplane::wire::checksum::{combine, finish, pseudo_v4, sum};
use dataplane::wire::frame::Link;
use mgmt::daemon::pfsync::store::EngineStore;
use pfsync::{Config, Event, Pfsync, Rx};
use ruleset::hostenv::RegressHost;
use ruleset::lexer::FsSource;
use ruleset::parse::{parse, ParseConfig};
use std::alloc::{GlobalAlloc, Layout, System};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call forwards to the system allocator with the caller's
// arguments unchanged; the counter is only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Relaxed);
        // SAFETY: forwarded as is.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new, Relaxed);
        LIVE.fetch_sub(l.size(), Relaxed);
        // SAFETY: forwarded as is.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const SEC: u64 = 1_000_000_000;
const FW: &str = "198.51.100.1";

/// TCP to 443 kept as is, TCP to 80 NATed to the firewall's address,
/// UDP to 53; room for 2,000,000 states.
const RULES: &str = "\
set limit states 2000000
block all
pass out on em0 inet proto tcp from 10.0.0.0/8 to port 443
pass out on em0 inet proto tcp from 10.0.0.0/8 to port 80 nat-to 198.51.100.1
pass out on em0 inet proto udp from 10.0.0.0/8 to port 53
";

fn engine(seed: u64) -> Arc<Engine> {
    let env = RegressHost::new();
    let cfg = ParseConfig {
        env: &env,
        files: &FsSource,
        anchor: String::new(),
        macros: Vec::new(),
        queues: Vec::new(),
    };
    let p = parse("pf.conf", RULES.as_bytes().to_vec(), &cfg);
    assert_eq!(p.errors, 0, "{:?}", p.stderr);
    let compiled = ruleset::compile::compile(&p).expect("compiles");
    Arc::new(
        Engine::new(
            compiled,
            EngineConfig {
                interfaces: vec![IfConfig {
                    name: "em0".into(),
                    addrs: vec![(FW.parse().unwrap(), 24)],
                    groups: Vec::new(),
                }],
                link: Link::Ethernet,
                seed,
            },
        )
        .expect("loads"),
    )
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const MAC_FW: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAC_PEER: [u8; 6] = [2, 0, 0, 0, 0, 2];

/// An Ethernet frame holding an IPv4 packet of `proto` around `l4`
/// (its checksum field at `ck_at`, filled here).
fn frame(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    mut l4: Vec<u8>,
    ck_at: usize,
    inbound: bool,
) -> Vec<u8> {
    let ps = pseudo_v4(src.octets(), dst.octets(), proto, l4.len() as u16);
    let ck = finish(combine(&[ps, sum(&l4)]));
    l4[ck_at..ck_at + 2].copy_from_slice(&ck.to_be_bytes());
    let mut ip = vec![0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
    ip[8] = 64;
    ip[9] = proto;
    ip[12..16].copy_from_slice(&src.octets());
    ip[16..20].copy_from_slice(&dst.octets());
    let ck = finish(sum(&ip));
    ip[10..12].copy_from_slice(&ck.to_be_bytes());
    let (d, s) = if inbound {
        (MAC_FW, MAC_PEER)
    } else {
        (MAC_PEER, MAC_FW)
    };
    let mut f = Vec::with_capacity(14 + ip.len() + l4.len());
    f.extend_from_slice(&d);
    f.extend_from_slice(&s);
    f.extend_from_slice(&0x0800u16.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&l4);
    f
}

#[allow(clippy::too_many_arguments)]
fn tcp(
    src: Ipv4Addr,
    sp: u16,
    dst: Ipv4Addr,
    dp: u16,
    flags: u8,
    seq: u32,
    ack: u32,
    inbound: bool,
) -> Vec<u8> {
    let mut t = Vec::with_capacity(20);
    t.extend_from_slice(&sp.to_be_bytes());
    t.extend_from_slice(&dp.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[5 << 4, flags, 0xff, 0xff, 0, 0, 0, 0]);
    frame(src, dst, 6, t, 16, inbound)
}

fn udp(src: Ipv4Addr, sp: u16, dst: Ipv4Addr, dp: u16, len: usize, inbound: bool) -> Vec<u8> {
    let mut u = Vec::with_capacity(8 + len);
    u.extend_from_slice(&sp.to_be_bytes());
    u.extend_from_slice(&dp.to_be_bytes());
    u.extend_from_slice(&((8 + len) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.resize(8 + len, 0x75);
    frame(src, dst, 17, u, 6, inbound)
}

/// The source address and port of the IPv4 packet in `frame`.
fn source(frame: &[u8]) -> (Ipv4Addr, u16) {
    let a: [u8; 4] = frame[26..30].try_into().expect("an IPv4 header");
    (a.into(), u16::from_be_bytes([frame[34], frame[35]]))
}

/// Flow `i`'s client and server addresses.
fn ends(i: u32) -> (Ipv4Addr, Ipv4Addr) {
    (
        Ipv4Addr::new(10, (i >> 16) as u8, (i >> 8) as u8, i as u8),
        Ipv4Addr::new(93, 184, (i % 64) as u8, 34),
    )
}

fn pass(
    eng: &Engine,
    w: &mut dataplane::engine::Worker,
    now: u64,
    dir: Dir,
    mut frame: Vec<u8>,
) -> Vec<u8> {
    let v: Verdict = eng.process(
        w,
        now,
        &mut Packet {
            frame: &mut frame,
            ifindex: 0,
            dir,
        },
    );
    assert_eq!(v.action, Action::Pass, "{v:?}");
    frame
}

/// Flow `i` through A: one in four UDP, the rest TCP to ESTABLISHED,
/// one TCP flow in three NATed.
fn flow(a: &Engine, w: &mut dataplane::engine::Worker, now: u64, i: u32) {
    let (c, s) = ends(i);
    let sport = 1024 + (i % 50_000) as u16;
    if i % 4 == 3 {
        pass(a, w, now, Dir::Out, udp(c, sport, s, 53, 32, false));
        pass(a, w, now, Dir::In, udp(s, 53, c, sport, 64, true));
        return;
    }
    let dport = if i.is_multiple_of(3) { 80 } else { 443 };
    let out = pass(
        a,
        w,
        now,
        Dir::Out,
        tcp(c, sport, s, dport, SYN, 1000, 0, false),
    );
    let (to, to_port) = source(&out);
    pass(
        a,
        w,
        now,
        Dir::In,
        tcp(s, dport, to, to_port, SYN | ACK, 5000, 1001, true),
    );
    pass(
        a,
        w,
        now,
        Dir::Out,
        tcp(c, sport, s, dport, ACK, 1001, 5001, false),
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args
        .next()
        .map_or(1_000_000, |a| a.parse().expect("STATES"));
    let mtu: u16 = args.next().map_or(1500, |a| a.parse().expect("MTU"));
    // packets per 20 ms step: 1 is OpenBSD's pace, more is pfd's
    // `bulkburst N` in hostname.pfsync0
    let burst: u16 = args.next().map_or(1, |a| a.parse().expect("BURST"));

    let a = engine(1);
    let t = Instant::now();
    let mut w = a.worker();
    let mut now = SEC;
    for i in 0..n {
        if i.is_multiple_of(100_000) {
            now += SEC;
        }
        flow(&a, &mut w, now, i);
    }
    drop(w);
    assert_eq!(a.state_count(), n as usize, "one state per flow on A");
    eprintln!("A filled with {n} states in {:.1?}", t.elapsed());

    let live_before_b = LIVE.load(Relaxed);
    let b = engine(2);
    let mut store_a = EngineStore::new(a.clone(), vec!["em0".into()]);
    let mut store_b = EngineStore::new(b.clone(), vec!["em0".into()]);
    let cfg = |creator| Config {
        mtu,
        bulk_burst: burst,
        state_limit: 2_000_000,
        ..Config::new(creator)
    };
    let mut ma = Pfsync::new(cfg(a.states().host_id())).expect("config");
    let mut mb = Pfsync::new(cfg(b.states().host_id())).expect("config");
    let rx = Rx {
        on_syncdev: true,
        ttl: 255,
    };
    // A has been up a while; B comes up with its link and asks.
    ma.up(now);
    ma.link_state(now, true);
    while ma.poll_transmit().is_some() {
        ma.transmit_result(true);
    }
    while ma.poll_event().is_some() {}
    let start_v = now;
    let wall = Instant::now();
    mb.up(now);
    mb.link_state(now, true);
    let (mut packets, mut bytes) = (0u64, 0u64);
    let done = 'run: loop {
        let mut moved = false;
        while let Some(p) = mb.poll_transmit() {
            mb.transmit_result(true);
            let _ = ma.handle_packet(now, &mut store_a, rx, &p);
            moved = true;
        }
        while let Some(p) = ma.poll_transmit() {
            ma.transmit_result(true);
            packets += 1;
            bytes += p.len() as u64;
            let _ = mb.handle_packet(now, &mut store_b, rx, &p);
            moved = true;
        }
        while ma.poll_event().is_some() {}
        while let Some(e) = mb.poll_event() {
            if let Event::BulkDone { ok } = e {
                break 'run ok;
            }
        }
        if !moved {
            let next = [ma.poll_timeout(), mb.poll_timeout()]
                .into_iter()
                .flatten()
                .min()
                .expect("a timer runs while the bulk goes on");
            now = now.max(next);
            for (m, s) in [(&mut ma, &mut store_a), (&mut mb, &mut store_b)] {
                if m.poll_timeout().is_some_and(|t| t <= now) {
                    m.handle_timeout(now, s);
                }
            }
        }
    };
    let wall = wall.elapsed();
    let virt = (now - start_v) as f64 / SEC as f64;
    let held = b.state_count();
    let b_bytes = LIVE.load(Relaxed).saturating_sub(live_before_b);
    println!("states on A: {n}; on B after the bulk: {held}; bulk done ok: {done}");
    println!(
        "pfsync packets A -> B: {packets} ({:.1} MB, MTU {mtu}, {:.1} states each)",
        bytes as f64 / 1e6,
        f64::from(n) / packets as f64
    );
    println!("bulk time at {burst} packet(s) per 20 ms (1: OpenBSD's pace; virtual): {virt:.1} s");
    println!(
        "bulk CPU time, both machines in one thread (wall, pacing skipped): {:.2} s ({:.0} states/s)",
        wall.as_secs_f64(),
        f64::from(n) / wall.as_secs_f64()
    );
    println!(
        "B's memory for the states, its machine and A's transient: {:.1} MB ({:.1} B/state)",
        b_bytes as f64 / 1e6,
        b_bytes as f64 / f64::from(n)
    );
    assert!(done && held == n as usize, "B holds every state");
}
