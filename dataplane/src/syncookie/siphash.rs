//! SipHash-2-4 (Aumasson and Bernstein), the keyed MAC pf's syncookies
//! use (`SipHash24` of OpenBSD's kernel). std's `SipHasher` is
//! deprecated and hides its rounds; this is the reference algorithm,
//! checked against the paper's test vector.

/// A SipHash-2-4 state over a 128-bit key, fed bytes in any pieces.
pub(crate) struct SipHash24 {
    v: [u64; 4],
    /// Bytes not yet making a whole word, little-endian.
    tail: u64,
    ntail: usize,
    len: usize,
}

#[inline]
fn round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13);
    v[1] ^= v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16);
    v[3] ^= v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21);
    v[3] ^= v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17);
    v[1] ^= v[2];
    v[2] = v[2].rotate_left(32);
}

impl SipHash24 {
    /// The key as the 16 bytes it is stored in (two little-endian words).
    pub(crate) fn new(key: [u64; 2]) -> Self {
        SipHash24 {
            v: [
                key[0] ^ 0x736f_6d65_7073_6575,
                key[1] ^ 0x646f_7261_6e64_6f6d,
                key[0] ^ 0x6c79_6765_6e65_7261,
                key[1] ^ 0x7465_6462_7974_6573,
            ],
            tail: 0,
            ntail: 0,
            len: 0,
        }
    }

    fn compress(&mut self, m: u64) {
        self.v[3] ^= m;
        round(&mut self.v);
        round(&mut self.v);
        self.v[0] ^= m;
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.len += bytes.len();
        for &b in bytes {
            self.tail |= u64::from(b) << (8 * self.ntail);
            self.ntail += 1;
            if self.ntail == 8 {
                let m = self.tail;
                self.compress(m);
                self.tail = 0;
                self.ntail = 0;
            }
        }
    }

    pub(crate) fn finish(mut self) -> u64 {
        let m = self.tail | ((self.len as u64 & 0xff) << 56);
        self.compress(m);
        self.v[2] ^= 0xff;
        for _ in 0..4 {
            round(&mut self.v);
        }
        self.v[0] ^ self.v[1] ^ self.v[2] ^ self.v[3]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> [u64; 2] {
        // the paper's key: bytes 00 01 .. 0f
        let b: Vec<u8> = (0u8..16).collect();
        [
            u64::from_le_bytes(b[0..8].try_into().unwrap()),
            u64::from_le_bytes(b[8..16].try_into().unwrap()),
        ]
    }

    /// Appendix A of "SipHash: a fast short-input PRF": the 15-byte
    /// message 00 .. 0e.
    #[test]
    fn paper_test_vector() {
        let msg: Vec<u8> = (0u8..15).collect();
        let mut h = SipHash24::new(key());
        h.update(&msg);
        assert_eq!(h.finish(), 0xa129_ca61_49be_45e5);
    }

    /// The empty message and an 8-byte one, from the reference
    /// implementation's vectors (vectors.h, entries 0 and 8).
    #[test]
    fn reference_vectors() {
        let h = SipHash24::new(key());
        assert_eq!(
            h.finish().to_le_bytes(),
            [0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72]
        );
        let mut h = SipHash24::new(key());
        h.update(&[0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(
            h.finish().to_le_bytes(),
            [0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93]
        );
    }

    /// Feeding in pieces gives what feeding at once gives.
    #[test]
    fn pieces_equal_whole() {
        let msg: Vec<u8> = (0u8..40).collect();
        let mut a = SipHash24::new(key());
        a.update(&msg);
        let mut b = SipHash24::new(key());
        for c in msg.chunks(3) {
            b.update(c);
        }
        assert_eq!(a.finish(), b.finish());
    }
}
