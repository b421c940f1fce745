//! The appliance's router: pfd owns its data interfaces and the kernel
//! holds no addresses on them, so ARP, neighbour discovery, echo to our
//! own addresses, the routing table and IP forwarding (TTL, MTU,
//! Ethernet rewrite) are done here. Sans-IO, like smoltcp's interface
//! and neighbour cache: frames and `now` in, frames to send out.

pub mod iface;
pub mod neighbor;
pub mod route;
pub mod stats;

pub use iface::{ConfigError, Interface, Interfaces};
pub use neighbor::{Learn, NeighborCache, NeighborConfig, Resolve, Solicit};
pub use route::{NextHop, RouteTable};
pub use stats::{Counters, Drop, Event};
