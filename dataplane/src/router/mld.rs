//! Multicast listener reports (MLDv2, RFC 3810) for the groups the
//! router must be in on each link (RFC 4861 7.2.1: the solicited-node
//! group of every address; RFC 4291 2.8: all-routers): a switch that
//! snoops MLD forwards neighbour solicitations only to ports that
//! reported the group.

use super::iface::Interface;
use super::ndp;
use super::node::{Router, Tx, TxKind};
use crate::pdesc::proto;
use crate::wire::ethernet::{ethertype, EthernetRepr, MacAddr};
use crate::wire::icmpv6::Icmpv6Packet;
use crate::wire::ipv6::{self, Ipv6Repr};
use std::net::IpAddr;
use std::net::Ipv6Addr;

/// ff02::16, where MLDv2 reports go.
pub const ALL_MLDV2_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x16);
/// ff02::2, all routers.
pub const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);

/// Multicast address record types (RFC 3810 5.2.12).
pub mod rtype {
    /// Answer to a query: listening, no source filter.
    pub const MODE_IS_EXCLUDE: u8 = 2;
    /// State change: leaving (include nothing).
    pub const CHANGE_TO_INCLUDE: u8 = 3;
    /// State change: joining.
    pub const CHANGE_TO_EXCLUDE: u8 = 4;
}

/// ICMPv6 type of an MLDv2 report.
pub const REPORT_V2: u8 = 143;
const RECORD_LEN: usize = 20;
/// Hop-by-hop header with the router alert option for MLD (value 0)
/// and two bytes of padding; next header ICMPv6.
const HBH_ROUTER_ALERT: [u8; 8] = [proto::ICMPV6, 0, 5, 2, 0, 0, 1, 0];
/// Records that fit one report within the IPv6 minimum MTU.
pub const MAX_RECORDS: usize = (1280 - ipv6::HEADER_LEN - 8 - 8) / RECORD_LEN;

/// MLDv2 reports from `src` (a link-local address) listing `groups`
/// with record type `rtype`, split so each fits 1280 bytes.
pub fn reports(
    mac: MacAddr,
    vlan: Option<u16>,
    src: Ipv6Addr,
    groups: &[Ipv6Addr],
    rtype: u8,
) -> Vec<Vec<u8>> {
    groups
        .chunks(MAX_RECORDS)
        .map(|chunk| report(mac, vlan, src, chunk, rtype))
        .collect()
}

fn report(
    mac: MacAddr,
    vlan: Option<u16>,
    src: Ipv6Addr,
    groups: &[Ipv6Addr],
    rtype: u8,
) -> Vec<u8> {
    let mlen = 8 + groups.len() * RECORD_LEN;
    let mut msg = vec![0u8; mlen];
    msg[0] = REPORT_V2;
    // At most MAX_RECORDS (60) records.
    msg[6..8].copy_from_slice(&(groups.len() as u16).to_be_bytes());
    for (i, g) in groups.iter().enumerate() {
        let r = &mut msg[8 + i * RECORD_LEN..8 + (i + 1) * RECORD_LEN];
        r[0] = rtype;
        r[4..].copy_from_slice(&g.octets());
    }
    Icmpv6Packet::new_unchecked(&mut msg[..]).fill_checksum(src, ALL_MLDV2_ROUTERS);
    let ip = Ipv6Repr {
        src,
        dst: ALL_MLDV2_ROUTERS,
        next_header: ipv6::nh::HOPOPTS,
        // At most 8 + 1232 bytes.
        payload_len: (HBH_ROUTER_ALERT.len() + mlen) as u16,
        // RFC 3810 5: link-local scope.
        hop_limit: 1,
        traffic_class: 0,
        flow_label: 0,
    };
    let eth = EthernetRepr {
        src: mac,
        dst: super::ndp::multicast_mac(ALL_MLDV2_ROUTERS),
        vlan_tci: vlan.map(|v| v & 0x0fff),
        ethertype: ethertype::IPV6,
    };
    let (el, il) = (eth.buffer_len(), ipv6::HEADER_LEN);
    let mut out = vec![0u8; el + il + HBH_ROUTER_ALERT.len() + mlen];
    eth.emit(&mut out);
    ip.emit(&mut out[el..]);
    out[el + il..el + il + HBH_ROUTER_ALERT.len()].copy_from_slice(&HBH_ROUTER_ALERT);
    out[el + il + HBH_ROUTER_ALERT.len()..].copy_from_slice(&msg);
    out
}

impl Router {
    /// The IPv6 groups the router listens to on `ifc` besides
    /// all-nodes (never reported): all-routers and the solicited-node
    /// group of each of its addresses, virtual ones while master.
    pub fn mld_groups(ifc: &Interface) -> Vec<Ipv6Addr> {
        let mut g = vec![ALL_ROUTERS, ndp::solicited_node(ifc.link_local)];
        g.extend(ifc.v6.iter().map(|a| ndp::solicited_node(a.addr)));
        g.extend(
            ifc.vips
                .iter()
                .filter(|v| v.master)
                .filter_map(|v| match v.addr {
                    IpAddr::V6(a) => Some(ndp::solicited_node(a)),
                    IpAddr::V4(_) => None,
                }),
        );
        g.sort_unstable();
        g.dedup();
        g
    }

    /// MLDv2 reports joining every group of [`Router::mld_groups`] on
    /// `ifindex` (link up, addresses configured).
    pub fn mld_join(&mut self, ifindex: u32) -> Vec<Tx> {
        let Some(ifc) = self.ifaces.get(ifindex) else {
            return Vec::new();
        };
        let groups = Self::mld_groups(ifc);
        Self::mld_tx(ifc, &groups, rtype::CHANGE_TO_EXCLUDE)
    }

    pub(crate) fn mld_tx(ifc: &Interface, groups: &[Ipv6Addr], rtype: u8) -> Vec<Tx> {
        if groups.is_empty() {
            return Vec::new();
        }
        reports(ifc.mac, ifc.vlan, ifc.link_local, groups, rtype)
            .into_iter()
            .map(|frame| Tx {
                ifindex: ifc.index,
                frame,
                kind: TxKind::Originated,
            })
            .collect()
    }
}
