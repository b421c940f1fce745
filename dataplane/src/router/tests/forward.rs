//! Forwarding: rewrite, TTL, MTU, routes, errors, the pf outbound split.

use super::*;

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

#[test]
fn link_local_source_is_not_forwarded() {
    let mut r = router();
    learned(&mut r);
    r.neighbors
        .learn(1, ip("fe80::a"), HA, Learn::Reachable, true, 0);
    let f = r.forward(&UDP6_LL_SRC, 1, &pd(&UDP6_LL_SRC), 0);
    assert_eq!(f.outcome, Outcome::Dropped(Drop::Martian));
    assert_eq!(frames(&f.tx), vec![(1, &BEYOND_SCOPE_REPLY[..])]);
}
