//! Packing records into packets (spec §5.2).

use super::queue::Q;
use super::{Entry, Pfsync, StateStore, Sync};
use crate::state::{flags, StateId};
use crate::wire::clr::Clr;
use crate::wire::upd_c::UpdC;
use crate::wire::{ids, state, Action, PacketBuilder};

impl Pfsync {
    /// Queue a state's record. When the pending packet has no room for
    /// it, that packet is written out first and the record starts a new
    /// one.
    pub(super) fn q_ins(&mut self, now: u64, store: &mut dyn StateStore, id: StateId, q: Q) {
        let mtu = usize::from(self.cfg.mtu);
        if !self.slice.fits(q, mtu) {
            self.write_slice(now, store);
        }
        self.slice.push(q, id, now);
        if let Some(e) = self.entries.get_mut(&id) {
            e.sync = Sync::Queued(q);
        }
    }

    pub(super) fn q_del(&mut self, id: StateId, q: Q) {
        self.slice.remove(q, id);
        if let Some(e) = self.entries.get_mut(&id) {
            e.sync = Sync::None;
        }
    }

    /// Write the pending packet: one section per non-empty queue, each
    /// record taken from the state as it is now.
    pub(super) fn write_slice(&mut self, now: u64, store: &mut dyn StateStore) {
        if self.slice.is_empty() {
            self.slice.deadline = None;
            return;
        }
        let queues = self.slice.take();
        let mut b = PacketBuilder::new();
        for q in Q::ORDER {
            let ids = &queues[q as usize];
            if ids.is_empty() {
                continue;
            }
            b.begin(q.action(), q.record_len());
            for &id in ids {
                if let Some(e) = self.entries.get_mut(&id) {
                    if e.sync == Sync::Queued(q) {
                        e.sync = Sync::None;
                    }
                }
                match q {
                    Q::Iack | Q::Del => b.record(|out| ids::emit(&id, out)),
                    Q::UpdC => {
                        // A state the table lost meanwhile is left out.
                        if let Some(l) = store.lookup(id) {
                            let u = UpdC {
                                id,
                                src: l.src,
                                dst: l.dst,
                                timeout: l.timeout,
                                ..UpdC::default()
                            };
                            b.record(|out| u.emit(out));
                        }
                    }
                    Q::Ins | Q::Upd => match store.export(id, now) {
                        Some(mut rec) => {
                            rec.state_flags &= !flags::ACK;
                            if self.deferrals.is_held(id) {
                                rec.state_flags |= flags::ACK;
                            }
                            b.record(|out| state::emit(&rec, out));
                        }
                        // Gone before the peer heard of it (the table
                        // was flushed quietly): nothing to delete there
                        // later, so nothing to remember here.
                        None if q == Q::Ins => {
                            self.entries.remove(&id);
                        }
                        None => {}
                    },
                }
            }
        }
        if !b.is_empty() {
            self.push_tx(b.finish());
        }
    }

    /// Seal (when authenticated) and queue a finished payload.
    pub(super) fn push_tx(&mut self, mut packet: Vec<u8>) {
        if let Some(a) = &mut self.auth {
            a.seal(&mut packet);
        }
        self.tx.push_back(packet);
    }

    /// A standalone packet with one section of 12-byte id records
    /// (bulk request, UPD_REQ replies to unknown UPD_C).
    pub(super) fn send_ids(&mut self, action: Action, list: &[StateId]) {
        let room = usize::from(self.cfg.mtu) - self.cfg.overhead();
        let per = (room - crate::wire::SUBHEADER_LEN) / ids::LEN;
        for chunk in list.chunks(per.max(1)) {
            let mut b = PacketBuilder::new();
            b.begin(action, ids::LEN);
            for id in chunk {
                b.record(|out| ids::emit(id, out));
            }
            self.push_tx(b.finish());
        }
    }

    pub(super) fn send_bulk_request(&mut self) {
        self.send_ids(Action::UPD_REQ, &[StateId::BULK_REQUEST]);
    }

    /// The standalone CLR packet of a local flush.
    pub(super) fn send_clear(&mut self, ifname: Option<crate::state::IfName>) {
        let c = Clr {
            ifname: ifname.unwrap_or_default(),
            creator: self.cfg.creator,
        };
        let mut b = PacketBuilder::new();
        b.begin(Action::CLR, crate::wire::clr::LEN);
        b.record(|out| c.emit(out));
        self.push_tx(b.finish());
    }

    /// pfsync's entry for a state, made on first sight from the table
    /// (states that existed before the machine heard of them).
    pub(super) fn entry(&mut self, store: &dyn StateStore, id: StateId) -> Option<&mut Entry> {
        if let std::collections::hash_map::Entry::Vacant(v) = self.entries.entry(id) {
            let l = store.lookup(id)?;
            v.insert(Entry {
                sync: if l.state_flags & flags::NOSYNC != 0
                    || l.proto == crate::state::IPPROTO_PFSYNC
                {
                    Sync::Dead
                } else {
                    Sync::None
                },
                tcp: l.proto == crate::state::IPPROTO_TCP,
                updates: 0,
                pfsync_time: None,
            });
        }
        self.entries.get_mut(&id)
    }
}
