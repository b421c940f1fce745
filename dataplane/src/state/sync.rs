//! The table's pfsync side (pf's `pf_state_export`, `pf_state_import`,
//! and what `if_pfsync.c` does to states): identities, export, import of
//! a peer's states, merge of its updates, removal and clearing by
//! identity.
//!
//! Changes made here emit no [`StateEvent`](super::StateEvent): the
//! pfsync machine made them, and hearing them back as local changes
//! would echo them to the peer.

use super::entry::{
    PeerState, State, FLOATING, F_MODULATED, F_SLOPPY, F_TRANSLATED, X_AFTO, X_ALLOWOPTS, X_NOSYNC,
    X_PEER,
};
use super::ident::{PackedSync, SyncId, SERIAL_MASK};
use super::info::StateInfo;
use super::packed::PackedKey;
use super::peer::Peer;
use super::shard::Shard;
use super::table::{secs, StateTable};
use super::tracked::{Scrub, StateId};
use crate::key::StateKey;
use crate::pdesc::Dir;
use crate::reason::Reason;
use ruleset::rule::PFTM_MAX;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::MutexGuard;

/// The rule of a state imported from a peer: none (pf attaches them to
/// its default rule, which has no number). No ruleset generation ever
/// matches it, so the engine attributes such states to no rule.
pub const PFSYNC_RULE: (u32, u32) = (u32::MAX, u32::MAX);

/// A state to take from a peer: what a `pfsync_state` record carries,
/// in the table's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportState {
    pub sync: SyncId,
    pub wire: StateKey,
    /// Equal to `wire` unless the state translates.
    pub stack: StateKey,
    /// Direction of the creating packet.
    pub dir: Dir,
    /// With their sequence modulators (`seqdiff`).
    pub src: Peer,
    pub dst: Peer,
    /// `PFTM_*` class; must be below `PFTM_MAX`.
    pub timeout: u8,
    /// Seconds on the table's clock (`now_ns / 1e9`).
    pub creation: u32,
    /// Last activity, seconds on the table's clock.
    pub expire: u32,
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    /// Interface index of an if-bound state, `None` for a floating one.
    pub if_bound: Option<u32>,
    pub sloppy: bool,
    pub no_sync: bool,
    pub allow_opts: bool,
    pub scrub: Scrub,
}

/// Why [`StateTable::import`] did not take a state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// `set limit states` reached (pf's ENOMEM).
    #[error("state table full")]
    NoMemory,
    /// A state with this identity, or one of these keys, exists.
    #[error("state exists")]
    Exists,
    /// The state cannot be made here.
    #[error("state refused: {0}")]
    Refused(&'static str),
}

/// Which of a creator's states [`StateTable::clear_creator`] removes
/// (pfsync's CLR names an interface, or none for all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClearScope {
    All,
    /// Floating states only (pf's "all" pseudo-interface).
    Floating,
    /// States bound to this interface index.
    Bound(u32),
}

impl StateTable {
    /// pf's hostid: the creator id of the states made here.
    pub fn host_id(&self) -> u32 {
        self.host_id.load(Relaxed)
    }

    /// Set the host id (`set hostid`, or the daemon's random draw). Local
    /// states' identities follow it: set it before pfsync hears of them.
    pub fn set_host_id(&self, id: NonZeroU32) {
        self.host_id.store(id.get(), Relaxed);
    }

    pub(crate) fn peer_ids(&self) -> MutexGuard<'_, HashMap<PackedSync, [u32; 2]>> {
        self.peers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The identity of the live state `st` in slot `id` of `shard`.
    pub(crate) fn sync_of(&self, shard: &Shard, id: StateId, st: &State) -> SyncId {
        if st.xflags & X_PEER != 0 {
            if let Some(&p) = shard.peer_ids.get(&id.idx) {
                return p.into();
            }
        }
        SyncId {
            id: id.as_u64(),
            creator: self.host_id(),
        }
    }

    /// The state with pfsync identity `s`, local or imported.
    pub fn find_sync(&self, s: SyncId) -> Option<StateId> {
        let packed = PackedSync::from(s);
        let imported = self.peer_ids().get(&packed).copied();
        if let Some([shard, idx]) = imported {
            let g = self.lock(shard as usize);
            let st = g.slots.get(idx as usize)?;
            let mine =
                st.live() && st.xflags & X_PEER != 0 && g.peer_ids.get(&idx) == Some(&packed);
            return mine.then_some(StateId {
                shard,
                idx,
                serial: st.serial,
            });
        }
        if s.creator != self.host_id() {
            return None;
        }
        let want = StateId::from_u64(s.id);
        if want.shard as usize >= self.shards.len() {
            return None;
        }
        let g = self.lock(want.shard as usize);
        let st = g.slots.get(want.idx as usize)?;
        (st.live() && st.xflags & X_PEER == 0 && st.serial & SERIAL_MASK == want.serial).then_some(
            StateId {
                serial: st.serial,
                ..want
            },
        )
    }

    /// The state with identity `s` as it is now (pf's `pf_state_export`
    /// reads the same fields).
    pub fn export(&self, s: SyncId) -> Option<StateInfo> {
        self.info(self.find_sync(s)?)
    }

    /// Take a state from a peer (pf's `pf_state_import`), keeping its
    /// identity and attaching it to no rule ([`PFSYNC_RULE`]). Refused if
    /// its identity or a key is taken (pf's collision rules apply: a
    /// closing TCP state or an expired one on the same key is replaced),
    /// over `set limit states`, or with creator 0. No event.
    pub fn import(&self, d: &ImportState, now_ns: u64) -> Result<StateId, ImportError> {
        if d.sync.creator == 0 {
            return Err(ImportError::Refused("creator id 0"));
        }
        if usize::from(d.timeout) >= PFTM_MAX {
            return Err(ImportError::Refused("timeout class out of range"));
        }
        if self.find_sync(d.sync).is_some() {
            return Err(ImportError::Exists);
        }
        let now = secs(now_ns);
        self.tick(now);
        let (pid, prof) = self
            .registry
            .resolve(PFSYNC_RULE, [0; PFTM_MAX], 0, None, 0, d.scrub);
        let limit = self.limit;
        if self
            .count
            .fetch_update(Relaxed, Relaxed, |c| (c < limit).then(|| c + 1))
            .is_err()
        {
            self.stats.limit.fetch_add(1, Relaxed);
            return Err(ImportError::NoMemory);
        }
        prof.states_cur.fetch_add(1, Relaxed);
        let wire = PackedKey::pack(&d.wire);
        let stack = (d.stack != d.wire).then(|| PackedKey::pack(&d.stack));
        let mut st = State::vacant(0, pid);
        st.set_keys(wire, stack);
        st.src = PeerState::of(&d.src);
        st.dst = PeerState::of(&d.dst);
        st.packets = d.packets;
        st.bytes = d.bytes;
        st.creation = d.creation;
        st.expire = d.expire;
        st.if_bound = d.if_bound.unwrap_or(FLOATING);
        st.timeout = d.timeout;
        st.dir = d.dir;
        if d.sloppy {
            st.flags |= F_SLOPPY;
        }
        if stack.is_some() {
            st.flags |= F_TRANSLATED;
        }
        if d.stack.af != d.wire.af {
            st.xflags |= X_AFTO;
        }
        if d.no_sync {
            st.xflags |= X_NOSYNC;
        }
        if d.allow_opts {
            st.xflags |= X_ALLOWOPTS;
        }
        let mods = [d.src.seqdiff, d.dst.seqdiff];
        match self.attach(st, mods, pid, now, Some(d.sync)) {
            Ok(id) => {
                self.stats.inserts.fetch_add(1, Relaxed);
                Ok(id)
            }
            Err(r) => {
                prof.states_cur.fetch_sub(1, Relaxed);
                self.count.fetch_sub(1, Relaxed);
                Err(match r {
                    Reason::Memory => ImportError::NoMemory,
                    _ => ImportError::Exists,
                })
            }
        }
    }

    /// Apply a peer's update (the merge rule decided which sides): the
    /// sides given replace the state's tracking, modulators included;
    /// `refresh` makes now the last activity and sets the timeout class.
    /// False if the state is unknown. No event.
    pub fn merge(
        &self,
        s: SyncId,
        src: Option<Peer>,
        dst: Option<Peer>,
        refresh: Option<u8>,
        now_ns: u64,
    ) -> bool {
        let Some(id) = self.find_sync(s) else {
            return false;
        };
        let now = secs(now_ns);
        let mut g = self.lock(id.shard as usize);
        let before = g
            .get(id.idx, id.serial)
            .is_some_and(super::shard::half_open);
        let Shard {
            slots, modulators, ..
        } = &mut *g;
        let Some(st) = slots
            .get_mut(id.idx as usize)
            .filter(|st| st.live() && st.serial == id.serial)
        else {
            return false;
        };
        let mut mods = super::shard::modulators(modulators, id.idx, st);
        if let Some(p) = src {
            st.src = PeerState::of(&p);
            mods[0] = p.seqdiff;
        }
        if let Some(p) = dst {
            st.dst = PeerState::of(&p);
            mods[1] = p.seqdiff;
        }
        if mods == [0, 0] {
            st.flags &= !F_MODULATED;
            modulators.remove(&id.idx);
        } else {
            st.flags |= F_MODULATED;
            modulators.insert(id.idx, mods);
        }
        if let Some(t) = refresh.filter(|&t| usize::from(t) < PFTM_MAX) {
            st.expire = now;
            st.timeout = t;
        }
        g.recount(id.idx, id.serial, before);
        true
    }

    /// Remove the state with identity `s` because the peer removed it.
    /// False if unknown. No event.
    pub fn remove_sync(&self, s: SyncId) -> bool {
        self.find_sync(s).is_some_and(|id| self.remove_as(id, true))
    }

    /// Remove every state of `creator` in `scope` (pfsync's CLR); the
    /// identities removed. No event.
    pub fn clear_creator(&self, creator: u32, scope: ClearScope) -> Vec<SyncId> {
        self.clear_where(scope, |c| c == creator)
    }

    /// Remove every state in `scope`, whoever created it, with no event
    /// (pf's DIOCCLRSTATES, `pfctl -F states`: pf marks them no-sync so
    /// that pfsync tells the peer with one CLR of this host's states,
    /// not a delete per state); the identities removed.
    pub fn clear_quiet(&self, scope: ClearScope) -> Vec<SyncId> {
        self.clear_where(scope, |_| true)
    }

    fn clear_where(&self, scope: ClearScope, creator: impl Fn(u32) -> bool) -> Vec<SyncId> {
        let mut doomed = Vec::new();
        for i in 0..self.shards.len() {
            let g = self.lock(i);
            for (idx, st) in g.slots.iter().enumerate() {
                if !st.live() {
                    continue;
                }
                let in_scope = match scope {
                    ClearScope::All => true,
                    ClearScope::Floating => st.if_bound == FLOATING,
                    ClearScope::Bound(ifidx) => st.if_bound == ifidx,
                };
                let id = StateId {
                    shard: i as u32,
                    idx: idx as u32,
                    serial: st.serial,
                };
                let sync = self.sync_of(&g, id, st);
                if in_scope && creator(sync.creator) {
                    doomed.push((id, sync));
                }
            }
        }
        doomed
            .into_iter()
            .filter(|&(id, _)| self.remove_as(id, true))
            .map(|(_, s)| s)
            .collect()
    }

    /// Every state's identity, in table order (what a bulk update walks).
    pub fn sync_ids(&self) -> Vec<SyncId> {
        let mut out = Vec::with_capacity(self.len());
        for i in 0..self.shards.len() {
            let g = self.lock(i);
            for (idx, st) in g.slots.iter().enumerate() {
                if st.live() {
                    let id = StateId {
                        shard: i as u32,
                        idx: idx as u32,
                        serial: st.serial,
                    };
                    out.push(self.sync_of(&g, id, st));
                }
            }
        }
        out
    }
}
