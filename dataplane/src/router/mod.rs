//! The appliance's router: pfd owns its data interfaces and the kernel
//! holds no addresses on them, so ARP, neighbour discovery, echo to our
//! own addresses, the routing table and IP forwarding (TTL, MTU,
//! fragmentation, Ethernet rewrite) are done here. Sans-IO, like
//! smoltcp's interface and neighbour cache: frames and `now` in, frames
//! to send out; timers run in [`Router::poll`].
//!
//! The daemon's per-frame order: ARP goes to [`Router::handle_local`];
//! an IP frame is parsed and run through pf inbound, then goes to
//! [`Router::handle_local`] when [`Router::is_local`] says it is ours,
//! else to [`Router::forward_into`] ([`Router::forward_via`] for pf's
//! `route-to`). Every IP frame in the returned [`Tx`] list (forwarded
//! packets, their fragments, echo replies, ICMP errors, NS/NA, frames
//! released by a neighbour's answer) is a complete Ethernet frame for
//! `Tx::ifindex`; the daemon runs pf outbound on it there, as the
//! kernel runs `pf_test(PF_OUT)` on everything `ip_output` sends, then
//! transmits it. [`Router::poll`] runs the neighbour timers
//! ([`Router::poll_timeout`] says when); CARP drives
//! [`Router::set_vip_master`].

mod errors;
pub mod forward;
pub mod fragment;
pub mod iface;
mod local;
pub mod ndp;
pub mod neighbor;
pub mod node;
pub mod route;
pub mod stats;

pub use forward::{Forward, Routed};
pub use iface::{ConfigError, Interface, Interfaces};
pub use neighbor::{Learn, NeighborCache, NeighborConfig, Resolve, Solicit};
pub use node::{Outcome, Router, RouterConfig, Tx};
pub use route::{NextHop, RouteTable};
pub use stats::{Counters, Drop, Event};

#[cfg(test)]
mod golden;
#[cfg(test)]
mod tests;
