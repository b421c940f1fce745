#![forbid(unsafe_code)]
//! pfsync: OpenBSD's state-table synchronisation protocol (version 6),
//! sans-IO and wire-compatible with OpenBSD 7.4 and later.
//!
//! - [`wire`]: the packet format byte for byte (header, table-driven
//!   section walk, records, the IPv4 encapsulation).
//! - [`state`]: pfsync's own state record types (`StateRecord`, `Peer`,
//!   `StateKey`, `StateId`); the daemon converts to and from its states.
//! - [`sync`]: the protocol machine ([`Pfsync`]): per-state queues,
//!   batching, compressed updates and UPD_REQ, the merge rule, the bulk
//!   update, deferral, CARP demotion.
//! - [`auth`]: pfd's optional HMAC trailer and replay window (not in
//!   OpenBSD; off by default).
//! - [`stats`]: `struct pfsyncstats` and its `netstat -s` rendering.
//!
//! # Driving the machine (for the daemon)
//!
//! The machine holds no socket, thread or clock. Time is monotonic
//! nanoseconds, passed in on every call. The state table stays in the
//! daemon, behind [`StateStore`].
//!
//! - `Pfsync::new(Config)`; `up(now)` / `down(now)` follow
//!   `ifconfig pfsync0 up|down`; `link_state(now, up)` follows syncdev's
//!   link.
//! - Every local table change goes to `handle_local`: `Insert` when pf
//!   creates a state (with the rule's `no-sync`), `Update` when a packet
//!   matches one, `Delete` when it expires or is killed, `Clear` then
//!   `Forget` for each state on `pfctl -F states`. Changes the machine
//!   itself makes through the store (imports, peer deletes, CLR) must not
//!   be reported back.
//! - A received IPv4 packet of protocol 240: `wire::ip::decap`, then
//!   `handle_packet(now, store, Rx { on_syncdev, ttl }, payload)`. The
//!   arrival interface and TTL checks are made there and counted.
//! - `poll_transmit()` gives payloads to send: `wire::ip::encap` (or a
//!   raw socket with TTL 255, TOS 0x10, DF, multicast loop off) toward
//!   224.0.0.240 or the syncpeer, on syncdev; report each result with
//!   `transmit_result(ok)`.
//! - `poll_event()`: `Demote` deltas for the "carp" group's demotion
//!   counter, `BulkDone`, and `Release` for a deferred packet to send now.
//! - `poll_timeout()` is the next deadline; call `handle_timeout` then.
//! - With `defer` on, offer the first packet of each new state to
//!   `Pfsync::defer` after its `Insert`; it is handed back if not held.

pub mod auth;
pub mod state;
pub mod stats;
pub mod sync;
pub mod wire;

pub use state::{StateId, StateRecord};
pub use sync::{Config, Event, LocalChange, Pfsync, Rx, RxError, StateStore};
