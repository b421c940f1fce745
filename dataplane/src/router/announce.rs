//! What the router says about itself unasked: gratuitous ARP and
//! unsolicited neighbour advertisements (link up, CARP takeover), and
//! the CARP virtual addresses that need them.

use super::iface::ConfigError;
use super::mld;
use super::ndp;
use super::node::{Router, Tx, TxKind};
use super::route::NextHop;
use super::stats::Event;
use crate::wire::ethernet::MacAddr;
use std::net::IpAddr;

impl Router {
    /// Add a CARP virtual address (backup until made master). The
    /// connected routes are rebuilt; static routes are kept.
    pub fn add_vip(
        &mut self,
        ifindex: u32,
        addr: IpAddr,
        prefix: u8,
        mac: MacAddr,
    ) -> Result<(), ConfigError> {
        self.ifaces.add_vip(ifindex, addr, prefix, mac)?;
        let hop = NextHop {
            ifindex,
            gateway: None,
        };
        self.routes.add_connected(addr, prefix, hop);
        Ok(())
    }

    /// The carp interface of virtual address `addr` now answers with
    /// `mac` (`ifconfig carpN vhid M`): ARP/ND replies, announcements
    /// and the frames accepted as ours follow it.
    pub fn set_vip_mac(
        &mut self,
        ifindex: u32,
        addr: IpAddr,
        mac: MacAddr,
    ) -> Result<bool, ConfigError> {
        self.ifaces.set_vip_mac(ifindex, addr, mac)
    }

    /// CARP changed state for `addr`: as master the router answers ARP
    /// and ND for it with the virtual MAC and accepts frames to that
    /// MAC; becoming master returns the announcement to send (a
    /// gratuitous ARP or unsolicited NA from the virtual MAC), and for
    /// IPv6 the MLD report joining (or, as backup, leaving) the
    /// address's solicited-node group.
    pub fn set_vip_master(
        &mut self,
        ifindex: u32,
        addr: IpAddr,
        master: bool,
    ) -> Result<Vec<Tx>, ConfigError> {
        let (changed, mld_tx) = self.set_vip_state(ifindex, addr, master)?;
        let mac = self
            .ifaces
            .get(ifindex)
            .and_then(|i| i.vips.iter().find(|v| v.addr == addr))
            .map(|v| v.mac);
        let mut tx: Vec<Tx> = match (changed && master, mac) {
            (true, Some(m)) => self.announce(ifindex, addr, m).into_iter().collect(),
            _ => Vec::new(),
        };
        tx.extend(mld_tx);
        Ok(tx)
    }

    /// [`Router::set_vip_master`] without the announcement, for a
    /// caller that sends CARP's own (the carp crate says when): whether
    /// the state changed, and the MLD reports to send.
    pub fn set_vip_state(
        &mut self,
        ifindex: u32,
        addr: IpAddr,
        master: bool,
    ) -> Result<(bool, Vec<Tx>), ConfigError> {
        let before = self.ifaces.get(ifindex).map(Self::mld_groups);
        let changed = self.ifaces.set_vip_master(ifindex, addr, master)?;
        let mut mld_tx = Vec::new();
        if let (Some(before), Some(ifc)) = (before, self.ifaces.get(ifindex)) {
            let after = Self::mld_groups(ifc);
            let joined: Vec<_> = after
                .iter()
                .filter(|g| !before.contains(g))
                .copied()
                .collect();
            let left: Vec<_> = before
                .iter()
                .filter(|g| !after.contains(g))
                .copied()
                .collect();
            mld_tx.extend(Self::mld_tx(ifc, &joined, mld::rtype::CHANGE_TO_EXCLUDE));
            mld_tx.extend(Self::mld_tx(ifc, &left, mld::rtype::CHANGE_TO_INCLUDE));
        }
        Ok((changed, mld_tx))
    }

    /// Unsolicited announcements of `ip` at `mac` on `ifindex`: a
    /// gratuitous ARP request (sender and target both `ip`) or an
    /// unsolicited NA to all-nodes with override set. CARP sends these
    /// with its virtual MAC when it becomes master.
    pub fn announce(&mut self, ifindex: u32, ip: IpAddr, mac: MacAddr) -> Option<Tx> {
        let ifc = self.ifaces.get(ifindex)?;
        let (frame, kind) = match ip {
            IpAddr::V4(a) => {
                self.counters.event(Event::ArpRequested);
                let f = ndp::arp_request(mac, a, a, ndp::BROADCAST_MAC, ifc.vlan);
                (f, TxKind::Arp)
            }
            IpAddr::V6(a) => {
                self.counters.event(Event::NeighborAdvertised);
                let f = ndp::neighbor_advert(
                    mac,
                    ifc.vlan,
                    a,
                    ndp::ALL_NODES,
                    ndp::multicast_mac(ndp::ALL_NODES),
                    ndp::na_flag::ROUTER | ndp::na_flag::OVERRIDE,
                );
                (f, TxKind::Originated)
            }
        };
        Some(Tx {
            ifindex,
            frame,
            kind,
        })
    }

    /// [`Router::announce`] for every address of `ifindex` with the
    /// interface's own MAC (link up, address added).
    pub fn announce_all(&mut self, ifindex: u32) -> Vec<Tx> {
        let Some(ifc) = self.ifaces.get(ifindex) else {
            return Vec::new();
        };
        let mac = ifc.mac;
        let addrs: Vec<IpAddr> = ifc
            .v4
            .iter()
            .map(|a| IpAddr::V4(a.addr))
            .chain(std::iter::once(IpAddr::V6(ifc.link_local)))
            .chain(ifc.v6.iter().map(|a| IpAddr::V6(a.addr)))
            .collect();
        addrs
            .into_iter()
            .filter_map(|a| self.announce(ifindex, a, mac))
            .collect()
    }
}
