//! The link-layer messages the router writes: ARP requests and replies
//! (RFC 826), neighbour solicitations and advertisements (RFC 4861 4.3,
//! 4.4), and the reading of ND's link-layer address options.

use crate::pdesc::proto;
use crate::wire::arp::{self, ArpRepr};
use crate::wire::ethernet::{ethertype, EthernetRepr, MacAddr};
use crate::wire::icmpv6::{self, Icmpv6Packet, Icmpv6Repr};
use crate::wire::ipv6::{self, Ipv6Repr};
use std::net::{Ipv4Addr, Ipv6Addr};

pub const BROADCAST_MAC: MacAddr = [0xff; 6];
/// RFC 4861: every ND message is sent and must be received with hop
/// limit 255, proving it did not cross a router.
pub const ND_HOP_LIMIT: u8 = 255;

/// NA flags (RFC 4861 4.4), in the second word of the header.
pub mod na_flag {
    pub const ROUTER: u32 = 0x8000_0000;
    pub const SOLICITED: u32 = 0x4000_0000;
    pub const OVERRIDE: u32 = 0x2000_0000;
}

/// ND option types.
pub mod opt {
    pub const SOURCE_LLADDR: u8 = 1;
    pub const TARGET_LLADDR: u8 = 2;
}

/// ff02::1, all nodes.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// The solicited-node multicast group of `a` (RFC 4291 2.7.1).
pub fn solicited_node(a: Ipv6Addr) -> Ipv6Addr {
    let o = a.octets();
    Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(o[13]),
        u16::from_be_bytes([o[14], o[15]]),
    )
}

/// The Ethernet group address of an IPv6 multicast (RFC 2464 7).
pub fn multicast_mac(a: Ipv6Addr) -> MacAddr {
    let o = a.octets();
    [0x33, 0x33, o[12], o[13], o[14], o[15]]
}

fn eth(src: MacAddr, dst: MacAddr, vlan: Option<u16>, et: u16, body: &[u8]) -> Vec<u8> {
    let r = EthernetRepr {
        src,
        dst,
        vlan_tci: vlan.map(|v| v & 0x0fff),
        ethertype: et,
    };
    let mut out = vec![0u8; r.buffer_len() + body.len()];
    r.emit(&mut out);
    if let Some(s) = out.get_mut(r.buffer_len()..) {
        s.copy_from_slice(body);
    }
    out
}

/// An ARP frame. `eth_dst` is broadcast for requests and announcements,
/// the asker for replies, the cached address for unicast probes.
pub fn arp_frame(eth_dst: MacAddr, vlan: Option<u16>, a: &ArpRepr) -> Vec<u8> {
    let mut body = [0u8; arp::PACKET_LEN];
    a.emit(&mut body);
    eth(a.sender_hw, eth_dst, vlan, ethertype::ARP, &body)
}

/// An ARP request for `target` from `mac`/`ip`; gratuitous when
/// `target == ip`.
pub fn arp_request(
    mac: MacAddr,
    ip: Ipv4Addr,
    target: Ipv4Addr,
    eth_dst: MacAddr,
    vlan: Option<u16>,
) -> Vec<u8> {
    arp_frame(
        eth_dst,
        vlan,
        &ArpRepr {
            operation: arp::op::REQUEST,
            sender_hw: mac,
            sender_ip: ip,
            target_hw: [0; 6],
            target_ip: target,
        },
    )
}

/// An ND message: IPv6 header (hop limit 255), ICMPv6 header with
/// `rest`, the target address and one link-layer address option.
#[allow(clippy::too_many_arguments)]
fn nd_frame(
    src_mac: MacAddr,
    eth_dst: MacAddr,
    vlan: Option<u16>,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    msg_type: u8,
    rest: u32,
    target: Ipv6Addr,
    option: Option<(u8, MacAddr)>,
) -> Vec<u8> {
    let ilen = icmpv6::ADDR_BODY_LEN + if option.is_some() { 8 } else { 0 };
    let ip = Ipv6Repr {
        src,
        dst,
        next_header: proto::ICMPV6,
        // At most 32 bytes.
        payload_len: ilen as u16,
        hop_limit: ND_HOP_LIMIT,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut pkt = vec![0u8; ipv6::HEADER_LEN + ilen];
    ip.emit(&mut pkt);
    if let Some(m) = pkt.get_mut(ipv6::HEADER_LEN..) {
        Icmpv6Repr {
            msg_type,
            code: 0,
            rest,
        }
        .emit(m);
        if let Some(t) = m.get_mut(8..24) {
            t.copy_from_slice(&target.octets());
        }
        if let (Some((ty, mac)), Some(o)) = (option, m.get_mut(24..32)) {
            o[0] = ty;
            o[1] = 1;
            o[2..].copy_from_slice(&mac);
        }
        Icmpv6Packet::new_unchecked(m).fill_checksum(src, dst);
    }
    eth(src_mac, eth_dst, vlan, ethertype::IPV6, &pkt)
}

/// A neighbour solicitation for `target`: multicast to its
/// solicited-node group, or unicast to `unicast` (a reachability probe).
pub fn neighbor_solicit(
    mac: MacAddr,
    vlan: Option<u16>,
    src: Ipv6Addr,
    target: Ipv6Addr,
    unicast: Option<MacAddr>,
) -> Vec<u8> {
    let (dst, eth_dst) = match unicast {
        Some(m) => (target, m),
        None => {
            let g = solicited_node(target);
            (g, multicast_mac(g))
        }
    };
    nd_frame(
        mac,
        eth_dst,
        vlan,
        src,
        dst,
        icmpv6::ty::NEIGHBOR_SOLICIT,
        0,
        target,
        Some((opt::SOURCE_LLADDR, mac)),
    )
}

/// A neighbour advertisement for `target` (ours) from `target`, with the
/// router flag and a target link-layer address option.
pub fn neighbor_advert(
    mac: MacAddr,
    vlan: Option<u16>,
    target: Ipv6Addr,
    dst: Ipv6Addr,
    eth_dst: MacAddr,
    flags: u32,
) -> Vec<u8> {
    nd_frame(
        mac,
        eth_dst,
        vlan,
        target,
        dst,
        icmpv6::ty::NEIGHBOR_ADVERT,
        flags,
        target,
        Some((opt::TARGET_LLADDR, mac)),
    )
}

/// The link-layer address options of an NS/NA body (after the 24-byte
/// fixed part). `None` when an option has length 0 or runs past the
/// end: RFC 4861 says to drop such a message.
pub fn lladdr_option(opts: &[u8], want: u8) -> Option<Option<MacAddr>> {
    let mut found = None;
    let mut off = 0usize;
    while off < opts.len() {
        let ty = *opts.get(off)?;
        let len = usize::from(*opts.get(off + 1)?) * 8;
        if len == 0 {
            return None;
        }
        let o = opts.get(off..off.checked_add(len)?)?;
        if ty == want && len == 8 && found.is_none() {
            let mut m = [0u8; 6];
            m.copy_from_slice(o.get(2..8)?);
            found = Some(m);
        }
        off += len;
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solicited_node_group() {
        let a: Ipv6Addr = "2001:db8::1234:5678".parse().unwrap();
        assert_eq!(
            solicited_node(a),
            "ff02::1:ff34:5678".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(
            multicast_mac(solicited_node(a)),
            [0x33, 0x33, 0xff, 0x34, 0x56, 0x78]
        );
    }

    #[test]
    fn options() {
        let o = [1, 1, 2, 0, 0, 0, 0, 9, 2, 1, 2, 0, 0, 0, 0, 8];
        assert_eq!(
            lladdr_option(&o, opt::SOURCE_LLADDR),
            Some(Some([2, 0, 0, 0, 0, 9]))
        );
        assert_eq!(
            lladdr_option(&o, opt::TARGET_LLADDR),
            Some(Some([2, 0, 0, 0, 0, 8]))
        );
        assert_eq!(lladdr_option(&o[..8], opt::TARGET_LLADDR), Some(None));
        assert_eq!(lladdr_option(&[1, 0, 0, 0, 0, 0, 0, 0], 1), None);
        assert_eq!(lladdr_option(&[1, 2, 0, 0, 0, 0, 0, 0], 1), None);
        assert_eq!(lladdr_option(&[1], 1), None);
        assert_eq!(lladdr_option(&[], 1), Some(None));
    }
}
