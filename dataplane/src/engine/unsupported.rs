//! Rule features the ruleset compiler accepts but this engine does not
//! enforce yet. A ruleset using one is refused at load, by rule and
//! line, in pfctl's `FILE:LINE: not supported: X` form: pfd never
//! silently ignores part of a rule.

use ruleset::compile::{CRule, Compiled};
use ruleset::rule::{RouteKind, SrcTrack};
use ruleset::ruleset::Syncookies;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineError {
    /// Anchor path, "" for the main ruleset.
    pub anchor: String,
    /// pf.conf line, 0 for a global option.
    pub line: u32,
    pub feature: &'static str,
}

/// Every refusal of one load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineErrors(pub Vec<EngineError>);

impl EngineErrors {
    /// pfctl-style text, one line per refusal.
    pub fn render(&self, file: &str) -> String {
        let mut s = String::new();
        for e in &self.0 {
            let at = if e.anchor.is_empty() {
                String::new()
            } else {
                format!(" (anchor {})", e.anchor)
            };
            if e.line == 0 {
                s.push_str(&format!("{file}: not supported: {}{at}\n", e.feature));
            } else {
                s.push_str(&format!("{file}:{}: not supported: {}{at}\n", e.line, e.feature));
            }
        }
        s
    }
}

impl std::fmt::Display for EngineErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render("pf.conf"))
    }
}

impl std::error::Error for EngineErrors {}

fn rule_features(r: &CRule) -> Vec<&'static str> {
    let mut out = Vec::new();
    let a = &r.actions;
    let s = &a.state;
    if s.max_src_nodes != 0
        || s.max_src_states != 0
        || s.max_src_conn != 0
        || s.max_src_conn_rate != (0, 0)
        || s.overload.is_some()
        || s.src_track != SrcTrack::None
    {
        out.push("source tracking (source-track, max-src-*, overload)");
    }
    if a.route.is_some() || a.route_kind != RouteKind::None {
        out.push("route-to, reply-to and dup-to");
    }
    if a.scrub.min_ttl != 0 {
        out.push("scrub min-ttl");
    }
    if a.scrub.max_mss != 0 {
        out.push("scrub max-mss");
    }
    if a.scrub.no_df {
        out.push("scrub no-df");
    }
    if a.scrub.random_id {
        out.push("scrub random-id");
    }
    if a.scrub.reassemble_tcp {
        out.push("scrub reassemble tcp");
    }
    if a.set_tos.is_some() {
        out.push("set tos");
    }
    out
}

/// Everything in `c` this engine refuses to load.
pub fn check(c: &Compiled) -> Result<(), EngineErrors> {
    let mut errs = Vec::new();
    if c.options.syncookies != Syncookies::Never {
        errs.push(EngineError {
            anchor: String::new(),
            line: 0,
            feature: "set syncookies",
        });
    }
    for rs in &c.rulesets {
        for r in &rs.rules {
            for feature in rule_features(r) {
                errs.push(EngineError {
                    anchor: rs.path.clone(),
                    line: r.line,
                    feature,
                });
            }
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(EngineErrors(errs))
    }
}
