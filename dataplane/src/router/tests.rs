//! The router end to end on golden frames from scapy (`golden.rs`).

use super::golden::*;
use super::*;
use crate::pdesc::Pdesc;
use crate::wire::frame::{parse_frame, Link, Parsed};
use std::net::IpAddr;

const R0: [u8; 6] = [0x52, 0x54, 0, 0, 0, 1];
const R1: [u8; 6] = [0x52, 0x54, 0, 0, 0, 2];
const HA: [u8; 6] = [2, 0, 0, 0, 0, 0x0a];
const HB: [u8; 6] = [2, 0, 0, 0, 0, 0x0b];

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// em0 (1): 192.0.2.1/24, 2001:db8:1::1/64, MTU 1500; em1 (2):
/// 198.51.100.1/24, 2001:db8:2::1/64, MTU 1400; no default route.
pub(crate) fn router() -> Router {
    let mut ifs = Interfaces::new();
    ifs.add(Interface::new("em0", 1, R0, 1500).unwrap())
        .unwrap();
    ifs.add(Interface::new("em1", 2, R1, 1400).unwrap())
        .unwrap();
    ifs.add_addr(1, ip("192.0.2.1"), 24).unwrap();
    ifs.add_addr(1, ip("2001:db8:1::1"), 64).unwrap();
    ifs.add_addr(2, ip("198.51.100.1"), 24).unwrap();
    ifs.add_addr(2, ip("2001:db8:2::1"), 64).unwrap();
    Router::new(ifs, RouterConfig::default())
}

fn pd(frame: &[u8]) -> Pdesc {
    match parse_frame(frame, Link::Ethernet).unwrap() {
        Parsed::Ip(pd) => pd,
        Parsed::NonIp { .. } => panic!("not IP"),
    }
}

fn frames(tx: &[Tx]) -> Vec<(u32, &[u8])> {
    tx.iter().map(|t| (t.ifindex, &t.frame[..])).collect()
}

/// Both hosts known, as after ARP and ND.
fn learned(r: &mut Router) {
    for (i, a, m) in [
        (1, "192.0.2.10", HA),
        (1, "2001:db8:1::10", HA),
        (2, "198.51.100.20", HB),
        (2, "2001:db8:2::20", HB),
    ] {
        r.neighbors.learn(i, ip(a), m, Learn::Reachable, true, 0);
    }
}

#[test]
fn arp_request_for_us_is_answered_and_sender_learned() {
    let mut r = router();
    let tx = r.handle_local(&ARP_REQ_FOR_R0, 1, 0);
    assert_eq!(frames(&tx), vec![(1, &ARP_REPLY_FROM_R0[..])]);
    assert_eq!(
        r.neighbors.resolve(1, ip("192.0.2.10"), 1),
        Resolve::Known(HA)
    );
    assert_eq!(r.counters.count(Event::ArpReplied), 1);
    // on the wrong interface the address is not ours
    let tx = r.handle_local(&ARP_REQ_FOR_R0, 2, 0);
    assert!(tx.is_empty());
    assert_eq!(r.counters.dropped(Drop::NotForUs), 1);
}

#[test]
fn arp_claiming_our_address_is_refused() {
    let mut r = router();
    assert!(r.handle_local(&GARP_R0, 1, 0).is_empty());
    assert_eq!(r.counters.dropped(Drop::Looped), 1);
    let mut spoof = GARP_R0;
    spoof[6..12].copy_from_slice(&HA);
    spoof[22..28].copy_from_slice(&HA);
    assert!(r.handle_local(&spoof, 1, 0).is_empty());
    assert_eq!(r.counters.dropped(Drop::DuplicateAddress), 1);
}

#[test]
fn neighbor_solicitation_is_answered_and_sender_learned() {
    let mut r = router();
    let tx = r.handle_local(&NS_FOR_R0, 1, 0);
    assert_eq!(frames(&tx), vec![(1, &NA_FROM_R0[..])]);
    assert!(matches!(
        r.neighbors.state(1, ip("2001:db8:1::10")),
        Some(neighbor::State::Stale { mac: HA, .. })
    ));
    let tx = r.handle_local(&NS_DAD_R0, 1, 0);
    assert_eq!(frames(&tx), vec![(1, &NA_DAD_REPLY[..])]);
    // a corrupted checksum is dropped
    let mut bad = NS_FOR_R0;
    let n = bad.len();
    bad[n - 1] ^= 1;
    assert!(r.handle_local(&bad, 1, 0).is_empty());
    assert_eq!(r.counters.dropped(Drop::BadChecksum), 1);
}

#[test]
fn echo_requests_are_answered() {
    let mut r = router();
    learned(&mut r);
    let tx = r.handle_local(&ECHO4_TO_R0, 1, 0);
    assert_eq!(frames(&tx), vec![(1, &ECHO4_REPLY[..])]);
    let tx = r.handle_local(&ECHO6_TO_R0, 1, 0);
    assert_eq!(frames(&tx), vec![(1, &ECHO6_REPLY[..])]);
    assert_eq!(r.counters.count(Event::EchoReplied), 2);
}

#[test]
fn echo_reply_waits_for_arp_then_goes() {
    let mut r = router();
    let tx = r.handle_local(&ECHO4_TO_R0, 1, 0);
    // only the ARP request for the asker goes out
    assert_eq!(tx.len(), 1);
    assert_eq!(&tx[0].frame[12..14], &[0x08, 0x06]);
    let mut reply = ARP_REPLY_FROM_R0;
    // HA answers: swap roles in the golden reply
    reply[0..6].copy_from_slice(&R0);
    reply[6..12].copy_from_slice(&HA);
    reply[22..28].copy_from_slice(&HA);
    reply[28..32].copy_from_slice(&[192, 0, 2, 10]);
    reply[32..38].copy_from_slice(&R0);
    reply[38..42].copy_from_slice(&[192, 0, 2, 1]);
    let tx = r.handle_local(&reply, 1, 1);
    assert_eq!(frames(&tx), vec![(1, &ECHO4_REPLY[..])]);
    assert_eq!(r.counters.count(Event::Released), 1);
}

#[test]
fn forward_rewrites_ethernet_and_decrements_ttl() {
    let mut r = router();
    learned(&mut r);
    let f = r.forward(&UDP_FWD_IN, 1, &pd(&UDP_FWD_IN), 0);
    assert_eq!(f.outcome, Outcome::Sent { ifindex: 2 });
    assert_eq!(frames(&f.tx), vec![(2, &UDP_FWD_OUT[..])]);
    let f = r.forward(&UDP6_FWD_IN, 1, &pd(&UDP6_FWD_IN), 0);
    assert_eq!(frames(&f.tx), vec![(2, &UDP6_FWD_OUT[..])]);
    assert_eq!(r.counters.count(Event::Forwarded), 2);
}

#[test]
fn static_neighbor_releases_and_is_kept() {
    let mut r = router();
    let f = r.forward(&UDP_FWD_IN, 1, &pd(&UDP_FWD_IN), 0);
    assert_eq!(f.outcome, Outcome::Queued { ifindex: 2 });
    let tx = r.add_static_neighbor(2, ip("198.51.100.20"), HB, 1);
    assert_eq!(frames(&tx), vec![(2, &UDP_FWD_OUT[..])]);
    // an ARP reply from someone else does not move it
    let mut other = ARP_REPLY_HB;
    other[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 0x0c]);
    other[22..28].copy_from_slice(&[2, 0, 0, 0, 0, 0x0c]);
    r.handle_local(&other, 2, 2);
    let f = r.forward(&UDP_FWD_IN, 1, &pd(&UDP_FWD_IN), 3);
    assert_eq!(frames(&f.tx), vec![(2, &UDP_FWD_OUT[..])]);
}

#[test]
fn forward_resolves_next_hop_and_releases() {
    let mut r = router();
    let f = r.forward(&UDP_FWD_IN, 1, &pd(&UDP_FWD_IN), 0);
    assert_eq!(f.outcome, Outcome::Queued { ifindex: 2 });
    assert_eq!(frames(&f.tx), vec![(2, &ARP_REQ_FROM_R1[..])]);
    let tx = r.handle_local(&ARP_REPLY_HB, 2, 5);
    assert_eq!(frames(&tx), vec![(2, &UDP_FWD_OUT[..])]);
    let f = r.forward(&UDP6_FWD_IN, 1, &pd(&UDP6_FWD_IN), 0);
    assert_eq!(f.outcome, Outcome::Queued { ifindex: 2 });
    assert_eq!(frames(&f.tx), vec![(2, &NS_FROM_R1[..])]);
    let tx = r.handle_local(&NA_FROM_HB, 2, 5);
    assert_eq!(frames(&tx), vec![(2, &UDP6_FWD_OUT[..])]);
}

#[test]
fn unanswered_resolution_gives_host_unreachable() {
    let mut r = router();
    learned(&mut r);
    r.neighbors.remove(2, ip("198.51.100.20"));
    r.forward(&UDP_FWD_IN, 1, &pd(&UDP_FWD_IN), 0);
    for s in 1..=6 {
        r.poll(s * 1_000_000_000);
    }
    assert_eq!(r.counters.dropped(Drop::PendingExpired), 1);
    let f = r.forward(&UDP_FWD_IN, 1, &pd(&UDP_FWD_IN), 7_000_000_000);
    assert_eq!(f.outcome, Outcome::Dropped(Drop::HostUnreach));
    // the error goes back to the sender: ICMP unreachable, code host
    assert_eq!(f.tx.len(), 1);
    let e = &f.tx[0].frame;
    assert_eq!((e[14 + 20], e[14 + 21]), (3, 1));
}

#[test]
fn ttl_one_gets_time_exceeded_quoting_the_original() {
    let mut r = router();
    learned(&mut r);
    let f = r.forward(&UDP_TTL1, 1, &pd(&UDP_TTL1), 0);
    assert_eq!(f.outcome, Outcome::Dropped(Drop::TtlExceeded));
    assert_eq!(frames(&f.tx), vec![(1, &TIMXCEED_REPLY[..])]);
    let f = r.forward(&UDP6_HLIM1, 1, &pd(&UDP6_HLIM1), 0);
    assert_eq!(f.outcome, Outcome::Dropped(Drop::TtlExceeded));
    assert_eq!(frames(&f.tx), vec![(1, &TIMXCEED6_REPLY[..])]);
}

#[test]
fn too_big_df_gets_needs_frag_and_v6_packet_too_big() {
    let mut r = router();
    learned(&mut r);
    let f = r.forward(&UDP_BIG_DF, 1, &pd(&UDP_BIG_DF), 0);
    assert_eq!(f.outcome, Outcome::Dropped(Drop::NeedFrag));
    assert_eq!(frames(&f.tx), vec![(1, &NEEDFRAG_REPLY[..])]);
    let f = r.forward(&UDP6_BIG, 1, &pd(&UDP6_BIG), 0);
    assert_eq!(f.outcome, Outcome::Dropped(Drop::TooBig));
    assert_eq!(frames(&f.tx), vec![(1, &TOOBIG_REPLY[..])]);
}

#[test]
fn too_big_without_df_is_fragmented() {
    let mut r = router();
    learned(&mut r);
    let f = r.forward(&UDP_BIG, 1, &pd(&UDP_BIG), 0);
    assert_eq!(f.outcome, Outcome::Sent { ifindex: 2 });
    assert_eq!(
        frames(&f.tx),
        vec![(2, &UDP_BIG_FRAG0[..]), (2, &UDP_BIG_FRAG1[..])]
    );
    assert_eq!(r.counters.count(Event::FragmentsMade), 2);
}

#[test]
fn no_route_gets_host_unreachable_then_default_route_works() {
    let mut r = router();
    learned(&mut r);
    let f = r.forward(&UDP6_HLIM1, 1, &pd(&UDP6_HLIM1), 0);
    assert_eq!(f.outcome, Outcome::Dropped(Drop::TtlExceeded));
    let mut p = UDP_TTL1;
    p[14 + 8] = 64; // TTL 64
    let mut pdesc = pd(&p);
    // fix the header checksum for the new TTL
    let mut v = p.to_vec();
    crate::wire::ipv4::Ipv4Packet::new_unchecked(&mut v[14..]).fill_checksum();
    pdesc.ttl = 64;
    let f = r.forward(&v, 1, &pdesc, 0);
    assert_eq!(f.outcome, Outcome::Dropped(Drop::NoRoute));
    assert_eq!(f.tx.len(), 1);
    let e = &f.tx[0].frame;
    // OpenBSD's ip_forward: ICMP_UNREACH_HOST for a missing route
    assert_eq!((e[14 + 20], e[14 + 21]), (3, 1));
    assert_eq!(Drop::NoRoute.reason(), crate::reason::Reason::NoRoute);
    let ifs = r.ifaces.clone();
    r.routes
        .set_default(ip("198.51.100.20"), None, &ifs)
        .unwrap();
    let f = r.forward(&v, 1, &pdesc, 0);
    assert_eq!(f.outcome, Outcome::Sent { ifindex: 2 });
    assert_eq!(&f.tx[0].frame[0..6], &HB);
}

#[test]
fn not_forwarded() {
    let mut r = router();
    learned(&mut r);
    // to us
    let f = r.forward(&ECHO4_TO_R0, 1, &pd(&ECHO4_TO_R0), 0);
    assert_eq!(f.outcome, Outcome::Dropped(Drop::LocalUnhandled));
    // a directed broadcast
    let mut v = UDP_FWD_IN.to_vec();
    v[14 + 19] = 255;
    crate::wire::ipv4::Ipv4Packet::new_unchecked(&mut v[14..]).fill_checksum();
    let f = r.forward(&v, 1, &pd(&v), 0);
    assert_eq!(f.outcome, Outcome::Dropped(Drop::Martian));
    // a corrupted header checksum
    let mut v = UDP_FWD_IN.to_vec();
    v[14 + 10] ^= 0xff;
    let f = r.forward(&v, 1, &pd(&v), 0);
    assert_eq!(f.outcome, Outcome::Dropped(Drop::BadChecksum));
    assert!(f.tx.is_empty());
    // a frame for another station, seen in promiscuous mode
    let mut v = UDP_FWD_IN.to_vec();
    v[5] = 0x99;
    let f = r.forward(&v, 1, &pd(&v), 0);
    assert_eq!(f.outcome, Outcome::Dropped(Drop::NotForUs));
    assert!(r.handle_local(&v, 1, 0).is_empty());
    let mut e = ECHO4_TO_R0.to_vec();
    e[5] = 0x99;
    assert!(r.handle_local(&e, 1, 0).is_empty());
    // link broadcast
    v[0..6].copy_from_slice(&[0xff; 6]);
    let f = r.forward(&v, 1, &pd(&v), 0);
    assert_eq!(f.outcome, Outcome::Dropped(Drop::Martian));
}

#[test]
fn icmp_errors_are_rate_limited() {
    let mut r = Router::new(
        router().ifaces,
        RouterConfig {
            icmp_errors_per_sec: 2,
            ..RouterConfig::default()
        },
    );
    learned(&mut r);
    let p = pd(&UDP_TTL1);
    let sent: usize = (0..5)
        .map(|_| r.forward(&UDP_TTL1, 1, &p, 0).tx.len())
        .sum();
    assert_eq!(sent, 2);
    assert_eq!(r.counters.count(Event::IcmpErrorRateLimited), 3);
    assert_eq!(r.forward(&UDP_TTL1, 1, &p, 1_000_000_000).tx.len(), 1);
    assert_eq!(r.counters.dropped(Drop::TtlExceeded), 6);
}

#[test]
fn announcements() {
    let mut r = router();
    let tx = r.announce_all(1);
    assert_eq!(tx.len(), 3);
    assert_eq!(&tx[0].frame[..], &GARP_R0[..]);
    // the NA for the global address has override and no solicited flag
    let na = &tx[2].frame;
    let pd = pd(na);
    assert!(crate::wire::frame::verify_l4_checksum(na, &pd));
    assert_eq!(na[14 + 40], 136);
    assert_eq!(na[14 + 44], 0xa0);
    // a CARP virtual MAC
    let v = r
        .announce(1, ip("192.0.2.1"), [0, 0, 0x5e, 0, 1, 7])
        .unwrap();
    assert_eq!(&v.frame[6..12], &[0, 0, 0x5e, 0, 1, 7]);
    assert!(r.announce(9, ip("192.0.2.1"), R0).is_none());
}

#[test]
fn is_local_scopes_link_local() {
    let r = router();
    let ll0 = IpAddr::V6(r.ifaces.get(1).unwrap().link_local);
    assert!(r.is_local(1, ll0));
    assert!(!r.is_local(2, ll0));
    assert!(r.is_local(2, ip("192.0.2.1")));
    assert!(r.is_local(1, ip("ff02::1")));
    assert!(r.is_local(1, ip("ff02::1:ff00:1")));
    assert!(!r.is_local(1, ip("ff02::1:ff00:9")));
    assert!(!r.is_local(7, ip("192.0.2.1")));
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    fn mutate(base: &[u8], edits: &[(usize, u8)], cut: usize) -> Vec<u8> {
        let mut v = base.to_vec();
        for &(i, b) in edits {
            if !v.is_empty() {
                let n = v.len();
                v[i % n] = b;
            }
        }
        v.truncate(cut.min(v.len()));
        v
    }

    const BASES: [&[u8]; 13] = [
        &ARP_REQ_FOR_R0,
        &ARP_REPLY_HB,
        &NS_FOR_R0,
        &NA_FROM_HB,
        &ECHO4_TO_R0,
        &ECHO6_TO_R0,
        &UDP_TTL1,
        &UDP_BIG,
        &UDP6_BIG,
        &UDP_FWD_IN,
        &MLD_QUERY,
        &SYN_TO_R0,
        &UDP6_TO_R0,
    ];

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_frames(data in proptest::collection::vec(any::<u8>(), 0..200), ifindex in 0u32..4, now: u64) {
            let mut r = router();
            let _ = r.handle_local(&data, ifindex, now);
            if let Ok(Parsed::Ip(pd)) = parse_frame(&data, Link::Ethernet) {
                let _ = r.forward(&data, ifindex, &pd, now);
            }
            let _ = r.poll(now);
        }

        #[test]
        fn never_panics_on_mutated_golden_frames(which in 0usize..BASES.len(), edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
                                                 cut in 0usize..2000, ifindex in 0u32..4, now in 0u64..100_000_000_000, learn: bool) {
            let mut r = router();
            if learn {
                learned(&mut r);
            }
            let f = mutate(BASES[which], &edits, cut);
            let _ = r.handle_local(&f, ifindex, now);
            if let Ok(Parsed::Ip(pd)) = parse_frame(&f, Link::Ethernet) {
                let _ = r.forward(&f, ifindex, &pd, now);
                // a descriptor that disagrees with the bytes must not
                // panic either
                let mut odd = pd;
                odd.ttl = 200;
                odd.ip_len = odd.ip_len.wrapping_add(40);
                let _ = r.forward(&f, ifindex, &odd, now);
            }
            let _ = r.poll(now + 60_000_000_000);
        }

        /// One router through a run of frames, with time moving on:
        /// queues, timers and the cache never panic and stay bounded.
        #[test]
        fn stateful_run_never_panics(steps in proptest::collection::vec(
                (0usize..BASES.len(), proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4), 0usize..2000, 0u32..3, 0u64..3_000_000_000), 1..40)) {
            let mut r = Router::new(router().ifaces, RouterConfig {
                neighbor: NeighborConfig { max_entries: 4, queue_len: 2, held_total: 5, ..NeighborConfig::default() },
                ..RouterConfig::default()
            });
            let ifs = r.ifaces.clone();
            r.routes.set_default(ip("198.51.100.254"), None, &ifs).unwrap();
            let mut now = 0u64;
            for (which, edits, cut, ifindex, dt) in steps {
                now += dt;
                let f = mutate(BASES[which], &edits, cut);
                let _ = r.handle_local(&f, ifindex, now);
                if let Ok(Parsed::Ip(pd)) = parse_frame(&f, Link::Ethernet) {
                    let _ = r.forward(&f, ifindex, &pd, now);
                }
                let _ = r.poll(now);
                prop_assert!(r.neighbors.len() <= 4);
                prop_assert_eq!(r.neighbors.held(), r.neighbors.recount_held());
                prop_assert!(r.neighbors.held() <= r.neighbors.cfg.held_total);
            }
        }

        /// The in-place path sends exactly what the copying one does.
        #[test]
        fn in_place_matches_copy(which in 0usize..BASES.len(), edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
                                 cut in 0usize..2000, ifindex in 1u32..3, learn: bool, pad in 0usize..20) {
            let mut r = router();
            if learn {
                learned(&mut r);
            }
            let mut f = mutate(BASES[which], &edits, cut);
            f.resize(f.len() + pad, 0);
            if let Ok(Parsed::Ip(pd)) = parse_frame(&f, Link::Ethernet) {
                let mut r2 = r.clone();
                let copy = r.forward(&f, ifindex, &pd, 5);
                let mut buf = f.clone();
                let mut tx = Vec::new();
                match r2.forward_in_place(&mut buf, ifindex, &pd, 5, &mut tx) {
                    InPlace::Send { ifindex: out } => {
                        prop_assert_eq!(copy.outcome, Outcome::Sent { ifindex: out });
                        tx.push(Tx { ifindex: out, frame: buf, kind: TxKind::Forwarded });
                        prop_assert_eq!(copy.tx, tx);
                    }
                    InPlace::Consumed(o) => {
                        prop_assert_eq!(copy.outcome, o);
                        prop_assert_eq!(copy.tx, tx);
                    }
                }
                prop_assert_eq!(r.counters.clone(), r2.counters.clone());
                prop_assert_eq!(r.neighbors.held(), r2.neighbors.held());
            }
        }

        /// The incremental TTL checksum update agrees with a full
        /// recomputation, and nothing but TTL and checksum changes.
        #[test]
        fn ttl_decrement_keeps_the_header_checksum(ttl in 2u8..=255, ident: u16, tos: u8, df: bool,
                                                   host in 2u8..=254, payload in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = router();
            learned(&mut r);
            r.neighbors.learn(2, ip(&format!("198.51.100.{host}")), HB, Learn::Reachable, true, 0);
            let ipr = crate::wire::ipv4::Ipv4Repr {
                src: [192, 0, 2, 10].into(),
                dst: [198, 51, 100, host].into(),
                protocol: 253,
                tos,
                ttl,
                ident,
                dont_frag: df,
                more_frags: false,
                frag_offset: 0,
                payload_len: payload.len() as u16,
                options: crate::wire::ipv4::Ipv4Options::default(),
            };
            let mut ipb = vec![0u8; ipr.buffer_len()];
            ipr.emit(&mut ipb);
            ipb[20..].copy_from_slice(&payload);
            let f = crate::wire::build::ethernet_wrap(&ipb, HA, R0, None);
            let out = r.forward(&f, 1, &pd(&f), 0);
            prop_assert_eq!(out.outcome, Outcome::Sent { ifindex: 2 });
            let o = &out.tx[0].frame[14..];
            let mut want = ipb.clone();
            want[8] = ttl - 1;
            crate::wire::ipv4::Ipv4Packet::new_unchecked(&mut want[..]).fill_checksum();
            prop_assert_eq!(o, &want[..]);
        }
    }
}

/// An error about a packet from a remote network goes back through the
/// gateway, from the address of the interface facing it: for IPv6 a
/// global address, never the link-local one.
#[test]
fn icmp_error_to_remote_sender_uses_the_return_route() {
    let mut r = router();
    learned(&mut r);
    let ifs = r.ifaces.clone();
    r.routes
        .set_default(ip("198.51.100.20"), None, &ifs)
        .unwrap();
    r.routes
        .set_default(ip("2001:db8:2::20"), None, &ifs)
        .unwrap();
    // UDP_TTL1 / UDP6_HLIM1 with a remote source, arriving on em1
    let mut v4 = UDP_TTL1.to_vec();
    v4[0..6].copy_from_slice(&R1);
    v4[6..12].copy_from_slice(&HB);
    v4[14 + 12..14 + 16].copy_from_slice(&[203, 0, 113, 9]);
    crate::wire::ipv4::Ipv4Packet::new_unchecked(&mut v4[14..]).fill_checksum();
    let f = r.forward(&v4, 2, &pd(&v4), 0);
    assert_eq!(f.outcome, Outcome::Dropped(Drop::TtlExceeded));
    assert_eq!(f.tx.len(), 1);
    let e = &f.tx[0].frame;
    assert_eq!(f.tx[0].ifindex, 2);
    assert_eq!(&e[0..6], &HB);
    assert_eq!(&e[14 + 12..14 + 20], &[198, 51, 100, 1, 203, 0, 113, 9]);
    let mut v6 = UDP6_HLIM1.to_vec();
    v6[0..6].copy_from_slice(&R1);
    v6[6..12].copy_from_slice(&HB);
    let remote: std::net::Ipv6Addr = "2001:db8:77::5".parse().unwrap();
    v6[14 + 8..14 + 24].copy_from_slice(&remote.octets());
    let f = r.forward(&v6, 2, &pd(&v6), 0);
    assert_eq!(f.outcome, Outcome::Dropped(Drop::TtlExceeded));
    let e = &f.tx[0].frame;
    let src: std::net::Ipv6Addr = "2001:db8:2::1".parse().unwrap();
    assert_eq!(&e[14 + 8..14 + 24], &src.octets());
    assert_eq!(&e[14 + 24..14 + 40], &remote.octets());
    let epd = pd(e);
    assert!(crate::wire::frame::verify_l4_checksum(e, &epd));
}

/// Cost of the forwarding path, printed; run with
/// `cargo test --release -p dataplane router::tests::forward_cost -- --ignored --nocapture`.
#[test]
#[ignore]
fn forward_cost() {
    let mut r = router();
    learned(&mut r);
    let ifs = r.ifaces.clone();
    r.routes
        .set_default(ip("198.51.100.20"), None, &ifs)
        .unwrap();
    for i in 0..20u8 {
        r.routes
            .add_static(ip(&format!("10.{i}.0.0")), 16, ip("192.0.2.10"), None, &ifs)
            .unwrap();
    }
    let (p4, p6) = (pd(&UDP_FWD_IN), pd(&UDP6_FWD_IN));
    let n = 2_000_000u64;
    for (name, frame, p) in [("v4", &UDP_FWD_IN[..], &p4), ("v6", &UDP6_FWD_IN[..], &p6)] {
        let t = std::time::Instant::now();
        let mut bytes = 0usize;
        let mut tx = Vec::with_capacity(4);
        for i in 0..n {
            r.forward_into(frame, 1, p, i, &mut tx);
            bytes += tx.len();
            tx.clear();
        }
        let ns = t.elapsed().as_nanos() as f64 / n as f64;
        println!("forward {name}: {ns:.1} ns/packet ({bytes} frames)");
    }
    // in place: the frame is refilled each time as a receive ring would
    let mut buf = Vec::with_capacity(2048);
    let mut tx = Vec::with_capacity(4);
    for (name, frame, p) in [("v4", &UDP_FWD_IN[..], &p4), ("v6", &UDP6_FWD_IN[..], &p6)] {
        let t = std::time::Instant::now();
        let mut sent = 0usize;
        for i in 0..n {
            buf.clear();
            buf.extend_from_slice(frame);
            if let InPlace::Send { .. } = r.forward_in_place(&mut buf, 1, p, i, &mut tx) {
                sent += 1;
            }
            tx.clear();
        }
        let ns = t.elapsed().as_nanos() as f64 / n as f64;
        println!("forward_in_place {name}: {ns:.1} ns/packet ({sent} sent)");
    }
    let t = std::time::Instant::now();
    let mut hits = 0usize;
    for i in 0..n {
        let d = (i as u32).wrapping_mul(2654435761) | 0x0a00_0000;
        hits += usize::from(
            r.routes
                .lookup(ruleset::addr::Af::Inet, u128::from(d) << 96)
                .is_some(),
        );
    }
    let ns = t.elapsed().as_nanos() as f64 / n as f64;
    println!("route lookup v4 (23 routes, 3 prefix lengths): {ns:.1} ns ({hits} hits)");
}

const VMAC: [u8; 6] = [0, 0, 0x5e, 0, 1, 1];

fn carp_router() -> Router {
    let mut r = router();
    r.add_vip(1, ip("192.0.2.254"), 24, VMAC).unwrap();
    r.add_vip(1, ip("2001:db8:1::fe"), 64, VMAC).unwrap();
    r
}

#[test]
fn carp_backup_stays_silent() {
    let mut r = carp_router();
    learned(&mut r);
    assert!(r.handle_local(&ARP_REQ_FOR_VIP, 1, 0).is_empty());
    assert!(r.handle_local(&NS_FOR_VIP, 1, 0).is_empty());
    assert!(!r.is_local(1, ip("192.0.2.254")));
    // frames to the virtual MAC are not ours
    assert!(r.handle_local(&ECHO4_TO_VIP, 1, 0).is_empty());
    let f = r.forward(&ECHO4_TO_VIP, 1, &pd(&ECHO4_TO_VIP), 0);
    assert_eq!(f.outcome, Outcome::Dropped(Drop::NotForUs));
    // the address is taken, and is not a usable gateway
    assert!(r.add_vip(2, ip("192.0.2.254"), 24, VMAC).is_err());
    let ifs = r.ifaces.clone();
    assert!(r
        .routes
        .add_static(ip("10.0.0.0"), 8, ip("192.0.2.254"), None, &ifs)
        .is_err());
}

#[test]
fn carp_master_answers_with_the_virtual_mac() {
    let mut r = carp_router();
    learned(&mut r);
    let tx = r.set_vip_master(1, ip("192.0.2.254"), true).unwrap();
    assert_eq!(frames(&tx), vec![(1, &GARP_VIP[..])]);
    let tx = r.set_vip_master(1, ip("2001:db8:1::fe"), true).unwrap();
    // the NA, and the MLD join of the address's solicited-node group
    assert_eq!(
        frames(&tx),
        vec![(1, &UNSOL_NA_VIP[..]), (1, &MLD_VIP_JOIN[..])]
    );
    // no second announcement without a change
    assert!(r
        .set_vip_master(1, ip("192.0.2.254"), true)
        .unwrap()
        .is_empty());
    let tx = r.handle_local(&ARP_REQ_FOR_VIP, 1, 0);
    assert_eq!(frames(&tx), vec![(1, &ARP_REPLY_FROM_VIP[..])]);
    let tx = r.handle_local(&NS_FOR_VIP, 1, 0);
    assert_eq!(frames(&tx), vec![(1, &NA_FROM_VIP[..])]);
    assert!(r.is_local(1, ip("192.0.2.254")));
    let tx = r.handle_local(&ECHO4_TO_VIP, 1, 0);
    assert_eq!(frames(&tx), vec![(1, &ECHO4_REPLY_VIP[..])]);
    // traffic to the virtual MAC is routed
    let mut v = UDP_FWD_IN.to_vec();
    v[0..6].copy_from_slice(&VMAC);
    let f = r.forward(&v, 1, &pd(&v), 0);
    assert_eq!(frames(&f.tx), vec![(2, &UDP_FWD_OUT[..])]);
    // our own announcement coming back, or the peer's, is no conflict
    r.handle_local(&GARP_VIP, 1, 0);
    assert_eq!(r.counters.dropped(Drop::DuplicateAddress), 0);
    // back to backup
    assert!(r
        .set_vip_master(1, ip("192.0.2.254"), false)
        .unwrap()
        .is_empty());
    assert!(r.handle_local(&ARP_REQ_FOR_VIP, 1, 0).is_empty());
    assert!(r.set_vip_master(1, ip("192.0.2.9"), true).is_err());
}

#[test]
fn hairpin_is_forwarded_with_a_host_redirect() {
    let mut r = router();
    learned(&mut r);
    let hc = [2, 0, 0, 0, 0, 0x0c];
    r.neighbors
        .learn(1, ip("192.0.2.2"), hc, Learn::Reachable, true, 0);
    let ifs = r.ifaces.clone();
    r.routes
        .add_static(ip("10.5.0.0"), 16, ip("192.0.2.2"), None, &ifs)
        .unwrap();
    let f = r.forward(&HAIRPIN_IN, 1, &pd(&HAIRPIN_IN), 0);
    assert_eq!(f.outcome, Outcome::Sent { ifindex: 1 });
    // the redirect is decided with the route, before pf outbound
    assert_eq!(
        frames(&f.tx),
        vec![(1, &REDIRECT_REPLY[..]), (1, &HAIRPIN_OUT[..])]
    );
    assert_eq!(r.counters.count(Event::RedirectSent), 1);
    // not by the default route, nor when turned off
    r.routes.remove(ip("10.5.0.0"), 16);
    r.routes.set_default(ip("192.0.2.2"), None, &ifs).unwrap();
    let f = r.forward(&HAIRPIN_IN, 1, &pd(&HAIRPIN_IN), 0);
    assert_eq!(frames(&f.tx), vec![(1, &HAIRPIN_OUT[..])]);
    let mut r2 = Router::new(
        ifs.clone(),
        RouterConfig {
            send_redirects: false,
            ..RouterConfig::default()
        },
    );
    learned(&mut r2);
    r2.neighbors
        .learn(1, ip("192.0.2.2"), hc, Learn::Reachable, true, 0);
    r2.routes
        .add_static(ip("10.5.0.0"), 16, ip("192.0.2.2"), None, &ifs)
        .unwrap();
    let f = r2.forward(&HAIRPIN_IN, 1, &pd(&HAIRPIN_IN), 0);
    assert_eq!(frames(&f.tx), vec![(1, &HAIRPIN_OUT[..])]);
}

#[test]
fn link_local_echo_is_answered_on_its_link() {
    let mut r = router();
    r.neighbors
        .learn(1, ip("fe80::a"), HA, Learn::Reachable, true, 0);
    let tx = r.handle_local(&ECHO6_LL, 1, 0);
    assert_eq!(frames(&tx), vec![(1, &ECHO6_LL_REPLY[..])]);
    // R0's link-local address is not R1's: on em1 it is not ours
    let mut v = ECHO6_LL.to_vec();
    v[0..6].copy_from_slice(&R1);
    assert!(r.handle_local(&v, 2, 0).is_empty());
    assert_eq!(r.counters.dropped(Drop::NotForUs), 1);
}

#[test]
fn neighbours_that_move() {
    let mut r = router();
    learned(&mut r);
    let moved = [2, 0, 0, 0, 0, 0xbb];
    // without override a different address only makes the entry stale
    r.handle_local(&NA_HB_MOVED_NO_O, 2, 1);
    assert!(matches!(
        r.neighbors.state(2, ip("2001:db8:2::20")),
        Some(neighbor::State::Stale { mac: HB, .. })
    ));
    r.handle_local(&NA_HB_MOVED_O, 2, 2);
    assert!(matches!(
        r.neighbors.state(2, ip("2001:db8:2::20")),
        Some(neighbor::State::Stale { mac, .. }) if *mac == moved
    ));
    // a gratuitous ARP updates a known neighbour
    r.handle_local(&GARP_HB_MOVED, 2, 3);
    assert_eq!(
        r.neighbors.resolve(2, ip("198.51.100.20"), 4),
        Resolve::Known(moved)
    );
    // but adds no unknown one
    r.neighbors.remove(2, ip("198.51.100.20"));
    r.handle_local(&GARP_HB_MOVED, 2, 5);
    assert_eq!(r.neighbors.state(2, ip("198.51.100.20")), None);
    // an NA for a neighbour we never asked about is ignored
    r.neighbors.remove(2, ip("2001:db8:2::20"));
    r.handle_local(&NA_HB_MOVED_O, 2, 6);
    assert_eq!(r.neighbors.state(2, ip("2001:db8:2::20")), None);
}

#[test]
fn vlan_interface_tags_its_frames() {
    let mut ifs = router().ifaces;
    let mut v = Interface::new("vlan42", 3, [0x52, 0x54, 0, 0, 0, 3], 1500).unwrap();
    v.vlan = Some(42);
    ifs.add(v).unwrap();
    ifs.add_addr(3, ip("203.0.113.1"), 24).unwrap();
    let mut r = Router::new(ifs, RouterConfig::default());
    learned(&mut r);
    let mut p = UDP_FWD_IN.to_vec();
    p[14 + 16..14 + 20].copy_from_slice(&[203, 0, 113, 7]);
    crate::wire::ipv4::Ipv4Packet::new_unchecked(&mut p[14..]).fill_checksum();
    let f = r.forward(&p, 1, &pd(&p), 0);
    assert_eq!(f.outcome, Outcome::Queued { ifindex: 3 });
    // the ARP request goes out tagged
    let e = crate::wire::ethernet::EthernetFrame::new_checked(&f.tx[0].frame[..]).unwrap();
    assert_eq!(e.vlan_id(), Some(42));
    assert_eq!(e.ethertype(), crate::wire::ethernet::ethertype::ARP);
}

#[test]
fn broadcast_echo_is_not_answered() {
    let mut r = router();
    learned(&mut r);
    let mut v = ECHO4_TO_R0.to_vec();
    v[0..6].copy_from_slice(&[0xff; 6]);
    v[14 + 19] = 255;
    crate::wire::ipv4::Ipv4Packet::new_unchecked(&mut v[14..]).fill_checksum();
    assert!(r.handle_local(&v, 1, 0).is_empty());
    assert!(!r.is_local(1, ip("192.0.2.255")));
}

#[test]
fn route_to_overrides_the_table() {
    let mut r = router();
    learned(&mut r);
    let hc = [2, 0, 0, 0, 0, 0x0c];
    r.neighbors
        .learn(1, ip("192.0.2.2"), hc, Learn::Reachable, true, 0);
    // UDP_FWD_IN would go out em1 to HB; route-to sends it to 192.0.2.2
    let hop = NextHop {
        ifindex: 1,
        gateway: Some(ip("192.0.2.2")),
    };
    let mut tx = Vec::new();
    let o = r.forward_via(&UDP_FWD_IN, 1, &pd(&UDP_FWD_IN), hop, 0, &mut tx);
    assert_eq!(o, Outcome::Sent { ifindex: 1 });
    // forwarded, no redirect
    assert_eq!(tx.len(), 1);
    assert_eq!(&tx[0].frame[0..6], &hc);
    assert_eq!(&tx[0].frame[6..12], &R0);
    assert_eq!(&tx[0].frame[12..], &UDP_FWD_OUT[12..]);
}

#[test]
fn addresses_are_read_from_the_translated_packet() {
    let mut r = router();
    learned(&mut r);
    // pf rewrote the destination (rdr-to) after the descriptor was made
    let pd0 = pd(&UDP_FWD_IN);
    let mut v = UDP_FWD_IN.to_vec();
    let mut p = crate::wire::ipv4::Ipv4Packet::new_unchecked(&mut v[14..]);
    p.set_dst_addr([192, 0, 2, 10].into());
    p.fill_checksum();
    let f = r.forward(&v, 1, &pd0, 0);
    assert_eq!(f.outcome, Outcome::Sent { ifindex: 1 });
    assert_eq!(&f.tx[0].frame[0..6], &HA);
}

/// The daemon's split: route, pf outbound on the whole packet (here a
/// source translation), then transmit, which fragments.
#[test]
fn route_then_pf_out_then_transmit() {
    let mut r = router();
    learned(&mut r);
    let mut tx = Vec::new();
    let mut routed = r
        .route(&UDP_BIG, 1, &pd(&UDP_BIG), None, 0, &mut tx)
        .unwrap();
    assert!(tx.is_empty());
    // not fragmented yet: pf sees the whole packet
    assert_eq!(routed.frame.len(), UDP_BIG.len());
    assert_eq!(routed.hop.ifindex, 2);
    // "nat-to 198.51.100.1" by pf outbound
    let mut p = crate::wire::ipv4::Ipv4Packet::new_unchecked(&mut routed.frame[14..]);
    p.set_src_addr([198, 51, 100, 1].into());
    p.fill_checksum();
    let o = r.transmit(routed, 0, &mut tx);
    assert_eq!(o, Outcome::Sent { ifindex: 2 });
    assert_eq!(tx.len(), 2);
    for t in &tx {
        let q = crate::wire::ipv4::Ipv4Packet::new_checked(&t.frame[14..]).unwrap();
        assert_eq!(q.src_addr(), std::net::Ipv4Addr::new(198, 51, 100, 1));
        assert!(q.verify_checksum());
        assert!(t.frame.len() <= 14 + 1400);
    }
    // pf outbound route-to to another interface: the frame is re-made
    let mut tx = Vec::new();
    let mut routed = r
        .route(&UDP_FWD_IN, 1, &pd(&UDP_FWD_IN), None, 0, &mut tx)
        .unwrap();
    routed.hop = NextHop {
        ifindex: 1,
        gateway: Some(ip("192.0.2.10")),
    };
    assert_eq!(r.transmit(routed, 0, &mut tx), Outcome::Sent { ifindex: 1 });
    assert_eq!(&tx[0].frame[0..12], &[HA, R0].concat()[..]);
    assert_eq!(r.counters.count(Event::Forwarded), 2);
}

/// Each frame says whether pf outbound still has to see it, also after
/// waiting for a neighbour.
#[test]
fn tx_kinds() {
    let mut r = router();
    let kinds = |tx: &[Tx]| tx.iter().map(|t| t.kind).collect::<Vec<_>>();
    // an echo reply waits for ARP: the request is Arp ...
    let tx = r.handle_local(&ECHO4_TO_R0, 1, 0);
    assert_eq!(kinds(&tx), vec![TxKind::Arp]);
    // ... and the reply, released by the ARP request of the asker, is
    // still the router's own
    let tx = r.handle_local(&ARP_REQ_FOR_R0, 1, 1);
    assert_eq!(kinds(&tx), vec![TxKind::Originated, TxKind::Arp]);
    assert_eq!(&tx[0].frame[..], &ECHO4_REPLY[..]);
    // a forwarded packet waiting for an NA
    let f = r.forward(&UDP6_FWD_IN, 1, &pd(&UDP6_FWD_IN), 0);
    assert_eq!(kinds(&f.tx), vec![TxKind::Originated]);
    let tx = r.handle_local(&NA_FROM_HB, 2, 5);
    assert_eq!(kinds(&tx), vec![TxKind::Forwarded]);
    let tx = r.handle_local(&NS_FOR_R0, 1, 6);
    assert_eq!(kinds(&tx), vec![TxKind::Originated]);
}

#[test]
fn reconfigure_keeps_neighbours_still_on_link() {
    let mut r = router();
    learned(&mut r);
    r.forward(&UDP_FWD_IN, 1, &pd(&UDP_FWD_IN), 0);
    // em1 renumbered: 198.51.100.0/24 gone, 2001:db8:2::/64 kept
    let mut ifs = Interfaces::new();
    ifs.add(Interface::new("em0", 1, R0, 1500).unwrap())
        .unwrap();
    ifs.add(Interface::new("em1", 2, R1, 1400).unwrap())
        .unwrap();
    ifs.add_addr(1, ip("192.0.2.1"), 24).unwrap();
    ifs.add_addr(2, ip("203.0.113.1"), 24).unwrap();
    ifs.add_addr(2, ip("2001:db8:2::1"), 64).unwrap();
    let routes = RouteTable::connected(&ifs);
    r.reconfigure(ifs, routes);
    assert!(r.neighbors.state(1, ip("192.0.2.10")).is_some());
    assert!(r.neighbors.state(2, ip("2001:db8:2::20")).is_some());
    assert!(r.neighbors.state(2, ip("198.51.100.20")).is_none());
    // em0 lost its IPv6 address, but link-local neighbours would stay;
    // the global one is gone
    assert!(r.neighbors.state(1, ip("2001:db8:1::10")).is_none());
    let f = r.forward(&UDP_FWD_IN, 1, &pd(&UDP_FWD_IN), 1);
    assert_eq!(f.outcome, Outcome::Dropped(Drop::NoRoute));
}

/// A neighbour past its reachable time keeps carrying traffic and is
/// re-confirmed with unicast probes (RFC 4861 7.3.3; ARP the same way).
#[test]
fn stale_neighbours_are_probed_unicast() {
    let mut r = router();
    learned(&mut r);
    let cfg = NeighborConfig::default();
    let t = cfg.arp_reachable_ns + 1;
    let f = r.forward(&UDP6_FWD_IN, 1, &pd(&UDP6_FWD_IN), t);
    assert_eq!(frames(&f.tx), vec![(2, &UDP6_FWD_OUT[..])]);
    let f = r.forward(&UDP_FWD_IN, 1, &pd(&UDP_FWD_IN), t);
    assert_eq!(frames(&f.tx), vec![(2, &UDP_FWD_OUT[..])]);
    let mut tx = r.poll(t + cfg.delay_ns);
    tx.sort_by_key(|x| x.frame.len());
    assert_eq!(
        frames(&tx),
        vec![(2, &ARP_PROBE_HB[..]), (2, &NS_PROBE_HB[..])]
    );
}

#[test]
fn forward_in_place_rewrites_the_received_frame() {
    let mut r = router();
    learned(&mut r);
    let mut tx = Vec::new();
    // plain, and with link padding
    for pad in [0usize, 13] {
        let mut f = UDP_FWD_IN.to_vec();
        f.resize(f.len() + pad, 0);
        let o = r.forward_in_place(&mut f, 1, &pd(&UDP_FWD_IN), 0, &mut tx);
        assert_eq!(o, InPlace::Send { ifindex: 2 });
        assert_eq!(f, UDP_FWD_OUT);
    }
    // a tagged frame in, untagged out: the header shrinks
    let tagged = crate::wire::build::ethernet_wrap(&UDP_FWD_IN[14..], HA, R0, Some(7));
    let mut f = tagged.clone();
    let o = r.forward_in_place(&mut f, 1, &pd(&tagged), 0, &mut tx);
    assert_eq!(o, InPlace::Send { ifindex: 2 });
    assert_eq!(f, UDP_FWD_OUT);
    assert!(tx.is_empty());
    // an error leaves the frame alone
    let mut f = UDP_TTL1.to_vec();
    let o = r.forward_in_place(&mut f, 1, &pd(&UDP_TTL1), 0, &mut tx);
    assert_eq!(o, InPlace::Consumed(Outcome::Dropped(Drop::TtlExceeded)));
    assert_eq!(f, UDP_TTL1);
    assert_eq!(frames(&tx), vec![(1, &TIMXCEED_REPLY[..])]);
    // too big: fragmented into tx
    tx.clear();
    let mut f = UDP_BIG.to_vec();
    let o = r.forward_in_place(&mut f, 1, &pd(&UDP_BIG), 0, &mut tx);
    assert_eq!(o, InPlace::Consumed(Outcome::Sent { ifindex: 2 }));
    assert_eq!(
        frames(&tx),
        vec![(2, &UDP_BIG_FRAG0[..]), (2, &UDP_BIG_FRAG1[..])]
    );
    // unresolved: the frame is taken, and sent when HB answers
    let mut r = router();
    tx.clear();
    let mut f = UDP_FWD_IN.to_vec();
    let o = r.forward_in_place(&mut f, 1, &pd(&UDP_FWD_IN), 0, &mut tx);
    assert_eq!(o, InPlace::Consumed(Outcome::Queued { ifindex: 2 }));
    assert!(f.is_empty());
    assert_eq!(frames(&tx), vec![(2, &ARP_REQ_FROM_R1[..])]);
    let tx = r.handle_local(&ARP_REPLY_HB, 2, 1);
    assert_eq!(frames(&tx), vec![(2, &UDP_FWD_OUT[..])]);
    assert_eq!(tx[0].kind, TxKind::Forwarded);
}

/// Nothing listens on the router's addresses but echo and ND: TCP is
/// reset, UDP gets port unreachable (traceroute's last hop), other
/// IPv4 protocols protocol unreachable.
#[test]
fn closed_ports_answer_as_a_host() {
    let mut r = router();
    learned(&mut r);
    let tx = r.handle_local(&UDP_TO_R0, 1, 0);
    assert_eq!(frames(&tx), vec![(1, &PORT_UNREACH_R0[..])]);
    let tx = r.handle_local(&UDP6_TO_R0, 1, 0);
    assert_eq!(frames(&tx), vec![(1, &PORT_UNREACH6_R0[..])]);
    let tx = r.handle_local(&SYN_TO_R0, 1, 0);
    assert_eq!(frames(&tx), vec![(1, &RST_FROM_R0[..])]);
    assert_eq!(r.counters.count(Event::ResetSent), 1);
    // the router's second IPv4 error: ident 2
    let tx = r.handle_local(&GRE_TO_R0, 1, 0);
    assert_eq!(frames(&tx), vec![(1, &PROTO_UNREACH_R0[..])]);
    assert!(tx.iter().all(|t| t.kind == TxKind::Originated));
    assert_eq!(r.counters.dropped(Drop::LocalUnhandled), 4);
    // a reset is not answered, nor an echo reply
    let mut rst = RST_FROM_R0.to_vec();
    rst[0..6].copy_from_slice(&R0);
    rst[6..12].copy_from_slice(&HA);
    let mut p = crate::wire::ipv4::Ipv4Packet::new_unchecked(&mut rst[14..]);
    p.set_src_addr([192, 0, 2, 10].into());
    p.set_dst_addr([192, 0, 2, 1].into());
    p.fill_checksum();
    assert!(r.handle_local(&rst, 1, 0).is_empty());
    let mut rep = ECHO4_REPLY.to_vec();
    rep[0..6].copy_from_slice(&R0);
    rep[6..12].copy_from_slice(&HA);
    let mut p = crate::wire::ipv4::Ipv4Packet::new_unchecked(&mut rep[14..]);
    p.set_src_addr([192, 0, 2, 10].into());
    p.set_dst_addr([192, 0, 2, 1].into());
    p.fill_checksum();
    assert!(r.handle_local(&rep, 1, 0).is_empty());
}

#[test]
fn mld_reports_and_queries() {
    let mut r = carp_router();
    let tx = r.mld_join(1);
    assert_eq!(frames(&tx), vec![(1, &MLD_JOIN_R0[..])]);
    let tx = r.handle_local(&MLD_QUERY, 1, 0);
    assert_eq!(frames(&tx), vec![(1, &MLD_QUERY_REPLY[..])]);
    let tx = r.handle_local(&MLD_QUERY_GROUP, 1, 0);
    assert_eq!(frames(&tx), vec![(1, &MLD_QUERY_GROUP_REPLY[..])]);
    // a CARP address joins its group as master, leaves it as backup
    let tx = r.set_vip_master(1, ip("2001:db8:1::fe"), true).unwrap();
    assert_eq!(
        frames(&tx),
        vec![(1, &UNSOL_NA_VIP[..]), (1, &MLD_VIP_JOIN[..])]
    );
    let tx = r.set_vip_master(1, ip("2001:db8:1::fe"), false).unwrap();
    assert_eq!(frames(&tx), vec![(1, &MLD_VIP_LEAVE[..])]);
    // a query from a global address, or with a hop limit above 1, is not
    // a query
    let mut q = MLD_QUERY.to_vec();
    q[14 + 7] = 2;
    assert!(r.handle_local(&q, 1, 0).is_empty());
}

#[test]
fn mld_reports_split_to_fit_the_minimum_mtu() {
    let mut ifs = Interfaces::new();
    ifs.add(Interface::new("em0", 1, R0, 1500).unwrap())
        .unwrap();
    for i in 0..100u16 {
        ifs.add_addr(
            1,
            IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 1, i)),
            64,
        )
        .unwrap();
    }
    let mut r = Router::new(ifs, RouterConfig::default());
    let tx = r.mld_join(1);
    // 100 groups of addresses, plus all-routers and the link-local's
    assert_eq!(tx.len(), 2);
    let mut records = 0;
    for t in &tx {
        assert!(t.frame.len() - 14 <= 1280);
        let p = pd(&t.frame);
        assert!(crate::wire::frame::verify_l4_checksum(&t.frame, &p));
        let l4 = usize::from(p.l4_off);
        records += usize::from(u16::from_be_bytes([t.frame[l4 + 6], t.frame[l4 + 7]]));
    }
    assert_eq!(records, 102);
}
