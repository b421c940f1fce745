//! The pfd daemon's management side: the pfctl and ifctl command lines,
//! the control socket, and booting from an etc directory.
#![forbid(unsafe_code)]

pub mod appliance;
pub mod carp_rules;
pub mod check;
pub mod control;
pub mod daemon;
pub mod docs;
pub mod etc;
pub mod fuzzing;
pub mod ifctl_args;
pub mod load;
pub mod logging;
pub mod net;
pub mod offline;
pub mod prometheus;
pub mod replay;
