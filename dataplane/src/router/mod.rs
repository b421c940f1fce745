//! The appliance's router: pfd owns its data interfaces and the kernel
//! holds no addresses on them, so ARP, neighbour discovery, echo to our
//! own addresses, the routing table and IP forwarding (TTL, MTU,
//! fragmentation, Ethernet rewrite) are done here. Sans-IO, like
//! smoltcp's interface and neighbour cache: frames and `now` in, frames
//! to send out; timers run in [`Router::poll`].
//!
//! The daemon's per-frame order: ARP goes to [`Router::handle_local`];
//! an IP frame is parsed and run through pf inbound, then goes to
//! [`Router::handle_local`] when [`Router::is_local`] says it is ours.
//! Otherwise [`Router::route`] decides (TTL, route or pf's `route-to`,
//! MTU for DF/IPv6, ICMP errors) and returns a [`Routed`] frame; the
//! daemon runs pf outbound on it on `Routed::hop.ifindex` (it may
//! translate the bytes or change the hop) and hands it to
//! [`Router::transmit`], which fragments and resolves the next hop: the
//! kernel's `ip_forward` → `ip_output` (pf out) → `ip_fragment` →
//! `arpresolve` order. [`Router::forward_into`] is route + transmit
//! for callers without a pf outbound step. The `_in_place` variants
//! ([`Router::route_in_place`], [`Router::transmit_in_place`],
//! [`Router::forward_in_place`]) rewrite the worker's receive buffer
//! instead of copying it; a proptest holds them to the same output.
//!
//! One `Router` holds one neighbour cache: workers that share a link
//! must share the router (or at least its cache), since a neighbour's
//! answer reaches whichever worker the port's fanout picks.
//!
//! Every frame in a returned [`Tx`] list is a complete Ethernet frame
//! for `Tx::ifindex`; its [`TxKind`] says whether pf outbound still has
//! to see it: `Originated` frames (echo replies, ICMP errors, NS/NA)
//! need it, as the kernel runs pf on everything `ip_output` sends;
//! `Forwarded` ones (also when released later by a neighbour's answer)
//! had it between `route` and `transmit`; `Arp` never does. [`Router::poll`] runs the
//! neighbour timers ([`Router::poll_timeout`] says when); CARP drives
//! [`Router::set_vip_master`]. At link up the daemon sends
//! [`Router::announce_all`] and [`Router::mld_join`].

mod announce;
mod errors;
pub mod forward;
pub mod fragment;
pub mod iface;
mod local;
pub mod mld;
pub mod ndp;
pub mod neighbor;
pub mod node;
pub mod route;
pub mod stats;

pub use forward::{Forward, InPlace, Routed, RoutedInPlace};
pub use iface::{ConfigError, Interface, Interfaces};
pub use neighbor::{Fact, Learn, NeighborCache, NeighborConfig, Resolve, Solicit};
pub use node::{Outcome, Router, RouterConfig, Tx, TxKind};
pub use route::{NextHop, RouteTable};
pub use stats::{Counters, Drop, Event};

#[cfg(test)]
mod golden;
#[cfg(test)]
mod tests;
