//! Two nodes replicate inserts, updates, deletes and flushes; unknown
//! states are fetched with UPD_REQ; the merge rule sends newer state back.

mod support;

use pfsync::state::{IfName, StateId};
use pfsync::sync::ReqState;
use pfsync::wire::{PacketRepr, Section};
use pfsync::{LocalChange, StateStore};
use support::*;

const A: u32 = 0x0a0a_0a0a;
const B: u32 = 0x0b0b_0b0b;

fn sections(p: &[u8]) -> Vec<Section> {
    PacketRepr::parse(p).unwrap().sections
}

fn last_sent(n: &Node) -> Vec<Section> {
    sections(&n.sent.last().unwrap().1)
}

#[test]
fn connected_pair_with_empty_tables_gives_up_bulk_and_is_undemoted() {
    let p = Pair::connected(config(A), config(B));
    // An empty peer answers with BUS END only, which a requester still
    // waiting for BUS START ignores (OpenBSD does the same): it retries
    // and gives up.
    assert_eq!(p.a.m.bulk_state(), ReqState::Done);
    assert_eq!(p.a.m.demotion(), 0);
    assert_eq!(p.a.demotion_sum(), 0);
}

#[test]
fn insert_update_delete_replicate() {
    let mut p = Pair::connected(config(A), config(B));
    let id = p.a.create(p.now, tcp_state(A, 1));
    p.drive();
    assert!(
        p.b.store.get(id).is_none(),
        "an insert waits for the 1 s timer"
    );
    p.advance(SEC);
    assert_eq!(p.b.store.get(id), p.a.store.get(id));
    assert!(matches!(&last_sent(&p.a)[..], [Section::Ins(v)] if v.len() == 1));

    p.a.touch(p.now, id, |s| {
        s.src.seqlo += 100;
        s.dst.seqlo += 70;
        s.timeout = 3;
    });
    p.advance(SEC);
    assert!(matches!(&last_sent(&p.a)[..], [Section::UpdC(v)] if v.len() == 1));
    let b = p.b.store.get(id).unwrap();
    assert_eq!((b.src.seqlo, b.dst.seqlo, b.timeout), (1100, 5070, 3));

    p.a.delete(p.now, id);
    p.advance(SEC);
    assert!(matches!(&last_sent(&p.a)[..], [Section::DelC(v)] if v == &[id]));
    assert!(p.b.store.get(id).is_none());
    // Nothing echoed back by b for any of it.
    assert!(p.b.sent.iter().all(|(t, _)| *t < SEC * 24));
    assert_eq!(p.b.m.stats().badstate, 0);
}

#[test]
fn insert_then_delete_before_sending_is_never_sent() {
    let mut p = Pair::connected(config(A), config(B));
    let before = p.a.sent.len();
    let id = p.a.create(p.now, tcp_state(A, 1));
    p.a.delete(p.now, id);
    p.advance(2 * SEC);
    assert_eq!(p.a.sent.len(), before);
}

#[test]
fn no_sync_and_pfsync_protocol_states_are_never_sent() {
    let mut p = Pair::connected(config(A), config(B));
    let before = p.a.sent.len();
    let mut s = tcp_state(A, 1);
    s.state_flags |= pfsync::state::flags::NOSYNC;
    let id = p.a.create(p.now, s);
    let mut s = tcp_state(A, 2);
    s.proto = pfsync::state::IPPROTO_PFSYNC;
    let id2 = p.a.create(p.now, s);
    p.a.touch(p.now, id, |_| {});
    p.a.touch(p.now, id2, |_| {});
    p.a.delete(p.now, id);
    p.advance(2 * SEC);
    assert_eq!(p.a.sent.len(), before);
}

#[test]
fn unknown_compressed_updates_are_fetched_with_one_upd_req() {
    let mut p = Pair::connected(config(A), config(B));
    let ids: Vec<StateId> = (1..=3)
        .map(|n| p.a.create(p.now, tcp_state(A, n)))
        .collect();
    p.advance(SEC);
    // b loses its copies (say it restarted): a's next updates are unknown.
    p.b.store.states.clear();
    for &id in &ids {
        p.a.touch(p.now, id, |s| s.src.seqlo += 1);
    }
    let b_before = p.b.sent.len();
    p.advance(SEC);
    let b_sent: Vec<_> = p.b.sent[b_before..]
        .iter()
        .map(|(_, x)| sections(x))
        .collect();
    assert_eq!(
        b_sent,
        vec![vec![Section::UpdReq(ids.clone())]],
        "one packet, all ids"
    );
    // a answered each with a full UPD, which b took as an insert.
    assert!(matches!(&last_sent(&p.a)[..], [Section::Upd(v)] if v.len() == 3));
    for id in ids {
        assert_eq!(p.b.store.get(id), p.a.store.get(id));
    }
}

#[test]
fn upd_req_for_unknown_or_no_sync_state_counts_badstate() {
    let mut p = Pair::connected(config(A), config(B));
    let mut s = tcp_state(A, 9);
    s.state_flags |= pfsync::state::flags::NOSYNC;
    let ns = p.a.create(p.now, s);
    let req = PacketRepr {
        sections: vec![Section::UpdReq(vec![StateId::new(77, B), ns])],
    }
    .emit();
    p.a.receive(p.now, &req).unwrap();
    assert_eq!(p.a.m.stats().badstate, 2);
}

#[test]
fn stale_update_is_answered_with_our_newer_state_at_once() {
    let mut p = Pair::connected(config(A), config(B));
    let id = p.a.create(p.now, tcp_state(A, 1));
    p.advance(SEC);
    // b forwards the connection too and moves ahead of a.
    p.b.store.states.get_mut(&id).unwrap().src.seqlo = 9000;
    // a's update carries an older src side.
    p.a.touch(p.now, id, |s| s.dst.seqlo += 5);
    let t = p.now;
    let b_before = p.b.sent.len();
    p.advance(SEC);
    assert_eq!(p.b.m.stats().stale, 1);
    // b replied in the same instant it received a's update: the state
    // was just touched by pfsync, so no 1 s wait.
    let (sent_at, reply) = &p.b.sent[b_before];
    assert_eq!(*sent_at, t + SEC);
    let Section::UpdC(v) = &sections(reply)[0] else {
        panic!()
    };
    assert_eq!(v[0].src.seqlo, 9000);
    assert_eq!(p.a.store.get(id).unwrap().src.seqlo, 9000);
    // b took a's newer dst side.
    assert_eq!(p.b.store.get(id).unwrap().dst.seqlo, 5005);
    assert_eq!(p.a.m.stats().stale, 0);
}

#[test]
fn local_clear_sends_clr_and_peer_drops_that_creators_states() {
    let mut p = Pair::connected(config(A), config(B));
    for n in 1..=3 {
        p.a.create(p.now, tcp_state(A, n));
    }
    let bs = p.b.create(p.now, tcp_state(B, 1));
    p.advance(SEC);
    assert_eq!(p.b.store.states.len(), 4);
    assert_eq!(p.a.store.states.len(), 4);
    p.a.m
        .handle_local(p.now, &mut p.a.store, LocalChange::Clear { ifname: None });
    p.drive();
    assert!(matches!(&last_sent(&p.a)[..], [Section::Clr(v)] if v[0].creator == A));
    assert_eq!(p.b.store.snapshot(), vec![bs]);

    // An interface-scoped clear for an interface b has no state on.
    let id = p.a.create(p.now, tcp_state(A, 5));
    p.advance(SEC);
    let ifname = Some(IfName::new("em7").unwrap());
    p.a.m
        .handle_local(p.now, &mut p.a.store, LocalChange::Clear { ifname });
    p.drive();
    assert!(p.b.store.get(id).is_some());
}

#[test]
fn peer_delete_of_unknown_state_counts_badstate() {
    let mut p = Pair::connected(config(A), config(B));
    let del = PacketRepr {
        sections: vec![Section::DelC(vec![StateId::new(5, A)])],
    }
    .emit();
    p.b.receive(p.now, &del).unwrap();
    assert_eq!(p.b.m.stats().badstate, 1);
}

#[test]
fn insert_with_bad_values_counts_badval_and_later_records_still_apply() {
    let mut p = Pair::connected(config(A), config(B));
    let mut bad = tcp_state(A, 1);
    bad.timeout = 20;
    let mut bad_af = tcp_state(A, 2);
    bad_af.af = 10; // Linux's AF_INET6 is not a pfsync family
    let good = tcp_state(A, 3);
    let pkt = PacketRepr {
        sections: vec![Section::Ins(vec![bad, bad_af, good])],
    }
    .emit();
    p.b.receive(p.now, &pkt).unwrap();
    assert_eq!(p.b.m.stats().badval, 2);
    assert_eq!(p.b.store.snapshot(), vec![good.id]);
}

#[test]
fn insert_section_stops_at_the_state_limit_but_later_sections_apply() {
    let mut p = Pair::connected(config(A), config(B));
    p.b.store.limit = Some(1);
    let pkt = PacketRepr {
        sections: vec![
            Section::Ins(vec![tcp_state(A, 1), tcp_state(A, 2)]),
            Section::DelC(vec![tcp_state(A, 1).id]),
        ],
    }
    .emit();
    p.b.receive(p.now, &pkt).unwrap();
    assert!(p.b.store.states.is_empty());
    assert_eq!(p.b.m.stats().badstate, 0);
}
