//! Source tracking end to end through `pfd replay`: `max-src-states`,
//! `max-src-nodes`, `set limit src-nodes`, `max-src-conn` and
//! `max-src-conn-rate` with `overload <table> [flush [global]]`, and
//! source nodes expiring after `set timeout src.track`.

mod support;
use support::*;

const S: u64 = 1_000_000_000;
const A: &str = "198.51.100.10";
const B: &str = "198.51.100.11";
const C: &str = "198.51.100.12";
const SERVER: &str = "192.0.2.80";

fn in4(cap: &mut Capture, t: u64, src: &str, dst: &str, l4: L4) -> usize {
    cap.push(t, eth(&ip4(src, dst, &l4), true))
}

fn out4(cap: &mut Capture, t: u64, src: &str, dst: &str, l4: L4) -> usize {
    cap.push(t, eth(&ip4(src, dst, &l4), false))
}

fn syn(cap: &mut Capture, t: u64, src: &str, sport: u16) -> usize {
    in4(cap, t, src, SERVER, tcp(sport, 80, SYN, 1000, 0, 0))
}

/// A client's handshake with the server behind the firewall; returns the
/// index of the client's closing ACK (where the connection becomes
/// established).
fn handshake(cap: &mut Capture, t: u64, src: &str, sport: u16) -> usize {
    syn(cap, t, src, sport);
    out4(
        cap,
        t,
        SERVER,
        src,
        tcp(80, sport, SYN | ACK, 5000, 1001, 0),
    );
    in4(cap, t, src, SERVER, tcp(sport, 80, ACK, 1001, 5001, 0))
}

/// Data from the client on an established connection.
fn data(cap: &mut Capture, t: u64, src: &str, sport: u16) -> usize {
    in4(
        cap,
        t,
        src,
        SERVER,
        tcp(sport, 80, ACK | PSH, 1001, 5001, 10),
    )
}

fn src_nodes(r: &Replay) -> Vec<(String, u64, u64)> {
    let mut v: Vec<_> = r.summary["src_nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["addr"].as_str().unwrap().to_string(),
                n["states"].as_u64().unwrap(),
                n["conn"].as_u64().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn verdict(r: &Replay, i: usize) -> (&str, Option<&str>) {
    (r.action(i), r.reason(i))
}

/// `max-src-states 2`: a third connection from one source is refused with
/// src-limit; another source is counted apart.
#[test]
fn max_src_states_refuses_a_third_state_per_source() {
    let rules = "block all\npass in on em0 proto tcp to port 80 keep state (max-src-states 2)\n";
    let mut c = Capture::default();
    let a1 = syn(&mut c, S, A, 40000);
    let a2 = syn(&mut c, S, A, 40001);
    let a3 = syn(&mut c, S, A, 40002);
    let b1 = syn(&mut c, S, B, 40000);
    let r = replay("srct-states", rules, &c, &[]);
    assert_eq!((r.action(a1), r.state(a1)), ("pass", "new"));
    assert_eq!((r.action(a2), r.state(a2)), ("pass", "new"));
    assert_eq!(verdict(&r, a3), ("block", Some("src-limit")));
    assert_eq!(r.state(a3), "none");
    assert_eq!((r.action(b1), r.state(b1)), ("pass", "new"));
    assert_eq!(r.summary["reasons"]["src-limit"], 1);
    assert_eq!(
        src_nodes(&r),
        vec![(A.to_string(), 2, 0), (B.to_string(), 1, 0)]
    );
    assert_eq!(r.summary["states"].as_array().unwrap().len(), 3);
}

/// `max-src-nodes 2` allows two sources per rule, and a known source
/// more states; `set limit src-nodes` bounds all rules together.
#[test]
fn max_src_nodes_and_the_global_limit() {
    let rules = "block all\npass in on em0 proto tcp to port 80 keep state (max-src-nodes 2)\n";
    let mut c = Capture::default();
    let a = syn(&mut c, S, A, 40000);
    let b = syn(&mut c, S, B, 40000);
    let cc = syn(&mut c, S, C, 40000);
    let a2 = syn(&mut c, S, A, 40001);
    let r = replay("srct-nodes", rules, &c, &[]);
    assert_eq!(r.action(a), "pass");
    assert_eq!(r.action(b), "pass");
    assert_eq!(verdict(&r, cc), ("block", Some("src-limit")));
    assert_eq!((r.action(a2), r.state(a2)), ("pass", "new"));

    let rules = "set limit src-nodes 1\nblock all\n\
                 pass in on em0 proto tcp to port 80 keep state (source-track rule)\n\
                 pass in on em0 proto udp keep state (source-track global)\n";
    let mut c = Capture::default();
    let a = syn(&mut c, S, A, 40000);
    let b = syn(&mut c, S, B, 40000);
    let bu = in4(&mut c, S, B, SERVER, udp(5000, 53, 10));
    let r = replay("srct-limit", rules, &c, &[]);
    assert_eq!(r.action(a), "pass");
    assert_eq!(verdict(&r, b), ("block", Some("src-limit")));
    assert_eq!(verdict(&r, bu), ("block", Some("src-limit")));
    assert_eq!(src_nodes(&r), vec![(A.to_string(), 1, 0)]);
}

/// `max-src-conn 2, overload <bad> flush`: the third established
/// connection from A is dropped at its handshake's last ACK, A goes into
/// <bad>, its other states of that rule are flushed, and `block quick
/// from <bad>` stops what it sends next. B is untouched.
#[test]
fn max_src_conn_overloads_and_flushes() {
    let rules = "table <bad> persist\nblock all\nblock quick from <bad>\n\
                 pass in on em0 proto tcp to port 80 keep state \
                 (max-src-conn 2, overload <bad> flush)\n\
                 pass in on em0 proto udp to port 53\n";
    let mut c = Capture::default();
    let a1 = handshake(&mut c, S, A, 40000);
    let a2 = handshake(&mut c, 2 * S, A, 40001);
    let u1 = in4(&mut c, 2 * S, A, SERVER, udp(5000, 53, 10));
    let b1 = handshake(&mut c, 2 * S, B, 40000);
    let a3 = handshake(&mut c, 3 * S, A, 40002);
    let a1_data = data(&mut c, 4 * S, A, 40000);
    let a4 = syn(&mut c, 4 * S, A, 40003);
    let u2 = in4(&mut c, 4 * S, A, SERVER, udp(5000, 53, 10));
    let b1_data = data(&mut c, 4 * S, B, 40000);
    let b2 = handshake(&mut c, 4 * S, B, 40001);
    let r = replay("srct-conn", rules, &c, &[]);
    for i in [a1, a2, b1] {
        assert_eq!((r.action(i), r.state(i)), ("pass", "match"), "packet {i}");
    }
    assert_eq!(r.action(u1), "pass");
    assert_eq!(verdict(&r, a3), ("block", Some("src-limit")));
    assert_eq!(r.state(a3), "match");
    // A's first connection was flushed: its data meets the rules now
    assert_eq!(verdict(&r, a1_data), ("block", Some("match")));
    assert_eq!(r.rule(a1_data), Some(1), "block quick from <bad>");
    assert_eq!(r.state(a1_data), "none");
    assert_eq!(
        (verdict(&r, a4), r.rule(a4)),
        (("block", Some("match")), Some(1))
    );
    // `flush` without `global` spares states of other rules
    assert_eq!((r.action(u2), r.state(u2)), ("pass", "match"));
    assert_eq!((r.action(b1_data), r.state(b1_data)), ("pass", "match"));
    assert_eq!((r.action(b2), r.state(b2)), ("pass", "match"));
    assert_eq!(r.summary["tables_added"]["bad"], serde_json::json!([A]));
    assert_eq!(r.summary["reasons"]["src-limit"], 1);
    let k = &r.summary["src_node_counters"];
    assert_eq!(
        (k["limit_conn"].as_u64(), k["overload_table"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(k["overload_flush"], 1);
    assert_eq!(k["inserts"], 2, "one node per source");
}

/// `flush global` kills every state from the source, whatever rule made it.
#[test]
fn overload_flush_global_kills_states_of_every_rule() {
    let rules = "table <bad> persist\nblock all\nblock quick from <bad>\n\
                 pass in on em0 proto tcp to port 80 keep state \
                 (max-src-conn 1, overload <bad> flush global)\n\
                 pass in on em0 proto udp to port 53\n";
    let mut c = Capture::default();
    handshake(&mut c, S, A, 40000);
    let u1 = in4(&mut c, S, A, SERVER, udp(5000, 53, 10));
    let a2 = handshake(&mut c, 2 * S, A, 40001);
    let u2 = in4(&mut c, 3 * S, A, SERVER, udp(5000, 53, 10));
    let r = replay("srct-flushg", rules, &c, &[]);
    assert_eq!(r.action(u1), "pass");
    assert_eq!(verdict(&r, a2), ("block", Some("src-limit")));
    assert_eq!(
        (verdict(&r, u2), r.rule(u2)),
        (("block", Some("match")), Some(1))
    );
}

/// Without `overload` the offending connection alone is closed: the
/// source may connect again once under the limit.
#[test]
fn max_src_conn_without_overload_closes_only_the_offender() {
    let rules = "block all\npass in on em0 proto tcp to port 80 keep state (max-src-conn 1)\n";
    let mut c = Capture::default();
    let a1 = handshake(&mut c, S, A, 40000);
    let a2 = handshake(&mut c, S, A, 40001);
    let a2_data = data(&mut c, 2 * S, A, 40001);
    let a1_data = data(&mut c, 2 * S, A, 40000);
    let r = replay("srct-conn1", rules, &c, &[]);
    assert_eq!(r.action(a1), "pass");
    assert_eq!(verdict(&r, a2), ("block", Some("src-limit")));
    // the closed state matches nothing; a lone ACK then meets the rules
    // (flags S/SA does not match it)
    assert_eq!((r.action(a2_data), r.state(a2_data)), ("block", "none"));
    assert_eq!((r.action(a1_data), r.state(a1_data)), ("pass", "match"));
    assert!(r.summary["tables_added"].as_object().unwrap().is_empty());
}

/// `max-src-conn-rate 3/10` over the capture's own clock: four
/// connections in four seconds are one too many (pf's decaying count:
/// 1000, 1900, 2710, 3439 > 3000); the same four spread over twelve
/// seconds are not (1000, 1600, 1960, 2176), and the count starts over after a quiet period.
#[test]
fn max_src_conn_rate_uses_capture_time() {
    let rules = "table <bad> persist\nblock all\nblock quick from <bad>\n\
                 pass in on em0 proto tcp to port 80 keep state \
                 (max-src-conn-rate 3/10, overload <bad>)\n";
    let mut c = Capture::default();
    let fast: Vec<usize> = (0..4)
        .map(|i| handshake(&mut c, (1 + i) * S, A, 40000 + i as u16))
        .collect();
    let slow: Vec<usize> = (0..4)
        .map(|i| handshake(&mut c, (20 + 4 * i) * S, B, 40000 + i as u16))
        .collect();
    let r = replay("srct-rate", rules, &c, &[]);
    for &i in &fast[..3] {
        assert_eq!(r.action(i), "pass", "packet {i}");
    }
    assert_eq!(verdict(&r, fast[3]), ("block", Some("src-limit")));
    for &i in &slow {
        assert_eq!(r.action(i), "pass", "packet {i}");
    }
    assert_eq!(r.summary["tables_added"]["bad"], serde_json::json!([A]));

    // after ten quiet seconds the rate is forgotten
    let rules =
        "block all\npass in on em0 proto tcp to port 80 keep state (max-src-conn-rate 3/10)\n";
    let mut c = Capture::default();
    let fast: Vec<usize> = (0..4)
        .map(|i| handshake(&mut c, S, A, 40000 + i as u16))
        .collect();
    let later = handshake(&mut c, 12 * S, A, 41000);
    let r = replay("srct-rate2", rules, &c, &[]);
    assert_eq!(verdict(&r, fast[3]), ("block", Some("src-limit")));
    assert_eq!(r.action(later), "pass");
}

/// A source node outlives its last state by `set timeout src.track`:
/// until then it still counts against `max-src-nodes`.
#[test]
fn src_nodes_expire_after_src_track_timeout() {
    let rules = "set timeout { interval 1, udp.first 5, src.track 20 }\nblock all\n\
                 pass in on em0 proto udp to port 53 keep state (max-src-nodes 1)\n";
    let mut c = Capture::default();
    let a = in4(&mut c, S, A, SERVER, udp(5000, 53, 10));
    // the purge tick at 6 s removes A's state (due at 6): its node
    // expires at 26
    let other = in4(&mut c, 7 * S, C, SERVER, udp(5000, 54, 10));
    let b1 = in4(&mut c, 10 * S, B, SERVER, udp(5000, 53, 10));
    let b2 = in4(&mut c, 25 * S, B, SERVER, udp(5001, 53, 10));
    let b3 = in4(&mut c, 28 * S, B, SERVER, udp(5002, 53, 10));
    let r = replay("srct-expire", rules, &c, &[]);
    assert_eq!((r.action(a), r.state(a)), ("pass", "new"));
    assert_eq!(r.action(other), "block");
    assert_eq!(verdict(&r, b1), ("block", Some("src-limit")));
    assert_eq!(verdict(&r, b2), ("block", Some("src-limit")));
    assert_eq!((r.action(b3), r.state(b3)), ("pass", "new"));
    assert_eq!(src_nodes(&r), vec![(B.to_string(), 1, 0)]);
}

/// The same over IPv6: the overloaded source is added as a /128.
#[test]
fn ipv6_overload() {
    let (a, b, sv) = ("2001:db8:bad::1", "2001:db8:bad::2", "2001:db8:1::80");
    let rules = "table <bad> persist\nblock all\nblock quick from <bad>\n\
                 pass in on em0 inet6 proto tcp to port 80 keep state \
                 (max-src-conn 1, overload <bad> flush)\n";
    let mut c = Capture::default();
    let hs = |c: &mut Capture, t: u64, src: &str, sport: u16| {
        c.push(
            t,
            eth(&ip6(src, sv, &tcp(sport, 80, SYN, 1000, 0, 0)), true),
        );
        c.push(
            t,
            eth(
                &ip6(sv, src, &tcp(80, sport, SYN | ACK, 5000, 1001, 0)),
                false,
            ),
        );
        c.push(
            t,
            eth(&ip6(src, sv, &tcp(sport, 80, ACK, 1001, 5001, 0)), true),
        )
    };
    let a1 = hs(&mut c, S, a, 40000);
    let a2 = hs(&mut c, S, a, 40001);
    let b1 = hs(&mut c, 2 * S, b, 40000);
    let a3 = c.push(
        2 * S,
        eth(&ip6(a, sv, &tcp(40002, 80, SYN, 1000, 0, 0)), true),
    );
    let r = replay("srct-v6", rules, &c, &[]);
    assert_eq!(r.action(a1), "pass");
    assert_eq!(verdict(&r, a2), ("block", Some("src-limit")));
    assert_eq!(
        r.action(b1),
        "pass",
        "a neighbour in the same /64 is not listed"
    );
    assert_eq!(
        (verdict(&r, a3), r.rule(a3)),
        (("block", Some("match")), Some(1))
    );
    assert_eq!(r.summary["tables_added"]["bad"], serde_json::json!([a]));
}

/// `keep state (sloppy)`: a connection seen one way only (SYN, then the
/// client's ACK) is established at that ACK and counted there.
#[test]
fn sloppy_one_sided_connections_count() {
    let rules = "block all\n\
                 pass in on em0 proto tcp to port 80 keep state (sloppy, max-src-conn 1)\n";
    let mut c = Capture::default();
    syn(&mut c, S, A, 40000);
    let a1 = in4(&mut c, S, A, SERVER, tcp(40000, 80, ACK, 1001, 5001, 0));
    syn(&mut c, S, A, 40001);
    let a2 = in4(&mut c, S, A, SERVER, tcp(40001, 80, ACK, 1001, 5001, 0));
    let r = replay("srct-sloppy", rules, &c, &[]);
    assert_eq!((r.action(a1), r.state(a1)), ("pass", "match"));
    assert_eq!(verdict(&r, a2), ("block", Some("src-limit")));
    assert_eq!(src_nodes(&r), vec![(A.to_string(), 2, 2)]);
}
