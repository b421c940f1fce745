//! The per-packet pipeline in pf's order (pf's `pf_test`): parse, set
//! skip, reassembly, syncookies for an inbound SYN, TCP normalisation,
//! state lookup (a packet that matches a state skips the rules), a
//! syncookie ACK's recreated SYN (`syncookie.rs`), rule evaluation, `allow-opts`, state creation and
//! translation, block replies, pflog and counters.
//!
//! [`Engine::process`] is a pure function of the engine's tables, the
//! packet and `now`: no clock, no I/O. The caller (the replay tool, the
//! workers of the daemon) owns rings, files and time.

mod env;
mod ifaces;
mod log;
mod normalize;
mod overload;
#[cfg(test)]
mod purge_tests;
#[cfg(test)]
mod refrag_tests;
mod reply;
mod route;
#[cfg(test)]
mod route_tests;
mod rules;
mod scrub;
mod sticky;
mod syncookie;
mod synproxy;
mod tables;
#[cfg(test)]
mod tests;
mod translate;
mod unsupported;
mod verdict;

pub use ifaces::IfConfig;
pub use log::LogEntry;
pub use route::{RouteKind, RouteTo};
pub use tables::{TableChange, TableEntry};
pub use unsupported::{EngineError, EngineErrors};
pub use verdict::{Action, Emitted, Endpoint, NatInfo, RuleNr, StateOutcome, Toward, Verdict};

use crate::eval::{EvalWorker, RuleEngine, RuleRef};
use crate::frag::{FragResult, Reassembler};
use crate::key::StateKey;
use crate::nat::pool::PoolState;
use crate::nat::table::PoolTable;
use crate::pdesc::{Dir, Pdesc};
use crate::reason::{Reason, ReasonCounters};
use crate::state::{StateConfig, StateTable, Tracked};
use crate::wire::frame::{empty_pdesc, parse_frame_into, verify_ip_checksum, Frame, Link};
use ifaces::Iface;
use ruleset::addr::Af;
use ruleset::compile::{CRule, Compiled};
use ruleset::rule::{PFTM_ADAPTIVE_END, PFTM_ADAPTIVE_START, PFTM_INTERVAL};
use ruleset::ruleset::{DEFAULT_LIMITS, LIMIT_STATES};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// `set limit src-nodes` and `frags` in pf's `PF_LIMIT_*` order.
const LIMIT_SRC_NODES: usize = 1;
const LIMIT_FRAGS: usize = 2;
/// `set timeout frag` in pf's `PFTM_*` order.
const PFTM_FRAG: usize = 14;
/// pf's purge thread wakes every second and looks at one
/// `set timeout interval`'s share of the table (`pf_purge_states`:
/// `1 + states / interval`), so the whole table is walked once per
/// interval and a state outlives its timeout by an interval at most.
const PURGE_STEP_NS: u64 = 1_000_000_000;
/// Slots one step looks at whatever the table's size: a small table is
/// walked whole at each step (a thousand checks are microseconds).
const PURGE_MIN: usize = 1024;
/// A state's rule reference is `(ruleset | generation << GEN_SHIFT,
/// index)`.
const GEN_SHIFT: u32 = 20;
const RULESET_MASK: u32 = (1 << GEN_SHIFT) - 1;
const GEN_MASK: u32 = (1 << (32 - GEN_SHIFT)) - 1;
/// Most purge ticks one `expire` call catches up on.
const MAX_TICKS: u64 = 100_000;

/// What the engine is built with besides the ruleset.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// The interfaces packets are seen on; [`Packet::ifindex`] indexes
    /// this list.
    pub interfaces: Vec<IfConfig>,
    pub link: Link,
    /// Seed of the workers' random numbers (proxy ports, `probability`,
    /// ISN modulation), for repeatable runs.
    pub seed: u64,
}

/// One packet to decide on.
pub struct Packet<'a> {
    /// The whole frame; rewritten in place when translated, replaced by
    /// the whole datagram when it completes a reassembly.
    pub frame: &'a mut Vec<u8>,
    pub ifindex: usize,
    pub dir: Dir,
}

/// Per-thread scratch and counters; one per worker, summed on read.
pub struct Worker {
    eval: EvalWorker,
    pub reasons: ReasonCounters,
    rng: u64,
    /// The packet being decided was dropped under no reason (pf's
    /// syncookie paths set none): `process` counts it nowhere.
    uncounted: bool,
}

impl Worker {
    fn rand(&mut self) -> u32 {
        // xorshift64*: cheap and good enough for ports and probability.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }

    pub fn eval(&self) -> &EvalWorker {
        &self.eval
    }

    /// For clearing the rule counters (pfctl -z).
    pub fn eval_mut(&mut self) -> &mut EvalWorker {
        &mut self.eval
    }
}

pub struct Engine {
    rules: RuleEngine,
    ifaces: Vec<Iface>,
    /// Shared with the engines of later rulesets (`reload`): states
    /// outlive the ruleset that created them, as in pf.
    pub(crate) states: Arc<StateTable>,
    frags: Arc<Mutex<Reassembler>>,
    /// Which load of the ruleset this is: a state's rule reference
    /// carries it, so a state created under an earlier ruleset is never
    /// taken for a rule of this one.
    gen: u32,
    cfg: EngineConfig,
    /// Per rule: the `nat-to` and the `rdr-to` pool's run-time state.
    pub(crate) pools: Vec<Vec<(PoolState, PoolState)>>,
    /// Per rule: the route pool's run-time state (round-robin cursor).
    route_pools: Vec<Vec<PoolState>>,
    /// The route each routed state drew; shared with later rulesets as
    /// the states are.
    routes: Arc<route::Routes>,
    /// The tables in the form translation pools walk: the compiled
    /// ones, each replaced when `pfctl -T` edits it. Read once per
    /// translation; an edit swaps in a new list.
    pub(crate) pool_tables: std::sync::RwLock<Arc<Vec<PoolTable>>>,
    /// Addresses `overload <t>` added to tables.
    overlay: overload::Overlay,
    /// Tables `pfctl -t -T` edited.
    edited: tables::Edited,
    /// `set syncookies`: shared with later rulesets, as the states are.
    cookies: Arc<crate::syncookie::Syncookies>,
    workers: AtomicU64,
    next_purge: AtomicU64,
    purge_interval_ns: u64,
}

impl Engine {
    /// Build the engine for a compiled ruleset. Refuses, by rule and
    /// line, what the engine does not enforce.
    pub fn new(compiled: Compiled, cfg: EngineConfig) -> Result<Engine, EngineErrors> {
        unsupported::check(&compiled)?;
        let o = &compiled.options;
        let limit = |i: usize| {
            if o.limit_set[i] {
                o.limits[i]
            } else {
                DEFAULT_LIMITS[i]
            }
        };
        let mut timeouts = o.timeouts;
        // pfctl_load_options: a states limit with no adaptive timeouts
        // set starts adapting at 60% of it and ends at 120%.
        if o.limit_set[LIMIT_STATES]
            && !o.timeout_set[PFTM_ADAPTIVE_START]
            && !o.timeout_set[PFTM_ADAPTIVE_END]
        {
            timeouts[PFTM_ADAPTIVE_START] = (o.limits[LIMIT_STATES] / 10) * 6;
            timeouts[PFTM_ADAPTIVE_END] = (o.limits[LIMIT_STATES] / 10) * 12;
        }
        let states = StateTable::new(StateConfig {
            limit: limit(LIMIT_STATES),
            timeouts,
            seed: cfg.seed,
            ..StateConfig::default()
        });
        if o.limit_set[LIMIT_SRC_NODES] {
            states.set_src_node_limit(o.limits[LIMIT_SRC_NODES]);
        }
        if let Some(id) = o.hostid.and_then(std::num::NonZeroU32::new) {
            states.set_host_id(id);
        }
        let frags = Reassembler::new(limit(LIMIT_FRAGS), o.timeouts[PFTM_FRAG]);
        let cookies = crate::syncookie::Syncookies::new(cfg.seed, limit(LIMIT_STATES));
        cookies.configure(o.syncookies, limit(LIMIT_STATES));
        Ok(Engine::assemble(
            compiled,
            cfg,
            Arc::new(states),
            Arc::new(Mutex::new(frags)),
            Arc::default(),
            Arc::new(cookies),
            0,
        ))
    }

    /// A new ruleset over this engine's states (`pfctl -f` on a running
    /// pfd): the returned engine shares the state table and the
    /// reassembly queues, so established connections go on; new ones
    /// meet the new rules. States created under this ruleset keep
    /// passing by their state, but are no longer attributed to a rule
    /// (their rule is gone, as pf reports it). Options that size or time
    /// the state table (`set timeout`, `set limit states/src-nodes/frags`,
    /// `set reassemble`) cannot change on a running table: a ruleset
    /// that changes them is refused, as is anything the engine does not
    /// enforce; the running engine is untouched either way.
    pub fn reload(&self, compiled: Compiled) -> Result<Engine, EngineErrors> {
        unsupported::check(&compiled)?;
        let (a, b) = (&self.compiled().options, &compiled.options);
        let table_opts = |o: &ruleset::ruleset::Options| {
            (
                o.timeouts,
                o.limits[LIMIT_STATES],
                o.limit_set[LIMIT_STATES],
                o.limits[LIMIT_SRC_NODES],
                o.limit_set[LIMIT_SRC_NODES],
                o.limits[LIMIT_FRAGS],
                o.limit_set[LIMIT_FRAGS],
                o.reassemble,
                o.hostid,
            )
        };
        if table_opts(a) != table_opts(b) {
            return Err(EngineErrors(vec![EngineError {
                anchor: String::new(),
                line: 0,
                message: "not supported: changing set timeout, set limit states/src-nodes/frags, set reassemble or set hostid on a running pfd (restart it)".into(),
            }]));
        }
        // the secrets and cookies in flight go on; the mode is the new
        // ruleset's (pf's DIOCSETSYNCOOKIES on a load)
        self.cookies
            .configure(compiled.options.syncookies, self.states.limit);
        Ok(Engine::assemble(
            compiled,
            self.cfg.clone(),
            self.states.clone(),
            self.frags.clone(),
            self.routes.clone(),
            self.cookies.clone(),
            (self.gen + 1) & GEN_MASK,
        ))
    }

    fn assemble(
        compiled: Compiled,
        cfg: EngineConfig,
        states: Arc<StateTable>,
        frags: Arc<Mutex<Reassembler>>,
        routes: Arc<route::Routes>,
        cookies: Arc<crate::syncookie::Syncookies>,
        gen: u32,
    ) -> Engine {
        let ifaces = cfg
            .interfaces
            .iter()
            .enumerate()
            .map(|(n, i)| Iface::resolve(i, n, &compiled))
            .collect();
        let pools = compiled
            .rulesets
            .iter()
            .map(|rs| rs.rules.iter().map(|_| Default::default()).collect())
            .collect();
        let route_pools = compiled
            .rulesets
            .iter()
            .map(|rs| rs.rules.iter().map(|_| PoolState::default()).collect())
            .collect();
        let pool_tables = compiled
            .tables
            .iter()
            .map(|t| PoolTable::new(t.entries()).unwrap_or_default())
            .collect();
        let ntables = compiled.tables.len();
        let purge_interval_ns =
            u64::from(compiled.options.timeouts[PFTM_INTERVAL].max(1)) * 1_000_000_000;
        Engine {
            rules: RuleEngine::new(Arc::new(compiled)),
            ifaces,
            states,
            frags,
            gen,
            pools,
            route_pools,
            routes,
            pool_tables: std::sync::RwLock::new(Arc::new(pool_tables)),
            overlay: overload::Overlay::new(ntables),
            edited: tables::Edited::new(ntables),
            cfg,
            cookies,
            workers: AtomicU64::new(0),
            next_purge: AtomicU64::new(0),
            purge_interval_ns,
        }
    }

    /// The rule reference a new state records: the rule and this
    /// ruleset's generation.
    pub(crate) fn state_key_of(&self, r: RuleRef) -> (u32, u32) {
        (r.ruleset.0 | self.gen << GEN_SHIFT, r.index)
    }

    /// The rule a state records, if it belongs to this ruleset.
    pub fn state_ref(&self, r: (u32, u32)) -> Option<RuleRef> {
        (r.0 >> GEN_SHIFT == self.gen && r != crate::state::PFSYNC_RULE).then_some(RuleRef {
            ruleset: ruleset::compile::RulesetId(r.0 & RULESET_MASK),
            index: r.1,
        })
    }

    pub fn worker(&self) -> Worker {
        let n = self.workers.fetch_add(1, Ordering::Relaxed);
        Worker {
            eval: EvalWorker::new(&self.rules),
            reasons: ReasonCounters::default(),
            rng: (self.cfg.seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1,
            uncounted: false,
        }
    }

    pub fn rules(&self) -> &RuleEngine {
        &self.rules
    }

    pub fn compiled(&self) -> &Compiled {
        self.rules.compiled()
    }

    /// The name of interface `i` (a state's `if_bound`, a packet's
    /// `ifindex`).
    pub fn interface_name(&self, i: usize) -> Option<&str> {
        self.cfg.interfaces.get(i).map(|c| c.name.as_str())
    }

    pub fn states(&self) -> &StateTable {
        &self.states
    }

    pub fn state_count(&self) -> usize {
        self.states.len()
    }

    /// `set syncookies`' state and counters.
    pub fn syncookies(&self) -> &crate::syncookie::Syncookies {
        &self.cookies
    }

    /// Expire states and fragments whose time has come. Cheap when
    /// called often: it works at most once per `set timeout interval`
    /// of `now`, and then on a bounded slice of the table.
    pub fn expire(&self, now_ns: u64) {
        self.expire_states(now_ns);
        // pf's syncookie key timer, with the half-open count the purge left
        self.cookies.tick(now_ns, self.states.half_open() as u64);
    }

    fn expire_states(&self, now_ns: u64) {
        let due = self.next_purge.load(Ordering::Relaxed);
        if now_ns < due {
            return;
        }
        // Run every tick that fell due since the last call, at its own
        // time, as pf's purge thread would have: a source node released
        // by a state that expired at 24 s goes at 24 s + src.track, even
        // if the next packet comes much later. A first call, or a gap of
        // more than MAX_TICKS steps, starts from `now`.
        let ticks = (now_ns - due) / PURGE_STEP_NS;
        let first = if due == 0 || ticks > MAX_TICKS {
            now_ns
        } else {
            due
        };
        let next = now_ns.saturating_add(PURGE_STEP_NS);
        if self
            .next_purge
            .compare_exchange(due, next, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        let mut t = first;
        loop {
            self.expire_at(t);
            if t >= now_ns {
                break;
            }
            t = t.saturating_add(PURGE_STEP_NS).min(now_ns);
        }
    }

    fn expire_at(&self, now_ns: u64) {
        let interval_s = (self.purge_interval_ns / 1_000_000_000).max(1) as usize;
        let share = 1 + self.states.slot_count() / interval_s;
        self.states.purge(now_ns, share.max(PURGE_MIN));
        self.sticky_expire(now_ns);
        self.route_expire(now_ns);
        if let Ok(mut f) = self.frags.lock() {
            f.purge(now_ns);
        }
    }

    /// Decide on one packet.
    pub fn process(&self, w: &mut Worker, now_ns: u64, pkt: &mut Packet<'_>) -> Verdict {
        let mut refrag = None;
        let mut v = self.decide(w, now_ns, pkt, &mut refrag);
        let uncounted = std::mem::take(&mut w.uncounted);
        if v.action == Action::Block && !uncounted {
            w.reasons.bump(v.reason);
        }
        // pf_test: a reassembled IPv6 packet that passed leaves as
        // fragments (not one af-to made IPv4)
        if let Some((tag, l3)) = refrag {
            if v.action == Action::Pass && pkt.frame.get(l3).map(|b| b >> 4) == Some(6) {
                v.refrag = Some(tag);
            }
        }
        for o in self.states.drain_overloads() {
            self.apply_overload(o);
        }
        v
    }

    /// Put a source that went over its rule's `max-src-conn(-rate)` into
    /// the rule's overload table (the state table has already flushed
    /// its states if the rule says `flush`).
    fn apply_overload(&self, o: crate::state::Overload) {
        let Some(rule) = self.state_rule(o.rule) else {
            return;
        };
        if let Some(t) = rule.actions.state.overload {
            self.overlay.add(t, o.af, o.addr);
        }
    }

    /// Whether `addr` is in table `t`: loaded entries, or added since.
    pub fn table_contains(
        &self,
        t: ruleset::compile::TableId,
        af: Af,
        addr: crate::pdesc::AddrKey,
    ) -> bool {
        if self.overlay.contains(t, af, addr) {
            return true;
        }
        if let Some(edited) = self.edited.get(t) {
            return edited.contains(crate::pdesc::key_to_ip(af, addr));
        }
        self.compiled()
            .tables
            .get(t.0 as usize)
            .is_some_and(|tbl| tbl.contains(crate::pdesc::key_to_ip(af, addr)))
    }

    /// Addresses added to table `t` at run time (overload).
    pub fn table_added(&self, t: ruleset::compile::TableId) -> Vec<(Af, crate::pdesc::AddrKey)> {
        self.overlay.entries(t)
    }

    /// `refrag`: the tag and IP offset of an IPv6 packet reassembled
    /// here.
    fn decide(
        &self,
        w: &mut Worker,
        now_ns: u64,
        pkt: &mut Packet<'_>,
        refrag: &mut Option<(crate::frag::Refrag, usize)>,
    ) -> Verdict {
        let Some(ifp) = self.ifaces.get(pkt.ifindex) else {
            return Verdict::drop(Reason::NoRoute);
        };
        let mut pd = empty_pdesc(Af::Inet);
        match parse_frame_into(pkt.frame, self.cfg.link, &mut pd) {
            Ok(Frame::Ip) => {}
            // pf sees IP only; ARP and the rest pass untouched.
            Ok(Frame::NonIp { .. }) => return pass_untouched(),
            Err(r) => return Verdict::drop(r),
        }
        if ifp.skip {
            return pass_untouched();
        }
        // ip_input's check, before pf sees the packet.
        if pd.af == Af::Inet && !verify_ip_checksum(pkt.frame, &pd) {
            return Verdict::drop(Reason::ProtoCksum);
        }
        if self.compiled().options.reassemble && might_be_fragment(pkt.frame, &pd) {
            let res = match self.frags.lock() {
                Ok(mut f) => f.push(pkt.frame, usize::from(pd.l3_off), pkt.dir, now_ns),
                Err(_) => Err(Reason::Memory),
            };
            match res {
                Ok(FragResult::NotFragment) => {}
                Ok(FragResult::Held) | Ok(FragResult::Duplicate) => return held(),
                Ok(FragResult::Complete(r)) => {
                    *refrag = r.refrag().map(|t| (t, usize::from(pd.l3_off)));
                    pkt.frame.truncate(usize::from(pd.l3_off));
                    pkt.frame.extend_from_slice(&r.packet);
                    match parse_frame_into(pkt.frame, self.cfg.link, &mut pd) {
                        Ok(Frame::Ip) => {}
                        Ok(Frame::NonIp { .. }) => return Verdict::drop(Reason::Fragment),
                        Err(r) => return Verdict::drop(r),
                    }
                }
                Err(r) => return Verdict::drop(r),
            }
        }
        let len = u32::from(pd.ip_len);
        // pf_test: while syncookies are on, an inbound SYN is answered
        // before anything else
        if pd.tcp.is_some() {
            if let Some(v) = self.syncookie_syn(w, now_ns, pkt, &pd) {
                return v;
            }
        }
        // pf_test: then every TCP segment is normalised, before the
        // state lookup
        if let Err(r) = normalize::normalize_tcp(pkt.frame, &mut pd) {
            return Verdict::drop(r);
        }
        // A packet that matches a state skips the rules.
        if !pd.fragment {
            let mut t = Tracked::blank();
            if let Some(r) = self.test_state(&pd, pkt, now_ns, len, &mut t) {
                return match r {
                    Ok(()) => self.pass_state(w, pkt, &mut pd, ifp, &t),
                    // a handshake racing another worker's: the client
                    // retransmits
                    Err(Reason::Synproxy) => self
                        .synproxy_state(pkt, &pd, now_ns)
                        .unwrap_or_else(|| Verdict::drop(Reason::Synproxy)),
                    Err(r) => {
                        let mut v = Verdict::drop(r);
                        v.state = StateOutcome::Match;
                        if let Some(reply) = t.reply {
                            self.state_reply(pkt, &pd, &t, reply, &mut v);
                        }
                        v
                    }
                };
            }
        }
        if pd.tcp.is_some() {
            if let Some(v) = self.syncookie_ack(w, now_ns, pkt, &pd, ifp) {
                return v;
            }
        }
        self.test_rules(w, now_ns, pkt, &mut pd, ifp)
    }

    /// The state `pd` belongs to, advanced; what the packet must have
    /// done to it goes to `t`.
    #[inline]
    fn test_state(
        &self,
        pd: &Pdesc,
        pkt: &Packet<'_>,
        now_ns: u64,
        len: u32,
        t: &mut Tracked,
    ) -> Option<Result<(), Reason>> {
        let ifidx = u32::try_from(pkt.ifindex).unwrap_or(u32::MAX);
        if pd.icmp_inner.is_some() {
            return self
                .states
                .test_icmp_error(pd, pkt.dir, ifidx, 0, now_ns, len)
                .map(|r| r.map(|x| *t = x));
        }
        let key = StateKey::from_pdesc(pd, pkt.dir, 0);
        self.states
            .test_into(&key, pd, pkt.dir, ifidx, now_ns, len, t)
    }

    /// A packet that matched state `t`: translate as the state says.
    fn pass_state(
        &self,
        w: &mut Worker,
        pkt: &mut Packet<'_>,
        pd: &mut Pdesc,
        ifp: &Iface,
        t: &Tracked,
    ) -> Verdict {
        // pf counts a state's packets on the rule that created it (none
        // once a reload replaced that rule).
        let rr = self.state_ref(t.rule);
        if rr.is_some() {
            w.eval.add_bytes(rr, pkt.dir, u64::from(pd.ip_len));
        }
        // one lookup of the creating rule serves its number and its log
        let state_rule = self.state_rule(t.rule);
        // pf_test: IP options pass a state only if it allows them
        // (PFSTATE_ALLOWOPTS, copied from the rule, or from the peer for
        // a state pfsync brought)
        if pd.ip_opts && !t.allow_opts {
            let mut v = Verdict::drop(Reason::IpOption);
            v.state = StateOutcome::Match;
            return v;
        }
        let mut v = Verdict {
            action: Action::Pass,
            reason: Reason::Match,
            rule: state_rule.zip(rr).map(|(r, at)| RuleNr {
                ruleset: at.ruleset,
                nr: r.nr,
            }),
            state: StateOutcome::Match,
            nat: None,
            log: None,
            emit: Vec::new(),
            route: self.routes.get(t.id).filter(|r| r.applies_to(t.side)),
            created: None,
            refrag: None,
        };
        let res = if pd.icmp_inner.is_some() {
            translate::apply_icmp_error(pkt.frame, pd, t)
        } else if t.translate.is_none() && t.seq.is_none() {
            // most states neither translate nor modulate
            Ok(None)
        } else {
            translate::apply_state(pkt.frame, pd, t)
        };
        match res {
            Ok(nat) => v.nat = nat,
            Err(r) => return Verdict::drop(r),
        }
        if !t.scrub.is_empty() {
            scrub::apply(pkt.frame, pd, &t.scrub, w.rand() as u16);
        }
        if let (Some(rule), Some(at)) = (state_rule, rr) {
            if rule.log.enabled && rule.log.all {
                v.log = Some(Box::new(log::entry(
                    self,
                    pkt,
                    pd,
                    ifp,
                    rule,
                    (at.ruleset.0, at.index),
                    Reason::Match,
                    true,
                )));
            }
        }
        v
    }

    /// The segment state tracking answers a dropped packet with (the
    /// challenge ACK, the handshake RST): back to the sender, marked
    /// generated as pf's `pf_send_tcp` marks it.
    fn state_reply(
        &self,
        pkt: &Packet<'_>,
        pd: &Pdesc,
        t: &Tracked,
        reply: crate::state::StateReply,
        v: &mut Verdict,
    ) {
        let ttl = reply::return_ttl(self.state_rule(t.rule));
        if let Some(frame) = reply::for_state(pkt.frame, pd, reply, ttl, self.cfg.link) {
            v.emit.push(Emitted {
                frame,
                toward: Toward::Sender,
                generated: true,
            });
        }
    }

    /// The rule a state records, if it is one of this ruleset's.
    fn state_rule(&self, r: (u32, u32)) -> Option<&CRule> {
        self.rules.get(self.state_ref(r)?)
    }

    fn rule_nr(&self, r: (u32, u32)) -> Option<RuleNr> {
        let rs = self.compiled().rulesets.get(r.0 as usize)?;
        let rule = rs.rules.get(r.1 as usize)?;
        Some(RuleNr {
            ruleset: ruleset::compile::RulesetId(r.0),
            nr: rule.nr,
        })
    }

    pub(crate) fn pool(&self, r: RuleRef) -> Option<(&PoolState, &PoolState)> {
        let p = self
            .pools
            .get(r.ruleset.0 as usize)?
            .get(r.index as usize)?;
        Some((&p.0, &p.1))
    }
}

fn pass_untouched() -> Verdict {
    Verdict {
        action: Action::Pass,
        reason: Reason::Match,
        rule: None,
        state: StateOutcome::None,
        nat: None,
        log: None,
        emit: Vec::new(),
        route: None,
        created: None,
        refrag: None,
    }
}

fn held() -> Verdict {
    Verdict {
        action: Action::Held,
        ..pass_untouched()
    }
}

/// Whether the reassembler must see this packet: IPv4 with MF or an
/// offset, IPv6 with extension headers (where a fragment header hides).
fn might_be_fragment(frame: &[u8], pd: &Pdesc) -> bool {
    let l3 = usize::from(pd.l3_off);
    match pd.af {
        Af::Inet => frame
            .get(l3 + 6..l3 + 8)
            .is_some_and(|b| u16::from_be_bytes([b[0], b[1]]) & 0x3fff != 0),
        Af::Inet6 => pd.fragment || usize::from(pd.l4_off) != l3 + 40,
    }
}
