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
use crate::nat::pool::{map_addr_sticky, PoolEnv, PoolState};
use crate::pdesc::{key_to_ip, AddrKey, Pdesc};
use crate::reason::Reason;
use crate::state::{Side, StateId};
use ruleset::addr::Af;
use ruleset::compile::{CAddr, IfId};
pub use ruleset::rule::RouteKind;
use ruleset::rule::PFTM_SRC_NODE;
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

/// A `sticky-address` route pool's node a state holds: released when
/// the state goes, so the source keeps its next hop while it has states
/// and `src.track` seconds after (pf's `PF_SN_ROUTE` source node).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hold {
    /// The state's rule reference (with its ruleset's generation).
    pub rule: (u32, u32),
    pub af: Af,
    pub src: AddrKey,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    route: RouteTo,
    hold: Option<Hold>,
}

type Map = HashMap<StateId, Entry>;

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

    /// Keep `r` for state `id`; the hold of an entry it replaces.
    pub(crate) fn insert(&self, id: StateId, r: RouteTo, hold: Option<Hold>) -> Option<Hold> {
        let e = Entry { route: r, hold };
        match Self::write(self.shard(id)).insert(id, e) {
            None => {
                self.len.fetch_add(1, Ordering::Relaxed);
                None
            }
            Some(old) => old.hold,
        }
    }

    /// Forget state `id`'s route; the node it held, if any.
    pub(crate) fn remove(&self, id: StateId) -> Option<Hold> {
        let old = Self::write(self.shard(id)).remove(&id)?;
        self.len.fetch_sub(1, Ordering::Relaxed);
        old.hold
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
            .map(|e| e.route)
    }

    /// Drop the entries of states `live` no longer knows, one shard
    /// locked at a time; the nodes they held.
    pub(crate) fn prune(&self, live: impl Fn(StateId) -> bool) -> Vec<Hold> {
        let mut released = Vec::new();
        if self.len.load(Ordering::Relaxed) == 0 {
            return released;
        }
        for l in self.shards.iter() {
            let mut m = Self::write(l);
            let before = m.len();
            m.retain(|id, e| {
                let keep = live(*id);
                if !keep {
                    released.extend(e.hold);
                }
                keep
            });
            self.len.fetch_sub(before - m.len(), Ordering::Relaxed);
        }
        released
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
        now_ns: u64,
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
        let env = PoolEnv {
            tables: &tables,
            ifaddr: &no_ifaddr,
            now_ns,
        };
        let next_hop = map_addr_sticky(pool, st, pd.af, pd.src, &env, rand)?;
        Ok(Some(RouteTo {
            kind: a.route_kind,
            next_hop: key_to_ip(pd.af, next_hop),
        }))
    }

    /// State `id`, created by rule `r` for `pd`, keeps `route`; with a
    /// `sticky-address` pool it holds the source's node.
    pub(super) fn keep_route(&self, id: StateId, r: RuleRef, route: RouteTo, pd: &Pdesc) {
        let sticky = self
            .rules()
            .get(r)
            .and_then(|rule| rule.actions.route.as_ref())
            .is_some_and(|p| p.sticky);
        let hold = match self.route_pool(r) {
            Some(st) if sticky => {
                st.sticky.hold(pd.af, pd.src);
                Some(Hold {
                    rule: self.state_key_of(r),
                    af: pd.af,
                    src: pd.src,
                })
            }
            _ => None,
        };
        self.routes.insert(id, route, hold);
    }

    /// Release the nodes of states gone; drop nodes whose time is up
    /// (run with the purge, as the nat-to/rdr-to nodes).
    pub(super) fn route_expire(&self, now_ns: u64) {
        let timeout_ns = u64::from(self.compiled().options.timeouts[PFTM_SRC_NODE]) * 1_000_000_000;
        for h in self.routes.prune(|id| self.states.is_live(id)) {
            self.route_release(h, now_ns, timeout_ns);
        }
        for rs in &self.route_pools {
            for p in rs {
                if !p.sticky.is_empty() {
                    p.sticky.purge(now_ns);
                }
            }
        }
    }

    fn route_release(&self, h: Hold, now_ns: u64, timeout_ns: u64) {
        // a state of an earlier ruleset held that ruleset's pool
        if let Some(st) = self.state_ref(h.rule).and_then(|r| self.route_pool(r)) {
            st.sticky.release(h.af, h.src, now_ns, timeout_ns);
        }
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
    /// for a state that is gone or a route of kind `None`. A sticky node
    /// the state held is released at `now_ns`.
    pub fn set_state_route(&self, id: StateId, r: Option<RouteTo>, now_ns: u64) -> bool {
        if !self.states.is_live(id) || r.is_some_and(|r| r.kind == RouteKind::None) {
            return false;
        }
        let old = match r {
            Some(r) => self.routes.insert(id, r, None),
            None => self.routes.remove(id),
        };
        if let Some(h) = old {
            let timeout_ns =
                u64::from(self.compiled().options.timeouts[PFTM_SRC_NODE]) * 1_000_000_000;
            self.route_release(h, now_ns, timeout_ns);
        }
        true
    }

    /// How many states keep a route.
    pub fn routed_states(&self) -> usize {
        self.routes.len()
    }
}

/// What of a route pool the engine cannot honour yet, for the load-time
/// refusal: `None` when it can.
pub(super) fn unsupported_pool(pool: &ruleset::compile::CPool) -> Option<&'static str> {
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
