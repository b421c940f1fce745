//! The OpenBSD machine the conformance corpus (`regress/sbin/pfctl`) was
//! produced on, as far as its output shows it: see
//! `conformance/pfctl/README.md`, "The machine the expected output was
//! made on".

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::netdb::NetDb;
use super::{HostEnv, IfAddress, Interface};

/// Emulated OpenBSD regress host (`PFD_HOST_PROFILE=openbsd-regress`).
#[derive(Debug, Clone)]
pub struct RegressHost {
    interfaces: Vec<Interface>,
}

impl Default for RegressHost {
    fn default() -> Self {
        Self::new()
    }
}

impl RegressHost {
    pub fn new() -> RegressHost {
        let lo0 = Interface {
            name: "lo0".into(),
            index: 3,
            broadcast: false,
            pointopoint: false,
            loopback: true,
            addrs: vec![
                IfAddress {
                    addr: IpAddr::V6(Ipv6Addr::LOCALHOST),
                    prefix: 128,
                    broadcast: None,
                    peer: None,
                    scope_id: 0,
                },
                IfAddress {
                    addr: IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1)),
                    prefix: 64,
                    broadcast: None,
                    peer: None,
                    scope_id: 3,
                },
                IfAddress {
                    addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
                    prefix: 8,
                    broadcast: None,
                    peer: None,
                    scope_id: 0,
                },
            ],
            groups: vec!["lo".into()],
        };
        // Cloned later than lo0, so higher indexes; tun(4) is
        // point-to-point on OpenBSD.
        let bare = |name: &str, index: u32, loopback: bool, group: &str| Interface {
            name: name.into(),
            index,
            broadcast: false,
            pointopoint: !loopback,
            loopback,
            addrs: Vec::new(),
            groups: vec![group.into()],
        };
        RegressHost {
            interfaces: vec![
                lo0,
                bare("lo1000000", 7, true, "lo"),
                bare("tun1000000", 8, false, "tun"),
                bare("tun1000001", 9, false, "tun"),
            ],
        }
    }
}

impl HostEnv for RegressHost {
    fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    fn resolve(&self, name: &str) -> Vec<IpAddr> {
        // The hosts file lookup is case-insensitive, like DNS.
        if name.eq_ignore_ascii_case("localhost") {
            vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ]
        } else {
            Vec::new()
        }
    }

    fn user_id(&self, name: &str) -> Option<u32> {
        match name {
            "root" => Some(0),
            "bin" => Some(3),
            _ => None,
        }
    }

    fn group_id(&self, name: &str) -> Option<u32> {
        match name {
            "wheel" => Some(0),
            "bin" => Some(7),
            "nobody" => Some(32767),
            "_sshd" => Some(27),
            _ => None,
        }
    }

    fn service_port(&self, name: &str, proto: &str) -> Option<u16> {
        NetDb::openbsd().service_port(name, proto)
    }

    fn protocol_number(&self, name: &str) -> Option<u8> {
        NetDb::openbsd().protocol_number(name)
    }

    fn protocol_name(&self, number: u8) -> Option<String> {
        NetDb::openbsd().protocol_name(number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lo0_addresses_in_order() {
        let h = RegressHost::new();
        let lo0 = h.interface("lo0").expect("lo0");
        assert_eq!(lo0.index, 3);
        assert!(lo0.loopback && !lo0.broadcast && !lo0.pointopoint);
        let a: Vec<String> = lo0
            .addrs
            .iter()
            .map(|a| format!("{}/{}", a.addr, a.prefix))
            .collect();
        assert_eq!(a, ["::1/128", "fe80::1/64", "127.0.0.1/8"]);
        assert_eq!(lo0.addrs[1].scope_id, 3);
    }

    #[test]
    fn groups_and_bare_interfaces() {
        let h = RegressHost::new();
        let names = |g: &str| -> Vec<String> {
            h.group_members(g)
                .unwrap_or_default()
                .iter()
                .map(|i| i.name.clone())
                .collect()
        };
        assert_eq!(names("lo"), ["lo0", "lo1000000"]);
        assert_eq!(names("tun"), ["tun1000000", "tun1000001"]);
        assert!(h.group_members("egress").is_none());
        for n in ["lo1000000", "tun1000000", "tun1000001"] {
            assert!(h.interface(n).expect(n).addrs.is_empty());
        }
        assert!(h.interface("em0").is_none());
    }

    #[test]
    fn names() {
        let h = RegressHost::new();
        assert_eq!(
            h.resolve("localhost"),
            [
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        assert!(h.resolve("www.openbsd.org").is_empty());
        assert_eq!(
            (h.user_id("root"), h.user_id("bin"), h.user_id("nobody")),
            (Some(0), Some(3), None)
        );
        assert_eq!(
            ["wheel", "bin", "nobody", "_sshd", "staff"].map(|g| h.group_id(g)),
            [Some(0), Some(7), Some(32767), Some(27), None]
        );
        assert_eq!(h.service_port("ssh", "tcp"), Some(22));
        assert_eq!(h.protocol_name(103).as_deref(), Some("pim"));
        assert_eq!(h.protocol_name(58).as_deref(), Some("ipv6-icmp"));
        assert_eq!(h.protocol_number("carp"), Some(112));
    }
}
