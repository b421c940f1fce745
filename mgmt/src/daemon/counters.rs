//! What the packet thread has done, published for the control socket's
//! thread: pf's verdicts (pfctl -si) and the router's counters.

use dataplane::reason::ReasonCounters;
use dataplane::router::Counters;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// Counters the worker adds to and the control thread reads. The hot
/// ones are atomics bumped per packet; the per-reason arrays are copied
/// in at each housekeeping tick, so they may lag by one tick.
#[derive(Debug, Default)]
pub struct Published {
    /// pf verdicts by direction: [in, out].
    pub passed: [AtomicU64; 2],
    pub blocked: [AtomicU64; 2],
    /// Packets for other hosts dropped because forwarding is off for
    /// their family (the kernel's `ips_cantforward`).
    pub cantforward: AtomicU64,
    /// Frames sent back to a packet's sender (`block return`).
    pub replies: AtomicU64,
    /// Frames pf made that could not be sent: no route to their
    /// destination, or made by pf's run on another of its own frames.
    pub unsent: AtomicU64,
    reasons: Mutex<ReasonCounters>,
    router: Mutex<Counters>,
}

impl Published {
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    pub fn publish(&self, reasons: &ReasonCounters, router: &Counters) {
        *self.reasons.lock().unwrap_or_else(PoisonError::into_inner) = reasons.clone();
        *self.router.lock().unwrap_or_else(PoisonError::into_inner) = router.clone();
    }

    pub fn reasons(&self) -> ReasonCounters {
        self.reasons
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn router(&self) -> Counters {
        self.router
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
