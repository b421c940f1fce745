//! Sans-IO CARP, wire-compatible with OpenBSD's carp(4) (ip_carp.c rev
//! 1.370) and interoperable with ucarp (shared/specs/carp.md).
//!
//! The crate holds no socket, thread or clock. The daemon owns those and
//! drives one [`CarpHost`] (everything OpenBSD keeps in globals: the
//! `net.inet.carp.*` sysctls, `carpstats`, the demotion counter of every
//! interface group, and every carp interface on every carpdev):
//!
//! * **In**: [`CarpHost::handle_advert`] for each received IP protocol 112
//!   packet (the IP facts and payload in a [`Received`]),
//!   [`CarpHost::handle_timeout`] when [`CarpHost::poll_timeout`]'s
//!   deadline passes, and the administrative calls (`add_interface`,
//!   `reconfigure`, `remove_interface`, `set_interface_up`,
//!   `force_state`, `set_carpdev_link`, `set_group_demote`,
//!   `demote_interface`, `demote_groups`, `report_send`, `shutdown`).
//!   Every call takes `now`: monotonic nanoseconds, read once per wake-up.
//! * **Out**: [`CarpHost::poll_transmit`] until `None`, then
//!   [`CarpHost::poll_event`] until `None`, then sleep until
//!   [`CarpHost::poll_timeout`] or the next packet.
//!
//! # What the daemon does with the output
//!
//! * [`Transmit`]: wrap the 36-byte CARP header in an IP header (IPv4:
//!   TOS 0x10, DF, random ID, TTL 255, protocol 112, source an IPv4
//!   address of `carpdev`; IPv6: hop limit 255, next header 112, source
//!   the first IPv6 address of `carpdev`, normally its link-local) and an
//!   Ethernet header from `src_mac`, send it on `carpdev`, and report the
//!   outcome with [`CarpHost::report_send`] (send errors demote, §5.6).
//!   With a packet socket, [`Transmit::to_frame`] builds the whole
//!   frame and [`parse_frame`] reads a received one into a [`Received`].
//! * [`Event::StateChanged`]: to MASTER, start answering ARP requests and
//!   Neighbour Solicitations for the interface's addresses with
//!   [`CarpInterface::lladdr`] (`00:00:5e:00:01:<leader vhid>` unless
//!   overridden) and accept frames sent to it; leaving MASTER, stop.
//!   [`CarpInterface::answers_arp`] says which applies at any time; in
//!   the IP balancing modes every node answers and filters each packet
//!   with [`CarpInterface::ls_accept`]. Run any configured hooks.
//! * [`Event::GratuitousArp`] / [`Event::UnsolicitedNa`]: send them as
//!   described on the variants. They come at takeover (leader,
//!   balancing none) and again with the 2nd advert after it.
//! * [`Event::LinkState`]: reflect it as the carp interface's status
//!   (`ifconfig` shows `status: master` / `backup` / `invalid`).
//! * [`Event::Log`]: already filtered by `net.inet.carp.log`; log the
//!   line as OpenBSD does (`carp1: state transition: BACKUP -> MASTER`)
//!   at its syslog priority.
//!
//! # Fidelity notes
//!
//! * Receive validation follows OpenBSD's order (spec §3): `ipackets`,
//!   `allow`, badif, badttl, badlen, badsum, badvhid, badver, badauth
//!   (HMAC in both contexts), own-cookie loop (badauth), then the state
//!   machine. `hdrops` is never counted (the daemon hands contiguous
//!   bytes). The badif test reads "no carp interface (that is up, for
//!   multicast and IPv6) on this carpdev", since pfd receives on the
//!   parent rather than on a kernel carp interface. An advert is
//!   processed once, where OpenBSD's input path copies a multicast
//!   advert to every up carp interface of the parent and counts each.
//! * Timers are OpenBSD's current ones, in exact microseconds: advert
//!   interval `T = advbase + advskew/256` (1/256 s if both are 0),
//!   master-down `3 × T`, one master-down timer per address family.
//! * The counter cookie is drawn once per vhost from a generator seeded
//!   by [`CarpHost::new`]'s `seed` (give it 64 bits from the OS).
//! * ucarp: [`CarpIfConfig::ucarp_compat`] restricts a carp interface to
//!   what ucarp interoperates with and shows demotion as advskew 240.
#![forbid(unsafe_code)]

pub mod auth;
pub mod carpif;
pub mod config;
pub mod demote;
pub mod event;
pub mod frame;
pub mod host;
pub mod stats;
pub mod sysctl;
pub mod timing;
pub mod vhost;
pub mod wire;

pub use carpif::{CarpInterface, SendResult};
pub use config::{Balancing, CarpIfConfig, Carpnode, ConfigError};
pub use event::{Event, Family, LinkState, LogLine, Reason, State, Transmit};
pub use frame::{parse_frame, FrameError};
pub use host::{CarpHost, Received};
pub use stats::CarpStats;
pub use sysctl::Sysctl;

#[cfg(test)]
mod host_tests;
#[cfg(test)]
mod sim;
#[cfg(test)]
mod sim_tests;
#[cfg(test)]
mod ucarp_model;
#[cfg(test)]
mod ucarp_sim_tests;
