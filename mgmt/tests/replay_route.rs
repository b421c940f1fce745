//! `route-to`, `reply-to` and `dup-to` through `pfd replay`: the verdict
//! of each packet the option applies to names the kind and the next hop
//! its state drew, so an operator can check a ruleset's routing on a
//! capture. The replay has one interface and no routing table: it
//! reports, it does not send.

mod support;
use support::*;

const S: u64 = 1_000_000_000;
const CLIENT: &str = "192.0.2.10";
const SERVER: &str = "203.0.113.5";

fn in4(cap: &mut Capture, t: u64, src: &str, dst: &str, l4: L4) -> usize {
    cap.push(t, eth(&ip4(src, dst, &l4), true))
}

fn out4(cap: &mut Capture, t: u64, src: &str, dst: &str, l4: L4) -> usize {
    cap.push(t, eth(&ip4(src, dst, &l4), false))
}

fn route(r: &Replay, i: usize) -> Option<(String, String)> {
    let v = r.v(i).get("route")?;
    Some((
        v["kind"].as_str().unwrap().to_string(),
        v["next_hop"].as_str().unwrap().to_string(),
    ))
}

fn hop(kind: &str, addr: &str) -> Option<(String, String)> {
    Some((kind.to_string(), addr.to_string()))
}

/// route-to: the connection's packets from the client carry the next
/// hop, the server's answers do not; round-robin alternates per
/// connection and each keeps its choice.
#[test]
fn route_to_round_robin_per_connection() {
    let rules = "block all\n\
                 pass out\n\
                 pass in on em0 proto tcp to port 80 \
                 route-to { 198.51.100.1, 198.51.100.2 } round-robin\n";
    let mut c = Capture::default();
    in4(&mut c, S, CLIENT, SERVER, tcp(40000, 80, SYN, 1000, 0, 0));
    out4(
        &mut c,
        S + 1,
        SERVER,
        CLIENT,
        tcp(80, 40000, SYN | ACK, 5000, 1001, 0),
    );
    in4(
        &mut c,
        S + 2,
        CLIENT,
        SERVER,
        tcp(40000, 80, ACK, 1001, 5001, 0),
    );
    in4(
        &mut c,
        S + 3,
        CLIENT,
        SERVER,
        tcp(40001, 80, SYN, 7000, 0, 0),
    );
    in4(
        &mut c,
        S + 4,
        CLIENT,
        SERVER,
        tcp(40001, 80, ACK, 7001, 9001, 0),
    );
    in4(
        &mut c,
        S + 5,
        CLIENT,
        SERVER,
        tcp(40002, 80, SYN, 8000, 0, 0),
    );
    let r = replay("route-rr", rules, &c, &[]);
    assert_eq!((r.action(1), r.state(1)), ("pass", "new"));
    assert_eq!(route(&r, 1), hop("route-to", "198.51.100.1"));
    assert_eq!(r.state(2), "match");
    assert_eq!(route(&r, 2), None, "answers go by the routing table");
    assert_eq!(route(&r, 3), hop("route-to", "198.51.100.1"));
    assert_eq!(route(&r, 4), hop("route-to", "198.51.100.2"));
    assert_eq!(route(&r, 5), hop("route-to", "198.51.100.2"));
    assert_eq!(route(&r, 6), hop("route-to", "198.51.100.1"));
}

/// reply-to: the creating packet goes on as routed; the answers carry
/// the hop. dup-to: every packet of the state, both ways.
#[test]
fn reply_to_and_dup_to() {
    let rules = "pass out\n\
                 pass in on em0 proto udp to port 53 reply-to 198.51.100.9\n\
                 pass in on em0 proto udp to port 123 dup-to 192.0.2.250\n";
    let mut c = Capture::default();
    in4(&mut c, S, CLIENT, SERVER, udp(5000, 53, 20));
    out4(&mut c, S + 1, SERVER, CLIENT, udp(53, 5000, 40));
    in4(&mut c, S + 2, CLIENT, SERVER, udp(5001, 123, 48));
    out4(&mut c, S + 3, SERVER, CLIENT, udp(123, 5001, 48));
    let r = replay("route-reply-dup", rules, &c, &[]);
    assert_eq!(route(&r, 1), None);
    assert_eq!(route(&r, 2), hop("reply-to", "198.51.100.9"));
    assert_eq!(route(&r, 3), hop("dup-to", "192.0.2.250"));
    assert_eq!(route(&r, 4), hop("dup-to", "192.0.2.250"));
    // the replay forwards the packets themselves, untouched
    assert_eq!(r.passed.len(), 4);
}
