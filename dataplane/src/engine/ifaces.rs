//! The interfaces the engine sees packets on, as the rules name them:
//! the interface itself, its groups (OpenBSD puts every interface in the
//! group named after its driver, `em` for `em0`, and in `all`), and its
//! addresses for `(ifname)` and `ifname:network` operands.

use crate::pdesc::AddrKey;
use ruleset::addr::{Af, IfAddrFlags};
use ruleset::compile::{addr_key, prefix_mask, Compiled, IfId};
use std::net::IpAddr;

/// One interface as the engine's caller describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfConfig {
    pub name: String,
    /// Addresses with their prefix lengths.
    pub addrs: Vec<(IpAddr, u8)>,
    /// Groups beyond the driver's, which every interface is in
    /// (`egress`, hostname.if `group NAME`).
    pub groups: Vec<String>,
}

/// An interface resolved against a compiled ruleset.
#[derive(Clone, Debug)]
pub(crate) struct Iface {
    pub name: String,
    /// The rules' id for this name, if any rule names it.
    pub if_id: Option<IfId>,
    /// Ids of the groups it belongs to that some rule names.
    pub groups: Vec<IfId>,
    pub addrs: Vec<(Af, AddrKey, u8)>,
    /// `set skip on` names it or one of its groups.
    pub skip: bool,
}

/// OpenBSD's driver group: the name without its unit number.
fn driver_group(name: &str) -> &str {
    name.trim_end_matches(|c: char| c.is_ascii_digit())
}

impl Iface {
    /// `index` is the interface's place in the engine's list: an
    /// interface no rule names gets an id past the rules' names, unique
    /// to it, so group rules (`on em`, `on all`) still see it.
    pub fn resolve(cfg: &IfConfig, index: usize, c: &Compiled) -> Iface {
        let mut group_names = vec![driver_group(&cfg.name), "all"];
        group_names.extend(cfg.groups.iter().map(String::as_str));
        let groups = group_names
            .iter()
            .filter(|g| !g.is_empty() && **g != cfg.name)
            .filter_map(|g| c.if_id(g))
            .collect();
        let skip = c
            .options
            .skip
            .iter()
            .any(|s| *s == cfg.name || group_names.contains(&s.as_str()));
        Iface {
            name: cfg.name.clone(),
            if_id: c
                .if_id(&cfg.name)
                .or_else(|| u32::try_from(c.ifnames.len() + index).ok().map(IfId)),
            groups,
            addrs: cfg
                .addrs
                .iter()
                .map(|(ip, p)| (Af::of(ip), addr_key(*ip), *p))
                .collect(),
            skip,
        }
    }

    /// Whether `addr` matches `(self:flags)/prefix` (pf's dynamic
    /// address: a table of the interface's current addresses).
    pub fn dyn_match(&self, flags: IfAddrFlags, prefix: u8, af: Af, addr: AddrKey) -> bool {
        let mut first_seen = [false; 2];
        for &(a_af, a, plen) in &self.addrs {
            if a_af != af {
                continue;
            }
            let fam = usize::from(a_af == Af::Inet6);
            if flags.noalias {
                if first_seen[fam] {
                    continue;
                }
                first_seen[fam] = true;
            }
            let bits = af_bits(af);
            // In addr_key layout an IPv4 prefix of p bits is p bits of
            // the u128 too: IPv4 sits at the top.
            let (net, mask) = if flags.network {
                let m = prefix_mask(plen.min(bits));
                (a & m, m)
            } else if flags.broadcast {
                if af != Af::Inet || plen >= 31 {
                    continue;
                }
                let host = !prefix_mask(plen) & prefix_mask(32);
                (a | host, prefix_mask(128))
            } else {
                (a, prefix_mask(128))
            };
            // `/prefix` on the operand widens the match (128 = none).
            let m = if prefix < 128 && prefix < bits {
                mask & prefix_mask(prefix)
            } else {
                mask
            };
            if addr & m == net & m {
                return true;
            }
        }
        false
    }
}

fn af_bits(af: Af) -> u8 {
    match af {
        Af::Inet => 32,
        Af::Inet6 => 128,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn em0() -> Iface {
        Iface {
            name: "em0".into(),
            if_id: None,
            groups: vec![],
            addrs: vec![
                (Af::Inet, addr_key("192.0.2.1".parse().unwrap()), 24),
                (Af::Inet, addr_key("198.51.100.9".parse().unwrap()), 24),
            ],
            skip: false,
        }
    }

    fn k(s: &str) -> AddrKey {
        addr_key(s.parse().unwrap())
    }

    #[test]
    fn dynamic_addresses() {
        let f = IfAddrFlags::default();
        let e = em0();
        assert!(e.dyn_match(f, 128, Af::Inet, k("192.0.2.1")));
        assert!(e.dyn_match(f, 128, Af::Inet, k("198.51.100.9")));
        assert!(!e.dyn_match(f, 128, Af::Inet, k("192.0.2.2")));
        let net = IfAddrFlags { network: true, ..f };
        assert!(e.dyn_match(net, 128, Af::Inet, k("192.0.2.200")));
        let bc = IfAddrFlags {
            broadcast: true,
            ..f
        };
        assert!(e.dyn_match(bc, 128, Af::Inet, k("192.0.2.255")));
        assert!(!e.dyn_match(bc, 128, Af::Inet, k("192.0.2.254")));
        let first = IfAddrFlags { noalias: true, ..f };
        assert!(!e.dyn_match(first, 128, Af::Inet, k("198.51.100.9")));
        assert!(e.dyn_match(f, 16, Af::Inet, k("192.0.77.1")));
    }

    #[test]
    fn driver_groups() {
        assert_eq!(driver_group("em0"), "em");
        assert_eq!(driver_group("vio12"), "vio");
    }
}
