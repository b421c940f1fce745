use super::*;
use crate::pdesc::tcp_flags;
use crate::wire::fixtures::*;
use crate::wire::ipv4::{Ipv4Options, Ipv4Repr};
use crate::wire::ipv6::Ipv6Repr;
use std::net::{Ipv4Addr, Ipv6Addr};

fn k4(a: [u8; 4]) -> AddrKey {
    crate::pdesc::addr_key(IpAddr::from(a))
}

fn k6(s: &str) -> AddrKey {
    crate::pdesc::addr_key(IpAddr::V6(s.parse::<Ipv6Addr>().unwrap()))
}

fn ip(frame: &[u8], link: Link) -> Pdesc {
    match parse_frame(frame, link) {
        Ok(Parsed::Ip(pd)) => pd,
        other => panic!("not IP: {other:?}"),
    }
}

fn err(frame: &[u8], link: Link) -> Reason {
    match parse_frame(frame, link) {
        Err(r) => r,
        other => panic!("parsed: {other:?}"),
    }
}

/// An IPv4 packet around `payload`, checksummed.
fn v4(proto: u8, frag: (bool, u16), opts: &[u8], payload: &[u8]) -> Vec<u8> {
    let r = Ipv4Repr {
        src: Ipv4Addr::new(192, 0, 2, 1),
        dst: Ipv4Addr::new(192, 0, 2, 2),
        protocol: proto,
        tos: 0,
        ttl: 64,
        ident: 7,
        dont_frag: false,
        more_frags: frag.0,
        frag_offset: frag.1,
        payload_len: payload.len() as u16,
        options: Ipv4Options::new(opts).unwrap(),
    };
    let mut b = vec![0u8; r.buffer_len()];
    r.emit(&mut b);
    b[r.header_len()..].copy_from_slice(payload);
    b
}

/// An IPv6 packet whose payload (extension headers included) is `payload`.
fn v6(next: u8, hlim: u8, src: &str, payload: &[u8]) -> Vec<u8> {
    let r = Ipv6Repr {
        src: src.parse().unwrap(),
        dst: "2001:db8::2".parse().unwrap(),
        next_header: next,
        payload_len: payload.len() as u16,
        hop_limit: hlim,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut b = vec![0u8; r.buffer_len()];
    r.emit(&mut b);
    b[40..].copy_from_slice(payload);
    b
}

const UDP_HDR: [u8; 8] = [0x03, 0xe8, 0x07, 0xd0, 0x00, 0x08, 0x00, 0x00];

#[test]
fn tcp_syn_v4_fills_everything() {
    let pd = ip(&TCP_SYN_V4, Link::Ethernet);
    assert_eq!(
        pd,
        Pdesc {
            af: Af::Inet,
            proto: proto::TCP,
            src: k4([192, 0, 2, 1]),
            dst: k4([198, 51, 100, 2]),
            sport: 40000,
            dport: 80,
            tos: 0,
            ttl: 64,
            l3_off: 14,
            l4_off: 34,
            ip_len: 60,
            vlan: None,
            fragment: false,
            ip_opts: false,
            icmp_type: None,
            icmp_code: None,
            tcp: Some(TcpInfo {
                seq: 0x1122_3344,
                ack: 0,
                win: 64240,
                flags: tcp_flags::SYN,
                hdr_len: 40,
                data_len: 0,
                wscale: Some(7),
                mss: Some(1460),
                ts: Some((123456, 0)),
            }),
            icmp_inner: None,
        }
    );
    assert!(verify_l4_checksum(&TCP_SYN_V4, &pd));
    assert!(verify_ip_checksum(&TCP_SYN_V4, &pd));
    // the same packet without its Ethernet header
    let raw = ip(&TCP_SYN_V4[14..], Link::RawIp);
    assert_eq!((raw.l3_off, raw.l4_off, raw.tcp), (0, 20, pd.tcp));
}

#[test]
fn ethernet_padding_is_not_payload() {
    let mut f = TCP_SYN_V4.to_vec();
    f.extend_from_slice(&[0xee; 6]);
    let pd = ip(&f, Link::Ethernet);
    assert_eq!(pd.ip_len, 60);
    assert_eq!(pd.tcp.unwrap().data_len, 0);
    assert!(verify_l4_checksum(&f, &pd));
}

#[test]
fn vlan_udp() {
    let pd = ip(&VLAN_UDP_V4, Link::Ethernet);
    assert_eq!(pd.vlan, Some(42));
    assert_eq!((pd.l3_off, pd.l4_off, pd.ip_len), (18, 38, 33));
    assert_eq!((pd.proto, pd.sport, pd.dport), (proto::UDP, 5353, 53));
    assert_eq!((pd.tos, pd.ttl), (0x10, 17));
    assert!(pd.tcp.is_none() && !pd.fragment && !pd.ip_opts);
    assert!(verify_l4_checksum(&VLAN_UDP_V4, &pd));
    let mut bad = VLAN_UDP_V4;
    bad[50] ^= 0x40;
    assert!(!verify_l4_checksum(&bad, &pd));
    // no checksum at all is fine over IPv4
    bad[44] = 0;
    bad[45] = 0;
    assert!(verify_l4_checksum(&bad, &pd));
}

#[test]
fn tos_drops_the_ecn_bits() {
    let mut f = VLAN_UDP_V4;
    f[19] = 0x13;
    assert_eq!(ip(&f, Link::Ethernet).tos, 0x10);
    assert!(!verify_ip_checksum(&f, &ip(&f, Link::Ethernet)));
}

#[test]
fn arp_is_not_ip() {
    assert_eq!(
        parse_frame(&ARP_REQ, Link::Ethernet),
        Ok(Parsed::NonIp { ethertype: 0x0806 })
    );
}

#[test]
fn ipv4_options_and_echo_ids() {
    let pd = ip(&IPV4_RR_ICMP, Link::RawIp);
    assert!(pd.ip_opts);
    assert_eq!(pd.l4_off, 32);
    assert_eq!((pd.icmp_type, pd.icmp_code), (Some(8), Some(0)));
    assert_eq!((pd.sport, pd.dport), (0x4242, 0x4242));
    let e = ip(&ICMP_ECHO, Link::RawIp);
    assert!(!e.ip_opts);
    assert_eq!((e.sport, e.dport), (0x4242, 0x4242));
    assert!(verify_l4_checksum(&ICMP_ECHO, &e));
}

#[test]
fn ipv4_router_alert_alone_is_an_option_but_padding_too() {
    let ra = v4(proto::UDP, (false, 0), &[148, 4, 0, 0], &UDP_HDR);
    assert!(ip(&ra, Link::RawIp).ip_opts);
    let pad = v4(proto::UDP, (false, 0), &[1, 1, 1, 0], &UDP_HDR);
    assert!(ip(&pad, Link::RawIp).ip_opts);
    // IGMP may carry router alert
    let igmp = v4(2, (false, 0), &[148, 4, 0, 0], &[0x11, 0, 0, 0, 0, 0, 0, 0]);
    assert!(!ip(&igmp, Link::RawIp).ip_opts);
    let bad = v4(proto::UDP, (false, 0), &[7, 9, 0, 0], &UDP_HDR);
    assert_eq!(err(&bad, Link::RawIp), Reason::IpOption);
}

#[test]
fn icmp_error_quotes_udp() {
    let pd = ip(&ICMP_UNREACH_UDP, Link::RawIp);
    assert_eq!((pd.icmp_type, pd.icmp_code), (Some(3), Some(3)));
    assert_eq!((pd.sport, pd.dport), (0, 0));
    assert_eq!(
        pd.icmp_inner,
        Some(IcmpInner {
            proto: proto::UDP,
            src: k4([192, 0, 2, 2]),
            dst: k4([203, 0, 113, 9]),
            sport: 33434,
            dport: 33435,
            seq: None,
            icmp_type: None,
            ip_off: 28,
            l4_off: 48,
        })
    );
    assert!(verify_l4_checksum(&ICMP_UNREACH_UDP, &pd));
    // a quote cut short is still a valid ICMP packet, just not matched
    // to a state
    let mut short = ICMP_UNREACH_UDP[..52].to_vec();
    short[2..4].copy_from_slice(&52u16.to_be_bytes());
    let pd = ip(&short, Link::RawIp);
    assert_eq!(pd.icmp_inner, None);
}

#[test]
fn icmp_error_quoting_icmp_echo() {
    let mut quote = ICMP_ECHO.to_vec();
    quote.truncate(28);
    let mut body = vec![11, 0, 0, 0, 0, 0, 0, 0];
    body.extend_from_slice(&quote);
    let f = v4(proto::ICMP, (false, 0), &[], &body);
    let inner = ip(&f, Link::RawIp).icmp_inner.unwrap();
    assert_eq!((inner.proto, inner.icmp_type), (proto::ICMP, Some(8)));
    assert_eq!((inner.sport, inner.dport), (0x4242, 0x4242));
    assert_eq!(inner.seq, None);
}

#[test]
fn icmp6_error_quotes_tcp() {
    let pd = ip(&ICMP6_UNREACH_TCP, Link::RawIp);
    assert_eq!((pd.icmp_type, pd.icmp_code), (Some(1), Some(4)));
    let inner = pd.icmp_inner.unwrap();
    assert_eq!(inner.proto, proto::TCP);
    assert_eq!(
        (inner.src, inner.dst),
        (k6("2001:db8::1"), k6("2001:db8::2"))
    );
    assert_eq!(
        (inner.sport, inner.dport, inner.seq),
        (50000, 443, Some(1000))
    );
    assert_eq!((inner.ip_off, inner.l4_off), (48, 88));
    assert!(verify_l4_checksum(&ICMP6_UNREACH_TCP, &pd));
}

#[test]
fn icmp6_echo_and_nd() {
    let pd = ip(&ICMP6_ECHO, Link::RawIp);
    assert_eq!((pd.sport, pd.dport, pd.icmp_type), (0x77, 0x77, Some(128)));
    let ns = ip(&ICMP6_NS, Link::RawIp);
    assert_eq!(ns.icmp_type, Some(135));
    assert_ne!(ns.sport, 0);
    assert!(verify_l4_checksum(&ICMP6_NS, &ns));
    let mut routed = ICMP6_NS;
    routed[7] = 64;
    assert_eq!(err(&routed, Link::RawIp), Reason::Normalize);
    // a solicitation too short for its target
    let mut short = ICMP6_NS[..60].to_vec();
    short[4..6].copy_from_slice(&20u16.to_be_bytes());
    assert_eq!(err(&short, Link::RawIp), Reason::Short);
}

#[test]
fn mld_rules() {
    let mld = [
        130, 0, 0, 0, 0, 0, 0, 0, 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    ];
    // hop-by-hop with router alert, then MLD from a link-local address
    let mut p = vec![58, 0, 5, 2, 0, 0, 1, 0];
    p.extend_from_slice(&mld);
    let ok = v6(nh::HOPOPTS, 1, "fe80::1", &p);
    let pd = ip(&ok, Link::RawIp);
    assert!(!pd.ip_opts, "MLD's router alert is allowed");
    assert_eq!(pd.proto, proto::ICMPV6);
    assert_eq!(
        err(&v6(nh::HOPOPTS, 2, "fe80::1", &p), Link::RawIp),
        Reason::IpOption
    );
    assert_eq!(
        err(&v6(nh::HOPOPTS, 1, "2001:db8::1", &p), Link::RawIp),
        Reason::IpOption
    );
}

#[test]
fn ipv6_first_fragment_with_hop_by_hop() {
    let pd = ip(&IPV6_HBH_FRAG_UDP, Link::RawIp);
    assert!(pd.fragment);
    assert!(pd.ip_opts, "router alert outside MLD");
    assert_eq!((pd.proto, pd.l4_off), (proto::UDP, 56));
    assert_eq!((pd.sport, pd.dport), (0, 0));
    assert!(verify_l4_checksum(&IPV6_HBH_FRAG_UDP, &pd));
}

#[test]
fn ipv6_later_fragment_and_atomic_fragment() {
    let mut later = IPV6_HBH_FRAG_UDP;
    later[50..52].copy_from_slice(&0x0010u16.to_be_bytes());
    let pd = ip(&later, Link::RawIp);
    assert!(pd.fragment);
    assert_eq!((pd.proto, pd.l4_off), (nh::FRAGMENT, 48));
    let mut atomic = IPV6_HBH_FRAG_UDP;
    atomic[50..52].copy_from_slice(&0u16.to_be_bytes());
    let pd = ip(&atomic, Link::RawIp);
    assert!(!pd.fragment);
    assert_eq!((pd.proto, pd.sport, pd.dport), (proto::UDP, 1000, 2000));
}

#[test]
fn ipv6_chain_errors() {
    let frag = [17, 0, 0, 1, 0, 0, 0, 1];
    let mut two = vec![44, 0, 0, 1, 0, 0, 0, 1];
    two.extend_from_slice(&frag);
    two.extend_from_slice(&UDP_HDR);
    assert_eq!(
        err(&v6(nh::FRAGMENT, 64, "2001:db8::1", &two), Link::RawIp),
        Reason::Fragment
    );
    // routing header type 0
    let mut rt0 = vec![17, 0, 0, 0, 0, 0, 0, 0];
    rt0.extend_from_slice(&UDP_HDR);
    assert_eq!(
        err(&v6(nh::ROUTING, 64, "2001:db8::1", &rt0), Link::RawIp),
        Reason::IpOption
    );
    // routing header type 4 is an option, not an error
    let mut rt4 = vec![17, 0, 4, 0, 0, 0, 0, 0];
    rt4.extend_from_slice(&UDP_HDR);
    let pd = ip(&v6(nh::ROUTING, 64, "2001:db8::1", &rt4), Link::RawIp);
    assert!(pd.ip_opts);
    assert_eq!((pd.proto, pd.l4_off, pd.dport), (proto::UDP, 48, 2000));
    // hop-by-hop after a destination options header
    let mut late = vec![0, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0];
    late.extend_from_slice(&UDP_HDR);
    assert_eq!(
        err(&v6(nh::DSTOPTS, 64, "2001:db8::1", &late), Link::RawIp),
        Reason::IpOption
    );
    // an extension header cut off by the payload length
    assert_eq!(
        err(&v6(nh::DSTOPTS, 64, "2001:db8::1", &[17]), Link::RawIp),
        Reason::Short
    );
    // more than 20 headers
    let mut many = Vec::new();
    for _ in 0..21 {
        many.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
    }
    assert_eq!(
        err(&v6(nh::DSTOPTS, 64, "2001:db8::1", &many), Link::RawIp),
        Reason::IpOption
    );
}

#[test]
fn headers_pointing_past_the_packet_are_short() {
    // AH claiming 16 bytes in a packet with 8 after the IPv4 header
    let ah = v4(51, (false, 0), &[], &[99, 2, 0, 0, 0, 0, 0, 0]);
    assert_eq!(err(&ah, Link::RawIp), Reason::Short);
    // destination options claiming 16 bytes, 8 present
    let d = v6(nh::DSTOPTS, 64, "2001:db8::1", &[99, 1, 1, 4, 0, 0, 0, 0]);
    assert_eq!(err(&d, Link::RawIp), Reason::Short);
    // the same chains, sized right, are fine
    let ah = v4(51, (false, 0), &[], &[99, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(ip(&ah, Link::RawIp).proto, 99);
    let d = v6(nh::DSTOPTS, 64, "2001:db8::1", &[99, 0, 1, 4, 0, 0, 0, 0]);
    assert_eq!(ip(&d, Link::RawIp).l4_off, 48);
}

#[test]
fn ipv6_tcp_and_traffic_class() {
    let pd = ip(&IPV6_TCP, Link::Ethernet);
    assert_eq!(pd.af, Af::Inet6);
    assert_eq!((pd.tos, pd.ttl, pd.ip_len), (0xb8, 63, 80));
    let t = pd.tcp.unwrap();
    assert_eq!(
        (t.flags, t.wscale, t.mss, t.ts),
        (
            tcp_flags::SYN | tcp_flags::ACK,
            Some(8),
            Some(1440),
            Some((9, 8))
        )
    );
    assert!(verify_l4_checksum(&IPV6_TCP, &pd));
    assert!(verify_ip_checksum(&IPV6_TCP, &pd));
}

#[test]
fn ipv4_fragments() {
    let first = v4(proto::UDP, (true, 0), &[], &UDP_HDR);
    let pd = ip(&first, Link::RawIp);
    assert!(pd.fragment);
    assert_eq!(
        (pd.proto, pd.sport, pd.dport, pd.l4_off),
        (proto::UDP, 0, 0, 20)
    );
    let later = v4(proto::TCP, (false, 1480), &[], &[0; 4]);
    let pd = ip(&later, Link::RawIp);
    assert!(pd.fragment && pd.tcp.is_none());
    assert_eq!(pd.proto, proto::TCP);
    // a fragment's transport checksum cannot be checked: it passes
    assert!(verify_l4_checksum(&later, &pd));
}

#[test]
fn malformed_ipv4() {
    let ipb = &TCP_SYN_V4[14..];
    assert_eq!(err(&ipb[..19], Link::RawIp), Reason::Short);
    assert_eq!(err(&ipb[..59], Link::RawIp), Reason::Short);
    let mut b = ipb.to_vec();
    b[0] = 0x44;
    assert_eq!(err(&b, Link::RawIp), Reason::Short, "pf: ihl < 5 is short");
    b[0] = 0x46;
    b[2..4].copy_from_slice(&20u16.to_be_bytes());
    assert_eq!(
        err(&b, Link::RawIp),
        Reason::Short,
        "pf: header longer than ip_len"
    );
    let mut f = TCP_SYN_V4;
    f[14] = 0x65;
    assert_eq!(err(&f, Link::Ethernet), Reason::Normalize);
    assert_eq!(err(&[0x75], Link::RawIp), Reason::Normalize);
    assert_eq!(err(&[], Link::RawIp), Reason::Short);
    assert_eq!(err(&TCP_SYN_V4[..13], Link::Ethernet), Reason::Short);
}

#[test]
fn malformed_transport() {
    // TCP to port 0, TCP data offset too small or past the packet
    let mut f = TCP_SYN_V4;
    f[36] = 0;
    f[37] = 0;
    assert_eq!(err(&f, Link::Ethernet), Reason::Short);
    let mut f = TCP_SYN_V4;
    f[46] = 0x40;
    assert_eq!(err(&f, Link::Ethernet), Reason::Short);
    let mut f = TCP_SYN_V4;
    f[46] = 0xf0;
    assert_eq!(err(&f, Link::Ethernet), Reason::Short);
    // UDP length below 8 or past the packet
    let mut f = VLAN_UDP_V4;
    f[43] = 7;
    assert_eq!(err(&f, Link::Ethernet), Reason::Short);
    f[43] = 14;
    assert_eq!(err(&f, Link::Ethernet), Reason::Short);
    // ICMPv4 inside IPv6 and ICMPv6 inside IPv4
    let e = v6(proto::ICMP, 64, "2001:db8::1", &[8, 0, 0, 0, 0, 1, 0, 1]);
    assert_eq!(err(&e, Link::RawIp), Reason::Normalize);
    let e = v4(proto::ICMPV6, (false, 0), &[], &[128, 0, 0, 0, 0, 1, 0, 1]);
    assert_eq!(err(&e, Link::RawIp), Reason::Normalize);
    // ICMP header cut off
    let e = v4(proto::ICMP, (false, 0), &[], &[8, 0, 0]);
    assert_eq!(err(&e, Link::RawIp), Reason::Short);
}

mod never_panics {
    use super::*;
    use crate::wire::build::{icmp_error_for, tcp_rst_for};
    use proptest::prelude::*;

    const VALID: [&[u8]; 11] = [
        &TCP_SYN_V4,
        &VLAN_UDP_V4,
        &ARP_REQ,
        &IPV4_RR_ICMP,
        &ICMP_ECHO,
        &ICMP_UNREACH_UDP,
        &ICMP6_UNREACH_TCP,
        &ICMP6_ECHO,
        &ICMP6_NS,
        &IPV6_HBH_FRAG_UDP,
        &IPV6_TCP,
    ];

    /// Everything the engine may call on a parsed frame, so the
    /// builders and checks see hostile descriptors too.
    fn exercise(frame: &[u8], link: Link) {
        if let Ok(Parsed::Ip(pd)) = parse_frame(frame, link) {
            let l3 = usize::from(pd.l3_off);
            assert!(usize::from(pd.l4_off) <= l3 + usize::from(pd.ip_len));
            assert!(l3 + usize::from(pd.ip_len) <= frame.len());
            if let Some(i) = pd.icmp_inner {
                assert!(i.ip_off <= i.l4_off);
                assert!(usize::from(i.l4_off) <= l3 + usize::from(pd.ip_len));
            }
            let _ = verify_l4_checksum(frame, &pd);
            let _ = verify_ip_checksum(frame, &pd);
            let _ = tcp_rst_for(frame, &pd);
            let _ = icmp_error_for(frame, &pd, 3, 13);
            let _ = icmp_error_for(frame, &pd, 12, 3);
        }
    }

    fn link_of(i: usize) -> Link {
        // the Ethernet fixtures are the ones that start with a MAC
        if VALID[i][0] == 0x52 || VALID[i][0] == 0xff {
            Link::Ethernet
        } else {
            Link::RawIp
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn on_arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..160), eth: bool) {
            exercise(&b, if eth { Link::Ethernet } else { Link::RawIp });
        }

        #[test]
        fn on_mutated_frames(
            i in 0..VALID.len(),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
            cut in proptest::option::of(any::<usize>()),
            tail in proptest::collection::vec(any::<u8>(), 0..8),
        ) {
            let mut b = VALID[i].to_vec();
            for (at, v) in flips {
                let n = b.len();
                b[at % n] = v;
            }
            if let Some(c) = cut {
                b.truncate(c % (b.len() + 1));
            }
            b.extend_from_slice(&tail);
            exercise(&b, link_of(i));
            exercise(&b, Link::RawIp);
        }
    }
}

#[test]
fn unrolled_header_sum_equals_the_general_one() {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for round in 0..5000 {
        let mut h = [0u8; 20];
        for b in h.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = match round % 3 {
                0 => x as u8,
                1 => 0xff,
                _ => (x as u8) | 0xf0,
            };
        }
        if round % 7 == 0 {
            h = [0; 20];
        }
        assert_eq!(
            super::header_sum(&h),
            crate::wire::checksum::sum(&h),
            "{h:02x?}"
        );
    }
}
