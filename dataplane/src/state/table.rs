//! The table itself: sharded storage, insertion with pf's collision
//! rules, lookup, removal and snapshots.

use super::config::{NewState, StateConfig};
use super::entry::{
    PeerState, State, FLOATING, F_FOREIGN, F_MODULATED, F_SLOPPY, F_SRCNODE, F_TCP_EST,
    F_TRANSLATED, X_AFTO, X_ALLOWOPTS, X_NOSYNC, X_PEER,
};
use super::ident::{PackedSync, SyncId, MAX_SHARDS};
use super::info::{StateEvent, StateInfo};
use super::packed::PackedKey;
use super::peer::{tcps, udps, wscale_of, Peer, WSCALE_MASK};
use super::shard::{bound_ok, role_ok, Foreign, Shard};
use super::srcnode::{Overload, SrcKey, SrcNodeCounters, SrcNodeInfo, SrcNodes};
use super::timeout::{self, Registry};
use super::tracked::StateId;
use crate::key::{sidx, StateKey};
use crate::pdesc::{proto, tcp_flags, AddrKey, Dir};
use crate::reason::Reason;
use crossbeam_channel::Sender;
use ruleset::addr::Af;
use ruleset::rule::{PFTM_MAX, PFTM_SRC_NODE};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};

/// A shard on its own cache line, so two cores locking neighbouring
/// shards do not share one.
#[repr(align(64))]
pub(crate) struct Padded(pub Mutex<Shard>);

/// pf's state table. Shared by all workers (`&self` everywhere).
pub struct StateTable {
    pub(crate) timeouts: [u32; PFTM_MAX],
    pub(crate) limit: u32,
    pub(crate) shards: Box<[Padded]>,
    /// pf's `states_halfopen`: the shards' counts summed as they change.
    half_open_total: Arc<AtomicU32>,
    /// pf's `pf_status.states`.
    pub(crate) count: AtomicU32,
    pub(crate) registry: Registry,
    pub(crate) stats: Stats,
    pub(crate) rng: AtomicU64,
    pub(crate) purge_cursor: Mutex<(usize, usize)>,
    pub(crate) src_nodes: Mutex<SrcNodes>,
    /// Set when an overload is queued, so the engine's per-packet
    /// check for overloads is one load, not a lock.
    pub(crate) overload_pending: std::sync::atomic::AtomicBool,
    /// Removed states whose rule asked to hear of it.
    released: Mutex<Vec<Released>>,
    released_pending: std::sync::atomic::AtomicBool,
    /// Latest time seen by insert and purge, for removals that are not
    /// given one (a source node's expiry starts then).
    pub(crate) clock: AtomicU32,
    /// pf's hostid: the creator id of the states made here.
    pub(crate) host_id: AtomicU32,
    /// Where each state imported from a pfsync peer lives, (shard,
    /// slot) by its identity. Lock order: shards first, then this.
    pub(crate) peers: Mutex<HashMap<PackedSync, [u32; 2]>>,
}

/// `flush` after a source went over its limits: doom its states.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FlushReq {
    pub af: Af,
    pub addr: AddrKey,
    /// Direction of the offending state: the source is `addr[1]` of the
    /// wire key for an outbound state, `addr[0]` for an inbound one.
    pub dir: Dir,
    /// `None`: every rule's states (`flush global`).
    pub rule: Option<(u32, u32)>,
}

#[derive(Default)]
pub(crate) struct Stats {
    pub inserts: AtomicU64,
    pub removals: AtomicU64,
    pub limit: AtomicU64,
    pub rule_limit: AtomicU64,
    pub collisions: AtomicU64,
    pub event_drops: AtomicU64,
    pub src_limit: AtomicU64,
}

/// The table's counters (pf's `FCNT_STATE_*` and limit counters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateCounters {
    pub inserts: u64,
    pub removals: u64,
    /// Creations refused by `set limit states` (pf: pool exhausted).
    pub limit: u64,
    /// Creations refused by a rule's `max`.
    pub rule_limit: u64,
    /// Creations refused by a key collision.
    pub collisions: u64,
    /// Events lost because the channel was full.
    pub event_drops: u64,
    /// Creations or connections refused by `max-src-*`.
    pub src_limit: u64,
}

/// A removed state, for whoever keeps something alive while states use
/// it: its rule and its source as the rules saw it (before translation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Released {
    pub rule: (u32, u32),
    /// The creator's `NewState::release_tag`.
    pub tag: u64,
    pub af: ruleset::addr::Af,
    pub src: crate::pdesc::AddrKey,
}

/// Seconds on the caller's clock: pf keeps state times in seconds.
pub(crate) fn secs(now_ns: u64) -> u32 {
    (now_ns / 1_000_000_000).min(u64::from(u32::MAX)) as u32
}

impl StateTable {
    /// A table of `cfg.shards` lock shards, at least 1 and at most 256
    /// (local pfsync ids keep 8 bits of shard). Its host id starts as a
    /// non-zero value drawn from `cfg.seed`; set it with
    /// [`StateTable::set_host_id`].
    pub fn new(cfg: StateConfig) -> Self {
        let n = cfg.shards.clamp(1, MAX_SHARDS);
        let half_open_total = Arc::new(AtomicU32::new(0));
        StateTable {
            timeouts: cfg.timeouts,
            limit: cfg.limit,
            shards: (0..n)
                .map(|_| Padded(Mutex::new(Shard::new(half_open_total.clone()))))
                .collect(),
            half_open_total,
            count: AtomicU32::new(0),
            registry: Registry::default(),
            stats: Stats::default(),
            rng: AtomicU64::new(cfg.seed),
            purge_cursor: Mutex::new((0, 0)),
            src_nodes: Mutex::new(SrcNodes::default()),
            overload_pending: std::sync::atomic::AtomicBool::new(false),
            released: Mutex::new(Vec::new()),
            released_pending: std::sync::atomic::AtomicBool::new(false),
            clock: AtomicU32::new(0),
            host_id: AtomicU32::new(host_id_of(cfg.seed)),
            peers: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn src_nodes(&self) -> MutexGuard<'_, SrcNodes> {
        self.src_nodes.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn tick(&self, now: u32) {
        self.clock.fetch_max(now, Relaxed);
    }

    /// Sources that went over a rule's limits since the last call; the
    /// engine adds each to its rule's overload table.
    #[inline]
    pub fn drain_overloads(&self) -> Vec<Overload> {
        // a plain load first: the engine asks on every packet, and a
        // swap is a locked read-modify-write of a shared line
        if !self.overload_pending.load(Relaxed) || !self.overload_pending.swap(false, Relaxed) {
            return Vec::new();
        }
        std::mem::take(&mut self.src_nodes().overloads)
    }

    /// States removed since the last call whose rule set
    /// `NewState::release_tag`.
    pub fn drain_released(&self) -> Vec<Released> {
        if !self.released_pending.swap(false, Relaxed) {
            return Vec::new();
        }
        std::mem::take(&mut *self.released.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The timeouts in force (`pfctl -st`), adaptive ones as state
    /// counts.
    pub fn timeouts(&self) -> [u32; PFTM_MAX] {
        self.timeouts
    }

    /// `set limit states` in force.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Number of source nodes (`pfctl -sS`).
    pub fn src_node_count(&self) -> usize {
        self.src_nodes().nodes.len()
    }

    /// Every source node (`pfctl -sS`).
    pub fn src_node_info(&self) -> Vec<SrcNodeInfo> {
        self.src_nodes().info()
    }

    /// Source-tracking counters (`pfctl -si -v`).
    pub fn src_node_counters(&self) -> SrcNodeCounters {
        self.src_nodes().counters
    }

    /// pfctl -K / -F Sources: remove the source nodes `which` picks;
    /// how many went.
    pub fn kill_src_nodes(&self, which: impl Fn(&SrcNodeInfo) -> bool) -> usize {
        self.src_nodes().kill(which)
    }

    /// `set limit src-nodes`.
    pub fn set_src_node_limit(&self, limit: u32) {
        self.src_nodes().limit = limit;
    }

    /// The source node a state refers to: the creating packet's source
    /// before translation.
    pub(crate) fn src_key(st: &State, rule: (u32, u32), per_rule: bool) -> SrcKey {
        let k = if st.dir == Dir::Out {
            st.stack_key()
        } else {
            st.wire()
        };
        let k = k.unpack();
        SrcKey {
            af: k.af,
            addr: k.addr[sidx(st.dir)],
            rule: per_rule.then_some(rule),
        }
    }

    /// Doom the states a `flush` names (pf walks every state too).
    pub(crate) fn flush(&self, f: FlushReq) {
        let side = if f.dir == Dir::Out { 1 } else { 0 };
        for i in 0..self.shards.len() {
            let mut g = self.lock(i);
            let mut opened = 0;
            let Shard {
                slots, profiles, ..
            } = &mut *g;
            for st in slots.iter_mut().filter(|s| s.live()) {
                let w = st.wire().unpack();
                let rule = profiles.get(st.profile as usize).map(|p| p.rule);
                if w.af == f.af && w.addr[side] == f.addr && (f.rule.is_none() || f.rule == rule) {
                    let before = super::shard::half_open(st);
                    st.timeout = timeout::PFTM_PURGE as u8;
                    st.src.state = tcps::CLOSED;
                    st.dst.state = tcps::CLOSED;
                    if !before && super::shard::half_open(st) {
                        opened += 1;
                    }
                }
            }
            g.half_open_up(opened);
        }
    }

    #[inline]
    pub(crate) fn shard_of(&self, hash: u64) -> usize {
        let n = self.shards.len();
        let h = (hash >> 32) as usize;
        // a power of two (the default 64) masks instead of dividing: a
        // 64-bit division is tens of cycles on every packet
        if n.is_power_of_two() {
            h & (n - 1)
        } else {
            h % n
        }
    }

    #[inline]
    pub(crate) fn lock(&self, i: usize) -> MutexGuard<'_, Shard> {
        let n = self.shards.len();
        let i = if i < n { i } else { i % n };
        self.shards[i].0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A non-zero pseudo-random word (splitmix64 over a seeded counter)
    /// for sequence modulators.
    pub(crate) fn random(&self) -> u32 {
        let x = self.rng.fetch_add(0x9e37_79b9_7f4a_7c15, Relaxed);
        let x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        let x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (x ^ (x >> 31)) as u32
    }

    /// Number of states (pf's `pf_status.states`).
    pub fn len(&self) -> usize {
        self.count.load(Relaxed) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn counters(&self) -> StateCounters {
        let s = &self.stats;
        StateCounters {
            inserts: s.inserts.load(Relaxed),
            removals: s.removals.load(Relaxed),
            limit: s.limit.load(Relaxed),
            rule_limit: s.rule_limit.load(Relaxed),
            collisions: s.collisions.load(Relaxed),
            event_drops: s.event_drops.load(Relaxed),
            src_limit: s.src_limit.load(Relaxed),
        }
    }

    /// pfctl -F info: the counters back to zero (pf's DIOCCLRSTATUS
    /// clears its `fcounters` and `lcounters`); the states stay.
    pub fn clear_counters(&self) {
        let s = &self.stats;
        for c in [
            &s.inserts,
            &s.removals,
            &s.limit,
            &s.rule_limit,
            &s.collisions,
            &s.event_drops,
            &s.src_limit,
        ] {
            c.store(0, Relaxed);
        }
        self.src_nodes().counters = SrcNodeCounters::default();
    }

    /// Send state changes to `tx` (pfsync's batcher), or stop with `None`.
    /// Each shard keeps its own sender, so with none set an event costs
    /// one branch.
    pub fn set_events(&self, tx: Option<Sender<StateEvent>>) {
        for i in 0..self.shards.len() {
            self.lock(i).events = tx.clone();
        }
    }

    pub(crate) fn emit(&self, shard: &Shard, ev: impl FnOnce() -> StateEvent) {
        if let Some(tx) = &shard.events {
            if tx.try_send(ev()).is_err() {
                self.stats.event_drops.fetch_add(1, Relaxed);
            }
        }
    }

    /// When the state is due (`pf_state_expires`), in seconds; 0 = now.
    #[inline]
    pub(crate) fn due(&self, shard: &Shard, st: &State) -> u64 {
        match shard.profiles.get(st.profile as usize) {
            Some(p) => timeout::expires(
                st.expire,
                usize::from(st.timeout),
                p,
                &self.timeouts,
                self.count.load(Relaxed),
            ),
            None => 0,
        }
    }

    /// Still usable at `now`: not doomed, not past its timeout.
    #[inline]
    pub(crate) fn alive(&self, shard: &Shard, st: &State, now: u32) -> bool {
        usize::from(st.timeout) < PFTM_MAX && self.due(shard, st) > u64::from(now)
    }

    pub(crate) fn info_at(&self, shard_idx: usize, shard: &Shard, idx: u32) -> Option<StateInfo> {
        let st = shard.slots.get(idx as usize).filter(|s| s.live())?;
        let peers = shard.peers(idx, st);
        let id = StateId {
            shard: shard_idx as u32,
            idx,
            serial: st.serial,
        };
        let prof = shard.profiles.get(st.profile as usize);
        Some(StateInfo {
            id,
            sync: self.sync_of(shard, id, st),
            wire: st.wire().unpack(),
            stack: st.stack_key().unpack(),
            dir: st.dir,
            rule: prof.map_or((0, 0), |p| p.rule),
            if_bound: (st.if_bound != FLOATING).then_some(st.if_bound),
            src: peers.0,
            dst: peers.1,
            packets: st.packets,
            bytes: st.bytes,
            creation: st.creation,
            expire: st.expire,
            expires_at: self.due(shard, st),
            timeout: st.timeout,
            sloppy: st.flags & F_SLOPPY != 0,
            translated: st.flags & F_TRANSLATED != 0,
            no_sync: st.xflags & X_NOSYNC != 0,
            allow_opts: st.xflags & X_ALLOWOPTS != 0,
            from_peer: st.xflags & X_PEER != 0,
            scrub: prof.map_or_else(Default::default, |p| p.scrub),
        })
    }

    /// Whether the state `id` names is still in the table (the same
    /// state: a reused slot has another generation).
    pub fn is_live(&self, id: StateId) -> bool {
        self.lock(id.shard as usize)
            .get(id.idx, id.serial)
            .is_some()
    }

    /// One state's current view (the engine reads a new state's
    /// sequence modulator here: `src.seqdiff`).
    pub fn info(&self, id: StateId) -> Option<StateInfo> {
        let g = self.lock(id.shard as usize);
        g.get(id.idx, id.serial)?;
        self.info_at(id.shard as usize, &g, id.idx)
    }

    /// Every state, for `pfctl -ss` (one shard locked at a time).
    pub fn states(&self) -> Vec<StateInfo> {
        let mut out = Vec::with_capacity(self.len());
        for i in 0..self.shards.len() {
            let g = self.lock(i);
            for idx in 0..g.slots.len() as u32 {
                if let Some(info) = self.info_at(i, &g, idx) {
                    out.push(info);
                }
            }
        }
        out
    }

    /// TCP states not yet established on both sides (pf's
    /// `states_halfopen` for `pfctl -si`): the shards' kept counts.
    pub fn half_open(&self) -> usize {
        self.half_open_total.load(Relaxed) as usize
    }

    /// The same by walking every slot: what the kept count must equal
    /// (tests).
    #[doc(hidden)]
    pub fn half_open_walk(&self) -> usize {
        (0..self.shards.len())
            .map(|i| {
                let g = self.lock(i);
                g.slots
                    .iter()
                    .filter(|st| super::shard::half_open(st))
                    .count()
            })
            .sum()
    }

    /// A state whose wire or stack key is `key`, in either direction
    /// (pf's `pf_find_state_all` with `PF_INOUT`).
    pub fn lookup(&self, key: &StateKey) -> Option<StateId> {
        let pk = PackedKey::pack(key);
        let h = key.symmetric_hash();
        let si = self.shard_of(key.shard_hash());
        let g = self.lock(si);
        for &e in g.local.iter_hash(h) {
            if let Some(st) = g.slots.get((e >> 1) as usize) {
                if st.live() && st.key_eq(e & 1, &pk) {
                    return Some(StateId {
                        shard: si as u32,
                        idx: e >> 1,
                        serial: st.serial,
                    });
                }
            }
        }
        g.foreign
            .iter_hash(h)
            .find(|f| f.key == pk)
            .map(|f| StateId {
                shard: f.home,
                idx: f.idx,
                serial: f.serial,
            })
    }

    /// Create a state (pf's `pf_create_state` + `pf_state_insert`).
    ///
    /// Refused with `Reason::StateLimit` when the rule's `max` is reached
    /// and `Reason::Memory` when `set limit states` is: pf's state pool
    /// has that hard limit and a failed allocation is `PFRES_MEMORY`.
    /// `Reason::StateInsert` on a key collision; as pf, a colliding TCP
    /// state whose peers are both closing (`FIN_WAIT_2` or later) is
    /// removed and replaced, and so is one already expired or doomed.
    pub fn insert(&self, s: NewState, now_ns: u64) -> Result<StateId, Reason> {
        let now = secs(now_ns);
        self.tick(now);
        let (pid, prof) = self.registry.resolve(
            s.rule,
            s.timeouts,
            s.max_states_rule,
            s.src_track,
            s.release_tag,
            s.scrub,
        );
        // source tracking comes first, as in pf_test_rule
        let src = match &s.src_track {
            Some(t) => {
                let k = SrcKey {
                    af: s.pd.af,
                    addr: s.pd.src,
                    rule: t.per_rule.then_some(s.rule),
                };
                if self.src_nodes().attach(k, s.rule, t).is_err() {
                    self.stats.src_limit.fetch_add(1, Relaxed);
                    return Err(Reason::SrcLimit);
                }
                Some(k)
            }
            None => None,
        };
        let undo_src = || {
            if let Some(k) = &src {
                self.src_nodes().detach(k, false, now, 0);
            }
        };
        let max = s.max_states_rule;
        if prof
            .states_cur
            .fetch_update(Relaxed, Relaxed, |c| (max == 0 || c < max).then(|| c + 1))
            .is_err()
        {
            self.stats.rule_limit.fetch_add(1, Relaxed);
            undo_src();
            return Err(Reason::StateLimit);
        }
        let limit = self.limit;
        if self
            .count
            .fetch_update(Relaxed, Relaxed, |c| (c < limit).then(|| c + 1))
            .is_err()
        {
            prof.states_cur.fetch_sub(1, Relaxed);
            self.stats.limit.fetch_add(1, Relaxed);
            undo_src();
            return Err(Reason::Memory);
        }
        let r = self.build(&s, now, pid).and_then(|(mut st, seqdiff)| {
            if src.is_some() {
                st.flags |= F_SRCNODE;
            }
            self.attach(st, [seqdiff, 0], pid, now, None)
        });
        match r {
            Ok(id) => {
                self.stats.inserts.fetch_add(1, Relaxed);
                Ok(id)
            }
            Err(e) => {
                prof.states_cur.fetch_sub(1, Relaxed);
                self.count.fetch_sub(1, Relaxed);
                undo_src();
                Err(e)
            }
        }
    }

    /// The new state's fields, as `pf_create_state` sets them.
    /// Also returns the creating peer's sequence modulator (0: none).
    fn build(&self, s: &NewState, now: u32, pid: u32) -> Result<(State, u32), Reason> {
        let wire = PackedKey::pack(&s.wire);
        let stack = (s.stack != s.wire).then(|| PackedKey::pack(&s.stack));
        let mut flags = 0;
        if s.sloppy {
            flags |= F_SLOPPY;
        }
        if s.translated {
            flags |= F_TRANSLATED;
        }
        let mut src = Peer::default();
        let mut dst = Peer::default();
        let timeout;
        let pd = &s.pd;
        match pd.proto {
            proto::TCP => {
                let t = pd.tcp.ok_or(if pd.fragment {
                    Reason::Fragment
                } else {
                    Reason::Short
                })?;
                let len = u32::from(t.data_len);
                src.seqlo = t.seq;
                src.seqhi = t.seq.wrapping_add(len).wrapping_add(1);
                if t.flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN && s.modulate {
                    src.seqdiff = self.random().wrapping_sub(src.seqlo);
                    if src.seqdiff == 0 {
                        src.seqdiff = 1;
                    }
                }
                if t.flags & tcp_flags::SYN != 0 {
                    src.seqhi = src.seqhi.wrapping_add(1);
                    src.wscale = wscale_of(&t);
                }
                src.max_win = t.win.max(1);
                let ws = src.wscale & WSCALE_MASK;
                if ws != 0 {
                    // the SYN's window is not scaled; store it pre-scaled
                    // as every later window will be
                    let win = u32::from(src.max_win) + (1u32 << ws);
                    src.max_win = ((win - 1) >> ws) as u16;
                }
                if t.flags & tcp_flags::FIN != 0 {
                    src.seqhi = src.seqhi.wrapping_add(1);
                }
                dst.seqhi = 1;
                dst.max_win = 1;
                src.state = tcps::SYN_SENT;
                dst.state = tcps::CLOSED;
                timeout = timeout::PFTM_TCP_FIRST_PACKET;
            }
            proto::UDP => {
                src.state = udps::SINGLE;
                dst.state = udps::NO_TRAFFIC;
                timeout = timeout::PFTM_UDP_FIRST_PACKET;
            }
            proto::ICMP | proto::ICMPV6 => timeout = timeout::PFTM_ICMP_FIRST_PACKET,
            _ => {
                src.state = udps::SINGLE;
                dst.state = udps::NO_TRAFFIC;
                timeout = timeout::PFTM_OTHER_FIRST_PACKET;
            }
        }
        if src.seqdiff != 0 {
            flags |= F_MODULATED;
        }
        let mut st = State::vacant(0, pid);
        st.set_keys(wire, stack);
        st.src = PeerState::of(&src);
        st.dst = PeerState::of(&dst);
        // pf_test counts the creating packet on its new state
        st.packets = [1, 0];
        st.bytes = [u64::from(pd.ip_len), 0];
        st.creation = now;
        st.expire = now;
        st.if_bound = s.if_bound.unwrap_or(FLOATING);
        st.timeout = timeout as u8;
        st.dir = s.dir;
        st.flags = flags;
        if s.stack.af != s.wire.af {
            st.xflags |= X_AFTO;
        }
        if s.no_sync {
            st.xflags |= X_NOSYNC;
        }
        if s.allow_opts {
            st.xflags |= X_ALLOWOPTS;
        }
        Ok((st, src.seqdiff))
    }

    /// pf's `pf_state_key_attach` for both keys, then the insertion.
    /// `mods` are the peers' sequence modulators. `peer`: the state comes
    /// from pfsync with this identity; it is refused if the identity is
    /// taken, and no event reports it.
    pub(crate) fn attach(
        &self,
        st: State,
        mods: [u32; 2],
        pid: u32,
        now: u32,
        peer: Option<SyncId>,
    ) -> Result<StateId, Reason> {
        let wire = st.wire();
        let stack = st.stack_opt();
        let hw = wire.hash();
        let home = self.shard_of(wire.shard_hash());
        let hs = stack.map(|k| k.hash());
        let si = stack.map(|k| self.shard_of(k.shard_hash()));
        let afto = stack.is_some_and(|k| k.af() != wire.af());
        let mut st = Some(st);
        for _ in 0..3 {
            let mut doomed: Vec<(StateId, bool)> = Vec::new();
            let two = si.filter(|&s| s != home);
            let (mut gh, mut gs) = match two {
                Some(s) if s < home => {
                    let gs = self.lock(s);
                    (self.lock(home), Some(gs))
                }
                Some(s) => {
                    let gh = self.lock(home);
                    (gh, Some(self.lock(s)))
                }
                None => (self.lock(home), None),
            };
            let Some(new) = st.as_ref() else {
                break;
            };
            let (dir, bound) = (new.dir, new.if_bound);
            let mut blocked = self.collides(&gh, home, &wire, hw, dir, bound, now, &mut doomed);
            if let (Some(k), Some(h)) = (stack.as_ref(), hs) {
                let (g, gi) = match gs.as_deref() {
                    Some(g) => (g, two.unwrap_or(home)),
                    None => (&*gh, home),
                };
                blocked |= self.collides(g, gi, k, h, dir, bound, now, &mut doomed);
            }
            if blocked {
                self.stats.collisions.fetch_add(1, Relaxed);
                return Err(Reason::StateInsert);
            }
            if !doomed.is_empty() {
                drop(gs);
                drop(gh);
                for (id, check) in doomed {
                    if check && !self.reusable(id, now) {
                        self.stats.collisions.fetch_add(1, Relaxed);
                        return Err(Reason::StateInsert);
                    }
                    self.remove(id);
                }
                continue;
            }
            // checked under the shard locks, so two imports of one
            // identity cannot both get in
            let mut ids = match peer {
                Some(p) => {
                    let ids = self.peer_ids();
                    if ids.contains_key(&PackedSync::from(p)) {
                        return Err(Reason::StateInsert);
                    }
                    Some(ids)
                }
                None => None,
            };
            let Some(mut new) = st.take() else {
                break;
            };
            gh.ensure_profile(pid, &self.registry);
            if two.is_some() {
                new.flags |= F_FOREIGN;
            }
            if mods != [0, 0] {
                new.flags |= F_MODULATED;
            }
            if peer.is_some() {
                new.xflags |= X_PEER;
            }
            let (idx, serial) = gh.alloc(new);
            if mods != [0, 0] {
                gh.modulators.insert(idx, mods);
            }
            let id = StateId {
                shard: home as u32,
                idx,
                serial,
            };
            if let (Some(p), Some(ids)) = (peer, ids.as_mut()) {
                ids.insert(p.into(), [home as u32, idx]);
                gh.peer_ids.insert(idx, p.into());
            }
            drop(ids);
            gh.index(hw, idx << 1);
            if let (Some(k), Some(h)) = (stack, hs) {
                match gs.as_deref_mut() {
                    Some(g) => g.index_foreign(
                        h,
                        Foreign {
                            key: k,
                            home: home as u32,
                            idx,
                            serial,
                            if_bound: bound,
                            dir,
                            afto,
                        },
                    ),
                    None => gh.index(h, (idx << 1) | 1),
                }
            }
            if peer.is_none() {
                self.emit(&gh, || {
                    StateEvent::Insert(
                        self.info_at(home, &gh, idx)
                            .expect("slot allocated above under this lock"),
                    )
                });
            }
            return Ok(id);
        }
        self.stats.collisions.fetch_add(1, Relaxed);
        Err(Reason::StateInsert)
    }

    /// Look for states already on `key` that the new one would collide
    /// with (same interface binding and same direction, as pf). Those
    /// that pf would replace go to `doomed`; `true` = a hard collision.
    #[allow(clippy::too_many_arguments)]
    fn collides(
        &self,
        g: &Shard,
        gi: usize,
        key: &PackedKey,
        h: u64,
        dir: crate::pdesc::Dir,
        bound: u32,
        now: u32,
        doomed: &mut Vec<(StateId, bool)>,
    ) -> bool {
        for &e in g.local.iter_hash(h) {
            let Some(old) = g.slots.get((e >> 1) as usize) else {
                continue;
            };
            if !old.live() || !old.key_eq(e & 1, key) || old.if_bound != bound {
                continue;
            }
            let old_afto = old.afto();
            let same = (old.wire().af() == key.af() && old.dir == dir)
                || (old_afto && key.af() == old.stack_key().af() && old.dir != dir);
            if !same {
                continue;
            }
            let id = StateId {
                shard: gi as u32,
                idx: e >> 1,
                serial: old.serial,
            };
            if self.replaceable(g, old, now) {
                doomed.push((id, false));
            } else {
                return true;
            }
        }
        for f in g.foreign.iter_hash(h) {
            if f.key != *key || f.if_bound != bound {
                continue;
            }
            // a foreign entry is always the old state's stack key, whose
            // wire key has the other family exactly when it translates
            let same = (!f.afto && f.dir == dir) || (f.afto && f.dir != dir);
            if same {
                let id = StateId {
                    shard: f.home,
                    idx: f.idx,
                    serial: f.serial,
                };
                doomed.push((id, true));
            }
        }
        false
    }

    fn replaceable(&self, g: &Shard, old: &State, now: u32) -> bool {
        (old.wire().proto() == proto::TCP
            && old.src.state >= tcps::FIN_WAIT_2
            && old.dst.state >= tcps::FIN_WAIT_2)
            || !self.alive(g, old, now)
    }

    fn reusable(&self, id: StateId, now: u32) -> bool {
        let g = self.lock(id.shard as usize);
        match g.get(id.idx, id.serial) {
            Some(old) => self.replaceable(&g, old, now),
            None => true,
        }
    }

    /// Remove a state (pf's `pf_remove_state` + `pf_free_state`).
    /// `false` if it was already gone.
    pub fn remove(&self, id: StateId) -> bool {
        self.remove_as(id, false)
    }

    /// [`Self::remove`]; `quiet`: no event (pfsync removed it).
    pub(crate) fn remove_as(&self, id: StateId, quiet: bool) -> bool {
        let home = id.shard as usize;
        let mut g = self.lock(home);
        let Some(st) = g.get(id.idx, id.serial) else {
            return false;
        };
        if st.flags & F_FOREIGN == 0 {
            self.unlink(&mut g, home, id.idx, None, quiet);
            return true;
        }
        let s = self.shard_of(st.stack_key().shard_hash());
        if s > home {
            let mut gs = self.lock(s);
            self.unlink(&mut g, home, id.idx, Some(&mut gs), quiet);
            return true;
        }
        // lock in ascending order: drop ours, take both, look again
        drop(g);
        let mut gs = self.lock(s);
        let mut g = self.lock(home);
        if g.get(id.idx, id.serial).is_none() {
            return false;
        }
        self.unlink(&mut g, home, id.idx, Some(&mut gs), quiet);
        true
    }

    /// Unindex and free slot `idx` of shard `g`; `gs` is the shard
    /// holding its foreign stack entry, if any. `quiet`: no event.
    pub(crate) fn unlink(
        &self,
        g: &mut Shard,
        home: usize,
        idx: u32,
        gs: Option<&mut Shard>,
        quiet: bool,
    ) {
        if !quiet {
            self.emit(g, || {
                StateEvent::Delete(
                    self.info_at(home, g, idx)
                        .expect("caller checked the slot is live"),
                )
            });
        }
        let Some(st) = g.slots.get(idx as usize) else {
            return;
        };
        if st.xflags & X_PEER != 0 {
            if let Some(p) = g.peer_ids.remove(&idx) {
                self.peer_ids().remove(&p);
            }
        }
        let (hw, serial, profile) = (st.wire().hash(), st.serial, st.profile);
        let stack = st.stack_opt().map(|k| k.hash());
        let foreign = st.flags & F_FOREIGN != 0;
        g.unindex(hw, idx << 1);
        if let Some(hs) = stack {
            match (foreign, gs) {
                (true, Some(gs)) => gs.unindex_foreign(hs, home as u32, idx, serial),
                _ => g.unindex(hs, (idx << 1) | 1),
            }
        }
        if let Some(p) = g.profiles.get(profile as usize) {
            p.states_cur.fetch_sub(1, Relaxed);
            if p.release_tag != 0 {
                if let Some(st) = g.slots.get(idx as usize) {
                    let k = Self::src_key(st, p.rule, false);
                    self.released
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(Released {
                            rule: p.rule,
                            tag: p.release_tag,
                            af: k.af,
                            src: k.addr,
                        });
                    self.released_pending.store(true, Relaxed);
                }
            }
            if let (Some(t), Some(st)) = (&p.src, g.slots.get(idx as usize)) {
                if st.flags & F_SRCNODE != 0 {
                    let timeout = match t.timeout {
                        0 => self.timeouts[PFTM_SRC_NODE],
                        v => v,
                    };
                    self.src_nodes().detach(
                        &Self::src_key(st, p.rule, t.per_rule),
                        st.flags & F_TCP_EST != 0,
                        self.clock.load(Relaxed),
                        timeout,
                    );
                }
            }
        }
        g.release(idx);
        self.count.fetch_sub(1, Relaxed);
        self.stats.removals.fetch_add(1, Relaxed);
    }

    /// The best live state on `pk` for a packet in `dir` on `ifidx`:
    /// if-bound states before floating ones, as pf orders its key lists.
    #[inline]
    pub(crate) fn find_local(
        &self,
        g: &Shard,
        h: u64,
        pk: &PackedKey,
        dir: crate::pdesc::Dir,
        ifidx: u32,
        now: u32,
    ) -> Option<u32> {
        let usable = |e: u32| {
            g.slots.get((e >> 1) as usize).is_some_and(|st| {
                st.live()
                    && st.key_eq(e & 1, pk)
                    && role_ok(st, e & 1, dir)
                    && bound_ok(st.if_bound, ifidx)
                    && self.alive(g, st, now)
            })
        };
        if g.bound == 0 {
            // every state here floats: the first that matches is the one
            return g.local.find(h, |&e| usable(e)).map(|&e| e >> 1);
        }
        let mut floating = None;
        for &e in g.local.iter_hash(h) {
            let Some(st) = g.slots.get((e >> 1) as usize) else {
                continue;
            };
            if usable(e) {
                if st.if_bound != FLOATING {
                    return Some(e >> 1);
                }
                floating.get_or_insert(e >> 1);
            }
        }
        floating
    }

    /// A foreign entry on `pk` a packet in `dir` on `ifidx` may use:
    /// (home shard, slot, generation).
    #[inline]
    pub(crate) fn find_foreign(
        g: &Shard,
        h: u64,
        pk: &PackedKey,
        dir: crate::pdesc::Dir,
        ifidx: u32,
    ) -> Option<(usize, u32, u32)> {
        let usable = |f: &Foreign| {
            let role = if f.afto {
                dir == crate::pdesc::Dir::In
            } else {
                dir == crate::pdesc::Dir::Out
            };
            f.key == *pk && role && bound_ok(f.if_bound, ifidx)
        };
        if g.foreign_bound == 0 {
            // no if-bound entry here: the first match is the one
            return g
                .foreign
                .find(h, |f| usable(f))
                .map(|f| (f.home as usize, f.idx, f.serial));
        }
        let mut floating = None;
        for f in g.foreign.iter_hash(h) {
            if usable(f) {
                if f.if_bound != FLOATING {
                    return Some((f.home as usize, f.idx, f.serial));
                }
                floating.get_or_insert((f.home as usize, f.idx, f.serial));
            }
        }
        floating
    }
}

/// A non-zero host id from the table's seed (splitmix64's finaliser), as
/// pf draws one at random when it attaches.
fn host_id_of(seed: u64) -> u32 {
    let x = seed ^ 0x6a09_e667_f3bc_c909;
    let x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((x ^ (x >> 31)) as u32).max(1)
}
