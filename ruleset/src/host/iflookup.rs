//! Interface names as addresses: pfctl's `ifa_exists`, `ifa_lookup`,
//! `ifa_grouplookup` and `ifa_skip_if`.

use std::net::IpAddr;

use crate::addr::{mask_addr, AddrWrap, Af, IfAddrFlags, NodeHost};
use crate::hostenv::{HostEnv, IfAddress, Interface};

/// `IFNAMSIZ`: pfctl compares and sanity-checks names against it.
const IFNAMSIZ: usize = 16;

/// Groups may in principle contain interfaces named like groups; pfctl
/// would recurse through the kernel, we stop at a depth no real setup
/// reaches.
const MAX_GROUP_DEPTH: usize = 8;

/// Whether `name` is an interface or an interface group.
pub fn ifa_exists(name: &str, env: &dyn HostEnv) -> bool {
    env.group_members(name).is_some() || env.interface(name).is_some()
}

/// The addresses `name` stands for with modifiers `flags`, in interface
/// list order: a group's members in turn, `self` for every interface,
/// otherwise the interface itself, or, for a name not ending in a digit,
/// every interface named `name` plus a number.
///
/// `:network` skips scoped (link-local) IPv6 addresses, `:broadcast`
/// takes IPv4 broadcast addresses of broadcast interfaces, `:peer` the
/// peer of point-to-point interfaces, `:0` the first address of each
/// family per interface.
pub fn ifa_lookup(name: &str, flags: IfAddrFlags, env: &dyn HostEnv) -> Vec<NodeHost> {
    lookup(name, flags, env, 0)
}

fn lookup(name: &str, flags: IfAddrFlags, env: &dyn HostEnv, depth: usize) -> Vec<NodeHost> {
    if depth < MAX_GROUP_DEPTH {
        if let Some(members) = env.group_members(name) {
            let found: Vec<NodeHost> = members
                .iter()
                .flat_map(|m| lookup(&m.name, flags, env, depth + 1))
                .collect();
            // An empty group falls through to the name scan, as in pfctl.
            if !found.is_empty() {
                return found;
            }
        }
    }
    let filter = if name == "self" { None } else { Some(name) };
    let mut out = Vec::new();
    let (mut got4, mut got6) = (false, false);
    let mut last_if: Option<&str> = None;
    for (iface, a) in env.address_list() {
        if skip_if(filter, &iface.name) || !wanted(flags, iface, a) {
            continue;
        }
        // `:0` counts per run of consecutive entries of one interface.
        if last_if != Some(iface.name.as_str()) {
            got4 = false;
            got6 = false;
        }
        last_if = Some(iface.name.as_str());
        let af = Af::of(&a.addr);
        if flags.noalias && ((af == Af::Inet && got4) || (af == Af::Inet6 && got6)) {
            continue;
        }
        match af {
            Af::Inet => got4 = true,
            Af::Inet6 => got6 = true,
        }
        out.push(node(flags, af, a));
    }
    out
}

/// The mode filters of `ifa_lookup`.
fn wanted(flags: IfAddrFlags, iface: &Interface, a: &IfAddress) -> bool {
    if flags.broadcast {
        let has_bcast = matches!(a.broadcast, Some(IpAddr::V4(b)) if !b.is_unspecified());
        if !a.addr.is_ipv4() || !iface.broadcast || !has_bcast {
            return false;
        }
    }
    if flags.peer && !iface.pointopoint {
        return false;
    }
    // pfctl tests the entry's interface index, which only scoped IPv6
    // addresses carry.
    !(flags.network && a.scope_id > 0)
}

fn node(flags: IfAddrFlags, af: Af, a: &IfAddress) -> NodeHost {
    let picked = if flags.broadcast {
        a.broadcast
    } else if flags.peer {
        a.peer
    } else {
        Some(a.addr)
    };
    // A missing broadcast/peer address is all zeros in pfctl.
    let addr = picked
        .filter(|p| Af::of(p) == af)
        .unwrap_or(af.unspecified());
    let prefix = if flags.network { a.prefix } else { af.bits() };
    let mut n = NodeHost::new(
        AddrWrap::AddrMask {
            addr: mask_addr(addr, prefix),
            prefix,
        },
        Some(af),
    );
    n.scope_id = a.scope_id;
    n
}

/// pfctl's `ifa_skip_if`: `true` when interface `ifname` is not meant by
/// `filter` (`None` is `self`).
fn skip_if(filter: Option<&str>, ifname: &str) -> bool {
    let Some(filter) = filter.filter(|f| !f.is_empty()) else {
        return false;
    };
    if ifname == filter {
        return false;
    }
    let n = filter.len();
    if n >= IFNAMSIZ || filter.ends_with(|c: char| c.is_ascii_digit()) {
        return true;
    }
    match ifname.strip_prefix(filter) {
        Some(rest) => !rest.starts_with(|c: char| c.is_ascii_digit()),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hostenv::RegressHost;

    fn show(v: &[NodeHost]) -> Vec<String> {
        v.iter()
            .map(|n| match &n.addr {
                AddrWrap::AddrMask { addr, prefix } => format!("{addr}/{prefix}%{}", n.scope_id),
                other => format!("{other:?}"),
            })
            .collect()
    }

    fn flags(network: bool, broadcast: bool, peer: bool, noalias: bool) -> IfAddrFlags {
        IfAddrFlags {
            network,
            broadcast,
            peer,
            noalias,
        }
    }

    #[test]
    fn lo0_plain_and_modifiers() {
        let env = RegressHost::new();
        let none = IfAddrFlags::default();
        assert_eq!(
            show(&ifa_lookup("lo0", none, &env)),
            ["::1/128%0", "fe80::1/128%3", "127.0.0.1/32%0"]
        );
        assert_eq!(
            show(&ifa_lookup("lo0", flags(true, false, false, false), &env)),
            ["::1/128%0", "127.0.0.0/8%0"]
        );
        assert_eq!(
            show(&ifa_lookup("lo0", flags(false, false, false, true), &env)),
            ["::1/128%0", "127.0.0.1/32%0"]
        );
        assert!(ifa_lookup("lo0", flags(false, true, false, false), &env).is_empty());
        assert!(ifa_lookup("lo0", flags(false, false, true, false), &env).is_empty());
    }

    #[test]
    fn groups_prefixes_and_self() {
        let env = RegressHost::new();
        let none = IfAddrFlags::default();
        assert_eq!(ifa_lookup("lo", none, &env).len(), 3);
        assert_eq!(ifa_lookup("self", none, &env).len(), 3);
        assert!(ifa_lookup("tun", none, &env).is_empty());
        assert!(ifa_lookup("lo1000000", none, &env).is_empty());
        assert!(ifa_lookup("lo00", none, &env).is_empty());
        assert!(
            ifa_exists("lo", &env) && ifa_exists("tun", &env) && ifa_exists("tun1000001", &env)
        );
        assert!(!ifa_exists("em0", &env) && !ifa_exists("self", &env) && !ifa_exists("lo1", &env));
    }

    #[test]
    fn skip_rules() {
        assert!(!skip_if(None, "em0"));
        assert!(!skip_if(Some("em0"), "em0"));
        assert!(skip_if(Some("em0"), "em01"));
        assert!(!skip_if(Some("em"), "em12"));
        assert!(skip_if(Some("em"), "emx0"));
        assert!(skip_if(Some("e"), "lo0"));
        assert!(skip_if(Some("abcdefghijklmnop"), "abcdefghijklmnop0"));
    }
}
