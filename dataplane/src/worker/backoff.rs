//! When an idle worker spins and when it sleeps: a pure state machine
//! (time passed in), so its schedule is tested without clocks.

use std::time::Duration;

/// First sleep after the busy-poll window closes; poll(2) counts in
/// milliseconds, so nothing shorter can be asked for.
const FIRST_SLEEP: Duration = Duration::from_millis(1);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Idle {
    /// Keep polling the rings without a system call.
    Spin,
    /// Block in poll(2) for at most this long.
    Sleep(Duration),
}

#[derive(Debug)]
pub(crate) struct Backoff {
    busy_ns: u64,
    max: Duration,
    last_work_ns: u64,
    next: Duration,
}

impl Backoff {
    /// Spin for `busy_ns` after the last frame, then sleep 1 ms, 2 ms,
    /// 4 ms ... up to `max` per wake-up. A zero `max` never sleeps (a
    /// dedicated core); a zero `busy_ns` sleeps at once (a shared one).
    pub(crate) fn new(busy_ns: u64, max: Duration, now_ns: u64) -> Backoff {
        Backoff {
            busy_ns,
            max,
            last_work_ns: now_ns,
            next: FIRST_SLEEP,
        }
    }

    /// Frames moved: stay hot.
    pub(crate) fn work(&mut self, now_ns: u64) {
        self.last_work_ns = now_ns;
        self.next = FIRST_SLEEP;
    }

    /// Nothing moved at `now_ns`: what to do before looking again.
    pub(crate) fn idle(&mut self, now_ns: u64) -> Idle {
        if self.max.is_zero() || now_ns.saturating_sub(self.last_work_ns) < self.busy_ns {
            return Idle::Spin;
        }
        let d = self.next.min(self.max);
        self.next = self.next.saturating_mul(2).min(self.max);
        Idle::Sleep(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn spins_through_the_busy_window_then_doubles_up_to_the_cap() {
        let mut b = Backoff::new(50_000, Duration::from_millis(5), 0);
        assert_eq!(b.idle(10_000), Idle::Spin);
        assert_eq!(b.idle(49_999), Idle::Spin);
        let sleeps: Vec<_> = (0..5).map(|i| b.idle(50_000 + i * MS)).collect();
        let ms = |n| Idle::Sleep(Duration::from_millis(n));
        assert_eq!(sleeps, vec![ms(1), ms(2), ms(4), ms(5), ms(5)]);
    }

    #[test]
    fn work_resets_to_spinning_and_the_short_first_sleep() {
        let mut b = Backoff::new(1_000, Duration::from_millis(100), 0);
        for i in 0..6 {
            b.idle(10 * MS + i);
        }
        b.work(20 * MS);
        assert_eq!(b.idle(20 * MS + 500), Idle::Spin);
        assert_eq!(b.idle(21 * MS), Idle::Sleep(Duration::from_millis(1)));
    }

    #[test]
    fn zero_busy_window_sleeps_at_once_and_zero_cap_never_sleeps() {
        let mut shared = Backoff::new(0, Duration::from_millis(10), 0);
        assert_eq!(shared.idle(0), Idle::Sleep(Duration::from_millis(1)));
        let mut dedicated = Backoff::new(0, Duration::ZERO, 0);
        assert_eq!(dedicated.idle(u64::MAX), Idle::Spin);
    }
}
