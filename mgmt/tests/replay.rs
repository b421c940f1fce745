//! The packet engine end to end through `pfd replay`: captures built
//! here, replayed with a ruleset, verdicts and passed packets checked.
//! Inbound frames are those sent to the firewall's MAC.

mod support;
use dataplane::wire::checksum::sum;
use support::*;

const S: u64 = 1_000_000_000;
const CLIENT: &str = "192.0.2.10";
const SERVER: &str = "203.0.113.5";

fn out4(cap: &mut Capture, t: u64, src: &str, dst: &str, l4: L4) -> usize {
    cap.push(t, eth(&ip4(src, dst, &l4), false))
}

fn in4(cap: &mut Capture, t: u64, src: &str, dst: &str, l4: L4) -> usize {
    cap.push(t, eth(&ip4(src, dst, &l4), true))
}

/// An outbound TCP connection opened, used, closed; an unrelated inbound
/// SYN blocked by the default block.
#[test]
fn tcp_handshake_data_close_through_states() {
    let rules = "block all\npass out on em0 proto tcp from 192.0.2.0/24 to any port 80\n";
    let mut c = Capture::default();
    let (cl, sv) = (CLIENT, SERVER);
    out4(&mut c, S, cl, sv, tcp(40000, 80, SYN, 1000, 0, 0));
    in4(
        &mut c,
        S + 1,
        sv,
        cl,
        tcp(80, 40000, SYN | ACK, 5000, 1001, 0),
    );
    out4(&mut c, S + 2, cl, sv, tcp(40000, 80, ACK, 1001, 5001, 0));
    out4(
        &mut c,
        S + 3,
        cl,
        sv,
        tcp(40000, 80, ACK | PSH, 1001, 5001, 100),
    );
    in4(
        &mut c,
        S + 4,
        sv,
        cl,
        tcp(80, 40000, ACK | PSH, 5001, 1101, 50),
    );
    out4(
        &mut c,
        S + 5,
        cl,
        sv,
        tcp(40000, 80, FIN | ACK, 1101, 5051, 0),
    );
    in4(
        &mut c,
        S + 6,
        sv,
        cl,
        tcp(80, 40000, FIN | ACK, 5051, 1102, 0),
    );
    out4(&mut c, S + 7, cl, sv, tcp(40000, 80, ACK, 1102, 5052, 0));
    in4(&mut c, S + 8, sv, cl, tcp(80, 22, SYN, 9000, 0, 0));
    let r = replay("tcp-close", rules, &c, &[]);
    assert_eq!(r.action(1), "pass");
    assert_eq!(r.state(1), "new");
    assert_eq!(r.rule(1), Some(1));
    for i in 2..=8 {
        assert_eq!((r.action(i), r.state(i)), ("pass", "match"), "packet {i}");
        assert_eq!(r.rule(i), Some(1), "a state match reports its rule");
    }
    assert_eq!(r.action(9), "block");
    assert_eq!(r.rule(9), Some(0));
    assert_eq!(r.reason(9), Some("match"));
    assert_eq!(r.passed.len(), 8);
    // Untranslated packets leave unchanged.
    assert_eq!(r.out_frame(4).unwrap(), &c.frames[3].1[..]);
}

/// A segment far outside the window is dropped by the state, and the
/// connection goes on; a SYN on a connection closed by RST opens a new
/// state.
#[test]
fn out_of_window_dropped_and_reset_closes() {
    let rules = "block all\npass out proto tcp\n";
    let mut c = Capture::default();
    let (cl, sv) = (CLIENT, SERVER);
    out4(&mut c, S, cl, sv, tcp(40001, 443, SYN, 1000, 0, 0));
    in4(
        &mut c,
        S + 1,
        sv,
        cl,
        tcp(443, 40001, SYN | ACK, 5000, 1001, 0),
    );
    out4(&mut c, S + 2, cl, sv, tcp(40001, 443, ACK, 1001, 5001, 0));
    in4(
        &mut c,
        S + 3,
        sv,
        cl,
        tcp(443, 40001, ACK, 5001 + 50_000_000, 1001, 10),
    );
    in4(
        &mut c,
        S + 4,
        sv,
        cl,
        tcp(443, 40001, ACK, 5001, 1001 + 40_000_000, 0),
    );
    in4(
        &mut c,
        S + 5,
        sv,
        cl,
        tcp(443, 40001, ACK | PSH, 5001, 1001, 10),
    );
    in4(&mut c, S + 6, sv, cl, tcp(443, 40001, RST, 5011, 0, 0));
    out4(&mut c, S + 7, cl, sv, tcp(40001, 443, ACK, 1001, 5011, 0));
    out4(&mut c, S + 8, cl, sv, tcp(40001, 443, SYN, 77000, 0, 0));
    let r = replay("tcp-window", rules, &c, &[]);
    assert_eq!(r.state(1), "new");
    assert_eq!(r.action(3), "pass");
    assert_eq!(
        (r.action(4), r.reason(4)),
        ("block", Some("state-mismatch"))
    );
    assert_eq!(r.state(4), "match");
    assert_eq!(
        (r.action(5), r.reason(5)),
        ("block", Some("state-mismatch"))
    );
    assert_eq!((r.action(6), r.state(6)), ("pass", "match"));
    assert_eq!(
        (r.action(7), r.state(7)),
        ("pass", "match"),
        "RST in window"
    );
    assert_eq!((r.action(9), r.state(9)), ("pass", "new"), "SYN after RST");
}

/// `flags S/SA` is the default: a mid-stream packet creates no state and
/// falls to the block rule.
#[test]
fn keep_state_needs_a_syn_by_default() {
    let rules = "block all\npass out proto tcp\n";
    let mut c = Capture::default();
    out4(
        &mut c,
        S,
        CLIENT,
        SERVER,
        tcp(40002, 80, ACK, 1000, 2000, 10),
    );
    let r = replay("flags-sa", rules, &c, &[]);
    assert_eq!((r.action(1), r.rule(1)), ("block", Some(0)));
}

/// Outbound nat-to and the reply, an ICMP error about the translated
/// connection, translated back.
#[test]
fn nat_both_ways_and_icmp_error_through_nat() {
    let rules = "block all\npass out on em0 from 192.0.2.0/24 nat-to 198.51.100.1\n";
    let mut c = Capture::default();
    out4(&mut c, S, CLIENT, SERVER, tcp(40003, 80, SYN, 1000, 0, 0));
    let r0 = replay("nat-probe", rules, &c, &[]);
    let (src, sport, dst, dport) = endpoints(r0.out_frame(1).unwrap());
    assert_eq!(src, ip("198.51.100.1"));
    assert!((50001..=65535).contains(&sport), "proxy port {sport}");
    assert_eq!((dst, dport), (ip(SERVER), 80));
    let nat = &r0.v(1)["nat"];
    assert_eq!(nat["src"], "198.51.100.1");
    assert_eq!(nat["sport"], sport);

    in4(
        &mut c,
        S + 1,
        SERVER,
        "198.51.100.1",
        tcp(80, sport, SYN | ACK, 5000, 1001, 0),
    );
    let translated = ip4("198.51.100.1", SERVER, &tcp(sport, 80, ACK, 1001, 5001, 0));
    out4(
        &mut c,
        S + 2,
        CLIENT,
        SERVER,
        tcp(40003, 80, ACK, 1001, 5001, 0),
    );
    in4(
        &mut c,
        S + 3,
        "203.0.113.1",
        "198.51.100.1",
        icmp_error(3, 4, &translated, false),
    );
    let r = replay("nat", rules, &c, &[]);
    assert_eq!(
        endpoints(r.out_frame(1).unwrap()),
        (ip("198.51.100.1"), sport, ip(SERVER), 80)
    );
    assert_eq!((r.action(2), r.state(2)), ("pass", "match"));
    let back = r.out_frame(2).unwrap();
    assert_eq!(endpoints(back), (ip(SERVER), 80, ip(CLIENT), 40003));
    assert!(checksums_ok(back));
    assert!(checksums_ok(r.out_frame(1).unwrap()));
    let f3 = r.out_frame(3).unwrap();
    assert_eq!(endpoints(f3).0, ip("198.51.100.1"));
    assert!(checksums_ok(f3));
    assert_eq!(
        (r.action(4), r.state(4)),
        ("pass", "match"),
        "ICMP error matched"
    );
    let err = r.out_frame(4).unwrap();
    assert!(checksums_ok(err));
    // Outer destination and the quoted packet's source are the client's.
    assert_eq!(&err[30..34], &[192, 0, 2, 10]);
    let quoted = &err[14 + 20 + 8..];
    assert_eq!(&quoted[12..16], &[192, 0, 2, 10]);
    assert_eq!(u16::from_be_bytes([quoted[20], quoted[21]]), 40003);
    let qhl = 20;
    assert_eq!(sum(&quoted[..qhl]), 0xffff, "quoted IPv4 header checksum");
}

/// A port forward: rdr-to on the way in, the reply translated back.
#[test]
fn rdr_to_both_ways() {
    let rules =
        "block all\npass in on em0 proto tcp to 198.51.100.1 port 8080 rdr-to 192.0.2.20 port 80\n";
    let mut c = Capture::default();
    in4(
        &mut c,
        S,
        "203.0.113.7",
        "198.51.100.1",
        tcp(5555, 8080, SYN, 100, 0, 0),
    );
    out4(
        &mut c,
        S + 1,
        "192.0.2.20",
        "203.0.113.7",
        tcp(80, 5555, SYN | ACK, 900, 101, 0),
    );
    in4(
        &mut c,
        S + 2,
        "203.0.113.7",
        "198.51.100.1",
        tcp(5555, 8080, ACK, 101, 901, 0),
    );
    let r = replay("rdr", rules, &c, &[]);
    assert_eq!((r.action(1), r.state(1)), ("pass", "new"));
    assert_eq!(
        endpoints(r.out_frame(1).unwrap()),
        (ip("203.0.113.7"), 5555, ip("192.0.2.20"), 80)
    );
    assert_eq!(r.v(1)["nat"]["dst"], "192.0.2.20");
    assert_eq!((r.action(2), r.state(2)), ("pass", "match"));
    assert_eq!(
        endpoints(r.out_frame(2).unwrap()),
        (ip("198.51.100.1"), 8080, ip("203.0.113.7"), 5555)
    );
    assert_eq!((r.action(3), r.state(3)), ("pass", "match"));
    for i in 1..=3 {
        assert!(checksums_ok(r.out_frame(i).unwrap()), "packet {i}");
    }
}

/// Fragments are reassembled before the rules see them (pf's default).
#[test]
fn fragments_reassembled_then_filtered() {
    let rules = "block all\npass in proto udp to port 53\n";
    let mut c = Capture::default();
    let big = ip4_with("203.0.113.9", CLIENT, &udp(3333, 53, 2000), 64, 77, &[]);
    let frags = fragment4(&big, 800);
    assert_eq!(frags.len(), 3);
    // Out of order: last, first, middle.
    c.push(S, eth(&frags[2], true));
    c.push(S + 1, eth(&frags[0], true));
    c.push(S + 2, eth(&frags[1], true));
    let other = ip4_with("203.0.113.9", CLIENT, &udp(3333, 54, 2000), 64, 78, &[]);
    for (i, f) in fragment4(&other, 800).iter().enumerate() {
        c.push(S + 3 + i as u64, eth(f, true));
    }
    let r = replay("frag", rules, &c, &[]);
    assert_eq!(r.action(1), "held");
    assert_eq!(r.action(2), "held");
    assert_eq!((r.action(3), r.rule(3)), ("pass", Some(1)));
    let whole = r.out_frame(3).unwrap();
    assert_eq!(&whole[14..], &big[..], "the reassembled datagram");
    assert_eq!(r.action(6), "block", "port 54 reassembled and blocked");
}

/// Tables with negated entries and both families; quick and last-match.
#[test]
fn tables_quick_and_last_match() {
    let rules = "\
table <bad> { 203.0.113.0/25, !203.0.113.7, 2001:db8:bad::/48 }
block in all
pass in proto tcp to port 22
block in quick from <bad>
pass in quick proto tcp from 203.0.113.200
block in proto tcp from 203.0.113.128/25 to any port 22
";
    let mut c = Capture::default();
    let syn = || tcp(1234, 22, SYN, 1, 0, 0);
    in4(&mut c, S, "203.0.113.6", CLIENT, syn());
    in4(&mut c, S, "203.0.113.7", CLIENT, syn());
    in4(&mut c, S, "203.0.113.200", CLIENT, syn());
    in4(&mut c, S, "203.0.113.201", CLIENT, syn());
    in4(&mut c, S, "198.51.100.3", CLIENT, syn());
    c.push(
        S,
        eth(&ip6("2001:db8:bad::1", "2001:db8:1::1", &syn()), true),
    );
    c.push(
        S,
        eth(&ip6("2001:db8:600d::1", "2001:db8:1::1", &syn()), true),
    );
    let r = replay("tables", rules, &c, &[]);
    assert_eq!((r.action(1), r.rule(1)), ("block", Some(2)), "in <bad>");
    assert_eq!((r.action(2), r.rule(2)), ("pass", Some(1)), "negated entry");
    assert_eq!((r.action(3), r.rule(3)), ("pass", Some(3)), "quick");
    assert_eq!((r.action(4), r.rule(4)), ("block", Some(4)), "last match");
    assert_eq!((r.action(5), r.rule(5)), ("pass", Some(1)));
    assert_eq!((r.action(6), r.rule(6)), ("block", Some(2)), "IPv6 entry");
    assert_eq!((r.action(7), r.rule(7)), ("pass", Some(1)));
}

/// A full state table drops new flows, never established ones. pf
/// counts a full table as `memory` (the state pool's hard limit), and
/// keeps `state-limit` for a rule's own `max`.
#[test]
fn state_limit_drops_new_flows_only() {
    let rules = "set limit states 2\nblock all\npass out proto udp\n";
    let mut c = Capture::default();
    out4(&mut c, S, CLIENT, SERVER, udp(1001, 53, 10));
    out4(&mut c, S, CLIENT, SERVER, udp(1002, 53, 10));
    out4(&mut c, S, CLIENT, SERVER, udp(1003, 53, 10));
    in4(&mut c, S + 1, SERVER, CLIENT, udp(53, 1001, 10));
    out4(&mut c, S + 2, CLIENT, SERVER, udp(1002, 53, 10));
    let r = replay("limit", rules, &c, &[]);
    assert_eq!(r.actions()[..2], ["pass/new", "pass/new"]);
    assert_eq!((r.action(3), r.reason(3)), ("block", Some("memory")));
    assert_eq!((r.action(4), r.state(4)), ("pass", "match"));
    assert_eq!((r.action(5), r.state(5)), ("pass", "match"));
}

/// States expire on pf's timeouts, with the capture's time as the clock.
#[test]
fn timeouts_expire_states() {
    let rules = "set timeout { udp.first 10, udp.single 10, udp.multiple 20 }\nblock all\npass out proto udp\n";
    let mut c = Capture::default();
    // udp.first from the first packet; udp.single once the reply is
    // seen (pf moves to multiple only when both sides have sent twice);
    // udp.multiple after that.
    out4(&mut c, S, CLIENT, SERVER, udp(2001, 53, 10));
    in4(&mut c, 5 * S, SERVER, CLIENT, udp(53, 2001, 10));
    out4(&mut c, 12 * S, CLIENT, SERVER, udp(2001, 53, 10));
    in4(&mut c, 30 * S, SERVER, CLIENT, udp(53, 2001, 10));
    in4(&mut c, 51 * S, SERVER, CLIENT, udp(53, 2001, 10));
    out4(&mut c, 52 * S, CLIENT, SERVER, udp(2002, 53, 10));
    in4(&mut c, 61 * S, SERVER, CLIENT, udp(53, 2002, 10));
    out4(&mut c, 62 * S, CLIENT, SERVER, udp(2003, 53, 10));
    in4(&mut c, 68 * S, SERVER, CLIENT, udp(53, 2003, 10));
    in4(&mut c, 79 * S, SERVER, CLIENT, udp(53, 2003, 10));
    let r = replay("timeouts", rules, &c, &[]);
    assert_eq!(
        r.actions(),
        [
            "pass/new",
            "pass/match",
            "pass/match",
            "pass/match",
            "block/none",
            "pass/new",
            "pass/match",
            "pass/new",
            "pass/match",
            "block/none"
        ]
    );
}

/// `block return`: a TCP RST for TCP, ICMP port unreachable for UDP.
#[test]
fn block_return_replies() {
    let rules = "pass all\nblock return in proto { tcp, udp } to port 23\n";
    let mut c = Capture::default();
    let syn = ip4("203.0.113.9", CLIENT, &tcp(4444, 23, SYN, 7000, 0, 0));
    c.push(S, eth(&syn, true));
    in4(&mut c, S + 1, "203.0.113.9", CLIENT, udp(4444, 23, 12));
    let r = replay("return", rules, &c, &[]);
    assert_eq!(r.action(1), "block");
    assert_eq!(r.replies.len(), 2);
    let rst = &r.replies[0].1;
    assert!(checksums_ok(rst));
    assert_eq!(&rst[0..6], &PEER_MAC, "sent back to the sender");
    assert_eq!(endpoints(rst), (ip(CLIENT), 23, ip("203.0.113.9"), 4444));
    let th = &rst[34..];
    assert_eq!(th[13], RST | ACK);
    assert_eq!(u32::from_be_bytes(th[8..12].try_into().unwrap()), 7001);
    let unreach = &r.replies[1].1;
    assert!(checksums_ok(unreach));
    assert_eq!(&unreach[34..36], &[3, 3], "ICMP port unreachable");
}

/// IP options are dropped unless the rule says allow-opts; malformed
/// packets are counted drops.
#[test]
fn ip_options_and_malformed_packets() {
    let rules = "pass in proto udp to port 1\npass in proto udp to port 2 allow-opts\n";
    let mut c = Capture::default();
    let opts = [0x01, 0x01, 0x01, 0x00]; // NOP NOP NOP EOL
    c.push(
        S,
        eth(
            &ip4_with("203.0.113.9", CLIENT, &udp(9, 1, 4), 64, 1, &opts),
            true,
        ),
    );
    c.push(
        S,
        eth(
            &ip4_with("203.0.113.9", CLIENT, &udp(9, 2, 4), 64, 2, &opts),
            true,
        ),
    );
    let mut short = eth(&ip4("203.0.113.9", CLIENT, &tcp(9, 3, SYN, 1, 0, 0)), true);
    short.truncate(14 + 20 + 10);
    c.push(S, short);
    let mut bad_len = eth(&ip4("203.0.113.9", CLIENT, &udp(9, 1, 4)), true);
    bad_len[16..18].copy_from_slice(&9u16.to_be_bytes());
    c.push(S, bad_len);
    c.push(S, vec![0u8; 6]);
    let r = replay("opts", rules, &c, &[]);
    assert_eq!((r.action(1), r.reason(1)), ("block", Some("ip-option")));
    assert_eq!(r.action(2), "pass");
    assert_eq!(r.action(3), "block");
    assert!(matches!(r.reason(3), Some("short") | Some("bad-offset")));
    assert_eq!(r.action(4), "block");
    assert_eq!(r.action(5), "block");
}

/// IPv6 TCP through states.
#[test]
fn ipv6_tcp_through_states() {
    let rules = "block all\npass out inet6 proto tcp\n";
    let (cl, sv) = ("2001:db8:1::10", "2001:db8:2::5");
    let mut c = Capture::default();
    c.push(
        S,
        eth(&ip6(cl, sv, &tcp(40000, 80, SYN, 1000, 0, 0)), false),
    );
    c.push(
        S,
        eth(
            &ip6(sv, cl, &tcp(80, 40000, SYN | ACK, 5000, 1001, 0)),
            true,
        ),
    );
    c.push(
        S,
        eth(&ip6(cl, sv, &tcp(40000, 80, ACK, 1001, 5001, 0)), false),
    );
    c.push(
        S,
        eth(
            &ip6(sv, cl, &tcp(80, 40001, SYN | ACK, 5000, 1001, 0)),
            true,
        ),
    );
    let r = replay("v6", rules, &c, &[]);
    assert_eq!(
        r.actions(),
        ["pass/new", "pass/match", "pass/match", "block/none"]
    );
}

/// A ruleset pfd cannot load is refused with pfctl's diagnostics, and
/// nothing is replayed.
#[test]
fn bad_ruleset_is_refused() {
    let c = Capture::default();
    let e = match try_replay("bad", "pass in on em0 proto tcp port\n", &c, &[]) {
        Err(e) => e,
        Ok(_) => panic!("a bad ruleset replayed"),
    };
    assert!(e.contains("pf.conf:1: syntax error"), "{e}");
}

fn seq_ack(frame: &[u8]) -> (u32, u32) {
    let th = &frame[34..];
    (
        u32::from_be_bytes(th[4..8].try_into().unwrap()),
        u32::from_be_bytes(th[8..12].try_into().unwrap()),
    )
}

/// `modulate state`: both peers' sequence numbers leave shifted (pf
/// modulates the responder's ISN too), acknowledgements are shifted
/// back, checksums stay right.
#[test]
fn modulate_state_shifts_sequence_numbers() {
    let rules = "block all\npass out proto tcp modulate state\n";
    let mut c = Capture::default();
    out4(&mut c, S, CLIENT, SERVER, tcp(40010, 80, SYN, 1000, 0, 0));
    in4(
        &mut c,
        S + 1,
        SERVER,
        CLIENT,
        tcp(80, 40010, SYN | ACK, 5000, 0, 0),
    );
    let r0 = replay("modulate-probe", rules, &c, &[]);
    let isn = seq_ack(r0.out_frame(1).unwrap()).0;
    assert_ne!(isn, 1000, "the ISN is modulated");
    let cdiff = isn.wrapping_sub(1000);

    // The server acknowledges the ISN it saw.
    let mut c = Capture::default();
    out4(&mut c, S, CLIENT, SERVER, tcp(40010, 80, SYN, 1000, 0, 0));
    in4(
        &mut c,
        S + 1,
        SERVER,
        CLIENT,
        tcp(80, 40010, SYN | ACK, 5000, isn.wrapping_add(1), 0),
    );
    let r1 = replay("modulate-probe2", rules, &c, &[]);
    let (sisn, ack) = seq_ack(r1.out_frame(2).unwrap());
    assert_eq!(ack, 1001, "ack shifted back to the client's own numbers");
    assert_ne!(sisn, 5000, "the responder's ISN is modulated too");
    let sdiff = sisn.wrapping_sub(5000);

    out4(
        &mut c,
        S + 2,
        CLIENT,
        SERVER,
        tcp(40010, 80, ACK, 1001, sisn.wrapping_add(1), 0),
    );
    out4(
        &mut c,
        S + 3,
        CLIENT,
        SERVER,
        tcp(40010, 80, ACK | PSH, 1001, sisn.wrapping_add(1), 20),
    );
    in4(
        &mut c,
        S + 4,
        SERVER,
        CLIENT,
        tcp(80, 40010, ACK, 5001, isn.wrapping_add(21), 0),
    );
    let r = replay("modulate", rules, &c, &[]);
    assert_eq!(
        seq_ack(r.out_frame(1).unwrap()).0,
        isn,
        "same seed, same ISN"
    );
    assert_eq!(
        r.actions(),
        [
            "pass/new",
            "pass/match",
            "pass/match",
            "pass/match",
            "pass/match"
        ]
    );
    assert_eq!(
        seq_ack(r.out_frame(3).unwrap()),
        (1001u32.wrapping_add(cdiff), 5001)
    );
    assert_eq!(
        seq_ack(r.out_frame(4).unwrap()).0,
        1001u32.wrapping_add(cdiff)
    );
    assert_eq!(
        seq_ack(r.out_frame(5).unwrap()),
        (5001u32.wrapping_add(sdiff), 1021)
    );
    for i in 1..=5 {
        assert!(checksums_ok(r.out_frame(i).unwrap()), "packet {i}");
    }
}

/// Rule and state counters, as pfctl -vsr and -vss count them: a state's
/// packets count on the rule that created it.
#[test]
fn rule_and_state_counters() {
    let rules = "block all\npass out proto udp\n";
    let mut c = Capture::default();
    out4(&mut c, S, CLIENT, SERVER, udp(3001, 53, 10));
    in4(&mut c, S, SERVER, CLIENT, udp(53, 3001, 30));
    out4(&mut c, S, CLIENT, SERVER, udp(3001, 53, 10));
    in4(&mut c, S, SERVER, CLIENT, udp(53, 9999, 10));
    let r = replay("counters", rules, &c, &[]);
    let rule1 = &r.summary["rules"][1];
    assert_eq!(rule1["nr"], 1);
    assert_eq!(rule1["packets"]["out"], 2);
    assert_eq!(rule1["packets"]["in"], 1);
    assert_eq!(rule1["bytes"]["in"], 20 + 8 + 30);
    assert_eq!(rule1["states"], 1);
    let rule0 = &r.summary["rules"][0];
    assert_eq!(rule0["packets"]["in"], 1, "the blocked packet");
    let states = r.summary["states"].as_array().unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0]["rule"], 1);
    assert_eq!(states[0]["packets"], serde_json::json!([2, 1]));
    assert_eq!(r.summary["reasons"]["match"], 1);
}

/// `log` writes pflog records: action, reason, rule number, interface
/// and direction, and the packet itself.
#[test]
fn log_rules_write_pflog() {
    let rules = "block in log all\npass out log proto udp\npass in proto tcp to port 22\n";
    let mut c = Capture::default();
    in4(&mut c, S, SERVER, CLIENT, tcp(5000, 23, SYN, 1, 0, 0));
    out4(&mut c, S, CLIENT, SERVER, udp(4000, 53, 5));
    in4(&mut c, S, SERVER, CLIENT, tcp(5000, 22, SYN, 1, 0, 0));
    let r = replay("pflog", rules, &c, &[]);
    assert_eq!(r.pflog.len(), 2);
    let (h, ip) = &r.pflog[0];
    assert_eq!(h.action, dataplane::pflog::PfAction::Drop);
    assert_eq!(h.rulenr, 0);
    assert_eq!(h.ifname, "em0");
    assert_eq!(h.dir, dataplane::pdesc::Dir::In);
    assert_eq!(&ip[..], &c.frames[0].1[14..]);
    let (h, _) = &r.pflog[1];
    assert_eq!(h.action, dataplane::pflog::PfAction::Pass);
    assert_eq!(h.rulenr, 1);
    assert_eq!(h.dir, dataplane::pdesc::Dir::Out);
    assert_eq!(r.v(1)["log"], true);
    assert_eq!(r.v(3)["log"], false);
}

/// A feature the engine does not enforce refuses the ruleset by line.
#[test]
fn unenforced_features_are_refused() {
    let c = Capture::default();
    let rules = "pass in proto tcp to port 80 route-to (em0:peer)\n";
    let e = match try_replay("route-to", rules, &c, &[]) {
        Err(e) => e,
        Ok(_) => panic!("loaded"),
    };
    assert!(
        e.contains("pf.conf:1: not supported: route-to, reply-to and dup-to (ifname:peer)"),
        "{e}"
    );
}

/// Source tracking: `max-src-states` caps one source's states;
/// `max-src-conn` with `overload <t> flush` puts a source over the limit
/// into the table, which a quick block rule then reads, and kills its
/// states.
#[test]
fn source_limits_and_overload() {
    let rules = "\
table <abusers> persist
block in quick from <abusers>
block all
pass in proto udp to port 53 keep state (max-src-states 2)
pass in proto tcp to port 80 keep state (max-src-conn 1, overload <abusers> flush)
";
    let mut c = Capture::default();
    let (a, b) = ("203.0.113.7", "203.0.113.8");
    for p in 1..=3 {
        in4(&mut c, S, a, CLIENT, udp(1000 + p, 53, 4));
    }
    in4(&mut c, S, b, CLIENT, udp(1000, 53, 4));
    let r = replay("max-src-states", rules, &c, &[]);
    assert_eq!(r.actions()[..2], ["pass/new", "pass/new"]);
    assert_eq!((r.action(3), r.reason(3)), ("block", Some("src-limit")));
    assert_eq!(r.action(4), "pass", "another source has its own count");

    let mut c = Capture::default();
    let handshake = |c: &mut Capture, t: u64, sport: u16| {
        in4(c, t, a, CLIENT, tcp(sport, 80, SYN, 100, 0, 0));
        out4(c, t, CLIENT, a, tcp(80, sport, SYN | ACK, 900, 101, 0));
        in4(c, t, a, CLIENT, tcp(sport, 80, ACK, 101, 901, 0))
    };
    handshake(&mut c, S, 5001); // 1..=3: established, 1 connection
    handshake(&mut c, 2 * S, 5002); // 4..=6: the second goes over
    in4(&mut c, 3 * S, a, CLIENT, tcp(5001, 80, ACK, 101, 901, 0)); // 7
    in4(&mut c, 3 * S, a, CLIENT, tcp(5003, 80, SYN, 100, 0, 0)); // 8
    in4(&mut c, 3 * S, b, CLIENT, tcp(5003, 80, SYN, 100, 0, 0)); // 9
    let r = replay("overload", rules, &c, &[]);
    assert_eq!(
        r.actions()[..5],
        [
            "pass/new",
            "pass/match",
            "pass/match",
            "pass/new",
            "pass/match"
        ]
    );
    assert_eq!((r.action(6), r.reason(6)), ("block", Some("src-limit")));
    assert_eq!(
        (r.action(7), r.rule(7)),
        ("block", Some(0)),
        "flushed, then blocked by <abusers>"
    );
    assert_eq!((r.action(8), r.rule(8)), ("block", Some(0)));
    assert_eq!((r.action(9), r.state(9)), ("pass", "new"));
}

/// Interface groups: em0 is in `em`, its driver's group.
#[test]
fn interface_groups() {
    let rules = "block all\npass in on em proto udp to port 1\npass in on tun proto udp to port 2\npass in on ! em1 proto udp to port 3\n";
    let mut c = Capture::default();
    for p in 1..=3 {
        in4(&mut c, S, SERVER, CLIENT, udp(9, p, 4));
    }
    let r = replay("groups", rules, &c, &[]);
    assert_eq!((r.action(1), r.rule(1)), ("pass", Some(1)));
    assert_eq!((r.action(2), r.rule(2)), ("block", Some(0)));
    assert_eq!((r.action(3), r.rule(3)), ("pass", Some(3)));
}

/// `no state`: the rule passes this packet only; the reply meets the
/// rules on its own.
#[test]
fn no_state_rules_create_none() {
    let rules = "block all\npass out proto udp no state\n";
    let mut c = Capture::default();
    out4(&mut c, S, CLIENT, SERVER, udp(7000, 53, 4));
    in4(&mut c, S, SERVER, CLIENT, udp(53, 7000, 4));
    let r = replay("no-state", rules, &c, &[]);
    assert_eq!(r.actions(), ["pass/none", "block/none"]);
}

/// binat-to: the inside host is seen as its outside address both ways,
/// ports kept.
#[test]
fn binat_both_ways() {
    let rules = "block all\npass on em0 from 192.0.2.10 binat-to 198.51.100.10\n";
    let mut c = Capture::default();
    out4(&mut c, S, CLIENT, SERVER, tcp(40100, 80, SYN, 1, 0, 0));
    in4(
        &mut c,
        S,
        SERVER,
        "198.51.100.10",
        tcp(80, 40100, SYN | ACK, 9, 2, 0),
    );
    in4(
        &mut c,
        S,
        "203.0.113.99",
        "198.51.100.10",
        tcp(6000, 22, SYN, 1, 0, 0),
    );
    let r = replay("binat", rules, &c, &[]);
    assert_eq!(
        endpoints(r.out_frame(1).unwrap()),
        (ip("198.51.100.10"), 40100, ip(SERVER), 80)
    );
    assert_eq!((r.action(2), r.state(2)), ("pass", "match"));
    assert_eq!(
        endpoints(r.out_frame(2).unwrap()),
        (ip(SERVER), 80, ip(CLIENT), 40100)
    );
    assert_eq!(
        (r.action(3), r.state(3)),
        ("pass", "new"),
        "inbound half: rdr to the inside"
    );
    assert_eq!(
        endpoints(r.out_frame(3).unwrap()),
        (ip("203.0.113.99"), 6000, ip(CLIENT), 22)
    );
    for i in 1..=3 {
        assert!(checksums_ok(r.out_frame(i).unwrap()), "packet {i}");
    }
}

/// IPv6 fragments are reassembled and filtered as one datagram, then
/// leave as the fragments they came as (pf_refragment6: the largest
/// fragment's size, the source's ident, in order); a lone fragment
/// times out.
#[test]
fn ipv6_fragments_reassembled_and_refragmented() {
    let rules = "block all\npass in inet6 proto udp to port 53\n";
    let big = ip6("2001:db8:9::1", "2001:db8:1::1", &udp(3333, 53, 3000));
    let frags = fragment6(&big, 1232, 0x1234);
    assert_eq!(frags.len(), 3);
    let mut c = Capture::default();
    c.push(S, eth(&frags[1], true));
    c.push(S, eth(&frags[0], true));
    c.push(S, eth(&frags[2], true));
    let lone = fragment6(&big, 1232, 0x9999);
    c.push(S, eth(&lone[0], true));
    let r = replay("frag6", rules, &c, &[]);
    assert_eq!(
        r.actions(),
        ["held/none", "held/none", "pass/new", "held/none"]
    );
    // one state for the datagram, its rule counted once
    assert_eq!(r.summary["states"].as_array().unwrap().len(), 1);
    assert_eq!(r.summary["rules"][1]["packets"]["in"], 1);
    assert_eq!(r.summary["refrag_failed"], 0);
    let out = r.out_frames(3);
    assert_eq!(out.len(), 3, "three fragments in, three out");
    for (got, want) in out.iter().zip(&frags) {
        assert_eq!(&got[14..], &want[..], "the fragment as the source sent it");
    }
    assert_eq!(r.passed.len(), 3);
}

/// A rule's own timeouts override the global ones.
#[test]
fn per_rule_timeouts() {
    let rules = "block all\npass out proto udp to port 53 keep state (udp.first 5)\npass out proto udp to port 54\n";
    let mut c = Capture::default();
    out4(&mut c, S, CLIENT, SERVER, udp(8000, 53, 4));
    out4(&mut c, S, CLIENT, SERVER, udp(8000, 54, 4));
    in4(&mut c, 7 * S, SERVER, CLIENT, udp(53, 8000, 4));
    in4(&mut c, 7 * S, SERVER, CLIENT, udp(54, 8000, 4));
    let r = replay("rule-timeouts", rules, &c, &[]);
    assert_eq!(
        r.actions(),
        ["pass/new", "pass/new", "block/none", "pass/match"]
    );
}

/// `sticky-address`: a source keeps its translation address while it has
/// states, and loses it `src.track` after its last state goes.
#[test]
fn sticky_address_lives_with_its_states() {
    let rules = "set timeout { interval 1, udp.first 10, udp.single 10, src.track 5 }\n\
                 block all\n\
                 pass out on em0 proto udp from 192.0.2.0/24 \
                 nat-to { 198.51.100.1, 198.51.100.2, 198.51.100.3 } round-robin sticky-address\n";
    let (a, b) = ("192.0.2.10", "192.0.2.11");
    let mut c = Capture::default();
    out4(&mut c, S, a, SERVER, udp(1000, 53, 4)); // 1: A gets .1
    out4(&mut c, 2 * S, a, SERVER, udp(1001, 53, 4)); // 2: A keeps .1
    out4(&mut c, 3 * S, b, SERVER, udp(1000, 53, 4)); // 3: B gets .2
    out4(&mut c, 14 * S, a, SERVER, udp(1002, 53, 4)); // 4: A's states gone at 13, node lives to 18
    out4(&mut c, 40 * S, a, SERVER, udp(1003, 53, 4)); // 5: all gone: A moves on
    let r = replay("sticky", rules, &c, &[]);
    let src = |i: usize| r.v(i)["nat"]["src"].as_str().unwrap().to_string();
    assert_eq!(src(1), "198.51.100.1");
    assert_eq!(src(2), "198.51.100.1");
    assert_eq!(src(3), "198.51.100.2");
    assert_eq!(
        src(4),
        "198.51.100.1",
        "held by src.track after the last state"
    );
    assert_eq!(src(5), "198.51.100.3", "the node expired: the next address");
}

/// `scrub (max-mss, min-ttl, no-df, random-id)` and `set tos` on the
/// first packet and, through the state, on later ones.
#[test]
fn scrub_options_and_set_tos() {
    let rules = "block all\nmatch out scrub (max-mss 1200, min-ttl 100, no-df, random-id)\n\
                 pass out proto tcp set tos lowdelay\n";
    let mut c = Capture::default();
    let syn = L4::Tcp {
        sport: 40020,
        dport: 80,
        seq: 1000,
        ack: 0,
        flags: SYN,
        win: 65535,
        opts: vec![1, 2, 4, 0x05, 0xb4, 0, 0, 0], // NOP, MSS 1460, EOL pad
        data: vec![],
    };
    let mut ip = ip4_with(CLIENT, SERVER, &syn, 20, 77, &[]);
    ip[6] = 0x40; // DF
    let ck = {
        ip[10] = 0;
        ip[11] = 0;
        dataplane::wire::checksum::finish(sum(&ip[..20]))
    };
    ip[10..12].copy_from_slice(&ck.to_be_bytes());
    c.push(S, eth(&ip, false));
    in4(
        &mut c,
        S,
        SERVER,
        CLIENT,
        tcp(80, 40020, SYN | ACK, 5000, 1001, 0),
    );
    out4(
        &mut c,
        S,
        CLIENT,
        SERVER,
        tcp(40020, 80, ACK, 1001, 5001, 0),
    );
    let r = replay("scrub", rules, &c, &[]);
    assert_eq!(r.actions(), ["pass/new", "pass/match", "pass/match"]);
    let f = r.out_frame(1).unwrap();
    assert!(checksums_ok(f));
    let ip = &f[14..];
    assert_eq!(ip[1], 0x10, "set tos lowdelay");
    assert_eq!(ip[6] & 0x40, 0, "no-df cleared DF");
    assert_eq!(ip[8], 100, "min-ttl raised the TTL");
    assert_ne!(&ip[4..6], &[0, 77], "random-id");
    let th = &ip[20..];
    assert_eq!(
        &th[20..24],
        &[1, 2, 4, 0x04],
        "max-mss clamped 1460 to 1200"
    );
    assert_eq!(th[24], 0xb0);
    // a later packet of the state gets the same treatment
    let f3 = r.out_frame(3).unwrap();
    assert!(checksums_ok(f3));
    assert_eq!((f3[14 + 1], f3[14 + 8]), (0x10, 100));
}

/// A real capture (fixtures/veth-session.pcap: Linux hosts in two
/// network namespaces, taken with tcpdump on 192.0.2.1's side): ping,
/// an HTTP exchange with window scaling and timestamps, a UDP datagram
/// answered by ICMP port unreachable, and a SYN to a closed port. As the
/// firewall on that side, every allowed flow keeps its state to the end.
#[test]
fn real_capture_through_the_rules() {
    let rules =
        "block all\npass out proto tcp to port 8000\npass out proto icmp\npass out proto udp\n";
    let pcap =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/veth-session.pcap");
    let r = replay_pcap("real", rules, &pcap, &["--inbound-from", "192.0.2.2/32"]);
    assert_eq!(r.verdicts.len(), 20);
    let expect = [
        "pass/new",
        "pass/match",
        "pass/match",
        "pass/match", // ping
        "pass/new",
        "pass/match",
        "pass/match",
        "pass/match",
        "pass/match",
        "pass/match",
        "pass/match",
        "pass/match",
        "pass/match",
        "pass/match",
        "pass/match",
        "pass/match", // http
        "pass/new",
        "pass/match", // udp, its ICMP error
        "block/none",
        "block/none", // closed port: SYN and RST
    ];
    assert_eq!(r.actions(), expect);
    assert_eq!(r.rule(5), Some(1));
    assert_eq!(r.rule(19), Some(0));
    let states = r.summary["states"].as_array().unwrap();
    assert_eq!(states.len(), 3);
}

/// IP options on a packet that matches a state: dropped unless the
/// state's rule said allow-opts (pf's PFSTATE_ALLOWOPTS).
#[test]
fn ip_options_on_states() {
    let rules =
        "block all\npass out proto udp to port 1\npass out proto udp to port 2 allow-opts\n";
    let opts = [0x01, 0x01, 0x01, 0x00];
    let mut c = Capture::default();
    out4(&mut c, S, CLIENT, SERVER, udp(9, 1, 4));
    out4(&mut c, S, CLIENT, SERVER, udp(9, 2, 4));
    c.push(
        S,
        eth(&ip4_with(SERVER, CLIENT, &udp(1, 9, 4), 64, 3, &opts), true),
    );
    c.push(
        S,
        eth(&ip4_with(SERVER, CLIENT, &udp(2, 9, 4), 64, 4, &opts), true),
    );
    let r = replay("opts-state", rules, &c, &[]);
    assert_eq!(
        r.actions(),
        ["pass/new", "pass/new", "block/match", "pass/match"]
    );
    assert_eq!(r.reason(3), Some("ip-option"));
}

/// `--group`: the replayed interface in `egress`, as hostname.if and
/// mygate would put it.
#[test]
fn egress_group_from_the_command_line() {
    let rules = "block all\npass out on egress proto udp\n";
    let mut c = Capture::default();
    out4(&mut c, S, CLIENT, SERVER, udp(9, 53, 4));
    let r = replay("egress", rules, &c, &["--group", "egress"]);
    assert_eq!((r.action(1), r.rule(1)), ("pass", Some(1)));
    let r = replay("no-egress", rules, &c, &[]);
    assert_eq!((r.action(1), r.rule(1)), ("block", Some(0)));
}
