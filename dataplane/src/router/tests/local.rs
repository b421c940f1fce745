//! Frames for the router itself: ARP, ND, MLD, echo, closed ports.

use super::carp::carp_router;
use super::*;

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

/// The router's own IPv6 packets are fragmented at the source when the
/// egress MTU is too small (`ip6_output`), unlike forwarded ones.
#[test]
fn big_echo6_reply_is_fragmented_by_the_router() {
    let mut r = router();
    learned(&mut r);
    let tx = r.handle_local(&ECHO6_BIG_TO_R1, 2, 0);
    assert_eq!(
        frames(&tx),
        vec![
            (2, &ECHO6_BIG_REPLY_FRAG0[..]),
            (2, &ECHO6_BIG_REPLY_FRAG1[..])
        ]
    );
}

/// Two workers' routers: one holds a frame and asks; the fanout hands
/// the ARP reply to the other, whose fact releases the frame.
#[test]
fn a_neighbor_learned_by_one_worker_releases_another_workers_frames() {
    let (mut asker, mut hearer) = (router(), router());
    asker.neighbors.set_sharing(true);
    hearer.neighbors.set_sharing(true);
    let f = asker.forward(&UDP_FWD_IN, 1, &pd(&UDP_FWD_IN), 0);
    assert_eq!(f.outcome, Outcome::Queued { ifindex: 2 });
    assert!(!asker.neighbors.has_facts(), "asking is not knowing");
    let tx = hearer.handle_local(&ARP_REPLY_HB, 2, 1);
    assert!(tx.is_empty(), "the hearer held nothing");
    let facts = hearer.neighbors.take_facts();
    assert_eq!(
        facts,
        vec![Fact {
            ifindex: 2,
            ip: ip("198.51.100.20"),
            mac: HB,
            how: Learn::Reachable,
        }]
    );
    let mut tx = Vec::new();
    for f in &facts {
        asker.apply_neighbor_fact(f, 2, &mut tx);
    }
    assert_eq!(frames(&tx), vec![(2, &UDP_FWD_OUT[..])]);
    assert!(
        !asker.neighbors.has_facts(),
        "an applied fact is not told again"
    );
    // and the next packet goes straight out
    let f = asker.forward(&UDP_FWD_IN, 1, &pd(&UDP_FWD_IN), 3);
    assert_eq!(frames(&f.tx), vec![(2, &UDP_FWD_OUT[..])]);
}

#[test]
fn facts_are_kept_only_when_sharing_and_never_for_our_own_address() {
    let mut r = router();
    r.handle_local(&ARP_REPLY_HB, 2, 1);
    assert!(!r.neighbors.has_facts());
    let mut tx = Vec::new();
    r.apply_neighbor_fact(
        &Fact {
            ifindex: 2,
            ip: ip("198.51.100.1"),
            mac: HB,
            how: Learn::Reachable,
        },
        2,
        &mut tx,
    );
    assert!(r.neighbors.state(2, ip("198.51.100.1")).is_none());
    // a bounded list however much is learned
    r.neighbors.set_sharing(true);
    for i in 0..(crate::router::neighbor::MAX_FACTS + 10) {
        let a = std::net::Ipv4Addr::from(0xc633_6400u32 + 2 + (i as u32 % 250));
        r.neighbors.learn(
            2,
            IpAddr::V4(a),
            [2, 0, 0, 0, (i >> 8) as u8, i as u8],
            Learn::Reachable,
            true,
            5,
        );
    }
    assert_eq!(
        r.neighbors.take_facts().len(),
        crate::router::neighbor::MAX_FACTS
    );
}
