//! Forwarding a packet pf passed (the kernel's `ip_forward` /
//! `ip6_forward`): sanity of source and destination, TTL / hop limit,
//! route lookup, MTU, then the Ethernet rewrite or a wait for the next
//! hop's link address. Every refusal is a counted [`Drop`], with the
//! ICMP error the kernel would send.

use super::node::{martian_v4, martian_v6, Outcome, Router, Tx, TxKind};
use super::route::NextHop;
use super::stats::{Drop, Event};
use crate::pdesc::Pdesc;
use crate::wire::checksum;
use crate::wire::ethernet::EthernetFrame;
use crate::wire::icmp::{self, unreach};
use crate::wire::icmpv6;
use crate::wire::ipv4::Ipv4Packet;
use crate::wire::ipv6::Ipv6Packet;
use crate::wire::{array, byte};
use ruleset::addr::Af;
use std::net::IpAddr;

/// `ICMP_REDIRECT_HOST`: RFC 1812 says to send host redirects only.
const REDIRECT_HOST: u8 = 1;

/// The kernel's `IPTTLDEC`.
const TTL_DEC: u8 = 1;

/// What became of a forwarded packet: frames to send (the packet, its
/// fragments, solicitations, an ICMP error) and the outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forward {
    pub tx: Vec<Tx>,
    pub outcome: Outcome,
}

/// A packet [`Router::route`] accepted, not yet sent: the daemon runs pf
/// outbound on `frame` (which may translate it, or pick another `hop`
/// with `route-to`), then hands it to [`Router::transmit`]. This is the
/// kernel's order: `ip_forward` decides, `ip_output` runs pf, then
/// fragments and resolves the next hop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routed {
    /// The outgoing Ethernet frame: the egress interface's MAC (or a
    /// CARP virtual one) as source, destination not yet known, TTL or
    /// hop limit decremented, the whole packet (not yet fragmented).
    pub frame: Vec<u8>,
    pub hop: NextHop,
    /// The packet's destination: the neighbour to resolve when
    /// `hop.gateway` is `None`.
    pub dst: IpAddr,
    /// The interface `frame`'s Ethernet header was made for.
    built_for: u32,
}

impl Router {
    /// Forward the packet `pd` describes in `frame`, received on
    /// `in_ifindex`: [`Router::route`] then [`Router::transmit`].
    /// Packets for the router itself ([`Router::is_local`]) belong to
    /// [`Router::handle_local`] and are refused here.
    pub fn forward(&mut self, frame: &[u8], in_ifindex: u32, pd: &Pdesc, now: u64) -> Forward {
        let mut tx = Vec::new();
        let outcome = self.forward_into(frame, in_ifindex, pd, now, &mut tx);
        Forward { tx, outcome }
    }

    /// [`Router::forward`] appending to the caller's `tx`, so a worker
    /// can reuse one vector for a whole burst.
    pub fn forward_into(
        &mut self,
        frame: &[u8],
        in_ifindex: u32,
        pd: &Pdesc,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> Outcome {
        match self.route(frame, in_ifindex, pd, None, now, tx) {
            Ok(r) => self.transmit(r, now, tx),
            Err(d) => Outcome::Dropped(d),
        }
    }

    /// Forward by a next hop chosen elsewhere instead of the routing
    /// table: pf's `route-to` / `reply-to` / `dup-to`. Everything else
    /// (TTL, MTU, resolution, errors) is as for [`Router::forward_into`].
    pub fn forward_via(
        &mut self,
        frame: &[u8],
        in_ifindex: u32,
        pd: &Pdesc,
        hop: NextHop,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> Outcome {
        match self.route(frame, in_ifindex, pd, Some(hop), now, tx) {
            Ok(r) => self.transmit(r, now, tx),
            Err(d) => Outcome::Dropped(d),
        }
    }

    /// The forwarding decision (`ip_forward` / `ip6_forward`): source
    /// and destination checks, TTL, route (or `via`), the egress MTU
    /// for packets that may not be fragmented, a next hop in its
    /// resolution hold-down. A refusal is counted and answered with the
    /// kernel's ICMP error (in `tx`); a host redirect for a hairpinned
    /// packet is put in `tx` too.
    pub fn route(
        &mut self,
        frame: &[u8],
        in_ifindex: u32,
        pd: &Pdesc,
        via: Option<NextHop>,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> Result<Routed, Drop> {
        let r = self.route_inner(frame, in_ifindex, pd, via, now, tx);
        if let Err(d) = r {
            self.counters.drop(d);
        }
        r
    }

    /// Send a packet [`Router::route`] accepted (after pf outbound):
    /// fragment it if it is too big and may be, address it to the next
    /// hop or hold it while the next hop is resolved.
    pub fn transmit(&mut self, r: Routed, now: u64, tx: &mut Vec<Tx>) -> Outcome {
        let out = match self.transmit_inner(r, now, tx) {
            Ok(o) => o,
            Err(d) => {
                self.counters.drop(d);
                return Outcome::Dropped(d);
            }
        };
        if let Outcome::Sent { .. } | Outcome::Queued { .. } = out {
            self.counters.event(Event::Forwarded);
        }
        out
    }

    fn transmit_inner(&mut self, r: Routed, now: u64, tx: &mut Vec<Tx>) -> Result<Outcome, Drop> {
        let ifc = self
            .ifaces
            .get(r.hop.ifindex)
            .ok_or(Drop::UnknownInterface)?;
        let mtu = usize::from(ifc.mtu);
        let eth_len = EthernetFrame::new_checked(&r.frame[..])
            .map_err(|_| Drop::Malformed)?
            .header_len();
        let ip = r.frame.get(eth_len..).ok_or(Drop::Malformed)?;
        let frames = if ip.len() <= mtu {
            if r.built_for == r.hop.ifindex {
                vec![r.frame]
            } else {
                vec![Self::frame_for(ifc, ip)]
            }
        } else {
            // Only a `route-to` chosen by pf outbound, to a smaller MTU,
            // gets here with a packet `route` did not size: dropped
            // without an error, as the decision was not the sender's.
            match byte(ip, 0) >> 4 {
                4 if !Ipv4Packet::new_unchecked(ip).dont_frag() => {
                    let v = super::fragment::fragment_v4(ip, mtu)?;
                    self.counters.event_n(Event::FragmentsMade, v.len() as u64);
                    v.iter().map(|p| Self::frame_for(ifc, p)).collect()
                }
                4 => return Err(Drop::NeedFrag),
                _ => return Err(Drop::TooBig),
            }
        };
        // `output` counts its own drops.
        Ok(self.output(frames, TxKind::Forwarded, r.dst, r.hop, now, tx))
    }

    /// The addresses and length of the IP packet at `pd.l3_off`, read
    /// from the bytes: pf may have translated them since `pd` was made.
    fn ip_view<'a>(frame: &'a [u8], pd: &Pdesc) -> Result<(&'a [u8], IpAddr, IpAddr), Drop> {
        let rest = frame.get(usize::from(pd.l3_off)..).ok_or(Drop::Malformed)?;
        match pd.af {
            Af::Inet => {
                let p = Ipv4Packet::new_checked(rest).map_err(|_| Drop::Malformed)?;
                let len = usize::from(p.total_len());
                let (s, d) = (p.src_addr(), p.dst_addr());
                Ok((rest.get(..len).ok_or(Drop::Malformed)?, s.into(), d.into()))
            }
            Af::Inet6 => {
                let p = Ipv6Packet::new_checked(rest).map_err(|_| Drop::Malformed)?;
                let len = crate::wire::ipv6::HEADER_LEN + usize::from(p.payload_len());
                let (s, d) = (p.src_addr(), p.dst_addr());
                Ok((rest.get(..len).ok_or(Drop::Malformed)?, s.into(), d.into()))
            }
        }
    }

    fn route_inner(
        &mut self,
        frame: &[u8],
        in_ifindex: u32,
        pd: &Pdesc,
        via: Option<NextHop>,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> Result<Routed, Drop> {
        let in_if = self.ifaces.get(in_ifindex).ok_or(Drop::UnknownInterface)?;
        // `ether_input`: a frame seen only because the port is
        // promiscuous is not ours to route, and link broadcast or
        // multicast is never forwarded (`M_BCAST|M_MCAST`).
        let eth_dst = array::<6>(frame, 0);
        if eth_dst[0] & 1 != 0 {
            return Err(Drop::Martian);
        }
        if !in_if.accepts_mac(eth_dst) {
            return Err(Drop::NotForUs);
        }
        let (ip, src, dst) = Self::ip_view(frame, pd)?;
        if self.is_local(in_ifindex, dst) {
            return Err(Drop::LocalUnhandled);
        }
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                if martian_v4(s)
                    || martian_v4(d)
                    || in_if.is_broadcast(s)
                    || self.ifaces.iter().any(|i| i.is_broadcast(d))
                {
                    return Err(Drop::Martian);
                }
                if !Ipv4Packet::new_unchecked(ip).verify_checksum() {
                    return Err(Drop::BadChecksum);
                }
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                if martian_v6(s) || martian_v6(d) {
                    return Err(Drop::Martian);
                }
            }
            _ => return Err(Drop::Malformed),
        }
        // The packet's own byte, not the descriptor's copy, so the
        // decrement below cannot wrap whatever the caller passed.
        let ttl = match pd.af {
            Af::Inet => byte(ip, 8),
            Af::Inet6 => byte(ip, 7),
        };
        if ttl <= TTL_DEC {
            let (t, c) = match pd.af {
                Af::Inet => (icmp::ty::TIMXCEED, 0),
                Af::Inet6 => (icmpv6::ty::TIME_EXCEEDED, 0),
            };
            self.send_icmp_error(frame, pd, in_ifindex, t, c, None, now, tx);
            return Err(Drop::TtlExceeded);
        }
        let Some(hop) = via.or_else(|| self.routes.lookup_ip(dst)) else {
            let (t, c) = match pd.af {
                // `ip_forward` answers a missing route with host (not
                // net) unreachable.
                Af::Inet => (icmp::ty::UNREACH, unreach::HOST),
                Af::Inet6 => (icmpv6::ty::DST_UNREACH, icmpv6::unreach::NOROUTE),
            };
            self.send_icmp_error(frame, pd, in_ifindex, t, c, None, now, tx);
            return Err(Drop::NoRoute);
        };
        let out_if = self.ifaces.get(hop.ifindex).ok_or(Drop::UnknownInterface)?;
        let mtu = out_if.mtu;
        if ip.len() > usize::from(mtu) {
            let df = match pd.af {
                Af::Inet => Ipv4Packet::new_unchecked(ip).dont_frag(),
                Af::Inet6 => true,
            };
            if df {
                let (t, c, d) = match pd.af {
                    Af::Inet => (icmp::ty::UNREACH, unreach::NEEDFRAG, Drop::NeedFrag),
                    Af::Inet6 => (icmpv6::ty::PACKET_TOO_BIG, 0, Drop::TooBig),
                };
                self.send_icmp_error(frame, pd, in_ifindex, t, c, Some(u32::from(mtu)), now, tx);
                return Err(d);
            }
        }
        // A next hop that did not answer is refused at once, with the
        // error `arpresolve` / `nd6_resolve` failing gives `ip_forward`.
        if self
            .neighbors
            .is_failed(hop.ifindex, hop.neighbor(dst), now)
        {
            let (t, c) = match pd.af {
                Af::Inet => (icmp::ty::UNREACH, unreach::HOST),
                Af::Inet6 => (icmpv6::ty::DST_UNREACH, icmpv6::unreach::ADDR),
            };
            self.send_icmp_error(frame, pd, in_ifindex, t, c, None, now, tx);
            return Err(Drop::HostUnreach);
        }
        // One copy: the packet goes straight into the outgoing frame and
        // is changed there.
        let mut out = Self::frame_for(out_if, ip);
        let eth_len = out.len() - ip.len();
        match pd.af {
            Af::Inet => {
                let mut p = Ipv4Packet::new_unchecked(&mut out[eth_len..]);
                let word_old = u16::from_be_bytes([ttl, p.protocol()]);
                let word_new = u16::from_be_bytes([ttl - TTL_DEC, p.protocol()]);
                p.set_ttl(ttl - TTL_DEC);
                let c = checksum::update16(p.checksum(), word_old, word_new);
                p.set_checksum(c);
            }
            Af::Inet6 => {
                Ipv6Packet::new_unchecked(&mut out[eth_len..]).set_hop_limit(ttl - TTL_DEC);
            }
        }
        // pf's route-to sends directly (`pf_route`), never a redirect.
        if via.is_none() {
            if let Some(gw) = self.redirect_for(in_ifindex, pd, src, hop, dst) {
                if self.send_icmp_error(
                    frame,
                    pd,
                    in_ifindex,
                    icmp::ty::REDIRECT,
                    REDIRECT_HOST,
                    Some(gw),
                    now,
                    tx,
                ) {
                    self.counters.event(Event::RedirectSent);
                }
            }
        }
        Ok(Routed {
            frame: out,
            hop,
            dst,
            built_for: hop.ifindex,
        })
    }

    /// `ip_forward`'s redirect test: the packet leaves by the interface
    /// it came in on, by a route that is not the default one, it has no
    /// IP options (source routes), and its sender is on that network, so
    /// it could have gone to the next hop directly. The answer is the
    /// address to send it to (the gateway, else the destination itself).
    fn redirect_for(
        &self,
        in_ifindex: u32,
        pd: &Pdesc,
        src: IpAddr,
        hop: NextHop,
        dst: IpAddr,
    ) -> Option<u32> {
        if !self.cfg.send_redirects || hop.ifindex != in_ifindex || pd.ip_opts {
            return None;
        }
        let (IpAddr::V4(s), IpAddr::V4(d)) = (src, hop.neighbor(dst)) else {
            return None;
        };
        if self.routes.route_to(dst)?.prefix == 0 {
            return None;
        }
        let ifc = self.ifaces.get(in_ifindex)?;
        ifc.v4.iter().any(|a| a.contains(s)).then_some(u32::from(d))
    }
}
