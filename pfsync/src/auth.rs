//! pfd's optional authenticated pfsync (not in OpenBSD, off by default).
//!
//! OpenBSD's pfsync has no authentication (spec §10): anything that gets a
//! TTL-255 packet onto the sync link can write the state table. With a
//! shared key configured, pfd appends a trailer to every packet and drops
//! (counting `badauth`) any packet whose trailer is missing, forged or
//! replayed.
//!
//! Trailer, after the `len` bytes the pfsync header covers (an OpenBSD
//! receiver would ignore it, though the two cannot interoperate in this
//! mode anyway):
//!
//! | off | size | field |
//! |---|---|---|
//! | 0 | 4 | sender: the sender's hostid, BE |
//! | 4 | 8 | seq: BE u64, one more for every packet sent |
//! | 12 | 32 | HMAC-SHA256(key, payload ‖ sender ‖ seq) |
//!
//! HMAC-SHA256 rather than SHA-1: SHA-256 is the conservative default for
//! new designs, the RustCrypto implementation is well kept, and 32 bytes
//! per packet is little against a 1500-byte MTU (the packing code
//! accounts for it).
//!
//! Replay: the receiver keeps, per sender, the highest sequence number
//! seen and a 64-packet window below it (RFC 4303's anti-replay scheme).
//! The sender id is inside the MAC, so a replay from another source
//! address still hits the original sender's window. Sequence numbers
//! must keep growing across restarts: the daemon seeds them with
//! wall-clock nanoseconds (`AuthConfig::seq_start`).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::fmt;

pub const TAG_LEN: usize = 32;
pub const TRAILER_LEN: usize = 4 + 8 + TAG_LEN;
/// Packets this far below the highest seen are refused outright.
pub const WINDOW: u64 = 64;
/// Shortest key accepted: 128 bits.
pub const MIN_KEY_LEN: usize = 16;

type HmacSha256 = Hmac<Sha256>;

/// Why the authenticated mode refused a key or a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    #[error("pfsync key must be at least {MIN_KEY_LEN} bytes, got {0}")]
    ShortKey(usize),
    #[error("packet too short to carry an authentication trailer")]
    Missing,
    #[error("authentication tag does not match")]
    BadMac,
    #[error("sequence number {seq} from {sender:08x} already seen or too old")]
    Replay { sender: u32, seq: u64 },
}

/// The shared secret and where this sender's sequence numbers start.
#[derive(Clone)]
pub struct AuthConfig {
    key: Vec<u8>,
    pub seq_start: u64,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("key", &"<redacted>")
            .field("seq_start", &self.seq_start)
            .finish()
    }
}

impl AuthConfig {
    pub fn new(key: &[u8], seq_start: u64) -> Result<Self, AuthError> {
        if key.len() < MIN_KEY_LEN {
            return Err(AuthError::ShortKey(key.len()));
        }
        Ok(AuthConfig {
            key: key.to_vec(),
            seq_start,
        })
    }
}

/// Per-sender anti-replay window.
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    top: u64,
    /// Bit i set: `top - i` was seen.
    seen: u64,
}

impl Window {
    fn check(&self, seq: u64) -> bool {
        if seq > self.top || self.seen == 0 {
            return true;
        }
        let back = self.top - seq;
        back < WINDOW && self.seen & (1 << back) == 0
    }

    fn mark(&mut self, seq: u64) {
        if self.seen == 0 {
            *self = Window { top: seq, seen: 1 };
        } else if seq > self.top {
            let shift = seq - self.top;
            self.seen = if shift >= WINDOW {
                0
            } else {
                self.seen << shift
            } | 1;
            self.top = seq;
        } else {
            self.seen |= 1 << (self.top - seq);
        }
    }
}

/// pfd's breakdown of the packets `badauth` counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthStats {
    /// No trailer, or a tag that does not verify: sent without the key
    /// (an OpenBSD peer, a pfd without `authkey`), with another key, or
    /// altered on the way.
    pub unauthenticated: u64,
    /// A genuine packet whose sequence number was already seen or is
    /// below the window.
    pub replayed: u64,
}

/// Seals outgoing and opens incoming packets.
pub struct Auth {
    mac: HmacSha256,
    sender: u32,
    next_seq: u64,
    windows: HashMap<u32, Window>,
    stats: AuthStats,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("sender", &self.sender)
            .field("next_seq", &self.next_seq)
            .field("peers", &self.windows.len())
            .finish()
    }
}

impl Auth {
    /// `sender` is this node's hostid.
    pub fn new(cfg: &AuthConfig, sender: u32) -> Self {
        Auth {
            // HMAC takes keys of any length; `AuthConfig` set a floor.
            mac: HmacSha256::new_from_slice(&cfg.key).unwrap_or_else(|_| unreachable!()),
            sender,
            next_seq: cfg.seq_start,
            windows: HashMap::new(),
            stats: AuthStats::default(),
        }
    }

    pub fn stats(&self) -> AuthStats {
        self.stats
    }

    fn tag(&self, payload: &[u8], sender: u32, seq: u64) -> HmacSha256 {
        let mut m = self.mac.clone();
        m.update(payload);
        m.update(&sender.to_be_bytes());
        m.update(&seq.to_be_bytes());
        m
    }

    /// Append the trailer to a finished payload.
    pub fn seal(&mut self, packet: &mut Vec<u8>) {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        let tag = self.tag(packet, self.sender, seq).finalize().into_bytes();
        packet.extend_from_slice(&self.sender.to_be_bytes());
        packet.extend_from_slice(&seq.to_be_bytes());
        packet.extend_from_slice(&tag);
    }

    /// Check a received packet and return its pfsync part. The replay
    /// window moves only for packets whose tag verified.
    pub fn open<'a>(&mut self, packet: &'a [u8]) -> Result<&'a [u8], AuthError> {
        let r = self.verify(packet);
        match r {
            Err(AuthError::Replay { .. }) => self.stats.replayed += 1,
            Err(_) => self.stats.unauthenticated += 1,
            Ok(_) => {}
        }
        r
    }

    fn verify<'a>(&mut self, packet: &'a [u8]) -> Result<&'a [u8], AuthError> {
        let split = packet
            .len()
            .checked_sub(TRAILER_LEN)
            .ok_or(AuthError::Missing)?;
        let (payload, trailer) = packet.split_at(split);
        let mut sender = [0u8; 4];
        sender.copy_from_slice(&trailer[..4]);
        let sender = u32::from_be_bytes(sender);
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&trailer[4..12]);
        let seq = u64::from_be_bytes(seq);
        self.tag(payload, sender, seq)
            .verify_slice(&trailer[12..])
            .map_err(|_| AuthError::BadMac)?;
        let w = self.windows.entry(sender).or_default();
        if !w.check(seq) {
            return Err(AuthError::Replay { sender, seq });
        }
        w.mark(seq);
        Ok(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (Auth, Auth) {
        let cfg = AuthConfig::new(b"0123456789abcdef", 1000).unwrap();
        (Auth::new(&cfg, 1), Auth::new(&cfg, 2))
    }

    #[test]
    fn short_keys_are_refused() {
        assert_eq!(
            AuthConfig::new(b"short", 0).unwrap_err(),
            AuthError::ShortKey(5)
        );
    }

    #[test]
    fn seal_then_open() {
        let (mut a, mut b) = pair();
        let mut p = b"pfsync bytes".to_vec();
        a.seal(&mut p);
        assert_eq!(p.len(), 12 + TRAILER_LEN);
        assert_eq!(b.open(&p).unwrap(), b"pfsync bytes");
    }

    #[test]
    fn forged_missing_and_replayed_are_refused() {
        let (mut a, mut b) = pair();
        let mut p = b"x".to_vec();
        a.seal(&mut p);
        let mut bad = p.clone();
        bad[0] ^= 1;
        assert_eq!(b.open(&bad), Err(AuthError::BadMac));
        assert_eq!(b.open(&p[..10]), Err(AuthError::Missing));
        let other = AuthConfig::new(b"fedcba9876543210", 0).unwrap();
        let mut q = b"x".to_vec();
        Auth::new(&other, 1).seal(&mut q);
        assert_eq!(b.open(&q), Err(AuthError::BadMac));
        assert!(b.open(&p).is_ok());
        assert_eq!(
            b.open(&p),
            Err(AuthError::Replay {
                sender: 1,
                seq: 1000
            })
        );
    }

    #[test]
    fn window_accepts_reordering_within_64() {
        let (mut a, mut b) = pair();
        let pkts: Vec<Vec<u8>> = (0..70)
            .map(|_| {
                let mut p = vec![0u8; 3];
                a.seal(&mut p);
                p
            })
            .collect();
        assert!(b.open(&pkts[69]).is_ok());
        assert!(b.open(&pkts[10]).is_ok(), "59 back: inside the window");
        assert!(b.open(&pkts[10]).is_err(), "twice");
        assert!(b.open(&pkts[5]).is_err(), "64 back: outside");
        assert!(b.open(&pkts[6]).is_ok(), "63 back: inside");
    }

    proptest::proptest! {
        /// The window against a plain model: a number is accepted when it
        /// was never accepted before and is less than 64 below the
        /// highest accepted so far.
        #[test]
        fn window_matches_model(seqs in proptest::collection::vec(0u64..200, 1..300)) {
            let mut w = Window::default();
            let mut seen = std::collections::HashSet::new();
            let mut top: Option<u64> = None;
            for s in seqs {
                let fresh = !seen.contains(&s) && top.is_none_or(|t| s + WINDOW > t);
                proptest::prop_assert_eq!(w.check(s), fresh, "seq {}", s);
                if fresh {
                    w.mark(s);
                    seen.insert(s);
                    top = Some(top.map_or(s, |t| t.max(s)));
                }
            }
        }
    }
}
