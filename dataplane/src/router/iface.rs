//! The data interfaces the appliance owns: their link addresses, MTUs
//! and the IP addresses pfd answers for (the kernel holds none of them).

use crate::wire::ethernet::MacAddr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an interface or address could not be configured.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// Prefix longer than the family's address.
    BadPrefix {
        addr: IpAddr,
        prefix: u8,
    },
    /// An address that cannot be an interface's own (multicast,
    /// unspecified, broadcast, loopback).
    BadAddress(IpAddr),
    /// The address is already configured (on this or another interface).
    DuplicateAddress(IpAddr),
    DuplicateIndex(u32),
    DuplicateName(String),
    /// An MTU below what IPv4 (68) or IPv6 (1280) requires.
    BadMtu(u16),
    /// A multicast or all-zero MAC.
    BadMac(MacAddr),
    UnknownInterface(u32),
    /// A static route's gateway is on no connected network.
    GatewayUnreachable(IpAddr),
    /// Route destination and gateway of different families.
    FamilyMismatch,
    /// A route to this prefix exists already.
    DuplicateRoute {
        dst: IpAddr,
        prefix: u8,
    },
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::BadPrefix { addr, prefix } => write!(f, "{addr}/{prefix}: bad prefix"),
            ConfigError::BadAddress(a) => write!(f, "{a}: not usable as an interface address"),
            ConfigError::DuplicateAddress(a) => write!(f, "{a}: address already configured"),
            ConfigError::DuplicateIndex(i) => write!(f, "interface index {i} used twice"),
            ConfigError::DuplicateName(n) => write!(f, "interface {n} configured twice"),
            ConfigError::BadMtu(m) => write!(f, "mtu {m} too small"),
            ConfigError::BadMac(m) => write!(f, "{}: not a unicast MAC", fmt_mac(m)),
            ConfigError::UnknownInterface(i) => write!(f, "no interface with index {i}"),
            ConfigError::GatewayUnreachable(a) => {
                write!(f, "gateway {a} is on no connected network")
            }
            ConfigError::FamilyMismatch => f.write_str("route and gateway of different families"),
            ConfigError::DuplicateRoute { dst, prefix } => {
                write!(f, "{dst}/{prefix}: route exists")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

pub fn fmt_mac(m: &MacAddr) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

/// An IPv4 interface address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct V4Addr {
    pub addr: Ipv4Addr,
    pub prefix: u8,
}

impl V4Addr {
    pub fn mask(&self) -> u32 {
        prefix_mask32(self.prefix)
    }
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) & self.mask())
    }
    /// The directed broadcast; none on /31 and /32 (RFC 3021).
    pub fn broadcast(&self) -> Option<Ipv4Addr> {
        (self.prefix < 31).then(|| Ipv4Addr::from(u32::from(self.addr) | !self.mask()))
    }
    pub fn contains(&self, a: Ipv4Addr) -> bool {
        u32::from(a) & self.mask() == u32::from(self.addr) & self.mask()
    }
}

/// An IPv6 interface address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct V6Addr {
    pub addr: Ipv6Addr,
    pub prefix: u8,
}

impl V6Addr {
    pub fn contains(&self, a: Ipv6Addr) -> bool {
        let m = prefix_mask128(self.prefix);
        u128::from(a) & m == u128::from(self.addr) & m
    }
}

pub(crate) fn prefix_mask32(p: u8) -> u32 {
    match p {
        0 => 0,
        p if p >= 32 => u32::MAX,
        p => u32::MAX << (32 - u32::from(p)),
    }
}

pub(crate) fn prefix_mask128(p: u8) -> u128 {
    match p {
        0 => 0,
        p if p >= 128 => u128::MAX,
        p => u128::MAX << (128 - u32::from(p)),
    }
}

/// fe80::/64 with the modified EUI-64 interface identifier of `mac`
/// (RFC 4291 appendix A): flip the universal/local bit, put ff:fe in
/// the middle.
pub fn link_local_of(mac: MacAddr) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o[0] = 0xfe;
    o[1] = 0x80;
    o[8] = mac[0] ^ 0x02;
    o[9] = mac[1];
    o[10] = mac[2];
    o[11] = 0xff;
    o[12] = 0xfe;
    o[13] = mac[3];
    o[14] = mac[4];
    o[15] = mac[5];
    Ipv6Addr::from(o)
}

/// True for fe80::/10.
pub fn is_link_local6(a: Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

/// A CARP virtual address: answered for, with its virtual MAC, only
/// while this node is master for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vip {
    pub addr: IpAddr,
    pub prefix: u8,
    pub mac: MacAddr,
    pub master: bool,
}

impl Vip {
    fn contains(&self, a: IpAddr) -> bool {
        match (self.addr, a) {
            (IpAddr::V4(v), IpAddr::V4(x)) => V4Addr {
                addr: v,
                prefix: self.prefix,
            }
            .contains(x),
            (IpAddr::V6(v), IpAddr::V6(x)) => V6Addr {
                addr: v,
                prefix: self.prefix,
            }
            .contains(x),
            _ => false,
        }
    }
}

/// One data interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub index: u32,
    pub mac: MacAddr,
    pub mtu: u16,
    /// 802.1Q VLAN id frames leave with, for a VLAN interface.
    pub vlan: Option<u16>,
    pub v4: Vec<V4Addr>,
    /// Global (and ULA) addresses; the link-local one is separate.
    pub v6: Vec<V6Addr>,
    pub link_local: Ipv6Addr,
    /// CARP virtual addresses on this interface.
    pub vips: Vec<Vip>,
}

impl Interface {
    /// An interface with its EUI-64 link-local address and no others.
    pub fn new(name: &str, index: u32, mac: MacAddr, mtu: u16) -> Result<Self, ConfigError> {
        if mac[0] & 1 != 0 || mac == [0; 6] {
            return Err(ConfigError::BadMac(mac));
        }
        if mtu < 68 {
            return Err(ConfigError::BadMtu(mtu));
        }
        Ok(Interface {
            name: name.to_string(),
            index,
            mac,
            mtu,
            vlan: None,
            v4: Vec::new(),
            v6: Vec::new(),
            link_local: link_local_of(mac),
            vips: Vec::new(),
        })
    }

    /// The virtual address `a`, if this node is master for it here.
    pub fn master_vip(&self, a: IpAddr) -> Option<&Vip> {
        self.vips.iter().find(|v| v.master && v.addr == a)
    }

    /// Whether a frame to `mac` is for this interface: its own MAC or
    /// the virtual MAC of an address it is master for.
    pub fn accepts_mac(&self, mac: MacAddr) -> bool {
        mac == self.mac || self.vips.iter().any(|v| v.master && v.mac == mac)
    }

    /// The source MAC of a packet from `src`: the virtual one for a
    /// virtual address we are master for, else the interface's.
    pub fn mac_for_source(&self, src: IpAddr) -> MacAddr {
        self.master_vip(src).map_or(self.mac, |v| v.mac)
    }

    /// Whether `a` is one of this interface's own addresses (not
    /// counting virtual ones).
    pub fn owns(&self, a: IpAddr) -> bool {
        match a {
            IpAddr::V4(a) => self.v4.iter().any(|x| x.addr == a),
            IpAddr::V6(a) => a == self.link_local || self.v6.iter().any(|x| x.addr == a),
        }
    }

    /// Whether `a` is on one of this interface's networks.
    pub fn on_link(&self, a: IpAddr) -> bool {
        match a {
            IpAddr::V4(x) => {
                self.v4.iter().any(|n| n.contains(x)) || self.vips.iter().any(|v| v.contains(a))
            }
            IpAddr::V6(x) => {
                is_link_local6(x)
                    || self.v6.iter().any(|n| n.contains(x))
                    || self.vips.iter().any(|v| v.contains(a))
            }
        }
    }

    /// The address to send from towards `to`: one on the same network,
    /// else the first IPv4 address; for IPv6 the link-local address
    /// towards a link-local destination, else a global one (RFC 6724
    /// rule 2: matching scope), the link-local one only when the
    /// interface has no other.
    pub fn source_for(&self, to: IpAddr) -> Option<IpAddr> {
        match to {
            IpAddr::V4(t) => self
                .v4
                .iter()
                .find(|x| x.contains(t))
                .or_else(|| self.v4.first())
                .map(|x| IpAddr::V4(x.addr)),
            IpAddr::V6(t) if is_link_local6(t) => Some(IpAddr::V6(self.link_local)),
            IpAddr::V6(t) => Some(IpAddr::V6(
                self.v6
                    .iter()
                    .find(|x| x.contains(t))
                    .or_else(|| self.v6.first())
                    .map_or(self.link_local, |x| x.addr),
            )),
        }
    }

    /// Whether `a` is the directed broadcast of one of our networks.
    pub fn is_broadcast(&self, a: Ipv4Addr) -> bool {
        a == Ipv4Addr::BROADCAST || self.v4.iter().any(|x| x.broadcast() == Some(a))
    }
}

/// All data interfaces, by index.
#[derive(Clone, Debug, Default)]
pub struct Interfaces {
    list: Vec<Interface>,
}

impl Interfaces {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, ifc: Interface) -> Result<(), ConfigError> {
        if self.get(ifc.index).is_some() {
            return Err(ConfigError::DuplicateIndex(ifc.index));
        }
        if self.list.iter().any(|i| i.name == ifc.name) {
            return Err(ConfigError::DuplicateName(ifc.name));
        }
        self.list.push(ifc);
        Ok(())
    }

    /// Add `addr/prefix` to interface `index`.
    pub fn add_addr(&mut self, index: u32, addr: IpAddr, prefix: u8) -> Result<(), ConfigError> {
        let bad = match addr {
            IpAddr::V4(a) => {
                a.is_multicast()
                    || a.is_unspecified()
                    || a.is_broadcast()
                    || a.is_loopback()
                    || prefix > 32
            }
            IpAddr::V6(a) => {
                a.is_multicast() || a.is_unspecified() || a.is_loopback() || prefix > 128
            }
        };
        if prefix > 128 || (addr.is_ipv4() && prefix > 32) {
            return Err(ConfigError::BadPrefix { addr, prefix });
        }
        if bad {
            return Err(ConfigError::BadAddress(addr));
        }
        if self.configured(addr) {
            return Err(ConfigError::DuplicateAddress(addr));
        }
        let ifc = self
            .list
            .iter_mut()
            .find(|i| i.index == index)
            .ok_or(ConfigError::UnknownInterface(index))?;
        match addr {
            IpAddr::V4(a) => ifc.v4.push(V4Addr { addr: a, prefix }),
            IpAddr::V6(a) if is_link_local6(a) => ifc.link_local = a,
            IpAddr::V6(a) => {
                if ifc.mtu < 1280 {
                    return Err(ConfigError::BadMtu(ifc.mtu));
                }
                ifc.v6.push(V6Addr { addr: a, prefix })
            }
        }
        Ok(())
    }

    /// Add CARP virtual address `addr/prefix` with virtual MAC `mac` to
    /// interface `index`, as backup (not answered until made master).
    pub fn add_vip(
        &mut self,
        index: u32,
        addr: IpAddr,
        prefix: u8,
        mac: MacAddr,
    ) -> Result<(), ConfigError> {
        if prefix > 128 || (addr.is_ipv4() && prefix > 32) {
            return Err(ConfigError::BadPrefix { addr, prefix });
        }
        if addr.is_multicast() || addr.is_unspecified() || addr.is_loopback() {
            return Err(ConfigError::BadAddress(addr));
        }
        if mac[0] & 1 != 0 || mac == [0; 6] {
            return Err(ConfigError::BadMac(mac));
        }
        if self.configured(addr) {
            return Err(ConfigError::DuplicateAddress(addr));
        }
        let ifc = self
            .list
            .iter_mut()
            .find(|i| i.index == index)
            .ok_or(ConfigError::UnknownInterface(index))?;
        ifc.vips.push(Vip {
            addr,
            prefix,
            mac,
            master: false,
        });
        Ok(())
    }

    /// CARP virtual address `addr` on interface `index`.
    fn vip_mut(&mut self, index: u32, addr: IpAddr) -> Result<&mut Vip, ConfigError> {
        self.list
            .iter_mut()
            .find(|i| i.index == index)
            .ok_or(ConfigError::UnknownInterface(index))?
            .vips
            .iter_mut()
            .find(|v| v.addr == addr)
            .ok_or(ConfigError::BadAddress(addr))
    }

    /// Make this node master (or backup) for virtual address `addr` on
    /// `index`. Returns whether anything changed.
    pub fn set_vip_master(
        &mut self,
        index: u32,
        addr: IpAddr,
        master: bool,
    ) -> Result<bool, ConfigError> {
        let v = self.vip_mut(index, addr)?;
        let changed = v.master != master;
        v.master = master;
        Ok(changed)
    }

    /// Give CARP virtual address `addr` on `index` a new virtual MAC
    /// (its carp interface's vhid or lladdr changed). Returns whether
    /// anything changed.
    pub fn set_vip_mac(
        &mut self,
        index: u32,
        addr: IpAddr,
        mac: MacAddr,
    ) -> Result<bool, ConfigError> {
        if mac[0] & 1 != 0 || mac == [0; 6] {
            return Err(ConfigError::BadMac(mac));
        }
        let v = self.vip_mut(index, addr)?;
        let changed = v.mac != mac;
        v.mac = mac;
        Ok(changed)
    }

    /// Whether `a` is configured anywhere, as an own or virtual address.
    pub fn configured(&self, a: IpAddr) -> bool {
        self.list
            .iter()
            .any(|i| i.owns(a) || i.vips.iter().any(|v| v.addr == a))
    }

    pub fn get(&self, index: u32) -> Option<&Interface> {
        self.list.iter().find(|i| i.index == index)
    }

    pub fn by_name(&self, name: &str) -> Option<&Interface> {
        self.list.iter().find(|i| i.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Interface> {
        self.list.iter()
    }

    /// The interface that owns `a`. A link-local address is only unique
    /// per link, so the first owner wins; callers that know the ingress
    /// interface ask it with [`Interface::owns`] instead.
    /// Virtual addresses count while we are master for them.
    pub fn owner_of(&self, a: IpAddr) -> Option<u32> {
        self.list
            .iter()
            .find(|i| i.owns(a) || i.master_vip(a).is_some())
            .map(|i| i.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: MacAddr = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

    #[test]
    fn eui64_link_local() {
        assert_eq!(
            link_local_of(MAC),
            "fe80::5054:ff:fe12:3456".parse::<Ipv6Addr>().unwrap()
        );
        assert!(is_link_local6(link_local_of(MAC)));
    }

    #[test]
    fn addresses_and_broadcast() {
        let mut ifs = Interfaces::new();
        ifs.add(Interface::new("em0", 1, MAC, 1500).unwrap())
            .unwrap();
        ifs.add_addr(1, "192.0.2.1".parse().unwrap(), 24).unwrap();
        ifs.add_addr(1, "10.9.9.1".parse().unwrap(), 31).unwrap();
        ifs.add_addr(1, "2001:db8::1".parse().unwrap(), 64).unwrap();
        let i = ifs.get(1).unwrap();
        assert_eq!(i.v4[0].broadcast(), Some(Ipv4Addr::new(192, 0, 2, 255)));
        assert_eq!(i.v4[1].broadcast(), None);
        assert!(i.is_broadcast(Ipv4Addr::new(192, 0, 2, 255)));
        assert!(!i.is_broadcast(Ipv4Addr::new(10, 9, 9, 1)));
        assert_eq!(ifs.owner_of("2001:db8::1".parse().unwrap()), Some(1));
        assert_eq!(ifs.owner_of("2001:db8::2".parse().unwrap()), None);
        assert!(i.on_link("2001:db8::77".parse().unwrap()));
        assert_eq!(
            i.source_for("192.0.2.9".parse().unwrap()),
            Some("192.0.2.1".parse().unwrap())
        );
        assert_eq!(
            i.source_for("fe80::9".parse().unwrap()),
            Some(IpAddr::V6(link_local_of(MAC)))
        );
    }

    #[test]
    fn config_errors() {
        let mut ifs = Interfaces::new();
        assert_eq!(
            Interface::new("x", 1, [1, 0, 0, 0, 0, 1], 1500).unwrap_err(),
            ConfigError::BadMac([1, 0, 0, 0, 0, 1])
        );
        assert_eq!(
            Interface::new("x", 1, MAC, 60).unwrap_err(),
            ConfigError::BadMtu(60)
        );
        ifs.add(Interface::new("em0", 1, MAC, 1500).unwrap())
            .unwrap();
        assert_eq!(
            ifs.add(Interface::new("em0", 2, MAC, 1500).unwrap()),
            Err(ConfigError::DuplicateName("em0".into()))
        );
        assert!(matches!(
            ifs.add_addr(1, "192.0.2.1".parse().unwrap(), 33),
            Err(ConfigError::BadPrefix { .. })
        ));
        assert!(matches!(
            ifs.add_addr(1, "224.0.0.1".parse().unwrap(), 24),
            Err(ConfigError::BadAddress(_))
        ));
        ifs.add_addr(1, "192.0.2.1".parse().unwrap(), 24).unwrap();
        assert!(matches!(
            ifs.add_addr(1, "192.0.2.1".parse().unwrap(), 24),
            Err(ConfigError::DuplicateAddress(_))
        ));
        assert_eq!(
            ifs.add_addr(9, "192.0.2.2".parse().unwrap(), 24),
            Err(ConfigError::UnknownInterface(9))
        );
    }
}
