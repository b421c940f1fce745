use super::*;
use crate::pdesc::IcmpInner;
use crate::wire::fixtures::*;
use crate::wire::frame::{parse_frame, verify_ip_checksum, Link, Parsed};
use crate::wire::ipv6::Ipv6Repr;

fn pd_of(frame: &[u8], link: Link) -> Pdesc {
    match parse_frame(frame, link) {
        Ok(Parsed::Ip(pd)) => pd,
        other => panic!("not IP: {other:?}"),
    }
}

/// Parse a reply and check both its checksums.
fn reply(ip: &[u8]) -> Pdesc {
    let pd = pd_of(ip, Link::RawIp);
    assert!(verify_l4_checksum(ip, &pd), "transport checksum");
    assert!(verify_ip_checksum(ip, &pd), "header checksum");
    pd
}

#[test]
fn rst_for_a_syn() {
    let pd = pd_of(&TCP_SYN_V4, Link::Ethernet);
    let rst = tcp_rst_for(&TCP_SYN_V4, &pd).unwrap();
    assert_eq!(rst.len(), 40);
    let r = reply(&rst);
    assert_eq!((r.src, r.dst), (pd.dst, pd.src));
    assert_eq!((r.sport, r.dport), (80, 40000));
    assert_eq!((r.ttl, r.tos), (64, IPTOS_LOWDELAY));
    assert_eq!(rst[6] & 0x40, 0x40, "DF");
    let t = r.tcp.unwrap();
    assert_eq!(t.flags, tcp_flags::RST | tcp_flags::ACK);
    assert_eq!((t.seq, t.ack, t.win), (0, 0x1122_3345, 0));
    assert_eq!((t.hdr_len, t.data_len), (20, 0));
    // return-ttl
    let rst = tcp_rst_with_ttl(&TCP_SYN_V4, &pd, 9).unwrap();
    assert_eq!(reply(&rst).ttl, 9);
}

#[test]
fn rst_for_data_with_fin_over_ipv6() {
    // the SYN|ACK fixture turned into FIN|ACK with 5 bytes of data
    let mut f = IPV6_TCP.to_vec();
    f.extend_from_slice(b"hello");
    f[18..20].copy_from_slice(&45u16.to_be_bytes());
    f[54 + 13] = tcp_flags::FIN | tcp_flags::ACK;
    let s: IpAddr = "2001:db8::1".parse().unwrap();
    let d: IpAddr = "2001:db8::2".parse().unwrap();
    TcpPacket::new_unchecked(&mut f[54..]).fill_checksum(s, d);
    let pd = pd_of(&f, Link::Ethernet);
    assert_eq!(pd.tcp.unwrap().data_len, 5);
    let rst = tcp_rst_for(&f, &pd).unwrap();
    let r = reply(&rst);
    assert_eq!(r.af, Af::Inet6);
    assert_eq!(
        (r.src, r.dst, r.sport, r.dport),
        (pd.dst, pd.src, 50000, 443)
    );
    assert_eq!(r.ttl, 64);
    let t = r.tcp.unwrap();
    // seq = their ack; ack = their seq + 5 bytes + FIN
    assert_eq!((t.seq, t.ack), (1001, 7 + 5 + 1));
    assert_eq!(t.flags, tcp_flags::RST | tcp_flags::ACK);
}

#[test]
fn no_rst_for_rst_bad_checksum_or_udp() {
    let mut f = TCP_SYN_V4;
    f[47] = tcp_flags::RST;
    let s = IpAddr::from([192, 0, 2, 1]);
    let d = IpAddr::from([198, 51, 100, 2]);
    TcpPacket::new_unchecked(&mut f[34..]).fill_checksum(s, d);
    assert_eq!(tcp_rst_for(&f, &pd_of(&f, Link::Ethernet)), None);
    let mut f = TCP_SYN_V4;
    f[50] ^= 1;
    assert_eq!(tcp_rst_for(&f, &pd_of(&f, Link::Ethernet)), None);
    assert_eq!(
        tcp_rst_for(&VLAN_UDP_V4, &pd_of(&VLAN_UDP_V4, Link::Ethernet)),
        None
    );
}

#[test]
fn icmp_unreach_for_udp_quotes_header_and_8_bytes() {
    let pd = pd_of(&VLAN_UDP_V4, Link::Ethernet);
    let e = icmp_error_for(&VLAN_UDP_V4, &pd, icmp::ty::UNREACH, icmp::unreach::PORT).unwrap();
    assert_eq!(e.len(), 20 + 8 + 20 + 8);
    let r = reply(&e);
    assert_eq!((r.src, r.dst), (pd.dst, pd.src));
    assert_eq!((r.ttl, r.tos, r.proto), (255, 0, proto::ICMP));
    assert_eq!((r.icmp_type, r.icmp_code), (Some(3), Some(3)));
    assert_eq!(&e[28..], &VLAN_UDP_V4[18..18 + 28]);
    assert_eq!(
        r.icmp_inner,
        Some(IcmpInner {
            proto: proto::UDP,
            src: pd.src,
            dst: pd.dst,
            sport: 5353,
            dport: 53,
            seq: None,
            icmp_type: None,
            ip_off: 28,
            l4_off: 48,
        })
    );
}

#[test]
fn icmp_quote_keeps_ip_options_and_param_problem_pointer() {
    let pd = pd_of(&IPV4_RR_ICMP, Link::RawIp);
    let e = icmp_error_for(&IPV4_RR_ICMP, &pd, icmp::ty::PARAMPROB, 20).unwrap();
    assert_eq!(e.len(), 20 + 8 + 32 + 8);
    assert_eq!((e[20], e[21], e[24]), (icmp::ty::PARAMPROB, 0, 20));
    assert_eq!(&e[28..], &IPV4_RR_ICMP[..40]);
    reply(&e);
}

#[test]
fn no_icmp_error_for_errors_fragments_or_broadcast() {
    let pd = pd_of(&ICMP_UNREACH_UDP, Link::RawIp);
    assert_eq!(icmp_error_for(&ICMP_UNREACH_UDP, &pd, 3, 13), None);
    // an echo request is answered
    let pd = pd_of(&ICMP_ECHO, Link::RawIp);
    assert!(icmp_error_for(&ICMP_ECHO, &pd, 3, 13).is_some());
    // a later fragment is not
    let mut f = ICMP_ECHO;
    f[6..8].copy_from_slice(&0x0001u16.to_be_bytes());
    crate::wire::ipv4::Ipv4Packet::new_unchecked(&mut f[..]).fill_checksum();
    let pd = pd_of(&f, Link::RawIp);
    assert_eq!(icmp_error_for(&f, &pd, 3, 13), None);
    // nor a broadcast, nor a source of 0.0.0.0
    let mut f = ICMP_ECHO;
    f[16..20].copy_from_slice(&[255; 4]);
    let pd = pd_of(&f, Link::RawIp);
    assert_eq!(icmp_error_for(&f, &pd, 3, 13), None);
    let mut f = ICMP_ECHO;
    f[12..16].copy_from_slice(&[0; 4]);
    let pd = pd_of(&f, Link::RawIp);
    assert_eq!(icmp_error_for(&f, &pd, 3, 13), None);
}

#[test]
fn icmp6_error_fits_the_minimum_mtu() {
    let payload = vec![0x5a; 1400];
    let r = Ipv6Repr {
        src: "2001:db8::1".parse().unwrap(),
        dst: "2001:db8::2".parse().unwrap(),
        next_header: 253,
        payload_len: payload.len() as u16,
        hop_limit: 64,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut big = vec![0u8; r.buffer_len()];
    r.emit(&mut big);
    big[40..].copy_from_slice(&payload);
    let pd = pd_of(&big, Link::RawIp);
    let e = icmp_error_for(&big, &pd, icmpv6::ty::DST_UNREACH, icmpv6::unreach::ADMIN).unwrap();
    assert_eq!(e.len(), 1280);
    let rp = reply(&e);
    assert_eq!((rp.src, rp.dst, rp.ttl), (pd.dst, pd.src, 64));
    assert_eq!((rp.icmp_type, rp.icmp_code), (Some(1), Some(1)));
    assert_eq!(&e[48..], &big[..1232]);
    // a small packet is quoted whole, and the quote parses back
    let pd = pd_of(&ICMP6_ECHO, Link::RawIp);
    let e = icmp_error_for(&ICMP6_ECHO, &pd, icmpv6::ty::DST_UNREACH, 1).unwrap();
    assert_eq!(e.len(), 48 + ICMP6_ECHO.len());
    let inner = reply(&e).icmp_inner.unwrap();
    assert_eq!(
        (inner.proto, inner.icmp_type, inner.sport),
        (proto::ICMPV6, Some(128), 0x77)
    );
}

#[test]
fn no_icmp6_error_for_errors_or_multicast() {
    let pd = pd_of(&ICMP6_UNREACH_TCP, Link::RawIp);
    assert_eq!(icmp_error_for(&ICMP6_UNREACH_TCP, &pd, 1, 1), None);
    let pd = pd_of(&ICMP6_NS, Link::RawIp);
    assert_eq!(icmp_error_for(&ICMP6_NS, &pd, 1, 1), None);
}

#[test]
fn wrap_in_ethernet() {
    let pd = pd_of(&TCP_SYN_V4, Link::Ethernet);
    let rst = tcp_rst_for(&TCP_SYN_V4, &pd).unwrap();
    let src = [2, 0, 0, 0, 0, 1];
    let dst = [2, 0, 0, 0, 0, 2];
    let f = ethernet_wrap(&rst, src, dst, Some(42));
    assert_eq!(f.len(), 18 + rst.len());
    let p = pd_of(&f, Link::Ethernet);
    assert_eq!((p.vlan, p.l3_off, p.sport), (Some(42), 18, 80));
    let e = ethernet_wrap(&ICMP6_ECHO, src, dst, None);
    assert_eq!(&e[12..14], &[0x86, 0xdd]);
    assert_eq!(&e[..6], &dst);
    assert_eq!(pd_of(&e, Link::Ethernet).af, Af::Inet6);
}

/// pf's synproxy SYN|ACK: 203.0.113.5:80 -> 192.0.2.10:40000, MSS 1460.
/// The bytes are scapy's for the same header fields (`IP(tos=0x10,
/// flags='DF', id=0, ttl=64)/TCP(flags='SA', window=0,
/// options=[('MSS', 1460)])`).
const SYNACK_MSS_V4: [u8; 44] = [
    0x45, 0x10, 0x00, 0x2c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x3c, 0xac, 0xcb, 0x00, 0x71, 0x05,
    0xc0, 0x00, 0x02, 0x0a, 0x00, 0x50, 0x9c, 0x40, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x03, 0xe9,
    0x60, 0x12, 0x00, 0x00, 0xb5, 0x26, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
];

fn key_of(s: &str) -> AddrKey {
    ruleset::compile::addr_key(s.parse().unwrap())
}

#[test]
fn tcp_segment_matches_golden_bytes() {
    let s = TcpSegment {
        af: Af::Inet,
        src: key_of("203.0.113.5"),
        dst: key_of("192.0.2.10"),
        sport: 80,
        dport: 40000,
        seq: 0x1122_3344,
        ack: 1001,
        flags: tcp_flags::SYN | tcp_flags::ACK,
        win: 0,
        mss: Some(1460),
        ttl: 0,
    };
    assert_eq!(tcp_segment(&s), SYNACK_MSS_V4);
}

#[test]
fn tcp_segment_round_trips_through_the_parser() {
    let cases = [
        (Af::Inet, "198.51.100.1", "198.51.100.2", None, 7u8),
        (Af::Inet, "10.0.0.1", "10.0.0.2", Some(536u16), 0),
        (Af::Inet6, "2001:db8::1", "2001:db8::2", Some(1440), 0),
        (Af::Inet6, "2001:db8::a", "2001:db8::b", None, 9),
    ];
    for (af, a, b, mss, ttl) in cases {
        let s = TcpSegment {
            af,
            src: key_of(a),
            dst: key_of(b),
            sport: 1234,
            dport: 443,
            seq: 0xfedc_ba98,
            ack: 0x0123_4567,
            flags: tcp_flags::ACK | tcp_flags::PUSH,
            win: 4321,
            mss,
            ttl,
        };
        let ip = tcp_segment(&s);
        let pd = reply(&ip);
        assert_eq!((pd.af, pd.src, pd.dst), (af, s.src, s.dst));
        assert_eq!((pd.sport, pd.dport), (1234, 443));
        let t = pd.tcp.unwrap();
        assert_eq!(
            (t.seq, t.ack, t.flags, t.win),
            (s.seq, s.ack, s.flags, 4321)
        );
        assert_eq!(t.mss, mss);
        assert_eq!(t.data_len, 0);
        assert_eq!(t.hdr_len, if mss.is_some() { 24 } else { 20 });
        let want_ttl = if af == Af::Inet && ttl != 0 {
            ttl
        } else {
            DEFAULT_TTL
        };
        assert_eq!(pd.ttl, want_ttl);
        if af == Af::Inet {
            assert_eq!((ip[1], ip[6] & 0x40), (IPTOS_LOWDELAY, 0x40));
        }
    }
}
