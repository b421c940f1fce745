//! Sans-IO CARP, wire-compatible with OpenBSD's carp(4) and ucarp.
#![forbid(unsafe_code)]

pub mod auth;
pub mod carpif;
pub mod config;
pub mod demote;
pub mod event;
pub mod host;
pub mod stats;
pub mod sysctl;
pub mod timing;
pub mod vhost;
pub mod wire;

pub use carpif::{CarpInterface, SendResult};
pub use config::{Balancing, CarpIfConfig, Carpnode, ConfigError};
pub use event::{Event, Family, LinkState, LogLine, Reason, State, Transmit};
pub use host::{CarpHost, Received};
pub use stats::CarpStats;
pub use sysctl::Sysctl;

#[cfg(test)]
mod host_tests;
#[cfg(test)]
mod sim;
#[cfg(test)]
mod sim_tests;
