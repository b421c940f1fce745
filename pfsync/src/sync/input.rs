//! Receiving packets (spec §2.1–§2.2 acceptance, §6 per action).

use super::queue::Q;
use super::store::ImportError;
use super::{merge, Entry, Event, LocalState, Pfsync, StateStore, Sync};
use crate::auth::AuthError;
use crate::state::{flags, Peer, StateId, StateRecord, IPPROTO_PFSYNC, IPPROTO_TCP, PFTM_MAX};
use crate::stats::DropReason;
use crate::wire::bus::{self, Bus};
use crate::wire::clr::Clr;
use crate::wire::upd_c::UpdC;
use crate::wire::{ids, state, Action, Header, RawSection, SectionError, Sections, WireError};

/// The IP TTL every pfsync packet must arrive with: a sender off the
/// link cannot produce it (GTSM's idea).
pub const PFSYNC_TTL: u8 = 255;

/// How a packet arrived, as the daemon saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rx {
    /// Arrived on the configured syncdev (by interface index).
    pub on_syncdev: bool,
    /// The IPv4 header's TTL.
    pub ttl: u8,
}

/// Why a received packet was dropped, or where its processing stopped
/// (sections before a walk error have been applied, as in OpenBSD).
/// Each is counted in `Stats` too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RxError {
    #[error("pfsync is down")]
    Down,
    #[error("not received on the sync device")]
    BadIf,
    #[error("TTL {0}, expected 255")]
    BadTtl(u8),
    #[error("authentication: {0}")]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Wire(#[from] WireError),
}

impl Pfsync {
    /// A pfsync payload (after the IPv4 header) arrived.
    pub fn handle_packet(
        &mut self,
        now: u64,
        store: &mut dyn StateStore,
        rx: Rx,
        bytes: &[u8],
    ) -> Result<(), RxError> {
        let r = self.input(now, store, rx, bytes);
        self.run_sched(now, store);
        r
    }

    fn input(
        &mut self,
        now: u64,
        store: &mut dyn StateStore,
        rx: Rx,
        bytes: &[u8],
    ) -> Result<(), RxError> {
        self.stats.ipackets += 1;
        if !self.up {
            return Err(RxError::Down);
        }
        if !rx.on_syncdev {
            self.stats.count(DropReason::BadIf);
            return Err(RxError::BadIf);
        }
        if rx.ttl != PFSYNC_TTL {
            self.stats.count(DropReason::BadTtl);
            return Err(RxError::BadTtl(rx.ttl));
        }
        let payload = match &mut self.auth {
            None => bytes,
            Some(a) => a
                .open(bytes)
                .inspect_err(|_| self.stats.count(DropReason::BadAuth))?,
        };
        let h = Header::new_checked(payload).inspect_err(|e| {
            self.stats.count(match e {
                WireError::Truncated { .. } => DropReason::HdrOps,
                WireError::BadVersion(_) => DropReason::BadVer,
                _ => DropReason::BadLen,
            })
        })?;
        for section in Sections::new(h.body()) {
            match section {
                Ok(raw) => self.input_section(now, store, &raw),
                Err(e) => {
                    self.stats.count(match e {
                        SectionError::BadAction { .. } => DropReason::BadAct,
                        SectionError::Overrun { .. } => DropReason::BadLen,
                    });
                    return Err(WireError::from(e).into());
                }
            }
        }
        Ok(())
    }

    fn input_section(&mut self, now: u64, store: &mut dyn StateStore, raw: &RawSection<'_>) {
        if raw.skipped {
            return;
        }
        match raw.action {
            Action::CLR => self.in_clr(store, raw),
            Action::INS => self.in_ins(now, store, raw),
            Action::INS_ACK => self.in_iack(raw),
            Action::UPD_C => self.in_upd_c(now, store, raw),
            Action::UPD => self.in_upd(now, store, raw),
            Action::UPD_REQ => self.in_ureq(now, store, raw),
            Action::DEL => self.in_del(store, raw, state::parse),
            Action::DEL_C => self.in_del(store, raw, ids::parse),
            Action::BUS => self.in_bus(now, raw),
            _ => {}
        }
    }

    fn in_clr(&mut self, store: &mut dyn StateStore, raw: &RawSection<'_>) {
        for r in raw.records() {
            let Ok(c) = Clr::parse(r) else { continue };
            let ifname = if c.ifname.is_empty() {
                None
            } else {
                // A name that is not text names no interface here.
                match c.ifname.to_str() {
                    Some(n) => Some(n),
                    None => continue,
                }
            };
            for id in store.clear(c.creator, ifname) {
                self.forget(id);
            }
        }
    }

    fn in_ins(&mut self, now: u64, store: &mut dyn StateStore, raw: &RawSection<'_>) {
        for r in raw.records() {
            let Ok(rec) = state::parse(r) else { continue };
            if !rec.valid_for_insert() {
                self.stats.count(DropReason::BadVal);
                continue;
            }
            // Out of room: the rest of this section waits for the bulk
            // update or later updates. Duplicates and refusals fail
            // silently, as in OpenBSD.
            if let Err(ImportError::NoMemory) = self.import(now, store, rec) {
                break;
            }
        }
    }

    /// Insert a state from the peer; answer at once with INS_ACK when the
    /// peer is holding the state's first packet for us.
    fn import(
        &mut self,
        now: u64,
        store: &mut dyn StateStore,
        mut rec: StateRecord,
    ) -> Result<(), ImportError> {
        if rec.id.creator == 0 {
            return Err(ImportError::Refused("creatorid 0"));
        }
        let wants_ack = rec.state_flags & flags::ACK != 0;
        rec.state_flags &= !flags::ACK;
        store.import(&rec, now)?;
        let dead = rec.state_flags & flags::NOSYNC != 0 || rec.proto == IPPROTO_PFSYNC;
        self.entries.insert(
            rec.id,
            Entry {
                sync: if dead { Sync::Dead } else { Sync::None },
                tcp: rec.proto == IPPROTO_TCP,
                updates: 0,
                pfsync_time: Some(now),
            },
        );
        if wants_ack && !dead {
            self.q_ins(now, store, rec.id, Q::Iack);
            self.sched = true;
        }
        Ok(())
    }

    fn in_iack(&mut self, raw: &RawSection<'_>) {
        for r in raw.records() {
            let Ok(id) = ids::parse(r) else { continue };
            self.release(id);
        }
    }

    fn release(&mut self, id: StateId) {
        if let Some(packet) = self.deferrals.acked(id) {
            self.events.push_back(Event::Release { id, packet });
        }
    }

    fn in_upd_c(&mut self, now: u64, store: &mut dyn StateStore, raw: &RawSection<'_>) {
        let mut unknown = Vec::new();
        for r in raw.records() {
            let Ok(u) = UpdC::parse(r) else { continue };
            if !u.is_valid() {
                self.stats.count(DropReason::BadVal);
                continue;
            }
            match store.lookup(u.id) {
                None => unknown.push(u.id),
                Some(local) => self.merge_in(now, store, u.id, &local, &u.src, &u.dst, u.timeout),
            }
        }
        if !unknown.is_empty() {
            self.send_ids(Action::UPD_REQ, &unknown);
        }
    }

    fn in_upd(&mut self, now: u64, store: &mut dyn StateStore, raw: &RawSection<'_>) {
        for r in raw.records() {
            let Ok(rec) = state::parse(r) else { continue };
            if !rec.valid_for_update() {
                self.stats.count(DropReason::BadVal);
                continue;
            }
            match store.lookup(rec.id) {
                None => {
                    // An update for a state we lack is an insert.
                    if !rec.valid_for_insert() || self.import(now, store, rec).is_err() {
                        self.stats.count(DropReason::BadState);
                    }
                }
                Some(local) => {
                    self.merge_in(now, store, rec.id, &local, &rec.src, &rec.dst, rec.timeout)
                }
            }
        }
    }

    /// Apply the merge rule; when our copy is newer on a side, count it
    /// stale and send ours back (at once: the state was just touched by
    /// pfsync).
    #[allow(clippy::too_many_arguments)]
    fn merge_in(
        &mut self,
        now: u64,
        store: &mut dyn StateStore,
        id: StateId,
        local: &LocalState,
        src: &Peer,
        dst: &Peer,
        timeout: u8,
    ) {
        self.release(id);
        let (m, stale) = merge::decide(local, src, dst, timeout);
        store.merge(id, &m, now);
        if let Some(e) = self.entry(store, id) {
            e.pfsync_time = Some(now);
        }
        if stale > 0 {
            self.stats.stale += 1;
            self.updated(now, store, id);
        }
    }

    fn in_ureq(&mut self, now: u64, store: &mut dyn StateStore, raw: &RawSection<'_>) {
        for r in raw.records() {
            let Ok(id) = ids::parse(r) else { continue };
            if id == StateId::BULK_REQUEST {
                self.bulk_send_start(now, store);
                continue;
            }
            let ok = store
                .lookup(id)
                .is_some_and(|l| l.timeout < PFTM_MAX && l.state_flags & flags::NOSYNC == 0);
            if !ok {
                self.stats.count(DropReason::BadState);
                continue;
            }
            self.update_requested(now, store, id);
        }
    }

    /// The peer lacks this state: send it whole, now.
    fn update_requested(&mut self, now: u64, store: &mut dyn StateStore, id: StateId) {
        let Some(e) = self.entry(store, id) else {
            return;
        };
        match e.sync {
            Sync::Queued(q @ (Q::UpdC | Q::Iack)) => {
                self.q_del(id, q);
            }
            Sync::None => {}
            Sync::Queued(Q::Ins | Q::Upd | Q::Del) | Sync::Dead => return,
        }
        self.q_ins(now, store, id, Q::Upd);
        self.sched = true;
    }

    fn in_del<T: HasId>(
        &mut self,
        store: &mut dyn StateStore,
        raw: &RawSection<'_>,
        parse: fn(&[u8]) -> Result<T, WireError>,
    ) {
        for r in raw.records() {
            let Ok(rec) = parse(r) else { continue };
            let id = rec.state_id();
            // Forget first, so that nothing about the state is echoed.
            self.forget(id);
            if !store.remove(id) {
                self.stats.count(DropReason::BadState);
            }
        }
    }

    fn in_bus(&mut self, now: u64, raw: &RawSection<'_>) {
        // Only the first record counts, as in OpenBSD.
        let Some(Ok(b)) = raw.records().next().map(Bus::parse) else {
            return;
        };
        let step = match b.status {
            bus::STATUS_START => self.req.bus_start(now, self.cfg.bulk_timeout_ns()),
            bus::STATUS_END => self.req.bus_end(),
            _ => return,
        };
        self.apply(step, super::DemoteReason::Done);
    }
}

/// Records that name a state (DEL carries a full state, DEL_C the id).
trait HasId {
    fn state_id(&self) -> StateId;
}

impl HasId for StateRecord {
    fn state_id(&self) -> StateId {
        self.id
    }
}

impl HasId for StateId {
    fn state_id(&self) -> StateId {
        *self
    }
}
