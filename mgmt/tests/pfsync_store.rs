//! Two firewalls with the same pf.conf: connections set up through A
//! (one with `nat-to`, one with `rdr-to`) go on through B by state once
//! A's states reach B as pfsync records, through `EngineStore` and the
//! wire codec, or through two pfsync machines.

mod support;

use dataplane::engine::{Action, Engine, EngineConfig, IfConfig, Packet, StateOutcome, Verdict};
use dataplane::pdesc::Dir;
use dataplane::state::StateEvent;
use dataplane::wire::frame::Link;
use mgmt::daemon::pfsync::store::{local_change, EngineStore};
use pfsync::state::flags;
use pfsync::wire::{PacketRepr, Section};
use pfsync::{Config, LocalChange, Pfsync, Rx, StateStore};
use ruleset::hostenv::RegressHost;
use ruleset::lexer::FsSource;
use ruleset::parse::{parse, ParseConfig};
use std::sync::Arc;
use support::{endpoints, eth, ip4, tcp, udp, ACK, PSH, SYN};

const SEC: u64 = 1_000_000_000;

/// Nothing passes as new but what the first packets of A's connections
/// need: SYNs out to port 80 (translated), SYNs in to 8080 (redirected),
/// UDP out (not synced). Later TCP segments never match `flags S/SA`.
const RULES: &str = "\
block all
pass out on em0 inet proto tcp from 10.0.0.0/24 to port 80 nat-to 198.51.100.1
pass in on em0 inet proto tcp to 198.51.100.1 port 8080 rdr-to 10.0.0.20 port 80 keep state (if-bound)
pass out on em0 inet proto udp keep state (no-sync)
";

const NAT_CLIENT: &str = "10.0.0.5";
const WEB: &str = "93.184.216.34";
const FW: &str = "198.51.100.1";
const REMOTE: &str = "203.0.113.9";
const INSIDE: &str = "10.0.0.20";

fn engine(seed: u64) -> Arc<Engine> {
    engine_with(RULES, seed)
}

fn engine_with(rules: &str, seed: u64) -> Arc<Engine> {
    let env = RegressHost::new();
    let cfg = ParseConfig {
        env: &env,
        files: &FsSource,
        anchor: String::new(),
        macros: Vec::new(),
        queues: Vec::new(),
    };
    let p = parse("pf.conf", rules.as_bytes().to_vec(), &cfg);
    assert_eq!(p.errors, 0, "{:?}", p.stderr);
    let compiled = ruleset::compile::compile(&p).expect("compiles");
    Arc::new(
        Engine::new(
            compiled,
            EngineConfig {
                interfaces: vec![IfConfig {
                    name: "em0".into(),
                    addrs: vec![(FW.parse().unwrap(), 24)],
                    groups: Vec::new(),
                }],
                link: Link::Ethernet,
                seed,
            },
        )
        .expect("loads"),
    )
}

/// One packet on em0: (direction, frame).
type Pkt = (Dir, Vec<u8>);

#[allow(clippy::too_many_arguments)]
fn seg(
    dir: Dir,
    src: &str,
    sp: u16,
    dst: &str,
    dp: u16,
    fl: u8,
    seq: u32,
    ack: u32,
    len: usize,
) -> Pkt {
    (
        dir,
        eth(
            &ip4(src, dst, &tcp(sp, dp, fl, seq, ack, len)),
            dir == Dir::In,
        ),
    )
}

fn run(eng: &Engine, now: u64, p: &Pkt) -> (Verdict, Vec<u8>) {
    let mut w = eng.worker();
    let mut frame = p.1.clone();
    let v = eng.process(
        &mut w,
        now,
        &mut Packet {
            frame: &mut frame,
            ifindex: 0,
            dir: p.0,
        },
    );
    (v, frame)
}

fn passes(eng: &Engine, now: u64, p: &Pkt, state: StateOutcome) -> Vec<u8> {
    let (v, frame) = run(eng, now, p);
    assert_eq!((v.action, v.state), (Action::Pass, state), "{v:?}");
    frame
}

/// Set up both connections and a UDP flow through A; returns the NAT
/// port A picked.
fn handshakes(a: &Engine, now: u64) -> u16 {
    let syn = seg(Dir::Out, NAT_CLIENT, 40000, WEB, 80, SYN, 1000, 0, 0);
    let out = passes(a, now, &syn, StateOutcome::New);
    let (src, nat_port, _, _) = endpoints(&out);
    assert_eq!(src.to_string(), FW, "nat-to applied");
    let steps = [
        seg(Dir::In, WEB, 80, FW, nat_port, SYN | ACK, 5000, 1001, 0),
        seg(Dir::Out, NAT_CLIENT, 40000, WEB, 80, ACK, 1001, 5001, 0),
        seg(
            Dir::Out,
            NAT_CLIENT,
            40000,
            WEB,
            80,
            ACK | PSH,
            1001,
            5001,
            100,
        ),
        seg(Dir::In, WEB, 80, FW, nat_port, ACK, 5001, 1101, 0),
    ];
    for p in &steps {
        passes(a, now, p, StateOutcome::Match);
    }
    let syn = seg(Dir::In, REMOTE, 50000, FW, 8080, SYN, 7000, 0, 0);
    let out = passes(a, now, &syn, StateOutcome::New);
    let (_, _, dst, dport) = endpoints(&out);
    assert_eq!(
        (dst.to_string(), dport),
        (INSIDE.to_string(), 80),
        "rdr-to applied"
    );
    let steps = [
        seg(
            Dir::Out,
            INSIDE,
            80,
            REMOTE,
            50000,
            SYN | ACK,
            9000,
            7001,
            0,
        ),
        seg(Dir::In, REMOTE, 50000, FW, 8080, ACK, 7001, 9001, 0),
        seg(Dir::In, REMOTE, 50000, FW, 8080, ACK | PSH, 7001, 9001, 50),
        seg(Dir::Out, INSIDE, 80, REMOTE, 50000, ACK, 9001, 7051, 0),
    ];
    for p in &steps {
        passes(a, now, p, StateOutcome::Match);
    }
    let dns = (
        Dir::Out,
        eth(&ip4(NAT_CLIENT, "192.0.2.53", &udp(5353, 53, 20)), false),
    );
    passes(a, now, &dns, StateOutcome::New);
    nat_port
}

/// The next packets of both connections, both ways.
fn next_packets(nat_port: u16) -> Vec<Pkt> {
    vec![
        seg(
            Dir::Out,
            NAT_CLIENT,
            40000,
            WEB,
            80,
            ACK | PSH,
            1101,
            5001,
            10,
        ),
        seg(Dir::In, WEB, 80, FW, nat_port, ACK | PSH, 5001, 1111, 20),
        seg(Dir::In, REMOTE, 50000, FW, 8080, ACK | PSH, 7051, 9001, 5),
        seg(
            Dir::Out,
            INSIDE,
            80,
            REMOTE,
            50000,
            ACK | PSH,
            9001,
            7056,
            30,
        ),
    ]
}

/// B passes each packet by state, rewritten exactly as A rewrites it,
/// and creates no state; a firewall that heard nothing blocks them.
fn b_continues(a: &Engine, b: &Engine, a_now: u64, b_now: u64, nat_port: u16) {
    let fresh = engine(99);
    let before = b.state_count();
    for p in next_packets(nat_port) {
        let (v, _) = run(&fresh, b_now, &p);
        assert_eq!(v.action, Action::Block, "without the states: {v:?}");
        let on_a = passes(a, a_now, &p, StateOutcome::Match);
        let (v, on_b) = run(b, b_now, &p);
        assert_eq!(
            (v.action, v.state),
            (Action::Pass, StateOutcome::Match),
            "{v:?}"
        );
        assert_eq!(v.rule, None, "an imported state belongs to no rule");
        assert_eq!(on_b, on_a, "translated identically");
    }
    assert_eq!(b.state_count(), before);
}

#[test]
fn states_exported_through_the_wire_codec_carry_connections_to_b() {
    let a = engine(1);
    let b = engine(2);
    assert_ne!(a.states().host_id(), b.states().host_id());
    let (tx, rx) = crossbeam_channel::unbounded();
    a.states().set_events(Some(tx));
    let nat_port = handshakes(&a, 10 * SEC);
    let inserts: Vec<LocalChange> = rx
        .try_iter()
        .filter(|e| matches!(e, StateEvent::Insert(_)))
        .map(|e| local_change(&e))
        .collect();
    let nosync: Vec<_> = inserts
        .iter()
        .map(|c| match c {
            LocalChange::Insert { proto, nosync, .. } => (*proto, *nosync),
            c => panic!("{c:?}"),
        })
        .collect();
    assert_eq!(nosync, vec![(6, false), (6, false), (17, true)]);

    let store_a = EngineStore::new(a.clone(), vec!["em0".into()]);
    let a_now = 40 * SEC;
    let records: Vec<_> = store_a
        .snapshot()
        .into_iter()
        .filter_map(|id| store_a.export(id, a_now))
        .filter(|r| r.state_flags & flags::NOSYNC == 0)
        .collect();
    assert_eq!(records.len(), 2);
    let ifnames: Vec<_> = records.iter().map(|r| r.ifname.to_string()).collect();
    assert!(ifnames.contains(&"em0".to_string()) && ifnames.contains(&"all".to_string()));
    assert!(records.iter().all(|r| r.id.creator == a.states().host_id()));
    assert!(
        records.iter().all(|r| r.keys[0] != r.keys[1]),
        "both translate"
    );
    assert!(records
        .iter()
        .all(|r| r.creation == 30 && r.valid_for_insert()));

    let bytes = PacketRepr {
        sections: vec![Section::Ins(records.clone())],
    }
    .emit();
    let got = PacketRepr::parse(&bytes).expect("parses");
    let [Section::Ins(got)] = &got.sections[..] else {
        panic!("{got:?}")
    };
    assert_eq!(got, &records);

    // B's clock is its own: it has been up much longer
    let b_now = 5000 * SEC;
    let (tx, rx) = crossbeam_channel::unbounded();
    b.states().set_events(Some(tx));
    let mut store_b = EngineStore::new(b.clone(), vec!["em0".into()]);
    for r in got {
        store_b.import(r, b_now).expect("imported");
        assert_eq!(
            store_b.import(r, b_now),
            Err(pfsync::sync::ImportError::Exists)
        );
        // what B would send back is what A sent, ages and all
        let back = store_b.export(r.id, b_now).expect("found by identity");
        assert_eq!(
            (back.keys, back.src, back.dst, back.creation, back.expire),
            (r.keys, r.src, r.dst, r.creation, r.expire)
        );
        assert_eq!(
            (back.ifname, back.direction, back.packets),
            (r.ifname, r.direction, r.packets)
        );
        assert!(store_b.lookup(r.id).is_some());
    }
    assert!(rx.try_recv().is_err(), "imports are not local changes");
    b_continues(&a, &b, a_now, b_now, nat_port);
    // B's packets on A's states are B's changes to tell the peer
    assert!(rx
        .try_iter()
        .all(|e| matches!(local_change(&e), LocalChange::Update { .. })));

    // A's CLR empties B of A's states, and only those
    let mine = b.state_count();
    let cleared = store_b.clear(a.states().host_id(), None);
    assert_eq!(cleared.len(), 2);
    assert_eq!(b.states().len(), mine - 2);
}

/// The daemon's loop in miniature: A's table events go to A's machine,
/// its packets to B's machine, which imports into B's table.
#[test]
fn two_pfsync_machines_carry_the_states_to_b() {
    let a = engine(1);
    let b = engine(2);
    let (tx, rx) = crossbeam_channel::unbounded();
    a.states().set_events(Some(tx));
    let mut store_a = EngineStore::new(a.clone(), vec!["em0".into()]);
    let mut store_b = EngineStore::new(b.clone(), vec!["em0".into()]);
    let mut ma = Pfsync::new(Config::new(a.states().host_id())).unwrap();
    let mut mb = Pfsync::new(Config::new(b.states().host_id())).unwrap();
    let rx_ok = Rx {
        on_syncdev: true,
        ttl: 255,
    };
    let mut now = SEC;
    ma.up(now);
    mb.up(now);
    let mut nat_port = 0;
    for step in 0..40 {
        now += SEC / 4;
        if step == 4 {
            nat_port = handshakes(&a, now);
        }
        for e in rx.try_iter() {
            ma.handle_local(now, &mut store_a, local_change(&e));
        }
        for (m, s) in [(&mut ma, &mut store_a), (&mut mb, &mut store_b)] {
            if m.poll_timeout().is_some_and(|t| t <= now) {
                m.handle_timeout(now, s);
            }
        }
        while let Some(p) = ma.poll_transmit() {
            ma.transmit_result(true);
            let _ = mb.handle_packet(now, &mut store_b, rx_ok, &p);
        }
        while let Some(p) = mb.poll_transmit() {
            mb.transmit_result(true);
            let _ = ma.handle_packet(now, &mut store_a, rx_ok, &p);
        }
        while ma.poll_event().is_some() {}
        while mb.poll_event().is_some() {}
    }
    assert_eq!(
        b.state_count(),
        2,
        "the two TCP states, not the no-sync one"
    );
    b_continues(&a, &b, now, now, nat_port);
}

/// The spec's golden INS packet (V3): an OpenBSD state for an outbound
/// `nat-to` connection, 10.0.0.5:40000 → 93.184.216.34:443 leaving as
/// 198.51.100.7:50000, bound to em0.
const OPENBSD_INS: &str = "\
45 10 01 34 12 34 40 00 ff f0 c6 fd c0 a8 fe fe e0 00 00 f0 06 00 01 20 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 00 0d 42 00 01 66 50 00 00 00 00 00 01 65 6d 30 00 00 00 00 00 00 00 00 00
00 00 00 00 5d b8 d8 22 00 00 00 00 00 00 00 00 00 00 00 00 c6 33 64 07 00 00 00 00 00 00 00 00
00 00 00 00 01 bb c3 50 00 00 02 00 5d b8 d8 22 00 00 00 00 00 00 00 00 00 00 00 00 0a 00 00 05
00 00 00 00 00 00 00 00 00 00 00 00 01 bb 9c 40 00 00 02 00 00 00 00 00 00 00 00 00 00 0f 42 41
00 10 46 29 00 00 00 00 01 f6 05 b4 04 87 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 1e 84 81
00 1f 7f 71 00 00 00 00 ff ff 05 78 04 87 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
00 00 00 00 ff ff ff ff ff ff ff ff ff ff ff ff 00 00 00 0c 00 01 51 74 00 00 00 00 00 00 00 0a
00 00 00 00 00 00 00 08 00 00 00 00 00 00 04 b0 00 00 00 01 00 00 00 10 1a 2b 3c 4d 00 00 00 00
00 00 00 00 00 00 02 06 02 00 00 02 00 00 00 00 00 00 00 00";

/// pf's key sides and [wire, stack] order, as OpenBSD sends them, give
/// the same translation here: the connection goes on through pfd.
#[test]
fn an_openbsd_nat_state_imports_and_translates() {
    let bytes: Vec<u8> = OPENBSD_INS
        .split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect();
    let rx = pfsync::wire::ip::decap(&bytes).expect("an IPv4 packet");
    let pkt = PacketRepr::parse(rx.payload).expect("pfsync");
    let [Section::Ins(recs)] = &pkt.sections[..] else {
        panic!("{pkt:?}")
    };
    let b = engine(2);
    let mut store = EngineStore::new(b.clone(), vec!["em0".into()]);
    let now = 100 * SEC;
    store.import(&recs[0], now).expect("imported");
    let back = store.export(recs[0].id, now).unwrap();
    assert_eq!(back.ifname.to_string(), "em0");
    // the table keeps no MSS per peer (only synproxy would use it)
    let no_mss = |p: pfsync::state::Peer| pfsync::state::Peer { mss: 0, ..p };
    assert_eq!(
        (back.keys, back.src, back.dst),
        (recs[0].keys, no_mss(recs[0].src), no_mss(recs[0].dst))
    );
    assert_eq!(
        (back.creation, back.expire),
        (recs[0].creation, recs[0].expire)
    );

    let out = seg(
        Dir::Out,
        "10.0.0.5",
        40000,
        WEB,
        443,
        ACK | PSH,
        1_000_001,
        2_000_001,
        10,
    );
    let f = passes(&b, now, &out, StateOutcome::Match);
    let (src, sport, _, _) = endpoints(&f);
    assert_eq!(
        (src.to_string(), sport),
        ("198.51.100.7".to_string(), 50000)
    );
    let back_in = seg(
        Dir::In,
        WEB,
        443,
        "198.51.100.7",
        50000,
        ACK,
        2_000_001,
        1_000_011,
        0,
    );
    let f = passes(&b, now, &back_in, StateOutcome::Match);
    let (_, _, dst, dport) = endpoints(&f);
    assert_eq!((dst.to_string(), dport), ("10.0.0.5".to_string(), 40000));
    // an interface this firewall does not have cannot hold the state
    let mut elsewhere = EngineStore::new(engine(3), vec!["em1".into()]);
    assert!(matches!(
        elsewhere.import(&recs[0], now),
        Err(pfsync::sync::ImportError::Refused(_))
    ));
}

/// A state's route-to goes with it: A's record carries `rt` and
/// `rt_addr`, and on B the state's packets are routed the same way.
#[test]
fn a_states_route_goes_with_it() {
    let rules = "pass out on em0 inet proto udp route-to 198.51.100.254\n";
    let (a, b) = (engine_with(rules, 1), engine_with(rules, 2));
    let p = (
        Dir::Out,
        eth(&ip4(NAT_CLIENT, WEB, &udp(5000, 53, 10)), false),
    );
    let (v, _) = run(&a, SEC, &p);
    let hop = |v: &Verdict| v.route.map(|r| r.next_hop.to_string());
    assert_eq!(hop(&v).as_deref(), Some("198.51.100.254"));
    let sa = EngineStore::new(a.clone(), vec!["em0".into()]);
    let rec = sa.record(&a.states().states()[0], SEC);
    assert_eq!(rec.rt, 1, "PF_ROUTETO");
    assert_eq!(&rec.rt_addr[..4], &[198, 51, 100, 254]);
    let mut sb = EngineStore::new(b.clone(), vec!["em0".into()]);
    sb.import(&rec, SEC).expect("imports");
    assert_eq!(b.routed_states(), 1);
    let (v, _) = run(&b, 2 * SEC, &p);
    assert_eq!(v.state, StateOutcome::Match);
    assert_eq!(hop(&v).as_deref(), Some("198.51.100.254"));
    // a record with an rt pf never sends is refused
    let mut bad = rec;
    bad.rt = 9;
    let c = engine_with(rules, 3);
    let mut sc = EngineStore::new(c.clone(), vec!["em0".into()]);
    assert!(sc.import(&bad, SEC).is_err());
    assert_eq!(c.state_count(), 0);
}
