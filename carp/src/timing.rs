//! CARP's timers (spec §5.2, OBSD-2025) and the interval comparison the
//! state machine uses (§5.4).
//!
//! OpenBSD computes in microseconds (`advskew * 1000000 / 256`, rounded
//! down); so does this, then scales to the nanoseconds the crate's clock
//! uses, so our deadlines land on the same microsecond as OpenBSD's.

/// One advertisement interval `T = advbase + advskew/256` s in µs, as
/// OpenBSD truncates it. T of zero (advbase 0, advskew 0) is 1/256 s.
pub fn interval_us(advbase: u8, advskew: u8) -> u64 {
    let us = u64::from(advbase) * 1_000_000 + u64::from(advskew) * 1_000_000 / 256;
    if us == 0 {
        1_000_000 / 256
    } else {
        us
    }
}

/// The advertisement interval in nanoseconds.
pub fn advert_interval_ns(advbase: u8, advskew: u8) -> u64 {
    interval_us(advbase, advskew) * 1_000
}

/// Master-down: three whole intervals, `3 × T` (current OpenBSD; the
/// 2015 code used `3·b + s/256`).
pub fn master_down_ns(advbase: u8, advskew: u8) -> u64 {
    3 * advert_interval_ns(advbase, advskew)
}

/// An advertisement interval as OpenBSD compares it: a `timeval` of
/// whole seconds and `skew * 1000000 / 256` microseconds. Ordered
/// lexicographically (the derive's field order), seconds dominant, as
/// `timercmp` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct AdvInterval {
    pub sec: u32,
    pub usec: u32,
}

impl AdvInterval {
    pub fn new(advbase: u8, advskew: u8) -> Self {
        AdvInterval {
            sec: u32::from(advbase),
            usec: u32::from(advskew) * 1_000_000 / 256,
        }
    }

    /// OpenBSD's "he is certain to time out" bound: our interval with its
    /// seconds tripled (`sc_tv.tv_sec = advbase * 3`, usec unchanged).
    pub fn times_three_seconds(self) -> Self {
        AdvInterval {
            sec: self.sec * 3,
            usec: self.usec,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's examples (§5.2): b=1,s=0 gives T=1 s and master-down
    /// 3 s; b=1,s=100 gives T=1.390625 s, master-down 4.171875 s.
    #[test]
    fn spec_examples() {
        assert_eq!(advert_interval_ns(1, 0), 1_000_000_000);
        assert_eq!(master_down_ns(1, 0), 3_000_000_000);
        assert_eq!(advert_interval_ns(1, 100), 1_390_625_000);
        assert_eq!(master_down_ns(1, 100), 4_171_875_000);
    }

    #[test]
    fn sub_second_intervals_with_advbase_zero() {
        // 1/256 s when both are zero, truncated to whole microseconds.
        assert_eq!(interval_us(0, 0), 3_906);
        assert_eq!(master_down_ns(0, 0), 3 * 3_906_000);
        // advbase 0, advskew 128: half a second.
        assert_eq!(advert_interval_ns(0, 128), 500_000_000);
        assert_eq!(master_down_ns(0, 128), 1_500_000_000);
        // advskew 1 truncates as OpenBSD does: 1000000/256 = 3906.25.
        assert_eq!(interval_us(0, 1), 3_906);
    }

    #[test]
    fn comparison_is_seconds_first() {
        assert!(AdvInterval::new(1, 255) < AdvInterval::new(2, 0));
        assert!(AdvInterval::new(1, 10) < AdvInterval::new(1, 11));
        assert_eq!(AdvInterval::new(1, 10), AdvInterval::new(1, 10));
        // Bow-out (255/255) is beyond three of any of our intervals.
        assert!(AdvInterval::new(84, 255).times_three_seconds() < AdvInterval::new(255, 255));
    }
}
