//! What rule evaluation asks of the engine: interface addresses and
//! groups, routes, and translation through the NAT pools (pf's
//! `pf_get_transaddr`, called for each matching rule with `nat-to` or
//! `rdr-to`, so later rules see the translated packet).

use super::ifaces::Iface;
use super::Engine;
use crate::eval::{EvalCtx, EvalEnv, Flow, RuleRef};
use crate::key::StateKey;
use crate::nat::pool::PoolEnv;
use crate::nat::{plan, NatCtx, RuleNat};
use crate::pdesc::{AddrKey, Dir, Pdesc};
use crate::reason::Reason;
use ruleset::addr::{Af, IfAddrFlags};
use ruleset::compile::{CRule, Compiled, IfId, TableId};

pub(super) struct Env<'a> {
    pub engine: &'a Engine,
    pub iface: &'a Iface,
    pub dir: Dir,
    pub rand: u32,
    pub now_ns: u64,
}

impl Env<'_> {
    fn iface_by_id(&self, id: IfId) -> Option<&Iface> {
        let name = self.engine.compiled().ifnames.get(id.0 as usize)?;
        self.engine.ifaces.iter().find(|i| &i.name == name)
    }

    fn if_addrs(&self, id: IfId, af: Af) -> Vec<(AddrKey, u8)> {
        self.iface_by_id(id)
            .map(|i| {
                i.addrs
                    .iter()
                    .filter(|a| a.0 == af)
                    .map(|a| (a.1, a.2))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl EvalEnv for Env<'_> {
    fn dyn_addr_match(
        &self,
        if_id: IfId,
        flags: IfAddrFlags,
        prefix: u8,
        af: Af,
        addr: AddrKey,
    ) -> bool {
        self.iface_by_id(if_id)
            .is_some_and(|i| i.dyn_match(flags, prefix, af, addr))
    }

    /// The replayed interface has no routing table: every destination is
    /// treated as routable, so `no-route` matches nothing.
    fn has_route(&self, _af: Af, _addr: AddrKey) -> bool {
        true
    }

    fn table_match(&self, _c: &Compiled, t: TableId, af: Af, addr: AddrKey) -> bool {
        self.engine.table_contains(t, af, addr)
    }

    fn if_in_group(&self, ifp: IfId, group: IfId) -> bool {
        ifp == group || (self.iface.if_id == Some(ifp) && self.iface.groups.contains(&group))
    }

    fn if_groups(&self, ifp: IfId) -> Option<&[IfId]> {
        (self.iface.if_id == Some(ifp)).then_some(self.iface.groups.as_slice())
    }

    fn translate(
        &self,
        _compiled: &Compiled,
        rule_ref: RuleRef,
        rule: &CRule,
        _ctx: &EvalCtx<'_>,
        pd: &Pdesc,
        flow: &Flow,
    ) -> Result<Option<Flow>, Reason> {
        if rule.actions.nat.is_none() && rule.actions.rdr.is_none() {
            return Ok(None);
        }
        let (nat_st, rdr_st) = self.engine.pool(rule_ref).ok_or(Reason::Translate)?;
        let ifaddr = |id: IfId, af: Af| self.if_addrs(id, af);
        let states = &self.engine.states;
        let free = |k: &StateKey| states.lookup(k).is_none();
        // Each draw of one packet's translation differs; all derive from
        // the worker's draw for this packet.
        let mut x = u64::from(self.rand) << 1 | 1;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 16) as u32
        };
        let tables = self.engine.pool_tables_now();
        let mut ctx = NatCtx {
            env: PoolEnv {
                tables: &tables,
                ifaddr: &ifaddr,
                now_ns: self.now_ns,
            },
            free: &free,
            rand: &mut rand,
            rdomain: 0,
        };
        // Later rules match the translated packet: translate what an
        // earlier `match` rule made of it, not the original.
        let mut cur = *pd;
        cur.src = flow.src;
        cur.dst = flow.dst;
        cur.sport = flow.sport;
        cur.dport = flow.dport;
        let plan = plan(&RuleNat::of(rule, nat_st, rdr_st), &cur, self.dir, &mut ctx)?;
        let mut f = *flow;
        if let Some((a, p)) = plan.translation.src {
            f.src = a;
            f.sport = p;
        }
        if let Some((a, p)) = plan.translation.dst {
            f.dst = a;
            f.dport = p;
        }
        Ok(Some(f))
    }
}
