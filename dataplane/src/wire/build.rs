//! The packets pf sends itself: any TCP segment ([`tcp_segment`], pf's
//! `pf_send_tcp`: resets for `return-rst`, synproxy's handshakes) and
//! ICMP errors (`pf_send_icmp`, which hands the packet to the kernel's
//! `icmp_error` / `icmp6_error`). Each builder returns a complete IP
//! packet; [`ethernet_wrap`] puts it in a frame.

use super::ethernet::{ethertype, EthernetRepr, MacAddr};
use super::frame::verify_l4_checksum;
use super::icmp::{self, IcmpPacket, IcmpRepr};
use super::icmpv6::{self, Icmpv6Packet, Icmpv6Repr};
use super::ipv4::{Ipv4Options, Ipv4Repr};
use super::ipv6::Ipv6Repr;
use super::tcp::{TcpOptions, TcpPacket, TcpRepr};
use crate::pdesc::{key_to_ip, proto, tcp_flags, AddrKey, Pdesc};
use ruleset::addr::Af;
use std::net::IpAddr;

/// The kernel's `ip_defttl` and `ip6_defhlim`.
pub const DEFAULT_TTL: u8 = 64;
/// `MAXTTL`: what `icmp_reflect` puts on ICMP errors.
const ICMP_ERROR_TTL: u8 = 255;
/// `IPTOS_LOWDELAY`, the TOS of pf's generated TCP segments.
const IPTOS_LOWDELAY: u8 = 0x10;
/// `IPV6_MMTU`: an ICMPv6 error is cut to fit the minimum MTU.
const IPV6_MMTU: usize = 1280;

/// One TCP segment as pf's `pf_send_tcp` builds it (`pf_build_tcp`):
/// no payload, IPv4 TOS `IPTOS_LOWDELAY` with DF set (path MTU
/// discovery is on by default) and ident 0, IPv6 traffic class 0 and
/// hop limit 64 whatever `ttl` says, as `pf_build_tcp` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSegment {
    pub af: Af,
    pub src: AddrKey,
    pub dst: AddrKey,
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    /// TCP flags byte (`crate::pdesc::tcp_flags`).
    pub flags: u8,
    pub win: u16,
    /// The MSS option, the only option pf ever puts on its segments.
    pub mss: Option<u16>,
    /// IPv4 TTL; 0 means the kernel's default of 64.
    pub ttl: u8,
}

fn ip_of(af: Af, k: AddrKey) -> IpAddr {
    key_to_ip(af, k)
}

/// The complete IP packet for `s`, checksums filled.
pub fn tcp_segment(s: &TcpSegment) -> Vec<u8> {
    let tr = TcpRepr {
        src_port: s.sport,
        dst_port: s.dport,
        seq: s.seq,
        ack: s.ack,
        flags: s.flags,
        window: s.win,
        urgent: 0,
        options: TcpOptions {
            mss: s.mss,
            ..TcpOptions::default()
        },
    };
    let tlen = tr.buffer_len();
    let (src, dst) = (ip_of(s.af, s.src), ip_of(s.af, s.dst));
    let (mut out, l4) = match (src, dst) {
        (IpAddr::V4(sa), IpAddr::V4(da)) => {
            let ir = Ipv4Repr {
                src: sa,
                dst: da,
                protocol: proto::TCP,
                tos: IPTOS_LOWDELAY,
                ttl: if s.ttl == 0 { DEFAULT_TTL } else { s.ttl },
                ident: 0,
                dont_frag: true,
                more_frags: false,
                frag_offset: 0,
                payload_len: tlen as u16,
                options: Ipv4Options::default(),
            };
            let mut b = vec![0u8; ir.buffer_len()];
            ir.emit(&mut b);
            (b, ir.header_len())
        }
        _ => {
            let v6 = |a: IpAddr| match a {
                IpAddr::V6(a) => a,
                IpAddr::V4(a) => a.to_ipv6_mapped(),
            };
            let ir = Ipv6Repr {
                src: v6(src),
                dst: v6(dst),
                next_header: proto::TCP,
                payload_len: tlen as u16,
                hop_limit: DEFAULT_TTL,
                traffic_class: 0,
                flow_label: 0,
            };
            let mut b = vec![0u8; ir.buffer_len()];
            ir.emit(&mut b);
            (b, super::ipv6::HEADER_LEN)
        }
    };
    if let Some(seg) = out.get_mut(l4..) {
        tr.emit(seg);
        TcpPacket::new_unchecked(seg).fill_checksum(src, dst);
    }
    out
}

/// The reset pf answers a blocked TCP segment with, TTL 64 (the rule's
/// `return-ttl` is [`tcp_rst_with_ttl`]).
pub fn tcp_rst_for(frame: &[u8], pd: &Pdesc) -> Option<Vec<u8>> {
    tcp_rst_with_ttl(frame, pd, 0)
}

/// pf's return-rst: from the segment's destination back to its source,
/// `seq` = the segment's ack, `ack` = its seq plus its length (plus one
/// each for SYN and FIN), flags RST|ACK, window 0, no options. pf sends
/// RST|ACK even when the offending segment carried ACK: `pf_test_rule`
/// does not follow RFC 9293's "no ACK on a reset answering an ACK".
///
/// `ttl` 0 means the default of 64; IPv6 always uses hop limit 64, as
/// pf's `pf_build_tcp` does. `None` for anything pf does not answer: not
/// TCP, a fragment, a segment that is itself a reset, or one whose
/// checksum is wrong (pf counts that as `proto-cksum` instead).
pub fn tcp_rst_with_ttl(frame: &[u8], pd: &Pdesc, ttl: u8) -> Option<Vec<u8>> {
    let t = pd.tcp?;
    if pd.proto != proto::TCP || pd.fragment || t.flags & tcp_flags::RST != 0 {
        return None;
    }
    if !verify_l4_checksum(frame, pd) {
        return None;
    }
    let mut ack = t.seq.wrapping_add(u32::from(t.data_len));
    if t.flags & tcp_flags::SYN != 0 {
        ack = ack.wrapping_add(1);
    }
    if t.flags & tcp_flags::FIN != 0 {
        ack = ack.wrapping_add(1);
    }
    Some(tcp_segment(&TcpSegment {
        af: pd.af,
        src: pd.dst,
        dst: pd.src,
        sport: pd.dport,
        dport: pd.sport,
        seq: t.ack,
        ack,
        flags: tcp_flags::RST | tcp_flags::ACK,
        win: 0,
        mss: None,
        ttl,
    }))
}

/// The ICMP (IPv4) or ICMPv6 error the kernel sends for `pf_send_icmp`,
/// from the offending packet's destination back to its source.
///
/// IPv4 (`icmp_do_error`, `icmp_reflect`): quotes the offending IP
/// header with its options plus the first 8 bytes after it; TTL 255, TOS
/// 0, no DF. For a parameter problem `code` is the pointer and the code
/// sent is 0. Nothing is sent for a later fragment, for an ICMP error
/// (only queries and replies are answered, and redirects), for a
/// multicast or broadcast destination, or for a source that cannot be
/// answered (0/8, multicast, 240/4).
///
/// IPv6 (`icmp6_error`): quotes as much of the packet as keeps the error
/// within the minimum MTU of 1280 bytes; hop limit 64. Nothing is sent
/// for an ICMPv6 error or redirect, for a multicast destination (except
/// packet-too-big and parameter problem code 2, which the kernel sends
/// from an interface address this layer does not know: not sent here),
/// or for an unspecified or multicast source.
pub fn icmp_error_for(frame: &[u8], pd: &Pdesc, icmp_type: u8, code: u8) -> Option<Vec<u8>> {
    let l3 = usize::from(pd.l3_off);
    let orig = frame.get(l3..l3 + usize::from(pd.ip_len))?;
    match pd.af {
        Af::Inet => icmp4_error(orig, icmp_type, code),
        Af::Inet6 => icmp6_error(orig, pd, icmp_type, code),
    }
}

fn icmp4_error(orig: &[u8], icmp_type: u8, code: u8) -> Option<Vec<u8>> {
    let o = super::ipv4::Ipv4Packet::new_checked(orig).ok()?;
    if o.frag_offset() != 0 {
        return None;
    }
    let ohl = o.header_len();
    if o.protocol() == proto::ICMP && icmp_type != icmp::ty::REDIRECT {
        if let Some(&t) = orig.get(ohl) {
            if !icmp::is_info(t) {
                return None;
            }
        }
    }
    let (src, dst) = (o.dst_addr(), o.src_addr());
    if src.is_multicast() || src.is_broadcast() {
        return None;
    }
    let d = dst.octets()[0];
    if d == 0 || dst.is_multicast() || d >= 240 {
        return None;
    }
    let qlen = (ohl + 8.min(usize::from(o.total_len()))).min(orig.len());
    let quote = orig.get(..qlen)?;
    let (ty, code, rest) = if icmp_type == icmp::ty::PARAMPROB {
        (icmp_type, 0, u32::from(code) << 24)
    } else {
        (icmp_type, code, 0)
    };
    let ir = IcmpRepr {
        msg_type: ty,
        code,
        rest,
    };
    let mlen = ir.buffer_len() + quote.len();
    let ipr = Ipv4Repr {
        src,
        dst,
        protocol: proto::ICMP,
        tos: 0,
        ttl: ICMP_ERROR_TTL,
        ident: 0,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        payload_len: u16::try_from(mlen).ok()?,
        options: Ipv4Options::default(),
    };
    let mut out = vec![0u8; ipr.buffer_len()];
    ipr.emit(&mut out);
    let msg = out.get_mut(ipr.header_len()..)?;
    ir.emit(msg);
    msg.get_mut(icmp::HEADER_LEN..)?.copy_from_slice(quote);
    IcmpPacket::new_unchecked(msg).fill_checksum();
    Some(out)
}

fn icmp6_error(orig: &[u8], pd: &Pdesc, icmp_type: u8, code: u8) -> Option<Vec<u8>> {
    let o = super::ipv6::Ipv6Packet::new_checked(orig).ok()?;
    if pd.proto == proto::ICMPV6 && !pd.fragment {
        if let Some(t) = pd.icmp_type {
            if t < icmpv6::ty::ECHO_REQUEST || t == icmpv6::ty::REDIRECT {
                return None;
            }
        }
    }
    let (src, dst) = (o.dst_addr(), o.src_addr());
    // The kernel answers packet-too-big and parameter problem code 2
    // even to a multicast destination, from an interface address; this
    // layer has no interface address to send from, so it sends nothing.
    if src.is_multicast() || dst.is_unspecified() || dst.is_multicast() {
        return None;
    }
    let room = IPV6_MMTU - super::ipv6::HEADER_LEN - icmpv6::HEADER_LEN;
    let quote = orig.get(..orig.len().min(room))?;
    let ir = Icmpv6Repr {
        msg_type: icmp_type,
        code,
        rest: 0,
    };
    let mlen = ir.buffer_len() + quote.len();
    let ipr = Ipv6Repr {
        src,
        dst,
        next_header: proto::ICMPV6,
        payload_len: u16::try_from(mlen).ok()?,
        hop_limit: DEFAULT_TTL,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut out = vec![0u8; ipr.buffer_len()];
    ipr.emit(&mut out);
    let msg = out.get_mut(super::ipv6::HEADER_LEN..)?;
    ir.emit(msg);
    msg.get_mut(icmpv6::HEADER_LEN..)?.copy_from_slice(quote);
    Icmpv6Packet::new_unchecked(msg).fill_checksum(src, dst);
    Some(out)
}

/// Put an IP packet in an Ethernet II frame, tagged with `vlan` (the
/// VLAN id; priority 0) if given. The EtherType follows the IP version.
pub fn ethernet_wrap(ip: &[u8], src_mac: MacAddr, dst_mac: MacAddr, vlan: Option<u16>) -> Vec<u8> {
    let et = match ip.first().map(|b| b >> 4) {
        Some(6) => ethertype::IPV6,
        _ => ethertype::IPV4,
    };
    let r = EthernetRepr {
        src: src_mac,
        dst: dst_mac,
        vlan_tci: vlan.map(|v| v & 0x0fff),
        ethertype: et,
    };
    let mut out = vec![0u8; r.buffer_len() + ip.len()];
    r.emit(&mut out);
    out[r.buffer_len()..].copy_from_slice(ip);
    out
}

#[cfg(test)]
#[path = "build_tests.rs"]
mod tests;
