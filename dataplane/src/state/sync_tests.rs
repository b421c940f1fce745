//! The pfsync side of the table: identities, export/import, merge,
//! removal and clearing by identity, and their silence on the event
//! channel.

use super::tests::{
    established, nat_state, new_state, pass, pd, seg, table, test, C, ISN_C, ISN_S, P, S, SEC,
};
use super::*;
use crate::pdesc::{proto, tcp_flags as F, Dir};
use std::num::NonZeroU32;

/// What a peer's record would say of `i`, as an import.
fn import_of(i: &StateInfo) -> ImportState {
    ImportState {
        sync: i.sync,
        wire: i.wire,
        stack: i.stack,
        dir: i.dir,
        src: i.src,
        dst: i.dst,
        timeout: i.timeout,
        creation: i.creation,
        expire: i.expire,
        packets: i.packets,
        bytes: i.bytes,
        if_bound: i.if_bound,
        sloppy: i.sloppy,
        no_sync: i.no_sync,
        allow_opts: i.allow_opts,
        scrub: i.scrub,
    }
}

fn host(t: &StateTable, id: u32) {
    t.set_host_id(NonZeroU32::new(id).unwrap());
}

#[test]
fn local_identity_is_the_slot_and_the_host_id() {
    let t = table(100, 4);
    host(&t, 0xa);
    let id = t
        .insert(new_state(&pd(proto::UDP, C, 1, S, 53), Dir::Out), 0)
        .unwrap();
    let info = t.info(id).unwrap();
    assert_eq!(
        info.sync,
        SyncId {
            id: id.as_u64(),
            creator: 0xa
        }
    );
    assert!(!info.from_peer);
    assert_eq!(t.find_sync(info.sync), Some(id));
    // stable while the state lives, gone with it
    pass(&t, &pd(proto::UDP, S, 53, C, 1), Dir::In, SEC);
    assert_eq!(t.info(id).unwrap().sync, info.sync);
    assert!(t.remove(id));
    assert_eq!(t.find_sync(info.sync), None);
    // the slot's next tenant has another id
    let id2 = t
        .insert(new_state(&pd(proto::UDP, C, 1, S, 53), Dir::Out), 0)
        .unwrap();
    let s2 = t.info(id2).unwrap().sync;
    assert_ne!(s2, info.sync);
    assert_eq!(t.find_sync(info.sync), None);
    // another creator's id with our slot numbers is not ours
    assert_eq!(t.find_sync(SyncId { creator: 0xb, ..s2 }), None);
    assert_eq!(t.sync_ids(), vec![s2]);
}

#[test]
fn imported_nat_state_is_found_by_identity_and_keys_and_translates_the_same() {
    let a = table(100, 4);
    host(&a, 0xa);
    let id = nat_state(&a);
    pass(&a, &pd(proto::UDP, S, 53, P, 6000), Dir::In, 2 * SEC);
    let info = a.info(id).unwrap();
    let b = table(100, 4);
    host(&b, 0xb);
    let bid = b.import(&import_of(&info), 3 * SEC).unwrap();
    assert_eq!(b.find_sync(info.sync), Some(bid));
    assert_eq!(b.lookup(&info.wire), Some(bid));
    assert_eq!(b.lookup(&info.stack), Some(bid));
    let got = b.export(info.sync).unwrap();
    assert!(got.from_peer);
    assert_eq!(got.rule, PFSYNC_RULE);
    assert_eq!(
        (
            got.sync,
            got.wire,
            got.stack,
            got.dir,
            got.src,
            got.dst,
            got.timeout
        ),
        (
            info.sync,
            info.wire,
            info.stack,
            info.dir,
            info.src,
            info.dst,
            info.timeout
        )
    );
    assert_eq!((got.packets, got.bytes), (info.packets, info.bytes));
    assert_eq!((got.creation, got.expire), (info.creation, info.expire));
    assert!(got.translated);
    // both directions pass B by the state, rewritten as on A
    for (p, dir) in [
        (pd(proto::UDP, C, 1000, S, 53), Dir::Out),
        (pd(proto::UDP, S, 53, P, 6000), Dir::In),
    ] {
        let ta = pass(&a, &p, dir, 4 * SEC);
        let tb = pass(&b, &p, dir, 4 * SEC);
        assert_eq!(tb.id, bid);
        assert_eq!((ta.translate, ta.side), (tb.translate, tb.side));
    }
    // the slot holds the peer's identity, not one derived from it
    let derived = SyncId {
        id: bid.as_u64(),
        creator: b.host_id(),
    };
    assert_eq!(b.find_sync(derived), None);
    assert_eq!(b.sync_ids(), vec![info.sync]);
}

#[test]
fn duplicate_identity_or_keys_and_creator_zero_are_refused() {
    let a = table(100, 4);
    host(&a, 0xa);
    let id = established(&a, None);
    let info = a.info(id).unwrap();
    let b = table(100, 4);
    host(&b, 0xb);
    let imp = import_of(&info);
    b.import(&imp, SEC).unwrap();
    assert_eq!(b.import(&imp, SEC), Err(ImportError::Exists));
    let other_id = ImportState {
        sync: SyncId {
            id: 77,
            creator: 0xa,
        },
        ..imp.clone()
    };
    assert_eq!(b.import(&other_id, SEC), Err(ImportError::Exists));
    assert_eq!(b.find_sync(other_id.sync), None);
    let zero = ImportState {
        sync: SyncId { id: 1, creator: 0 },
        ..imp.clone()
    };
    assert!(matches!(b.import(&zero, SEC), Err(ImportError::Refused(_))));
    // an import whose identity is one of B's own live states
    let local = b
        .insert(new_state(&pd(proto::UDP, C, 9, S, 53), Dir::Out), 0)
        .unwrap();
    let mine = ImportState {
        sync: b.info(local).unwrap().sync,
        ..imp
    };
    assert_eq!(b.import(&mine, SEC), Err(ImportError::Exists));
    assert_eq!(b.len(), 2);
}

#[test]
fn import_respects_the_state_limit() {
    let a = table(100, 2);
    host(&a, 0xa);
    let b = table(2, 2);
    for port in 1..=3 {
        a.insert(new_state(&pd(proto::UDP, C, port, S, 53), Dir::Out), 0)
            .unwrap();
    }
    let r: Vec<_> = a
        .states()
        .iter()
        .map(|i| b.import(&import_of(i), SEC).map(|_| ()))
        .collect();
    assert_eq!(r.iter().filter(|r| r.is_ok()).count(), 2);
    assert!(r.contains(&Err(ImportError::NoMemory)));
    assert_eq!(b.len(), 2);
    assert_eq!(b.counters().limit, 1);
}

#[test]
fn pfsync_changes_emit_no_events_local_ones_do() {
    let a = table(100, 4);
    host(&a, 0xa);
    let (tx, rx) = crossbeam_channel::bounded(64);
    a.set_events(Some(tx));
    let mut ns = new_state(&pd(proto::UDP, C, 1, S, 53), Dir::Out);
    ns.no_sync = true;
    let id = a.insert(ns, 0).unwrap();
    match rx.try_recv().unwrap() {
        StateEvent::Insert(i) => {
            assert!(i.no_sync);
            assert_eq!(
                i.sync,
                SyncId {
                    id: id.as_u64(),
                    creator: 0xa
                }
            );
        }
        e => panic!("{e:?}"),
    }
    let info = a.info(id).unwrap();
    let peer = SyncId {
        id: 5,
        creator: 0xc,
    };
    let mut imp = import_of(&info);
    imp.sync = peer;
    imp.wire.port[1] = 2;
    imp.stack.port[1] = 2;
    a.import(&imp, SEC).unwrap();
    let upd = Peer {
        state: udps::MULTIPLE,
        ..info.src
    };
    assert!(a.merge(peer, Some(upd), None, Some(8), 2 * SEC));
    assert!(a.remove_sync(peer));
    a.import(&imp, SEC).unwrap();
    assert_eq!(a.clear_creator(0xc, ClearScope::All), vec![peer]);
    assert!(rx.try_recv().is_err(), "pfsync's own changes are silent");
    // packets and expiry of an imported state still report
    a.import(&imp, SEC).unwrap();
    pass(&a, &pd(proto::UDP, S, 53, C, 2), Dir::In, 2 * SEC);
    match rx.try_recv().unwrap() {
        StateEvent::Update(i) => assert_eq!(i.sync, peer),
        e => panic!("{e:?}"),
    }
    assert!(a.remove(a.find_sync(peer).unwrap()));
    match rx.try_recv().unwrap() {
        StateEvent::Delete(i) => assert_eq!(i.sync, peer),
        e => panic!("{e:?}"),
    }
    assert_eq!(a.find_sync(peer), None, "the side map forgets it");
    assert!(a.peer_ids().is_empty());
}

#[test]
fn merge_replaces_peers_and_refreshes() {
    let a = table(100, 4);
    let id = established(&a, None);
    let s = a.info(id).unwrap().sync;
    let before = a.info(id).unwrap();
    let src = Peer {
        seqlo: ISN_C + 5000,
        seqhi: ISN_C + 70000,
        seqdiff: 0x1234,
        ..before.src
    };
    assert!(a.merge(s, Some(src), None, None, 50 * SEC));
    let i = a.info(id).unwrap();
    assert_eq!((i.src, i.dst), (src, before.dst));
    assert_eq!((i.expire, i.timeout), (before.expire, before.timeout));
    let dst = Peer {
        state: tcps::FIN_WAIT_2,
        ..before.dst
    };
    assert!(a.merge(s, None, Some(dst), Some(4), 60 * SEC));
    let i = a.info(id).unwrap();
    assert_eq!((i.src, i.dst, i.expire, i.timeout), (src, dst, 60, 4));
    // the modulator is in force on the next packet
    let tr = pass(
        &a,
        &seg(
            C,
            1000,
            S,
            80,
            F::ACK,
            ISN_C + 5000,
            ISN_S + 1,
            65535,
            0,
            None,
        ),
        Dir::Out,
        61 * SEC,
    );
    assert_eq!(tr.seq.map(|m| m.seq_add), Some(0x1234));
    assert!(!a.merge(SyncId { id: 1, creator: 9 }, Some(src), None, None, 0));
    // pfctl -si's half-open count follows what the peer says
    assert_eq!(a.half_open(), 0);
    let opening = Peer {
        state: tcps::SYN_SENT,
        ..dst
    };
    assert!(a.merge(s, None, Some(opening), None, 62 * SEC));
    assert_eq!((a.half_open(), a.half_open_walk()), (1, 1));
    assert!(a.merge(s, None, Some(dst), None, 63 * SEC));
    assert_eq!((a.half_open(), a.half_open_walk()), (0, 0));
}

#[test]
fn clear_by_creator_and_interface() {
    let t = table(100, 4);
    host(&t, 0xa);
    let base = t.info(established(&t, None)).unwrap();
    let mk = |n: u64, bound: Option<u32>| {
        let mut imp = import_of(&base);
        imp.sync = SyncId {
            id: n,
            creator: 0xc,
        };
        imp.wire.port[1] = 2000 + n as u16;
        imp.stack = imp.wire;
        imp.if_bound = bound;
        t.import(&imp, SEC).unwrap();
        imp.sync
    };
    let (f1, b1, b2) = (mk(1, None), mk(2, Some(1)), mk(3, Some(2)));
    assert_eq!(t.clear_creator(0xd, ClearScope::All), vec![]);
    assert_eq!(t.clear_creator(0xc, ClearScope::Bound(1)), vec![b1]);
    assert_eq!(t.clear_creator(0xc, ClearScope::Floating), vec![f1]);
    assert_eq!(t.len(), 2);
    assert_eq!(t.clear_creator(0xc, ClearScope::All), vec![b2]);
    // our own states go only when our creator is named
    assert_eq!(t.clear_creator(0xa, ClearScope::All), vec![base.sync]);
    assert!(t.is_empty());
}

#[test]
fn clear_quiet_takes_every_creators_states_in_scope_and_tells_no_one() {
    let t = table(100, 4);
    host(&t, 0xa);
    let (tx, rx) = crossbeam_channel::bounded(16);
    t.set_events(Some(tx));
    let base = t.info(established(&t, None)).unwrap();
    while rx.try_recv().is_ok() {}
    let mk = |n: u64, bound: Option<u32>| {
        let mut imp = import_of(&base);
        imp.sync = SyncId {
            id: n,
            creator: 0xc,
        };
        imp.wire.port[1] = 2000 + n as u16;
        imp.stack = imp.wire;
        imp.if_bound = bound;
        t.import(&imp, SEC).unwrap();
        imp.sync
    };
    let (peer_floating, peer_bound) = (mk(1, None), mk(2, Some(1)));
    assert_eq!(t.clear_quiet(ClearScope::Bound(1)), vec![peer_bound]);
    let mut rest = t.clear_quiet(ClearScope::All);
    rest.sort_by_key(|s| s.creator);
    assert_eq!(rest, vec![base.sync, peer_floating]);
    assert!(t.is_empty());
    assert!(rx.try_recv().is_err(), "no delete event for any of them");
}

#[test]
fn imported_states_expire_and_leave_the_side_map() {
    let a = table(100, 2);
    let id = a
        .insert(new_state(&pd(proto::UDP, C, 1, S, 53), Dir::Out), 0)
        .unwrap();
    let mut imp = import_of(&a.info(id).unwrap());
    imp.sync.creator = a.host_id() ^ 1;
    let b = table(100, 2);
    b.import(&imp, 0).unwrap();
    assert!(test(&b, &pd(proto::UDP, S, 53, C, 1), Dir::In, SEC).is_some());
    // udp.first_packet is 60 s
    b.purge(61 * SEC, 1000);
    assert!(b.is_empty());
    assert_eq!(b.find_sync(imp.sync), None);
    assert!(b.peer_ids().is_empty());
}

#[test]
fn no_sync_and_allow_opts_travel_with_the_state() {
    let t = table(100, 2);
    let mut ns = new_state(&pd(proto::UDP, C, 1, S, 53), Dir::Out);
    ns.no_sync = true;
    ns.allow_opts = true;
    let id = t.insert(ns, 0).unwrap();
    let i = t.info(id).unwrap();
    assert!(i.no_sync && i.allow_opts);
    assert!(pass(&t, &pd(proto::UDP, S, 53, C, 1), Dir::In, SEC).allow_opts);
    let b = table(100, 2);
    let mut imp = import_of(&i);
    imp.sync.creator ^= 1;
    let bid = b.import(&imp, 0).unwrap();
    let j = b.info(bid).unwrap();
    assert!(j.no_sync && j.allow_opts && j.from_peer);
}
