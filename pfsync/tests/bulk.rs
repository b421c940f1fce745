//! The bulk update (spec §6.2, §13.4 (5)): requester retries and
//! timeouts, CARP demotion, the sender's packets and pacing.

mod support;

use pfsync::state::StateId;
use pfsync::sync::{DemoteReason, ReqState, BULK_SND_IVAL_NS, MAX_TRIES, RETRY_NS};
use pfsync::wire::bus::{Bus, STATUS_END, STATUS_START};
use pfsync::wire::{PacketRepr, Section};
use pfsync::{Event, StateStore};
use std::cell::Cell;
use std::rc::Rc;
use support::*;

const A: u32 = 0x0a0a_0a0a;
const B: u32 = 0x0b0b_0b0b;

fn is_bulk_request(p: &[u8]) -> bool {
    PacketRepr::parse(p)
        .is_ok_and(|r| r.sections == vec![Section::UpdReq(vec![StateId::BULK_REQUEST])])
}

fn has_upd(p: &[u8]) -> bool {
    PacketRepr::parse(p).is_ok_and(|r| r.sections.iter().any(|s| matches!(s, Section::Upd(_))))
}

fn demotes(n: &Node) -> Vec<(i32, DemoteReason)> {
    n.events
        .iter()
        .filter_map(|e| match e {
            Event::Demote { delta, reason } => Some((*delta, *reason)),
            _ => None,
        })
        .collect()
}

/// `a` up with `n` states, `b` down.
fn pair_with_states(n: u64) -> Pair {
    let mut p = Pair::new(config(A), config(B));
    p.a.m.up(0);
    p.a.m.link_state(0, true);
    for i in 0..n {
        p.a.create(0, tcp_state(A, i));
    }
    p.run_until_idle(60 * SEC);
    p
}

#[test]
fn bulk_of_many_states_survives_a_lost_request_and_a_lost_packet() {
    let mut p = pair_with_states(23);
    assert_eq!(p.a.store.states.len(), 23);
    // The first bulk request from b is lost, and so is a's third bulk packet.
    let lost_req = Rc::new(Cell::new(false));
    let l = lost_req.clone();
    p.loss_ba = Box::new(move |_, pkt| is_bulk_request(pkt) && !l.replace(true));
    let upds = Rc::new(Cell::new(0));
    let u = upds.clone();
    p.loss_ab = Box::new(move |_, pkt| {
        if !has_upd(pkt) {
            return false;
        }
        u.set(u.get() + 1);
        u.get() == 3
    });

    let t0 = p.now;
    p.b.m.up(t0);
    p.b.m.link_state(t0, true);
    p.run_until_idle(60 * SEC);

    // Two requests, 2 s apart: the retry found a.
    let reqs: Vec<u64> =
        p.b.sent
            .iter()
            .filter(|(_, x)| is_bulk_request(x))
            .map(|(t, _)| *t)
            .collect();
    assert_eq!(reqs, vec![t0, t0 + RETRY_NS]);
    // a's run: BUS START + 5, then 5, 5, 5, then 3 + BUS END, 20 ms apart.
    let run: Vec<(u64, PacketRepr)> =
        p.a.sent_decoded()
            .into_iter()
            .filter(|(t, _)| *t >= t0 + RETRY_NS)
            .collect();
    assert_eq!(run.len(), 5);
    for (i, (t, _)) in run.iter().enumerate() {
        assert_eq!(*t, t0 + RETRY_NS + i as u64 * BULK_SND_IVAL_NS);
    }
    let start = Bus {
        creator: A,
        endtime: 0,
        status: STATUS_START,
    };
    let end = Bus {
        creator: A,
        endtime: 0,
        status: STATUS_END,
    };
    assert!(
        matches!(&run[0].1.sections[..], [Section::Bus(b), Section::Upd(u)] if b == &vec![start] && u.len() == 5)
    );
    assert!(
        matches!(&run[4].1.sections[..], [Section::Upd(u), Section::Bus(b)] if b == &vec![end] && u.len() == 3)
    );

    // b finished (BUS END came) short of the 5 states lost with packet 3.
    assert_eq!(p.b.m.bulk_state(), ReqState::Done);
    assert!(p.b.events.contains(&Event::BulkDone { ok: true }));
    assert_eq!(p.b.store.states.len(), 18);
    assert_eq!(
        demotes(&p.b),
        vec![
            (1, DemoteReason::Up),
            (32, DemoteReason::Start),
            (-1, DemoteReason::Link),
            (-32, DemoteReason::Done)
        ]
    );
    assert_eq!(p.b.m.demotion(), 0);

    // The next round of updates heals the gap through UPD_REQ.
    for id in p.a.store.snapshot() {
        p.a.touch(p.now, id, |s| s.src.seqlo += 1);
    }
    p.run_until_idle(10 * SEC);
    assert_eq!(p.b.store.states, p.a.store.states);
}

#[test]
fn requester_sends_twelve_requests_two_seconds_apart_then_gives_up() {
    let mut n = Node::new(config(B));
    n.m.up(0);
    n.m.link_state(0, true);
    n.drain(0);
    while let Some(t) = n.m.poll_timeout() {
        n.handle_timeout(t);
        n.drain(t);
    }
    let times: Vec<u64> = n.sent.iter().map(|(t, _)| *t).collect();
    assert_eq!(times.len(), MAX_TRIES as usize);
    assert!(times
        .iter()
        .enumerate()
        .all(|(i, t)| *t == i as u64 * RETRY_NS));
    assert!(n.sent.iter().all(|(_, p)| is_bulk_request(p)));
    // The request is spec §13.3's V1, byte for byte (after the IP header).
    let v1 = PacketRepr {
        sections: vec![Section::UpdReq(vec![StateId::BULK_REQUEST])],
    }
    .emit();
    assert_eq!(n.sent[0].1, v1);
    assert_eq!(n.events.last(), Some(&Event::BulkDone { ok: false }));
    assert_eq!(n.m.demotion(), 0);
    assert_eq!(n.m.bulk_state(), ReqState::Done);
}

#[test]
fn without_link_the_requester_gives_up_after_30_seconds_still_demoted_by_one() {
    let mut n = Node::new(config(B));
    n.m.up(0);
    assert_eq!(n.m.demotion(), 33);
    assert_eq!(n.m.poll_timeout(), Some(30 * SEC));
    n.handle_timeout(30 * SEC);
    n.drain(30 * SEC);
    assert!(n.sent.is_empty());
    assert_eq!(n.m.demotion(), 1, "the sync link is still down");
    n.m.link_state(31 * SEC, true);
    assert_eq!(n.m.demotion(), 0);
    n.drain(31 * SEC);
    assert!(n.sent.is_empty(), "no request once given up");
    n.m.down(32 * SEC);
    assert_eq!(n.m.demotion(), 0);
}

#[test]
fn an_empty_table_answers_with_bus_end_alone() {
    let mut n = Node::new(config(A));
    n.m.up(0);
    n.drain(0);
    let req = PacketRepr {
        sections: vec![Section::UpdReq(vec![StateId::BULK_REQUEST])],
    }
    .emit();
    n.receive(0, &req).unwrap();
    let out = n.drain(0);
    let v2 = PacketRepr {
        sections: vec![Section::Bus(vec![Bus {
            creator: A,
            endtime: 0,
            status: STATUS_END,
        }])],
    }
    .emit();
    assert_eq!(out, vec![v2]);
    assert!(!n.m.bulk_sending());
}

#[test]
fn a_second_request_during_a_run_is_ignored() {
    let mut p = pair_with_states(12);
    let req = PacketRepr {
        sections: vec![Section::UpdReq(vec![StateId::BULK_REQUEST])],
    }
    .emit();
    let before = p.a.sent.len();
    p.a.receive(p.now, &req).unwrap();
    p.a.receive(p.now, &req).unwrap();
    let first = p.a.drain(p.now);
    assert_eq!(first.len(), 1);
    assert!(p.a.m.bulk_sending());
    p.run_until_idle(SEC);
    assert_eq!(p.a.sent.len() - before, 3, "one run: 5 + 5 + 2 states");
}

#[test]
fn bulk_that_never_ends_times_out_with_one_more_request() {
    let mut cfg = config(B);
    cfg.state_limit = 10; // bulk timeout 4 s
    let mut n = Node::new(cfg);
    n.m.up(0);
    n.m.link_state(0, true);
    n.drain(0);
    let start = PacketRepr {
        sections: vec![Section::Bus(vec![Bus {
            creator: A,
            endtime: 0,
            status: STATUS_START,
        }])],
    }
    .emit();
    n.receive(SEC, &start).unwrap();
    assert_eq!(n.m.bulk_state(), ReqState::Bulk);
    assert_eq!(n.m.poll_timeout(), Some(5 * SEC));
    n.handle_timeout(5 * SEC);
    n.drain(5 * SEC);
    assert_eq!(n.sent.len(), 2, "one more request, as OpenBSD sends");
    assert_eq!(n.m.bulk_state(), ReqState::Done);
    assert_eq!(n.events.last(), Some(&Event::BulkDone { ok: false }));
    assert_eq!(n.m.demotion(), 0);
}

#[test]
fn going_down_mid_bulk_undoes_the_demotion() {
    let mut n = Node::new(config(B));
    n.m.up(0);
    assert_eq!(n.m.demotion(), 33);
    n.m.down(SEC);
    assert_eq!(n.m.demotion(), 0);
    n.drain(SEC);
    assert_eq!(n.demotion_sum(), 0);
    assert_eq!(n.m.bulk_state(), ReqState::None);
    assert_eq!(n.m.poll_timeout(), None);
}

#[test]
fn bulk_skips_no_sync_states() {
    let mut p = pair_with_states(2);
    let mut s = tcp_state(A, 50);
    s.state_flags |= pfsync::state::flags::NOSYNC;
    p.a.create(p.now, s);
    p.b.m.up(p.now);
    p.b.m.link_state(p.now, true);
    p.run_until_idle(60 * SEC);
    assert_eq!(p.b.store.states.len(), 2);
    assert!(p.b.store.get(s.id).is_none());
}

#[test]
fn a_link_reported_up_before_up_sends_the_request_at_once() {
    let mut n = Node::new(config(B));
    n.m.link_state(0, true);
    assert_eq!(n.m.demotion(), 0, "nothing counted while down");
    n.m.up(0);
    n.drain(0);
    assert_eq!(n.sent.len(), 1);
    assert!(is_bulk_request(&n.sent[0].1));
    assert_eq!(n.m.demotion(), 32);
    assert_eq!(n.m.bulk_state(), ReqState::Sent);
}

/// pfd's `bulk_burst`: the same run in fewer 20 ms steps, the same
/// packets on the wire (OpenBSD's pace is one per step).
#[test]
fn a_bulk_burst_sends_several_packets_per_step() {
    let run = |burst: u16| {
        let mut cfg = config(A);
        cfg.bulk_burst = burst;
        let mut n = Node::new(cfg);
        n.m.up(0);
        n.m.link_state(0, true);
        for i in 0..40 {
            n.create(0, tcp_state(A, i));
        }
        let mut now = 0;
        n.drain(now);
        n.m.handle_timeout(2 * SEC, &mut n.store);
        n.drain(2 * SEC);
        let req = PacketRepr {
            sections: vec![Section::UpdReq(vec![StateId::BULK_REQUEST])],
        }
        .emit();
        now = 3 * SEC;
        n.receive(now, &req).unwrap();
        let mut packets = n.drain(now);
        let mut steps = 1;
        while n.m.bulk_sending() {
            now += BULK_SND_IVAL_NS;
            n.m.handle_timeout(now, &mut n.store);
            packets.extend(n.drain(now));
            steps += 1;
            assert!(steps < 1000, "the run ends");
        }
        let upd = packets.iter().filter(|p| has_upd(p)).count();
        (steps, upd)
    };
    let (slow_steps, slow_upd) = run(1);
    let (fast_steps, fast_upd) = run(4);
    assert_eq!(slow_upd, fast_upd, "the same UPD packets");
    assert!(slow_upd >= 8, "40 states need several packets: {slow_upd}");
    assert!(
        fast_steps * 3 <= slow_steps,
        "burst 4: {fast_steps} steps against {slow_steps}"
    );
}
