//! The control socket's `ifctl` requests on the running daemon:
//! ifconfig's blocks for pfd's interfaces (physical ones from the etc
//! configuration and the kernel, carp ones from the CARP thread), live
//! carp parameters, group demotion and `netstat -s -p carp`; pfsync0's
//! block, parameters and `netstat -s -p pfsync`.

mod block;
mod change;
mod links;
pub(crate) mod pfsync;
mod snapshot;
mod stats;

pub use block::{Block, V4, V6};
pub use change::ChangeError;
pub use links::{LinkFacts, Links, Sysfs};
pub use snapshot::CarpView;

use super::CarpHandle;
use crate::control::{ErrorKind, IfctlOp, Response};
use crate::etc::EtcConfig;
use block::iff;
use serde_json::Value;

/// `IF_CARP_DEFAULT_PRIORITY`: carp interfaces' route priority.
const CARP_PRIORITY: u8 = 15;

/// What the handler reads.
pub struct Ctx<'a> {
    /// How pfd was booted (`None`: tests without an etc directory).
    pub etc: Option<&'a EtcConfig>,
    /// The physical interfaces pfd runs on, in port order.
    pub ports: &'a [String],
    pub carp: Option<&'a CarpHandle>,
    pub pfsync: Option<&'a super::pfsync::driver::PfsyncHandle>,
    pub links: &'a dyn Links,
}

impl<'a> Ctx<'a> {
    pub fn of(view: &'a super::View) -> Ctx<'a> {
        Ctx {
            etc: view.etc.as_deref(),
            ports: &view.ports,
            carp: view.carp.as_ref(),
            pfsync: view.pfsync.as_ref(),
            links: &Sysfs,
        }
    }

    fn carp_views(&self) -> Result<Vec<CarpView>, Response> {
        match self.carp {
            None => Ok(Vec::new()),
            Some(h) => h
                .call(|host, _| snapshot::snapshot(host))
                .map_err(|e| Response::error(ErrorKind::Failed, e)),
        }
    }
}

pub fn handle(ctx: &Ctx<'_>, op: IfctlOp) -> Response {
    match op {
        IfctlOp::Status { name } => status(ctx, name.as_deref()),
        IfctlOp::SetCarp { name, changes } => {
            let Some(h) = ctx.carp.filter(|_| !ctx.ports.contains(&name)) else {
                return not_carp(ctx, &name);
            };
            let n = name.clone();
            match h.call(move |host, now| change::apply(host, now, &n, &changes)) {
                Ok(Ok(())) => Response::ok(),
                Ok(Err(e @ ChangeError::NotSupported { .. })) => {
                    Response::error(ErrorKind::NotSupported, e.to_string())
                }
                Ok(Err(e)) => Response::error(ErrorKind::Failed, e.to_string()),
                Err(e) => Response::error(ErrorKind::Failed, e),
            }
        }
        IfctlOp::GroupShow { group } => {
            let views = match ctx.carp_views() {
                Ok(v) => v,
                Err(r) => return r,
            };
            if !group_exists(ctx, &views, &group) {
                return no_group(&group, "SIOCGIFGATTR");
            }
            let g = group.clone();
            let n = match ctx.carp {
                Some(h) => match h.call(move |host, _| host.group_demote(&g)) {
                    Ok(n) => n,
                    Err(e) => return Response::error(ErrorKind::Failed, e),
                },
                None => 0,
            };
            Response::Ok {
                text: Some(format!("{group}: carp demote count {n}\n")),
                json: Some(serde_json::json!({ "group": group, "carp_demote": n })),
            }
        }
        IfctlOp::GroupDemote { group, delta } => {
            let views = match ctx.carp_views() {
                Ok(v) => v,
                Err(r) => return r,
            };
            if !group_exists(ctx, &views, &group) {
                return no_group(&group, "SIOCSIFGATTR");
            }
            let Some(h) = ctx.carp else {
                // Groups without carp interfaces: OpenBSD keeps the
                // attribute, which then demotes nothing; pfd has no
                // CARP to keep it in.
                return Response::error(
                    ErrorKind::NotSupported,
                    format!("{group}: not supported: carpdemote without carp interfaces"),
                );
            };
            let g = group.clone();
            match h.call(move |host, now| host.set_group_demote(now, &g, delta)) {
                Ok(Ok(n)) => Response::Ok {
                    text: None,
                    json: Some(serde_json::json!({ "group": group, "carp_demote": n })),
                },
                Ok(Err(e)) => Response::error(
                    ErrorKind::Failed,
                    format!("{group}: SIOCSIFGATTR: Invalid argument: {e}"),
                ),
                Err(e) => Response::error(ErrorKind::Failed, e),
            }
        }
        IfctlOp::CarpStats { hide_zero } => {
            let (s, drops) = match ctx.carp {
                Some(h) => match h.call(|host, _| *host.stats()) {
                    Ok(s) => (s, h.queue_drops()),
                    Err(e) => return Response::error(ErrorKind::Failed, e),
                },
                // No carp interface: every counter is zero, as on an
                // OpenBSD box that never saw an advert.
                None => (carp::CarpStats::default(), 0),
            };
            Response::Ok {
                text: Some(stats::text(&s, hide_zero)),
                json: Some(stats::json(&s, drops)),
            }
        }
        IfctlOp::PfsyncStats { hide_zero } => pfsync::stats(ctx.pfsync, hide_zero),
        IfctlOp::SetPfsync { changes } => match ctx.pfsync {
            Some(h) => pfsync::set(h, changes),
            None => Response::error(ErrorKind::Failed, "pfsync0: no such interface"),
        },
        #[allow(unreachable_patterns)]
        other => Response::error(
            ErrorKind::NotSupported,
            format!("not supported: ifctl {other:?}"),
        ),
    }
}

/// ifconfig's words for a carp parameter on something that is not a
/// carp interface.
fn not_carp(ctx: &Ctx<'_>, name: &str) -> Response {
    if ctx.ports.iter().any(|p| p == name) {
        Response::error(
            ErrorKind::Failed,
            format!("{name}: SIOCGVH: Inappropriate ioctl for device"),
        )
    } else {
        Response::error(ErrorKind::Failed, format!("{name}: no such interface"))
    }
}

fn no_group(group: &str, ioctl: &str) -> Response {
    Response::error(
        ErrorKind::Failed,
        format!("{group}: {ioctl}: No such file or directory"),
    )
}

fn group_exists(ctx: &Ctx<'_>, views: &[CarpView], group: &str) -> bool {
    group == "all"
        || views.iter().any(|v| v.groups.iter().any(|g| g == group))
        || ctx.etc.is_some_and(|e| {
            e.interfaces
                .iter()
                .any(|i| i.groups.iter().any(|g| g == group))
        })
}

/// The groups of a physical interface: the etc configuration's, else
/// its driver's (the name without its unit).
fn groups_of(ctx: &Ctx<'_>, name: &str) -> Vec<String> {
    match ctx.etc.and_then(|e| e.interface(name)) {
        Some(i) => i.groups.clone(),
        None => vec![name
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .to_string()],
    }
}

fn addresses(ctx: &Ctx<'_>, name: &str, index: u32) -> (Vec<V4>, Vec<V6>) {
    let Some(i) = ctx.etc.and_then(|e| e.interface(name)) else {
        return (Vec::new(), Vec::new());
    };
    let v4 = i
        .inet
        .iter()
        .map(|a| V4 {
            addr: a.addr,
            prefix: a.prefix,
            broadcast: a.broadcast,
        })
        .collect();
    let v6 = i
        .inet6
        .iter()
        .map(|a| V6 {
            addr: a.addr,
            prefix: a.prefix,
            scope: (a.addr.segments()[0] & 0xffc0 == 0xfe80).then_some(index),
        })
        .collect();
    (v4, v6)
}

fn physical_block(ctx: &Ctx<'_>, name: &str) -> Block {
    let f = ctx.links.facts(name).unwrap_or_default();
    let mut flags = iff::SIMPLEX;
    for (linux, ours) in [
        (links::linux::UP, iff::UP),
        (links::linux::BROADCAST, iff::BROADCAST),
        (links::linux::PROMISC, iff::PROMISC),
        (links::linux::MULTICAST, iff::MULTICAST),
    ] {
        if f.flags & linux != 0 {
            flags |= ours;
        }
    }
    if f.running {
        flags |= iff::RUNNING;
    }
    let (inet, inet6) = addresses(ctx, name, f.index);
    let conf = ctx.etc.and_then(|e| e.interface(name));
    Block {
        name: name.to_string(),
        flags,
        mtu: f.mtu,
        lladdr: f.mac,
        description: conf.and_then(|c| c.description.clone()),
        index: f.index,
        priority: 0,
        carp: Vec::new(),
        groups: groups_of(ctx, name),
        status: Some(if f.running { "active" } else { "no carrier" }.to_string()),
        inet,
        inet6,
        extra: None,
    }
}

/// A carp interface: its index follows the physical ones' (pfd's
/// own, as OpenBSD numbers a cloned interface after the hardware).
fn carp_block(ctx: &Ctx<'_>, v: &CarpView, index: u32) -> Block {
    let mut flags = iff::BROADCAST | iff::SIMPLEX | iff::MULTICAST;
    if v.up {
        flags |= iff::UP;
    }
    if v.running {
        flags |= iff::RUNNING;
    }
    let (inet, inet6) = addresses(ctx, &v.name, index);
    let conf = ctx.etc.and_then(|e| e.interface(&v.name));
    let mut groups = conf.map_or_else(Vec::new, |c| c.groups.clone());
    for g in &v.groups {
        if !groups.contains(g) {
            groups.push(g.clone());
        }
    }
    Block {
        name: v.name.clone(),
        flags,
        mtu: ctx.links.facts(&v.carpdev).and_then(|f| f.mtu),
        lladdr: Some(v.lladdr),
        description: conf.and_then(|c| c.description.clone()),
        index,
        priority: CARP_PRIORITY,
        carp: v.lines.clone(),
        groups,
        status: Some(snapshot::status_word(v.link).to_string()),
        inet,
        inet6,
        extra: None,
    }
}

/// Every interface's block, physical ones first.
fn blocks(ctx: &Ctx<'_>, views: &[CarpView]) -> Vec<Block> {
    let mut out: Vec<Block> = ctx.ports.iter().map(|p| physical_block(ctx, p)).collect();
    let base = out.iter().map(|b| b.index).max().unwrap_or(0);
    for (n, v) in views.iter().enumerate() {
        out.push(carp_block(ctx, v, base + 1 + n as u32));
    }
    if let Some(v) = ctx.pfsync.and_then(|h| pfsync::view(h).ok()) {
        let mtu = ctx
            .ports
            .iter()
            .position(|p| *p == v.syncdev)
            .and_then(|i| out.get(i))
            .and_then(|b| b.mtu);
        let index = base + 1 + views.len() as u32;
        out.push(pfsync::block(&v, index, mtu));
    }
    out
}

/// `ifctl [NAME]`: every block, the one named, or a group's members.
fn status(ctx: &Ctx<'_>, name: Option<&str>) -> Response {
    let views = match ctx.carp_views() {
        Ok(v) => v,
        Err(r) => return r,
    };
    let all = blocks(ctx, &views);
    let chosen: Vec<&Block> = match name {
        None => all.iter().collect(),
        Some(n) => {
            let one: Vec<&Block> = all.iter().filter(|b| b.name == n).collect();
            if one.is_empty() {
                all.iter()
                    .filter(|b| b.groups.iter().any(|g| g == n))
                    .collect()
            } else {
                one
            }
        }
    };
    if let (Some(n), true) = (name, chosen.is_empty()) {
        return Response::error(ErrorKind::Failed, format!("{n}: no such interface"));
    }
    Response::Ok {
        text: Some(chosen.iter().map(|b| b.text()).collect()),
        json: Some(Value::Array(chosen.iter().map(|b| b.json()).collect())),
    }
}

#[cfg(test)]
mod tests;
