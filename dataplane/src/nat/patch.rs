//! In-place field writes that keep every covering Internet checksum
//! right by RFC 1624's incremental update, as pf's `pf_patch_16`,
//! `pf_patch_32` and `pf_cksum_fixup_a` do: the payload is never read.
//!
//! A field may sit at any byte offset relative to the start of the data a
//! checksum covers (TCP SACK blocks often do), so each checksum carries
//! the position its 16-bit words are counted from.

use crate::reason::Reason;
use crate::wire::checksum::update16;

/// One checksum field and the data it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ck {
    /// Offset of the 16-bit checksum field in the frame.
    pub off: usize,
    /// Any offset of the same parity as the first byte of a 16-bit word
    /// of the covered data (for a pseudo-header: of the address field).
    pub base: usize,
    /// UDP's rule: a zero field means "no checksum" and stays zero, and
    /// a computed zero is sent as 0xffff.
    pub udp: bool,
}

pub(crate) fn get16(frame: &[u8], off: usize) -> Result<u16, Reason> {
    let b = frame
        .get(off..off.checked_add(2).ok_or(Reason::BadOffset)?)
        .ok_or(Reason::Short)?;
    Ok(u16::from_be_bytes([b[0], b[1]]))
}

pub(crate) fn get32(frame: &[u8], off: usize) -> Result<u32, Reason> {
    let b = frame
        .get(off..off.checked_add(4).ok_or(Reason::BadOffset)?)
        .ok_or(Reason::Short)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The ones'-complement sum of a field of at most 16 bytes (an odd
/// length padded with a zero byte), folded: `checksum::sum` for the
/// small fields translation writes, kept inline so a field of known
/// length costs a few instructions.
#[inline(always)]
fn words(b: &[u8]) -> u16 {
    let mut acc = 0u32;
    let mut pairs = b.chunks_exact(2);
    for p in &mut pairs {
        acc += u32::from(u16::from_be_bytes([p[0], p[1]]));
    }
    if let [last] = pairs.remainder() {
        acc += u32::from(*last) << 8;
    }
    // at most 8 words: two folds leave 16 bits
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    acc as u16
}

/// The change of bytes `old` to `new`, as the two ones'-complement sums
/// of their 16-bit words counted from an even position. A field at an
/// odd position relative to a checksum's words contributes the same sums
/// byte-swapped (RFC 1071's byte-order independence), so one pair of
/// sums serves every checksum the field is under.
#[derive(Clone, Copy)]
struct Delta {
    old: u16,
    new: u16,
}

impl Delta {
    #[inline(always)]
    fn of(old: &[u8], new: &[u8]) -> Self {
        Delta {
            old: words(old),
            new: words(new),
        }
    }

    /// Checksum field `cksum` of `ck` after the change at `off`: RFC 1624
    /// eqn. 3 over the whole field at once. The result is the one
    /// updating word by word gives: when every word sum is zero but the
    /// bytes changed, the checksum of a changed-but-congruent field is
    /// kept as ones'-complement "negative zero", as the per-word update
    /// leaves it.
    #[inline]
    fn apply(self, ck: Ck, cksum: u16, off: usize) -> u16 {
        let (o, n) = if off.wrapping_sub(ck.base) & 1 == 0 {
            (self.old, self.new)
        } else {
            (self.old.swap_bytes(), self.new.swap_bytes())
        };
        if cksum == 0xffff && o == 0xffff && n == 0 {
            // ~(~HC + ~m + m') with every term zero: the per-word sum
            // would have been a positive multiple of 0xffff
            return 0;
        }
        update16(cksum, o, n)
    }
}

/// Apply one data change to checksum `ck`; the checksum field itself is
/// covered by `cover` (an ICMP checksum over a quoted header), which is
/// updated for the field's own change.
#[inline]
fn fix(frame: &mut [u8], ck: Ck, off: usize, d: Delta, cover: Option<Ck>) -> Result<(), Reason> {
    let c = get16(frame, ck.off)?;
    if ck.udp && c == 0 {
        return Ok(());
    }
    let mut n = d.apply(ck, c, off);
    if ck.udp && n == 0 {
        n = 0xffff;
    }
    let n = n.to_be_bytes();
    match cover {
        Some(_) => write(frame, ck.off, &n, &[], cover),
        None => {
            frame
                .get_mut(ck.off..ck.off.wrapping_add(2))
                .ok_or(Reason::Short)?
                .copy_from_slice(&n);
            Ok(())
        }
    }
}

/// Write `new` at `off`. Each checksum in `direct` covers these bytes and
/// is itself covered by `cover`; `cover` also covers the bytes. Nothing is
/// written when the frame is too short for any of the fields.
pub(crate) fn write(
    frame: &mut [u8],
    off: usize,
    new: &[u8],
    direct: &[Ck],
    cover: Option<Ck>,
) -> Result<(), Reason> {
    // The same code per common field length (port, IPv4 address, IPv6
    // address), so the compiler sees the length and unrolls.
    match new.len() {
        2 => write_any(frame, off, new, direct, cover),
        4 => write_any(frame, off, new, direct, cover),
        16 => write_any(frame, off, new, direct, cover),
        _ => write_any(frame, off, new, direct, cover),
    }
}

#[inline(always)]
fn write_any(
    frame: &mut [u8],
    off: usize,
    new: &[u8],
    direct: &[Ck],
    cover: Option<Ck>,
) -> Result<(), Reason> {
    let end = off.checked_add(new.len()).ok_or(Reason::BadOffset)?;
    if new.len() > 16 {
        return Err(Reason::BadOffset);
    }
    let field = frame.get(off..end).ok_or(Reason::Short)?;
    if field == new {
        return Ok(());
    }
    // Check every checksum field first so a short frame is refused
    // before anything changes.
    for ck in direct.iter().chain(cover.iter()) {
        get16(frame, ck.off)?;
    }
    let d = Delta::of(field, new);
    for &ck in direct {
        fix(frame, ck, off, d, cover)?;
    }
    if let Some(cv) = cover {
        fix(frame, cv, off, d, None)?;
    }
    frame
        .get_mut(off..end)
        .ok_or(Reason::Short)?
        .copy_from_slice(new);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::checksum::{finish, sum};

    /// The checksum update one byte at a time, as RFC 1624 states it:
    /// what [`Delta::apply`] must equal bit for bit.
    fn bytewise(ck: Ck, cksum: u16, off: usize, old: &[u8], new: &[u8]) -> u16 {
        let mut c = cksum;
        for (i, (&o, &n)) in old.iter().zip(new.iter()).enumerate() {
            if o == n {
                continue;
            }
            let high = off.wrapping_add(i).wrapping_sub(ck.base) % 2 == 0;
            let (o, n) = if high {
                (u16::from(o) << 8, u16::from(n) << 8)
            } else {
                (u16::from(o), u16::from(n))
            };
            c = update16(c, o, n);
        }
        c
    }

    #[test]
    fn whole_field_update_equals_the_bytewise_one() {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let special = [0x0000u16, 0xffff, 0xfffe, 0x0001, 0x00ff, 0xff00];
        for round in 0..20000 {
            let len = 1 + (next() % 16) as usize;
            let pick = |r: u64| -> u8 {
                match r % 4 {
                    0 => 0,
                    1 => 0xff,
                    _ => (r >> 8) as u8,
                }
            };
            let old: Vec<u8> = (0..len).map(|_| pick(next())).collect();
            let new: Vec<u8> = (0..len).map(|_| pick(next())).collect();
            if old == new {
                continue;
            }
            let cksum = if round % 3 == 0 {
                special[(next() % 6) as usize]
            } else {
                next() as u16
            };
            let off = (next() % 7) as usize + 8;
            let ck = Ck {
                off: 0,
                base: (next() % 5) as usize,
                udp: false,
            };
            assert_eq!(
                Delta::of(&old, &new).apply(ck, cksum, off),
                bytewise(ck, cksum, off, &old, &new),
                "{old:02x?} -> {new:02x?} ck {cksum:04x} off {off} base {}",
                ck.base
            );
        }
        // every word sum zero, checksum negative zero
        let ck = Ck {
            off: 0,
            base: 0,
            udp: false,
        };
        for (o, n) in [([0xffu8, 0xff], [0u8, 0]), ([0, 0], [0xff, 0xff])] {
            for c in special {
                assert_eq!(
                    Delta::of(&o, &n).apply(ck, c, 2),
                    bytewise(ck, c, 2, &o, &n)
                );
                assert_eq!(
                    Delta::of(&o, &n).apply(ck, c, 3),
                    bytewise(ck, c, 3, &o, &n)
                );
            }
        }
    }

    fn verify(data: &[u8]) -> bool {
        sum(data) == 0xffff
    }

    #[test]
    fn unaligned_write_keeps_the_checksum() {
        let mut rng = 0x0123_4567_89ab_cdefu64;
        for _ in 0..2000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let mut data: Vec<u8> = (0..41).map(|i| (rng >> (i % 57)) as u8).collect();
            data[0] = 0;
            data[1] = 0;
            let c = finish(sum(&data));
            data[0..2].copy_from_slice(&c.to_be_bytes());
            assert!(verify(&data));
            let off = 2 + (rng % 30) as usize;
            let len = 1 + (rng >> 40) as usize % 8;
            let new: Vec<u8> = (0..len).map(|i| (rng >> (i * 3)) as u8 ^ 0x5a).collect();
            let ck = Ck {
                off: 0,
                base: 0,
                udp: false,
            };
            write(&mut data, off, &new, &[ck], None).unwrap();
            assert_eq!(&data[off..off + len], &new[..]);
            assert!(verify(&data), "off {off} len {len}");
        }
    }

    #[test]
    fn udp_zero_stays_zero_and_short_frames_are_refused() {
        let mut d = [0u8, 0, 1, 2, 3, 4];
        let ck = Ck {
            off: 0,
            base: 0,
            udp: true,
        };
        write(&mut d, 2, &[9, 9], &[ck], None).unwrap();
        assert_eq!(d, [0, 0, 9, 9, 3, 4]);
        assert_eq!(write(&mut d, 5, &[1, 1], &[ck], None), Err(Reason::Short));
        let far = Ck {
            off: 10,
            base: 0,
            udp: false,
        };
        assert_eq!(write(&mut d, 2, &[1, 1], &[far], None), Err(Reason::Short));
        assert_eq!(d, [0, 0, 9, 9, 3, 4]);
    }
}
