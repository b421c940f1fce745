//! The segments pf's state tracking answers with instead of a silent
//! drop, through `pfd replay`: the challenge ACK to a SYN on an
//! established connection (`pf_send_challenge_ack`, RFC 5961) and the
//! RST to an out-of-window segment while both ends are in SYN_SENT.

mod support;
use support::*;

const S: u64 = 1_000_000_000;
const CLIENT: &str = "192.0.2.10";
const SERVER: &str = "203.0.113.5";
const RULES: &str = "block all\npass out on em0 proto tcp from 192.0.2.0/24 to any port 80\n";

fn out4(cap: &mut Capture, t: u64, l4: L4) -> usize {
    cap.push(t, eth(&ip4(CLIENT, SERVER, &l4), false))
}

fn in4(cap: &mut Capture, t: u64, l4: L4) -> usize {
    cap.push(t, eth(&ip4(SERVER, CLIENT, &l4), true))
}

/// An established connection: the client has sent 100 bytes, the
/// server acknowledged them. The client's next byte is 1101, the
/// server's 5001.
fn established() -> Capture {
    let mut c = Capture::default();
    out4(&mut c, S, tcp(40000, 80, SYN, 1000, 0, 0));
    in4(&mut c, S + 1, tcp(80, 40000, SYN | ACK, 5000, 1001, 0));
    out4(&mut c, S + 2, tcp(40000, 80, ACK, 1001, 5001, 0));
    out4(&mut c, S + 3, tcp(40000, 80, ACK | PSH, 1001, 5001, 100));
    in4(&mut c, S + 4, tcp(80, 40000, ACK, 5001, 1101, 0));
    c
}

/// TCP fields of a frame: (seq, ack, flags, window).
fn tcp_fields(frame: &[u8]) -> (u32, u32, u8, u16) {
    let l4 = &frame[14 + 20..];
    let be32 = |o: usize| u32::from_be_bytes(l4[o..o + 4].try_into().unwrap());
    (
        be32(4),
        be32(8),
        l4[13],
        u16::from_be_bytes([l4[14], l4[15]]),
    )
}

#[test]
fn syn_on_an_established_state_gets_a_challenge_ack() {
    let base = established();
    let before = replay("challenge-base", RULES, &base, &[]);
    let mut c = established();
    // the client rebooted and opens the same port pair again
    let syn = out4(&mut c, S + 5, tcp(40000, 80, SYN, 777_777, 0, 0));
    let r = replay("challenge", RULES, &c, &[]);
    assert_eq!(&r.actions()[..syn - 1], &before.actions()[..]);
    assert_eq!((r.action(syn), r.state(syn)), ("block", "match"));
    // pf sets no reason: the drop is counted as "match"
    assert_eq!(r.reason(syn), Some("match"));
    let replies = r.emitted(syn, "sender");
    assert_eq!(replies.len(), 1, "one challenge ACK");
    let ack = replies[0];
    assert!(checksums_ok(ack));
    // from the server's side of the state, back to the client
    assert_eq!(endpoints(ack), (ip(SERVER), 80, ip(CLIENT), 40000));
    // the SYN's Ethernet addresses turned round
    assert_eq!(&ack[..12], &[FW_MAC, PEER_MAC].concat()[..]);
    // a pass rule has no return-ttl: the default TTL
    assert_eq!(ack[14 + 8], 64);
    // the state's own numbers: the server's next byte, the client's
    assert_eq!(tcp_fields(ack), (5001, 1101, ACK, 0));
    assert_eq!(r.passed.len(), before.passed.len(), "the SYN goes nowhere");
    // the state is as it was: same peers, counters, timeouts
    assert_eq!(r.summary["states"], before.summary["states"]);
    assert_eq!(r.summary["states"][0]["src_state"], 4, "ESTABLISHED");
}

#[test]
fn the_connection_goes_on_after_a_challenge_ack() {
    let mut c = established();
    out4(&mut c, S + 5, tcp(40000, 80, SYN, 777_777, 0, 0));
    // the live client answers the challenge ACK with a plain ACK: in
    // window, it passes; so does the rest of the connection
    let next = out4(&mut c, S + 6, tcp(40000, 80, ACK, 1101, 5001, 0));
    in4(&mut c, S + 7, tcp(80, 40000, ACK | PSH, 5001, 1101, 10));
    let r = replay("challenge-live", RULES, &c, &[]);
    assert_eq!(r.actions()[next - 1..], ["pass/match", "pass/match"]);
}

#[test]
fn a_rebooted_client_resets_the_state_with_its_answer() {
    let mut c = established();
    out4(&mut c, S + 5, tcp(40000, 80, SYN, 777_777, 0, 0));
    // RFC 793: a closed port answers the ACK with a RST whose sequence
    // number is the ACK's acknowledgement: exactly the state's
    let rst = out4(&mut c, S + 6, tcp(40000, 80, RST, 1101, 0, 0));
    // and now the new SYN makes a new connection
    let syn = out4(&mut c, S + 7, tcp(40000, 80, SYN, 777_777, 0, 0));
    let r = replay("challenge-reboot", RULES, &c, &[]);
    assert_eq!(r.action(rst), "pass");
    assert!(r.emitted(syn, "sender").is_empty());
    assert_eq!((r.action(syn), r.state(syn)), ("pass", "new"));
}

/// Client SYN, then the server's own SYN (a simultaneous open): both
/// ends in SYN_SENT.
fn simultaneous_open() -> Capture {
    let mut c = Capture::default();
    out4(&mut c, S, tcp(40000, 80, SYN, 1000, 0, 0));
    in4(&mut c, S + 1, tcp(80, 40000, SYN, 5000, 0, 0));
    c
}

#[test]
fn out_of_window_in_a_simultaneous_open_gets_a_rst() {
    let mut c = simultaneous_open();
    // 10 bytes from the server far beyond its window (a segment without
    // data would be let through: pf eases the check for those)
    let bad = in4(&mut c, S + 2, tcp(80, 40000, ACK, 900_000, 1001, 10));
    let r = replay("handshake-rst", RULES, &c, &[]);
    assert_eq!(r.actions()[..bad - 1], ["pass/new", "pass/match"]);
    assert_eq!((r.action(bad), r.state(bad)), ("block", "match"));
    assert_eq!(r.reason(bad), Some("state-mismatch"));
    let replies = r.emitted(bad, "sender");
    assert_eq!(replies.len(), 1);
    assert_eq!(endpoints(replies[0]), (ip(CLIENT), 40000, ip(SERVER), 80));
    // pf's RST: sequence = the segment's ack, no ACK flag
    assert_eq!(tcp_fields(replies[0]), (1001, 0, RST, 0));
    assert!(checksums_ok(replies[0]));
}

#[test]
fn a_rst_out_of_window_in_a_simultaneous_open_gets_nothing_back() {
    let mut c = simultaneous_open();
    let bad = in4(&mut c, S + 2, tcp(80, 40000, RST | ACK, 900_000, 1001, 10));
    let r = replay("handshake-rst-rst", RULES, &c, &[]);
    assert_eq!(r.reason(bad), Some("state-mismatch"));
    assert!(r.emitted(bad, "sender").is_empty());
}

#[test]
fn out_of_window_when_established_gets_nothing_back() {
    let mut c = established();
    let bad = in4(&mut c, S + 5, tcp(80, 40000, ACK, 900_000, 1101, 10));
    let r = replay("established-mismatch", RULES, &c, &[]);
    assert_eq!(r.reason(bad), Some("state-mismatch"));
    assert!(r.emitted(bad, "sender").is_empty());
}
