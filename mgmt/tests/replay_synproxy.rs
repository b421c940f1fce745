//! `synproxy state` end to end through `pfd replay`: the firewall
//! completes the handshake with the client, then opens the connection
//! to the server, then translates sequence numbers between its own ISNs
//! and the peers'. One interface: the client's packets are inbound, the
//! server's outbound (the state is floating); the frames the firewall
//! sends back to a packet's sender are in --replies, those it sends
//! onward in --out.

mod support;
use support::*;

const S: u64 = 1_000_000_000;
const CLIENT: &str = "198.51.100.7";
const SERVER: &str = "203.0.113.5";
const RULES: &str = "block all\npass in on em0 proto tcp to port 80 synproxy state\n";

/// MSS 1460, as most clients send it.
const MSS_1460: [u8; 4] = [2, 4, 0x05, 0xb4];

fn seg(sport: u16, dport: u16, flags: u8, seq: u32, ack: u32, win: u16, data: usize) -> L4 {
    L4::Tcp {
        sport,
        dport,
        seq,
        ack,
        flags,
        win,
        opts: if flags & SYN != 0 {
            MSS_1460.to_vec()
        } else {
            Vec::new()
        },
        data: vec![0x61; data],
    }
}

fn inbound(cap: &mut Capture, t: u64, src: &str, dst: &str, l4: L4) -> usize {
    cap.push(t, eth(&ip4(src, dst, &l4), true))
}

fn outbound(cap: &mut Capture, t: u64, src: &str, dst: &str, l4: L4) -> usize {
    cap.push(t, eth(&ip4(src, dst, &l4), false))
}

/// The TCP header fields of an IPv4-in-Ethernet frame.
#[derive(Debug, PartialEq, Eq)]
struct Tcp {
    flags: u8,
    seq: u32,
    ack: u32,
    win: u16,
    /// The MSS option, if any.
    mss: Option<u16>,
    data_len: usize,
}

fn tcp_of(frame: &[u8]) -> Tcp {
    assert!(checksums_ok(frame), "checksums of {frame:02x?}");
    let ip = &frame[14..];
    let hl = usize::from(ip[0] & 0xf) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let th = &ip[hl..total];
    let off = usize::from(th[12] >> 4) * 4;
    let opts = &th[20..off];
    let mss = (opts.len() >= 4 && opts[0] == 2 && opts[1] == 4)
        .then(|| u16::from_be_bytes([opts[2], opts[3]]));
    Tcp {
        flags: th[13],
        seq: u32::from_be_bytes(th[4..8].try_into().unwrap()),
        ack: u32::from_be_bytes(th[8..12].try_into().unwrap()),
        win: u16::from_be_bytes([th[14], th[15]]),
        mss,
        data_len: th.len() - off,
    }
}

fn one(frames: Vec<&[u8]>) -> &[u8] {
    assert_eq!(frames.len(), 1, "one frame");
    frames[0]
}

fn summary_state(r: &Replay, i: usize) -> (u64, u64) {
    let st = &r.summary["states"][i];
    (
        st["src_state"].as_u64().unwrap(),
        st["dst_state"].as_u64().unwrap(),
    )
}

/// The whole handshake, every frame the firewall sends checked: the
/// client's SYN answered with the firewall's SYN|ACK, the client's ACK
/// turned into a SYN to the server, the server's SYN|ACK answered with
/// an ACK to the server and an ACK (window update) to the client.
#[test]
fn handshake_through_the_proxy() {
    let mut c = Capture::default();
    inbound(
        &mut c,
        S,
        CLIENT,
        SERVER,
        seg(40000, 80, SYN, 1000, 0, 29200, 0),
    );
    let r0 = replay("synproxy-probe", RULES, &c, &[]);
    assert_eq!(r0.actions(), ["block/new"]);
    assert_eq!(r0.reason(1), Some("synproxy"));
    assert_eq!(r0.rule(1), Some(1));
    assert_eq!(r0.v(1)["emit"], serde_json::json!(["sender"]));
    assert_eq!(r0.v(1)["reply"], true);
    let synack = one(r0.emitted(1, "sender"));
    assert_eq!(&synack[0..6], &PEER_MAC, "back to the client");
    assert_eq!(&synack[6..12], &FW_MAC);
    assert_eq!(endpoints(synack), (ip(SERVER), 80, ip(CLIENT), 40000));
    let t = tcp_of(synack);
    let fw_isn_client = t.seq;
    assert_eq!(
        (t.flags, t.ack, t.win, t.mss, t.data_len),
        (SYN | ACK, 1001, 0, Some(1460), 0)
    );
    assert!(r0.passed.is_empty(), "nothing reaches the server");
    assert_eq!(summary_state(&r0, 0), (11, 0), "PROXY:SRC");

    inbound(
        &mut c,
        S + 1,
        CLIENT,
        SERVER,
        seg(40000, 80, ACK, 1001, fw_isn_client.wrapping_add(1), 512, 0),
    );
    let r1 = replay("synproxy-probe2", RULES, &c, &[]);
    assert_eq!(r1.actions(), ["block/new", "block/match"]);
    assert_eq!(r1.reason(2), Some("synproxy"));
    assert_eq!(r1.v(2)["emit"], serde_json::json!(["onward"]));
    let syn = one(r1.emitted(2, "onward"));
    assert_eq!(&syn[0..6], &FW_MAC, "on the way the ACK was going");
    assert_eq!(endpoints(syn), (ip(CLIENT), 40000, ip(SERVER), 80));
    let t = tcp_of(syn);
    let fw_isn_server = t.seq;
    assert_eq!(
        (t.flags, t.ack, t.win, t.mss, t.data_len),
        (SYN, 0, 0, Some(1460), 0)
    );
    assert_ne!(fw_isn_server, fw_isn_client, "two random ISNs");
    assert_eq!(summary_state(&r1, 0), (12, 0), "PROXY:DST");

    outbound(
        &mut c,
        S + 2,
        SERVER,
        CLIENT,
        seg(
            80,
            40000,
            SYN | ACK,
            5000,
            fw_isn_server.wrapping_add(1),
            8192,
            0,
        ),
    );
    let r = replay("synproxy-handshake", RULES, &c, &[]);
    assert_eq!(r.actions(), ["block/new", "block/match", "block/match"]);
    assert_eq!(r.reason(3), Some("synproxy"));
    assert_eq!(r.v(3)["emit"], serde_json::json!(["sender", "onward"]));
    // same seed: the same ISNs and the same first frames
    assert_eq!(r.emitted(1, "sender"), r0.emitted(1, "sender"));
    assert_eq!(r.emitted(2, "onward"), r1.emitted(2, "onward"));
    let to_server = one(r.emitted(3, "sender"));
    assert_eq!(endpoints(to_server), (ip(CLIENT), 40000, ip(SERVER), 80));
    assert_eq!(
        tcp_of(to_server),
        Tcp {
            flags: ACK,
            seq: fw_isn_server.wrapping_add(1),
            ack: 5001,
            win: 512,
            mss: None,
            data_len: 0
        },
        "completes the server's handshake with the client's window"
    );
    let to_client = one(r.emitted(3, "onward"));
    assert_eq!(&to_client[0..6], &PEER_MAC);
    assert_eq!(endpoints(to_client), (ip(SERVER), 80, ip(CLIENT), 40000));
    assert_eq!(
        tcp_of(to_client),
        Tcp {
            flags: ACK,
            seq: fw_isn_client.wrapping_add(1),
            ack: 1001,
            win: 8192,
            mss: None,
            data_len: 0
        },
        "tells the client the server's window"
    );
    // in --out: the SYN to the server, then the ACK to the client
    assert_eq!(r.passed.len(), 2);
    assert_eq!(r.replies.len(), 2);
    assert_eq!(summary_state(&r, 0), (4, 4), "ESTABLISHED both ways");
    assert_eq!(r.summary["reasons"]["synproxy"], 3);
    assert_eq!(r.summary["states"][0]["packets"], serde_json::json!([0, 0]));
    // pf counts the consumed handshake on no rule, only the state created
    let rule = &r.summary["rules"][1];
    assert_eq!(rule["packets"], serde_json::json!({"in": 0, "out": 0}));
    assert_eq!(rule["states"], 1);
}

/// After the handshake, data both ways through `rdr-to`: the client's
/// numbers are moved onto the firewall's ISN toward the server and the
/// server's onto the firewall's ISN toward the client, acknowledgements
/// back, checksums right.
#[test]
fn data_after_the_handshake_is_translated_both_ways() {
    let rules = "block all\npass in on em0 proto tcp to 203.0.113.5 port 80 \
                 rdr-to 10.0.0.5 port 8080 synproxy state\n";
    let real = "10.0.0.5";
    let mut c = Capture::default();
    inbound(
        &mut c,
        S,
        CLIENT,
        SERVER,
        seg(40001, 80, SYN, 7000, 0, 65535, 0),
    );
    let fw_c = tcp_of(one(replay("sp-rdr-1", rules, &c, &[]).emitted(1, "sender"))).seq;
    inbound(
        &mut c,
        S + 1,
        CLIENT,
        SERVER,
        seg(40001, 80, ACK, 7001, fw_c.wrapping_add(1), 65535, 0),
    );
    let r1 = replay("sp-rdr-2", rules, &c, &[]);
    let syn = one(r1.emitted(2, "onward"));
    assert_eq!(
        endpoints(syn),
        (ip(CLIENT), 40001, ip(real), 8080),
        "to the rdr-to target"
    );
    let fw_s = tcp_of(syn).seq;
    outbound(
        &mut c,
        S + 2,
        real,
        CLIENT,
        seg(
            8080,
            40001,
            SYN | ACK,
            90000,
            fw_s.wrapping_add(1),
            65535,
            0,
        ),
    );
    // client data, server data, client ACK
    inbound(
        &mut c,
        S + 3,
        CLIENT,
        SERVER,
        seg(40001, 80, ACK | PSH, 7001, fw_c.wrapping_add(1), 65535, 100),
    );
    outbound(
        &mut c,
        S + 4,
        real,
        CLIENT,
        seg(
            8080,
            40001,
            ACK | PSH,
            90001,
            fw_s.wrapping_add(101),
            65535,
            50,
        ),
    );
    inbound(
        &mut c,
        S + 5,
        CLIENT,
        SERVER,
        seg(40001, 80, ACK, 7101, fw_c.wrapping_add(51), 65535, 0),
    );
    let r = replay("sp-rdr", rules, &c, &[]);
    assert_eq!(
        r.actions(),
        [
            "block/new",
            "block/match",
            "block/match",
            "pass/match",
            "pass/match",
            "pass/match"
        ]
    );
    let ack_to_client = one(r.emitted(3, "onward"));
    assert_eq!(
        endpoints(ack_to_client),
        (ip(SERVER), 80, ip(CLIENT), 40001),
        "the address the client knows"
    );
    let to_server = one(r.emitted(3, "sender"));
    assert_eq!(endpoints(to_server), (ip(CLIENT), 40001, ip(real), 8080));

    let cdiff = fw_s.wrapping_sub(7000); // client seq -> firewall's ISN toward the server
    let sdiff = fw_c.wrapping_sub(90000); // server seq -> firewall's ISN toward the client
    let d = r.out_frame(4).unwrap();
    assert_eq!(endpoints(d), (ip(CLIENT), 40001, ip(real), 8080));
    let t = tcp_of(d);
    assert_eq!(
        (t.seq, t.ack, t.data_len),
        (7001u32.wrapping_add(cdiff), 90001, 100)
    );
    assert_eq!(
        t.seq,
        fw_s.wrapping_add(1),
        "the sequence the server was promised"
    );
    let d = r.out_frame(5).unwrap();
    assert_eq!(endpoints(d), (ip(SERVER), 80, ip(CLIENT), 40001));
    let t = tcp_of(d);
    assert_eq!(
        (t.seq, t.ack, t.data_len),
        (90001u32.wrapping_add(sdiff), 7101, 50)
    );
    assert_eq!(
        t.seq,
        fw_c.wrapping_add(1),
        "the sequence the client was promised"
    );
    let t = tcp_of(r.out_frame(6).unwrap());
    assert_eq!((t.seq, t.ack), (fw_s.wrapping_add(101), 90051));
    assert_eq!(summary_state(&r, 0), (4, 4));
}

/// A client ACK that does not acknowledge the firewall's SYN|ACK (or
/// whose sequence is off) is dropped and no SYN goes to the server; a
/// repeated SYN gets the same SYN|ACK again; packets from the server's
/// side are swallowed; the right ACK still opens the connection.
#[test]
fn wrong_acks_are_dropped_and_nothing_reaches_the_server() {
    let mut c = Capture::default();
    inbound(
        &mut c,
        S,
        CLIENT,
        SERVER,
        seg(40002, 80, SYN, 3000, 0, 65535, 0),
    );
    let fw = tcp_of(one(
        replay("sp-wrong-1", RULES, &c, &[]).emitted(1, "sender")
    ))
    .seq;
    inbound(
        &mut c,
        S + 1,
        CLIENT,
        SERVER,
        seg(40002, 80, ACK, 3001, fw.wrapping_add(2), 65535, 0),
    );
    inbound(
        &mut c,
        S + 2,
        CLIENT,
        SERVER,
        seg(40002, 80, ACK, 3002, fw.wrapping_add(1), 65535, 0),
    );
    inbound(
        &mut c,
        S + 3,
        CLIENT,
        SERVER,
        seg(40002, 80, ACK | RST, 3001, fw.wrapping_add(1), 65535, 0),
    );
    inbound(
        &mut c,
        S + 4,
        CLIENT,
        SERVER,
        seg(40002, 80, SYN, 3999, 0, 65535, 0),
    );
    inbound(
        &mut c,
        S + 5,
        CLIENT,
        SERVER,
        seg(40002, 80, SYN, 3000, 0, 65535, 0),
    );
    outbound(
        &mut c,
        S + 6,
        SERVER,
        CLIENT,
        seg(80, 40002, SYN | ACK, 1, 3001, 65535, 0),
    );
    let r = replay("sp-wrong", RULES, &c, &[]);
    for i in 2..=7 {
        assert_eq!((r.action(i), r.state(i)), ("block", "match"), "packet {i}");
        assert_eq!(r.reason(i), Some("synproxy"), "packet {i}");
    }
    for i in [2, 3, 4, 5, 7] {
        assert!(r.v(i).get("emit").is_none(), "packet {i} sends nothing");
    }
    assert_eq!(
        r.emitted(6, "sender"),
        r.emitted(1, "sender"),
        "the same SYN|ACK again"
    );
    assert!(r.passed.is_empty(), "no SYN to the server");
    assert_eq!(summary_state(&r, 0), (11, 0), "still PROXY:SRC");

    inbound(
        &mut c,
        S + 7,
        CLIENT,
        SERVER,
        seg(40002, 80, ACK, 3001, fw.wrapping_add(1), 65535, 0),
    );
    let r = replay("sp-wrong-then-right", RULES, &c, &[]);
    let syn = one(r.emitted(8, "onward"));
    assert_eq!(tcp_of(syn).flags, SYN);
    assert_eq!(r.passed.len(), 1);
}

/// A SYN flood from many sources: each SYN creates a state and gets a
/// SYN|ACK back to its source; nothing at all goes to the server.
#[test]
fn syn_flood_creates_states_but_reaches_no_server() {
    let mut c = Capture::default();
    for i in 1..=60u32 {
        let src = format!("198.51.100.{i}");
        inbound(
            &mut c,
            S + u64::from(i),
            &src,
            SERVER,
            seg(1024 + i as u16, 80, SYN, i * 1000, 0, 65535, 0),
        );
    }
    let r = replay("sp-flood", RULES, &c, &[]);
    assert!(r.actions().iter().all(|a| a == "block/new"));
    assert!(r.passed.is_empty(), "nothing onward");
    assert_eq!(r.replies.len(), 60);
    for (i, (_, f)) in r.replies.iter().enumerate() {
        let n = i as u32 + 1;
        assert_eq!(
            endpoints(f),
            (
                ip(SERVER),
                80,
                ip(&format!("198.51.100.{n}")),
                1024 + n as u16
            )
        );
        let t = tcp_of(f);
        assert_eq!((t.flags, t.ack), (SYN | ACK, n * 1000 + 1));
    }
    let states = r.summary["states"].as_array().unwrap();
    assert_eq!(states.len(), 60);
    assert!(states.iter().all(|s| s["src_state"] == 11));
    assert_eq!(r.summary["reasons"]["synproxy"], 60);

    // No handshake packet refreshes a proxying state: the flood's states
    // go when tcp.first (120 s) runs out.
    inbound(
        &mut c,
        100 * S,
        "198.51.100.1",
        SERVER,
        seg(1025, 80, SYN, 1000, 0, 65535, 0),
    );
    inbound(
        &mut c,
        180 * S,
        CLIENT,
        SERVER,
        seg(999, 22, SYN, 1, 0, 65535, 0),
    );
    let r = replay("sp-flood-expired", RULES, &c, &[]);
    assert_eq!(
        r.emitted(61, "sender"),
        r.emitted(1, "sender"),
        "answered again"
    );
    assert_eq!(r.action(62), "block");
    assert_eq!(r.summary["states"].as_array().unwrap().len(), 0);
}

/// IPv6 goes through the same handshake.
#[test]
fn ipv6_handshake() {
    let (cl, sv) = ("2001:db8:1::7", "2001:db8:2::5");
    let mut c = Capture::default();
    c.push(
        S,
        eth(&ip6(cl, sv, &seg(40003, 80, SYN, 100, 0, 65535, 0)), true),
    );
    let r0 = replay("sp6-1", RULES, &c, &[]);
    let synack = one(r0.emitted(1, "sender"));
    assert!(checksums_ok(synack));
    assert_eq!(endpoints(synack), (ip(sv), 80, ip(cl), 40003));
    let th = &synack[54..];
    assert_eq!(th[13], SYN | ACK);
    assert_eq!(&th[20..24], &[2, 4, 0x05, 0xa0], "MSS 1440 for IPv6");
    let fw = u32::from_be_bytes(th[4..8].try_into().unwrap());
    c.push(
        S + 1,
        eth(
            &ip6(
                cl,
                sv,
                &seg(40003, 80, ACK, 101, fw.wrapping_add(1), 65535, 0),
            ),
            true,
        ),
    );
    let r = replay("sp6-2", RULES, &c, &[]);
    let syn = one(r.emitted(2, "onward"));
    assert!(checksums_ok(syn));
    assert_eq!(endpoints(syn), (ip(cl), 40003, ip(sv), 80));
    assert_eq!(syn[54 + 13], SYN);
}

/// While the server has not answered, a repeated ACK from the client
/// sends the SYN to the server again, with the same ISN; a SYN|ACK from
/// the server that does not acknowledge it is dropped and answers
/// nobody.
#[test]
fn repeated_ack_resends_the_syn_to_the_server() {
    let mut c = Capture::default();
    inbound(
        &mut c,
        S,
        CLIENT,
        SERVER,
        seg(40004, 80, SYN, 500, 0, 65535, 0),
    );
    let fw = tcp_of(one(
        replay("sp-again-1", RULES, &c, &[]).emitted(1, "sender")
    ))
    .seq;
    let ack = || seg(40004, 80, ACK, 501, fw.wrapping_add(1), 65535, 0);
    inbound(&mut c, S + 1, CLIENT, SERVER, ack());
    inbound(&mut c, S + 4, CLIENT, SERVER, ack());
    let r = replay("sp-again-2", RULES, &c, &[]);
    let first = one(r.emitted(2, "onward"));
    assert_eq!(r.emitted(3, "onward"), vec![first], "the same SYN again");
    let isn = tcp_of(first).seq;
    outbound(
        &mut c,
        S + 5,
        SERVER,
        CLIENT,
        seg(80, 40004, SYN | ACK, 77, isn.wrapping_add(2), 65535, 0),
    );
    outbound(
        &mut c,
        S + 6,
        SERVER,
        CLIENT,
        seg(80, 40004, ACK, 78, isn.wrapping_add(1), 65535, 0),
    );
    let r = replay("sp-again-3", RULES, &c, &[]);
    for i in [4, 5] {
        assert_eq!(
            (r.action(i), r.reason(i)),
            ("block", Some("synproxy")),
            "packet {i}"
        );
        assert!(r.v(i).get("emit").is_none(), "packet {i} sends nothing");
    }
    assert_eq!(summary_state(&r, 0), (12, 0), "still PROXY:DST");
}

/// A `log` synproxy rule logs the client's SYN as pf_test_rule does,
/// before the state consumes it: action pass, reason match. The
/// handshake packets the state consumes are not logged.
#[test]
fn log_rule_logs_the_syn_as_passed() {
    let rules = "block all\npass in log on em0 proto tcp to port 80 synproxy state\n";
    let mut c = Capture::default();
    inbound(
        &mut c,
        S,
        CLIENT,
        SERVER,
        seg(40005, 80, SYN, 10, 0, 65535, 0),
    );
    let fw = tcp_of(one(replay("sp-log-1", rules, &c, &[]).emitted(1, "sender"))).seq;
    inbound(
        &mut c,
        S + 1,
        CLIENT,
        SERVER,
        seg(40005, 80, ACK, 11, fw.wrapping_add(1), 65535, 0),
    );
    let r = replay("sp-log", rules, &c, &[]);
    assert_eq!(r.pflog.len(), 1);
    let (h, ip) = &r.pflog[0];
    assert_eq!(h.action, dataplane::pflog::PfAction::Pass);
    assert_eq!(h.reason, dataplane::reason::Reason::Match);
    assert_eq!(h.rulenr, 1);
    assert_eq!(&ip[..], &c.frames[0].1[14..]);
    assert_eq!(
        (r.v(1)["log"].clone(), r.v(2)["log"].clone()),
        (true.into(), false.into())
    );
}

/// Source tracking counts a proxied connection when the client's ACK
/// completes the firewall's handshake: over `max-src-conn` that ACK is
/// dropped as src-limit and no SYN goes to the server.
#[test]
fn max_src_conn_counts_proxied_connections() {
    let rules = "block all\npass in on em0 proto tcp to port 80 synproxy state (max-src-conn 1)\n";
    let mut c = Capture::default();
    inbound(
        &mut c,
        S,
        CLIENT,
        SERVER,
        seg(41000, 80, SYN, 100, 0, 65535, 0),
    );
    inbound(
        &mut c,
        S + 1,
        CLIENT,
        SERVER,
        seg(41001, 80, SYN, 200, 0, 65535, 0),
    );
    let r0 = replay("sp-srcconn-1", rules, &c, &[]);
    let fw1 = tcp_of(one(r0.emitted(1, "sender"))).seq;
    let fw2 = tcp_of(one(r0.emitted(2, "sender"))).seq;
    inbound(
        &mut c,
        S + 2,
        CLIENT,
        SERVER,
        seg(41000, 80, ACK, 101, fw1.wrapping_add(1), 65535, 0),
    );
    inbound(
        &mut c,
        S + 3,
        CLIENT,
        SERVER,
        seg(41001, 80, ACK, 201, fw2.wrapping_add(1), 65535, 0),
    );
    let r = replay("sp-srcconn", rules, &c, &[]);
    assert_eq!(
        r.actions(),
        ["block/new", "block/new", "block/match", "block/match"]
    );
    assert_eq!(r.reason(3), Some("synproxy"));
    assert_eq!(
        endpoints(one(r.emitted(3, "onward"))).1,
        41000,
        "the first goes on"
    );
    assert_eq!(r.reason(4), Some("src-limit"));
    assert!(
        r.v(4).get("emit").is_none(),
        "no SYN to the server for the second"
    );
    assert_eq!(r.passed.len(), 1);
    assert_eq!(r.summary["reasons"]["src-limit"], 1);
}
