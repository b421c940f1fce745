//! `pfctl -si [-v]` on the running pfd, in pfctl's `print_status`
//! layout; pfd's own sections (verdicts, router, interfaces) follow.

use super::counters::Published;
use super::debug::level_name;
use super::show::View;
use crate::control::Response;
use dataplane::reason::Reason;
use dataplane::router::{Drop, Event};
use serde_json::{json, Value};
use std::fmt::Write as _;

/// `  name     count      rate/s` (pfctl's rate only once running).
fn counter(t: &mut String, name: &str, n: u64, runtime: u64) {
    let _ = write!(t, "  {name:<25} {n:>14} ");
    if runtime > 0 {
        let _ = writeln!(t, "{:>14.1}/s", n as f64 / runtime as f64);
    } else {
        let _ = writeln!(t, "{:>14}", "");
    }
}

fn current(t: &mut String, name: &str, n: u64) {
    let _ = writeln!(t, "  {name:<25} {n:>14} {:>14}", "");
}

impl View {
    pub(super) fn info(&self, verbose: u8) -> Response {
        let engine = self.engine.get();
        let p = &self.published;
        let g = Published::get;
        let reasons = p.reasons();
        let router = p.router();
        // pf keeps both as counters; here the count is kept and the
        // half-open ones are counted in place (no listing: -si stays
        // cheap to poll with a million states)
        let states = engine.states().len() as u64;
        let halfopen = engine.states().half_open() as u64;
        let sc = engine.states().counters();
        let sn = engine.states().src_node_counters();
        let cookies = engine.syncookies().status();
        let runtime = p.since().unwrap_or(self.started).elapsed().as_secs();
        let running = if self.engine.enabled() {
            "Enabled"
        } else {
            "Disabled"
        };
        let statline = if runtime > 0 {
            format!(
                "Status: {running} for {} days {:02}:{:02}:{:02}",
                runtime / 86400,
                (runtime / 3600) % 24,
                (runtime / 60) % 60,
                runtime % 60
            )
        } else {
            format!("Status: {running}")
        };
        let debug = format!("Debug: {}", level_name(self.debug.level()));
        let mut t = String::new();
        let _ = writeln!(t, "{statline:<44}{debug:>15}\n");
        let hostid = engine.states().host_id();
        if verbose > 0 {
            let _ = writeln!(t, "Hostid:   0x{hostid:08x}\n");
        }
        let _ = writeln!(t, "{:<27} {:>14} {:>16}", "State Table", "Total", "Rate");
        current(&mut t, "current entries", states);
        current(&mut t, "half-open tcp", halfopen);
        // Every packet pf sees searches the state table once.
        let searches = g(&p.passed[0]) + g(&p.passed[1]) + g(&p.blocked[0]) + g(&p.blocked[1]);
        counter(&mut t, "searches", searches, runtime);
        counter(&mut t, "inserts", sc.inserts, runtime);
        counter(&mut t, "removals", sc.removals, runtime);
        if verbose > 0 {
            let _ = writeln!(t, "Source Tracking Table");
            current(
                &mut t,
                "current entries",
                engine.states().src_node_count() as u64,
            );
            counter(&mut t, "inserts", sn.inserts, runtime);
            counter(&mut t, "removals", sn.removals, runtime);
        }
        let _ = writeln!(t, "Counters");
        for r in Reason::ALL {
            counter(&mut t, r.name(), reasons.get(r), runtime);
        }
        let limits = [
            ("max states per rule", sc.rule_limit),
            ("max-src-states", sn.limit_states),
            ("max-src-nodes", sn.limit_nodes),
            ("max-src-conn", sn.limit_conn),
            ("max-src-conn-rate", sn.limit_conn_rate),
            ("overload table insertion", sn.overload_table),
            ("overload flush states", sn.overload_flush),
            ("synfloods detected", cookies.counters.synfloods),
            ("syncookies sent", cookies.counters.sent),
            ("syncookies validated", cookies.counters.valid),
        ];
        if verbose > 0 {
            let _ = writeln!(t, "Limit Counters");
            for (name, n) in limits {
                counter(&mut t, name, n, runtime);
            }
            // the half-open counts adaptive syncookies turn on over and
            // off under (pfctl's DIOCGETSYNFLWATS)
            let _ = writeln!(t, "Adaptive Syncookies Watermarks");
            let _ = writeln!(t, "  {:<25} {:>14} states", "start", cookies.hiwat);
            let _ = writeln!(t, "  {:<25} {:>14} states", "end", cookies.lowat);
        }
        // pfd's own: pf's verdicts, what the router did, the ports.
        let _ = writeln!(t, "{:<27} {:>14} {:>16}", "Packets", "In", "Out");
        for (name, c) in [("passed", &p.passed), ("blocked", &p.blocked)] {
            let _ = writeln!(t, "  {name:<25} {:>14} {:>16}", g(&c[0]), g(&c[1]));
        }
        let _ = writeln!(t, "Router");
        current(&mut t, "not forwarded (sysctl)", g(&p.cantforward));
        let mut rj = serde_json::Map::new();
        for e in Event::ALL {
            if router.count(e) > 0 {
                current(&mut t, e.name(), router.count(e));
                rj.insert(e.name().to_string(), json!(router.count(e)));
            }
        }
        for d in Drop::ALL {
            if router.dropped(d) > 0 {
                current(&mut t, d.name(), router.dropped(d));
                rj.insert(d.name().to_string(), json!(router.dropped(d)));
            }
        }
        let mut ifs = serde_json::Map::new();
        if let Some(live) = &self.live {
            let _ = writeln!(t, "Interfaces (frames in/out, bytes in/out, lost)");
            for (i, name) in self.ports.iter().enumerate() {
                let Some(st) = live.port(i) else { continue };
                let lost = st.rx_truncated + st.rx_ring_drops + st.tx_dropped;
                let _ = writeln!(
                    t,
                    "  {name:<10}{:>10}{:>10}{:>14}{:>14}{:>8}",
                    st.rx_frames, st.tx_frames, st.rx_bytes, st.tx_bytes, lost
                );
                ifs.insert(
                    name.clone(),
                    json!({
                        "rx_frames": st.rx_frames,
                        "rx_bytes": st.rx_bytes,
                        "tx_frames": st.tx_frames,
                        "tx_bytes": st.tx_bytes,
                        "rx_truncated": st.rx_truncated,
                        "rx_ring_drops": st.rx_ring_drops,
                        "tx_dropped": st.tx_dropped,
                    }),
                );
            }
        }
        let reasons_json: serde_json::Map<String, Value> = Reason::ALL
            .iter()
            .map(|r| (r.name().to_string(), json!(reasons.get(*r))))
            .collect();
        let limits_json: serde_json::Map<String, Value> = limits
            .iter()
            .map(|(n, v)| (n.to_string(), json!(v)))
            .collect();
        Response::Ok {
            text: Some(t),
            json: Some(json!({
                "status": running.to_lowercase(),
                "runtime": runtime,
                "debug": level_name(self.debug.level()),
                "hostid": format!("0x{hostid:08x}"),
                "passed": {"in": g(&p.passed[0]), "out": g(&p.passed[1])},
                "blocked": {"in": g(&p.blocked[0]), "out": g(&p.blocked[1])},
                "replies": g(&p.replies),
                "unsent": g(&p.unsent),
                "pflog_dropped": g(&p.pflog_dropped),
                "cantforward": g(&p.cantforward),
                "states": states,
                "half_open_tcp": halfopen,
                "state_table": {"searches": searches, "inserts": sc.inserts, "removals": sc.removals},
                "src_nodes": {"current": engine.states().src_node_count(), "inserts": sn.inserts, "removals": sn.removals},
                "reasons": reasons_json,
                "limits": limits_json,
                "syncookies": {
                    "mode": match cookies.mode {
                        ruleset::ruleset::Syncookies::Never => "never",
                        ruleset::ruleset::Syncookies::Always => "always",
                        ruleset::ruleset::Syncookies::Adaptive { .. } => "adaptive",
                    },
                    "active": cookies.active,
                    "inflight": cookies.inflight,
                    "watermarks": {"start": cookies.hiwat, "end": cookies.lowat},
                },
                "router": rj,
                "interfaces": ifs,
            })),
        }
    }
}
