//! pfsync in the daemon: the sans-IO [`::pfsync::Pfsync`] machine driven
//! against the engine's state table.
//!
//! - [`store`]: [`store::EngineStore`], the machine's
//!   [`::pfsync::StateStore`] over the state table, and
//!   [`store::local_change`], which turns the table's events into the
//!   machine's local changes.

pub mod store;
