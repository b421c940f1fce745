//! The router itself: interfaces, routes and neighbours together, and
//! the output path every frame it sends goes through (route, MTU,
//! neighbour resolution, Ethernet header).

use super::iface::{is_link_local6, Interface, Interfaces};
use super::mld;
use super::ndp;
use super::neighbor::{Fact, NeighborCache, NeighborConfig, Resolve};
use super::route::{NextHop, RouteTable};
use super::stats::{Counters, Drop, Event};
use crate::wire::ethernet::{EthernetFrame, MacAddr};
use crate::wire::ipv4::Ipv4Packet;
use crate::wire::ipv6::Ipv6Packet;
use crate::wire::{array, byte};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const SEC: u64 = 1_000_000_000;

/// What a frame to send is, for the daemon's pf outbound step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TxKind {
    /// A forwarded packet (or fragment) from [`Router::transmit`], also
    /// when released later by a neighbour's answer: pf outbound has run
    /// on it already, between `route` and `transmit`.
    Forwarded,
    /// An IP packet the router made (echo reply, ICMP error, neighbour
    /// solicitation or advertisement): pf outbound has not seen it.
    Originated,
    /// ARP, which pf never sees.
    Arp,
}

/// A frame to send out of interface `ifindex`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tx {
    pub ifindex: u32,
    pub frame: Vec<u8>,
    pub kind: TxKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouterConfig {
    pub neighbor: NeighborConfig,
    /// ICMP errors sent per second at most (the kernel's
    /// `icmperrppslim`, 100); 0 sends none.
    pub icmp_errors_per_sec: u32,
    /// Send ICMP host redirects for packets routed back out of the
    /// interface they came in on (`net.inet.ip.redirect`, on by
    /// default). IPv6 redirects are not sent.
    pub send_redirects: bool,
}

impl Default for RouterConfig {
    fn default() -> Self {
        RouterConfig {
            neighbor: NeighborConfig::default(),
            icmp_errors_per_sec: 100,
            send_redirects: true,
        }
    }
}

/// How the output path left a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Sent (in `tx`) out of `ifindex`.
    Sent {
        ifindex: u32,
    },
    /// Held until the next hop on `ifindex` answers; a solicitation
    /// may be in `tx`.
    Queued {
        ifindex: u32,
    },
    Dropped(Drop),
}

#[derive(Clone, Debug)]
pub struct Router {
    pub ifaces: Interfaces,
    pub routes: RouteTable,
    /// Frames held for resolution keep their [`TxKind`].
    pub neighbors: NeighborCache<Tx>,
    pub counters: Counters,
    pub(crate) cfg: RouterConfig,
    /// ICMP error rate limit: errors allowed in the current second.
    icmp_window: u64,
    icmp_sent: u32,
    /// IPv4 ident of the packets the router originates.
    pub(crate) next_ident: u16,
    /// IPv6 fragment identification of the packets it originates.
    next_ident6: u32,
}

impl Router {
    /// A router over `ifaces` with their connected routes; add static
    /// and default routes to `routes` afterwards.
    pub fn new(ifaces: Interfaces, cfg: RouterConfig) -> Self {
        let routes = RouteTable::connected(&ifaces);
        Router {
            ifaces,
            routes,
            neighbors: NeighborCache::new(cfg.neighbor),
            counters: Counters::default(),
            cfg,
            icmp_window: 0,
            icmp_sent: 0,
            next_ident: 1,
            next_ident6: 1,
        }
    }

    /// Whether a packet to `dst` arriving on `in_ifindex` is for the
    /// router itself: one of its addresses (a link-local one only on
    /// its own link), or IPv6 multicast the router listens to
    /// (all-nodes, and the solicited-node groups of its addresses).
    pub fn is_local(&self, in_ifindex: u32, dst: IpAddr) -> bool {
        let Some(ifc) = self.ifaces.get(in_ifindex) else {
            return false;
        };
        match dst {
            IpAddr::V6(d) if is_link_local6(d) => ifc.owns(dst),
            IpAddr::V6(d) if d.is_multicast() => {
                d == ndp::ALL_NODES
                    || d == mld::ALL_ROUTERS
                    || ndp::solicited_node(ifc.link_local) == d
                    || ifc.v6.iter().any(|a| ndp::solicited_node(a.addr) == d)
                    || ifc.vips.iter().any(|v| match v.addr {
                        IpAddr::V6(a) => v.master && ndp::solicited_node(a) == d,
                        IpAddr::V4(_) => false,
                    })
            }
            _ => self.ifaces.owner_of(dst).is_some(),
        }
    }

    /// Run the neighbour timers and return the solicitations due, plus
    /// counters for frames that gave up waiting.
    pub fn poll(&mut self, now: u64) -> Vec<Tx> {
        self.neighbors.poll(now);
        let mut tx = Vec::new();
        self.drain_solicits(&mut tx);
        self.sync_cache_drops();
        tx
    }

    /// When [`Router::poll`] next has work.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.neighbors.poll_timeout()
    }

    pub(crate) fn sync_cache_drops(&mut self) {
        let d = std::mem::take(&mut self.neighbors.drops);
        for _ in 0..d.overflow {
            self.counters.drop(Drop::PendingOverflow);
        }
        for _ in 0..d.expired {
            self.counters.drop(Drop::PendingExpired);
        }
        self.counters.event_n(Event::NeighborEvicted, d.evicted);
        self.counters.event_n(Event::SolicitDeferred, d.deferred);
    }

    /// Turn the cache's solicitation requests into frames.
    pub(crate) fn drain_solicits(&mut self, tx: &mut Vec<Tx>) {
        for s in self.neighbors.take_solicits() {
            let Some(ifc) = self.ifaces.get(s.ifindex) else {
                continue;
            };
            let (f, kind) = match s.target {
                IpAddr::V4(t) => {
                    let Some(IpAddr::V4(src)) = ifc.source_for(s.target) else {
                        self.counters.drop(Drop::NoSourceAddress);
                        continue;
                    };
                    self.counters.event(Event::ArpRequested);
                    let f = ndp::arp_request(
                        ifc.mac,
                        src,
                        t,
                        s.unicast.unwrap_or(ndp::BROADCAST_MAC),
                        ifc.vlan,
                    );
                    (f, TxKind::Arp)
                }
                IpAddr::V6(t) => {
                    let Some(IpAddr::V6(src)) = ifc.source_for(s.target) else {
                        continue;
                    };
                    self.counters.event(Event::NeighborSolicited);
                    let f = ndp::neighbor_solicit(ifc.mac, ifc.vlan, src, t, s.unicast);
                    (f, TxKind::Originated)
                }
            };
            tx.push(Tx {
                ifindex: s.ifindex,
                frame: f,
                kind,
            });
        }
    }

    /// Frames released by the cache, addressed to `mac` and sent.
    pub(crate) fn release(
        &mut self,
        ifindex: u32,
        mac: MacAddr,
        frames: Vec<Tx>,
        tx: &mut Vec<Tx>,
    ) {
        self.counters.event_n(Event::Released, frames.len() as u64);
        for mut f in frames {
            EthernetFrame::new_unchecked(&mut f.frame[..]).set_dst_addr(mac);
            f.ifindex = ifindex;
            tx.push(f);
        }
    }

    /// The next hop for `dst`: link-local destinations stay on `scope`
    /// (the interface the packet came in on), everything else is routed.
    pub(crate) fn next_hop(&self, dst: IpAddr, scope: Option<u32>) -> Option<NextHop> {
        match dst {
            IpAddr::V6(d) if is_link_local6(d) => scope.map(|ifindex| NextHop {
                ifindex,
                gateway: None,
            }),
            _ => self.routes.lookup_ip(dst),
        }
    }

    /// An Ethernet frame around `ip` for interface `ifc`: its MAC and
    /// VLAN, destination left zero until the next hop is known.
    pub(crate) fn frame_for(ifc: &Interface, ip: &[u8]) -> Vec<u8> {
        crate::wire::build::ethernet_wrap(ip, Self::source_mac(ifc, ip), [0; 6], ifc.vlan)
    }

    /// The source MAC for `ip` leaving by `ifc`: a CARP virtual MAC for
    /// a packet from a virtual address we are master for.
    pub(crate) fn source_mac(ifc: &Interface, ip: &[u8]) -> MacAddr {
        if ifc.vips.is_empty() {
            return ifc.mac;
        }
        match ip_src(ip) {
            Some(s) => ifc.mac_for_source(s),
            None => ifc.mac,
        }
    }

    /// Send frames built by [`Router::frame_for`] for `hop`'s interface
    /// (one packet or the fragments of one) to the next hop: addressed
    /// now if it is known, else held while it is resolved.
    pub(crate) fn output(
        &mut self,
        frames: Vec<Vec<u8>>,
        kind: TxKind,
        dst: IpAddr,
        hop: NextHop,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> Outcome {
        let ifindex = hop.ifindex;
        let nbr = hop.neighbor(dst);
        let out = match self.neighbors.resolve(ifindex, nbr, now) {
            Resolve::Known(m) => {
                for mut f in frames {
                    EthernetFrame::new_unchecked(&mut f[..]).set_dst_addr(m);
                    tx.push(Tx {
                        ifindex,
                        frame: f,
                        kind,
                    });
                }
                Outcome::Sent { ifindex }
            }
            Resolve::Pending => {
                for f in frames {
                    let held = Tx {
                        ifindex,
                        frame: f,
                        kind,
                    };
                    if self.neighbors.hold(ifindex, nbr, held) {
                        self.counters.event(Event::Queued);
                    }
                }
                Outcome::Queued { ifindex }
            }
            Resolve::Failed => {
                self.counters.drop(Drop::HostUnreach);
                Outcome::Dropped(Drop::HostUnreach)
            }
        };
        self.drain_solicits(tx);
        self.sync_cache_drops();
        out
    }

    /// Route and send a packet the router originates (echo replies, ICMP
    /// errors), fragmented to the egress MTU if need be (IPv4 without
    /// DF; IPv6 always, as the source may).
    pub(crate) fn send_own(
        &mut self,
        pkt: Vec<u8>,
        scope: Option<u32>,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> Outcome {
        let Some(dst) = ip_dst(&pkt) else {
            self.counters.drop(Drop::Malformed);
            return Outcome::Dropped(Drop::Malformed);
        };
        let Some(hop) = self.next_hop(dst, scope) else {
            self.counters.drop(Drop::NoRoute);
            return Outcome::Dropped(Drop::NoRoute);
        };
        let Some(ifc) = self.ifaces.get(hop.ifindex) else {
            self.counters.drop(Drop::UnknownInterface);
            return Outcome::Dropped(Drop::UnknownInterface);
        };
        let frames = if pkt.len() <= usize::from(ifc.mtu) {
            vec![Self::frame_for(ifc, &pkt)]
        } else if dst.is_ipv4() {
            match super::fragment::fragment_v4(&pkt, usize::from(ifc.mtu)) {
                Ok(v) => {
                    let n = v.len() as u64;
                    let f = v.iter().map(|p| Self::frame_for(ifc, p)).collect();
                    self.counters.event_n(Event::FragmentsMade, n);
                    f
                }
                Err(d) => {
                    self.counters.drop(d);
                    return Outcome::Dropped(d);
                }
            }
        } else {
            let ident = self.next_ident6;
            self.next_ident6 = self.next_ident6.wrapping_add(1);
            match super::fragment::fragment_v6(&pkt, usize::from(ifc.mtu), ident) {
                Ok(v) => {
                    let n = v.len() as u64;
                    let f = v.iter().map(|p| Self::frame_for(ifc, p)).collect();
                    self.counters.event_n(Event::FragmentsMade, n);
                    f
                }
                Err(d) => {
                    self.counters.drop(d);
                    return Outcome::Dropped(d);
                }
            }
        };
        self.output(frames, TxKind::Originated, dst, hop, now, tx)
    }

    /// The ICMP error rate limit: true when one more may be sent now.
    pub(crate) fn icmp_error_allowed(&mut self, now: u64) -> bool {
        let w = now / SEC;
        if w != self.icmp_window {
            self.icmp_window = w;
            self.icmp_sent = 0;
        }
        if self.icmp_sent >= self.cfg.icmp_errors_per_sec {
            self.counters.event(Event::IcmpErrorRateLimited);
            return false;
        }
        self.icmp_sent += 1;
        true
    }

    /// A new configuration (`ifaces`, and `routes` built for them,
    /// e.g. from [`RouteTable::connected`] plus statics) without losing
    /// the neighbours: entries stay while their interface exists and
    /// their address is still on one of its networks.
    pub fn reconfigure(&mut self, ifaces: Interfaces, routes: RouteTable) {
        self.neighbors
            .retain(|i, a| ifaces.get(i).is_some_and(|ifc| ifc.on_link(a)));
        self.ifaces = ifaces;
        self.routes = routes;
        self.sync_cache_drops();
    }

    /// `arp -s` / `ndp -s`: a permanent neighbour. Frames that were
    /// waiting for it are returned, addressed.
    pub fn add_static_neighbor(
        &mut self,
        ifindex: u32,
        ip: IpAddr,
        mac: MacAddr,
        now: u64,
    ) -> Vec<Tx> {
        let rel = self.neighbors.add_static(ifindex, ip, mac, now);
        let mut tx = Vec::new();
        self.release(ifindex, mac, rel, &mut tx);
        self.sync_cache_drops();
        tx
    }

    pub fn iface(&self, ifindex: u32) -> Option<&Interface> {
        self.ifaces.get(ifindex)
    }

    /// Apply a neighbour another worker's router learned (see
    /// [`Fact`]); frames this router held for it go into `tx`,
    /// addressed.
    pub fn apply_neighbor_fact(&mut self, f: &Fact, now: u64, tx: &mut Vec<Tx>) {
        // Never take a claim on our own address, as from the wire.
        if self.ifaces.get(f.ifindex).is_none_or(|i| i.owns(f.ip)) {
            return;
        }
        let rel = self.neighbors.apply_fact(f, now);
        self.release(f.ifindex, f.mac, rel, tx);
        self.sync_cache_drops();
    }
}

/// The source of an IP packet, by its version nibble.
pub(crate) fn ip_src(pkt: &[u8]) -> Option<IpAddr> {
    match byte(pkt, 0) >> 4 {
        4 => Some(IpAddr::V4(Ipv4Addr::from(array::<4>(pkt, 12)))),
        6 => Some(IpAddr::V6(Ipv6Addr::from(array::<16>(pkt, 8)))),
        _ => None,
    }
}

/// The destination of an IP packet, by its version nibble.
pub(crate) fn ip_dst(pkt: &[u8]) -> Option<IpAddr> {
    match byte(pkt, 0) >> 4 {
        4 => Ipv4Packet::new_checked(pkt)
            .ok()
            .map(|p| IpAddr::V4(p.dst_addr())),
        6 => Ipv6Packet::new_checked(pkt)
            .ok()
            .map(|p| IpAddr::V6(p.dst_addr())),
        _ => None,
    }
}

/// Sources and destinations never forwarded (and never answered).
pub(crate) fn martian_v4(a: Ipv4Addr) -> bool {
    let o = a.octets();
    o[0] == 0 || o[0] == 127 || o[0] >= 224
}

pub(crate) fn martian_v6(a: Ipv6Addr) -> bool {
    a.is_unspecified() || a.is_loopback() || a.is_multicast() || is_link_local6(a) || {
        // ::ffff:0:0/96 never appears on the wire
        let o: [u8; 16] = a.octets();
        array::<12>(&o, 0) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]
    }
}
