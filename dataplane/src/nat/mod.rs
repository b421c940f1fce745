//! Address translation: pools, proxy ports, header rewrite.

mod patch;
pub mod rewrite;

#[cfg(test)]
mod golden;
#[cfg(test)]
mod testutil;
