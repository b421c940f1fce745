//! `pfctl -F rules|Sources|info|Tables|all`, `pfctl -K` and `pfctl -sS`
//! on the running pfd, with pfctl's messages.

use super::listing::Listing;
use super::show::View;
use crate::control::{ErrorKind, FlushWhat, Response, SrcNodeFilter};
use crate::net::{in_net, parse_net};
use dataplane::pdesc::key_to_ip;
use dataplane::state::ClearScope;
use serde_json::json;
use std::fmt::Write as _;

/// One answer's text and what the JSON says of it.
type Done = Result<(String, serde_json::Value), Response>;

impl View {
    pub(super) fn flush(&self, what: FlushWhat) -> Response {
        let parts: &[FlushWhat] = match what {
            // pfctl -F all: tables, rules, states, sources, statistics
            // (its fingerprints and option reset have no pfd part:
            // pfd loads no fingerprints and keeps its options)
            FlushWhat::All => &[
                FlushWhat::Tables,
                FlushWhat::Rules,
                FlushWhat::States,
                FlushWhat::Sources,
                FlushWhat::Info,
            ],
            FlushWhat::Rules => &[FlushWhat::Rules],
            FlushWhat::States => &[FlushWhat::States],
            FlushWhat::Sources => &[FlushWhat::Sources],
            FlushWhat::Info => &[FlushWhat::Info],
            FlushWhat::Tables => &[FlushWhat::Tables],
            _ => {
                return Response::error(
                    ErrorKind::NotSupported,
                    format!(
                        "not supported: -F {} (pfd loads no OS fingerprints and keeps the options it booted with)",
                        format!("{what:?}").to_lowercase()
                    ),
                )
            }
        };
        let mut text = String::new();
        let mut j = serde_json::Map::new();
        for p in parts {
            let done = match p {
                FlushWhat::Rules => self.flush_rules(),
                FlushWhat::States => self.flush_states(),
                FlushWhat::Sources => self.flush_sources(),
                FlushWhat::Info => self.flush_info(),
                FlushWhat::Tables => self.flush_tables(),
                _ => continue,
            };
            match done {
                Ok((t, v)) => {
                    text.push_str(&t);
                    j.insert(format!("{p:?}").to_lowercase(), v);
                }
                Err(r) => return r,
            }
        }
        Response::Ok {
            text: Some(text),
            json: Some(serde_json::Value::Object(j)),
        }
    }

    /// An empty main ruleset (pf's default: pass); the states, tables,
    /// options and anchors stay.
    fn flush_rules(&self) -> Done {
        let r = self.engine.replace(|cur| {
            let mut c = cur.compiled().clone();
            if let Some(main) = c.rulesets.first_mut() {
                main.rules.clear();
            }
            cur.reload(c)
        });
        match r {
            Ok(()) => {
                *self.rules.lock().unwrap_or_else(|e| e.into_inner()) = Listing::default();
                Ok(("rules cleared\n".into(), json!(true)))
            }
            Err(e) => Err(Response::error(ErrorKind::Failed, e.render("rules"))),
        }
    }

    /// pf's DIOCCLRSTATES: every state, the peer's too, goes with no
    /// delete of its own; pfsync tells the peer with one CLR of the
    /// states this host created.
    fn flush_states(&self) -> Done {
        let gone = self.engine.get().states().clear_quiet(ClearScope::All);
        let n = gone.len();
        let mut text = format!("{n} states cleared\n");
        if let Some(h) = &self.pfsync {
            if let Err(e) = h.states_cleared(gone) {
                // the states are gone here; the peer keeps ours until
                // they expire there
                text.push_str(&format!("pfsync0: the peer was not told: {e}\n"));
            }
        }
        Ok((text, json!(n)))
    }

    fn flush_sources(&self) -> Done {
        let n = self.engine.get().states().kill_src_nodes(|_| true);
        Ok(("source tracking entries cleared\n".into(), json!(n)))
    }

    /// pf's DIOCCLRSTATUS: the status counters from zero, and the time
    /// they count since.
    fn flush_info(&self) -> Done {
        self.published.zero_status();
        self.engine.get().states().clear_counters();
        self.engine.get().syncookies().clear_counters();
        Ok(("pf: statistics cleared\n".into(), json!(true)))
    }

    /// Every table of the main ruleset emptied. (pf deletes tables no
    /// rule refers to; pfd's tables are part of the compiled ruleset,
    /// so they stay, empty.)
    fn flush_tables(&self) -> Done {
        let engine = self.engine.get();
        let ids: Vec<_> = engine
            .compiled()
            .table_keys
            .iter()
            .filter(|k| k.anchor.is_empty())
            .filter_map(|k| engine.table_id(&k.name))
            .collect();
        for t in &ids {
            if let Err(e) = engine.table_flush(*t) {
                return Err(Response::error(ErrorKind::Failed, e));
            }
        }
        Ok((format!("{} tables deleted.\n", ids.len()), json!(ids.len())))
    }

    /// `pfctl -K SRC`: the source nodes of a host or network.
    pub(super) fn kill_src_nodes(&self, f: &SrcNodeFilter) -> Response {
        let Ok(src) = parse_net(&f.src) else {
            return Response::error(
                ErrorKind::BadRequest,
                format!("{}: not an address or network", f.src),
            );
        };
        if f.dst.is_some() {
            return Response::error(
                ErrorKind::NotSupported,
                "not supported: -K with a second address (pfd's source nodes keep no translation address)",
            );
        }
        let n = self
            .engine
            .get()
            .states()
            .kill_src_nodes(|sn| in_net(key_to_ip(sn.af, sn.addr), &src));
        Response::Ok {
            text: Some(format!(
                "killed {n} src nodes from 1 sources and 0 destinations\n"
            )),
            json: Some(json!({ "killed": n })),
        }
    }

    /// `pfctl -sS`: print_src_node's line per source node.
    pub(super) fn show_sources(&self, verbose: u8) -> Response {
        if verbose > 0 {
            return Response::error(
                ErrorKind::NotSupported,
                "not supported: -sS -v (pfd keeps no age or packet counts per source node)",
            );
        }
        let mut nodes = self.engine.get().states().src_node_info();
        nodes.sort_by_key(|n| key_to_ip(n.af, n.addr));
        let mut text = String::new();
        let mut list = Vec::new();
        for n in &nodes {
            let ip = key_to_ip(n.af, n.addr);
            let rate = format!(
                "{}.{}/{}s",
                n.rate_count / 1000,
                (n.rate_count % 1000) / 100,
                n.rate_seconds
            );
            let _ = writeln!(
                text,
                "{ip} ( states {}, connections {}, rate {rate} )",
                n.states, n.conn
            );
            list.push(json!({
                "address": ip.to_string(),
                "states": n.states,
                "connections": n.conn,
                "rate": rate,
            }));
        }
        Response::Ok {
            text: Some(text),
            json: Some(serde_json::Value::Array(list)),
        }
    }
}
