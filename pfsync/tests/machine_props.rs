//! Properties of the machine as a whole: hostile bytes never make it
//! panic, and without loss the peer's table converges to the owner's.

mod support;

use pfsync::wire::{PacketRepr, Section};
use proptest::prelude::*;
use support::*;

const A: u32 = 0x0a0a_0a0a;
const B: u32 = 0x0b0b_0b0b;

#[derive(Debug, Clone)]
enum Op {
    Create(u8),
    Touch(u8, u32),
    Delete(u8),
    Wait(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..20).prop_map(Op::Create),
        (0u8..20, 1u32..1000).prop_map(|(n, d)| Op::Touch(n, d)),
        (0u8..20).prop_map(Op::Delete),
        (0u16..3000).prop_map(Op::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn peer_converges_without_loss(ops in prop::collection::vec(op(), 1..80), maxupd in 0u8..4) {
        let mut ca = config(A);
        ca.maxupd = maxupd;
        let mut p = Pair::connected(ca, config(B));
        for op in ops {
            let now = p.now;
            match op {
                Op::Create(n) => {
                    let s = if n % 3 == 0 { udp_state(A, n.into()) } else { tcp_state(A, n.into()) };
                    if p.a.store.get(s.id).is_none() {
                        p.a.create(now, s);
                    }
                }
                Op::Touch(n, d) => {
                    let id = tcp_state(A, n.into()).id;
                    if p.a.store.get(id).is_some() {
                        p.a.touch(now, id, |s| {
                            s.src.seqlo = s.src.seqlo.wrapping_add(d);
                            s.dst.seqlo = s.dst.seqlo.wrapping_add(d / 2);
                            if s.proto != pfsync::state::IPPROTO_TCP {
                                s.dst.state = 2;
                            }
                        });
                    }
                }
                Op::Delete(n) => {
                    let id = tcp_state(A, n.into()).id;
                    if p.a.store.get(id).is_some() {
                        p.a.delete(now, id);
                    }
                }
                Op::Wait(ms) => p.advance(u64::from(ms) * MS),
            }
            p.drive();
        }
        p.advance(5 * SEC);
        prop_assert_eq!(&p.b.store.states, &p.a.store.states);
        prop_assert_eq!(p.b.m.stats().badval + p.b.m.stats().badlen + p.b.m.stats().badact, 0);
    }

    #[test]
    fn hostile_payloads_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..1400),
        action in 0u8..20,
        words in 0u8..80,
        count in 0u16..8,
    ) {
        let mut n = Node::new(config(B));
        n.m.up(0);
        n.m.link_state(0, true);
        for i in 0..4 {
            n.create(0, tcp_state(A, i));
        }
        let mut p = vec![6, 0, 0, 0];
        p.extend_from_slice(&[0; 16]);
        p.extend_from_slice(&[action, words]);
        p.extend_from_slice(&count.to_be_bytes());
        p.extend_from_slice(&body);
        let len = p.len() as u16;
        p[2..4].copy_from_slice(&len.to_be_bytes());
        let _ = n.receive(SEC, &p);
        let _ = n.receive(SEC, &body);
        while let Some(t) = n.m.poll_timeout().filter(|t| *t < 60 * SEC) {
            n.handle_timeout(t);
            n.drain(t);
        }
    }

    #[test]
    fn mutated_valid_packets_never_panic(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut n = Node::new(config(B));
        n.m.up(0);
        n.m.link_state(0, true);
        let a = tcp_state(A, 1);
        n.create(0, tcp_state(B, 2));
        let mut pkt = PacketRepr {
            sections: vec![
                Section::Ins(vec![a]),
                Section::Upd(vec![a]),
                Section::UpdReq(vec![a.id, pfsync::state::StateId::BULK_REQUEST]),
                Section::DelC(vec![a.id]),
            ],
        }
        .emit();
        for (at, v) in flips {
            let i = at.index(pkt.len());
            pkt[i] = v;
        }
        let _ = n.receive(SEC, &pkt);
        while let Some(t) = n.m.poll_timeout().filter(|t| *t < 60 * SEC) {
            n.handle_timeout(t);
            n.drain(t);
        }
    }
}

/// One state's connection seen by both firewalls (active-active): each
/// packet moves the sequence numbers on, on whichever node it crosses.
#[derive(Debug, Clone)]
struct Hit {
    on_b: bool,
    state: u8,
    wait_ms: u16,
}

fn hit() -> impl Strategy<Value = Hit> {
    (any::<bool>(), 0u8..6, 0u16..1500).prop_map(|(on_b, state, wait_ms)| Hit {
        on_b,
        state,
        wait_ms,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Both nodes forward the same connections; the merge rule and its
    /// stale replies leave both with the newest sequence numbers.
    #[test]
    fn active_active_converges_to_the_newest(hits in prop::collection::vec(hit(), 1..60)) {
        let mut p = Pair::connected(config(A), config(B));
        let ids: Vec<_> = (0..6).map(|n| p.a.create(p.now, tcp_state(A, n))).collect();
        p.advance(SEC);
        let mut seq = [1000u32; 6];
        for h in hits {
            let i = usize::from(h.state);
            seq[i] += 10;
            let (v, now) = (seq[i], p.now);
            let node = if h.on_b { &mut p.b } else { &mut p.a };
            node.touch(now, ids[i], |s| {
                s.src.seqlo = v;
                s.dst.seqlo = v + 1;
            });
            p.drive();
            p.advance(u64::from(h.wait_ms) * MS);
        }
        p.advance(5 * SEC);
        for (i, id) in ids.iter().enumerate() {
            let (a, b) = (p.a.store.get(*id).unwrap(), p.b.store.get(*id).unwrap());
            prop_assert_eq!(a.src.seqlo, seq[i]);
            prop_assert_eq!(b.src.seqlo, seq[i]);
            prop_assert_eq!(a.dst.seqlo, b.dst.seqlo);
        }
    }

    /// Whatever a lossy link dropped, one lossless round of updates makes
    /// the peer hold every live state of the owner, as it is (UPD_C for
    /// unknown states → UPD_REQ → UPD).
    #[test]
    fn lost_packets_heal_on_the_next_updates(
        ops in prop::collection::vec(op(), 1..60),
        loss in prop::collection::vec(any::<bool>(), 64),
    ) {
        let mut p = Pair::connected(config(A), config(B));
        let mut n_lost = 0usize;
        p.loss_ab = Box::new(move |n, _| loss[n % 64] && { n_lost += 1; n_lost < 1000 });
        for op in ops {
            let now = p.now;
            match op {
                Op::Create(n) => {
                    let s = tcp_state(A, n.into());
                    if p.a.store.get(s.id).is_none() {
                        p.a.create(now, s);
                    }
                }
                Op::Touch(n, d) => {
                    let id = tcp_state(A, n.into()).id;
                    if p.a.store.get(id).is_some() {
                        p.a.touch(now, id, |s| s.src.seqlo = s.src.seqlo.wrapping_add(d));
                    }
                }
                Op::Delete(n) => {
                    let id = tcp_state(A, n.into()).id;
                    if p.a.store.get(id).is_some() {
                        p.a.delete(now, id);
                    }
                }
                Op::Wait(ms) => p.advance(u64::from(ms) * MS),
            }
            p.drive();
        }
        p.advance(5 * SEC);
        p.loss_ab = Box::new(|_, _| false);
        let live: Vec<_> = p.a.store.states.keys().copied().collect();
        for id in &live {
            p.a.touch(p.now, *id, |s| s.src.seqlo = s.src.seqlo.wrapping_add(1));
        }
        p.advance(5 * SEC);
        for id in live {
            prop_assert_eq!(p.b.store.get(id), p.a.store.get(id));
        }
    }
}
