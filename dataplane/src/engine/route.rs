//! `route-to`, `reply-to` and `dup-to` (pf's `PF_ROUTETO`, `PF_REPLYTO`,
//! `PF_DUPTO`): the next hop is drawn from the rule's route pool once,
//! when the state is created (pf's `pf_set_rt_ifp`), and kept with the
//! state (`st->rt`, `st->rt_addr`). Every later packet of the state that
//! the option applies to carries it in its verdict; the caller (the
//! daemon's pipeline) sends the packet there instead of by the routing
//! table (pf's `pf_route`).
//!
//! As in OpenBSD since 6.9, the pool holds addresses only: the interface
//! is the one the routing table reaches the next hop by, which only the
//! caller knows.
//!
//! The choice lives in a side table keyed by state, not in the state:
//! few states have one, and the state stays within its memory budget.
//! Entries of states that are gone are dropped on the purge tick; a
//! state handle carries its slot's generation, so a stale entry never
//! applies to the slot's next tenant meanwhile.

use super::Engine;
use crate::eval::RuleRef;
use crate::nat::pool::{map_addr, PoolState};
use crate::pdesc::{key_to_ip, Pdesc};
use crate::reason::Reason;
use crate::state::{Side, StateId};
use ruleset::addr::Af;
use ruleset::compile::{CAddr, IfId};
pub use ruleset::rule::RouteKind;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::RwLock;

/// Where a packet of a routed state goes instead of by the routing table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteTo {
    /// `RouteTo` or `ReplyTo`: the packet itself goes there. `DupTo`: a
    /// copy goes there, the packet goes on as routed.
    pub kind: RouteKind,
    /// The pool's address the state drew: the next hop's address, or an
    /// address routed through the next hop. An `IpAddr` (byte-aligned)
    /// keeps the verdict small.
    pub next_hop: IpAddr,
}

impl RouteTo {
    /// pfctl's word for the option.
    pub fn kind_name(&self) -> &'static str {
        kind_name(self.kind)
    }

    /// Whether the option applies to a packet sent by `side` of the
    /// state: route-to to the creator's direction, reply-to to the
    /// other, dup-to to both (pf_route's `(st->rt == PF_REPLYTO) ==
    /// (st->direction == pd->dir)` test; pf's keys match a packet in
    /// the state's own direction only when the creator sent it).
    pub fn applies_to(&self, side: Side) -> bool {
        match self.kind {
            RouteKind::RouteTo => side == Side::Src,
            RouteKind::ReplyTo => side == Side::Dst,
            RouteKind::DupTo => true,
            RouteKind::None => false,
        }
    }
}

pub fn kind_name(k: RouteKind) -> &'static str {
    match k {
        RouteKind::RouteTo => "route-to",
        RouteKind::ReplyTo => "reply-to",
        RouteKind::DupTo => "dup-to",
        RouteKind::None => "none",
    }
}

/// Locks of the side table: workers reading routes of states in
/// different shards do not contend.
const SHARDS: usize = 16;

type Map = HashMap<StateId, RouteTo>;

/// The route choice of every state that has one.
#[derive(Debug)]
pub(crate) struct Routes {
    shards: Box<[RwLock<Map>]>,
    /// How many entries there are, read without a lock: most rulesets
    /// route nothing, and their packets must not pay for a lookup.
    len: AtomicUsize,
}

impl Default for Routes {
    fn default() -> Self {
        Routes {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            len: AtomicUsize::new(0),
        }
    }
}

impl Routes {
    fn shard(&self, id: StateId) -> &RwLock<Map> {
        &self.shards[(id.shard as usize ^ id.idx as usize) % SHARDS]
    }

    fn write(l: &RwLock<Map>) -> std::sync::RwLockWriteGuard<'_, Map> {
        l.write().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn insert(&self, id: StateId, r: RouteTo) {
        if Self::write(self.shard(id)).insert(id, r).is_none() {
            self.len.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn remove(&self, id: StateId) {
        if Self::write(self.shard(id)).remove(&id).is_some() {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
    }

    #[inline]
    pub(crate) fn get(&self, id: StateId) -> Option<RouteTo> {
        if self.len.load(Ordering::Relaxed) == 0 {
            return None;
        }
        self.shard(id)
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .copied()
    }

    /// Drop the entries of states `live` no longer knows, one shard
    /// locked at a time.
    pub(crate) fn prune(&self, live: impl Fn(StateId) -> bool) {
        if self.len.load(Ordering::Relaxed) == 0 {
            return;
        }
        for l in self.shards.iter() {
            let mut m = Self::write(l);
            let before = m.len();
            m.retain(|id, _| live(*id));
            self.len.fetch_sub(before - m.len(), Ordering::Relaxed);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }
}

impl Engine {
    /// The next hop of a new state of rule `r` for `pd` (pf's
    /// `pf_set_rt_ifp`): `Ok(None)` when the rule routes nothing; the
    /// failure to draw one (pf's `PFRES_MAPFAILED`) is `Reason::Translate`.
    pub(super) fn draw_route(
        &self,
        r: RuleRef,
        pd: &Pdesc,
        rand: u32,
    ) -> Result<Option<RouteTo>, Reason> {
        let Some(rule) = self.rules().get(r) else {
            return Ok(None);
        };
        let a = &rule.actions;
        let Some(pool) = a.route.as_ref() else {
            return Ok(None);
        };
        if a.route_kind == RouteKind::None {
            return Ok(None);
        }
        let st = self.route_pool(r).ok_or(Reason::Translate)?;
        let tables = self.pool_tables_now();
        let no_ifaddr = |_: IfId, _: Af| Vec::new();
        let next_hop = map_addr(pool, st, pd.af, pd.src, &tables, &no_ifaddr, rand)?;
        Ok(Some(RouteTo {
            kind: a.route_kind,
            next_hop: key_to_ip(pd.af, next_hop),
        }))
    }

    fn route_pool(&self, r: RuleRef) -> Option<&PoolState> {
        self.route_pools
            .get(r.ruleset.0 as usize)?
            .get(r.index as usize)
    }

    /// The route a state keeps, if any (for `pfctl -ss -v` and pfsync's
    /// `rt`/`rt_addr`).
    pub fn state_route(&self, id: StateId) -> Option<RouteTo> {
        self.routes.get(id)
    }

    /// Give state `id` a route (or take it away): a state pfsync
    /// imports carries its peer's `rt` and `rt_addr`. Refused (false)
    /// for a state that is gone or a route of kind `None`.
    pub fn set_state_route(&self, id: StateId, r: Option<RouteTo>) -> bool {
        if !self.states.is_live(id) {
            return false;
        }
        match r {
            Some(r) if r.kind == RouteKind::None => false,
            Some(r) => {
                self.routes.insert(id, r);
                true
            }
            None => {
                self.routes.remove(id);
                true
            }
        }
    }

    /// How many states keep a route.
    pub fn routed_states(&self) -> usize {
        self.routes.len()
    }
}

/// What of a route pool the engine cannot honour yet, for the load-time
/// refusal: `None` when it can.
pub(super) fn unsupported_pool(pool: &ruleset::compile::CPool) -> Option<&'static str> {
    if pool.sticky {
        // a sticky route node would need releasing with its states, as
        // the nat-to/rdr-to nodes are (sticky.rs)
        return Some("sticky-address on route-to, reply-to and dup-to");
    }
    match pool.addr {
        // the pool would need the interface's point-to-point peer,
        // which the interface list does not carry
        CAddr::DynIf { .. } => Some("route-to, reply-to and dup-to (ifname:peer)"),
        _ if pool.kind == ruleset::rule::PoolType::LeastStates => {
            Some("least-states on route-to, reply-to and dup-to")
        }
        _ => None,
    }
}
