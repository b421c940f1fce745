//! Properties: no panics on any frame, the in-place path equal to the
//! copying one, the incremental checksum equal to a full one.

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
