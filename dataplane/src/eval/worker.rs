//! Per-worker evaluation state: counters and scratch space, so that
//! evaluation allocates nothing once a worker has warmed up.

use crate::pdesc::Dir;
use ruleset::compile::RulesetId;
use ruleset::rule::Action;

use super::classify::CandState;
use super::counters::RuleCounters;
use super::result::EvalResult;
use super::{RuleEngine, RuleRef, ANCHOR_STACK_MAX};

/// One anchor call in progress (pf's `pf_anchor_stackframe`).
#[derive(Clone, Copy, Debug)]
pub(super) struct Frame {
    /// Ruleset holding the anchor rule, and the rule's index.
    pub rs: RulesetId,
    pub anchor_idx: u32,
    /// For `anchor "a/*"`: the next child of the wildcard's ruleset to run.
    pub wildcard: Option<(RulesetId, u32)>,
}

pub struct EvalWorker {
    /// Flat-indexed by [`RuleEngine::flat`].
    counters: Vec<RuleCounters>,
    /// pf's default rule, which has counters too.
    default_counters: RuleCounters,
    /// Where each ruleset's rules start in `counters` (the engine's).
    base: Vec<usize>,
    pub(super) stack: Vec<Frame>,
    /// Classifier walk per anchor depth, and the flow generation each
    /// was started for.
    pub(super) cand: Vec<CandState>,
    pub(super) cand_gen: Vec<u32>,
}

impl EvalWorker {
    pub fn new(eng: &RuleEngine) -> EvalWorker {
        EvalWorker {
            counters: vec![RuleCounters::default(); eng.rule_count()],
            default_counters: RuleCounters::default(),
            base: eng.bases().to_vec(),
            stack: Vec::with_capacity(ANCHOR_STACK_MAX),
            cand: vec![CandState::default(); ANCHOR_STACK_MAX + 1],
            cand_gen: vec![0; ANCHOR_STACK_MAX + 1],
        }
    }

    /// Whether this worker was built for `eng`'s ruleset size; a worker
    /// must be rebuilt when the engine is swapped.
    pub fn fits(&self, eng: &RuleEngine) -> bool {
        self.counters.len() == eng.rule_count() && self.base == eng.bases()
    }

    fn flat(&self, r: RuleRef) -> Option<usize> {
        let b = *self.base.get(r.ruleset.0 as usize)?;
        b.checked_add(r.index as usize)
    }

    pub fn counters(&self, r: RuleRef) -> RuleCounters {
        self.flat(r)
            .and_then(|i| self.counters.get(i))
            .copied()
            .unwrap_or_default()
    }

    pub fn default_counters(&self) -> RuleCounters {
        self.default_counters
    }

    /// Every rule's counters, flat-indexed as [`RuleEngine::flat_index`]
    /// numbers them, for a snapshot the control plane reads.
    pub fn all_counters(&self) -> &[RuleCounters] {
        &self.counters
    }

    /// pfctl -z: every rule's counters (the default rule's too) back to
    /// zero.
    pub fn clear_counters(&mut self) {
        self.counters.fill(RuleCounters::default());
        self.default_counters = RuleCounters::default();
    }

    pub(super) fn bump_evaluations(&mut self, flat: usize) {
        if let Some(c) = self.counters.get_mut(flat) {
            c.evaluations = c.evaluations.wrapping_add(1);
        }
    }

    /// Count one packet of `bytes` against rule `r` (`None`: the
    /// default rule).
    pub fn add_bytes(&mut self, r: Option<RuleRef>, dir: Dir, bytes: u64) {
        let c = match r {
            None => Some(&mut self.default_counters),
            Some(r) => self.flat(r).and_then(|i| self.counters.get_mut(i)),
        };
        if let Some(c) = c {
            c.count(dir, bytes);
        }
    }

    /// A state was created by rule `r`.
    pub fn add_state(&mut self, r: Option<RuleRef>) {
        let c = match r {
            None => Some(&mut self.default_counters),
            Some(r) => self.flat(r).and_then(|i| self.counters.get_mut(i)),
        };
        if let Some(c) = c {
            c.states_created = c.states_created.wrapping_add(1);
        }
    }

    /// pf's `pf_counters_inc` for a packet decided by rules: when it
    /// passed, or was blocked by a block rule, count it against the
    /// deciding rule, the anchor rule and every `match` rule.
    pub fn account(&mut self, eng: &RuleEngine, res: &EvalResult, dir: Dir, bytes: u64) {
        let blocked_by_rule = res
            .rule
            .and_then(|r| eng.get(r))
            .is_some_and(|r| r.action == Action::Block);
        if res.action != Action::Pass && !blocked_by_rule {
            return;
        }
        self.add_bytes(res.rule, dir, bytes);
        if let Some(a) = res.anchor {
            self.add_bytes(Some(a), dir, bytes);
        }
        for &m in res.matches.as_slice() {
            self.add_bytes(Some(m), dir, bytes);
        }
    }
}
