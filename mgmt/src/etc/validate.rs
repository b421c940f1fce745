//! Checks across files: an address on two interfaces, carp virtual hosts
//! against their carpdev, gateways against the connected networks, and
//! the `egress` group.

use super::addr::contains;
use super::config::{CarpConfig, IfaceConfig};
use super::error::EtcErrors;
use super::hostname::Parsed;
use super::mygate;
use std::net::IpAddr;
use std::path::Path;

pub fn cross_check(
    parsed: Vec<Parsed>,
    gate_path: &Path,
    gates: &mygate::Parsed,
    errs: &mut EtcErrors,
) -> Vec<IfaceConfig> {
    duplicate_addresses(&parsed, errs);
    mtu_for_ipv6(&parsed, errs);
    let mut ifs = carp(parsed, errs);
    gateways(&mut ifs, gate_path, gates, errs);
    ifs
}

/// Every address with where it was set.
fn addresses(i: &IfaceConfig) -> impl Iterator<Item = (IpAddr, u8, usize)> + '_ {
    i.inet
        .iter()
        .map(|a| (IpAddr::V4(a.addr), a.prefix, a.line))
        .chain(
            i.inet6
                .iter()
                .map(|a| (IpAddr::V6(a.addr), a.prefix, a.line)),
        )
}

/// Link-local IPv6 addresses are per link, so the same one on two
/// interfaces is no conflict.
fn duplicate_addresses(parsed: &[Parsed], errs: &mut EtcErrors) {
    let scoped = |a: &IpAddr| matches!(a, IpAddr::V6(v6) if super::addr::is_link_local6(*v6));
    for (n, p) in parsed.iter().enumerate() {
        for (a, _, line) in addresses(&p.iface).filter(|(a, _, _)| !scoped(a)) {
            let earlier = parsed.iter().take(n).find_map(|q| {
                addresses(&q.iface)
                    .find(|(b, _, _)| *b == a)
                    .map(|(_, _, l)| (q, l))
            });
            if let Some((q, l)) = earlier {
                errs.at(
                    &p.iface.file,
                    line,
                    format!(
                        "{a} is already configured on {} ({}:{l})",
                        q.iface.name,
                        q.iface.file.display()
                    ),
                );
            }
        }
    }
}

/// IPv6 needs links of at least 1280 bytes (RFC 8200); Linux removes
/// IPv6 from an interface with a smaller MTU.
fn mtu_for_ipv6(parsed: &[Parsed], errs: &mut EtcErrors) {
    for p in parsed {
        if let Some(m) = p.iface.mtu.filter(|&m| m < 1280) {
            if let Some(a) = p.iface.inet6.first() {
                errs.push(
                    &p.iface.file,
                    None,
                    format!(
                        "mtu {m} is below IPv6's minimum of 1280, and {} has inet6 {}",
                        p.iface.name, a.addr
                    ),
                );
            }
        }
    }
}

/// Resolve each carp virtual host's carpdev and check vhids are unique
/// on it; returns the interfaces with their `carp` filled in.
fn carp(parsed: Vec<Parsed>, errs: &mut EtcErrors) -> Vec<IfaceConfig> {
    let physical: Vec<&IfaceConfig> = parsed
        .iter()
        .filter(|p| p.carp.is_none())
        .map(|p| &p.iface)
        .collect();
    let mut resolved: Vec<Option<CarpConfig>> = Vec::new();
    let mut taken: Vec<(String, u8, String)> = Vec::new();
    for p in &parsed {
        let Some(d) = &p.carp else {
            resolved.push(None);
            continue;
        };
        let file = &p.iface.file;
        let carpdev = match &d.carpdev {
            Some((dev, line)) => {
                if physical.iter().any(|i| &i.name == dev) {
                    Some(dev.clone())
                } else if super::hostname::is_carp_name(dev) {
                    errs.at(file, *line, format!("carpdev {dev} is a carp interface"));
                    None
                } else {
                    errs.at(
                        file,
                        *line,
                        format!("carpdev {dev} has no hostname.{dev} (pfd runs only on interfaces configured here)"),
                    );
                    None
                }
            }
            None => {
                let found = physical.iter().find(|i| {
                    addresses(&p.iface)
                        .any(|(a, _, _)| addresses(i).any(|(n, len, _)| contains(n, len, a)))
                });
                match found {
                    Some(i) => Some(i.name.clone()),
                    None if p.iface.inet.is_empty() && p.iface.inet6.is_empty() => None,
                    None => {
                        errs.push(
                            file,
                            None,
                            format!(
                                "{}: no carpdev given, and no interface's network holds its address",
                                p.iface.name
                            ),
                        );
                        None
                    }
                }
            }
        };
        if let Some((peer, line)) = d.carppeer {
            if p.iface.inet.is_empty() {
                errs.at(
                    file,
                    line,
                    format!(
                        "carppeer {peer}: {} has no IPv4 address to advertise",
                        p.iface.name
                    ),
                );
            }
        }
        let (Some(carpdev), Some((vhid, vline))) = (carpdev, d.vhid) else {
            resolved.push(None);
            continue;
        };
        if let Some((_, _, other)) = taken
            .iter()
            .find(|(dev, v, _)| *dev == carpdev && *v == vhid)
        {
            errs.at(
                file,
                vline,
                format!("vhid {vhid} is already used on {carpdev} by {other}"),
            );
        } else {
            taken.push((carpdev.clone(), vhid, p.iface.name.clone()));
        }
        resolved.push(Some(CarpConfig {
            vhid,
            advbase: d.advbase.unwrap_or(1),
            advskew: d.advskew.unwrap_or(0),
            carpdev,
            pass: d.pass.clone(),
            carppeer: d.carppeer.map(|(a, _)| a),
            state: d.state,
        }));
    }
    parsed
        .into_iter()
        .zip(resolved)
        .map(|(p, c)| IfaceConfig { carp: c, ..p.iface })
        .collect()
}

/// A default route needs its gateway on a connected network; the
/// interface holding it joins `egress`.
fn gateways(ifs: &mut [IfaceConfig], file: &Path, g: &mygate::Parsed, errs: &mut EtcErrors) {
    if let Some(v4) = g.gw.v4 {
        gateway(ifs, file, g.v4_line, IpAddr::V4(v4), None, errs);
    }
    if let Some(v6) = &g.gw.v6 {
        gateway(
            ifs,
            file,
            g.v6_line,
            IpAddr::V6(v6.addr),
            v6.scope.as_deref(),
            errs,
        );
    }
}

fn gateway(
    ifs: &mut [IfaceConfig],
    file: &Path,
    line: usize,
    gw: IpAddr,
    scope: Option<&str>,
    errs: &mut EtcErrors,
) {
    if let Some(own) = ifs.iter().find(|i| addresses(i).any(|(a, _, _)| a == gw)) {
        errs.at(
            file,
            line,
            format!("gateway {gw} is an address of {} itself", own.name),
        );
        return;
    }
    let holder = if let Some(s) = scope {
        let i = ifs.iter().position(|i| i.name == s);
        if i.is_none() {
            errs.at(file, line, format!("gateway {gw}%{s}: no hostname.{s}"));
            return;
        }
        i
    } else {
        let on = |i: &IfaceConfig| addresses(i).any(|(n, len, _)| contains(n, len, gw));
        let i = ifs
            .iter()
            .position(|i| i.carp.is_none() && on(i))
            .or_else(|| ifs.iter().position(on));
        if i.is_none() {
            errs.at(
                file,
                line,
                format!("gateway {gw} is on no configured network (no interface's address and netmask hold it)"),
            );
            return;
        }
        i
    };
    if let Some(i) = holder.and_then(|n| ifs.get_mut(n)) {
        if !i.groups.iter().any(|g| g == "egress") {
            i.groups.push("egress".to_string());
        }
    }
}
