//! `set syncookies` end to end through `pfd replay`: the client's SYN is
//! answered with a SYN|ACK whose ISN is a cookie and no state is kept;
//! the client's ACK bringing the cookie back recreates the SYN, the
//! rules pass it with state, and the state goes on as `synproxy state`
//! would: a SYN to the server, the server's SYN|ACK answered, then data
//! both ways with sequence numbers moved between the cookie and the
//! server's ISN. One interface: the client's packets are inbound, the
//! server's outbound; frames back to a packet's sender are in
//! --replies, those sent onward in --out.

mod support;
use support::*;

const S: u64 = 1_000_000_000;
const CLIENT: &str = "198.51.100.7";
const SERVER: &str = "203.0.113.5";
const RULES: &str = "set syncookies always\nblock all\npass in on em0 proto tcp to port 80\n";

/// MSS 1460 and window shift 7, as most clients send them.
const SYN_OPTS: [u8; 8] = [2, 4, 0x05, 0xb4, 1, 3, 3, 7];

fn seg(sport: u16, dport: u16, flags: u8, seq: u32, ack: u32, data: usize) -> L4 {
    L4::Tcp {
        sport,
        dport,
        seq,
        ack,
        flags,
        win: 65535,
        opts: if flags & SYN != 0 {
            SYN_OPTS.to_vec()
        } else {
            Vec::new()
        },
        data: vec![0x61; data],
    }
}

fn inbound(cap: &mut Capture, t: u64, l4: L4) -> usize {
    cap.push(t, eth(&ip4(CLIENT, SERVER, &l4), true))
}

fn outbound(cap: &mut Capture, t: u64, l4: L4) -> usize {
    cap.push(t, eth(&ip4(SERVER, CLIENT, &l4), false))
}

/// (flags, seq, ack, win, MSS option, payload length) of an
/// IPv4-in-Ethernet TCP frame, its checksums checked.
fn tcp_of(frame: &[u8]) -> (u8, u32, u32, u16, Option<u16>, usize) {
    assert!(checksums_ok(frame), "checksums of {frame:02x?}");
    let ip = &frame[14..];
    let hl = usize::from(ip[0] & 0xf) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let th = &ip[hl..total];
    let off = usize::from(th[12] >> 4) * 4;
    let opts = &th[20..off];
    let mss = (opts.len() >= 4 && opts[0] == 2 && opts[1] == 4)
        .then(|| u16::from_be_bytes([opts[2], opts[3]]));
    (
        th[13],
        u32::from_be_bytes(th[4..8].try_into().unwrap()),
        u32::from_be_bytes(th[8..12].try_into().unwrap()),
        u16::from_be_bytes([th[14], th[15]]),
        mss,
        th.len() - off,
    )
}

fn one(frames: Vec<&[u8]>) -> &[u8] {
    assert_eq!(frames.len(), 1, "one frame");
    frames[0]
}

/// `always`: SYN → cookie SYN|ACK and no state; the client's ACK → a SYN
/// toward the server; the server's SYN|ACK → the two ACKs; then data
/// both ways, translated.
#[test]
fn always_cookie_handshake_then_data_both_ways() {
    let mut c = Capture::default();
    inbound(&mut c, S, seg(40000, 80, SYN, 1000, 0, 0));
    let r0 = replay("cookie-1", RULES, &c, &[]);
    assert_eq!(r0.actions(), ["block/none"]);
    assert_eq!(r0.v(1)["emit"], serde_json::json!(["sender"]));
    let synack = one(r0.emitted(1, "sender"));
    assert_eq!(&synack[0..6], &PEER_MAC, "back to the client");
    assert_eq!(endpoints(synack), (ip(SERVER), 80, ip(CLIENT), 40000));
    let (flags, cookie, ack, win, mss, len) = tcp_of(synack);
    assert_eq!(
        (flags, ack, win, mss, len),
        (SYN | ACK, 1001, 0, Some(1460), 0)
    );
    assert_eq!(
        r0.summary["states"].as_array().unwrap().len(),
        0,
        "no state"
    );
    assert_eq!(r0.summary["syncookies"]["sent"], 1);
    assert_eq!(r0.summary["syncookies"]["active"], true);
    assert_eq!(
        r0.summary["reasons"],
        serde_json::json!({}),
        "pf counts no reason"
    );
    assert!(r0.passed.is_empty(), "nothing reaches the server");

    inbound(
        &mut c,
        S + 1,
        seg(40000, 80, ACK, 1001, cookie.wrapping_add(1), 0),
    );
    let r1 = replay("cookie-2", RULES, &c, &[]);
    assert_eq!(r1.actions(), ["block/none", "block/new"]);
    assert_eq!(r1.reason(2), Some("synproxy"));
    assert_eq!(
        r1.rule(2),
        Some(1),
        "the rule that passed the recreated SYN"
    );
    let syn = one(r1.emitted(2, "onward"));
    assert_eq!(&syn[0..6], &FW_MAC, "on the way the ACK was going");
    assert_eq!(endpoints(syn), (ip(CLIENT), 40000, ip(SERVER), 80));
    let (flags, fw_s, ack, win, mss, _) = tcp_of(syn);
    assert_eq!((flags, ack, win, mss), (SYN, 0, 0, Some(1460)));
    assert_eq!(r1.summary["syncookies"]["valid"], 1);
    let st = &r1.summary["states"][0];
    assert_eq!(
        (st["src_state"].as_u64(), st["rule"].as_u64()),
        (Some(12), Some(1)),
        "PROXY:DST"
    );

    outbound(
        &mut c,
        S + 2,
        seg(80, 40000, SYN | ACK, 5000, fw_s.wrapping_add(1), 0),
    );
    inbound(
        &mut c,
        S + 3,
        seg(40000, 80, ACK | PSH, 1001, cookie.wrapping_add(1), 100),
    );
    outbound(
        &mut c,
        S + 4,
        seg(80, 40000, ACK | PSH, 5001, fw_s.wrapping_add(101), 50),
    );
    inbound(
        &mut c,
        S + 5,
        seg(40000, 80, ACK, 1101, cookie.wrapping_add(51), 0),
    );
    let r = replay("cookie", RULES, &c, &[]);
    assert_eq!(
        r.actions(),
        [
            "block/none",
            "block/new",
            "block/match",
            "pass/match",
            "pass/match",
            "pass/match"
        ]
    );
    // same seed, same secrets: the same cookie
    assert_eq!(r.emitted(1, "sender"), r0.emitted(1, "sender"));
    let to_server = one(r.emitted(3, "sender"));
    assert_eq!(endpoints(to_server), (ip(CLIENT), 40000, ip(SERVER), 80));
    assert_eq!(
        tcp_of(to_server),
        (ACK, fw_s.wrapping_add(1), 5001, 65535, None, 0),
        "completes the server's handshake"
    );
    let to_client = one(r.emitted(3, "onward"));
    assert_eq!(endpoints(to_client), (ip(SERVER), 80, ip(CLIENT), 40000));
    assert_eq!(
        tcp_of(to_client),
        (ACK, cookie.wrapping_add(1), 1001, 65535, None, 0),
        "the client hears the server's window"
    );
    let d = r.out_frame(4).unwrap();
    assert_eq!(endpoints(d), (ip(CLIENT), 40000, ip(SERVER), 80));
    let (_, seq, ack, _, _, len) = tcp_of(d);
    assert_eq!(
        (seq, ack, len),
        (fw_s.wrapping_add(1), 5001, 100),
        "client's numbers onto the firewall's ISN"
    );
    let d = r.out_frame(5).unwrap();
    assert_eq!(endpoints(d), (ip(SERVER), 80, ip(CLIENT), 40000));
    let (_, seq, ack, _, _, len) = tcp_of(d);
    assert_eq!(
        (seq, ack, len),
        (cookie.wrapping_add(1), 1101, 50),
        "server's numbers onto the cookie"
    );
    let (_, seq, ack, ..) = tcp_of(r.out_frame(6).unwrap());
    assert_eq!((seq, ack), (fw_s.wrapping_add(101), 5051));
    let st = &r.summary["states"][0];
    assert_eq!(
        (st["src_state"].as_u64(), st["dst_state"].as_u64()),
        (Some(4), Some(4))
    );
    assert_eq!(r.summary["states"].as_array().unwrap().len(), 1);
}

/// ACKs that do not bring a valid cookie back (wrong ISN, wrong
/// sequence, another port, or no SYN ever) are evaluated as any packet
/// without state: `block all` drops them, no state is made, no SYN goes
/// to the server.
#[test]
fn forged_acks_get_no_state() {
    let mut c = Capture::default();
    inbound(&mut c, S, seg(40000, 80, SYN, 1000, 0, 0));
    let cookie = tcp_of(one(replay("forged-1", RULES, &c, &[]).emitted(1, "sender"))).1;
    inbound(
        &mut c,
        S + 1,
        seg(40000, 80, ACK, 1001, cookie.wrapping_add(2), 0),
    );
    inbound(
        &mut c,
        S + 2,
        seg(40000, 80, ACK, 1002, cookie.wrapping_add(1), 0),
    );
    inbound(
        &mut c,
        S + 3,
        seg(40001, 80, ACK, 1001, cookie.wrapping_add(1), 0),
    );
    inbound(
        &mut c,
        S + 4,
        seg(40002, 80, ACK, 0x1234_5678, 0x9abc_def0, 0),
    );
    let r = replay("forged", RULES, &c, &[]);
    assert_eq!(r.actions(), ["block/none"; 5]);
    for i in 2..=5 {
        assert_eq!(r.rule(i), Some(0), "packet {i}: the block rule");
        assert_eq!(r.v(i)["emit"], serde_json::Value::Null, "packet {i}");
    }
    assert_eq!(r.summary["states"].as_array().unwrap().len(), 0);
    assert_eq!(r.summary["syncookies"]["valid"], 0);
    assert!(r.passed.is_empty());
}

/// `adaptive` with `set limit states 10` and start 20% (2 half-open
/// states), end 10% (1): SYNs keep states until more than 2 are half
/// open, the next gets a cookie (a synflood detected); after the states
/// time out, the key rotations find nothing half open and no cookie in
/// flight, and SYNs keep states again.
#[test]
fn adaptive_turns_on_past_start_and_off_below_end() {
    let rules = "set limit states 10\nset syncookies adaptive (start 20%, end 10%)\n\
                 pass in on em0 proto tcp\n";
    let mut c = Capture::default();
    for sport in 1..=4 {
        inbound(&mut c, S, seg(sport, 80, SYN, 1000, 0, 0));
    }
    let r = replay("adaptive-on", rules, &c, &[]);
    assert_eq!(
        r.actions(),
        ["pass/new", "pass/new", "pass/new", "block/none"]
    );
    assert_eq!(r.v(4)["emit"], serde_json::json!(["sender"]));
    let sc = &r.summary["syncookies"];
    assert_eq!(
        (sc["start"].as_u64(), sc["end"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        (sc["active"].as_bool(), sc["synfloods"].as_u64()),
        (Some(true), Some(1))
    );
    // 200 s on: the three half-open states are gone (tcp.first), the
    // cookie's secret drawn anew; the rotations turn cookies off
    inbound(&mut c, 200 * S, seg(5, 80, SYN, 1000, 0, 0));
    let r = replay("adaptive-off", rules, &c, &[]);
    assert_eq!(r.action(5), "pass");
    assert_eq!(r.state(5), "new");
    let sc = &r.summary["syncookies"];
    assert_eq!(
        (sc["active"].as_bool(), sc["synfloods"].as_u64()),
        (Some(false), Some(1))
    );
    assert_eq!(r.summary["states"].as_array().unwrap().len(), 1);
}
