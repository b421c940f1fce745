//! Which interfaces pfd runs ports on, and the router built for them
//! from the etc configuration.

use crate::etc::EtcConfig;
use dataplane::router::{Interface, Interfaces, Router, RouterConfig};
use std::net::IpAddr;

/// MTU when hostname.if sets none and the kernel's is not known.
const DEFAULT_MTU: u16 = 1500;

/// Whether pfd opens a port on `name`: carpN and pfsyncN are pfd's own
/// pseudo-interfaces, not links.
pub fn is_physical(name: &str) -> bool {
    let pseudo = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    !pseudo("carp") && !pseudo("pfsync")
}

/// One port: the interface, its index in the engine's interface list
/// (`check::engine_interfaces`, the etc configuration's order), and the
/// router's index for it (the port's index plus one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortPlan {
    pub name: String,
    pub engine_if: usize,
    pub mtu: Option<u16>,
}

/// The physical interfaces of `cfg`, in order: port `i` is `plan[i]`.
/// carpN interfaces live on their carpdev's port, pfsync0 on its
/// syncdev's.
pub fn ports(cfg: &EtcConfig) -> Result<Vec<PortPlan>, String> {
    let pseudo: Vec<String> = cfg
        .interfaces
        .iter()
        .filter(|i| !is_physical(&i.name) && i.carp.is_none())
        .map(|i| {
            format!(
                "{}: {} is not running in pfd run yet",
                i.file.display(),
                i.name
            )
        })
        .collect();
    if !pseudo.is_empty() {
        return Err(pseudo.join("\n"));
    }
    cfg.interfaces
        .iter()
        .enumerate()
        .filter(|(_, i)| is_physical(&i.name))
        .map(|(engine_if, i)| {
            let mtu = match i.mtu {
                None => None,
                Some(m) => {
                    Some(u16::try_from(m).map_err(|_| format!("{}: mtu {m} too large", i.name))?)
                }
            };
            Ok(PortPlan {
                name: i.name.clone(),
                engine_if,
                mtu,
            })
        })
        .collect()
}

/// The router's index of port `i`.
pub fn router_index(port: usize) -> u32 {
    u32::try_from(port).map_or(u32::MAX, |p| p.saturating_add(1))
}

/// The port of router index `ifindex`.
pub fn port_of(ifindex: u32) -> Option<usize> {
    usize::try_from(ifindex.checked_sub(1)?).ok()
}

/// The router for `plan`'s ports: each interface with the MAC its port
/// has (`macs[i]`), its MTU (hostname.if's, else `kernel_mtu[i]`) and
/// addresses; connected routes and mygate's defaults.
pub fn router(
    cfg: &EtcConfig,
    plan: &[PortPlan],
    macs: &[[u8; 6]],
    kernel_mtu: &[Option<u16>],
) -> Result<Router, String> {
    let mut ifs = Interfaces::new();
    for (i, p) in plan.iter().enumerate() {
        let idx = router_index(i);
        let mac = *macs.get(i).ok_or_else(|| format!("{}: no MAC", p.name))?;
        let kernel = kernel_mtu.get(i).copied().flatten();
        // pfd does not set the kernel's MTU, and its port cannot send a
        // frame larger than the kernel's: a larger one is refused.
        if let (Some(m), Some(k)) = (p.mtu, kernel) {
            if m > k {
                return Err(format!(
                    "{}: mtu {m} exceeds the interface's MTU of {k}",
                    p.name
                ));
            }
        }
        let mtu = p.mtu.or(kernel).unwrap_or(DEFAULT_MTU);
        let ifc = Interface::new(&p.name, idx, mac, mtu).map_err(|e| format!("{}: {e}", p.name))?;
        ifs.add(ifc).map_err(|e| format!("{}: {e}", p.name))?;
        let conf = cfg
            .interface(&p.name)
            .ok_or_else(|| format!("{}: not configured", p.name))?;
        let addrs = conf
            .inet
            .iter()
            .map(|a| (IpAddr::V4(a.addr), a.prefix))
            .chain(conf.inet6.iter().map(|a| (IpAddr::V6(a.addr), a.prefix)));
        for (a, prefix) in addrs {
            ifs.add_addr(idx, a, prefix)
                .map_err(|e| format!("{}: {a}/{prefix}: {e}", p.name))?;
        }
    }
    let mut r = Router::new(ifs, RouterConfig::default());
    let v6 = match &cfg.gateways.v6 {
        None => None,
        Some(g) => {
            // A link-local gateway names its interface (fe80::1%em0).
            let via = match &g.scope {
                None => None,
                Some(name) => Some(router_index(
                    plan.iter()
                        .position(|p| &p.name == name)
                        .ok_or_else(|| format!("mygate: {}%{name}: no such interface", g.addr))?,
                )),
            };
            Some((IpAddr::V6(g.addr), via))
        }
    };
    let gws = cfg
        .gateways
        .v4
        .map(|a| (IpAddr::V4(a), None))
        .into_iter()
        .chain(v6);
    for (gw, via) in gws {
        r.routes
            .set_default(gw, via, &r.ifaces)
            .map_err(|e| format!("mygate: {gw}: {e}"))?;
    }
    Ok(r)
}

/// The kernel's MTU of `name`, if it can be read.
pub fn kernel_mtu(name: &str) -> Option<u16> {
    let p = std::path::Path::new("/sys/class/net")
        .join(name)
        .join("mtu");
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_interfaces_get_no_port() {
        assert!(is_physical("em0"));
        assert!(is_physical("carpet"));
        assert!(is_physical("carp"));
        assert!(!is_physical("carp1"));
        assert!(!is_physical("pfsync0"));
    }

    #[test]
    fn router_indexes_round_trip() {
        for p in [0usize, 1, 7] {
            assert_eq!(port_of(router_index(p)), Some(p));
        }
        assert_eq!(port_of(0), None);
    }
}
