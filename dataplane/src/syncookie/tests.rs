use super::*;
use ruleset::addr::Af;

const SEC: u64 = 1_000_000_000;

fn tuple(sport: u16) -> Tuple {
    Tuple {
        af: Af::Inet,
        src: 0xc633_6407u128 << 96,
        dst: 0xcb00_7105u128 << 96,
        sport,
        dport: 80,
    }
}

fn always() -> Syncookies {
    let s = Syncookies::new(7, 100_000);
    s.configure(Mode::Always, 100_000);
    s
}

#[test]
fn always_answers_and_validates_once() {
    let s = always();
    assert!(s.flood_check(SEC, 0));
    let t = tuple(40000);
    let iss = s.generate(&t, 1000, 1460, Some(7));
    let bits = s.validate(&t, 1001, iss.wrapping_add(1)).expect("valid");
    assert_eq!(
        (bits.mss(), bits.wscale(), bits.sack_ok()),
        (1460, 7, false)
    );
    assert_eq!(
        s.counters(),
        CookieCounters {
            synfloods: 0,
            sent: 1,
            valid: 1
        }
    );
    // the same ACK again: nothing is in flight under that secret
    assert_eq!(s.validate(&t, 1001, iss.wrapping_add(1)), None);
    assert_eq!(s.counters().valid, 1);
}

#[test]
fn wrong_tuple_or_sequence_does_not_validate() {
    let s = always();
    let t = tuple(40000);
    let iss = s.generate(&t, 1000, 1460, None);
    assert_eq!(s.validate(&tuple(40001), 1001, iss.wrapping_add(1)), None);
    assert_eq!(s.validate(&t, 1002, iss.wrapping_add(1)), None);
    assert_eq!(s.validate(&t, 1001, iss.wrapping_add(2)), None);
    assert_eq!(
        s.status().inflight.iter().sum::<u64>(),
        1,
        "still in flight"
    );
    assert!(s.validate(&t, 1001, iss.wrapping_add(1)).is_some());
}

/// Another engine's secrets (another seed) do not validate these cookies.
#[test]
fn another_secret_does_not_validate() {
    let (a, b) = (always(), Syncookies::new(8, 100_000));
    b.configure(Mode::Always, 100_000);
    let t = tuple(40000);
    let iss = a.generate(&t, 1000, 1460, None);
    b.generate(&tuple(1), 1, 1460, None); // something in flight at b
    assert_eq!(b.validate(&t, 1001, iss.wrapping_add(1)), None);
}

/// A cookie outlives one rotation (the previous secret is kept) and not
/// two (its secret is drawn again).
#[test]
fn cookie_expires_after_two_rotations() {
    let s = always();
    let t = tuple(40000);
    s.tick(0, 0); // arms the timer: rotations at 15 s, 30 s
    let old = s.generate(&t, 1000, 1460, None);
    let old2 = s.generate(&tuple(2), 5, 1460, None);
    s.tick(15 * SEC - 1, 0);
    assert_eq!(s.status().inflight, [0, 2], "no rotation yet");
    s.tick(15 * SEC, 0);
    assert_eq!(s.status().inflight, [0, 2], "the old secret is kept");
    assert!(s.validate(&t, 1001, old.wrapping_add(1)).is_some());
    let new = s.generate(&t, 3000, 1460, None);
    s.tick(30 * SEC, 0);
    assert_eq!(
        s.validate(&tuple(2), 6, old2.wrapping_add(1)),
        None,
        "expired"
    );
    assert!(s.validate(&t, 3001, new.wrapping_add(1)).is_some());
}

/// A long silence catches up a bounded number of rotations and leaves
/// the next one a lifetime away.
#[test]
fn long_gap_catches_up() {
    let s = always();
    s.tick(0, 0);
    let iss = s.generate(&tuple(1), 1, 1460, None);
    s.tick(3600 * SEC, 0);
    assert_eq!(s.validate(&tuple(1), 2, iss.wrapping_add(1)), None);
    assert!(s.status().active);
    let iss = s.generate(&tuple(1), 1, 1460, None);
    s.tick(3600 * SEC + 14 * SEC, 0);
    assert!(s.validate(&tuple(1), 2, iss.wrapping_add(1)).is_some());
}

#[test]
fn never_sends_none() {
    let s = Syncookies::new(7, 100);
    assert!(!s.flood_check(SEC, 1_000_000));
    assert_eq!(s.status().counters, CookieCounters::default());
    // nothing was ever in flight: no ACK validates, not even against
    // the all-zero secrets
    let t = tuple(1);
    let forged = cookie::generate([0, 0], &t, 1, CookieBits::new(0, false, 1, 7));
    assert_eq!(s.validate(&t, 2, forged.wrapping_add(1)), None);
}

/// Adaptive: on when half-open states pass the high watermark (one
/// synflood counted), off at the first rotation that finds half-open
/// states and cookies in flight under the low one.
#[test]
fn adaptive_on_past_start_off_below_end() {
    let s = Syncookies::new(7, 100);
    s.configure(Mode::Adaptive { start: 20, end: 10 }, 100);
    let st = s.status();
    assert_eq!((st.hiwat, st.lowat), (20, 10));
    assert!(!s.flood_check(SEC, 20), "at the watermark: not yet");
    assert!(s.flood_check(SEC, 21));
    assert!(s.flood_check(SEC, 0), "stays on below it");
    assert_eq!(s.counters().synfloods, 1);
    // half-open 10: not under 10
    s.tick(16 * SEC, 10);
    assert!(s.status().active);
    let iss = s.generate(&tuple(1), 1, 1460, None);
    // half-open 8 + 1 in flight: under
    s.tick(31 * SEC, 8);
    let st = s.status();
    assert!(!st.active);
    assert!(!s.flood_check(31 * SEC, 8));
    // the cookie in flight still validates while its secret is kept
    assert!(s.validate(&tuple(1), 2, iss.wrapping_add(1)).is_some());
    // nothing in flight: the next rotation forgets the secrets
    s.tick(46 * SEC, 0);
    assert_eq!(s.key(0), [0, 0]);
    assert_eq!(s.key(1), [0, 0]);
    assert_eq!(s.next_rotate.load(Relaxed), DISARMED);
    // and a new flood turns it on again
    assert!(s.flood_check(50 * SEC, 21));
    assert_eq!(s.counters().synfloods, 2);
}

/// Leaving `always` for `never` turns cookies off at the next rotation,
/// not at once (pf's `pf_syncookies_setmode`).
#[test]
fn never_after_always_at_next_rotation() {
    let s = always();
    s.tick(0, 0);
    s.configure(Mode::Never, 100_000);
    assert!(!s.flood_check(SEC, 0), "never sends no more cookies");
    assert!(s.status().active);
    s.tick(15 * SEC, 0);
    assert!(!s.status().active);
    assert_eq!(s.mode(), Mode::Never);
}

#[test]
fn clear_counters_zeroes_them() {
    let s = always();
    s.generate(&tuple(1), 1, 1460, None);
    s.clear_counters();
    assert_eq!(s.counters(), CookieCounters::default());
}
