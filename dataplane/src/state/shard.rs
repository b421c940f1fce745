//! One lock's worth of the table: a slab of states, the index of the keys
//! whose hash falls in this shard, and foreign entries for stack keys
//! whose state lives in another shard (a translated state's two keys hash
//! apart).

use super::entry::{State, FLOATING, F_LIVE, F_MODULATED};
use super::ident::PackedSync;
use super::info::StateEvent;
use super::packed::PackedKey;
use super::peer::{tcps, Peer};
use super::timeout::{Profile, Registry};
use crate::pdesc::Dir;
use crossbeam_channel::Sender;
use hashbrown::HashTable;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::Arc;

const NO_FREE: u32 = u32::MAX;

/// A stack key indexed here whose state lives in shard `home`. It carries
/// what the lookup filter and the collision check need, so neither has
/// to lock the home shard while holding this one.
///
/// One cache line each (58 bytes, aligned to 64): unaligned, an entry of
/// the index's array straddles two lines and a lookup misses on both.
#[derive(Debug)]
#[repr(align(64))]
pub(crate) struct Foreign {
    pub key: PackedKey,
    pub home: u32,
    pub idx: u32,
    pub serial: u32,
    pub if_bound: u32,
    pub dir: Dir,
    /// The state translates between address families.
    pub afto: bool,
}

pub(crate) struct Shard {
    pub slots: Vec<State>,
    free: u32,
    /// Entries are `slot << 1 | role` (role 0 wire key, 1 stack key); a
    /// state whose keys are equal is indexed once, as role 0.
    pub local: HashTable<u32>,
    pub foreign: HashTable<Foreign>,
    /// The registry's profiles, copied so the hot path reads them under
    /// this shard's lock alone.
    pub profiles: Vec<Arc<Profile>>,
    pub events: Option<Sender<StateEvent>>,
    /// `modulate state` modulators (src, dst) by slot: few states have
    /// them, so they stay out of the slot.
    pub modulators: HashMap<u32, [u32; 2]>,
    /// Live if-bound states in this shard: while there are none, a
    /// lookup can stop at the first floating state that matches.
    pub bound: u32,
    /// The same for foreign entries (their states' binding).
    pub foreign_bound: u32,
    /// Live TCP states here not yet established on both sides (pf's
    /// `states_halfopen`), kept as states are stored, changed and
    /// released, so `pfctl -si` need not walk the table.
    pub half_open: u32,
    /// The table's sum of every shard's `half_open`, readable without a
    /// lock: adaptive syncookies compare it on every inbound SYN.
    half_open_total: Arc<AtomicU32>,
    /// pfsync identities of the states here imported from a peer, by
    /// slot (local states derive theirs from the slot).
    pub peer_ids: HashMap<u32, PackedSync>,
}

/// pf's `pf_find_state` filter on a key's role: an inbound packet
/// matches a state by its wire key, an outbound one by its stack key;
/// under `af-to` only inbound packets match, by either key.
#[inline]
pub(crate) fn role_ok(st: &State, role: u32, dir: Dir) -> bool {
    if !st.has_stack() {
        true
    } else if st.afto() {
        dir == Dir::In
    } else {
        (role == 0) == (dir == Dir::In)
    }
}

pub(crate) fn bound_ok(if_bound: u32, ifidx: u32) -> bool {
    if_bound == FLOATING || if_bound == ifidx
}

/// A live TCP state not yet established on both sides.
#[inline]
pub(crate) fn half_open(st: &State) -> bool {
    st.live()
        && st.wire().proto() == 6
        && (st.src.state < tcps::ESTABLISHED || st.dst.state < tcps::ESTABLISHED)
}

impl Shard {
    pub(crate) fn new(half_open_total: Arc<AtomicU32>) -> Self {
        Shard {
            slots: Vec::new(),
            free: NO_FREE,
            local: HashTable::new(),
            foreign: HashTable::new(),
            profiles: Vec::new(),
            events: None,
            modulators: HashMap::new(),
            bound: 0,
            foreign_bound: 0,
            half_open: 0,
            half_open_total,
            peer_ids: HashMap::new(),
        }
    }

    /// After slot `idx` changed from `before` (its [`half_open`] then):
    /// the count follows, unless the slot was released or reused in
    /// between (`release` and `alloc` count those).
    pub(crate) fn recount(&mut self, idx: u32, serial: u32, before: bool) {
        let Some(st) = self.slots.get(idx as usize) else {
            return;
        };
        if !st.live() || st.serial != serial {
            return;
        }
        match (before, half_open(st)) {
            (false, true) => self.half_open_up(1),
            (true, false) => self.half_open_down(),
            _ => {}
        }
    }

    /// `n` more half-open states here.
    pub(crate) fn half_open_up(&mut self, n: u32) {
        self.half_open += n;
        self.half_open_total.fetch_add(n, Relaxed);
    }

    fn half_open_down(&mut self) {
        if self.half_open > 0 {
            self.half_open -= 1;
            self.half_open_total.fetch_sub(1, Relaxed);
        }
    }

    /// Slot `idx`'s peers with their modulators.
    pub(crate) fn peers(&self, idx: u32, st: &State) -> (Peer, Peer) {
        let m = modulators(&self.modulators, idx, st);
        (st.src.with(m[0]), st.dst.with(m[1]))
    }

    pub(crate) fn ensure_profile(&mut self, id: u32, reg: &Registry) {
        if id as usize >= self.profiles.len() {
            self.profiles = reg.snapshot();
        }
    }

    /// The live state in slot `idx` if it is still generation `serial`.
    pub(crate) fn get(&self, idx: u32, serial: u32) -> Option<&State> {
        self.slots
            .get(idx as usize)
            .filter(|s| s.live() && s.serial == serial)
    }

    /// Store `st`; returns its slot and generation.
    pub(crate) fn alloc(&mut self, mut st: State) -> (u32, u32) {
        st.flags |= F_LIVE;
        if st.if_bound != FLOATING {
            self.bound += 1;
        }
        if half_open(&st) {
            self.half_open_up(1);
        }
        if let Some(slot) = self.slots.get_mut(self.free as usize) {
            let idx = self.free;
            self.free = slot.profile;
            st.serial = slot.serial;
            *slot = st;
            (idx, st_serial(slot))
        } else {
            let idx = self.slots.len() as u32;
            st.serial = 0;
            self.slots.push(st);
            (idx, 0)
        }
    }

    pub(crate) fn release(&mut self, idx: u32) {
        self.modulators.remove(&idx);
        let free = self.free;
        if let Some(slot) = self.slots.get_mut(idx as usize) {
            if slot.live() && slot.if_bound != FLOATING {
                self.bound = self.bound.saturating_sub(1);
            }
            let was_half_open = half_open(slot);
            *slot = State::vacant(slot.serial.wrapping_add(1), free);
            self.free = idx;
            if was_half_open {
                self.half_open_down();
            }
        }
    }

    pub(crate) fn index(&mut self, hash: u64, entry: u32) {
        let slots = &self.slots;
        self.local.insert_unique(hash, entry, |&e| {
            slots
                .get((e >> 1) as usize)
                .map_or(0, |s| s.key(e & 1).hash())
        });
    }

    pub(crate) fn unindex(&mut self, hash: u64, entry: u32) {
        if let Ok(e) = self.local.find_entry(hash, |&e| e == entry) {
            e.remove();
        }
    }

    pub(crate) fn index_foreign(&mut self, hash: u64, f: Foreign) {
        if f.if_bound != FLOATING {
            self.foreign_bound += 1;
        }
        self.foreign.insert_unique(hash, f, |f| f.key.hash());
    }

    pub(crate) fn unindex_foreign(&mut self, hash: u64, home: u32, idx: u32, serial: u32) {
        if let Ok(e) = self.foreign.find_entry(hash, |f| {
            f.home == home && f.idx == idx && f.serial == serial
        }) {
            let (f, _) = e.remove();
            if f.if_bound != FLOATING {
                self.foreign_bound = self.foreign_bound.saturating_sub(1);
            }
        }
    }
}

/// The modulators of slot `idx` (zero unless `modulate state`).
pub(crate) fn modulators(table: &HashMap<u32, [u32; 2]>, idx: u32, st: &State) -> [u32; 2] {
    if st.flags & F_MODULATED == 0 {
        return [0; 2];
    }
    table.get(&idx).copied().unwrap_or([0; 2])
}

fn st_serial(s: &State) -> u32 {
    s.serial
}
