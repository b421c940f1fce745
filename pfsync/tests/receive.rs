//! The receive filter and section walk as the machine applies them
//! (spec §2, §13.4 (1), (2)); every drop is counted.

mod support;

use pfsync::state::StateId;
use pfsync::wire::{PacketRepr, Section};
use pfsync::{Rx, RxError, StateStore};
use support::*;

const A: u32 = 0x0a0a_0a0a;
const B: u32 = 0x0b0b_0b0b;

fn up_node() -> Node {
    let mut n = Node::new(config(B));
    n.m.up(0);
    n.drain(0);
    n
}

fn ins(n: u64) -> Vec<u8> {
    PacketRepr {
        sections: vec![Section::Ins(vec![tcp_state(A, n)])],
    }
    .emit()
}

fn with_len(mut p: Vec<u8>, len: u16) -> Vec<u8> {
    p[2..4].copy_from_slice(&len.to_be_bytes());
    p
}

#[test]
fn ttl_interface_version_length_and_header_are_checked() {
    let mut n = up_node();
    let ok = ins(1);
    let rx = |on_syncdev, ttl| Rx { on_syncdev, ttl };
    assert_eq!(
        n.m.handle_packet(0, &mut n.store, rx(true, 254), &ok),
        Err(RxError::BadTtl(254))
    );
    assert_eq!(
        n.m.handle_packet(0, &mut n.store, rx(false, 255), &ok),
        Err(RxError::BadIf)
    );
    let mut v5 = ok.clone();
    v5[0] = 5;
    assert!(matches!(n.receive(0, &v5), Err(RxError::Wire(_))));
    let long = with_len(ok.clone(), ok.len() as u16 + 1);
    assert!(n.receive(0, &long).is_err());
    assert!(n.receive(0, &ok[..19]).is_err());
    assert!(n.store.states.is_empty());
    let s = n.m.stats();
    assert_eq!(
        (s.ipackets, s.badttl, s.badif, s.badver, s.badlen, s.hdrops),
        (5, 1, 1, 1, 1, 1)
    );
    n.receive(0, &ok).unwrap();
    assert_eq!(n.store.states.len(), 1);
    assert!(n
        .m
        .stats()
        .netstat(2)
        .contains("\t\t1 packet discarded for bad ttl\n"));
}

#[test]
fn trailing_bytes_past_len_are_ignored() {
    let mut n = up_node();
    let mut p = ins(1);
    p.extend_from_slice(&[0xff; 7]);
    n.receive(0, &p).unwrap();
    assert_eq!(n.store.states.len(), 1);
}

#[test]
fn packets_are_dropped_while_down() {
    let mut n = Node::new(config(B));
    assert_eq!(n.receive(0, &ins(1)), Err(RxError::Down));
    assert!(n.store.states.is_empty());
    assert_eq!(n.m.stats().ipackets, 1);
}

#[test]
fn unknown_action_without_size_stops_with_badact_after_earlier_sections() {
    let mut n = up_node();
    let mut p = ins(1);
    p.extend_from_slice(&[16, 0, 0, 1]);
    let mut later = PacketRepr {
        sections: vec![Section::Ins(vec![tcp_state(A, 2)])],
    }
    .emit();
    p.extend_from_slice(&later.split_off(20));
    let len = p.len() as u16;
    let p = with_len(p, len);
    assert!(n.receive(0, &p).is_err());
    assert_eq!(n.m.stats().badact, 1);
    assert_eq!(n.store.snapshot(), vec![tcp_state(A, 1).id]);
}

#[test]
fn unknown_action_with_size_is_skipped_and_later_sections_apply() {
    let mut n = up_node();
    let mut p = ins(1);
    p.extend_from_slice(&[16, 3, 0, 1]);
    p.extend_from_slice(&[0xab; 12]);
    // A TDB section (no IPsec here: skipped) and an old EOF.
    p.extend_from_slice(&[15, 13, 0, 1]);
    p.extend_from_slice(&[0; 52]);
    p.extend_from_slice(&[12, 0, 0, 0]);
    p.extend_from_slice(&[7, 3, 0, 1]);
    let id = tcp_state(A, 1).id;
    p.extend_from_slice(&id.id.to_be_bytes());
    p.extend_from_slice(&id.creator.to_be_bytes());
    let len = p.len() as u16;
    n.receive(0, &with_len(p, len)).unwrap();
    assert!(
        n.store.states.is_empty(),
        "the DEL_C after the skips applied"
    );
    assert_eq!(n.m.stats().badact + n.m.stats().badlen, 0);
}

#[test]
fn section_overrunning_the_packet_is_badlen() {
    let mut n = up_node();
    let mut p = ins(1);
    p.extend_from_slice(&[7, 3, 0, 2]);
    p.extend_from_slice(&[0; 12]);
    let len = p.len() as u16;
    assert!(n.receive(0, &with_len(p, len)).is_err());
    assert_eq!(n.m.stats().badlen, 1);
    assert_eq!(n.store.states.len(), 1);
}

#[test]
fn larger_records_from_a_newer_peer_are_stepped_by_their_size() {
    let mut n = up_node();
    let mut p = vec![6, 0, 0, 0];
    p.extend_from_slice(&[0; 16]);
    p.extend_from_slice(&[13, 67, 0, 2]);
    for i in 1..=2 {
        let mut one = ins(i).split_off(24);
        one.extend_from_slice(&[0xee; 4]);
        p.extend_from_slice(&one);
    }
    let len = p.len() as u16;
    n.receive(0, &with_len(p, len)).unwrap();
    assert_eq!(
        n.store.snapshot(),
        vec![tcp_state(A, 1).id, tcp_state(A, 2).id]
    );
}

#[test]
fn states_with_creatorid_zero_are_refused() {
    let mut n = up_node();
    let mut s = tcp_state(A, 1);
    s.id = StateId::new(1, 0);
    let p = PacketRepr {
        sections: vec![Section::Ins(vec![s]), Section::Upd(vec![s])],
    }
    .emit();
    n.receive(0, &p).unwrap();
    assert!(n.store.states.is_empty());
    assert_eq!(n.m.stats().badstate, 1, "the UPD's failed insert");
}

#[test]
fn bus_looks_only_at_the_first_record() {
    use pfsync::wire::bus::{Bus, STATUS_END, STATUS_START};
    let mut n = Node::new(config(B));
    n.m.up(0);
    n.m.link_state(0, true);
    let bus = |status| Bus {
        creator: A,
        endtime: 0,
        status,
    };
    let p = PacketRepr {
        sections: vec![Section::Bus(vec![bus(STATUS_START), bus(STATUS_END)])],
    }
    .emit();
    n.receive(SEC, &p).unwrap();
    assert_eq!(n.m.bulk_state(), pfsync::sync::ReqState::Bulk);
}
