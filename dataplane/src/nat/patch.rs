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

/// `ck` after the bytes at `off` change from `old` to `new`.
fn updated(ck: Ck, cksum: u16, off: usize, old: &[u8], new: &[u8]) -> u16 {
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

/// Apply one data change to checksum `ck`; the checksum field itself is
/// covered by `cover` (an ICMP checksum over a quoted header), which is
/// updated for the field's own change.
fn fix(
    frame: &mut [u8],
    ck: Ck,
    off: usize,
    old: &[u8],
    new: &[u8],
    cover: Option<Ck>,
) -> Result<(), Reason> {
    let c = get16(frame, ck.off)?;
    if ck.udp && c == 0 {
        return Ok(());
    }
    let mut n = updated(ck, c, off, old, new);
    if ck.udp && n == 0 {
        n = 0xffff;
    }
    write(frame, ck.off, &n.to_be_bytes(), &[], cover)
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
    let end = off.checked_add(new.len()).ok_or(Reason::BadOffset)?;
    let mut old = [0u8; 16];
    let old = old.get_mut(..new.len()).ok_or(Reason::BadOffset)?;
    old.copy_from_slice(frame.get(off..end).ok_or(Reason::Short)?);
    if *old == *new {
        return Ok(());
    }
    // Check every checksum field first so a short frame is refused
    // before anything changes.
    for ck in direct.iter().chain(cover.iter()) {
        get16(frame, ck.off)?;
    }
    for &ck in direct {
        fix(frame, ck, off, old, new, cover)?;
    }
    if let Some(cv) = cover {
        fix(frame, cv, off, old, new, None)?;
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
