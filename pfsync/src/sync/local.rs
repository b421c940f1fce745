//! Local state changes (spec §5.1, the table of pf's hooks).

use super::queue::Q;
use super::{Entry, LocalChange, Pfsync, StateStore, Sync, RECENT_NS};
use crate::state::{StateId, IPPROTO_PFSYNC, IPPROTO_TCP};

impl Pfsync {
    pub fn handle_local(&mut self, now: u64, store: &mut dyn StateStore, change: LocalChange) {
        self.local(now, store, change);
        self.run_sched(now, store);
    }

    fn local(&mut self, now: u64, store: &mut dyn StateStore, change: LocalChange) {
        match change {
            LocalChange::Insert { id, proto, nosync } => {
                self.inserted(now, store, id, proto, nosync)
            }
            LocalChange::Update { id } => self.updated(now, store, id),
            LocalChange::Delete { id } => self.deleted(now, store, id),
            LocalChange::Forget { id } => self.forget(id),
            LocalChange::Clear { ifname } => {
                if self.up {
                    self.send_clear(ifname);
                }
            }
        }
    }

    fn inserted(
        &mut self,
        now: u64,
        store: &mut dyn StateStore,
        id: StateId,
        proto: u8,
        nosync: bool,
    ) {
        let dead = nosync || proto == IPPROTO_PFSYNC;
        if let Some(Entry {
            sync: Sync::Queued(q),
            ..
        }) = self.entries.get(&id).copied()
        {
            // An update got in before the insert: the insert replaces it.
            self.slice.remove(q, id);
        }
        self.entries.insert(
            id,
            Entry {
                sync: if dead { Sync::Dead } else { Sync::None },
                tcp: proto == IPPROTO_TCP,
                updates: 0,
                pfsync_time: None,
            },
        );
        if self.up && !dead {
            self.q_ins(now, store, id, Q::Ins);
        }
    }

    /// A packet matched the state. Also used for the stale reply of the
    /// merge rule.
    pub(super) fn updated(&mut self, now: u64, store: &mut dyn StateStore, id: StateId) {
        if !self.up {
            return;
        }
        let maxupd = u32::from(self.cfg.maxupd);
        let Some(e) = self.entry(store, id) else {
            return;
        };
        let recent = e
            .pfsync_time
            .is_some_and(|t| now.saturating_sub(t) < RECENT_NS);
        let mut flush = false;
        let sync = e.sync;
        match sync {
            Sync::Queued(Q::UpdC | Q::Upd) => {
                if e.tcp {
                    e.updates += 1;
                    flush = e.updates >= maxupd;
                }
            }
            Sync::Queued(Q::Ins | Q::Del) | Sync::Dead => {}
            Sync::Queued(Q::Iack) => {
                e.updates = 0;
                self.q_del(id, Q::Iack);
                self.q_ins(now, store, id, Q::UpdC);
            }
            Sync::None => {
                e.updates = 0;
                self.q_ins(now, store, id, Q::UpdC);
            }
        }
        if flush || recent {
            self.sched = true;
        }
    }

    fn deleted(&mut self, now: u64, store: &mut dyn StateStore, id: StateId) {
        // A state pfsync never heard of (or already forgot) is not
        // announced: it may be one the peer itself removed.
        let Some(e) = self.entries.remove(&id) else {
            return;
        };
        match e.sync {
            Sync::Queued(Q::Ins) => {
                // Never sent: the peer need not hear of it at all.
                self.slice.remove(Q::Ins, id);
            }
            Sync::Queued(q @ (Q::UpdC | Q::Upd | Q::Iack)) => {
                self.slice.remove(q, id);
                if self.up {
                    self.q_ins(now, store, id, Q::Del);
                }
            }
            Sync::None => {
                if self.up {
                    self.q_ins(now, store, id, Q::Del);
                }
            }
            Sync::Queued(Q::Del) | Sync::Dead => {}
        }
    }

    /// Drop pfsync's record of a state without telling the peer.
    pub(super) fn forget(&mut self, id: StateId) {
        if let Some(Entry {
            sync: Sync::Queued(q),
            ..
        }) = self.entries.remove(&id)
        {
            self.slice.remove(q, id);
        }
    }
}
