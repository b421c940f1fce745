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
    /// Each worker's last copy of its pf reasons and router counters.
    workers: Mutex<Vec<(ReasonCounters, Counters)>>,
}

impl Published {
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    /// Worker `worker`'s counters as of now (each worker publishes its
    /// own; readers see the sum).
    pub fn publish(&self, worker: usize, reasons: &ReasonCounters, router: &Counters) {
        let mut w = self.workers.lock().unwrap_or_else(PoisonError::into_inner);
        if w.len() <= worker {
            w.resize_with(worker + 1, Default::default);
        }
        w[worker] = (reasons.clone(), router.clone());
    }

    /// pf's drop reasons over all workers.
    pub fn reasons(&self) -> ReasonCounters {
        let w = self.workers.lock().unwrap_or_else(PoisonError::into_inner);
        let mut sum = ReasonCounters::default();
        for (r, _) in w.iter() {
            sum.add(r);
        }
        sum
    }

    /// The routers' counters over all workers.
    pub fn router(&self) -> Counters {
        let w = self.workers.lock().unwrap_or_else(PoisonError::into_inner);
        let mut sum = Counters::default();
        for (_, c) in w.iter() {
            sum.add(c);
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataplane::reason::Reason;
    use dataplane::router::Drop;

    #[test]
    fn readers_see_the_sum_of_every_workers_last_copy() {
        let p = Published::default();
        let (mut r0, mut r1) = (ReasonCounters::default(), ReasonCounters::default());
        r0.bump(Reason::Match);
        r1.bump(Reason::Match);
        r1.bump(Reason::Match);
        let mut c1 = Counters::default();
        c1.drop(Drop::Malformed);
        p.publish(1, &r1, &c1);
        p.publish(0, &r0, &Counters::default());
        assert_eq!(p.reasons().get(Reason::Match), 3);
        // a later copy replaces the worker's earlier one
        p.publish(1, &r0, &c1);
        assert_eq!(p.reasons().get(Reason::Match), 2);
        assert_eq!(p.router().dropped(Drop::Malformed), 1);
    }
}
