//! One carp interface's configuration (spec §6, §8.1), checked the way
//! `ifconfig` and the kernel check it.

use crate::auth::Key;
use std::net::{Ipv4Addr, Ipv6Addr};
use thiserror::Error;

/// Most vhosts on one carp interface (`CARP_MAXNODES`).
pub const MAX_NODES: usize = 32;

/// `balancing` (§6.2), numbered as OpenBSD's `CARP_BAL_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Balancing {
    #[default]
    None = 0,
    Ip = 1,
    IpStealth = 2,
    IpUnicast = 3,
}

impl Balancing {
    pub fn name(self) -> &'static str {
        match self {
            Balancing::None => "none",
            Balancing::Ip => "ip",
            Balancing::IpStealth => "ip-stealth",
            Balancing::IpUnicast => "ip-unicast",
        }
    }
}

/// One `vhid:advskew` of `carpnodes` (or the single `vhid` / `advskew`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Carpnode {
    pub vhid: u8,
    pub advskew: u8,
}

/// A carp interface as `ifconfig carpN …` / hostname.carpN configure it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarpIfConfig {
    /// `carp1`, …: used in log lines and events.
    pub name: String,
    /// The parent Ethernet interface (`carpdev`).
    pub carpdev: String,
    /// The carpdev's own MAC: an `lladdr` equal to it is the "realmac"
    /// case and is not hashed (§2.2).
    pub carpdev_mac: [u8; 6],
    /// One node for `vhid N [advskew S]`, several for `carpnodes`.
    pub nodes: Vec<Carpnode>,
    /// Seconds (0..=255; 0 gives sub-second intervals).
    pub advbase: u8,
    pub key: Key,
    /// `inet` addresses of the carp interface.
    pub v4: Vec<Ipv4Addr>,
    /// `inet6` addresses, link-local ones included (they count for the
    /// IPv6 master-down timer, §5.7, but are not hashed when sending).
    pub v6: Vec<Ipv6Addr>,
    /// `carppeer`: IPv4 adverts go unicast here instead of 224.0.0.18.
    pub peer: Option<Ipv4Addr>,
    /// `lladdr`: overrides the virtual MAC of the leader.
    pub lladdr: Option<[u8; 6]>,
    pub balancing: Balancing,
    /// Interface groups besides `carp` (which every carp interface is in).
    pub groups: Vec<String>,
    /// Restrict to what ucarp interoperates with (one IPv4 address, no
    /// IPv6, no lladdr, no carppeer, one node, passphrase of at most 19
    /// bytes) and show demotion to ucarp through advskew (§5.6).
    pub ucarp_compat: bool,
}

impl CarpIfConfig {
    /// A single-vhid interface with OpenBSD's defaults (advbase 1,
    /// advskew 0, multicast, balancing none).
    pub fn new(name: &str, carpdev: &str, carpdev_mac: [u8; 6], vhid: u8, key: Key) -> Self {
        CarpIfConfig {
            name: name.to_string(),
            carpdev: carpdev.to_string(),
            carpdev_mac,
            nodes: vec![Carpnode { vhid, advskew: 0 }],
            advbase: 1,
            key,
            v4: Vec::new(),
            v6: Vec::new(),
            peer: None,
            lladdr: None,
            balancing: Balancing::None,
            groups: Vec::new(),
            ucarp_compat: false,
        }
    }

    /// The IPv4 destination of adverts.
    pub fn peer_or_group(&self) -> Ipv4Addr {
        self.peer.unwrap_or(crate::event::GROUP_V4)
    }
}

/// A configuration the kernel or ifconfig would refuse, or one this
/// implementation does not enforce.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("{0}: no vhid configured")]
    NoVhid(String),
    #[error("{name}: too many carpnodes: {count} (at most 32)")]
    TooManyNodes { name: String, count: usize },
    #[error("{name}: vhid {vhid} out of range")]
    VhidRange { name: String, vhid: u8 },
    #[error("{name}: advskew {advskew} out of range 0..254 (255 is reserved for bow-out)")]
    AdvskewRange { name: String, advskew: u8 },
    #[error("{name}: vhid {vhid} given twice")]
    DuplicateVhid { name: String, vhid: u8 },
    #[error("{name}: vhid {vhid} is already used by {other} on {carpdev}")]
    VhidInUse {
        name: String,
        vhid: u8,
        other: String,
        carpdev: String,
    },
    #[error("{0}: interface already exists")]
    Exists(String),
    #[error("{0}: no such carp interface")]
    NoSuchInterface(String),
    #[error("{0}: carpdev must be set")]
    NoCarpdev(String),
    #[error("{name}: ucarp compatibility: {why}")]
    UcarpCompat { name: String, why: &'static str },
    #[error("{name}: address {addr} is not usable on a carp interface")]
    BadAddress { name: String, addr: String },
}

impl CarpIfConfig {
    /// Check as ifconfig and the kernel do, then apply the kernel's
    /// balancing defaults: one node forces `none`; several nodes with
    /// `none` become `ip`.
    pub fn normalized(mut self) -> Result<Self, ConfigError> {
        let name = self.name.clone();
        if self.carpdev.is_empty() {
            return Err(ConfigError::NoCarpdev(name));
        }
        if self.nodes.is_empty() {
            return Err(ConfigError::NoVhid(name));
        }
        if self.nodes.len() > MAX_NODES {
            return Err(ConfigError::TooManyNodes {
                name,
                count: self.nodes.len(),
            });
        }
        let several = self.nodes.len() > 1;
        let mut seen = [false; 256];
        for n in &self.nodes {
            // ifconfig takes vhid 1..255, carpnodes 1..254.
            if n.vhid == 0 || (several && n.vhid == 255) {
                return Err(ConfigError::VhidRange { name, vhid: n.vhid });
            }
            if n.advskew == 255 {
                return Err(ConfigError::AdvskewRange {
                    name,
                    advskew: n.advskew,
                });
            }
            if std::mem::replace(&mut seen[usize::from(n.vhid)], true) {
                return Err(ConfigError::DuplicateVhid { name, vhid: n.vhid });
            }
        }
        self.nodes.sort_by_key(|n| n.vhid);
        for a in &self.v4 {
            if a.is_unspecified() || a.is_broadcast() || a.is_multicast() {
                return Err(ConfigError::BadAddress {
                    name,
                    addr: a.to_string(),
                });
            }
        }
        for a in &self.v6 {
            if a.is_unspecified() || a.is_multicast() {
                return Err(ConfigError::BadAddress {
                    name,
                    addr: a.to_string(),
                });
            }
        }
        if !several {
            self.balancing = Balancing::None;
        } else if self.balancing == Balancing::None {
            self.balancing = Balancing::Ip;
        }
        if self.ucarp_compat {
            let why = if self.v4.len() != 1 {
                Some("exactly one IPv4 address per vhid")
            } else if !self.v6.is_empty() {
                Some("no IPv6 address (not even link-local): ucarp sends no IPv6 adverts")
            } else if self.lladdr.is_some_and(|m| m != self.carpdev_mac) {
                Some("no lladdr override")
            } else if self.peer.is_some() {
                Some("no carppeer: ucarp cannot do unicast")
            } else if several {
                Some("no carpnodes or balancing")
            } else if self.key.was_truncated() {
                Some("passphrase longer than 19 bytes (ucarp refuses it)")
            } else {
                None
            };
            if let Some(why) = why {
                return Err(ConfigError::UcarpCompat { name, why });
            }
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> CarpIfConfig {
        let mut c = CarpIfConfig::new(
            "carp1",
            "em0",
            [2, 0, 0, 0, 0, 1],
            1,
            Key::from_passphrase(b"x"),
        );
        c.v4.push(Ipv4Addr::new(192, 0, 2, 1));
        c
    }

    #[test]
    fn nodes_sorted_and_balancing_defaults() {
        let mut c = base();
        c.nodes = vec![
            Carpnode {
                vhid: 9,
                advskew: 0,
            },
            Carpnode {
                vhid: 3,
                advskew: 100,
            },
        ];
        let c = c.normalized().unwrap();
        assert_eq!(c.nodes[0].vhid, 3);
        assert_eq!(c.balancing, Balancing::Ip);
        let mut one = base();
        one.balancing = Balancing::IpStealth;
        assert_eq!(one.normalized().unwrap().balancing, Balancing::None);
    }

    #[test]
    fn refusals() {
        let mut c = base();
        c.nodes = vec![
            Carpnode {
                vhid: 3,
                advskew: 0,
            },
            Carpnode {
                vhid: 3,
                advskew: 1,
            },
        ];
        assert!(matches!(
            c.normalized(),
            Err(ConfigError::DuplicateVhid { vhid: 3, .. })
        ));
        let mut c = base();
        c.nodes[0].advskew = 255;
        assert!(matches!(
            c.normalized(),
            Err(ConfigError::AdvskewRange { .. })
        ));
        let mut c = base();
        c.nodes[0].vhid = 0;
        assert!(matches!(c.normalized(), Err(ConfigError::VhidRange { .. })));
        let mut c = base();
        c.nodes = (1..=33)
            .map(|v| Carpnode {
                vhid: v,
                advskew: 0,
            })
            .collect();
        assert!(matches!(
            c.normalized(),
            Err(ConfigError::TooManyNodes { count: 33, .. })
        ));
        let mut c = base();
        c.v4.push(Ipv4Addr::new(224, 0, 0, 1));
        assert!(matches!(
            c.normalized(),
            Err(ConfigError::BadAddress { .. })
        ));
    }

    #[test]
    fn ucarp_compat_restricts_the_configuration() {
        let mut c = base();
        c.ucarp_compat = true;
        assert!(c.clone().normalized().is_ok());
        let mut v6 = c.clone();
        v6.v6.push("fe80::1".parse().unwrap());
        assert!(matches!(
            v6.normalized(),
            Err(ConfigError::UcarpCompat { .. })
        ));
        let mut two = c.clone();
        two.v4.push(Ipv4Addr::new(192, 0, 2, 2));
        assert!(matches!(
            two.normalized(),
            Err(ConfigError::UcarpCompat { .. })
        ));
        let mut peer = c.clone();
        peer.peer = Some(Ipv4Addr::new(192, 0, 2, 9));
        assert!(peer.normalized().is_err());
        let mut realmac = c.clone();
        realmac.lladdr = Some(realmac.carpdev_mac);
        assert!(realmac.normalized().is_ok());
    }
}
