//! pf's `pf_match_rule` and `pf_test_rule`'s rule part: walk the main
//! ruleset and the anchors it calls, keep the last matching pass/block
//! rule, accumulate `match` rules, stop at `quick`.
//!
//! One walk serves both evaluators. The linear one tests every rule in
//! order; the fast one jumps with skip steps and, in rulesets that have
//! a classifier, visits only the classifier's candidates. Both reach
//! the same matching rules in the same order, so the result is the same.

use crate::pdesc::Pdesc;
use crate::reason::Reason;
use ruleset::compile::{CRule, RulesetId, TagId};
use ruleset::rule::Action;

use super::env::Flow;
use super::matcher::{test, Miss, Packet};
use super::result::{Actions, EvalResult, Matches};
use super::worker::{EvalWorker, Frame};
use super::{EvalCtx, RuleEngine, RuleRef, ANCHOR_STACK_MAX};

/// The rule's own random draw in pf's range `1..=u32::MAX - 1`, from the
/// packet's draw and the rule's position, so that rules with
/// `probability` stay independent of each other (pf draws per rule) and
/// both evaluators draw the same for the same rule.
fn rule_random(rand: u32, flat: usize) -> u32 {
    let mut z =
        (u64::from(rand) << 32 | (flat as u64 & 0xffff_ffff)).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    ((z % u64::from(u32::MAX - 1)) + 1) as u32
}

struct Walk<'a, const FAST: bool> {
    eng: &'a RuleEngine,
    p: Packet<'a>,
    flow: Flow,
    /// Bumped each time a translation changes `flow`: classifier
    /// candidates computed before are stale.
    flow_gen: u32,
    tag: Option<TagId>,
    rm: Option<RuleRef>,
    am: Option<RuleRef>,
    /// pf's `ctx->a`: the anchor rule last stepped into.
    cur_anchor: Option<RuleRef>,
    matches: Matches,
    actions: Actions,
    nat: Option<RuleRef>,
    rdr: Option<RuleRef>,
    quick: bool,
}

impl<const FAST: bool> Walk<'_, FAST> {
    /// Start the classifier walk of `rs` at `depth`, from rule `from`.
    fn enter(&self, w: &mut EvalWorker, rs: RulesetId, depth: usize, from: u32) {
        if !FAST {
            return;
        }
        let Some(c) = self.eng.classifier(rs) else {
            return;
        };
        if let (Some(st), Some(gen)) = (w.cand.get_mut(depth), w.cand_gen.get_mut(depth)) {
            *st = c.start(&self.p, &self.flow, from);
            *gen = self.flow_gen;
        }
    }

    /// The next rule index at or after `i` worth testing in `rs`.
    fn next(
        &self,
        w: &mut EvalWorker,
        rs: RulesetId,
        depth: usize,
        i: u32,
        len: u32,
    ) -> Option<u32> {
        if i >= len {
            return None;
        }
        if FAST {
            if let Some(c) = self.eng.classifier(rs) {
                let st = w.cand.get_mut(depth)?;
                return c.next(st, i).filter(|&j| j < len);
            }
        }
        Some(i)
    }

    /// pf's `pf_get_transaddr` step for a matching rule. True when the
    /// flow changed.
    fn translate(&mut self, rref: RuleRef, r: &CRule) -> Result<bool, Reason> {
        let has_nat = r.actions.nat.is_some();
        let has_rdr = r.actions.rdr.is_some();
        if !has_nat && !has_rdr {
            return Ok(false);
        }
        if has_nat {
            self.nat = Some(rref);
        }
        if has_rdr {
            self.rdr = Some(rref);
        }
        let env = self.p.ctx.env;
        if let Some(f) =
            env.translate(self.p.compiled, rref, r, self.p.ctx, self.p.pd, &self.flow)?
        {
            if f != self.flow {
                self.flow = f;
                self.flow_gen = self.flow_gen.wrapping_add(1);
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn run(&mut self, w: &mut EvalWorker) -> Result<(), Reason> {
        let eng = self.eng;
        let compiled = eng.compiled();
        w.stack.clear();
        let mut rs = RulesetId(0);
        let mut i: u32 = 0;
        self.enter(w, rs, 0, 0);
        'ruleset: loop {
            let rules = compiled
                .rulesets
                .get(rs.0 as usize)
                .map_or(&[][..], |r| r.rules.as_slice());
            let len = u32::try_from(rules.len()).unwrap_or(u32::MAX);
            let depth = w.stack.len();
            while let Some(idx) = self.next(w, rs, depth, i, len) {
                i = idx.saturating_add(1);
                let Some(r) = rules.get(idx as usize) else {
                    break;
                };
                let rref = RuleRef {
                    ruleset: rs,
                    index: idx,
                };
                let flat = eng.flat(rref).unwrap_or(0);
                if eng.expired(flat) {
                    continue;
                }
                w.bump_evaluations(flat);
                let rand = if r.prob != 0 {
                    rule_random(self.p.ctx.rand, flat)
                } else {
                    0
                };
                if let Err(miss) = test(r, &self.p, &self.flow, self.tag, rand) {
                    if FAST {
                        if let Miss::Skip(f) = miss {
                            let to = r.skip.get(f).copied().unwrap_or(i);
                            i = i.max(to);
                        }
                    }
                    continue;
                }
                if r.tag.is_some() {
                    self.tag = r.tag;
                }
                match r.anchor {
                    None => {
                        if r.once && !eng.expire(flat) {
                            continue;
                        }
                        if r.action == Action::Match {
                            if !self.matches.push(rref) {
                                return Err(Reason::Memory);
                            }
                            self.actions.apply(r);
                            if self.translate(rref, r)? {
                                self.enter(w, rs, depth, i);
                            }
                        } else {
                            self.rm = Some(rref);
                            self.am = self.cur_anchor;
                        }
                        if r.quick {
                            self.quick = true;
                            return Ok(());
                        }
                    }
                    Some(a) => {
                        self.cur_anchor = Some(rref);
                        let (target, wildcard) = if a.wildcard {
                            let first = compiled
                                .rulesets
                                .get(a.ruleset.0 as usize)
                                .and_then(|t| t.children.first().copied());
                            // No children: nothing to run, nothing pushed.
                            let Some(first) = first else {
                                continue;
                            };
                            (first, Some((a.ruleset, 1)))
                        } else {
                            (a.ruleset, None)
                        };
                        // pf's stack has one sentinel frame.
                        if w.stack.len() + 1 >= ANCHOR_STACK_MAX {
                            return Err(Reason::Match);
                        }
                        w.stack.push(Frame {
                            rs,
                            anchor_idx: idx,
                            wildcard,
                        });
                        rs = target;
                        i = 0;
                        self.enter(w, rs, w.stack.len(), 0);
                        continue 'ruleset;
                    }
                }
            }
            // End of this ruleset: back to the caller (pf's stack pop).
            let Some(f) = w.stack.pop() else {
                return Ok(());
            };
            let aref = RuleRef {
                ruleset: f.rs,
                index: f.anchor_idx,
            };
            if eng.get(aref).is_some_and(|a| a.quick) && self.am == Some(aref) {
                self.quick = true;
                return Ok(());
            }
            if let Some((parent, next)) = f.wildcard {
                let child = compiled
                    .rulesets
                    .get(parent.0 as usize)
                    .and_then(|t| t.children.get(next as usize).copied());
                if let Some(child) = child {
                    w.stack.push(Frame {
                        rs: f.rs,
                        anchor_idx: f.anchor_idx,
                        wildcard: Some((parent, next.saturating_add(1))),
                    });
                    rs = child;
                    i = 0;
                    self.enter(w, rs, w.stack.len(), 0);
                    continue 'ruleset;
                }
            }
            rs = f.rs;
            i = f.anchor_idx.saturating_add(1);
            let depth = w.stack.len();
            if FAST && w.cand_gen.get(depth).copied() != Some(self.flow_gen) {
                self.enter(w, rs, depth, i);
            }
        }
    }
}

pub(super) fn evaluate<const FAST: bool>(
    eng: &RuleEngine,
    ctx: &EvalCtx<'_>,
    pd: &Pdesc,
    w: &mut EvalWorker,
) -> EvalResult {
    let flow = Flow::of(pd);
    let mut walk = Walk::<FAST> {
        eng,
        p: Packet::new(ctx, pd, eng.compiled()),
        flow,
        flow_gen: 0,
        tag: ctx.tag,
        rm: None,
        am: None,
        cur_anchor: None,
        matches: Matches::default(),
        actions: Actions::default(),
        nat: None,
        rdr: None,
        quick: false,
    };
    let mut fail = walk.run(w).err();
    let mut action = Action::Pass;
    if fail.is_none() {
        if let Some((rref, r)) = walk.rm.and_then(|x| Some((x, eng.get(x)?))) {
            action = r.action;
            walk.actions.apply(r);
            if let Err(e) = walk.translate(rref, r) {
                fail = Some(e);
            }
        }
    }
    let allow_opts = walk
        .rm
        .and_then(|r| eng.get(r))
        .is_some_and(|r| r.allow_opts);
    if fail.is_none() && action == Action::Pass && pd.ip_opts && !allow_opts {
        fail = Some(Reason::IpOption);
    }
    if fail.is_some() {
        action = Action::Block;
    }
    EvalResult {
        action,
        rule: walk.rm,
        anchor: walk.am,
        matches: walk.matches,
        log: walk.actions.log,
        tag: walk.tag,
        quick: walk.quick,
        nat: walk.nat,
        rdr: walk.rdr,
        actions: walk.actions,
        flow: walk.flow,
        fail,
    }
}
