//! Forwarding a packet pf passed (the kernel's `ip_forward` /
//! `ip6_forward`): sanity of source and destination, TTL / hop limit,
//! route lookup, MTU, then the Ethernet rewrite or a wait for the next
//! hop's link address. Every refusal is a counted [`Drop`], with the
//! ICMP error the kernel would send.

use super::iface::{is_link_local6, Interface};
use super::neighbor::Resolve;
use super::node::{martian_v4, martian_v6, Outcome, Router, Tx, TxKind};
use super::route::NextHop;
use super::stats::{Drop, Event};
use crate::frag::Refrag;
use crate::pdesc::Pdesc;
use crate::wire::checksum;
use crate::wire::ethernet::{ethertype, EthernetFrame, EthernetRepr};
use crate::wire::icmp::{self, unreach};
use crate::wire::icmpv6;
use crate::wire::ipv4::Ipv4Packet;
use crate::wire::ipv6::Ipv6Packet;
use crate::wire::{array, byte};
use ruleset::addr::Af;
use std::net::IpAddr;

/// `ICMP6_DST_UNREACH_BEYONDSCOPE`.
const UNREACH_BEYOND_SCOPE: u8 = 2;

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
    /// pf reassembled this IPv6 packet: [`Router::transmit`] sends it as
    /// fragments again (`pf_refragment6`). Set by the route call, or by
    /// the caller when pf outbound reassembled it.
    pub refrag: Option<Refrag>,
}

/// [`Routed`] for a frame rewritten where it lies
/// ([`Router::route_in_place`]): the frame stays the caller's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoutedInPlace {
    pub hop: NextHop,
    pub dst: IpAddr,
    built_for: u32,
    /// As [`Routed::refrag`].
    pub refrag: Option<Refrag>,
}

/// What [`Router::transmit_in_place`] did with the caller's frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InPlace {
    /// The frame is addressed: send it out of `ifindex`.
    Send { ifindex: u32 },
    /// The frame was taken or dropped; anything to send is in `tx`.
    Consumed(Outcome),
}

/// What the forwarding decision found, before the frame is touched.
#[derive(Clone, Copy, Debug)]
struct Decision {
    hop: NextHop,
    dst: IpAddr,
    /// Where the IP packet lies in the received frame, and its length
    /// without link padding.
    ip_off: usize,
    ip_len: usize,
    ttl: u8,
    af: Af,
}

/// TTL / hop limit minus one, on an IP packet whose current value is
/// `ttl` (above 1); the IPv4 header checksum updated incrementally.
fn decrement_ttl(ip: &mut [u8], af: Af, ttl: u8) {
    let new = ttl.saturating_sub(TTL_DEC);
    match af {
        Af::Inet => {
            let mut p = Ipv4Packet::new_unchecked(ip);
            let proto = p.protocol();
            let c = checksum::update16(
                p.checksum(),
                u16::from_be_bytes([ttl, proto]),
                u16::from_be_bytes([new, proto]),
            );
            p.set_ttl(new);
            p.set_checksum(c);
        }
        Af::Inet6 => Ipv6Packet::new_unchecked(ip).set_hop_limit(new),
    }
}

/// Replace the link header before `ip_off` with `ifc`'s (destination
/// left zero) and cut what follows the IP packet; returns the new
/// header length.
fn reframe(frame: &mut Vec<u8>, ip_off: usize, ip_len: usize, ifc: &Interface) -> usize {
    frame.truncate(ip_off.saturating_add(ip_len));
    let ip = frame.get(ip_off..).unwrap_or(&[]);
    let r = EthernetRepr {
        src: Router::source_mac(ifc, ip),
        dst: [0; 6],
        vlan_tci: ifc.vlan.map(|v| v & 0x0fff),
        ethertype: match byte(ip, 0) >> 4 {
            6 => ethertype::IPV6,
            _ => ethertype::IPV4,
        },
    };
    let hl = r.buffer_len();
    if hl != ip_off {
        frame.splice(..ip_off.min(frame.len()), vec![0u8; hl]);
    }
    if let Some(h) = frame.get_mut(..hl) {
        r.emit(h);
    }
    hl
}

/// The first fragment a reassembled packet leaves as, framed as the
/// packet is, and its descriptor.
fn first_fragment(frame: &[u8], pd: &Pdesc, tag: &Refrag) -> Option<(Vec<u8>, Pdesc)> {
    let first = crate::frag::refragment_frame(frame, usize::from(pd.l3_off), tag)
        .ok()?
        .into_iter()
        .next()?;
    match crate::wire::frame::parse_frame(&first, crate::wire::frame::Link::Ethernet) {
        Ok(crate::wire::frame::Parsed::Ip(fpd)) => Some((first, fpd)),
        _ => None,
    }
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
        let d = self.decide_counted(frame, in_ifindex, pd, via, None, now, tx)?;
        let ip = frame
            .get(d.ip_off..d.ip_off + d.ip_len)
            .ok_or(Drop::Malformed)?;
        let out_if = self
            .ifaces
            .get(d.hop.ifindex)
            .ok_or(Drop::UnknownInterface)?;
        // One copy: the packet goes straight into the outgoing frame and
        // is changed there.
        let mut out = Self::frame_for(out_if, ip);
        let eth_len = out.len() - ip.len();
        decrement_ttl(out.get_mut(eth_len..).unwrap_or(&mut []), d.af, d.ttl);
        Ok(Routed {
            frame: out,
            hop: d.hop,
            dst: d.dst,
            built_for: d.hop.ifindex,
            refrag: None,
        })
    }

    /// [`Router::route`] rewriting the received frame itself instead of
    /// copying it (a worker's receive buffer): the Ethernet header is
    /// replaced by the egress one, link padding cut, TTL decremented.
    /// On an error `frame` is unchanged.
    pub fn route_in_place(
        &mut self,
        frame: &mut Vec<u8>,
        in_ifindex: u32,
        pd: &Pdesc,
        via: Option<NextHop>,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> Result<RoutedInPlace, Drop> {
        self.route_in_place_refrag(frame, in_ifindex, pd, via, None, now, tx)
    }

    /// [`Router::route_in_place`] for a packet pf passed inbound with
    /// `refrag` (an IPv6 packet it reassembled): the egress MTU must
    /// hold the largest fragment it will leave as, not the whole, as
    /// `ip6_forward` checks the size after pf refragmented
    /// (answering a fragment too big with Packet Too Big).
    #[allow(clippy::too_many_arguments)]
    pub fn route_in_place_refrag(
        &mut self,
        frame: &mut Vec<u8>,
        in_ifindex: u32,
        pd: &Pdesc,
        via: Option<NextHop>,
        refrag: Option<Refrag>,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> Result<RoutedInPlace, Drop> {
        let refrag = refrag.filter(|_| pd.af == Af::Inet6);
        let d = self.decide_counted(frame, in_ifindex, pd, via, refrag.as_ref(), now, tx)?;
        let out_if = self
            .ifaces
            .get(d.hop.ifindex)
            .ok_or(Drop::UnknownInterface)?;
        let eth_len = reframe(frame, d.ip_off, d.ip_len, out_if);
        decrement_ttl(frame.get_mut(eth_len..).unwrap_or(&mut []), d.af, d.ttl);
        Ok(RoutedInPlace {
            hop: d.hop,
            dst: d.dst,
            built_for: d.hop.ifindex,
            refrag,
        })
    }

    /// [`Router::transmit`] for a frame [`Router::route_in_place`]
    /// rewrote: when the next hop is known the frame is addressed where
    /// it lies and the caller sends it ([`InPlace::Send`]); otherwise it
    /// is taken (held for resolution, or fragmented into `tx`) or
    /// dropped, and `frame` is left empty or unused.
    pub fn transmit_in_place(
        &mut self,
        frame: &mut Vec<u8>,
        r: RoutedInPlace,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> InPlace {
        let Some(ifc) = self.ifaces.get(r.hop.ifindex) else {
            self.counters.drop(Drop::UnknownInterface);
            return InPlace::Consumed(Outcome::Dropped(Drop::UnknownInterface));
        };
        let mtu = usize::from(ifc.mtu);
        let Ok(eth) = EthernetFrame::new_checked(&frame[..]) else {
            self.counters.drop(Drop::Malformed);
            return InPlace::Consumed(Outcome::Dropped(Drop::Malformed));
        };
        let eth_len = eth.header_len();
        if frame.len() - eth_len > mtu || r.refrag.is_some() {
            // Fragments are new frames: the copying path.
            let routed = Routed {
                frame: std::mem::take(frame),
                hop: r.hop,
                dst: r.dst,
                built_for: r.built_for,
                refrag: r.refrag,
            };
            return InPlace::Consumed(self.transmit(routed, now, tx));
        }
        if r.built_for != r.hop.ifindex {
            let ip_len = frame.len() - eth_len;
            reframe(frame, eth_len, ip_len, ifc);
        }
        let ifindex = r.hop.ifindex;
        let nbr = r.hop.neighbor(r.dst);
        let res = match self.neighbors.resolve(ifindex, nbr, now) {
            Resolve::Known(m) => {
                EthernetFrame::new_unchecked(&mut frame[..]).set_dst_addr(m);
                self.counters.event(Event::Forwarded);
                InPlace::Send { ifindex }
            }
            Resolve::Pending => {
                let held = Tx {
                    ifindex,
                    frame: std::mem::take(frame),
                    kind: TxKind::Forwarded,
                };
                if self.neighbors.hold(ifindex, nbr, held) {
                    self.counters.event(Event::Queued);
                }
                self.counters.event(Event::Forwarded);
                InPlace::Consumed(Outcome::Queued { ifindex })
            }
            Resolve::Failed => {
                self.counters.drop(Drop::HostUnreach);
                InPlace::Consumed(Outcome::Dropped(Drop::HostUnreach))
            }
        };
        self.drain_solicits(tx);
        self.sync_cache_drops();
        res
    }

    /// [`Router::forward_into`] on the received frame itself:
    /// [`Router::route_in_place`] then [`Router::transmit_in_place`].
    pub fn forward_in_place(
        &mut self,
        frame: &mut Vec<u8>,
        in_ifindex: u32,
        pd: &Pdesc,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> InPlace {
        match self.route_in_place(frame, in_ifindex, pd, None, now, tx) {
            Ok(r) => self.transmit_in_place(frame, r, now, tx),
            Err(d) => InPlace::Consumed(Outcome::Dropped(d)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn decide_counted(
        &mut self,
        frame: &[u8],
        in_ifindex: u32,
        pd: &Pdesc,
        via: Option<NextHop>,
        refrag: Option<&Refrag>,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> Result<Decision, Drop> {
        let r = self.decide(frame, in_ifindex, pd, via, refrag, now, tx);
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
        let frames = if let Some(tag) = r.refrag.filter(|_| byte(ip, 0) >> 4 == 6) {
            // pf_refragment6: the fragments the source sent, each sized
            // for the egress link by `route`'s check (a pf outbound
            // route-to or reassembly can still make one too big:
            // dropped, no error, as below)
            let v = super::fragment::refragment_v6(ip, &tag)?;
            if v.iter().any(|f| f.len() > mtu) {
                return Err(Drop::TooBig);
            }
            self.counters.event_n(Event::FragmentsMade, v.len() as u64);
            v.iter().map(|p| Self::frame_for(ifc, p)).collect()
        } else if ip.len() <= mtu {
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

    #[allow(clippy::too_many_arguments)]
    fn decide(
        &mut self,
        frame: &[u8],
        in_ifindex: u32,
        pd: &Pdesc,
        via: Option<NextHop>,
        refrag: Option<&Refrag>,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> Result<Decision, Drop> {
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
                // `ip6_forward`: a link-local source cannot leave its
                // link; the sender learns so (beyond scope, RFC 4443).
                if is_link_local6(s) && !martian_v6(d) {
                    self.send_icmp_error(
                        frame,
                        pd,
                        in_ifindex,
                        icmpv6::ty::DST_UNREACH,
                        UNREACH_BEYOND_SCOPE,
                        None,
                        now,
                        tx,
                    );
                    return Err(Drop::Martian);
                }
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
        let mtu = self
            .ifaces
            .get(hop.ifindex)
            .ok_or(Drop::UnknownInterface)?
            .mtu;
        // what leaves: the packet, or its largest fragment
        let size = refrag.map_or(ip.len(), |t| t.largest_fragment(ip.len()));
        if size > usize::from(mtu) {
            let df = match pd.af {
                Af::Inet => Ipv4Packet::new_unchecked(ip).dont_frag(),
                Af::Inet6 => true,
            };
            if df {
                let (t, c, d) = match pd.af {
                    Af::Inet => (icmp::ty::UNREACH, unreach::NEEDFRAG, Drop::NeedFrag),
                    Af::Inet6 => (icmpv6::ty::PACKET_TOO_BIG, 0, Drop::TooBig),
                };
                let mtu = Some(u32::from(mtu));
                match refrag.and_then(|tag| first_fragment(frame, pd, tag)) {
                    // ip6_forward refuses a fragment pf made: the error
                    // quotes it, as the source sent it
                    Some((f, fpd)) => {
                        self.send_icmp_error(&f, &fpd, in_ifindex, t, c, mtu, now, tx)
                    }
                    None => self.send_icmp_error(frame, pd, in_ifindex, t, c, mtu, now, tx),
                };
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
        Ok(Decision {
            hop,
            dst,
            ip_off: usize::from(pd.l3_off),
            ip_len: ip.len(),
            ttl,
            af: pd.af,
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
