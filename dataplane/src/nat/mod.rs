//! Address translation (pf's `pf_lb.c` and the translation half of
//! `pf.c`): pools, proxy ports, state keys, header rewrite.
//!
//! How the engine uses it:
//! - a rule with `nat-to`/`rdr-to` matched a new connection:
//!   [`plan`] picks the addresses and ports ([`pool`], [`port`]) and
//!   returns the [`Translation`] and the state's wire and stack keys;
//!   [`rewrite::rewrite`] then changes the packet;
//! - a packet of an existing translated state: `rewrite` with the
//!   addresses and ports of the state key on the far side; `modulate
//!   state` adds [`rewrite::adjust_seq`];
//! - an ICMP error about a translated state:
//!   [`rewrite::rewrite_icmp_error`] (and [`rewrite::adjust_quoted_seq`]
//!   for a modulated TCP quote).
//!
//! ICMP echo ids travel as ports, as in [`crate::pdesc::Pdesc`]: the id
//! at both sides of a key, so a translated id changes both.

mod patch;
mod plan;
pub mod pool;
pub mod port;
pub mod rewrite;
pub mod sticky;
pub mod table;

pub use plan::{plan, NatCtx, Plan, RuleNat, Translation};

#[cfg(test)]
mod golden;
#[cfg(test)]
mod testutil;
