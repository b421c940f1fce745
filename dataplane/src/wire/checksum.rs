//! The Internet checksum (RFC 1071) and its incremental update (RFC 1624),
//! which translation uses to fix a checksum without reading the payload.

/// Ones'-complement sum of `data` (odd length padded with a zero byte),
/// folded to 16 bits, not complemented. Add partial sums with [`combine`].
pub fn sum(data: &[u8]) -> u16 {
    let mut acc: u64 = 0;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        // Add the two 32-bit halves separately so nothing overflows.
        acc += w >> 32;
        acc += w & 0xffff_ffff;
    }
    let rest = chunks.remainder();
    let mut pairs = rest.chunks_exact(2);
    for p in &mut pairs {
        acc += u64::from(u16::from_be_bytes([p[0], p[1]]));
    }
    if let [last] = pairs.remainder() {
        acc += u64::from(*last) << 8;
    }
    fold(acc)
}

fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    // The loop leaves acc <= 0xffff.
    acc as u16
}

/// Ones'-complement addition of partial sums.
pub fn combine(parts: &[u16]) -> u16 {
    fold(parts.iter().map(|&p| u64::from(p)).sum())
}

/// The checksum field value for data whose sum is `s`.
pub fn finish(s: u16) -> u16 {
    !s
}

/// Sum of the TCP/UDP/ICMPv6 pseudo-header for IPv4.
pub fn pseudo_v4(src: [u8; 4], dst: [u8; 4], proto: u8, len: u16) -> u16 {
    combine(&[sum(&src), sum(&dst), u16::from(proto), len])
}

/// Sum of the upper-layer pseudo-header for IPv6 (RFC 8200, 8.1).
pub fn pseudo_v6(src: [u8; 16], dst: [u8; 16], next_header: u8, len: u32) -> u16 {
    combine(&[
        sum(&src),
        sum(&dst),
        (len >> 16) as u16,
        (len & 0xffff) as u16,
        u16::from(next_header),
    ])
}

/// RFC 1624 eqn. 3: the new checksum field after a 16-bit word of the
/// covered data changes from `old` to `new`: HC' = ~(~HC + ~m + m').
#[inline]
pub fn update16(cksum: u16, old: u16, new: u16) -> u16 {
    let acc = u64::from(!cksum) + u64::from(!old) + u64::from(new);
    !fold(acc)
}

/// [`update16`] for a 32-bit value (an IPv4 address, a TCP sequence
/// number), word by word.
#[inline]
pub fn update32(cksum: u16, old: u32, new: u32) -> u16 {
    let c = update16(cksum, (old >> 16) as u16, (new >> 16) as u16);
    update16(c, old as u16, new as u16)
}

/// [`update16`] over equal-length byte strings (addresses of either
/// family). Lengths must be even; an odd trailing byte is ignored.
pub fn update_bytes(cksum: u16, old: &[u8], new: &[u8]) -> u16 {
    old.chunks_exact(2)
        .zip(new.chunks_exact(2))
        .fold(cksum, |c, (o, n)| {
            update16(
                c,
                u16::from_be_bytes([o[0], o[1]]),
                u16::from_be_bytes([n[0], n[1]]),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 1071 section 3 example: the words 0001 f203 f4f5 f6f7 sum to ddf2.
    #[test]
    fn rfc1071_example() {
        assert_eq!(
            sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0xddf2
        );
        assert_eq!(sum(&[0x00, 0x01, 0xf2]), 0xf201);
    }

    // A real IPv4 header (from Wikipedia's checksum example): c0a8 0001 ...
    #[test]
    fn ipv4_header_checksum() {
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        let c = finish(sum(&h));
        assert_eq!(c, 0xb861);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(sum(&h), 0xffff);
    }

    #[test]
    fn incremental_matches_full_recompute() {
        let mut rng = 0x1234_5678_9abc_def0_u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for _ in 0..10_000 {
            let mut data: Vec<u8> = (0..40).map(|_| next() as u8).collect();
            let c = finish(sum(&data));
            let i = (next() % 18) as usize * 2;
            let old = u32::from_be_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]);
            let new = next() as u32;
            data[i..i + 4].copy_from_slice(&new.to_be_bytes());
            let inc = update32(c, old, new);
            let full = finish(sum(&data));
            // 0x0000 and 0xffff are the same number in ones' complement.
            assert!(inc == full || (inc == 0xffff && full == 0) || (inc == 0 && full == 0xffff));
        }
    }
}
