//! `set syncookies` (pf's `pf_syncookies.c`): while cookies are active,
//! an inbound SYN is answered with a SYN|ACK whose ISN is a cookie, and
//! no state is kept; the client's ACK that brings the cookie back
//! recreates the SYN (the engine's `syncookie` hooks).
//!
//! This is the shared part, sans-IO: the mode and the adaptive
//! watermarks, the two secrets and which is current, the cookies in
//! flight under each, the counters `pfctl -si -v` prints, and the
//! 15-second key rotation, run by [`Syncookies::tick`] with the time
//! passed in (pf's `timeout` on `pf_syncookie_rotate`). Workers share it
//! through atomics: the hot path (a SYN flood) takes no lock; a rotation
//! is claimed by one worker with a `try_lock`.
//!
//! The secrets are drawn from the engine's seed, as its other random
//! numbers are, so a run is repeatable.

pub mod cookie;
mod siphash;

use cookie::{CookieBits, Tuple};
use ruleset::ruleset::Syncookies as Mode;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8};
use std::sync::Mutex;

/// A secret lives this long before the other replaces it; a cookie is
/// good for one to two lifetimes (pf's `PF_SYNCOOKIE_SECRET_LIFETIME`).
pub const SECRET_LIFETIME_NS: u64 = 15_000_000_000;
/// `next_rotate` values that are not times.
const DISARMED: u64 = 0;
/// A key was drawn where no time was known (a ruleset load): the timer
/// starts at the next [`Syncookies::tick`].
const ARM_PENDING: u64 = 1;
/// Rotations one tick catches up on: after two, both secrets are new
/// and the in-flight counts zero, so more would change nothing but the
/// keys.
const MAX_CATCH_UP: u32 = 4;
/// Default watermarks, in percent of `set limit states`
/// (`PF_SYNCOOKIES_HIWATPCT`, and half of it).
pub const DEFAULT_START_PCT: u32 = 25;
pub const DEFAULT_END_PCT: u32 = 12;

const MODE_NEVER: u8 = 0;
const MODE_ALWAYS: u8 = 1;
const MODE_ADAPTIVE: u8 = 2;

/// pf's syncookie limit counters (`LCNT_SYNFLOODS`,
/// `LCNT_SYNCOOKIES_SENT`, `LCNT_SYNCOOKIES_VALID`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CookieCounters {
    /// Adaptive mode turned cookies on.
    pub synfloods: u64,
    pub sent: u64,
    pub valid: u64,
}

/// What `pfctl -si` shows of the syncookie machinery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookieStatus {
    pub mode: Mode,
    pub active: bool,
    pub inflight: [u64; 2],
    /// Half-open states over which adaptive mode turns cookies on, and
    /// under which (with the cookies in flight) it turns them off.
    pub hiwat: u32,
    pub lowat: u32,
    pub counters: CookieCounters,
}

pub struct Syncookies {
    mode: AtomicU8,
    /// The mode's percentages, kept to report `Mode::Adaptive` back.
    pct: AtomicU64,
    hiwat: AtomicU32,
    lowat: AtomicU32,
    active: AtomicBool,
    oddeven: AtomicU8,
    keys: [[AtomicU64; 2]; 2],
    inflight: [AtomicU64; 2],
    next_rotate: AtomicU64,
    rng: AtomicU64,
    synfloods: AtomicU64,
    sent: AtomicU64,
    valid: AtomicU64,
    /// Held while keys change (rotation, or adaptive mode turning on).
    rekey: Mutex<()>,
}

impl Syncookies {
    /// Mode `never`, watermarks for a state limit of `limit`.
    pub fn new(seed: u64, limit: u32) -> Self {
        let s = Syncookies {
            mode: AtomicU8::new(MODE_NEVER),
            pct: AtomicU64::new(0),
            hiwat: AtomicU32::new(0),
            lowat: AtomicU32::new(0),
            active: AtomicBool::new(false),
            oddeven: AtomicU8::new(0),
            keys: Default::default(),
            inflight: Default::default(),
            next_rotate: AtomicU64::new(DISARMED),
            // apart from the state table's stream, drawn from the same seed
            rng: AtomicU64::new(seed ^ 0x5359_4e43_4f4f_4b49),
            synfloods: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            valid: AtomicU64::new(0),
            rekey: Mutex::new(()),
        };
        s.set_watermarks(limit, DEFAULT_START_PCT, DEFAULT_END_PCT);
        s
    }

    /// What a ruleset's `set syncookies` says, for a state limit of
    /// `limit` (pfctl's `pfctl_load_syncookies` and `DIOCSETSYNCOOKIES`).
    /// The watermarks are `start`% and `end`% of the limit.
    pub fn configure(&self, mode: Mode, limit: u32) {
        let (m, start, end) = match mode {
            Mode::Never => (MODE_NEVER, DEFAULT_START_PCT, DEFAULT_END_PCT),
            Mode::Always => (MODE_ALWAYS, DEFAULT_START_PCT, DEFAULT_END_PCT),
            Mode::Adaptive { start, end } => (MODE_ADAPTIVE, start, end),
        };
        self.set_watermarks(limit, start, end);
        self.pct
            .store(u64::from(start) << 32 | u64::from(end), Relaxed);
        self.set_mode(m);
    }

    fn set_watermarks(&self, limit: u32, start: u32, end: u32) {
        let pct = |p: u32| (u64::from(limit) * u64::from(p) / 100).min(u64::from(u32::MAX)) as u32;
        self.hiwat.store(pct(start), Relaxed);
        self.lowat.store(pct(end), Relaxed);
    }

    /// pf's `pf_syncookies_setmode`: `always` turns cookies on at once
    /// with a fresh key; leaving a mode leaves cookies as they are until
    /// the next rotation decides.
    fn set_mode(&self, m: u8) {
        if self.mode.swap(m, Relaxed) == m {
            return;
        }
        if m == MODE_ALWAYS {
            let _g = self.rekey.lock().unwrap_or_else(|e| e.into_inner());
            self.newkey(None);
            self.active.store(true, Release);
        }
    }

    pub fn mode(&self) -> Mode {
        match self.mode.load(Relaxed) {
            MODE_ALWAYS => Mode::Always,
            MODE_ADAPTIVE => {
                let p = self.pct.load(Relaxed);
                Mode::Adaptive {
                    start: (p >> 32) as u32,
                    end: p as u32,
                }
            }
            _ => Mode::Never,
        }
    }

    fn draw(&self) -> u64 {
        let x = self.rng.fetch_add(0x9e37_79b9_7f4a_7c15, Relaxed);
        let x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        let x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }

    /// pf's `pf_syncookie_newkey`: the other secret becomes current,
    /// freshly drawn, with nothing in flight under it, and the rotation
    /// timer starts again. Under `rekey`.
    fn newkey(&self, now_ns: Option<u64>) {
        let next = (self.oddeven.load(Relaxed) ^ 1) & 1;
        self.inflight[usize::from(next)].store(0, Relaxed);
        for k in &self.keys[usize::from(next)] {
            k.store(self.draw(), Relaxed);
        }
        self.oddeven.store(next, Release);
        self.next_rotate.store(
            now_ns.map_or(ARM_PENDING, |t| t.saturating_add(SECRET_LIFETIME_NS).max(2)),
            Relaxed,
        );
    }

    fn key(&self, oddeven: usize) -> [u64; 2] {
        let k = &self.keys[oddeven & 1];
        [k[0].load(Relaxed), k[1].load(Relaxed)]
    }

    /// The rotation timer (pf's `pf_syncookie_rotate`), due at most every
    /// [`SECRET_LIFETIME_NS`]; cheap when not due. `half_open` is the
    /// state table's count of half-open TCP states.
    pub fn tick(&self, now_ns: u64, half_open: u64) {
        let due = self.next_rotate.load(Relaxed);
        if due == DISARMED {
            return;
        }
        if due == ARM_PENDING {
            let _ = self.next_rotate.compare_exchange(
                ARM_PENDING,
                now_ns.saturating_add(SECRET_LIFETIME_NS).max(2),
                Relaxed,
                Relaxed,
            );
            return;
        }
        if now_ns < due {
            return;
        }
        let Ok(_g) = self.rekey.try_lock() else {
            // another worker is rotating
            return;
        };
        for _ in 0..MAX_CATCH_UP {
            let due = self.next_rotate.load(Relaxed);
            if due <= ARM_PENDING || now_ns < due {
                return;
            }
            self.rotate(due, half_open);
        }
        let due = self.next_rotate.load(Relaxed);
        if due > ARM_PENDING && due <= now_ns {
            self.next_rotate
                .store(now_ns.saturating_add(SECRET_LIFETIME_NS), Relaxed);
        }
    }

    /// One rotation, at the time `at` it fell due. Under `rekey`.
    fn rotate(&self, at: u64, half_open: u64) {
        let mode = self.mode.load(Relaxed);
        let inflight = self.inflight[0].load(Relaxed) + self.inflight[1].load(Relaxed);
        if self.active.load(Relaxed)
            && ((mode == MODE_ADAPTIVE
                && half_open + inflight < u64::from(self.lowat.load(Relaxed)))
                || mode == MODE_NEVER)
        {
            self.active.store(false, Release);
        }
        if !self.active.load(Relaxed) && inflight == 0 {
            // nothing can validate any more: forget the secrets
            for k in self.keys.iter().flatten() {
                k.store(0, Relaxed);
            }
            self.next_rotate.store(DISARMED, Relaxed);
            return;
        }
        self.newkey(Some(at));
    }

    /// pf's `pf_synflood_check` for an inbound SYN: whether to answer it
    /// with a cookie. In adaptive mode, more half-open states than the
    /// high watermark turn cookies on (a synflood detected).
    pub fn flood_check(&self, now_ns: u64, half_open: u64) -> bool {
        match self.mode.load(Relaxed) {
            MODE_NEVER => false,
            MODE_ALWAYS => true,
            _ => {
                if !self.active.load(Acquire) && half_open > u64::from(self.hiwat.load(Relaxed)) {
                    let _g = self.rekey.lock().unwrap_or_else(|e| e.into_inner());
                    if !self.active.load(Relaxed) {
                        self.newkey(Some(now_ns));
                        self.active.store(true, Release);
                        self.synfloods.fetch_add(1, Relaxed);
                    }
                }
                self.active.load(Acquire)
            }
        }
    }

    /// pf's `pf_syncookie_generate` and the bookkeeping of
    /// `pf_syncookie_send`: the ISN of the SYN|ACK answering the client
    /// SYN `seq` of `t`, offering `mss` and window shift `wscale`.
    pub fn generate(&self, t: &Tuple, seq: u32, mss: u16, wscale: Option<u8>) -> u32 {
        let oe = self.oddeven.load(Acquire);
        let bits = CookieBits::new(
            oe,
            false,
            cookie::wscale_index(wscale),
            cookie::mss_index(mss),
        );
        let iss = cookie::generate(self.key(usize::from(oe)), t, seq, bits);
        self.inflight[usize::from(oe)].fetch_add(1, Relaxed);
        self.sent.fetch_add(1, Relaxed);
        iss
    }

    /// pf's `pf_syncookie_validate`: whether the ACK (`seq`, `ack` as on
    /// the wire) of `t` brings back a cookie this firewall sent under a
    /// secret still kept. A valid one is no longer in flight. Returns
    /// the cookie's bits (the options to recreate the SYN with).
    pub fn validate(&self, t: &Tuple, seq: u32, ack: u32) -> Option<CookieBits> {
        let bits = cookie::bits_of_ack(ack);
        let inflight = &self.inflight[bits.oddeven()];
        // nothing sent under that secret: it cannot be one of ours (and
        // a zeroed key must not validate)
        if inflight.load(Relaxed) == 0 {
            return None;
        }
        if !cookie::check(self.key(bits.oddeven()), t, seq, ack) {
            return None;
        }
        let _ = inflight.fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1));
        self.valid.fetch_add(1, Relaxed);
        Some(bits)
    }

    pub fn counters(&self) -> CookieCounters {
        CookieCounters {
            synfloods: self.synfloods.load(Relaxed),
            sent: self.sent.load(Relaxed),
            valid: self.valid.load(Relaxed),
        }
    }

    /// `pfctl -F info`.
    pub fn clear_counters(&self) {
        self.synfloods.store(0, Relaxed);
        self.sent.store(0, Relaxed);
        self.valid.store(0, Relaxed);
    }

    pub fn status(&self) -> CookieStatus {
        CookieStatus {
            mode: self.mode(),
            active: self.active.load(Relaxed),
            inflight: [
                self.inflight[0].load(Relaxed),
                self.inflight[1].load(Relaxed),
            ],
            hiwat: self.hiwat.load(Relaxed),
            lowat: self.lowat.load(Relaxed),
            counters: self.counters(),
        }
    }
}

#[cfg(test)]
mod tests;
