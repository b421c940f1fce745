//! Deferral (spec §7, §13.4 (7)): the first packet of a new state is held
//! until the peer has the state.

mod support;

use pfsync::state::flags;
use pfsync::sync::{DEFER_LIMIT, DEFER_NS};
use pfsync::wire::{PacketRepr, Section};
use pfsync::Config;
use support::*;

const A: u32 = 0x0a0a_0a0a;
const B: u32 = 0x0b0b_0b0b;

fn deferring(creator: u32) -> Config {
    let mut c = config(creator);
    c.defer = true;
    c
}

fn has(p: &[u8], f: impl Fn(&Section) -> bool) -> bool {
    PacketRepr::parse(p).is_ok_and(|r| r.sections.iter().any(f))
}

#[test]
fn ins_ack_releases_the_packet_at_once() {
    let mut p = Pair::connected(deferring(A), config(B));
    let t = p.now;
    let id = p.a.create(t, tcp_state(A, 1));
    p.a.m
        .defer(t, &mut p.a.store, id, b"syn".to_vec(), false)
        .unwrap();
    assert_eq!(p.a.m.deferred(), 1);
    // The insert left at once, flagged: the peer is to acknowledge.
    let out = p.a.drain(t);
    assert_eq!(out.len(), 1);
    let Section::Ins(v) = &PacketRepr::parse(&out[0]).unwrap().sections[0] else {
        panic!()
    };
    assert_ne!(v[0].state_flags & flags::ACK, 0);
    p.b.receive(t, &out[0]).unwrap();
    // b stored it without the flag and answered INS_ACK in the same instant.
    assert_eq!(p.b.store.get(id).unwrap().state_flags & flags::ACK, 0);
    let acks = p.b.drain(t);
    assert_eq!(acks.len(), 1);
    assert!(has(
        &acks[0],
        |s| matches!(s, Section::InsAck(v) if v == &[id])
    ));
    p.a.receive(t, &acks[0]).unwrap();
    p.a.drain(t);
    assert_eq!(p.a.released(), vec![(id, b"syn".to_vec())]);
    assert_eq!(p.a.m.deferred(), 0);
    assert_eq!(p.a.m.defer_stats().ack, 1);
    // The store's own copy never carried the flag.
    assert_eq!(p.a.store.get(id).unwrap().state_flags & flags::ACK, 0);
}

#[test]
fn without_an_answer_the_packet_goes_after_20_ms() {
    let mut p = Pair::connected(deferring(A), config(B));
    p.loss_ab = Box::new(|_, _| true);
    let t = p.now;
    let id = p.a.create(t, tcp_state(A, 1));
    p.a.m.defer(t, &mut p.a.store, id, vec![1], false).unwrap();
    p.advance(DEFER_NS - 1);
    assert!(p.a.released().is_empty());
    p.advance(1);
    assert_eq!(p.a.released(), vec![(id, vec![1])]);
    assert_eq!(p.a.m.defer_stats().run, 1);
}

#[test]
fn an_update_from_the_peer_releases_the_packet_too() {
    let mut p = Pair::connected(deferring(A), config(B));
    // b's INS_ACK is lost; its next update for the state arrives instead.
    p.loss_ba = Box::new(|_, pkt| has(pkt, |s| matches!(s, Section::InsAck(_))));
    let t = p.now;
    let id = p.a.create(t, tcp_state(A, 1));
    p.a.m.defer(t, &mut p.a.store, id, vec![7], false).unwrap();
    p.drive();
    assert!(p.a.released().is_empty());
    p.now += MS;
    let now = p.now;
    p.b.touch(now, id, |s| s.dst.seqlo += 1);
    p.drive();
    assert_eq!(p.a.released(), vec![(id, vec![7])]);
    assert_eq!(p.a.store.get(id).unwrap().dst.seqlo, 5001);
}

#[test]
fn more_than_128_held_releases_the_oldest() {
    let mut n = Node::new(deferring(A));
    n.m.up(0);
    let ids: Vec<_> = (0..=DEFER_LIMIT as u64)
        .map(|i| n.create(0, tcp_state(A, i)))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        n.m.defer(0, &mut n.store, *id, vec![i as u8], false)
            .unwrap();
    }
    n.drain(0);
    // The 129th hold found the limit reached: OpenBSD then releases the
    // oldest until fewer than 128 are held.
    assert_eq!(n.released(), vec![(ids[0], vec![0]), (ids[1], vec![1])]);
    assert_eq!(n.m.deferred(), DEFER_LIMIT - 1);
    assert_eq!(n.m.defer_stats().over, 1);
    // pfsync going down sends every held packet.
    n.m.down(MS);
    n.drain(MS);
    assert_eq!(n.released().len(), DEFER_LIMIT + 1);
    assert_eq!(n.m.deferred(), 0);
}

#[test]
fn packets_that_cannot_be_deferred_are_handed_back() {
    let mut n = Node::new(config(A));
    n.m.up(0);
    let id = n.create(0, tcp_state(A, 1));
    assert_eq!(
        n.m.defer(0, &mut n.store, id, vec![1], false),
        Err(vec![1]),
        "defer off"
    );
    let mut n = Node::new(deferring(A));
    let id = n.create(0, tcp_state(A, 1));
    assert_eq!(
        n.m.defer(0, &mut n.store, id, vec![2], false),
        Err(vec![2]),
        "down"
    );
    n.m.up(0);
    assert_eq!(
        n.m.defer(0, &mut n.store, id, vec![3], true),
        Err(vec![3]),
        "multicast"
    );
    let mut s = tcp_state(A, 2);
    s.state_flags |= flags::NOSYNC;
    let ns = n.create(0, s);
    assert_eq!(
        n.m.defer(0, &mut n.store, ns, vec![4], false),
        Err(vec![4]),
        "no-sync"
    );
    let unknown = tcp_state(A, 3).id;
    assert_eq!(
        n.m.defer(0, &mut n.store, unknown, vec![5], false),
        Err(vec![5])
    );
    assert_eq!(n.m.defer_stats().add, 0);
}
