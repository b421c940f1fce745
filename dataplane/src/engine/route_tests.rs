//! route-to, reply-to and dup-to: the next hop a state draws, which of
//! its packets carry it, round-robin over a pool, and the refusals.

use super::*;
use crate::state::Side;
use ruleset::hostenv::RegressHost;
use ruleset::lexer::FsSource;
use ruleset::parse::{parse, ParseConfig};
use ruleset::rule::RouteKind;

const CLIENT: [u8; 4] = [192, 0, 2, 10];
const SERVER: [u8; 4] = [198, 51, 100, 20];

fn compiled_of(rules: &str) -> Compiled {
    let env = RegressHost::new();
    let cfg = ParseConfig {
        env: &env,
        files: &FsSource,
        anchor: String::new(),
        macros: Vec::new(),
        queues: Vec::new(),
    };
    let p = parse("t", rules.as_bytes().to_vec(), &cfg);
    assert_eq!(p.errors, 0, "{:?}", p.stderr);
    ruleset::compile::compile(&p).expect("compiles")
}

fn config() -> EngineConfig {
    let iface = |name: &str, addr: &str| IfConfig {
        name: name.into(),
        addrs: vec![(addr.parse().unwrap(), 24)],
        groups: Vec::new(),
    };
    EngineConfig {
        interfaces: vec![iface("em0", "192.0.2.1"), iface("em1", "203.0.113.1")],
        link: Link::Ethernet,
        seed: 7,
    }
}

fn engine_with(rules: &str) -> Engine {
    Engine::new(compiled_of(rules), config()).expect("loads")
}

/// A UDP datagram in an Ethernet frame.
fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Vec<u8> {
    let mut l4 = Vec::new();
    l4.extend_from_slice(&sport.to_be_bytes());
    l4.extend_from_slice(&dport.to_be_bytes());
    l4.extend_from_slice(&12u16.to_be_bytes());
    l4.extend_from_slice(&[0, 0, b'p', b'f', b'd', b'!']);
    let mut h = vec![0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0];
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let ck = crate::wire::checksum::finish(crate::wire::checksum::sum(&h));
    h[10..12].copy_from_slice(&ck.to_be_bytes());
    let mut f = vec![2, 0, 0, 0, 0, 0xfe, 2, 0, 0, 0, 0, 1, 8, 0];
    f.extend_from_slice(&h);
    f.extend_from_slice(&l4);
    f
}

fn run(
    eng: &Engine,
    w: &mut Worker,
    now: u64,
    ifindex: usize,
    dir: Dir,
    mut f: Vec<u8>,
) -> Verdict {
    eng.process(
        w,
        now,
        &mut Packet {
            frame: &mut f,
            ifindex,
            dir,
        },
    )
}

fn hop(v: &Verdict) -> Option<(RouteKind, String)> {
    v.route.map(|r| (r.kind, r.next_hop.to_string()))
}

fn route_to(a: &str) -> Option<(RouteKind, String)> {
    Some((RouteKind::RouteTo, a.into()))
}

#[test]
fn route_to_applies_to_the_first_packet_and_its_direction_only() {
    let eng = engine_with("pass in on em0 route-to 203.0.113.254\npass out\n");
    let mut w = eng.worker();
    let v = run(&eng, &mut w, 1, 0, Dir::In, udp(CLIENT, 4000, SERVER, 53));
    assert_eq!((v.action, v.state), (Action::Pass, StateOutcome::New));
    assert_eq!(hop(&v), route_to("203.0.113.254"));
    // the client's next packet: same state, same hop
    let v = run(&eng, &mut w, 2, 0, Dir::In, udp(CLIENT, 4000, SERVER, 53));
    assert_eq!(v.state, StateOutcome::Match);
    assert_eq!(hop(&v), route_to("203.0.113.254"));
    // the server's answer leaving toward the client is routed normally
    let v = run(&eng, &mut w, 3, 0, Dir::Out, udp(SERVER, 53, CLIENT, 4000));
    assert_eq!(v.state, StateOutcome::Match);
    assert_eq!(v.route, None);
    // another flow of the rule draws the same single address
    let v = run(&eng, &mut w, 4, 0, Dir::In, udp(CLIENT, 4001, SERVER, 53));
    assert_eq!(hop(&v), route_to("203.0.113.254"));
    assert_eq!(eng.routed_states(), 2);
    // a packet no routing rule passed carries no route
    let v = run(&eng, &mut w, 5, 1, Dir::Out, udp(CLIENT, 4002, SERVER, 53));
    assert_eq!((v.state, v.route), (StateOutcome::New, None));
}

#[test]
fn reply_to_applies_to_the_answers_only() {
    let eng = engine_with("pass out\npass in on em1 reply-to 203.0.113.254\n");
    let mut w = eng.worker();
    // a connection in on the second uplink
    let v = run(&eng, &mut w, 1, 1, Dir::In, udp(SERVER, 5000, CLIENT, 80));
    assert_eq!(v.state, StateOutcome::New);
    assert_eq!(v.route, None);
    // the answer, about to leave by another interface, matches the
    // floating state and is sent back by the uplink it came in on
    let v = run(&eng, &mut w, 2, 0, Dir::Out, udp(CLIENT, 80, SERVER, 5000));
    assert_eq!(v.state, StateOutcome::Match);
    assert_eq!(
        hop(&v),
        Some((RouteKind::ReplyTo, "203.0.113.254".to_string()))
    );
    let r = v.route.unwrap();
    assert!(r.applies_to(Side::Dst) && !r.applies_to(Side::Src));
    assert_eq!(r.kind_name(), "reply-to");
}

#[test]
fn dup_to_copies_both_directions() {
    let eng = engine_with("pass out\npass in on em0 dup-to 203.0.113.9\n");
    let mut w = eng.worker();
    let dup = Some((RouteKind::DupTo, "203.0.113.9".to_string()));
    let v = run(&eng, &mut w, 1, 0, Dir::In, udp(CLIENT, 4000, SERVER, 53));
    assert_eq!(hop(&v), dup);
    let v = run(&eng, &mut w, 2, 0, Dir::Out, udp(SERVER, 53, CLIENT, 4000));
    assert_eq!((v.state, hop(&v)), (StateOutcome::Match, dup.clone()));
    let v = run(&eng, &mut w, 3, 0, Dir::In, udp(CLIENT, 4000, SERVER, 53));
    assert_eq!(hop(&v), dup);
}

#[test]
fn round_robin_spreads_states_and_each_state_keeps_its_hop() {
    let eng =
        engine_with("pass in on em0 route-to { 203.0.113.1, 203.0.113.2 } round-robin\npass out\n");
    let mut w = eng.worker();
    let mut first = Vec::new();
    for port in 4000..4004 {
        let v = run(&eng, &mut w, 1, 0, Dir::In, udp(CLIENT, port, SERVER, 53));
        first.push(hop(&v).expect("routed").1);
    }
    assert_eq!(
        first,
        ["203.0.113.1", "203.0.113.2", "203.0.113.1", "203.0.113.2"]
    );
    // later packets keep their state's choice, whatever the cursor says
    for (i, port) in (4000..4004).rev().enumerate() {
        let v = run(&eng, &mut w, 2, 0, Dir::In, udp(CLIENT, port, SERVER, 53));
        assert_eq!(v.state, StateOutcome::Match);
        assert_eq!(hop(&v).unwrap().1, first[3 - i]);
    }
}

#[test]
fn the_route_outlives_a_reload_and_goes_with_its_state() {
    let eng = engine_with("pass in on em0 route-to 203.0.113.254\npass out\n");
    let mut w = eng.worker();
    run(
        &eng,
        &mut w,
        1_000_000_000,
        0,
        Dir::In,
        udp(CLIENT, 4000, SERVER, 53),
    );
    let eng = eng.reload(compiled_of("pass\n")).expect("reloads");
    let mut w = eng.worker();
    let v = run(
        &eng,
        &mut w,
        2_000_000_000,
        0,
        Dir::In,
        udp(CLIENT, 4000, SERVER, 53),
    );
    assert_eq!(v.state, StateOutcome::Match);
    assert_eq!(hop(&v), route_to("203.0.113.254"));
    assert_eq!(eng.routed_states(), 1);
    // the state times out (udp.multiple, 60 s); its route goes on the
    // next purge
    eng.expire(100_000_000_000);
    eng.expire(200_000_000_000);
    assert_eq!(eng.state_count(), 0);
    assert_eq!(eng.routed_states(), 0);
    let v = run(
        &eng,
        &mut w,
        201_000_000_000,
        0,
        Dir::In,
        udp(CLIENT, 4000, SERVER, 53),
    );
    assert_eq!((v.state, v.route), (StateOutcome::New, None));
}

#[test]
fn ipv6_route_to() {
    let eng = engine_with("pass in on em0 inet6 route-to 2001:db8:1::1\npass out\n");
    let mut w = eng.worker();
    let mut f = vec![2, 0, 0, 0, 0, 0xfe, 2, 0, 0, 0, 0, 1, 0x86, 0xdd];
    let src: std::net::Ipv6Addr = "2001:db8::10".parse().unwrap();
    let dst: std::net::Ipv6Addr = "2001:db8:2::20".parse().unwrap();
    f.extend_from_slice(&[0x60, 0, 0, 0, 0, 8, 17, 64]);
    f.extend_from_slice(&src.octets());
    f.extend_from_slice(&dst.octets());
    let mut l4 = vec![0x0f, 0xa0, 0, 53, 0, 8, 0, 0];
    let ps = crate::wire::checksum::pseudo_v6(src.octets(), dst.octets(), 17, 8);
    let ck = crate::wire::checksum::finish(crate::wire::checksum::combine(&[
        ps,
        crate::wire::checksum::sum(&l4),
    ]));
    l4[6..8].copy_from_slice(&ck.to_be_bytes());
    f.extend_from_slice(&l4);
    let v = run(&eng, &mut w, 1, 0, Dir::In, f);
    assert_eq!(v.state, StateOutcome::New, "{v:?}");
    assert_eq!(hop(&v), route_to("2001:db8:1::1"));
}

#[test]
fn what_is_not_enforced_is_refused_by_line() {
    let c = compiled_of(
        "pass in on em0 route-to 203.0.113.0/30 least-states\n\
         pass in on em0 route-to (em1:peer)\n\
         pass in on em0 route-to 203.0.113.0/30 round-robin sticky-address\n\
         pass out on em1 nat-to 198.51.100.0/30 least-states\n",
    );
    let e = Engine::new(c, config()).err().expect("refused");
    assert_eq!(
        e.render("pf.conf"),
        "pf.conf:1: not supported: least-states on route-to, reply-to and dup-to\n\
         pf.conf:2: not supported: route-to, reply-to and dup-to (ifname:peer)\n\
         pf.conf:4: not supported: least-states on nat-to, rdr-to and binat-to\n"
    );
}

/// sticky-address: a source keeps its next hop for its new connections
/// while it has states; the node goes with its last state (src.track 0).
#[test]
fn sticky_address_keeps_a_sources_next_hop() {
    let eng = engine_with(
        "pass in on em0 route-to { 203.0.113.1, 203.0.113.2 } round-robin sticky-address\n\
         pass out\n",
    );
    let mut w = eng.worker();
    let other = [192, 0, 2, 11];
    let t = 1_000_000_000;
    let a1 = run(&eng, &mut w, t, 0, Dir::In, udp(CLIENT, 4000, SERVER, 53));
    let b1 = run(&eng, &mut w, t, 0, Dir::In, udp(other, 4000, SERVER, 53));
    let a2 = run(&eng, &mut w, t, 0, Dir::In, udp(CLIENT, 4001, SERVER, 53));
    let b2 = run(&eng, &mut w, t, 0, Dir::In, udp(other, 4001, SERVER, 53));
    assert_eq!(hop(&a1), route_to("203.0.113.1"));
    assert_eq!(hop(&b1), route_to("203.0.113.2"));
    assert_eq!(hop(&a2), hop(&a1), "the source's node, not the cursor");
    assert_eq!(hop(&b2), hop(&b1));
    let nodes = |e: &Engine| e.route_pools[0][0].sticky.len();
    assert_eq!(nodes(&eng), 2);
    eng.expire(100 * t);
    eng.expire(200 * t);
    assert_eq!((eng.state_count(), eng.routed_states()), (0, 0));
    assert_eq!(nodes(&eng), 0, "released with the states");
}

#[test]
fn the_route_keeps_the_verdict_small() {
    assert!(std::mem::size_of::<Option<RouteTo>>() <= 20);
}

/// pfsync's import: a state gets its peer's route, and its packets
/// carry it from then on.
#[test]
fn a_state_can_be_given_a_route() {
    let eng = engine_with("pass\n");
    let mut w = eng.worker();
    let v = run(&eng, &mut w, 1, 0, Dir::In, udp(CLIENT, 4000, SERVER, 53));
    assert_eq!((v.state, v.route), (StateOutcome::New, None));
    let id = eng.states().states()[0].id;
    let r = RouteTo {
        kind: RouteKind::RouteTo,
        next_hop: "203.0.113.7".parse().unwrap(),
    };
    assert!(eng.set_state_route(id, Some(r), 2));
    let v = run(&eng, &mut w, 2, 0, Dir::In, udp(CLIENT, 4000, SERVER, 53));
    assert_eq!(v.route, Some(r));
    assert_eq!(eng.state_route(id), Some(r));
    let none = RouteTo {
        kind: RouteKind::None,
        ..r
    };
    assert!(!eng.set_state_route(id, Some(none), 2));
    assert!(eng.set_state_route(id, None, 2));
    let v = run(&eng, &mut w, 3, 0, Dir::In, udp(CLIENT, 4000, SERVER, 53));
    assert_eq!(v.route, None);
    assert_eq!(eng.routed_states(), 0);
}
