#![forbid(unsafe_code)]
//! pfsync: OpenBSD's state-table synchronisation protocol (version 6),
//! sans-IO.
//!
//! - [`wire`]: the packet format, byte-compatible with OpenBSD.
//! - [`state`]: pfsync's own state record types; the daemon converts.
//! - [`sync`]: the protocol machine — queues, batching, compressed
//!   updates, bulk transfer, merge rule, deferral.
//! - [`auth`]: pfd's optional HMAC and replay window (not in OpenBSD).
//! - [`stats`]: `struct pfsyncstats` counters.
//!
//! No sockets, threads or clocks: time is passed in as monotonic
//! nanoseconds, packets go in as bytes and come out of `poll_transmit`.

pub mod auth;
pub mod state;
pub mod stats;
pub mod sync;
pub mod wire;

pub use state::{StateId, StateRecord};
pub use sync::{Config, Event, LocalChange, Pfsync, Rx, RxError, StateStore};
