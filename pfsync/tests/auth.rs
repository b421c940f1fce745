//! pfd's authenticated mode: HMAC trailer and replay window (off by
//! default; not part of OpenBSD's protocol).

mod support;

use pfsync::auth::{AuthConfig, TRAILER_LEN};
use pfsync::wire::{PacketRepr, Section};
use pfsync::{Config, RxError};
use support::*;

const A: u32 = 0x0a0a_0a0a;
const B: u32 = 0x0b0b_0b0b;
const KEY: &[u8] = b"a shared pfsync secret";

fn keyed(creator: u32, key: &[u8], seq_start: u64) -> Config {
    let mut c = config(creator);
    c.auth = Some(AuthConfig::new(key, seq_start).unwrap());
    c
}

#[test]
fn authenticated_pair_replicates() {
    let mut p = Pair::connected(keyed(A, KEY, 1 << 40), keyed(B, KEY, 7 << 40));
    let id = p.a.create(p.now, tcp_state(A, 1));
    p.advance(SEC);
    assert_eq!(p.b.store.get(id), p.a.store.get(id));
    let (_, last) = p.a.sent.last().unwrap();
    // The header's len covers the pfsync part; the trailer follows it.
    let len = usize::from(u16::from_be_bytes([last[2], last[3]]));
    assert_eq!(last.len(), len + TRAILER_LEN);
    assert_eq!(p.b.m.stats().badauth, 0);
}

#[test]
fn unauthenticated_forged_and_replayed_packets_are_dropped_and_counted() {
    let mut p = Pair::connected(keyed(A, KEY, 0), keyed(B, KEY, 0));
    let plain = PacketRepr {
        sections: vec![Section::Ins(vec![tcp_state(A, 9)])],
    }
    .emit();
    assert!(matches!(p.b.receive(p.now, &plain), Err(RxError::Auth(_))));

    let mut wrong = Node::new(keyed(A, b"some other secret!", 0));
    wrong.m.up(0);
    wrong.create(0, tcp_state(A, 8));
    wrong.handle_timeout(SEC);
    let forged = wrong.drain(SEC).pop().unwrap();
    assert!(matches!(p.b.receive(p.now, &forged), Err(RxError::Auth(_))));

    let id = p.a.create(p.now, tcp_state(A, 1));
    p.advance(SEC);
    let (_, genuine) = p.a.sent.last().unwrap().clone();
    p.b.store.states.remove(&id);
    assert!(
        matches!(p.b.receive(p.now, &genuine), Err(RxError::Auth(_))),
        "replay"
    );
    assert!(p.b.store.get(id).is_none());
    let mut flipped = genuine.clone();
    flipped[40] ^= 0x80;
    assert!(matches!(
        p.b.receive(p.now, &flipped),
        Err(RxError::Auth(_))
    ));
    assert_eq!(p.b.m.stats().badauth, 4);
    let kinds = p.b.m.auth_stats().unwrap();
    assert_eq!((kinds.unauthenticated, kinds.replayed), (3, 1));
    assert!(p.b.store.get(tcp_state(A, 9).id).is_none());
    assert!(p.b.store.get(tcp_state(A, 8).id).is_none());
}

#[test]
fn authentication_is_off_by_default() {
    assert!(config(A).auth.is_none());
    let mut p = Pair::connected(config(A), config(B));
    assert_eq!(p.a.m.auth_stats(), None);
    let id = p.a.create(p.now, tcp_state(A, 1));
    p.advance(SEC);
    assert!(p.b.store.get(id).is_some());
    let (_, last) = p.a.sent.last().unwrap();
    assert_eq!(
        usize::from(u16::from_be_bytes([last[2], last[3]])),
        last.len()
    );
}

#[test]
fn the_trailer_counts_against_the_mtu() {
    let mut n = Node::new(keyed(A, KEY, 0));
    n.m.up(0);
    let ids: Vec<_> = (0..40).map(|i| n.create(0, udp_state(A, i))).collect();
    while let Some(t) = n.m.poll_timeout().filter(|t| *t <= 2 * SEC) {
        n.handle_timeout(t);
        n.drain(t);
    }
    let base = n.sent.len();
    for id in ids {
        n.touch(3 * SEC, id, |s| s.dst.state = 1);
    }
    n.handle_timeout(4 * SEC);
    n.drain(4 * SEC);
    let sizes: Vec<usize> = n.sent[base..].iter().map(|(_, p)| p.len() + 20).collect();
    // (1500 - 20 - 20 - 44 - 4) / 84 = 16 compressed updates per packet.
    assert_eq!(
        sizes,
        vec![
            20 + 20 + 4 + 16 * 84 + 44,
            20 + 20 + 4 + 16 * 84 + 44,
            20 + 20 + 4 + 8 * 84 + 44
        ]
    );
    assert!(sizes.iter().all(|&s| s <= 1500));
}
