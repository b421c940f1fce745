#![forbid(unsafe_code)]
//! pfd's packet engine: pf's per-packet semantics, runnable without a NIC.

pub mod pdesc;
pub mod reason;
pub mod wire;
