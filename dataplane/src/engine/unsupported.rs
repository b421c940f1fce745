//! Rule features the ruleset compiler accepts but this engine does not
//! enforce yet. A ruleset using one is refused at load, by rule and
//! line, in pfctl's `FILE:LINE: not supported: X` form: pfd never
//! silently ignores part of a rule.

use ruleset::compile::{CRule, Compiled};
use ruleset::rule::RouteKind;
use ruleset::ruleset::DEFAULT_LIMITS;

/// `set limit` indexes, in pf's `PF_LIMIT_*` order.
const LIMIT_TABLES: usize = 3;
const LIMIT_TABLE_ENTRIES: usize = 4;
const LIMIT_ANCHORS: usize = 6;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineError {
    /// Anchor path, "" for the main ruleset.
    pub anchor: String,
    /// pf.conf line, 0 for a global option.
    pub line: u32,
    /// `not supported: X`, or the limit the ruleset goes over.
    pub message: String,
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
                s.push_str(&format!("{file}: {}{at}\n", e.message));
            } else {
                s.push_str(&format!("{file}:{}: {}{at}\n", e.line, e.message));
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
    match (&a.route, a.route_kind) {
        (Some(pool), kind) if kind != RouteKind::None => {
            if let Some(f) = super::route::unsupported_pool(pool) {
                out.push(f);
            }
        }
        (None, RouteKind::None) => {}
        // the parser never gives one without the other
        _ => out.push("route-to, reply-to and dup-to without a pool"),
    }
    if a.scrub.reassemble_tcp {
        out.push("scrub reassemble tcp");
    }
    // the translation pools would need per-address state counts: every
    // translation would fail at run time
    let least = |p: &Option<ruleset::compile::CPool>| {
        p.as_ref()
            .is_some_and(|p| p.kind == ruleset::rule::PoolType::LeastStates)
    };
    if least(&a.nat) || least(&a.rdr) {
        out.push("least-states on nat-to, rdr-to and binat-to");
    }
    out
}

/// Everything in `c` this engine refuses to load.
pub fn check(c: &Compiled) -> Result<(), EngineErrors> {
    let mut errs = Vec::new();
    let o = &c.options;
    let limit = |i: usize| {
        if o.limit_set[i] {
            o.limits[i]
        } else {
            DEFAULT_LIMITS[i]
        }
    };
    // Limits pf checks when the tables are loaded.
    if c.tables.len() as u64 > u64::from(limit(LIMIT_TABLES)) {
        errs.push(EngineError {
            anchor: String::new(),
            line: 0,
            message: format!(
                "{} tables: over set limit tables {}",
                c.tables.len(),
                limit(LIMIT_TABLES)
            ),
        });
    }
    let entries: u64 = c.tables.iter().map(|t| t.len() as u64).sum();
    if entries > u64::from(limit(LIMIT_TABLE_ENTRIES)) {
        errs.push(EngineError {
            anchor: String::new(),
            line: 0,
            message: format!(
                "{entries} table entries: over set limit table-entries {}",
                limit(LIMIT_TABLE_ENTRIES)
            ),
        });
    }
    if c.rulesets.len().saturating_sub(1) as u64 > u64::from(limit(LIMIT_ANCHORS)) {
        errs.push(EngineError {
            anchor: String::new(),
            line: 0,
            message: format!(
                "{} anchors: over set limit anchors {}",
                c.rulesets.len() - 1,
                limit(LIMIT_ANCHORS)
            ),
        });
    }
    for rs in &c.rulesets {
        for r in &rs.rules {
            for feature in rule_features(r) {
                errs.push(EngineError {
                    anchor: rs.path.clone(),
                    line: r.line,
                    message: format!("not supported: {feature}"),
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
