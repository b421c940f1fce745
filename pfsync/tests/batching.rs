//! Packing and timing of outgoing packets (spec §5.2, §13.4 (6)).

mod support;

use pfsync::state::StateRecord;
use pfsync::wire::{PacketRepr, Section};
use pfsync::Config;
use support::*;

const A: u32 = 0x0a0a_0a0a;

/// A node that is up, link down (so no bulk request traffic), nothing
/// sent yet.
fn node(cfg: Config) -> Node {
    let mut n = Node::new(cfg);
    n.m.up(0);
    n.drain(0);
    n
}

fn sent_sections(n: &Node, from: usize) -> Vec<Vec<Section>> {
    n.sent[from..]
        .iter()
        .map(|(_, p)| PacketRepr::parse(p).unwrap().sections)
        .collect()
}

fn counts(n: &Node, from: usize) -> Vec<Vec<(u8, usize)>> {
    sent_sections(n, from)
        .iter()
        .map(|p| {
            p.iter()
                .map(|s| {
                    let len = match s {
                        Section::Ins(v) | Section::Upd(v) => v.len(),
                        Section::UpdC(v) => v.len(),
                        Section::DelC(v) | Section::InsAck(v) => v.len(),
                        _ => 0,
                    };
                    (s.action().0, len)
                })
                .collect()
        })
        .collect()
}

/// Flush whatever is pending by running the node's timers.
fn run(n: &mut Node, until: u64) {
    while let Some(t) = n.m.poll_timeout() {
        if t > until {
            break;
        }
        n.handle_timeout(t);
        n.drain(t);
    }
}

#[test]
fn one_second_timer() {
    let mut n = node(config(A));
    n.create(5 * MS, tcp_state(A, 1));
    assert!(n.drain(5 * MS).is_empty());
    assert_eq!(n.m.poll_timeout(), Some(5 * MS + SEC));
    n.handle_timeout(5 * MS + SEC - 1);
    assert!(n.drain(0).is_empty());
    n.handle_timeout(5 * MS + SEC);
    assert_eq!(n.drain(0).len(), 1);
    assert_eq!(
        n.m.poll_timeout(),
        Some(30 * SEC),
        "only the link wait is left"
    );
}

#[test]
fn maxupd_flushes_tcp_early_and_not_udp() {
    let mut cfg = config(A);
    cfg.maxupd = 3;
    let mut n = node(cfg);
    let tcp = n.create(0, tcp_state(A, 1));
    let udp = n.create(0, udp_state(A, 2));
    run(&mut n, SEC);
    let base = n.sent.len();
    n.touch(2 * SEC, tcp, |s| s.src.seqlo += 1); // queued, counter 0
    n.touch(2 * SEC, tcp, |s| s.src.seqlo += 1); // 1
    n.touch(2 * SEC, tcp, |s| s.src.seqlo += 1); // 2
    assert_eq!(n.drain(2 * SEC).len(), 0);
    n.touch(2 * SEC, tcp, |s| s.src.seqlo += 1); // 3 = maxupd: flush
    assert_eq!(n.drain(2 * SEC).len(), 1);
    for _ in 0..50 {
        n.touch(3 * SEC, udp, |s| s.src.state = 2);
    }
    assert_eq!(n.drain(3 * SEC).len(), 0, "UDP updates never hit maxupd");
    run(&mut n, 4 * SEC);
    // Updates collapsed into one UPD_C record each, taken at write time.
    assert_eq!(counts(&n, base), vec![vec![(4, 1)], vec![(4, 1)]]);
    let Section::UpdC(v) = &sent_sections(&n, base)[0][0] else {
        panic!()
    };
    assert_eq!(v[0].src.seqlo, 1004);
}

#[test]
fn maxupd_zero_flushes_every_update_of_a_queued_tcp_state() {
    let mut cfg = config(A);
    cfg.maxupd = 0;
    let mut n = node(cfg);
    let tcp = n.create(0, tcp_state(A, 1));
    run(&mut n, SEC);
    n.touch(2 * SEC, tcp, |_| {});
    assert_eq!(n.drain(0).len(), 0, "first update only queues");
    n.touch(2 * SEC, tcp, |_| {});
    assert_eq!(n.drain(0).len(), 1);
}

#[test]
fn states_pfsync_touched_in_the_last_two_seconds_flush_at_once() {
    let mut n = node(config(A));
    let s = tcp_state(0xb, 1);
    let ins = PacketRepr {
        sections: vec![Section::Ins(vec![s])],
    }
    .emit();
    n.receive(10 * SEC, &ins).unwrap();
    n.touch(10 * SEC + 1_999 * MS, s.id, |_| {});
    assert_eq!(n.drain(0).len(), 1, "the peer forwards it too: send now");
    n.touch(12 * SEC, s.id, |_| {});
    assert_eq!(n.drain(0).len(), 0, "2 s later: back to batching");
}

#[test]
fn mtu_splits_at_five_states_and_seventeen_compressed_updates() {
    let mut n = node(config(A));
    let ids: Vec<_> = (0..12).map(|i| n.create(0, tcp_state(A, i))).collect();
    assert_eq!(n.drain(0).len(), 2, "two full packets went at once");
    run(&mut n, SEC);
    assert_eq!(
        counts(&n, 0),
        vec![vec![(13, 5)], vec![(13, 5)], vec![(13, 2)]]
    );
    assert!(n.sent.iter().all(|(_, p)| p.len() + 20 <= 1500));

    let base = n.sent.len();
    let more: Vec<_> = (100..140)
        .map(|i| n.create(2 * SEC, udp_state(A, i)))
        .collect();
    run(&mut n, 4 * SEC);
    let base2 = n.sent.len();
    for id in more {
        n.touch(5 * SEC, id, |s| s.dst.state = 1);
    }
    run(&mut n, 6 * SEC);
    assert_eq!(
        counts(&n, base2),
        vec![vec![(4, 17)], vec![(4, 17)], vec![(4, 6)]]
    );
    assert!(base2 > base);
    let _ = ids;
}

#[test]
fn sections_are_written_in_openbsds_queue_order() {
    let mut n = node(config(A));
    let old: Vec<_> = (0..2).map(|i| n.create(0, tcp_state(A, i))).collect();
    run(&mut n, SEC);
    let base = n.sent.len();
    n.create(2 * SEC, tcp_state(A, 9));
    n.delete(2 * SEC, old[0]);
    n.touch(2 * SEC, old[1], |_| {});
    run(&mut n, 4 * SEC);
    assert_eq!(counts(&n, base), vec![vec![(4, 1), (7, 1), (13, 1)]]);
}

#[test]
fn insert_replaces_an_update_that_raced_ahead_of_it() {
    let mut n = node(config(A));
    let s: StateRecord = tcp_state(A, 1);
    n.store.states.insert(s.id, s);
    n.touch(0, s.id, |_| {});
    n.create(0, s);
    run(&mut n, SEC);
    assert_eq!(counts(&n, 0), vec![vec![(13, 1)]]);
}

#[test]
fn nothing_is_queued_while_down_and_down_drops_the_queue() {
    let mut n = Node::new(config(A));
    let id = n.create(0, tcp_state(A, 1));
    n.touch(0, id, |_| {});
    assert_eq!(n.m.poll_timeout(), None);
    n.m.up(SEC);
    n.touch(SEC, id, |_| {});
    assert!(n.m.poll_timeout().is_some());
    n.m.down(SEC);
    run(&mut n, 100 * SEC);
    assert!(n
        .sent
        .iter()
        .all(|(_, p)| !matches!(PacketRepr::parse(p).unwrap().sections[0], Section::UpdC(_))));
}

#[test]
fn delete_replaces_a_queued_update_and_forget_sends_nothing() {
    let mut n = node(config(A));
    let ids: Vec<_> = (0..2).map(|i| n.create(0, tcp_state(A, i))).collect();
    run(&mut n, SEC);
    let base = n.sent.len();
    n.touch(2 * SEC, ids[0], |_| {});
    n.delete(2 * SEC, ids[0]);
    n.touch(2 * SEC, ids[1], |_| {});
    n.store.states.remove(&ids[1]);
    n.m.handle_local(
        2 * SEC,
        &mut n.store,
        pfsync::LocalChange::Forget { id: ids[1] },
    );
    run(&mut n, 4 * SEC);
    assert_eq!(
        sent_sections(&n, base),
        vec![vec![Section::DelC(vec![ids[0]])]]
    );
}

#[test]
fn a_state_gone_before_its_insert_left_is_never_announced() {
    // the daemon's flush (`pfctl -F states`) empties the table quietly;
    // an insert event still on its way then reaches the machine after
    // the table lost the state
    let mut n = node(config(A));
    let gone = n.create(0, tcp_state(A, 1));
    let kept = n.create(0, tcp_state(A, 2));
    n.store.states.remove(&gone);
    run(&mut n, SEC);
    assert_eq!(
        sent_sections(&n, 0),
        vec![vec![Section::Ins(vec![tcp_state(A, 2)])]]
    );
    // no entry was left behind: a delete of it sends nothing, one of
    // the state the peer knows sends its DEL_C
    let base = n.sent.len();
    n.delete(2 * SEC, gone);
    n.delete(2 * SEC, kept);
    run(&mut n, 4 * SEC);
    assert_eq!(
        sent_sections(&n, base),
        vec![vec![Section::DelC(vec![kept])]]
    );
}
