//! The cookie itself (pf's `pf_syncookie_generate`, `_validate`'s MAC
//! check and `_recreate_syn`'s decoding): the firewall's ISN carries a
//! 24-bit MAC of the connection and, XORed into its low byte, what the
//! client's SYN asked for that the firewall did not keep:
//!
//! | bits of the cookie byte | what |
//! |---|---|
//! | 0 | which of the two secrets made it (odd/even) |
//! | 1 | SACK permitted (pf always sends 0) |
//! | 2..=4 | window scale, as an index into [`WSCALE_TABLE`] |
//! | 5..=7 | MSS, as an index into [`MSS_TABLE`] |
//!
//! (That is the C bit-field `union pf_syncookie` as laid out on the
//! little-endian machines pf runs on.) Pure functions of the key and
//! the packet: the secrets, their rotation and the counters are
//! [`super::Syncookies`]'.

use super::siphash::SipHash24;
use crate::pdesc::AddrKey;
use ruleset::addr::Af;

/// MSS values clients commonly send (pf's `pf_syncookie_msstab`); a
/// value in between is rounded down, one below the first is the first.
pub const MSS_TABLE: [u16; 8] = [216, 536, 1200, 1360, 1400, 1440, 1452, 1460];
/// Window shifts (pf's `pf_syncookie_wstab`); index 0 and 1 both say 0.
pub const WSCALE_TABLE: [u8; 8] = [0, 0, 1, 2, 4, 6, 7, 8];
/// The largest window shift TCP allows (RFC 7323).
const MAX_WSCALE: u8 = 14;

/// The connection a cookie is bound to, as the client sent it: its SYN
/// and its ACK carry the same addresses and ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuple {
    pub af: Af,
    pub src: AddrKey,
    pub dst: AddrKey,
    pub sport: u16,
    pub dport: u16,
}

/// The eight bits of options a cookie carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookieBits(pub u8);

impl CookieBits {
    pub fn new(oddeven: u8, sack_ok: bool, wscale_idx: u8, mss_idx: u8) -> Self {
        CookieBits(
            (oddeven & 1) | u8::from(sack_ok) << 1 | (wscale_idx & 7) << 2 | (mss_idx & 7) << 5,
        )
    }
    pub fn oddeven(self) -> usize {
        usize::from(self.0 & 1)
    }
    pub fn sack_ok(self) -> bool {
        self.0 & 2 != 0
    }
    pub fn wscale_idx(self) -> u8 {
        (self.0 >> 2) & 7
    }
    pub fn mss_idx(self) -> u8 {
        self.0 >> 5
    }
    /// The MSS and window shift the client's SYN is recreated with.
    pub fn mss(self) -> u16 {
        MSS_TABLE[usize::from(self.mss_idx())]
    }
    pub fn wscale(self) -> u8 {
        WSCALE_TABLE[usize::from(self.wscale_idx())]
    }
}

/// The table index pf's downward search finds: the last entry not
/// above `v`, or 0.
fn index_of<T: PartialOrd + Copy>(table: &[T; 8], v: T) -> u8 {
    let mut i = table.len() - 1;
    while i > 0 && table[i] > v {
        i -= 1;
    }
    i as u8
}

pub fn mss_index(mss: u16) -> u8 {
    index_of(&MSS_TABLE, mss)
}

/// `wscale` is the shift the client's SYN offered, `None` without the
/// option (pf then encodes index 1, the first entry its search stops
/// at). pf passes its internal "option seen" flag along with the shift
/// and so finds index 7 for every SYN with the option; the shift itself
/// is what is meant, and encoded here. The firewall's SYN|ACK offers no
/// window scaling, so the connection never uses it either way.
pub fn wscale_index(wscale: Option<u8>) -> u8 {
    index_of(&WSCALE_TABLE, wscale.map_or(0, |w| w.min(MAX_WSCALE)))
}

/// pf's `pf_syncookie_mac`: SipHash-2-4 over the addresses and ports in
/// network order, the client's ISN as a host-order (little-endian) word
/// and the cookie byte; the two halves of the result XORed.
pub fn mac(key: [u64; 2], t: &Tuple, seq: u32, bits: CookieBits) -> u32 {
    let mut h = SipHash24::new(key);
    match t.af {
        Af::Inet => {
            h.update(&((t.src >> 96) as u32).to_be_bytes());
            h.update(&((t.dst >> 96) as u32).to_be_bytes());
        }
        Af::Inet6 => {
            h.update(&t.src.to_be_bytes());
            h.update(&t.dst.to_be_bytes());
        }
    }
    h.update(&t.sport.to_be_bytes());
    h.update(&t.dport.to_be_bytes());
    h.update(&seq.to_le_bytes());
    h.update(&[bits.0]);
    let x = h.finish();
    (x as u32) ^ (x >> 32) as u32
}

/// The ISN for the SYN `seq` of `t` under `key`: the MAC's top 24 bits,
/// and the cookie byte XORed with the MAC's top byte (so the option
/// bits do not show on the wire).
pub fn generate(key: [u64; 2], t: &Tuple, seq: u32, bits: CookieBits) -> u32 {
    let hash = mac(key, t, seq, bits);
    (hash & !0xff) | (u32::from(bits.0) ^ (hash >> 24))
}

/// The cookie byte an ACK of `ack` claims (its ISN is `ack - 1`). Which
/// secret to check it with is in it.
pub fn bits_of_ack(ack: u32) -> CookieBits {
    let iss = ack.wrapping_sub(1);
    CookieBits(((iss & 0xff) ^ (iss >> 24)) as u8)
}

/// Whether the client's ACK (`seq`, `ack` as on the wire) answers a
/// SYN|ACK made under `key`.
pub fn check(key: [u64; 2], t: &Tuple, seq: u32, ack: u32) -> bool {
    let iss = ack.wrapping_sub(1);
    let hash = mac(key, t, seq.wrapping_sub(1), bits_of_ack(ack));
    iss & !0xff == hash & !0xff
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const K: [u64; 2] = [0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210];

    fn v4(a: u32, b: u32) -> Tuple {
        Tuple {
            af: Af::Inet,
            src: u128::from(a) << 96,
            dst: u128::from(b) << 96,
            sport: 40000,
            dport: 80,
        }
    }

    #[test]
    fn bits_are_pfs_bitfield() {
        // oddeven 1, sack 1, wscale index 5, mss index 7
        let b = CookieBits::new(1, true, 5, 7);
        // mss 111, wscale 101, sack 1, oddeven 1
        assert_eq!(b.0, 0b1111_0111);
        assert_eq!(
            (b.oddeven(), b.sack_ok(), b.wscale_idx(), b.mss_idx()),
            (1, true, 5, 7)
        );
        assert_eq!((b.mss(), b.wscale()), (1460, 6));
    }

    /// Every table entry maps to itself; values in between round down;
    /// below the table is its first entry.
    #[test]
    fn mss_table_round_trip() {
        for (i, &m) in MSS_TABLE.iter().enumerate() {
            assert_eq!(usize::from(mss_index(m)), i);
            let b = CookieBits::new(0, false, 0, mss_index(m));
            assert_eq!(b.mss(), m);
        }
        assert_eq!(MSS_TABLE[usize::from(mss_index(1459))], 1452);
        assert_eq!(MSS_TABLE[usize::from(mss_index(9000))], 1460);
        assert_eq!(MSS_TABLE[usize::from(mss_index(512))], 216);
        assert_eq!(MSS_TABLE[usize::from(mss_index(0))], 216);
        assert_eq!(MSS_TABLE[usize::from(mss_index(1300))], 1200);
    }

    #[test]
    fn wscale_table_round_trip() {
        assert_eq!(wscale_index(None), 1);
        assert_eq!(WSCALE_TABLE[usize::from(wscale_index(Some(0)))], 0);
        assert_eq!(WSCALE_TABLE[usize::from(wscale_index(Some(7)))], 7);
        assert_eq!(WSCALE_TABLE[usize::from(wscale_index(Some(5)))], 4);
        assert_eq!(WSCALE_TABLE[usize::from(wscale_index(Some(14)))], 8);
        assert_eq!(WSCALE_TABLE[usize::from(wscale_index(Some(200)))], 8);
    }

    #[test]
    fn generated_cookie_checks_and_decodes() {
        let t = v4(0xc633_6407, 0xcb00_7105);
        let bits = CookieBits::new(1, false, wscale_index(Some(7)), mss_index(1460));
        let iss = generate(K, &t, 1000, bits);
        assert_eq!(bits_of_ack(iss.wrapping_add(1)), bits);
        assert!(check(K, &t, 1001, iss.wrapping_add(1)));
    }

    #[test]
    fn wrong_key_tuple_seq_or_ack_fails() {
        let t = v4(0xc633_6407, 0xcb00_7105);
        let bits = CookieBits::new(0, false, 1, 7);
        let iss = generate(K, &t, 1000, bits);
        let ack = iss.wrapping_add(1);
        assert!(check(K, &t, 1001, ack));
        assert!(!check([K[0] ^ 1, K[1]], &t, 1001, ack), "another key");
        assert!(
            !check(K, &v4(0xc633_6408, 0xcb00_7105), 1001, ack),
            "another source"
        );
        assert!(
            !check(K, &Tuple { sport: 40001, ..t }, 1001, ack),
            "another port"
        );
        assert!(
            !check(K, &Tuple { dport: 81, ..t }, 1001, ack),
            "another port"
        );
        assert!(!check(K, &t, 1002, ack), "another client ISN");
        // a flipped MAC bit, and flipped option bits (which change the
        // MAC input)
        assert!(!check(K, &t, 1001, (iss ^ 0x0100_0000).wrapping_add(1)));
        assert!(!check(K, &t, 1001, (iss ^ 0x20).wrapping_add(1)));
    }

    #[test]
    fn ipv6_tuples_are_bound_by_all_128_bits() {
        let a: AddrKey = 0x2001_0db8_0000_0000_0000_0000_0000_0001;
        let t = Tuple {
            af: Af::Inet6,
            src: a,
            dst: a + 1,
            sport: 1,
            dport: 2,
        };
        let iss = generate(K, &t, 7, CookieBits::new(0, false, 1, 1));
        assert!(check(K, &t, 8, iss.wrapping_add(1)));
        assert!(!check(
            K,
            &Tuple {
                src: a ^ 1 << 64,
                ..t
            },
            8,
            iss.wrapping_add(1)
        ));
    }

    proptest! {
        /// Whatever the connection and options, the ACK of a cookie
        /// checks and gives back its bits; one more or less does not.
        #[test]
        fn round_trip(src: u32, dst: u32, sport: u16, dport: u16, seq: u32,
                      k0: u64, k1: u64, oe in 0u8..2, w in 0u8..8, m in 0u8..8) {
            let t = Tuple { af: Af::Inet, src: u128::from(src) << 96, dst: u128::from(dst) << 96, sport, dport };
            let bits = CookieBits::new(oe, false, w, m);
            let iss = generate([k0, k1], &t, seq, bits);
            prop_assert_eq!(bits_of_ack(iss.wrapping_add(1)), bits);
            prop_assert!(check([k0, k1], &t, seq.wrapping_add(1), iss.wrapping_add(1)));
            prop_assert!(!check([k0, k1], &t, seq.wrapping_add(2), iss.wrapping_add(1))
                || !check([k0, k1], &t, seq.wrapping_add(1), iss.wrapping_add(0x101)));
        }
    }
}
