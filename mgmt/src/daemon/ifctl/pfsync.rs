//! `ifctl pfsync0`: ifconfig's block for the pfsync interface, its live
//! parameters, and `netstat -s -p pfsync`.

use super::block::{iff, Block};
use crate::control::{ErrorKind, PfsyncChange, Response};
use crate::daemon::pfsync::driver::{Link, PfsyncHandle, GROUP};
use crate::daemon::pfsync::mirror::MirrorStats;
use crate::daemon::pfsync::store::EngineStore;
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
    /// pfd's `bulkburst`.
    pub bulk_burst: u16,
    /// pfd's `authkey`: packets carry an HMAC (the key is never shown).
    pub auth: bool,
    /// pfd's mirror interface, if any.
    pub mirror: Option<String>,
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
            bulk_burst: m.config().bulk_burst,
            auth: m.config().auth.is_some(),
            mirror: link.mirror.as_ref().map(|m| m.name().to_string()),
        };
        (v, m.defer_stats(), m.deferred())
    })?;
    v.deferrals = h.defer_counters().json(stats, held);
    Ok(v)
}

/// pfd's own words, on a line after OpenBSD's.
pub fn pfd_line(v: &PfsyncView) -> String {
    format!(
        "pfd: authkey: {} bulkburst: {} mirror: {}",
        if v.auth { "on" } else { "off" },
        v.bulk_burst,
        v.mirror.as_deref().unwrap_or("off")
    )
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
        carp: vec![status_line(v), pfd_line(v)],
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
    let read = |m: &mut pfsync::Pfsync, _: &mut EngineStore, link: &mut Link, _| {
        let mirror = link
            .mirror
            .as_ref()
            .map(|m| (m.name().to_string(), m.stats()));
        (*m.stats(), m.auth_stats(), mirror)
    };
    let (s, auth, mirror) = match h {
        Some(h) => match h.call(read) {
            Ok(s) => s,
            Err(e) => return Response::error(ErrorKind::Failed, e),
        },
        None => (pfsync::stats::Stats::default(), None, None),
    };
    let mut j: serde_json::Map<String, serde_json::Value> = STAT_NAMES
        .iter()
        .zip(s.to_array())
        .map(|(n, v)| (n.to_string(), json!(v)))
        .collect();
    let mut text = s.netstat(if hide_zero { 2 } else { 1 });
    j.insert(
        "auth".into(),
        auth.map_or(
            serde_json::Value::Null,
            |a| json!({ "unauthenticated": a.unauthenticated, "replayed": a.replayed }),
        ),
    );
    if let Some(a) = auth {
        text.push_str(&auth_text(&a, hide_zero));
    }
    j.insert(
        "mirror".into(),
        mirror.as_ref().map_or(serde_json::Value::Null, |(name, m)| {
            json!({ "name": name, "sent": m.sent, "taken": m.taken, "failed": m.failed })
        }),
    );
    if let Some((name, m)) = &mirror {
        text.push_str(&mirror_text(name, m, hide_zero));
    }
    Response::Ok {
        text: Some(text),
        json: Some(serde_json::Value::Object(j)),
    }
}

/// What went into the mirror interface, after netstat's lines.
fn mirror_text(name: &str, m: &MirrorStats, hide_zero: bool) -> String {
    let mut t = format!("pfd mirror {name}:\n");
    for (n, what) in [
        (m.sent, "of packets sent"),
        (m.taken, "of packets received"),
        (m.failed, "dropped (the interface refused them)"),
    ] {
        if n > 0 || !hide_zero {
            let copies = if n == 1 { "copy" } else { "copies" };
            t.push_str(&format!("\t{n} {copies} {what}\n"));
        }
    }
    t
}

/// pfd's breakdown of the packets discarded for bad HMAC, after
/// netstat's lines (with `authkey` only).
fn auth_text(a: &pfsync::auth::AuthStats, hide_zero: bool) -> String {
    let mut t = String::from("pfd authkey:\n");
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    for (n, what) in [
        (
            a.unauthenticated,
            "without a valid HMAC (no key or another key)",
        ),
        (a.replayed, "replayed"),
    ] {
        if n > 0 || !hide_zero {
            t.push_str(&format!("\t{n} packet{} {what}\n", plural(n)));
        }
    }
    t
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
            bulk_burst: 1,
            auth: false,
            mirror: Some("pfsync0".into()),
        }
    }

    #[test]
    fn mirror_counts() {
        let m = MirrorStats {
            sent: 5,
            taken: 1,
            failed: 0,
        };
        assert_eq!(
            mirror_text("pfsync0", &m, false),
            "pfd mirror pfsync0:\n\t5 copies of packets sent\n\t1 copy of packets received\n\t0 copies dropped (the interface refused them)\n"
        );
        assert_eq!(
            mirror_text("pfsync0", &m, true),
            "pfd mirror pfsync0:\n\t5 copies of packets sent\n\t1 copy of packets received\n"
        );
    }

    #[test]
    fn auth_drops_by_kind() {
        let a = pfsync::auth::AuthStats {
            unauthenticated: 3,
            replayed: 1,
        };
        assert_eq!(
            auth_text(&a, false),
            "pfd authkey:\n\t3 packets without a valid HMAC (no key or another key)\n\t1 packet replayed\n"
        );
        let none = pfsync::auth::AuthStats::default();
        assert_eq!(auth_text(&none, true), "pfd authkey:\n");
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
            "pfsync0: flags=41<UP,RUNNING> mtu 1500\n\tindex 7 priority 0 llprio 3\n\tpfsync: syncdev: em1 maxupd: 128 defer: off\n\tpfd: authkey: off bulkburst: 1 mirror: pfsync0\n\tgroups: carp pfsync\n"
        );
        let keyed = PfsyncView {
            auth: true,
            bulk_burst: 50,
            ..v()
        };
        assert_eq!(
            pfd_line(&keyed),
            "pfd: authkey: on bulkburst: 50 mirror: pfsync0"
        );
        let bare = PfsyncView {
            mirror: None,
            ..v()
        };
        assert_eq!(
            pfd_line(&bare),
            "pfd: authkey: off bulkburst: 1 mirror: off"
        );
        let on = PfsyncView { defer: true, ..v() };
        assert!(status_line(&on).ends_with(" defer: on"));
        // the counters are JSON's only, as ifconfig prints none
        assert_eq!(block(&v(), 7, None).json()["deferrals"]["add"], 3);
    }
}
