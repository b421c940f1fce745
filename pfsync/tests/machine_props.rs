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
