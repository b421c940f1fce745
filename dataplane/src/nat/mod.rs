//! Address translation: pools, proxy ports, header rewrite.

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
