//! Sans-IO CARP, wire-compatible with OpenBSD's carp(4) and ucarp.
#![forbid(unsafe_code)]

pub mod auth;
pub mod stats;
pub mod sysctl;
pub mod timing;
pub mod wire;
