//! pfsync's `defer` on the daemon's side (spec §7). A worker whose
//! packet created a synced state hands the packet, routed and ready to
//! leave, to the pfsync thread instead of sending it
//! ([`super::driver::PfsyncHandle::defer`]). The machine holds it
//! (`Pfsync::defer`, which sends the INS at once) and gives it back as
//! `Event::Release` on the peer's INS_ACK or update, after 20 ms, past
//! 128 held, or when pfsync goes down. The thread then posts it to the
//! worker that held it, as `Mail::Release`, which sends it out of its
//! port as it is: pf passed it already (OpenBSD marks the packet
//! PF_TAG_GENERATED for the same reason).
//!
//! The machine keeps only the state's id with the packet; [`Owners`]
//! keeps where it goes back to, and how long it waited.

use pfsync::StateId;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// What the daemon counts of deferral, besides the machine's
/// `DeferStats` (OpenBSD's defer-add, -ack, -run, -over kstats).
#[derive(Debug, Default)]
pub struct DeferCounters {
    /// Handed over by a worker, but the thread's queue was full: the
    /// worker sent the packet at once, undeferred (as OpenBSD does when
    /// it cannot allocate a deferral).
    pub full: AtomicU64,
    /// Handed over, but the machine would not hold it (the state was
    /// unknown to it, no-sync, or pfsync went down or `-defer` came
    /// meanwhile): sent back at once.
    pub declined: AtomicU64,
    /// Released packets that could not be posted (their worker gone).
    pub unsent: AtomicU64,
    /// Held packets released, and the time they waited, in total and
    /// at most.
    pub released: AtomicU64,
    pub wait_sum_ns: AtomicU64,
    pub wait_max_ns: AtomicU64,
}

impl DeferCounters {
    fn bump(c: &AtomicU64) {
        c.fetch_add(1, Relaxed);
    }

    pub fn count_full(&self) {
        Self::bump(&self.full);
    }

    pub fn count_declined(&self) {
        Self::bump(&self.declined);
    }

    pub fn count_unsent(&self) {
        Self::bump(&self.unsent);
    }

    fn waited(&self, ns: u64) {
        Self::bump(&self.released);
        self.wait_sum_ns.fetch_add(ns, Relaxed);
        self.wait_max_ns.fetch_max(ns, Relaxed);
    }

    /// `ifctl pfsync0`'s JSON: the machine's counts (`stats`), the
    /// packets held now, and these.
    pub fn json(&self, stats: pfsync::sync::DeferStats, held: usize) -> Value {
        let released = self.released.load(Relaxed);
        let sum = self.wait_sum_ns.load(Relaxed);
        json!({
            "held": held,
            "add": stats.add,
            "ack": stats.ack,
            "run": stats.run,
            "over": stats.over,
            "queue_full": self.full.load(Relaxed),
            "declined": self.declined.load(Relaxed),
            "unsent": self.unsent.load(Relaxed),
            "released": released,
            "wait_ns_mean": sum.checked_div(released).unwrap_or(0),
            "wait_ns_max": self.wait_max_ns.load(Relaxed),
        })
    }
}

/// Where a held packet goes back to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owner {
    /// The worker that held it (it sends it, as it would have).
    pub worker: usize,
    /// The port it leaves by.
    pub port: usize,
    since: u64,
}

/// The held packets' owners, by state.
#[derive(Debug, Default)]
pub struct Owners {
    held: HashMap<StateId, Owner>,
}

impl Owners {
    /// The machine holds `id`'s packet from `now`.
    pub fn hold(&mut self, id: StateId, worker: usize, port: usize, now: u64) {
        self.held.insert(
            id,
            Owner {
                worker,
                port,
                since: now,
            },
        );
    }

    /// The machine released `id`'s packet at `now`: its owner, the wait
    /// counted in `c`. `None` for a packet this table never saw (none:
    /// every hold is recorded before the machine can release it).
    pub fn release(&mut self, id: StateId, now: u64, c: &DeferCounters) -> Option<Owner> {
        let o = self.held.remove(&id)?;
        c.waited(now.saturating_sub(o.since));
        Some(o)
    }

    pub fn len(&self) -> usize {
        self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_come_back_with_their_wait_counted() {
        let c = DeferCounters::default();
        let mut o = Owners::default();
        let (a, b) = (StateId::new(1, 9), StateId::new(2, 9));
        o.hold(a, 1, 3, 1_000);
        o.hold(b, 0, 2, 2_000);
        assert_eq!(o.len(), 2);
        let got = o.release(b, 2_500, &c).unwrap();
        assert_eq!((got.worker, got.port), (0, 2));
        let got = o.release(a, 21_000, &c).unwrap();
        assert_eq!((got.worker, got.port), (1, 3));
        assert!(o.release(a, 30_000, &c).is_none(), "released once");
        assert!(o.is_empty());
        let j = c.json(pfsync::sync::DeferStats::default(), 0);
        assert_eq!(j["released"], 2);
        assert_eq!(j["wait_ns_max"], 20_000);
        assert_eq!(j["wait_ns_mean"], (500 + 20_000) / 2);
    }
}
