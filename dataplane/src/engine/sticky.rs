//! `sticky-address` nodes live while states use them (pf's source nodes
//! of type `PF_SN_NAT` / `PF_SN_RDR`): a new state holds the node of the
//! pool that translated it, the state's removal releases it, and a node
//! with no states goes `src.track` seconds later.

use super::Engine;
use crate::eval::{EvalResult, RuleRef};
use crate::pdesc::{AddrKey, Pdesc};
use ruleset::addr::Af;
use ruleset::compile::RulesetId;
use ruleset::rule::PFTM_SRC_NODE;

const INDEX_BITS: u32 = 20;

/// A rule as 32 bits (ruleset in the top 12, index in the low 20), 0
/// when it does not fit.
fn pack(r: RuleRef) -> u64 {
    if r.ruleset.0 >= 1 << (32 - INDEX_BITS) || r.index >= 1 << INDEX_BITS {
        return 0;
    }
    u64::from(r.ruleset.0 << INDEX_BITS | r.index) + 1
}

fn unpack(v: u64) -> Option<RuleRef> {
    let v = u32::try_from(v.checked_sub(1)?).ok()?;
    Some(RuleRef {
        ruleset: RulesetId(v >> INDEX_BITS),
        index: v & ((1 << INDEX_BITS) - 1),
    })
}

impl Engine {
    fn sticky_pool(&self, r: RuleRef, rdr: bool) -> Option<&crate::nat::pool::PoolState> {
        let rule = self.rules().get(r)?;
        let pool = if rdr {
            rule.actions.rdr.as_ref()
        } else {
            rule.actions.nat.as_ref()
        }?;
        if !pool.sticky {
            return None;
        }
        let (n, d) = self.pool(r)?;
        Some(if rdr { d } else { n })
    }

    /// The tag a new state carries so its removal releases the sticky
    /// nodes it holds: the `nat-to` rule in the low half, the `rdr-to`
    /// rule in the high half; 0 when no sticky pool translated it.
    pub(super) fn sticky_tag(&self, res: &EvalResult) -> u64 {
        let nat = res
            .nat
            .filter(|r| self.sticky_pool(*r, false).is_some())
            .map_or(0, pack);
        let rdr = res
            .rdr
            .filter(|r| self.sticky_pool(*r, true).is_some())
            .map_or(0, pack);
        nat | rdr << 32
    }

    /// A state with `tag` was created for `pd`: hold its nodes.
    pub(super) fn sticky_hold(&self, tag: u64, pd: &Pdesc) {
        self.sticky_each(tag, |pool| pool.sticky.hold(pd.af, pd.src));
    }

    fn sticky_each(&self, tag: u64, mut f: impl FnMut(&crate::nat::pool::PoolState)) {
        for (half, rdr) in [(tag & 0xffff_ffff, false), (tag >> 32, true)] {
            if let Some(pool) = unpack(half).and_then(|r| self.sticky_pool(r, rdr)) {
                f(pool);
            }
        }
    }

    /// Release the nodes of removed states; drop nodes whose time is up.
    pub(super) fn sticky_expire(&self, now_ns: u64) {
        let timeout_ns = u64::from(self.compiled().options.timeouts[PFTM_SRC_NODE]) * 1_000_000_000;
        for r in self.states.drain_released() {
            // a state of an earlier ruleset held that ruleset's pools
            if self.state_ref(r.rule).is_none() {
                continue;
            }
            let (af, src): (Af, AddrKey) = (r.af, r.src);
            self.sticky_each(r.tag, |pool| {
                pool.sticky.release(af, src, now_ns, timeout_ns)
            });
        }
        for rs in &self.pools {
            for (n, d) in rs {
                if !n.sticky.is_empty() {
                    n.sticky.purge(now_ns);
                }
                if !d.sticky.is_empty() {
                    d.sticky.purge(now_ns);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_refs_pack_and_unpack() {
        for (rs, i) in [(0, 0), (0, 5), (3, (1 << INDEX_BITS) - 1), (4095, 7)] {
            let r = RuleRef {
                ruleset: RulesetId(rs),
                index: i,
            };
            assert_eq!(unpack(pack(r)), Some(r));
        }
        assert_eq!(
            pack(RuleRef {
                ruleset: RulesetId(4096),
                index: 0
            }),
            0
        );
        assert_eq!(unpack(0), None);
    }
}
