//! What the packet thread has done, published for the control socket's
//! thread: pf's verdicts (pfctl -si), the router's counters and the
//! per-rule counters (pfctl -sr -v); and what the control thread asks
//! the packet threads to clear (pfctl -z, pfctl -F info). Each worker
//! publishes its own copies; readers see the sum over the workers.

use dataplane::eval::RuleCounters;
use dataplane::reason::ReasonCounters;
use dataplane::router::Counters;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// Counters the worker adds to and the control thread reads. The hot
/// ones are atomics bumped per packet; the per-reason and per-rule
/// arrays are copied in at each housekeeping tick, so they may lag by
/// one tick.
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
    /// Logged packets the pflog writer was too far behind to take.
    pub pflog_dropped: AtomicU64,
    /// The worker's clock (CLOCK_MONOTONIC ns, as states are stamped)
    /// at its last tick: states' ages are told on it.
    pub clock_ns: AtomicU64,
    /// Each worker's last copies, by worker number.
    workers: Mutex<Vec<Slot>>,
    /// Clears asked for: bumped by the control thread, acted on by the
    /// worker at its next tick (it owns the counters).
    zero: ZeroRequests,
    /// When the status counters were last cleared (`None`: at boot).
    since: Mutex<Option<Instant>>,
}

/// One worker's published copies.
#[derive(Clone, Debug, Default)]
struct Slot {
    reasons: ReasonCounters,
    /// The `-F info` the reasons were counted since.
    status: u64,
    router: Counters,
    rules: RuleSnapshot,
}

/// How many times the control thread asked for each clear.
#[derive(Debug, Default)]
struct ZeroRequests {
    /// pfctl -z: the rule counters.
    rules: AtomicU64,
    /// pfctl -F info: the status counters.
    status: AtomicU64,
}

/// The clears a worker has carried out, by the count it last saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Zeroed {
    pub rules: u64,
    pub status: u64,
}

/// Per-rule counters as a worker last published them.
#[derive(Clone, Debug, Default)]
pub struct RuleSnapshot {
    /// The engine (`EngineSlot::gen`) they were counted under: after a
    /// reload, the old ruleset's counts belong to no rule shown.
    pub engine_gen: u64,
    /// The `-z` they were counted since.
    pub zeroed: u64,
    /// Flat-indexed as `RuleEngine::flat_index` numbers the rules.
    pub rules: Vec<RuleCounters>,
    /// pf's default rule.
    pub default: RuleCounters,
}

impl Published {
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Vec<Slot>> {
        self.workers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn slot(w: &mut Vec<Slot>, worker: usize) -> &mut Slot {
        if w.len() <= worker {
            w.resize_with(worker + 1, Slot::default);
        }
        &mut w[worker]
    }

    /// Worker `worker`'s per-reason and router counters; `status` is
    /// the `-F info` its reason counters were counted since.
    pub fn publish(&self, worker: usize, reasons: &ReasonCounters, router: &Counters, status: u64) {
        let mut w = self.slots();
        let s = Self::slot(&mut w, worker);
        s.reasons = reasons.clone();
        s.status = status;
        s.router = router.clone();
    }

    /// Worker `worker`'s per-rule counters.
    pub fn publish_rules(&self, worker: usize, snap: RuleSnapshot) {
        let mut w = self.slots();
        Self::slot(&mut w, worker).rules = snap;
    }

    /// The per-reason counters over all workers; a worker that has not
    /// yet carried out a pending `-F info` counts as zeros.
    pub fn reasons(&self) -> ReasonCounters {
        let status = self.zero.status.load(Ordering::Acquire);
        let mut sum = ReasonCounters::default();
        for s in self.slots().iter().filter(|s| s.status == status) {
            sum.add(&s.reasons);
        }
        sum
    }

    /// The routers' counters over all workers.
    pub fn router(&self) -> Counters {
        let mut sum = Counters::default();
        for s in self.slots().iter() {
            sum.add(&s.router);
        }
        sum
    }

    /// The per-rule counters of engine generation `gen` over all
    /// workers; a worker's snapshot of another engine, or from before a
    /// pending `-z`, counts as zeros.
    pub fn rules(&self, gen: u64) -> RuleSnapshot {
        let zeroed = self.zero.rules.load(Ordering::Acquire);
        let mut sum = RuleSnapshot {
            engine_gen: gen,
            zeroed,
            ..RuleSnapshot::default()
        };
        for s in self.slots().iter() {
            let r = &s.rules;
            if r.engine_gen != gen || r.zeroed != zeroed {
                continue;
            }
            if sum.rules.len() < r.rules.len() {
                sum.rules.resize(r.rules.len(), RuleCounters::default());
            }
            for (a, b) in sum.rules.iter_mut().zip(&r.rules) {
                a.add(b);
            }
            sum.default.add(&r.default);
        }
        sum
    }

    /// The clears asked for so far, for a worker to compare with what
    /// it has done.
    pub fn zero_requests(&self) -> Zeroed {
        Zeroed {
            rules: self.zero.rules.load(Ordering::Acquire),
            status: self.zero.status.load(Ordering::Acquire),
        }
    }

    /// pfctl -z: the rule counters read as zero from now on; the worker
    /// clears its own at its next tick.
    pub fn zero_rules(&self) {
        self.zero.rules.fetch_add(1, Ordering::AcqRel);
    }

    /// pfctl -F info: the verdict counters go to zero now, the reason
    /// counters read as zero and the worker clears them at its next
    /// tick; the status time starts again.
    pub fn zero_status(&self) {
        self.zero.status.fetch_add(1, Ordering::AcqRel);
        for c in self.passed.iter().chain(&self.blocked) {
            c.store(0, Ordering::Relaxed);
        }
        *self.since.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
    }

    /// When the status counters were last cleared, if they were.
    pub fn since(&self) -> Option<Instant> {
        *self.since.lock().unwrap_or_else(PoisonError::into_inner)
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
        p.publish(1, &r1, &c1, 0);
        p.publish(0, &r0, &Counters::default(), 0);
        assert_eq!(p.reasons().get(Reason::Match), 3);
        // a later copy replaces the worker's earlier one
        p.publish(1, &r0, &c1, 0);
        assert_eq!(p.reasons().get(Reason::Match), 2);
        assert_eq!(p.router().dropped(Drop::Malformed), 1);
        // -F info: a worker that has not cleared yet reads as zeros
        p.zero_status();
        p.publish(0, &r0, &Counters::default(), 1);
        assert_eq!(p.reasons().get(Reason::Match), 1);
    }

    #[test]
    fn rule_counters_sum_over_workers_of_the_same_engine() {
        let p = Published::default();
        let one = RuleCounters {
            evaluations: 1,
            packets: [1, 0],
            bytes: [60, 0],
            states_created: 1,
        };
        let snap = |gen, n| RuleSnapshot {
            engine_gen: gen,
            zeroed: 0,
            rules: vec![one; n],
            default: one,
        };
        p.publish_rules(0, snap(3, 2));
        p.publish_rules(1, snap(3, 2));
        p.publish_rules(2, snap(2, 2));
        let s = p.rules(3);
        assert_eq!(s.rules.len(), 2);
        assert_eq!(
            s.rules[1].packets[0], 2,
            "the old engine's worker is not counted"
        );
        assert_eq!(s.default.bytes[0], 120);
        p.zero_rules();
        assert!(p.rules(3).rules.iter().all(|r| r.evaluations == 0));
    }
}
