//! CARP: the frame decoder and the sans-IO machine it feeds, between two
//! hosts configured alike (so the peer's adverts pass authentication and
//! reach the state machine) with the input choosing what happens.
//!
//! Each record's flags: bits 0..=2 the event, bit 3 which interface or
//! carpdev, bits 4..=7 quarter seconds the virtual clock advances first.
//! Events: a raw frame into host A (`parse_frame`, then
//! `handle_advert`); a raw CARP payload into A; the peer's pending
//! adverts delivered to A with the record's bytes as their advskew,
//! demote and advbase (fields the HMAC does not cover, checksum fixed);
//! an administrative call on A or on the peer; A's sysctls. After each
//! record both hosts run their due timers, and what A sends goes to the
//! peer after a trip through `to_frame` and `parse_frame`, which must
//! give the same advert back.

use super::records::records;
use carp::auth::Key;
use carp::wire::{CarpPacket, HEADER_LEN};
use carp::{
    parse_frame, Balancing, CarpHost, CarpIfConfig, Carpnode, Family, Received, SendResult, State,
    Sysctl, Transmit,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const QUARTER: u64 = 250_000_000;
const GROUP4: IpAddr = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
const GROUP6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12));
const IFACES: [&str; 3] = ["carp1", "carp2", "carp3"];
const CARPDEVS: [&str; 2] = ["em0", "em1"];
/// Timer rounds per record: a deadline that does not move forward would
/// otherwise spin.
const MAX_TIMER_ROUNDS: usize = 64;

/// carp1: the ucarp lab (one vhid, one IPv4 address); carp2: two
/// carpnodes with IPv4 and IPv6 and `balancing ip`; carp3 on em1:
/// unicast to a `carppeer`, sub-second adverts.
fn configs(advskew: u8) -> Vec<CarpIfConfig> {
    let mut c1 = CarpIfConfig::new(
        "carp1",
        "em0",
        [2, 0, 0, 0, 0, 0x0d],
        1,
        Key::from_passphrase(b"lanpasswd"),
    );
    c1.nodes[0].advskew = advskew;
    c1.v4 = vec![Ipv4Addr::new(198, 51, 100, 100)];

    let mut c2 = CarpIfConfig::new(
        "carp2",
        "em0",
        [2, 0, 0, 0, 0, 0x0d],
        2,
        Key::from_passphrase(b"other"),
    );
    c2.nodes = vec![
        Carpnode { vhid: 2, advskew },
        Carpnode {
            vhid: 3,
            advskew: advskew.wrapping_add(100),
        },
    ];
    c2.v4 = vec![Ipv4Addr::new(198, 51, 100, 101)];
    c2.v6 = vec![
        "2001:db8::101".parse().expect("address"),
        "fe80::1:101".parse().expect("address"),
    ];
    c2.balancing = Balancing::Ip;
    c2.groups = vec!["lan".into()];

    let mut c3 = CarpIfConfig::new(
        "carp3",
        "em1",
        [2, 0, 0, 0, 0, 0x0e],
        4,
        Key::from_passphrase(b""),
    );
    c3.nodes[0].advskew = advskew;
    c3.advbase = 0;
    c3.v4 = vec![Ipv4Addr::new(192, 0, 2, 100)];
    c3.peer = Some(Ipv4Addr::new(192, 0, 2, 2));
    vec![c1, c2, c3]
}

fn host(seed: u64, advskew: u8) -> CarpHost {
    let sysctl = Sysctl {
        log: carp::sysctl::priority::DEBUG,
        ..Sysctl::default()
    };
    let mut h = CarpHost::new(sysctl, seed);
    for cfg in configs(advskew) {
        h.add_interface(0, cfg).expect("the fuzz carp interfaces");
    }
    h
}

/// The peer's address on `carpdev` for an advert of `family`.
fn src_of(carpdev: &str, family: Family) -> IpAddr {
    match (carpdev, family) {
        ("em1", Family::V4) => IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
        (_, Family::V4) => IpAddr::V4(Ipv4Addr::new(198, 51, 100, 11)),
        (_, Family::V6) => "fe80::11".parse().expect("address"),
    }
}

/// Run due timers and report sends; what `h` sends is returned.
fn step(h: &mut CarpHost, now: u64, send: SendResult) -> Vec<Transmit> {
    for _ in 0..MAX_TIMER_ROUNDS {
        match h.poll_timeout() {
            Some(t) if t <= now => h.handle_timeout(now),
            _ => break,
        }
    }
    let mut out = Vec::new();
    while let Some(tx) = h.poll_transmit() {
        h.report_send(now, &tx.ifname, tx.family, send);
        out.push(tx);
    }
    while let Some(ev) = h.poll_event() {
        // Log lines render as OpenBSD prints them.
        let _ = format!("{ev:?}");
    }
    out
}

/// `tx` as the wire carries it, read back: it must be the same advert.
fn on_the_wire(tx: &Transmit) {
    let src = src_of(&tx.carpdev, tx.family);
    let frame = tx
        .to_frame(src, 0x1234, Some([2, 0, 0, 0, 0, 0x0f]))
        .expect("our advert builds a frame");
    let rx = parse_frame(&tx.carpdev, &frame).expect("our frame parses");
    assert_eq!(
        rx.payload,
        &tx.payload[..],
        "the advert changed on the wire"
    );
    assert_eq!((rx.dst, rx.ttl), (tx.dst, tx.ttl));
}

fn deliver(h: &mut CarpHost, now: u64, tx: &Transmit, payload: &[u8]) {
    let rx = Received {
        carpdev: &tx.carpdev,
        src: src_of(&tx.carpdev, tx.family),
        dst: tx.dst,
        ttl: tx.ttl,
        payload,
    };
    h.handle_advert(now, &rx);
}

/// An administrative call chosen by `b` on `h`.
fn admin(h: &mut CarpHost, now: u64, sel: usize, b: &[u8]) {
    let name = IFACES[sel % IFACES.len()];
    let arg = |i: usize| b.get(i).copied().unwrap_or(0);
    let delta = i32::from(arg(2) as i8);
    // Errors (no such group, a demotion out of range) are answers.
    match arg(0) % 9 {
        0 => drop(h.force_state(now, name, State::Master)),
        1 => drop(h.force_state(now, name, State::Backup)),
        2 => drop(h.set_interface_up(now, name, arg(1) & 1 == 1)),
        3 => h.set_carpdev_link(now, CARPDEVS[sel % 2], arg(1) & 1 == 1),
        4 => drop(h.demote_interface(now, name, delta, "fuzz")),
        5 => h.demote_groups(now, name, &["carp", "lan"], delta, "fuzz"),
        6 => {
            let group = ["carp", "lan", "all"][usize::from(arg(1)) % 3];
            drop(h.set_group_demote(now, group, delta));
        }
        7 => {
            let mut cfg = configs(arg(1)).swap_remove(sel % IFACES.len());
            cfg.advbase = arg(2);
            drop(h.reconfigure(now, cfg));
        }
        _ => h.shutdown(now),
    }
}

pub fn carp(data: &[u8]) {
    let mut a = host(0x5eed, 0);
    let mut peer = host(0xfeed, 100);
    let mut now = 0u64;
    let mut from_peer: Vec<Transmit> = Vec::new();
    for rec in records(data) {
        now += u64::from(rec.flags >> 4) * QUARTER;
        let sel = usize::from(rec.flags >> 3 & 1);
        let b = rec.bytes;
        match rec.flags & 7 {
            0 => {
                if let Ok(rx) = parse_frame(CARPDEVS[sel], b) {
                    a.handle_advert(now, &rx);
                }
            }
            1 => {
                let rx = Received {
                    carpdev: CARPDEVS[sel],
                    src: src_of(CARPDEVS[sel], Family::V4),
                    dst: if b.first().is_some_and(|x| x & 1 == 1) {
                        GROUP6
                    } else {
                        GROUP4
                    },
                    ttl: 255,
                    payload: b.get(1..).unwrap_or_default(),
                };
                a.handle_advert(now, &rx);
            }
            2 => {
                for tx in std::mem::take(&mut from_peer) {
                    let mut payload = tx.payload;
                    let mut p = CarpPacket::new_unchecked(&mut payload[..]);
                    if let Some(&x) = b.first() {
                        p.set_advskew(x);
                    }
                    if let Some(&x) = b.get(1) {
                        p.set_demote(x);
                    }
                    if let Some(&x) = b.get(2) {
                        p.set_advbase(x);
                    }
                    p.fill_checksum();
                    deliver(&mut a, now, &tx, &payload[..HEADER_LEN]);
                }
            }
            3 | 4 => admin(&mut a, now, sel + usize::from(rec.flags & 1), b),
            5 => admin(&mut peer, now, sel, b),
            6 => {
                let x = b.first().copied().unwrap_or(0);
                a.set_sysctl(Sysctl {
                    allow: x & 1 == 0,
                    preempt: x & 2 == 2,
                    log: x >> 2 & 7,
                });
            }
            _ => {
                let failure = match b.first().copied().unwrap_or(0) % 3 {
                    0 => SendResult::NoBufs,
                    1 => SendResult::HostDown,
                    _ => SendResult::Failed(i32::from(b.get(1).copied().unwrap_or(5))),
                };
                step(&mut a, now, failure);
            }
        }
        for tx in step(&mut a, now, SendResult::Sent) {
            on_the_wire(&tx);
            deliver(&mut peer, now, &tx, &tx.payload);
        }
        let sent = step(&mut peer, now, SendResult::Sent);
        from_peer.extend(sent);
        // Bound what waits for delivery: a long run of timers alone.
        if from_peer.len() > 16 {
            from_peer.drain(..from_peer.len() - 16);
        }
        for i in a.interfaces() {
            let _ = i.status_lines();
        }
    }
}
