//! The routing table: connected networks from the interface addresses,
//! static routes and the default route (`mygate`), searched by longest
//! prefix. One table per family; each keeps one hash map per prefix
//! length in use, longest first, so a lookup costs one probe per
//! distinct length (a handful on a firewall) rather than a tree walk.

use super::iface::{is_link_local6, prefix_mask128, ConfigError, Interfaces};
use crate::pdesc::{addr_key, key_to_ip, AddrKey};
use hashbrown::HashMap;
use ruleset::addr::Af;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Where a packet goes next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NextHop {
    pub ifindex: u32,
    /// The router to hand it to; `None` when the destination is on the
    /// link itself.
    pub gateway: Option<IpAddr>,
}

impl NextHop {
    /// The address to resolve on the link for destination `dst`.
    pub fn neighbor(&self, dst: IpAddr) -> IpAddr {
        self.gateway.unwrap_or(dst)
    }
}

/// How a route got into the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    Connected,
    Static,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub af: Af,
    /// Network in [`AddrKey`] layout, host bits clear.
    pub dst: AddrKey,
    pub prefix: u8,
    pub hop: NextHop,
    pub origin: Origin,
}

impl Route {
    pub fn dst_ip(&self) -> IpAddr {
        key_to_ip(self.af, self.dst)
    }
}

#[derive(Clone, Debug, Default)]
struct FamilyTable {
    /// (prefix length, routes of that length by masked key), longest
    /// prefix first.
    by_len: Vec<(u8, HashMap<AddrKey, Route>)>,
}

impl FamilyTable {
    fn insert(&mut self, r: Route) -> Result<(), ConfigError> {
        let pos = match self.by_len.iter().position(|(l, _)| *l <= r.prefix) {
            Some(p) if self.by_len[p].0 == r.prefix => p,
            Some(p) => {
                self.by_len.insert(p, (r.prefix, HashMap::new()));
                p
            }
            None => {
                self.by_len.push((r.prefix, HashMap::new()));
                self.by_len.len() - 1
            }
        };
        let map = &mut self.by_len[pos].1;
        if map.contains_key(&r.dst) {
            return Err(ConfigError::DuplicateRoute {
                dst: r.dst_ip(),
                prefix: r.prefix,
            });
        }
        map.insert(r.dst, r);
        Ok(())
    }

    fn remove(&mut self, dst: AddrKey, prefix: u8) -> Option<Route> {
        let i = self.by_len.iter().position(|(l, _)| *l == prefix)?;
        let r = self.by_len[i].1.remove(&dst);
        if self.by_len[i].1.is_empty() {
            self.by_len.remove(i);
        }
        r
    }

    fn lookup(&self, key: AddrKey, connected_only: bool) -> Option<&Route> {
        self.by_len.iter().find_map(|(len, map)| {
            map.get(&(key & prefix_mask128(*len)))
                .filter(|r| !connected_only || r.origin == Origin::Connected)
        })
    }

    fn iter(&self) -> impl Iterator<Item = &Route> {
        self.by_len.iter().flat_map(|(_, m)| m.values())
    }
}

/// Longest-prefix-match routes for both families.
#[derive(Clone, Debug, Default)]
pub struct RouteTable {
    v4: FamilyTable,
    v6: FamilyTable,
}

fn family_bits(af: Af) -> u8 {
    af.bits()
}

impl RouteTable {
    /// A table holding the connected network of every interface
    /// address. Two interfaces on one network: the first one wins,
    /// like the kernel's first `RTF_CONNECTED` route.
    pub fn connected(ifs: &Interfaces) -> Self {
        let mut t = RouteTable::default();
        for i in ifs.iter() {
            let hop = NextHop {
                ifindex: i.index,
                gateway: None,
            };
            for a in &i.v4 {
                let _ = t.insert(IpAddr::V4(a.addr), a.prefix, hop, Origin::Connected);
            }
            for a in &i.v6 {
                let _ = t.insert(IpAddr::V6(a.addr), a.prefix, hop, Origin::Connected);
            }
            // CARP's network is connected on its interface in either
            // state, as the kernel keeps the carp interface's route.
            for v in &i.vips {
                let _ = t.insert(v.addr, v.prefix, hop, Origin::Connected);
            }
        }
        t
    }

    fn table(&self, af: Af) -> &FamilyTable {
        match af {
            Af::Inet => &self.v4,
            Af::Inet6 => &self.v6,
        }
    }

    fn insert(
        &mut self,
        dst: IpAddr,
        prefix: u8,
        hop: NextHop,
        origin: Origin,
    ) -> Result<(), ConfigError> {
        let af = Af::of(&dst);
        if prefix > family_bits(af) {
            return Err(ConfigError::BadPrefix { addr: dst, prefix });
        }
        // An IPv4 prefix counts from the top of the key, where
        // `addr_key` puts the address.
        let key = addr_key(dst) & prefix_mask128(prefix);
        let r = Route {
            af,
            dst: key,
            prefix,
            hop,
            origin,
        };
        match af {
            Af::Inet => self.v4.insert(r),
            Af::Inet6 => self.v6.insert(r),
        }
    }

    /// A connected network added after construction (a CARP address);
    /// an existing route to the same prefix is kept.
    pub fn add_connected(&mut self, dst: IpAddr, prefix: u8, hop: NextHop) {
        let _ = self.insert(dst, prefix, hop, Origin::Connected);
    }

    /// `route add dst/prefix gateway [-ifp ifindex]`. The gateway must be
    /// on a connected network (of `ifindex` when given); an IPv6
    /// link-local gateway needs `ifindex`.
    pub fn add_static(
        &mut self,
        dst: IpAddr,
        prefix: u8,
        gateway: IpAddr,
        ifindex: Option<u32>,
        ifs: &Interfaces,
    ) -> Result<(), ConfigError> {
        if dst.is_ipv4() != gateway.is_ipv4() {
            return Err(ConfigError::FamilyMismatch);
        }
        let ifindex = match (ifindex, gateway) {
            (Some(i), _) => {
                let ifc = ifs.get(i).ok_or(ConfigError::UnknownInterface(i))?;
                if !ifc.on_link(gateway) {
                    return Err(ConfigError::GatewayUnreachable(gateway));
                }
                i
            }
            (None, IpAddr::V6(g)) if is_link_local6(g) => {
                return Err(ConfigError::GatewayUnreachable(gateway))
            }
            (None, g) => {
                self.table(Af::of(&g))
                    .lookup(addr_key(g), true)
                    .ok_or(ConfigError::GatewayUnreachable(g))?
                    .hop
                    .ifindex
            }
        };
        if ifs.configured(gateway) {
            return Err(ConfigError::BadAddress(gateway));
        }
        let hop = NextHop {
            ifindex,
            gateway: Some(gateway),
        };
        self.insert(dst, prefix, hop, Origin::Static)
    }

    /// The default route of `gateway`'s family (pf's `mygate`, one per
    /// family).
    pub fn set_default(
        &mut self,
        gateway: IpAddr,
        ifindex: Option<u32>,
        ifs: &Interfaces,
    ) -> Result<(), ConfigError> {
        let any = match gateway {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        let af = Af::of(&gateway);
        let old = match af {
            Af::Inet => self.v4.remove(0, 0),
            Af::Inet6 => self.v6.remove(0, 0),
        };
        let res = self.add_static(any, 0, gateway, ifindex, ifs);
        if res.is_err() {
            if let Some(r) = old {
                let _ = self.insert(any, 0, r.hop, r.origin);
            }
        }
        res
    }

    /// Remove the route to exactly `dst/prefix`.
    pub fn remove(&mut self, dst: IpAddr, prefix: u8) -> Option<Route> {
        let key = addr_key(dst) & prefix_mask128(prefix);
        match dst {
            IpAddr::V4(_) => self.v4.remove(key, prefix),
            IpAddr::V6(_) => self.v6.remove(key, prefix),
        }
    }

    /// The most specific route to `dst` (an [`AddrKey`] of family `af`).
    pub fn lookup(&self, af: Af, dst: AddrKey) -> Option<NextHop> {
        self.table(af).lookup(dst, false).map(|r| r.hop)
    }

    pub fn lookup_ip(&self, dst: IpAddr) -> Option<NextHop> {
        self.lookup(Af::of(&dst), addr_key(dst))
    }

    /// The route `lookup` would use, for `route get`.
    pub fn route_to(&self, dst: IpAddr) -> Option<Route> {
        self.table(Af::of(&dst))
            .lookup(addr_key(dst), false)
            .copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.v4.iter().chain(self.v6.iter())
    }
}

#[cfg(test)]
#[path = "route_tests.rs"]
mod tests;
