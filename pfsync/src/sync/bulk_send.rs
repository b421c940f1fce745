//! The bulk update sender (spec §6.2, sender side): on a (0, 0) UPD_REQ,
//! stream the whole table as UPD records between BUS START and BUS END,
//! one packet every 20 ms.

use super::{Pfsync, StateStore, Sync};
use crate::state::{flags, StateId};
use crate::wire::bus::{self, Bus};
use crate::wire::{state, Action, PacketBuilder, SUBHEADER_LEN};
use std::collections::VecDeque;

/// `PFSYNC_BULK_SND_IVAL_MS`.
pub const BULK_SND_IVAL_NS: u64 = 20_000_000;

#[derive(Debug)]
pub(super) struct BulkSend {
    /// States still to send, from the snapshot taken at the request.
    ids: VecDeque<StateId>,
    pub(super) next_at: u64,
    started: bool,
}

impl Pfsync {
    /// A peer asked for everything. A second request while a run is
    /// going on is ignored: that peer receives the rest of this run, as
    /// with OpenBSD (the run is broadcast).
    pub(super) fn bulk_send_start(&mut self, now: u64, store: &mut dyn StateStore) {
        if self.snd.is_some() {
            return;
        }
        self.snd = Some(BulkSend {
            ids: store.snapshot().into(),
            next_at: now,
            started: false,
        });
        self.bulk_send_step(now, store);
    }

    fn bus(&self, status: u8) -> Bus {
        Bus {
            creator: self.cfg.creator,
            endtime: 0,
            status,
        }
    }

    /// Send the next packets of the run (`bulk_burst` of them, one in
    /// OpenBSD's pace).
    pub(super) fn bulk_send_step(&mut self, now: u64, store: &mut dyn StateStore) {
        for _ in 0..self.cfg.bulk_burst.max(1) {
            self.bulk_send_packet(now, store);
            if self
                .snd
                .as_ref()
                .is_none_or(|s| s.next_at > now && s.ids.is_empty())
            {
                break;
            }
        }
    }

    /// One packet of the run.
    fn bulk_send_packet(&mut self, now: u64, store: &mut dyn StateStore) {
        let Some(mut snd) = self.snd.take() else {
            return;
        };
        // Bound on the payload (pfsync header included).
        let limit = usize::from(self.cfg.mtu) - (self.cfg.overhead() - crate::wire::HEADER_LEN);
        let mut b = PacketBuilder::new();
        if !snd.started && !snd.ids.is_empty() {
            let start = self.bus(bus::STATUS_START);
            b.begin(Action::BUS, bus::LEN);
            b.record(|out| start.emit(out));
        }
        snd.started = true;
        if !snd.ids.is_empty() {
            b.begin(Action::UPD, state::LEN);
            while let Some(&id) = snd.ids.front() {
                if b.len() + state::LEN > limit {
                    break;
                }
                snd.ids.pop_front();
                // States never to be synced stay out of the bulk too
                // (OpenBSD does not filter here; its peer would then hold
                // states this side marked no-sync).
                if self.entries.get(&id).is_some_and(|e| e.sync == Sync::Dead) {
                    continue;
                }
                let Some(mut rec) = store.export(id, now) else {
                    continue;
                };
                if rec.state_flags & flags::NOSYNC != 0 {
                    continue;
                }
                rec.state_flags &= !flags::ACK;
                b.record(|out| state::emit(&rec, out));
            }
        }
        if snd.ids.is_empty() && b.len() + SUBHEADER_LEN + bus::LEN <= limit {
            let end = self.bus(bus::STATUS_END);
            b.begin(Action::BUS, bus::LEN);
            b.record(|out| end.emit(out));
        } else {
            snd.next_at = now + BULK_SND_IVAL_NS;
            self.snd = Some(snd);
        }
        if !b.is_empty() {
            self.push_tx(b.finish());
        }
    }
}
