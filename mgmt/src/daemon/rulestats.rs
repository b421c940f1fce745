//! Per-rule counters on the running pfd: `pfctl -sr -v[v]`,
//! `pfctl -s labels` and `pfctl -z`.

use super::listing::{Listed, RuleStats};
use super::show::View;
use crate::control::Response;
use dataplane::engine::Engine;
use dataplane::eval::RuleRef;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Every rule's counters at one moment: the worker's last published
/// snapshot and the states each rule holds now.
pub(super) struct Counted {
    engine: std::sync::Arc<Engine>,
    snap: super::counters::RuleSnapshot,
    states: HashMap<(u32, u32), u64>,
}

impl Counted {
    fn rule_ref(&self, l: &Listed) -> Option<RuleRef> {
        let rs = *self.engine.compiled().ruleset_index.get(&l.anchor)?;
        Some(RuleRef {
            ruleset: rs,
            index: l.nr,
        })
    }

    pub fn stats(&self, l: &Listed) -> RuleStats {
        let Some(r) = self.rule_ref(l) else {
            return RuleStats::default();
        };
        let rules = self.engine.rules();
        let c = rules
            .flat_index(r)
            .and_then(|i| self.snap.rules.get(i))
            .copied()
            .unwrap_or_default();
        RuleStats {
            evaluations: c.evaluations,
            packets: c.packets,
            bytes: c.bytes,
            states_cur: self
                .states
                .get(&(r.ruleset.0, r.index))
                .copied()
                .unwrap_or(0),
            states_tot: c.states_created,
            expired: rules.is_expired(r),
        }
    }

    /// The rule as `-vv` prints it: each table it matches against
    /// with its size (print_addr's `<name:count>`); an `overload`
    /// table is printed without.
    pub fn text_vv(&self, l: &Listed) -> String {
        let c = self.engine.compiled();
        let mut text = l.text.clone();
        for k in &c.table_keys {
            if !(k.anchor.is_empty() || k.anchor == l.anchor) {
                continue;
            }
            let Some(t) = c.table(&l.anchor, &k.name) else {
                continue;
            };
            if c.table_index.get(k) != Some(&t) {
                continue;
            }
            let plain = format!("<{}>", k.name);
            let sized = format!("<{}:{}>", k.name, self.engine.table_entries(t).len());
            let mut out = String::with_capacity(text.len() + 8);
            let mut rest = text.as_str();
            while let Some(i) = rest.find(&plain) {
                let before = &rest[..i];
                out.push_str(before);
                if out.ends_with("overload ") {
                    out.push_str(&plain);
                } else {
                    out.push_str(&sized);
                }
                rest = &rest[i + plain.len()..];
            }
            out.push_str(rest);
            text = out;
        }
        text
    }

    /// The rule's label, as loaded (macros expanded).
    pub fn label(&self, l: &Listed) -> Option<&str> {
        let r = self.rule_ref(l)?;
        let id = self.engine.rules().get(r)?.actions.label?;
        self.engine
            .compiled()
            .labels
            .get(id.0 as usize)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }
}

fn stats_json(st: &RuleStats) -> Value {
    json!({
        "evaluations": st.evaluations,
        "packets": {"in": st.packets[0], "out": st.packets[1]},
        "bytes": {"in": st.bytes[0], "out": st.bytes[1]},
        "states": st.states_cur,
        "state_creations": st.states_tot,
    })
}

impl View {
    /// The loaded rules, or those of anchor `-a`; with `-R`, only
    /// that rule of it (and an anchor rule's own rules).
    fn listing(&self, anchor: Option<&str>, only: Option<u32>) -> Result<super::Listing, Response> {
        let path = self.anchor_path(anchor)?;
        let all = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        let mut l = if path.is_empty() {
            all.clone()
        } else {
            all.anchor(&path).unwrap_or_default()
        };
        if let Some(n) = only {
            l.0.retain(|r| r.nr == n);
        }
        Ok(l)
    }

    pub(super) fn counted(&self) -> Counted {
        let gen = self.engine.gen();
        let engine = self.engine.get();
        let snap = self.published.rules(gen);
        let mut states = HashMap::new();
        for st in engine.states().states() {
            if let Some(r) = engine.state_ref(st.rule) {
                *states.entry((r.ruleset.0, r.index)).or_insert(0u64) += 1;
            }
        }
        Counted {
            engine,
            snap,
            states,
        }
    }

    /// `pfctl -sr [-v[v]]`: the loaded rules, with -v each one's
    /// counters under it as pfctl prints them.
    pub(super) fn show_rules(
        &self,
        verbose: u8,
        anchor: Option<&str>,
        only: Option<u32>,
    ) -> Response {
        let listing = match self.listing(anchor, only) {
            Ok(l) => l,
            Err(r) => return r,
        };
        let c = self.counted();
        let text = if verbose >= 2 {
            listing.render_with(verbose, &|l| c.stats(l), &|l| c.text_vv(l))
        } else {
            listing.render(verbose, &|l| c.stats(l))
        };
        let list: Vec<Value> = listing
            .flat()
            .into_iter()
            .filter(|(_, l)| verbose >= 2 || !c.stats(l).expired)
            .map(|(_, l)| {
                let mut o = json!({"anchor": l.anchor, "nr": l.nr, "rule": l.text});
                if verbose > 0 {
                    o["counters"] = stats_json(&c.stats(l));
                }
                o
            })
            .collect();
        Response::Ok {
            text: Some(text),
            json: Some(Value::Array(list)),
        }
    }

    /// `pfctl -s labels`: per labelled rule of the main ruleset, pfctl's
    /// `label evaluations packets bytes in-packets in-bytes out-packets
    /// out-bytes state-creations`.
    pub(super) fn show_labels(&self, anchor: Option<&str>, only: Option<u32>) -> Response {
        let listing = match self.listing(anchor, only) {
            Ok(l) => l,
            Err(r) => return r,
        };
        let c = self.counted();
        let mut text = String::new();
        let mut list = Vec::new();
        for l in &listing.0 {
            let Some(label) = c.label(l) else { continue };
            let st = c.stats(l);
            let _ = writeln!(
                text,
                "{label} {} {} {} {} {} {} {} {}",
                st.evaluations,
                st.packets[0].wrapping_add(st.packets[1]),
                st.bytes[0].wrapping_add(st.bytes[1]),
                st.packets[0],
                st.bytes[0],
                st.packets[1],
                st.bytes[1],
                st.states_tot
            );
            let mut o = stats_json(&st);
            o["label"] = json!(label);
            list.push(o);
        }
        Response::Ok {
            text: Some(text),
            json: Some(Value::Array(list)),
        }
    }

    /// `pfctl -z`: every rule's counters from zero (pfctl says nothing).
    pub(super) fn zero_rule_counters(&self) -> Response {
        self.published.zero_rules();
        Response::ok()
    }
}
