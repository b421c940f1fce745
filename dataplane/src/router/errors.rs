//! ICMP and ICMPv6 errors the router sends about packets it cannot
//! forward: time exceeded, unreachable, needs-frag, packet too big. The
//! message is the one `block return` builds ([`build::icmp_error_for`]);
//! the router sends it from its own address on the interface the packet
//! came in on (the kernel's `icmp_reflect` / `icmp6_reflect` source
//! choice), not from the packet's destination, and fills in the MTU.

use super::node::{Router, Tx};
use super::stats::Event;
use crate::pdesc::Pdesc;
use crate::wire::build;
use crate::wire::icmp::IcmpPacket;
use crate::wire::icmpv6::Icmpv6Packet;
use crate::wire::ipv4::Ipv4Packet;
use crate::wire::ipv6::{self, Ipv6Packet};
use std::net::IpAddr;

impl Router {
    /// Send the ICMP error `icmp_type`/`code` about the packet `pd`
    /// describes in `frame`, received on `in_ifindex`. `rest` is the
    /// message's second word: the next-hop MTU of a needs-frag (RFC
    /// 1191) or packet-too-big, the better gateway of a redirect. Errors the kernel
    /// would not send (about ICMP errors, fragments after the first,
    /// multicast or broadcast) and errors over the rate limit are not
    /// sent (false); nothing is counted as dropped for that.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send_icmp_error(
        &mut self,
        frame: &[u8],
        pd: &Pdesc,
        in_ifindex: u32,
        icmp_type: u8,
        code: u8,
        rest: Option<u32>,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> bool {
        let Some(mut pkt) = build::icmp_error_for(frame, pd, icmp_type, code) else {
            return false;
        };
        // `icmp_reflect`: from an address of the interface the route
        // back to the sender leaves by (normally the one the packet came
        // in on).
        let back = self
            .next_hop(pd.src_ip(), Some(in_ifindex))
            .map_or(in_ifindex, |h| h.ifindex);
        let Some(src) = self
            .ifaces
            .get(back)
            .or_else(|| self.ifaces.get(in_ifindex))
            .and_then(|i| i.source_for(pd.src_ip()))
        else {
            self.counters.drop(super::stats::Drop::NoSourceAddress);
            return false;
        };
        if !self.icmp_error_allowed(now) {
            return false;
        }
        match src {
            IpAddr::V4(s) => {
                let mut ip = Ipv4Packet::new_unchecked(&mut pkt[..]);
                ip.set_src_addr(s);
                ip.set_ident(self.next_ident);
                self.next_ident = self.next_ident.wrapping_add(1);
                ip.fill_checksum();
                let hl = ip.header_len();
                if let Some(m) = pkt.get_mut(hl..) {
                    let mut icmp = IcmpPacket::new_unchecked(m);
                    if let Some(r) = rest {
                        icmp.set_ident((r >> 16) as u16);
                        icmp.set_seq(r as u16);
                    }
                    icmp.fill_checksum();
                }
            }
            IpAddr::V6(s) => {
                let mut ip = Ipv6Packet::new_unchecked(&mut pkt[..]);
                ip.set_src_addr(s);
                let d = ip.dst_addr();
                if let Some(m) = pkt.get_mut(ipv6::HEADER_LEN..) {
                    if let (Some(r), Some(w)) = (rest, m.get_mut(4..8)) {
                        w.copy_from_slice(&r.to_be_bytes());
                    }
                    Icmpv6Packet::new_unchecked(m).fill_checksum(s, d);
                }
            }
        }
        self.counters.event(Event::IcmpErrorSent);
        self.send_own(pkt, Some(in_ifindex), now, tx);
        true
    }
}

impl Router {
    /// pf's `pf_route` when its next hop has no route: the packet is
    /// dropped (counted as [`Drop::NoRoute`](super::stats::Drop)) and
    /// its sender told the host is unreachable.
    pub fn refuse_unroutable(
        &mut self,
        frame: &[u8],
        pd: &Pdesc,
        in_ifindex: u32,
        now: u64,
        tx: &mut Vec<Tx>,
    ) {
        let (t, c) = match pd.af {
            ruleset::addr::Af::Inet => (
                crate::wire::icmp::ty::UNREACH,
                crate::wire::icmp::unreach::HOST,
            ),
            ruleset::addr::Af::Inet6 => (
                crate::wire::icmpv6::ty::DST_UNREACH,
                crate::wire::icmpv6::unreach::NOROUTE,
            ),
        };
        self.counters.drop(super::stats::Drop::NoRoute);
        self.send_icmp_error(frame, pd, in_ifindex, t, c, None, now, tx);
    }
}
