//! What the packet thread has done, published for the control socket's
//! thread: pf's verdicts (pfctl -si), the router's counters and the
//! per-rule counters (pfctl -sr -v); and what the control thread asks
//! the packet thread to clear (pfctl -z, pfctl -F info).

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
    /// The worker's clock (CLOCK_MONOTONIC ns, as states are stamped)
    /// at its last tick: states' ages are told on it.
    pub clock_ns: AtomicU64,
    reasons: Mutex<(ReasonCounters, u64)>,
    router: Mutex<Counters>,
    rules: Mutex<RuleSnapshot>,
    /// Clears asked for: bumped by the control thread, acted on by the
    /// worker at its next tick (it owns the counters).
    zero: ZeroRequests,
    /// When the status counters were last cleared (`None`: at boot).
    since: Mutex<Option<Instant>>,
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

    /// The worker's per-reason and router counters; `status` is the
    /// `-F info` its reason counters were counted since.
    pub fn publish(&self, reasons: &ReasonCounters, router: &Counters, status: u64) {
        *self.reasons.lock().unwrap_or_else(PoisonError::into_inner) = (reasons.clone(), status);
        *self.router.lock().unwrap_or_else(PoisonError::into_inner) = router.clone();
    }

    /// The worker's per-rule counters.
    pub fn publish_rules(&self, snap: RuleSnapshot) {
        *self.rules.lock().unwrap_or_else(PoisonError::into_inner) = snap;
    }

    /// The per-reason counters; zeros while a `-F info` is pending.
    pub fn reasons(&self) -> ReasonCounters {
        let (r, status) = self
            .reasons
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if status == self.zero.status.load(Ordering::Acquire) {
            r
        } else {
            ReasonCounters::default()
        }
    }

    pub fn router(&self) -> Counters {
        self.router
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The per-rule counters of engine generation `gen`, zeros for a
    /// snapshot of another engine or from before a pending `-z`.
    pub fn rules(&self, gen: u64) -> RuleSnapshot {
        let s = self
            .rules
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if s.engine_gen == gen && s.zeroed == self.zero.rules.load(Ordering::Acquire) {
            s
        } else {
            RuleSnapshot {
                engine_gen: gen,
                ..RuleSnapshot::default()
            }
        }
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
