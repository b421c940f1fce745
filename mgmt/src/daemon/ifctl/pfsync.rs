//! `ifctl pfsync0`: ifconfig's block for the pfsync interface, its live
//! parameters, and `netstat -s -p pfsync`.

use super::block::{iff, Block};
use crate::control::{ErrorKind, PfsyncChange, Response};
use crate::daemon::pfsync::driver::{PfsyncHandle, GROUP};
use serde_json::json;
use std::net::Ipv4Addr;

/// What the pfsync thread says of itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PfsyncView {
    pub syncdev: String,
    pub syncpeer: Ipv4Addr,
    pub maxupd: u8,
    pub defer: bool,
    pub up: bool,
    /// The bulk update's state, for JSON.
    pub bulk: String,
    pub demotion: i32,
    /// The deferral counters (OpenBSD's pfsync-slice kstats defer-add,
    /// -ack, -run, -over, and the daemon's own), for JSON.
    pub deferrals: serde_json::Value,
}

pub fn view(h: &PfsyncHandle) -> Result<PfsyncView, String> {
    let (mut v, stats, held) = h.call(|m, _, link, _| {
        let v = PfsyncView {
            syncdev: link.name.clone(),
            syncpeer: link.dst,
            maxupd: m.config().maxupd,
            defer: m.config().defer,
            up: m.is_up(),
            bulk: format!("{:?}", m.bulk_state()),
            demotion: m.demotion(),
            deferrals: serde_json::Value::Null,
        };
        (v, m.defer_stats(), m.deferred())
    })?;
    v.deferrals = h.defer_counters().json(stats, held);
    Ok(v)
}

/// The line pfsync_status() prints, without its tab.
pub fn status_line(v: &PfsyncView) -> String {
    let peer = if v.syncpeer == GROUP {
        String::new()
    } else {
        format!("syncpeer: {} ", v.syncpeer)
    };
    format!(
        "pfsync: syncdev: {} {peer}maxupd: {} defer: {}",
        v.syncdev,
        v.maxupd,
        if v.defer { "on" } else { "off" }
    )
}

/// pfsync0's block: up and running when up, the syncdev's MTU, in
/// groups carp and pfsync as OpenBSD puts it.
pub fn block(v: &PfsyncView, index: u32, mtu: Option<u32>) -> Block {
    Block {
        name: "pfsync0".into(),
        flags: if v.up { iff::UP | iff::RUNNING } else { 0 },
        mtu,
        index,
        carp: vec![status_line(v)],
        groups: vec!["carp".into(), "pfsync".into()],
        extra: Some(("deferrals", v.deferrals.clone())),
        ..Block::default()
    }
}

/// `ifctl pfsync0 PARAM...`, in order, as ifconfig's ioctls.
pub fn set(h: &PfsyncHandle, changes: Vec<PfsyncChange>) -> Response {
    for c in &changes {
        match c {
            PfsyncChange::Syncdev(_) => {
                return Response::error(
                    ErrorKind::NotSupported,
                    "not supported: a new syncdev on the running pfd; set it in hostname.pfsync0 and restart",
                )
            }
            PfsyncChange::Syncpeer(a) if a.is_multicast() && *a != GROUP => {
                return Response::error(
                    ErrorKind::Failed,
                    format!("syncpeer {a}: not the pfsync group or a unicast address"),
                )
            }
            _ => {}
        }
    }
    let r = h.call(move |m, _, link, _| {
        for c in changes {
            match c {
                PfsyncChange::Maxupd(n) => m.set_maxupd(n),
                PfsyncChange::Syncpeer(a) => link.dst = a,
                PfsyncChange::NoSyncpeer => link.dst = GROUP,
                PfsyncChange::Defer(on) => m.set_defer(on),
                _ => {}
            }
        }
    });
    match r {
        Ok(()) => Response::ok(),
        Err(e) => Response::error(ErrorKind::Failed, e),
    }
}

/// `struct pfsyncstats`'s names (without `pfsyncs_`), in `to_array`'s
/// order: the JSON's keys and the metrics' names.
pub(crate) const STAT_NAMES: [&str; 16] = [
    "ipackets",
    "ipackets6",
    "badif",
    "badttl",
    "hdrops",
    "badver",
    "badact",
    "badlen",
    "badauth",
    "stale",
    "badval",
    "badstate",
    "opackets",
    "opackets6",
    "onomem",
    "oerrors",
];

/// `netstat -s -p pfsync` (`-ss` leaves out zeros).
pub fn stats(h: Option<&PfsyncHandle>, hide_zero: bool) -> Response {
    let s = match h {
        Some(h) => match h.call(|m, _, _, _| *m.stats()) {
            Ok(s) => s,
            Err(e) => return Response::error(ErrorKind::Failed, e),
        },
        None => pfsync::stats::Stats::default(),
    };
    let j: serde_json::Map<String, serde_json::Value> = STAT_NAMES
        .iter()
        .zip(s.to_array())
        .map(|(n, v)| (n.to_string(), json!(v)))
        .collect();
    Response::Ok {
        text: Some(s.netstat(if hide_zero { 2 } else { 1 })),
        json: Some(serde_json::Value::Object(j)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v() -> PfsyncView {
        PfsyncView {
            syncdev: "em1".into(),
            syncpeer: GROUP,
            maxupd: 128,
            defer: false,
            up: true,
            bulk: "Done".into(),
            demotion: 0,
            deferrals: json!({"add": 3}),
        }
    }

    #[test]
    fn status_line_as_ifconfig_prints_it() {
        assert_eq!(
            status_line(&v()),
            "pfsync: syncdev: em1 maxupd: 128 defer: off"
        );
        let peer = PfsyncView {
            syncpeer: Ipv4Addr::new(203, 0, 113, 2),
            maxupd: 64,
            ..v()
        };
        assert_eq!(
            status_line(&peer),
            "pfsync: syncdev: em1 syncpeer: 203.0.113.2 maxupd: 64 defer: off"
        );
        let b = block(&v(), 7, Some(1500)).text();
        assert_eq!(
            b,
            "pfsync0: flags=41<UP,RUNNING> mtu 1500\n\tindex 7 priority 0 llprio 3\n\tpfsync: syncdev: em1 maxupd: 128 defer: off\n\tgroups: carp pfsync\n"
        );
        let on = PfsyncView { defer: true, ..v() };
        assert!(status_line(&on).ends_with(" defer: on"));
        // the counters are JSON's only, as ifconfig prints none
        assert_eq!(block(&v(), 7, None).json()["deferrals"]["add"], 3);
    }
}
