//! The Linux machine we run on, read the way pfctl reads an OpenBSD one.

use std::net::{IpAddr, ToSocketAddrs};
use std::sync::OnceLock;

use nix::ifaddrs::getifaddrs;
use nix::net::if_::{if_nametoindex, InterfaceFlags};
use nix::sys::socket::SockaddrStorage;
use nix::unistd::{Group, User};

use super::netdb::NetDb;
use super::routes::{ipv4_default_ifaces, ipv6_default_ifaces};
use super::{HostEnv, IfAddress, Interface};
use crate::addr::Af;

/// Why the machine's interfaces could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SystemHostError {
    #[error("getifaddrs: {0}")]
    GetIfAddrs(nix::errno::Errno),
}

/// The real host (`PFD_HOST_PROFILE=system` or unset). Interfaces are
/// read once at construction: pfctl also loads its interface table once
/// per run.
#[derive(Debug)]
pub struct SystemHost {
    interfaces: Vec<Interface>,
    /// `(interface, address)` indexes in `getifaddrs` order.
    order: Vec<(usize, usize)>,
    netdb: OnceLock<NetDb>,
}

impl SystemHost {
    pub fn new() -> Result<SystemHost, SystemHostError> {
        let mut interfaces: Vec<Interface> = Vec::new();
        let mut order = Vec::new();
        for ifa in getifaddrs().map_err(SystemHostError::GetIfAddrs)? {
            let pos = match interfaces.iter().position(|i| i.name == ifa.interface_name) {
                Some(p) => p,
                None => {
                    interfaces.push(Interface {
                        name: ifa.interface_name.clone(),
                        index: if_nametoindex(ifa.interface_name.as_str()).unwrap_or(0),
                        broadcast: ifa.flags.contains(InterfaceFlags::IFF_BROADCAST),
                        pointopoint: ifa.flags.contains(InterfaceFlags::IFF_POINTOPOINT),
                        loopback: ifa.flags.contains(InterfaceFlags::IFF_LOOPBACK),
                        addrs: Vec::new(),
                        groups: Vec::new(),
                    });
                    interfaces.len() - 1
                }
            };
            let Some((addr, scope_id)) = ifa.address.as_ref().and_then(ip_of) else {
                continue;
            };
            let prefix =
                ifa.netmask
                    .as_ref()
                    .and_then(ip_of)
                    .map_or(Af::of(&addr).bits(), |(m, _)| {
                        // pfctl's unmask(): count the leading one bits.
                        match m {
                            IpAddr::V4(m) => u32::from(m).leading_ones() as u8,
                            IpAddr::V6(m) => u128::from(m).leading_ones() as u8,
                        }
                    });
            let iface = &mut interfaces[pos];
            let broadcast = if iface.broadcast {
                ifa.broadcast.as_ref().and_then(ip_of).map(|a| a.0)
            } else {
                None
            };
            let peer = if iface.pointopoint {
                ifa.destination.as_ref().and_then(ip_of).map(|a| a.0)
            } else {
                None
            };
            iface.addrs.push(IfAddress {
                addr,
                prefix,
                broadcast,
                peer,
                scope_id,
            });
            order.push((pos, iface.addrs.len() - 1));
        }

        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let mut egress = ipv4_default_ifaces(&read("/proc/net/route"));
        egress.extend(ipv6_default_ifaces(&read("/proc/net/ipv6_route")));
        for iface in &mut interfaces {
            iface.groups = derived_groups(&iface.name, egress.contains(&iface.name));
        }
        Ok(SystemHost {
            interfaces,
            order,
            netdb: OnceLock::new(),
        })
    }

    fn netdb(&self) -> &NetDb {
        self.netdb.get_or_init(|| {
            // A system without the files answers like OpenBSD rather than
            // knowing no service names at all.
            let services = std::fs::read_to_string("/etc/services")
                .unwrap_or_else(|_| NetDb::openbsd_services_text().to_string());
            let protocols = std::fs::read_to_string("/etc/protocols")
                .unwrap_or_else(|_| NetDb::openbsd_protocols_text().to_string());
            NetDb::parse(&services, &protocols)
        })
    }
}

fn ip_of(sa: &SockaddrStorage) -> Option<(IpAddr, u32)> {
    if let Some(v4) = sa.as_sockaddr_in() {
        return Some((IpAddr::V4(v4.ip()), 0));
    }
    sa.as_sockaddr_in6()
        .map(|v6| (IpAddr::V6(v6.ip()), v6.scope_id()))
}

/// OpenBSD puts every interface in its driver's group (`em0` in `em`)
/// and those with a default route in `egress`.
pub(crate) fn derived_groups(name: &str, egress: bool) -> Vec<String> {
    let mut groups = Vec::new();
    let driver = name.trim_end_matches(|c: char| c.is_ascii_digit());
    if !driver.is_empty() && driver != name {
        groups.push(driver.to_string());
    }
    if egress {
        groups.push("egress".to_string());
    }
    groups
}

/// Whether glibc's getaddrinfo would take `name` as a numeric IPv4
/// address in `inet_aton` form (`10`, `127.1`, `0x7f.1`). OpenBSD's
/// resolver does not, and pfctl has already tried the strict numeric
/// forms, so such names must not resolve here.
fn inet_aton_form(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() <= 4
        && parts.iter().all(|p| {
            let (digits, radix) =
                if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
                    (h, 16)
                } else if p.len() > 1 && p.starts_with('0') {
                    (&p[1..], 8)
                } else {
                    (*p, 10)
                };
            (radix == 16 || !digits.is_empty()) && digits.chars().all(|c| c.is_digit(radix))
        })
}

impl HostEnv for SystemHost {
    fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    fn address_list(&self) -> Vec<(&Interface, &IfAddress)> {
        self.order
            .iter()
            .filter_map(|&(i, a)| {
                let iface = self.interfaces.get(i)?;
                Some((iface, iface.addrs.get(a)?))
            })
            .collect()
    }

    fn resolve(&self, name: &str) -> Vec<IpAddr> {
        if name.is_empty() || inet_aton_form(name) {
            return Vec::new();
        }
        match (name, 0u16).to_socket_addrs() {
            Ok(addrs) => addrs.map(|sa| sa.ip()).collect(),
            Err(_) => Vec::new(),
        }
    }

    fn user_id(&self, name: &str) -> Option<u32> {
        User::from_name(name).ok().flatten().map(|u| u.uid.as_raw())
    }

    fn group_id(&self, name: &str) -> Option<u32> {
        Group::from_name(name)
            .ok()
            .flatten()
            .map(|g| g.gid.as_raw())
    }

    fn service_port(&self, name: &str, proto: &str) -> Option<u16> {
        self.netdb().service_port(name, proto)
    }

    /// OpenBSD's protocol names come first: pf.conf is written in them
    /// (`proto carp`, `proto pfsync`, which Linux calls `vrrp` or does not
    /// name at all); the system's file adds names OpenBSD lacks.
    fn protocol_number(&self, name: &str) -> Option<u8> {
        NetDb::openbsd()
            .protocol_number(name)
            .or_else(|| self.netdb().protocol_number(name))
    }

    fn protocol_name(&self, number: u8) -> Option<String> {
        NetDb::openbsd()
            .protocol_name(number)
            .or_else(|| self.netdb().protocol_name(number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn groups_from_names() {
        assert_eq!(derived_groups("eth0", true), ["eth", "egress"]);
        assert!(derived_groups("lo", false).is_empty());
        assert_eq!(derived_groups("wg12", false), ["wg"]);
        assert!(derived_groups("1234", false).is_empty());
    }

    #[test]
    fn aton_forms() {
        for n in ["10", "127.1", "0x7f.1", "1.2.3.4", "017", "0x"] {
            assert!(inet_aton_form(n), "{n}");
        }
        for n in ["localhost", "1e100.net", "a.b", "1.2.3.4.5", "08", ""] {
            assert!(!inet_aton_form(n), "{n}");
        }
    }

    #[test]
    fn reads_this_machine() {
        let h = SystemHost::new().expect("getifaddrs");
        // Every Linux machine has a loopback with 127.0.0.1.
        let lo = h
            .interfaces()
            .iter()
            .find(|i| i.loopback)
            .expect("loopback");
        assert!(lo
            .addrs
            .iter()
            .any(|a| a.addr == IpAddr::V4(Ipv4Addr::LOCALHOST) && a.prefix == 8));
        assert_eq!(
            h.address_list().len(),
            h.interfaces().iter().map(|i| i.addrs.len()).sum::<usize>()
        );
        assert_eq!(h.user_id("root"), Some(0));
        assert_eq!(h.protocol_number("tcp"), Some(6));
        assert_eq!(
            h.resolve("localhost").first(),
            Some(&IpAddr::V4(Ipv4Addr::LOCALHOST))
        );
        assert!(h.resolve("10").is_empty());
    }
}

#[cfg(test)]
mod protocol_tests {
    use super::*;

    /// pf.conf's CARP and pfsync protocols resolve whatever the Linux
    /// protocols file says (Debian names 112 `vrrp` and has no pfsync).
    #[test]
    fn carp_and_pfsync_resolve_on_linux() {
        let h = SystemHost::new().expect("getifaddrs");
        assert_eq!(h.protocol_number("carp"), Some(112));
        assert_eq!(h.protocol_number("pfsync"), Some(240));
        assert_eq!(h.protocol_name(112).as_deref(), Some("carp"));
        assert_eq!(h.protocol_name(240).as_deref(), Some("pfsync"));
        assert_eq!(h.protocol_number("tcp"), Some(6));
    }
}
