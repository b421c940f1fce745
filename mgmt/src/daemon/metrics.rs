//! `pfd run --metrics ADDR:PORT`: the running pfd's figures in
//! Prometheus's text format. Each family is read where pfctl's and
//! ifctl's answers read it, so a scrape and `pfctl -si`, `-vsr`, `-sl`,
//! `ifctl -s carp`, `ifctl -s pfsync` taken at the same moment agree:
//! the status counters are `pfctl -si -v`'s own answer (its JSON), the
//! rule counters `pfctl -vsr`'s (`Counted`), CARP and pfsync the
//! threads' own statistics, asked for as ifctl asks.

use super::show::View;
use crate::control::Response;
use crate::prometheus::{Exposition, Kind};
use dataplane::reason::Reason;
use dataplane::router::{Drop, Event};
use serde_json::Value;
use std::collections::BTreeMap;

use Kind::{Counter, Gauge};

/// `netstat -s -p carp`'s lines, by `struct carpstats` name.
const CARP_HELP: [(&str, &str); 16] = [
    ("ipackets", "CARP packets received (IPv4)"),
    ("ipackets6", "CARP packets received (IPv6)"),
    ("badif", "CARP packets discarded for bad interface"),
    ("badttl", "CARP packets discarded for wrong TTL"),
    ("hdrops", "CARP packets shorter than header"),
    ("badsum", "CARP packets discarded for bad checksum"),
    ("badver", "CARP packets discarded with a bad version"),
    ("badlen", "CARP packets discarded because packet too short"),
    ("badauth", "CARP packets discarded for bad authentication"),
    ("badvhid", "CARP packets discarded for unknown vhid"),
    (
        "badaddrs",
        "CARP packets discarded because of a bad address list",
    ),
    ("opackets", "CARP packets sent (IPv4)"),
    ("opackets6", "CARP packets sent (IPv6)"),
    ("onomem", "CARP sends failed (no buffer)"),
    ("ostates", "CARP state updates sent"),
    ("preempt", "CARP transitions to master"),
];

/// `netstat -s -p pfsync`'s lines, by `struct pfsyncstats` name.
const PFSYNC_HELP: [(&str, &str); 16] = [
    ("ipackets", "pfsync packets received (IPv4)"),
    ("ipackets6", "pfsync packets received (IPv6)"),
    ("badif", "pfsync packets discarded for bad interface"),
    ("badttl", "pfsync packets discarded for bad ttl"),
    ("hdrops", "pfsync packets shorter than header"),
    ("badver", "pfsync packets discarded for bad version"),
    ("badact", "pfsync packets discarded for bad action"),
    ("badlen", "pfsync packets discarded for short packet"),
    ("badauth", "pfsync packets discarded for bad HMAC"),
    ("stale", "pfsync states discarded as stale"),
    ("badval", "pfsync states discarded for bad values"),
    ("badstate", "pfsync failed state lookups or inserts"),
    ("opackets", "pfsync packets sent (IPv4)"),
    ("opackets6", "pfsync packets sent (IPv6)"),
    ("onomem", "pfsync sends failed (no buffer)"),
    ("oerrors", "pfsync sends failed (send error)"),
];

/// One rule's series.
struct Row {
    anchor: String,
    nr: String,
    label: String,
    st: super::RuleStats,
}

impl Row {
    /// `anchor` and `label` only when set; `direction` when given.
    fn labels<'a>(&'a self, direction: Option<&'a str>) -> Vec<(&'static str, &'a str)> {
        let mut v = vec![
            ("anchor", self.anchor.as_str()),
            ("rule", self.nr.as_str()),
            ("label", self.label.as_str()),
        ];
        if let Some(d) = direction {
            v.push(("direction", d));
        }
        v
    }
}

fn num(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

impl View {
    /// The page `GET /metrics` answers.
    pub fn metrics(&self) -> String {
        let mut e = Exposition::new();
        self.status_metrics(&mut e);
        self.rule_metrics(&mut e);
        self.carp_metrics(&mut e);
        self.pfsync_metrics(&mut e);
        e.finish()
    }

    /// `pfctl -si -v`: state table, reasons, limits, verdicts, router,
    /// interfaces.
    fn status_metrics(&self, e: &mut Exposition) {
        let Response::Ok { json: Some(j), .. } = self.info(1) else {
            return;
        };
        e.single(
            "pfd_pf_enabled",
            Gauge,
            "1 when pf filters (pfctl -e), 0 when disabled (pfctl -d).",
            u64::from(j["status"] == "enabled"),
        );
        e.single(
            "pfd_states",
            Gauge,
            "State table entries now (pfctl -si: current entries).",
            num(&j["states"]),
        );
        e.single(
            "pfd_states_half_open_tcp",
            Gauge,
            "Half-open TCP states now (pfctl -si: half-open tcp).",
            num(&j["half_open_tcp"]),
        );
        let sc = &j["syncookies"];
        e.single(
            "pfd_syncookies_active",
            Gauge,
            "1 while inbound SYNs are answered with syncookies (set syncookies; \
             adaptive: a synflood detected), else 0.",
            u64::from(sc["active"] == true),
        );
        e.single(
            "pfd_syncookies_inflight",
            Gauge,
            "Syncookie SYN|ACKs sent under the secrets still kept and not yet \
             answered by a valid ACK.",
            sc["inflight"]
                .as_array()
                .map_or(0, |a| a.iter().map(num).sum()),
        );
        let st = &j["state_table"];
        e.single(
            "pfd_state_searches_total",
            Counter,
            "State table searches (pfctl -si: searches).",
            num(&st["searches"]),
        );
        e.single(
            "pfd_state_inserts_total",
            Counter,
            "States inserted (pfctl -si: inserts).",
            num(&st["inserts"]),
        );
        e.single(
            "pfd_state_removals_total",
            Counter,
            "States removed (pfctl -si: removals).",
            num(&st["removals"]),
        );
        let sn = &j["src_nodes"];
        e.single(
            "pfd_src_nodes",
            Gauge,
            "Source-tracking nodes now (pfctl -si -v: Source Tracking Table).",
            num(&sn["current"]),
        );
        e.single(
            "pfd_src_node_inserts_total",
            Counter,
            "Source-tracking nodes inserted.",
            num(&sn["inserts"]),
        );
        e.single(
            "pfd_src_node_removals_total",
            Counter,
            "Source-tracking nodes removed.",
            num(&sn["removals"]),
        );
        let mut f = e.family(
            "pfd_reason_packets_total",
            Counter,
            "Packets by pf's reason (pfctl -si: Counters, pf's PFRES_* names): \
             match counts the packets a rule decided, every other reason a drop.",
        );
        for r in Reason::ALL {
            f.sample(&[("reason", r.name())], num(&j["reasons"][r.name()]));
        }
        let mut f = e.family(
            "pfd_limit_total",
            Counter,
            "Times a limit was hit (pfctl -si -v: Limit Counters).",
        );
        if let Some(m) = j["limits"].as_object() {
            for (name, v) in m {
                f.sample(&[("limit", name)], num(v));
            }
        }
        let mut f = e.family(
            "pfd_packets_total",
            Counter,
            "Packets pf passed or blocked, by direction (pfctl -si: Packets).",
        );
        for (action, key) in [("pass", "passed"), ("block", "blocked")] {
            for dir in ["in", "out"] {
                f.sample(&[("action", action), ("direction", dir)], num(&j[key][dir]));
            }
        }
        e.single(
            "pfd_replies_total",
            Counter,
            "Frames sent back to a packet's sender (block return, synproxy).",
            num(&j["replies"]),
        );
        e.single(
            "pfd_unsent_total",
            Counter,
            "Frames pf made that could not be sent.",
            num(&j["unsent"]),
        );
        e.single(
            "pfd_pflog_dropped_total",
            Counter,
            "Records of log rules lost because the --pflog writer fell behind.",
            num(&j["pflog_dropped"]),
        );
        e.single(
            "pfd_not_forwarded_total",
            Counter,
            "Packets for other hosts dropped because forwarding is off for \
             their family (sysctl.conf).",
            num(&j["cantforward"]),
        );
        // Every router counter, zeros too: a series that appears only
        // once it is non-zero cannot be rated.
        let router = self.published.router();
        let mut f = e.family(
            "pfd_router_events_total",
            Counter,
            "What the router did (pfctl -si: Router).",
        );
        for ev in Event::ALL {
            f.sample(&[("event", ev.name())], router.count(ev));
        }
        let mut f = e.family(
            "pfd_router_drops_total",
            Counter,
            "Packets the router dropped, by reason (pfctl -si: Router).",
        );
        for d in Drop::ALL {
            f.sample(&[("reason", d.name())], router.dropped(d));
        }
        if let Some(ifs) = j["interfaces"].as_object() {
            let mut f = e.family(
                "pfd_interface_frames_total",
                Counter,
                "Frames received and sent on each interface pfd runs on.",
            );
            for (name, c) in ifs {
                f.sample(
                    &[("interface", name), ("direction", "in")],
                    num(&c["rx_frames"]),
                );
                f.sample(
                    &[("interface", name), ("direction", "out")],
                    num(&c["tx_frames"]),
                );
            }
            let mut f = e.family(
                "pfd_interface_bytes_total",
                Counter,
                "Bytes received and sent on each interface pfd runs on.",
            );
            for (name, c) in ifs {
                f.sample(
                    &[("interface", name), ("direction", "in")],
                    num(&c["rx_bytes"]),
                );
                f.sample(
                    &[("interface", name), ("direction", "out")],
                    num(&c["tx_bytes"]),
                );
            }
            let mut f = e.family(
                "pfd_interface_lost_total",
                Counter,
                "Frames lost on each interface: received truncated, dropped \
                 by the receive ring, or not sent.",
            );
            for (name, c) in ifs {
                for why in ["rx_truncated", "rx_ring_drops", "tx_dropped"] {
                    f.sample(&[("interface", name), ("reason", why)], num(&c[why]));
                }
            }
        }
    }

    /// `pfctl -vsr` per rule (every anchor's too) and `pfctl -sl` per
    /// label (the main ruleset's rules, as -sl lists them; rules
    /// sharing a label are summed).
    fn rule_metrics(&self, e: &mut Exposition) {
        let listing = self.rules.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let c = self.counted();
        let mut rows = Vec::new();
        let mut labels: BTreeMap<String, super::RuleStats> = BTreeMap::new();
        fn walk<'a>(v: &'a [super::Listed], out: &mut Vec<&'a super::Listed>) {
            for l in v {
                out.push(l);
                if let Some(b) = &l.body {
                    walk(b, out);
                }
            }
        }
        let mut all = Vec::new();
        walk(&listing.0, &mut all);
        for l in all {
            let st = c.stats(l);
            // hidden by pfctl -vsr too
            if st.expired {
                continue;
            }
            let label = c.label(l).unwrap_or("").to_string();
            if !label.is_empty() && l.anchor.is_empty() {
                let s = labels.entry(label.clone()).or_default();
                s.evaluations += st.evaluations;
                for d in 0..2 {
                    s.packets[d] += st.packets[d];
                    s.bytes[d] += st.bytes[d];
                }
                s.states_tot += st.states_tot;
            }
            rows.push(Row {
                anchor: l.anchor.clone(),
                nr: l.nr.to_string(),
                label,
                st,
            });
        }
        let mut f = e.family(
            "pfd_rule_evaluations_total",
            Counter,
            "Times the rule was evaluated (pfctl -vsr: Evaluations).",
        );
        for r in &rows {
            f.sample(&r.labels(None), r.st.evaluations);
        }
        let mut f = e.family(
            "pfd_rule_packets_total",
            Counter,
            "Packets of the rule and its states, by direction (pfctl -vsr: Packets).",
        );
        for r in &rows {
            f.sample(&r.labels(Some("in")), r.st.packets[0]);
            f.sample(&r.labels(Some("out")), r.st.packets[1]);
        }
        let mut f = e.family(
            "pfd_rule_bytes_total",
            Counter,
            "Bytes of the rule and its states, by direction (pfctl -vsr: Bytes).",
        );
        for r in &rows {
            f.sample(&r.labels(Some("in")), r.st.bytes[0]);
            f.sample(&r.labels(Some("out")), r.st.bytes[1]);
        }
        let mut f = e.family(
            "pfd_rule_states",
            Gauge,
            "States the rule holds now (pfctl -vsr: States).",
        );
        for r in &rows {
            f.sample(&r.labels(None), r.st.states_cur);
        }
        let mut f = e.family(
            "pfd_rule_state_creations_total",
            Counter,
            "States the rule created (pfctl -vsr: Inserted).",
        );
        for r in &rows {
            f.sample(&r.labels(None), r.st.states_tot);
        }
        let mut f = e.family(
            "pfd_label_evaluations_total",
            Counter,
            "Evaluations of the rules with this label (pfctl -sl).",
        );
        for (l, s) in &labels {
            f.sample(&[("label", l)], s.evaluations);
        }
        let mut f = e.family(
            "pfd_label_packets_total",
            Counter,
            "Packets of the rules with this label, by direction (pfctl -sl).",
        );
        for (l, s) in &labels {
            f.sample(&[("label", l), ("direction", "in")], s.packets[0]);
            f.sample(&[("label", l), ("direction", "out")], s.packets[1]);
        }
        let mut f = e.family(
            "pfd_label_bytes_total",
            Counter,
            "Bytes of the rules with this label, by direction (pfctl -sl).",
        );
        for (l, s) in &labels {
            f.sample(&[("label", l), ("direction", "in")], s.bytes[0]);
            f.sample(&[("label", l), ("direction", "out")], s.bytes[1]);
        }
        let mut f = e.family(
            "pfd_label_state_creations_total",
            Counter,
            "States created by the rules with this label (pfctl -sl).",
        );
        for (l, s) in &labels {
            f.sample(&[("label", l)], s.states_tot);
        }
    }

    /// Each vhost's state and each carp interface's demotion (ifctl
    /// carpN), and `netstat -s -p carp` (ifctl -s carp).
    fn carp_metrics(&self, e: &mut Exposition) {
        let Some(h) = &self.carp else { return };
        let got = h.call(|host, _| {
            let vhosts: Vec<(String, String, u8, u8, u8)> = host
                .interfaces()
                .iter()
                .flat_map(|i| {
                    let demote = host.demote_count(i.name()).unwrap_or(0);
                    i.vhosts().iter().map(move |v| {
                        (
                            i.name().to_string(),
                            i.carpdev().to_string(),
                            v.vhid(),
                            v.state() as u8,
                            demote,
                        )
                    })
                })
                .collect();
            (vhosts, host.stats().to_array())
        });
        let Ok((vhosts, stats)) = got else { return };
        let mut f = e.family(
            "pfd_carp_state",
            Gauge,
            "CARP state of each vhost: 0 init, 1 backup, 2 master.",
        );
        for (name, dev, vhid, state, _) in &vhosts {
            let vhid = vhid.to_string();
            f.sample(
                &[("interface", name), ("carpdev", dev), ("vhid", &vhid)],
                u64::from(*state),
            );
        }
        let mut f = e.family(
            "pfd_carp_demote",
            Gauge,
            "The demotion each carp interface advertises (the sum of its \
             groups' carpdemote counters).",
        );
        let mut seen = std::collections::HashSet::new();
        for (name, _, _, _, demote) in &vhosts {
            if seen.insert(name) {
                f.sample(&[("interface", name)], u64::from(*demote));
            }
        }
        for ((name, help), v) in CARP_HELP.iter().zip(stats) {
            e.single(
                &format!("pfd_carp_{name}_total"),
                Counter,
                &format!("{help} (netstat -s -p carp, ifctl -s carp)."),
                v,
            );
        }
        e.single(
            "pfd_carp_queue_drops_total",
            Counter,
            "CARP packets pfd dropped before CARP saw them (its queue full).",
            h.queue_drops(),
        );
    }

    /// `netstat -s -p pfsync` (ifctl -s pfsync), and whether pfsync0 is up.
    fn pfsync_metrics(&self, e: &mut Exposition) {
        let Some(h) = &self.pfsync else { return };
        let Ok((up, stats, defer, held)) = h.call(|m, _, _, _| {
            (
                m.is_up(),
                m.stats().to_array(),
                m.defer_stats(),
                m.deferred(),
            )
        }) else {
            return;
        };
        e.single(
            "pfd_pfsync_up",
            Gauge,
            "1 when pfsync0 is up (its syncdev up and running).",
            u64::from(up),
        );
        for ((name, help), v) in PFSYNC_HELP.iter().zip(stats) {
            e.single(
                &format!("pfd_pfsync_{name}_total"),
                Counter,
                &format!("{help} (netstat -s -p pfsync, ifctl -s pfsync)."),
                v,
            );
        }
        // `defer` (ifctl pfsync0's deferrals): OpenBSD's defer kstats,
        // then what pfd's hand-over between threads adds.
        e.single(
            "pfd_pfsync_deferred",
            Gauge,
            "First packets of new states held now, waiting for the peer.",
            held as u64,
        );
        let mut f = e.family(
            "pfd_pfsync_deferrals_total",
            Counter,
            "Deferred packets: held (add), released by the peer's ack (ack), \
             by the 20 ms timeout (run), or because too many were held (over).",
        );
        for (what, v) in [
            ("add", defer.add),
            ("ack", defer.ack),
            ("run", defer.run),
            ("over", defer.over),
        ] {
            f.sample(&[("event", what)], v);
        }
        let c = h.defer_counters();
        let mut f = e.family(
            "pfd_pfsync_defer_not_held_total",
            Counter,
            "Packets to defer that were sent at once instead: pfsync's \
             queue full (queue_full) or pfsync would not hold them \
             (declined); and released packets that could not be sent \
             (unsent).",
        );
        for (what, a) in [
            ("queue_full", &c.full),
            ("declined", &c.declined),
            ("unsent", &c.unsent),
        ] {
            f.sample(
                &[("why", what)],
                a.load(std::sync::atomic::Ordering::Relaxed),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_names_follow_the_structs() {
        let carp: Vec<&str> = CARP_HELP.iter().map(|(n, _)| *n).collect();
        assert_eq!(carp, carp::stats::NAMES);
        let pfsync: Vec<&str> = PFSYNC_HELP.iter().map(|(n, _)| *n).collect();
        assert_eq!(pfsync, super::super::ifctl::pfsync::STAT_NAMES);
    }
}
