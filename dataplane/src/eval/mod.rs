//! Rule evaluation over the compiled ruleset: OpenBSD pf's
//! `pf_test_rule` / `pf_match_rule` with its anchor stack, on
//! [`ruleset::compile::Compiled`].
//!
//! Semantics, as in pf: the last matching `pass`/`block` rule decides
//! unless a matching rule is `quick`; `match` rules never decide but
//! accumulate their actions (`set tos`, `scrub`, `log`, `tag`) and
//! translate; anchors are stepped into when the anchor rule matches,
//! wildcard anchors run every child in name order, and a `quick` anchor
//! stops evaluation when a rule inside it decided.
//!
//! Translation during evaluation: pf matches every rule after a
//! `match ... nat-to`/`rdr-to` against the translated addresses. pfd
//! does the same through [`EvalEnv::translate`], which the evaluator
//! calls for each matching rule with a pool and whose answer becomes the
//! [`Flow`] later rules see (and is returned in [`EvalResult::flow`]).
//! The translation itself (pools, ports) belongs to the engine's NAT.
//!
//! Two evaluators give the same result: [`evaluate_linear`] tests every
//! rule in order (the reference); [`evaluate`] uses pf's skip steps and,
//! in rulesets of at least [`CLASSIFY_MIN_RULES`] rules, a classifier
//! built by [`RuleEngine::new`] (see `classify.rs`).

mod bits;
mod classify;
mod counters;
mod env;
mod icmp;
mod matcher;
mod result;
mod walk;
mod worker;

#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod tests;

pub use counters::RuleCounters;
pub use env::{EvalEnv, Flow, NoEnv};
pub use result::{Actions, EvalResult, Matches, MAX_MATCHES};
pub use worker::EvalWorker;

use crate::pdesc::{Dir, Pdesc};
use classify::Classifier;
use ruleset::compile::{CRule, Compiled, IfId, RulesetId, TagId};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// pf's `PF_ANCHOR_STACK_MAX`: anchors nest at most this deep (less one,
/// pf's stack keeps a sentinel frame).
pub const ANCHOR_STACK_MAX: usize = 64;

/// Rulesets at least this long get a classifier; shorter ones are
/// walked with skip steps alone.
pub const CLASSIFY_MIN_RULES: usize = 32;

/// A rule: its ruleset and its index (pf's `@nr`) there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleRef {
    pub ruleset: RulesetId,
    pub index: u32,
}

impl RuleRef {
    pub(crate) const MAIN_FIRST: RuleRef = RuleRef {
        ruleset: RulesetId(0),
        index: 0,
    };
}

/// What the caller knows about the packet beyond its headers.
#[derive(Clone, Copy)]
pub struct EvalCtx<'a> {
    /// The interface the packet is seen on, as [`Compiled::if_id`] names
    /// it. An interface no rule names but that may belong to a group
    /// rules name (`on egress`) needs an id too, any beyond
    /// `Compiled::ifnames`, so that [`EvalEnv::if_in_group`] can be asked
    /// about it; `None` matches only rules without `on` or with `on !`.
    pub ifp: Option<IfId>,
    pub dir: Dir,
    pub rdomain: u32,
    /// The tag the packet carries already (from an earlier pass).
    pub tag: Option<TagId>,
    /// A uniform random draw for this packet, for `probability`. Each
    /// rule derives its own draw from it (pf draws once per rule).
    pub rand: u32,
    pub env: &'a dyn EvalEnv,
}

/// A compiled ruleset ready to evaluate, with what was precomputed for
/// the fast path. Built once per ruleset load and swapped whole.
pub struct RuleEngine {
    compiled: Arc<Compiled>,
    /// Where each ruleset's rules start in the flat rule numbering.
    base: Vec<usize>,
    total: usize,
    /// `once` rules that matched (pf's `PFRULE_EXPIRED`), shared by all
    /// workers as in pf.
    expired: Vec<AtomicBool>,
    classifiers: Vec<Option<Classifier>>,
}

impl std::fmt::Debug for RuleEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleEngine")
            .field("rulesets", &self.base.len())
            .field("rules", &self.total)
            .finish()
    }
}

impl RuleEngine {
    pub fn new(compiled: Arc<Compiled>) -> RuleEngine {
        RuleEngine::with_classify_min(compiled, CLASSIFY_MIN_RULES)
    }

    /// As [`RuleEngine::new`], with classifiers for rulesets of at least
    /// `min_rules` rules (`usize::MAX`: skip steps only).
    pub fn with_classify_min(compiled: Arc<Compiled>, min_rules: usize) -> RuleEngine {
        let mut base = Vec::with_capacity(compiled.rulesets.len());
        let mut total = 0usize;
        let mut classifiers = Vec::with_capacity(compiled.rulesets.len());
        for rs in &compiled.rulesets {
            base.push(total);
            total += rs.rules.len();
            let n = rs.rules.len();
            classifiers.push((n >= min_rules && n > 0).then(|| Classifier::build(&rs.rules)));
        }
        RuleEngine {
            expired: (0..total).map(|_| AtomicBool::new(false)).collect(),
            compiled,
            base,
            total,
            classifiers,
        }
    }

    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    pub fn compiled_arc(&self) -> &Arc<Compiled> {
        &self.compiled
    }

    /// The rule `r` names, if it is one of this engine's.
    pub fn get(&self, r: RuleRef) -> Option<&CRule> {
        self.compiled
            .rulesets
            .get(r.ruleset.0 as usize)?
            .rules
            .get(r.index as usize)
    }

    /// The rule `r` names.
    ///
    /// # Panics
    /// If `r` did not come from this engine (use [`RuleEngine::get`] for
    /// a `RuleRef` kept across a ruleset reload).
    pub fn rule(&self, r: RuleRef) -> &CRule {
        match self.get(r) {
            Some(rule) => rule,
            None => panic!("{r:?} is not a rule of this ruleset"),
        }
    }

    /// Whether a `once` rule has matched and is now inactive.
    pub fn is_expired(&self, r: RuleRef) -> bool {
        self.flat(r).is_some_and(|i| self.expired(i))
    }

    pub(crate) fn rule_count(&self) -> usize {
        self.total
    }

    pub(crate) fn bases(&self) -> &[usize] {
        &self.base
    }

    /// Where rule `r`'s counters sit in [`EvalWorker::all_counters`].
    pub fn flat_index(&self, r: RuleRef) -> Option<usize> {
        self.flat(r)
    }

    fn flat(&self, r: RuleRef) -> Option<usize> {
        let b = *self.base.get(r.ruleset.0 as usize)?;
        let len = self
            .compiled
            .rulesets
            .get(r.ruleset.0 as usize)?
            .rules
            .len();
        ((r.index as usize) < len).then(|| b + r.index as usize)
    }

    fn expired(&self, flat: usize) -> bool {
        self.expired
            .get(flat)
            .is_some_and(|e| e.load(Ordering::Relaxed))
    }

    /// Mark a `once` rule expired; false if another worker got there
    /// first (pf's compare-and-swap on `rule_flag`).
    fn expire(&self, flat: usize) -> bool {
        self.expired.get(flat).is_some_and(|e| {
            e.compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        })
    }

    fn classifier(&self, rs: RulesetId) -> Option<&Classifier> {
        self.classifiers.get(rs.0 as usize)?.as_ref()
    }
}

/// Evaluate the ruleset for the first packet of a connection (or a
/// packet no state matched): the fast path.
///
/// `w` must have been made for `eng` ([`EvalWorker::fits`]).
pub fn evaluate(eng: &RuleEngine, ctx: &EvalCtx<'_>, pd: &Pdesc, w: &mut EvalWorker) -> EvalResult {
    walk::evaluate::<true>(eng, ctx, pd, w)
}

/// The same evaluation by testing every rule in order, without skip
/// steps or classifier: the reference [`evaluate`] is held to.
pub fn evaluate_linear(
    eng: &RuleEngine,
    ctx: &EvalCtx<'_>,
    pd: &Pdesc,
    w: &mut EvalWorker,
) -> EvalResult {
    walk::evaluate::<false>(eng, ctx, pd, w)
}
