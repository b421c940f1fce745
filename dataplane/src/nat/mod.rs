//! Address translation: pools, proxy ports, header rewrite.

mod patch;
pub mod pool;
pub mod port;
pub mod rewrite;
pub mod sticky;
pub mod table;

#[cfg(test)]
mod golden;
#[cfg(test)]
mod testutil;
