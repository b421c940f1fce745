// `deny`, not `forbid`: only the files that touch the kernel (port/afpacket)
// may `allow` it, and tests/unsafe_confined.rs holds them to that.
#![deny(unsafe_code)]
//! pfd's packet engine: pf's per-packet semantics, runnable without a NIC.

pub mod engine;
pub mod eval;
pub mod frag;
pub mod key;
pub mod nat;
pub mod pcap;
pub mod pdesc;
pub mod pflog;
pub mod port;
pub mod reason;
pub mod router;
pub mod state;
pub mod syncookie;
pub mod wire;
pub mod worker;
