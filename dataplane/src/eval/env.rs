//! What rule evaluation asks of the world outside the ruleset: interface
//! addresses and groups, routes, tables, and address translation. The
//! engine implements [`EvalEnv`] over its interface and NAT state; tests
//! and benches use [`NoEnv`] or a small fake.

use crate::pdesc::{key_to_ip, AddrKey, Pdesc};
use ruleset::addr::{Af, IfAddrFlags};
use ruleset::compile::{CRule, Compiled, IfId, TableId};

use super::{EvalCtx, RuleRef};

/// The addresses and ports rules are matched against: pf's `nsaddr`,
/// `ndaddr`, `nsport`, `ndport`. They start as the packet's own and
/// change when a matching rule translates (`match out nat-to ...`), so
/// later rules see the translated packet, as in pf.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Flow {
    pub af: Af,
    pub src: AddrKey,
    pub dst: AddrKey,
    pub sport: u16,
    pub dport: u16,
}

impl Flow {
    pub fn of(pd: &Pdesc) -> Flow {
        Flow {
            af: pd.af,
            src: pd.src,
            dst: pd.dst,
            sport: pd.sport,
            dport: pd.dport,
        }
    }
}

/// Run-time facts rule matching needs. Implementations must answer the
/// same question the same way within one evaluation: the fast and the
/// linear evaluator may ask in a different order and a different number
/// of times.
pub trait EvalEnv {
    /// Is `addr` one of the addresses of interface (or group) `if_id`
    /// under `(if:flags)/prefix` (pf's `pfi_match_addr`)? `prefix` 128
    /// means the whole address.
    fn dyn_addr_match(
        &self,
        if_id: IfId,
        flags: IfAddrFlags,
        prefix: u8,
        af: Af,
        addr: AddrKey,
    ) -> bool;

    /// Is there a route to `addr` (pf's `pf_routable`, for `no-route`)?
    fn has_route(&self, af: Af, addr: AddrKey) -> bool;

    /// Is interface `ifp` a member of group `group` (`on egress`)? An
    /// interface is always in its own name.
    fn if_in_group(&self, ifp: IfId, group: IfId) -> bool {
        ifp == group
    }

    /// Every group `ifp` belongs to, when the environment can list them:
    /// lets the classifier look up an interface's rules directly instead
    /// of asking [`EvalEnv::if_in_group`] about every interface a rule
    /// names. `None` (the default) means "ask one by one". When `Some`,
    /// it must agree with `if_in_group`.
    fn if_groups(&self, ifp: IfId) -> Option<&[IfId]> {
        let _ = ifp;
        None
    }

    /// Is `addr` in table `t` (longest-prefix match, negated entries
    /// excluded)? The default reads the table as compiled; an engine
    /// whose tables change at run time (`pfctl -t -T add`) overrides it.
    fn table_match(&self, compiled: &Compiled, t: TableId, af: Af, addr: AddrKey) -> bool {
        compiled
            .tables
            .get(t.0 as usize)
            .is_some_and(|tbl| tbl.contains(key_to_ip(af, addr)))
    }

    /// pf's `pf_get_transaddr` for a matching rule that has `nat-to` or
    /// `rdr-to` (a `match` rule while evaluating, the deciding rule at
    /// the end): the addresses and ports the packet will have, which
    /// every later rule is matched against. `Ok(None)` means "this
    /// environment does not translate": later rules see `flow` as it is.
    /// An `Err` stops evaluation and drops the packet with that reason
    /// (pf's `PFRES_TRANSLATE` when no address or port is free).
    ///
    /// The default translates nothing; the engine overrides it with its
    /// NAT pools, which is where pool state (round-robin position,
    /// sticky source) and free-port search live.
    ///
    /// `ctx` is the evaluation's context (interface, direction, for
    /// pools on `(if)` and `nat-to` on egress).
    fn translate(
        &self,
        compiled: &Compiled,
        rule_ref: RuleRef,
        rule: &CRule,
        ctx: &EvalCtx<'_>,
        pd: &Pdesc,
        flow: &Flow,
    ) -> Result<Option<Flow>, crate::reason::Reason> {
        let _ = (compiled, rule_ref, rule, ctx, pd, flow);
        Ok(None)
    }
}

/// No interfaces with addresses, no routes, no groups beyond names,
/// tables as compiled, no translation.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoEnv;

impl EvalEnv for NoEnv {
    fn dyn_addr_match(&self, _: IfId, _: IfAddrFlags, _: u8, _: Af, _: AddrKey) -> bool {
        false
    }

    fn has_route(&self, _: Af, _: AddrKey) -> bool {
        false
    }

    fn if_groups(&self, _: IfId) -> Option<&[IfId]> {
        Some(&[])
    }
}
