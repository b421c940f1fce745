//! The engine never panics on what arrives from the wire, and counts
//! every drop.

use super::*;
use proptest::prelude::*;
use ruleset::hostenv::RegressHost;
use ruleset::lexer::FsSource;
use ruleset::parse::{parse, ParseConfig};

const RULES: &str = "\
table <t> { 192.0.2.0/24, !192.0.2.7, 2001:db8::/48 }
block return all
pass out on em0 from 192.0.2.0/24 nat-to 198.51.100.1
pass in on em0 proto tcp to 198.51.100.1 port 8080 rdr-to 192.0.2.20 port 80
pass in proto udp from <t> keep state (max-src-states 3)
pass out proto tcp modulate state
pass in proto icmp
pass out inet6
";

fn engine() -> Engine {
    engine_with(RULES)
}

pub(super) fn engine_with(rules: &str) -> Engine {
    Engine::new(
        compiled_of(rules),
        EngineConfig {
            interfaces: vec![IfConfig {
                name: "em0".into(),
                addrs: vec![("198.51.100.1".parse().unwrap(), 24)],
                groups: Vec::new(),
            }],
            link: Link::Ethernet,
            seed: 3,
        },
    )
    .expect("loads")
}

/// Valid frames to mutate: TCP SYN out, UDP in, ICMP echo, IPv6 TCP,
/// an IPv4 fragment, an ICMP error quoting TCP.
fn seeds() -> Vec<Vec<u8>> {
    fn eth(et: u16, ip: &[u8]) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 0xfe, 2, 0, 0, 0, 0, 1];
        f.extend_from_slice(&et.to_be_bytes());
        f.extend_from_slice(ip);
        f
    }
    let v4 = |proto: u8, l4: &[u8], frag: u16| {
        let mut h = vec![
            0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0, 192, 0, 2, 10, 203, 0, 113, 5,
        ];
        let tl = (20 + l4.len()) as u16;
        h[2..4].copy_from_slice(&tl.to_be_bytes());
        h[6..8].copy_from_slice(&frag.to_be_bytes());
        let ck = crate::wire::checksum::finish(crate::wire::checksum::sum(&h));
        h[10..12].copy_from_slice(&ck.to_be_bytes());
        h.extend_from_slice(l4);
        h
    };
    let tcp = [
        0x9c, 0x40, 0, 80, 0, 0, 3, 0xe8, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
    ];
    let udp = [0x13, 0x88, 0, 53, 0, 12, 0, 0, 1, 2, 3, 4];
    let echo = [8, 0, 0, 0, 0, 7, 0, 1, 9, 9, 9, 9];
    let syn = v4(6, &tcp, 0);
    let mut err = vec![3, 3, 0, 0, 0, 0, 0, 0];
    err.extend_from_slice(&syn[..28]);
    let mut v6 = vec![0x60, 0, 0, 0, 0, 20, 6, 64];
    v6.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    v6.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    v6.extend_from_slice(&tcp);
    vec![
        eth(0x0800, &syn),
        eth(0x0800, &v4(17, &udp, 0)),
        eth(0x0800, &v4(1, &echo, 0)),
        eth(0x0800, &v4(1, &err, 0)),
        eth(0x0800, &v4(17, &udp, 0x2000)),
        eth(0x86dd, &v6),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_are_dropped_or_passed_never_a_panic(
        frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 1..20),
        dirs in proptest::collection::vec(any::<bool>(), 20),
    ) {
        let eng = engine();
        let mut w = eng.worker();
        for (i, mut f) in frames.into_iter().enumerate() {
            let dir = if dirs[i] { Dir::In } else { Dir::Out };
            let v = eng.process(&mut w, i as u64 * 1_000_000_000, &mut Packet { frame: &mut f, ifindex: 0, dir });
            if v.action == Action::Block {
                prop_assert!(w.reasons.get(v.reason) > 0);
            }
        }
    }

    #[test]
    fn mutated_frames_never_panic(
        muts in proptest::collection::vec((0usize..6, any::<u16>(), any::<u8>(), any::<bool>(), 0usize..80), 1..40),
    ) {
        let eng = engine();
        let mut w = eng.worker();
        let seeds = seeds();
        for (i, (s, at, byte, inbound, cut)) in muts.into_iter().enumerate() {
            let mut f = seeds[s].clone();
            let n = f.len();
            f[usize::from(at) % n] = byte;
            if cut > 60 {
                f.truncate(n.saturating_sub(cut - 60));
            }
            let dir = if inbound { Dir::In } else { Dir::Out };
            let _ = eng.process(&mut w, i as u64, &mut Packet { frame: &mut f, ifindex: 0, dir });
            eng.expire(i as u64 * 3_000_000_000);
        }
    }
}

#[test]
fn a_packet_on_an_unknown_interface_is_dropped() {
    let eng = engine();
    let mut w = eng.worker();
    let mut f = seeds()[0].clone();
    let v = eng.process(
        &mut w,
        0,
        &mut Packet {
            frame: &mut f,
            ifindex: 7,
            dir: Dir::In,
        },
    );
    assert_eq!(v.action, Action::Block);
}

#[test]
fn arp_passes_untouched() {
    let eng = engine();
    let mut w = eng.worker();
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x06]);
    f.extend_from_slice(&[
        0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 192, 0, 2, 2,
    ]);
    let before = f.clone();
    let v = eng.process(
        &mut w,
        0,
        &mut Packet {
            frame: &mut f,
            ifindex: 0,
            dir: Dir::In,
        },
    );
    assert_eq!((v.action, v.rule), (Action::Pass, None));
    assert_eq!(f, before);
}

#[test]
fn a_bad_ipv4_header_checksum_is_dropped() {
    let eng = engine();
    let mut w = eng.worker();
    let mut f = seeds()[1].clone();
    f[24] ^= 0xff;
    let v = eng.process(
        &mut w,
        0,
        &mut Packet {
            frame: &mut f,
            ifindex: 0,
            dir: Dir::In,
        },
    );
    assert_eq!((v.action, v.reason), (Action::Block, Reason::ProtoCksum));
}

/// Two workers share one engine: each opens connections whose replies
/// the other one sees (as RSS would split a translated flow), and every
/// reply finds its state.
#[test]
fn two_workers_share_states() {
    let eng = std::sync::Arc::new(engine_with(
        "block all\npass out on em0 proto tcp from 192.0.2.0/24 nat-to 198.51.100.1\n",
    ));
    let frame =
        |src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, flags: u8, seq: u32, ack: u32| {
            let mut l4 = Vec::new();
            l4.extend_from_slice(&sport.to_be_bytes());
            l4.extend_from_slice(&dport.to_be_bytes());
            l4.extend_from_slice(&seq.to_be_bytes());
            l4.extend_from_slice(&ack.to_be_bytes());
            l4.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
            let ps = crate::wire::checksum::pseudo_v4(src, dst, 6, 20);
            let ck = crate::wire::checksum::finish(crate::wire::checksum::combine(&[
                ps,
                crate::wire::checksum::sum(&l4),
            ]));
            l4[16..18].copy_from_slice(&ck.to_be_bytes());
            let mut h = vec![0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0];
            h.extend_from_slice(&src);
            h.extend_from_slice(&dst);
            let ck = crate::wire::checksum::finish(crate::wire::checksum::sum(&h));
            h[10..12].copy_from_slice(&ck.to_be_bytes());
            let mut f = vec![2, 0, 0, 0, 0, 0xfe, 2, 0, 0, 0, 0, 1, 8, 0];
            f.extend_from_slice(&h);
            f.extend_from_slice(&l4);
            f
        };
    const N: u16 = 2000;
    let server = [203, 0, 113, 5];
    // Worker A opens connections (outbound SYNs, translated by nat-to).
    let mut syn_out = Vec::new();
    {
        let mut w = eng.worker();
        for i in 0..N {
            let mut f = frame([192, 0, 2, 10], 10_000 + i, server, 80, 0x02, 1000, 0);
            let v = eng.process(
                &mut w,
                1,
                &mut Packet {
                    frame: &mut f,
                    ifindex: 0,
                    dir: Dir::Out,
                },
            );
            assert_eq!(v.state, StateOutcome::New);
            syn_out.push(v.nat.expect("translated").src.port);
        }
    }
    // Two workers, in parallel: one sends the SYN|ACKs (inbound, to the
    // translated port), the other the clients' ACKs; each half of the
    // flows is answered on the other thread from the one that follows.
    let handles: Vec<_> = (0..2)
        .map(|t| {
            let eng = eng.clone();
            let ports = syn_out.clone();
            std::thread::spawn(move || {
                let mut w = eng.worker();
                let mut passed = 0;
                for i in (0..N).filter(|i| i % 2 == t) {
                    let nport = ports[usize::from(i)];
                    let mut f = frame(server, 80, [198, 51, 100, 1], nport, 0x12, 5000, 1001);
                    let v = eng.process(
                        &mut w,
                        2,
                        &mut Packet {
                            frame: &mut f,
                            ifindex: 0,
                            dir: Dir::In,
                        },
                    );
                    passed +=
                        usize::from(v.action == Action::Pass && v.state == StateOutcome::Match);
                }
                passed
            })
        })
        .collect();
    let passed: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(passed, usize::from(N));
    assert_eq!(eng.state_count(), usize::from(N));
}

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

/// A reload keeps the states: their packets go on passing, no longer
/// attributed to a rule; new connections meet the new rules; a ruleset
/// the engine refuses leaves the running one in place.
#[test]
fn reload_keeps_states_and_applies_new_rules_to_new_flows() {
    let eng = engine_with("block all\npass out proto udp\n");
    let mut w = eng.worker();
    let udp = |sport: u16| {
        let mut f = seeds()[1].clone();
        f[34..36].copy_from_slice(&sport.to_be_bytes());
        f
    };
    let mut f = udp(5000);
    let v = eng.process(
        &mut w,
        1,
        &mut Packet {
            frame: &mut f,
            ifindex: 0,
            dir: Dir::Out,
        },
    );
    assert_eq!((v.action, v.state), (Action::Pass, StateOutcome::New));
    assert_eq!(v.rule.map(|r| r.nr), Some(1));

    // a refused ruleset: nothing changes
    let bad = eng.reload(compiled_of("set timeout udp.first 5\npass\n"));
    assert!(bad.is_err());
    let bad = eng.reload(compiled_of("pass out route-to (em0:peer)\n"));
    assert!(bad.is_err());

    let new = eng.reload(compiled_of("block all\n")).expect("reloads");
    let mut w2 = new.worker();
    let mut f = udp(5000);
    let v = new.process(
        &mut w2,
        2,
        &mut Packet {
            frame: &mut f,
            ifindex: 0,
            dir: Dir::Out,
        },
    );
    assert_eq!(
        (v.action, v.state),
        (Action::Pass, StateOutcome::Match),
        "the state outlives its rule"
    );
    assert_eq!(v.rule, None);
    let mut f = udp(5001);
    let v = new.process(
        &mut w2,
        2,
        &mut Packet {
            frame: &mut f,
            ifindex: 0,
            dir: Dir::Out,
        },
    );
    assert_eq!(
        (v.action, v.rule.map(|r| r.nr)),
        (Action::Block, Some(0)),
        "new flows meet the new rules"
    );
    assert_eq!(new.state_count(), 1);

    // a second reload allows new flows again, in a new generation
    let third = new
        .reload(compiled_of("pass out proto udp\n"))
        .expect("reloads");
    let mut w3 = third.worker();
    let mut f = udp(5002);
    let v = third.process(
        &mut w3,
        3,
        &mut Packet {
            frame: &mut f,
            ifindex: 0,
            dir: Dir::Out,
        },
    );
    assert_eq!(
        (v.action, v.state, v.rule.map(|r| r.nr)),
        (Action::Pass, StateOutcome::New, Some(0))
    );
    let mut f = udp(5002);
    let v = third.process(
        &mut w3,
        3,
        &mut Packet {
            frame: &mut f,
            ifindex: 0,
            dir: Dir::Out,
        },
    );
    assert_eq!(
        (v.state, v.rule.map(|r| r.nr)),
        (StateOutcome::Match, Some(0))
    );
    assert_eq!(third.state_count(), 2);
}

/// `no-sync` and `allow-opts` are the state's (pf's PFSTATE_NOSYNC and
/// PFSTATE_ALLOWOPTS); `set hostid` is the states' creator and cannot
/// change under a running table.
#[test]
fn no_sync_allow_opts_and_hostid_reach_the_states() {
    let eng = engine_with(
        "set hostid 0x1234\nblock all\npass out proto udp keep state (no-sync) allow-opts\npass out proto tcp\n",
    );
    assert_eq!(eng.states().host_id(), 0x1234);
    let mut w = eng.worker();
    let mut f = seeds()[1].clone();
    let v = eng.process(
        &mut w,
        1,
        &mut Packet {
            frame: &mut f,
            ifindex: 0,
            dir: Dir::Out,
        },
    );
    assert_eq!(v.state, StateOutcome::New);
    let mut f = seeds()[0].clone();
    let v = eng.process(
        &mut w,
        1,
        &mut Packet {
            frame: &mut f,
            ifindex: 0,
            dir: Dir::Out,
        },
    );
    assert_eq!(v.state, StateOutcome::New);
    let mut flags: Vec<_> = eng
        .states()
        .states()
        .iter()
        .map(|s| (s.wire.proto, s.no_sync, s.allow_opts, s.sync.creator))
        .collect();
    flags.sort();
    assert_eq!(
        flags,
        vec![(6, false, false, 0x1234), (17, true, true, 0x1234)]
    );
    assert!(eng.reload(compiled_of("set hostid 0x99\npass\n")).is_err());
    assert!(eng.reload(compiled_of("set hostid 0x1234\npass\n")).is_ok());
}

/// pfsync's deferral needs the identity of the state a packet created:
/// given for a synced state (the one the table exports), not for a
/// `no-sync` one nor for a packet that matched a state.
#[test]
fn a_new_synced_state_is_named_in_the_verdict() {
    let eng =
        engine_with("pass out proto udp\npass out proto udp to port 9 keep state (no-sync)\n");
    let mut w = eng.worker();
    let mut run = |dport: u16, now: u64| {
        let mut f = seeds()[1].clone();
        f[36..38].copy_from_slice(&dport.to_be_bytes());
        eng.process(
            &mut w,
            now,
            &mut Packet {
                frame: &mut f,
                ifindex: 0,
                dir: Dir::Out,
            },
        )
    };
    let v = run(53, 1);
    assert_eq!((v.action, v.state), (Action::Pass, StateOutcome::New));
    let id = v.created.expect("a synced state");
    let info = eng.states().export(id).expect("the table knows it");
    assert!(!info.no_sync);
    let v = run(53, 2);
    assert_eq!((v.state, v.created), (StateOutcome::Match, None));
    let v = run(9, 3);
    assert_eq!((v.state, v.created), (StateOutcome::New, None), "no-sync");
}
