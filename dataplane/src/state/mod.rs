//! The state table (pf's `pf_state_tree` and `pf_test_state`).
//!
//! A state is reachable by its wire key and its stack key (they differ
//! under translation); an inbound packet finds it by the wire key, an
//! outbound one by the stack key, exactly as `pf_find_state` filters.
//!
//! # Layout and locking
//!
//! The table is `N` shards, each a `Mutex` over a slab of packed states
//! (128 bytes, cache-line aligned: the wire key packed to 40 bytes, the
//! stack key boxed and present only under translation, `modulate state`
//! modulators in a side table; rule, timeouts and the per-rule count
//! shared in a profile), a `hashbrown::HashTable<u32>` index of slot
//! numbers (the key is compared in the slot, so an index entry costs 4
//! bytes plus a control byte), and a small table of *foreign* entries:
//! the stack keys of translated states whose two keys hash to different
//! shards. A key's shard is picked by `StateKey::shard_hash`, which reads
//! side 0 only: an outbound `nat-to` or an inbound `rdr-to` changes side
//! 1 only, so their two keys share a shard and need no foreign entry
//! (translated states went from 321 to 195 bytes each at 1M states, and
//! a NAT lookup locks one shard; coding an IPv4 stack key's translated
//! side into the wire key's unused bytes, `PackedKey::inline_code`,
//! brought them to 155); `nat-to` inbound or `rdr-to` outbound
//! still use foreign entries. The price: every flow to one remote
//! address and port shares a lock shard. The index inside a shard hashes
//! the whole key (`StateKey::symmetric_hash`). The
//! fast path locks one shard (two only when it follows a foreign entry,
//! one after the other); insertion and removal lock at most two shards
//! in ascending order.
//!
//! Why shared shards and not per-worker tables: a translated flow's two
//! directions hash to different workers under RSS, and a state must be
//! found from both, so per-worker ownership would need cross-worker
//! messages on the packet path. With 64 shards two cores contend on the
//! same shard about 1/64 of the time.
//!
//! Measured with `cargo bench -p dataplane --bench state` on the shared
//! 2-core lab VM while other builds ran (load average ~3, so the
//! two-thread figures say little about scaling):
//!
//! | figure | value |
//! |---|---|
//! | bytes per state, 1,000,000 untranslated states, index included | 144.7 |
//! | bytes per state, 1,000,000 translated states (boxed stack key, foreign entry) | 321.0 |
//! | lookup + track, ACK of an established TCP state, 1M states | 487 ns |
//! | the same on 10k states (in cache: the compute floor) | 89 ns |
//! | insert (table growing from empty, rehashes included) | 393 ns (2.5 M/s) |
//! | 1 shard: 1 thread / 2 threads | 1.17 / 1.07 Mpps |
//! | 64 shards: 1 thread / 2 threads | 1.95 / 2.25 Mpps |
//!
//! (Before the state went to 128 aligned bytes: 153.1 B/state and
//! 558-880 ns at 1M.)
//!
//! At 1M states the fast path is bound by cache and TLB misses (index
//! control bytes, index slot, the state's cache lines), not by locking.
//!
//! # pfsync
//!
//! Every state has pfsync's identity, (id, creator id) ([`SyncId`]). A
//! state made here stores none: its id packs its slot (`StateId`'s
//! generation, shard and index) and its creator is the table's host id
//! (`set hostid`, or drawn from the seed). A state imported from a peer
//! keeps the peer's identity in two side maps, paid for by such states
//! only: the table's (identity → slot) and its shard's (slot →
//! identity). The pfsync side of the table (`sync.rs`: export, import,
//! merge, removal and clearing by identity) emits no [`StateEvent`], so
//! the pfsync machine never hears its own changes back; packets and
//! expiry go on reporting imported states like any other.
//!
//! # Segments the state sends
//!
//! Two TCP segments pf sends from state tracking come back from
//! [`StateTable::test_into`] as a [`StateReply`] beside the drop, for
//! the engine to build (`engine/reply.rs`): the challenge ACK to a SYN
//! on an established connection (`pf_send_challenge_ack`, RFC 5961:
//! the state's own sequence numbers, so a rebooted client resets it
//! and a spoofed SYN changes nothing), and the RST to a segment out of
//! window while both ends are in SYN_SENT (`pf_tcp_track_full`). pf
//! rate-limits neither, nor does this.
//!
//! # What is not here
//!
//! `overload <table>` is reported through
//! [`StateTable::drain_overloads`] for the engine to apply, so the table
//! entry lands after the offending packet rather than with it.
//! `synproxy state` is in `synproxy.rs`; a validated syncookie turns
//! its state into a proxied one in `syncookie.rs`.

mod config;
mod entry;
mod icmp;
mod ident;
mod info;
mod packed;
mod peer;
mod purge;
mod shard;
mod srcnode;
mod sync;
mod syncookie;
mod synproxy;
mod table;
mod tcp;
mod timeout;
mod track;
mod tracked;

#[cfg(test)]
mod sync_tests;
#[cfg(test)]
mod tests;

pub use config::{NewState, StateConfig};
pub use ident::SyncId;
pub use info::{StateEvent, StateInfo};
pub use peer::{tcps, udps, Peer, WSCALE_FLAG, WSCALE_MASK};
pub use srcnode::{
    Flush, Overload, SrcNodeCounters, SrcNodeInfo, SrcTrack, DEFAULT_SRC_NODE_LIMIT,
};
pub use sync::{ClearScope, ImportError, ImportState, PFSYNC_RULE};
pub use synproxy::{ProxySegment, ProxyStep};
pub use table::{Released, StateCounters, StateTable};
pub use timeout::*;
pub use tracked::{Rewrite, Scrub, SeqMod, Side, StateId, StateReply, Tracked};
