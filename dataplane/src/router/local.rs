//! Frames for the router itself: ARP, neighbour solicitations and
//! advertisements, ICMP and ICMPv6 echo requests to its addresses. The
//! daemon runs pf on the IP ones first (echo is filtered like anything
//! else); this only answers and learns.

use super::ndp::{self, lladdr_option, na_flag, opt};
use super::neighbor::{Learn, State};
use super::node::{Router, Tx, TxKind};
use super::stats::{Drop, Event};
use crate::pdesc::{proto, Pdesc};
use crate::wire::arp::{self, ArpPacket, ArpRepr};
use crate::wire::be32;
use crate::wire::ethernet::{ethertype, EthernetFrame, MacAddr};
use crate::wire::frame::{parse_frame, verify_l4_checksum, Link, Parsed};
use crate::wire::icmp::{self, IcmpPacket};
use crate::wire::icmpv6::{self, Icmpv6Packet};
use crate::wire::ipv4::{Ipv4Options, Ipv4Packet, Ipv4Repr};
use crate::wire::ipv6::{self, Ipv6Repr};
use ruleset::addr::Af;
use std::net::{IpAddr, Ipv6Addr};

/// `MAXTTL`: `icmp_reflect` sends echo replies with it.
const REPLY_TTL: u8 = 255;
/// `ip6_defhlim`.
const REPLY_HLIM: u8 = 64;

impl Router {
    /// Handle a frame received on `ifindex` that is for the router:
    /// ARP (always, pf never sees ARP) and IP packets for which
    /// [`Router::is_local`] holds. Returns the frames to send: replies,
    /// and packets that were waiting for a neighbour that just answered.
    pub fn handle_local(&mut self, frame: &[u8], ifindex: u32, now: u64) -> Vec<Tx> {
        let mut tx = Vec::new();
        let _ = self.handle_local_into(frame, ifindex, now, &mut tx);
        tx
    }

    /// [`Router::handle_local`] appending to the caller's `tx`; the
    /// error says why the frame was not used (already counted).
    pub fn handle_local_into(
        &mut self,
        frame: &[u8],
        ifindex: u32,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> Result<(), Drop> {
        let r = self.local_inner(frame, ifindex, now, tx);
        if let Err(d) = r {
            self.counters.drop(d);
        }
        r
    }

    fn local_inner(
        &mut self,
        frame: &[u8],
        ifindex: u32,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> Result<(), Drop> {
        let ifc = self.ifaces.get(ifindex).ok_or(Drop::UnknownInterface)?;
        let eth = EthernetFrame::new_checked(frame).map_err(|_| Drop::Malformed)?;
        if eth.src_addr() == ifc.mac {
            return Err(Drop::Looped);
        }
        let eth_src = eth.src_addr();
        if eth_src[0] & 1 != 0 {
            return Err(Drop::Martian);
        }
        // Unicast to another station: seen only in promiscuous mode.
        let eth_dst = eth.dst_addr();
        if eth_dst[0] & 1 == 0 && !ifc.accepts_mac(eth_dst) {
            return Err(Drop::NotForUs);
        }
        if eth.ethertype() == ethertype::ARP {
            return self.arp_input(eth.payload(), ifindex, now, tx);
        }
        let pd = match parse_frame(frame, Link::Ethernet) {
            Ok(Parsed::Ip(pd)) => pd,
            Ok(Parsed::NonIp { .. }) => return Err(Drop::LocalUnhandled),
            Err(_) => return Err(Drop::Malformed),
        };
        if !self.is_local(ifindex, pd.dst_ip()) {
            return Err(Drop::NotForUs);
        }
        if pd.fragment {
            // No reassembly here: pf's scrub reassembles before this.
            return Err(Drop::LocalUnhandled);
        }
        match (pd.proto, pd.icmp_type) {
            (proto::ICMPV6, Some(icmpv6::ty::NEIGHBOR_SOLICIT)) => {
                self.ns_input(frame, &pd, eth_src, ifindex, now, tx)
            }
            (proto::ICMPV6, Some(icmpv6::ty::NEIGHBOR_ADVERT)) => {
                self.na_input(frame, &pd, eth_src, ifindex, now, tx)
            }
            (proto::ICMPV6, Some(icmpv6::ty::ECHO_REQUEST)) => {
                self.echo6_input(frame, &pd, ifindex, now, tx)
            }
            (proto::ICMP, Some(icmp::ty::ECHO)) => self.echo4_input(frame, &pd, ifindex, now, tx),
            (proto::ICMPV6, Some(icmpv6::ty::MLD_LISTENER_QUERY)) => {
                self.mld_query_input(frame, &pd, ifindex, tx)
            }
            (proto::ICMP | proto::ICMPV6, _) => Err(Drop::LocalUnhandled),
            _ => {
                self.closed_port(frame, &pd, ifindex, now, tx);
                Err(Drop::LocalUnhandled)
            }
        }
    }

    /// RFC 826 with OpenBSD's `in_arpinput` rules: learn the sender if
    /// the request or reply is to us (else only refresh a known entry),
    /// never believe a claim on our own address, answer requests for
    /// our addresses.
    fn arp_input(
        &mut self,
        body: &[u8],
        ifindex: u32,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> Result<(), Drop> {
        let p = ArpPacket::new_checked(body).map_err(|_| Drop::Malformed)?;
        let a = ArpRepr::parse(&p).map_err(|_| Drop::Malformed)?;
        let ifc = self.ifaces.get(ifindex).ok_or(Drop::UnknownInterface)?;
        let (mac, vlan) = (ifc.mac, ifc.vlan);
        if a.operation != arp::op::REQUEST && a.operation != arp::op::REPLY {
            return Err(Drop::NotForUs);
        }
        if a.sender_hw[0] & 1 != 0 || a.sender_hw == [0; 6] {
            return Err(Drop::Martian);
        }
        if a.sender_hw == mac {
            return Err(Drop::Looped);
        }
        let sender = IpAddr::V4(a.sender_ip);
        if ifc.owns(sender) {
            return Err(Drop::DuplicateAddress);
        }
        // The CARP master (maybe the peer) announcing a virtual address.
        if ifc.vips.iter().any(|v| v.addr == sender) {
            return Err(Drop::NotForUs);
        }
        let target = IpAddr::V4(a.target_ip);
        let reply_mac = if ifc.owns(target) {
            Some(mac)
        } else {
            ifc.master_vip(target).map(|v| v.mac)
        };
        let for_us = reply_mac.is_some();
        // An ARP probe (RFC 5227) has sender 0.0.0.0: nothing to learn.
        let learnable = !a.sender_ip.is_unspecified() && ifc.on_link(sender);
        if learnable {
            let rel =
                self.neighbors
                    .learn(ifindex, sender, a.sender_hw, Learn::Reachable, for_us, now);
            self.release(ifindex, a.sender_hw, rel, tx);
        }
        if !for_us {
            return Err(Drop::NotForUs);
        }
        if let (arp::op::REQUEST, Some(rmac)) = (a.operation, reply_mac) {
            let reply = ArpRepr {
                operation: arp::op::REPLY,
                sender_hw: rmac,
                sender_ip: a.target_ip,
                target_hw: a.sender_hw,
                target_ip: a.sender_ip,
            };
            tx.push(Tx {
                ifindex,
                frame: ndp::arp_frame(a.sender_hw, vlan, &reply),
                kind: TxKind::Arp,
            });
            self.counters.event(Event::ArpReplied);
        }
        Ok(())
    }

    /// The ICMPv6 message of an ND packet after RFC 4861's checks common
    /// to NS and NA (hop limit 255 is checked by the frame parser; code
    /// 0, checksum, length, a unicast target), and its options.
    fn nd_body<'a>(frame: &'a [u8], pd: &Pdesc) -> Result<(&'a [u8], Ipv6Addr), Drop> {
        if pd.ttl != ndp::ND_HOP_LIMIT || pd.icmp_code != Some(0) {
            return Err(Drop::Malformed);
        }
        if !verify_l4_checksum(frame, pd) {
            return Err(Drop::BadChecksum);
        }
        let l4 = usize::from(pd.l4_off);
        let end = usize::from(pd.l3_off) + usize::from(pd.ip_len);
        let m = frame.get(l4..end).ok_or(Drop::Malformed)?;
        let p = Icmpv6Packet::new_checked(m).map_err(|_| Drop::Malformed)?;
        let target = p.body_addr().ok_or(Drop::Malformed)?;
        if target.is_multicast() {
            return Err(Drop::Malformed);
        }
        Ok((m, target))
    }

    fn ns_input(
        &mut self,
        frame: &[u8],
        pd: &Pdesc,
        eth_src: MacAddr,
        ifindex: u32,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> Result<(), Drop> {
        let (m, target) = Self::nd_body(frame, pd)?;
        let sll = lladdr_option(
            m.get(icmpv6::ADDR_BODY_LEN..).unwrap_or(&[]),
            opt::SOURCE_LLADDR,
        )
        .ok_or(Drop::Malformed)?;
        let IpAddr::V6(src) = pd.src_ip() else {
            return Err(Drop::Malformed);
        };
        let IpAddr::V6(dst) = pd.dst_ip() else {
            return Err(Drop::Malformed);
        };
        // Duplicate address detection: from ::, to the solicited-node
        // group, without a link-layer address.
        let dad = src.is_unspecified();
        if dad && (sll.is_some() || dst != ndp::solicited_node(target)) {
            return Err(Drop::Malformed);
        }
        let ifc = self.ifaces.get(ifindex).ok_or(Drop::UnknownInterface)?;
        let vlan = ifc.vlan;
        let t = IpAddr::V6(target);
        let mac = if ifc.owns(t) {
            ifc.mac
        } else {
            ifc.master_vip(t).ok_or(Drop::NotForUs)?.mac
        };
        if ifc.owns(IpAddr::V6(src)) {
            return Err(Drop::DuplicateAddress);
        }
        if let Some(l) = sll {
            if l[0] & 1 != 0 {
                return Err(Drop::Martian);
            }
            let rel = self
                .neighbors
                .learn(ifindex, IpAddr::V6(src), l, Learn::Stale, true, now);
            self.release(ifindex, l, rel, tx);
        }
        let (dst, eth_dst, flags) = if dad {
            (
                ndp::ALL_NODES,
                ndp::multicast_mac(ndp::ALL_NODES),
                na_flag::ROUTER | na_flag::OVERRIDE,
            )
        } else {
            (
                src,
                sll.unwrap_or(eth_src),
                na_flag::ROUTER | na_flag::SOLICITED | na_flag::OVERRIDE,
            )
        };
        tx.push(Tx {
            ifindex,
            frame: ndp::neighbor_advert(mac, vlan, target, dst, eth_dst, flags),
            kind: TxKind::Originated,
        });
        self.counters.event(Event::NeighborAdvertised);
        Ok(())
    }

    /// RFC 4861 7.2.5: an advertisement updates only a neighbour we
    /// have an entry for; solicited ones confirm reachability, override
    /// replaces the link address, a disagreeing non-override one only
    /// makes the entry STALE.
    fn na_input(
        &mut self,
        frame: &[u8],
        pd: &Pdesc,
        eth_src: MacAddr,
        ifindex: u32,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> Result<(), Drop> {
        let (m, target) = Self::nd_body(frame, pd)?;
        let flags = be32(m, 4);
        let solicited = flags & na_flag::SOLICITED != 0;
        let over = flags & na_flag::OVERRIDE != 0;
        if solicited && matches!(pd.dst_ip(), IpAddr::V6(d) if d.is_multicast()) {
            return Err(Drop::Malformed);
        }
        let tll = lladdr_option(
            m.get(icmpv6::ADDR_BODY_LEN..).unwrap_or(&[]),
            opt::TARGET_LLADDR,
        )
        .ok_or(Drop::Malformed)?;
        let ifc = self.ifaces.get(ifindex).ok_or(Drop::UnknownInterface)?;
        if ifc.vips.iter().any(|v| v.addr == IpAddr::V6(target)) {
            return Err(Drop::NotForUs);
        }
        if ifc.owns(IpAddr::V6(target)) {
            return Err(if eth_src == ifc.mac {
                Drop::Looped
            } else {
                Drop::DuplicateAddress
            });
        }
        let t = IpAddr::V6(target);
        let how = if solicited {
            Learn::Reachable
        } else {
            Learn::Stale
        };
        let known = match self.neighbors.state(ifindex, t) {
            None => return Err(Drop::NotForUs),
            Some(State::Incomplete { .. }) | Some(State::Failed { .. }) => None,
            // a configured entry is not the wire's to change
            Some(State::Static { .. }) => return Ok(()),
            Some(
                State::Reachable { mac, .. }
                | State::Stale { mac, .. }
                | State::Delay { mac, .. }
                | State::Probe { mac, .. },
            ) => Some(*mac),
        };
        let new = match (known, tll) {
            // resolving: only an advertisement that says where counts
            (None, Some(l)) => l,
            (None, None) => return Err(Drop::Malformed),
            (Some(k), None) => k,
            (Some(k), Some(l)) if l == k || over => l,
            (Some(_), Some(_)) => {
                self.neighbors.mark_stale(ifindex, t, now);
                return Ok(());
            }
        };
        if new[0] & 1 != 0 {
            return Err(Drop::Martian);
        }
        if known == Some(new) && !solicited {
            return Ok(());
        }
        let rel = self.neighbors.learn(ifindex, t, new, how, false, now);
        self.release(ifindex, new, rel, tx);
        Ok(())
    }

    /// `icmp_reflect`: the reply goes from the address pinged back to
    /// the sender with TTL 255; IP options are not reflected (the
    /// kernel reflects record-route and timestamp; pf blocks options
    /// unless `allow-opts`).
    fn echo4_input(
        &mut self,
        frame: &[u8],
        pd: &Pdesc,
        ifindex: u32,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> Result<(), Drop> {
        let IpAddr::V4(dst) = pd.dst_ip() else {
            return Err(Drop::Malformed);
        };
        let IpAddr::V4(src) = pd.src_ip() else {
            return Err(Drop::Malformed);
        };
        if super::node::martian_v4(src) || self.ifaces.iter().any(|i| i.is_broadcast(src)) {
            return Err(Drop::Martian);
        }
        let l3 = usize::from(pd.l3_off);
        let ip = frame
            .get(l3..l3 + usize::from(pd.ip_len))
            .ok_or(Drop::Malformed)?;
        let p = Ipv4Packet::new_checked(ip).map_err(|_| Drop::Malformed)?;
        if !p.verify_checksum() {
            return Err(Drop::BadChecksum);
        }
        let req = IcmpPacket::new_checked(p.payload()).map_err(|_| Drop::Malformed)?;
        if !req.verify_checksum() {
            return Err(Drop::BadChecksum);
        }
        let body = p.payload();
        let r = Ipv4Repr {
            src: dst,
            dst: src,
            protocol: proto::ICMP,
            tos: p.tos(),
            ttl: REPLY_TTL,
            ident: self.next_ident,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
            payload_len: u16::try_from(body.len()).map_err(|_| Drop::Malformed)?,
            options: Ipv4Options::default(),
        };
        self.next_ident = self.next_ident.wrapping_add(1);
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut out);
        let m = out.get_mut(r.header_len()..).ok_or(Drop::Malformed)?;
        m.copy_from_slice(body);
        let mut ic = IcmpPacket::new_unchecked(m);
        ic.set_msg_type(icmp::ty::ECHOREPLY);
        ic.fill_checksum();
        self.counters.event(Event::EchoReplied);
        self.send_own(out, Some(ifindex), now, tx);
        Ok(())
    }

    fn echo6_input(
        &mut self,
        frame: &[u8],
        pd: &Pdesc,
        ifindex: u32,
        now: u64,
        tx: &mut Vec<Tx>,
    ) -> Result<(), Drop> {
        let IpAddr::V6(dst) = pd.dst_ip() else {
            return Err(Drop::Malformed);
        };
        let IpAddr::V6(src) = pd.src_ip() else {
            return Err(Drop::Malformed);
        };
        // Multicast echo would need a source address choice per group;
        // only unicast is answered.
        if dst.is_multicast() {
            return Err(Drop::LocalUnhandled);
        }
        if src.is_multicast() || src.is_unspecified() || src.is_loopback() {
            return Err(Drop::Martian);
        }
        if !verify_l4_checksum(frame, pd) {
            return Err(Drop::BadChecksum);
        }
        let l4 = usize::from(pd.l4_off);
        let end = usize::from(pd.l3_off) + usize::from(pd.ip_len);
        let body = frame.get(l4..end).ok_or(Drop::Malformed)?;
        let r = Ipv6Repr {
            src: dst,
            dst: src,
            next_header: proto::ICMPV6,
            payload_len: u16::try_from(body.len()).map_err(|_| Drop::Malformed)?,
            hop_limit: REPLY_HLIM,
            traffic_class: 0,
            flow_label: 0,
        };
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut out);
        let m = out.get_mut(ipv6::HEADER_LEN..).ok_or(Drop::Malformed)?;
        m.copy_from_slice(body);
        let mut ic = Icmpv6Packet::new_unchecked(m);
        ic.set_msg_type(icmpv6::ty::ECHO_REPLY);
        ic.fill_checksum(dst, src);
        self.counters.event(Event::EchoReplied);
        // A link-local sender is answered on the link it came from.
        self.send_own(out, Some(ifindex), now, tx);
        Ok(())
    }

    /// Nothing listens on the router's addresses but echo and ND, so it
    /// answers as a host with no such socket does: TCP with a reset
    /// (`tcp_respond` from `tcp_input`'s drop-with-reset), UDP with port
    /// unreachable (`udp_input`), other IPv4 protocols with protocol
    /// unreachable (`rip_input`); all rate limited like ICMP errors.
    /// IPv6 other than TCP/UDP gets nothing (the kernel's parameter
    /// problem pointing at the next header is not built here). CARP and
    /// pfsync are the daemon's to take before this.
    fn closed_port(&mut self, frame: &[u8], pd: &Pdesc, ifindex: u32, now: u64, tx: &mut Vec<Tx>) {
        match (pd.proto, pd.af) {
            (proto::TCP, _) => {
                let Some(rst) = crate::wire::build::tcp_rst_for(frame, pd) else {
                    return;
                };
                if !self.icmp_error_allowed(now) {
                    return;
                }
                self.counters.event(Event::ResetSent);
                self.send_own(rst, Some(ifindex), now, tx);
            }
            (proto::UDP, Af::Inet) => {
                self.send_icmp_error(
                    frame,
                    pd,
                    ifindex,
                    icmp::ty::UNREACH,
                    icmp::unreach::PORT,
                    None,
                    now,
                    tx,
                );
            }
            (proto::UDP, Af::Inet6) => {
                self.send_icmp_error(
                    frame,
                    pd,
                    ifindex,
                    icmpv6::ty::DST_UNREACH,
                    icmpv6::unreach::NOPORT,
                    None,
                    now,
                    tx,
                );
            }
            (_, Af::Inet) => {
                self.send_icmp_error(
                    frame,
                    pd,
                    ifindex,
                    icmp::ty::UNREACH,
                    icmp::unreach::PROTOCOL,
                    None,
                    now,
                    tx,
                );
            }
            (_, Af::Inet6) => {}
        }
    }

    /// An MLD query (RFC 3810 6.1, 5.1.15): from a link-local address,
    /// hop limit 1. A general query is answered with every group, a
    /// group-specific one with that group if it is ours. Answered at
    /// once rather than after a random delay: one router's few records
    /// do not need spreading. MLDv1 queriers get MLDv2 reports too (no
    /// compatibility mode).
    fn mld_query_input(
        &mut self,
        frame: &[u8],
        pd: &Pdesc,
        ifindex: u32,
        tx: &mut Vec<Tx>,
    ) -> Result<(), Drop> {
        let IpAddr::V6(src) = pd.src_ip() else {
            return Err(Drop::Malformed);
        };
        if pd.ttl != 1 || !super::iface::is_link_local6(src) {
            return Err(Drop::Malformed);
        }
        if !verify_l4_checksum(frame, pd) {
            return Err(Drop::BadChecksum);
        }
        let end = usize::from(pd.l3_off) + usize::from(pd.ip_len);
        let m = frame
            .get(usize::from(pd.l4_off)..end)
            .ok_or(Drop::Malformed)?;
        let group = Icmpv6Packet::new_checked(m)
            .map_err(|_| Drop::Malformed)?
            .body_addr()
            .ok_or(Drop::Malformed)?;
        let ifc = self.ifaces.get(ifindex).ok_or(Drop::UnknownInterface)?;
        let mut groups = Self::mld_groups(ifc);
        if !group.is_unspecified() {
            if !groups.contains(&group) {
                return Err(Drop::NotForUs);
            }
            groups = vec![group];
        }
        tx.extend(Self::mld_tx(
            ifc,
            &groups,
            super::mld::rtype::MODE_IS_EXCLUDE,
        ));
        Ok(())
    }
}
