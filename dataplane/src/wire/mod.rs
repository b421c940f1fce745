//! Wire formats: zero-copy views over received bytes (`Packet<T>` with
//! `new_checked`) and a `Repr` with `parse`/`buffer_len`/`emit` per
//! header, as smoltcp's `wire` module does.
//!
//! `new_checked` is for received bytes; `new_unchecked` for buffers the
//! caller built itself. Accessors never panic either way: a field the
//! buffer is too short for reads as zero.
//!
//! On top of the headers: [`frame::parse_frame`] turns a frame into pf's
//! packet descriptor, [`icmp_map`] is pf's ICMP query/reply mapping, and
//! [`build`] makes the resets and ICMP errors of `block return`.

use std::net::IpAddr;

pub mod arp;
pub mod build;
pub mod checksum;
pub mod ethernet;
pub mod frame;
pub mod icmp;
pub mod icmp_map;
pub mod icmpv6;
pub mod ipv4;
pub mod ipv6;
pub mod tcp;
pub mod udp;

#[cfg(test)]
pub(crate) mod fixtures;

/// Why a buffer is not a valid header of the kind asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WireError {
    /// The buffer ends before the header (or the length it declares).
    Truncated,
    /// A field holds a value the format forbids (version, header length
    /// shorter than the fixed part, a length smaller than the header).
    Malformed,
    /// A well-formed header of a variant this module does not handle
    /// (ARP for another hardware or protocol type).
    Unsupported,
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WireError::Truncated => "buffer shorter than the header says",
            WireError::Malformed => "header field out of range",
            WireError::Unsupported => "header variant not handled",
        })
    }
}

impl std::error::Error for WireError {}

/// Big-endian reads at a fixed offset of a slice already known to be
/// long enough; a short slice reads as zero rather than panicking, so a
/// view built with `new_unchecked` over a short buffer returns garbage,
/// never a crash.
#[inline]
pub(crate) fn be16(b: &[u8], off: usize) -> u16 {
    match b.get(off..off + 2) {
        Some(s) => u16::from_be_bytes([s[0], s[1]]),
        None => 0,
    }
}

#[inline]
pub(crate) fn be32(b: &[u8], off: usize) -> u32 {
    match b.get(off..off + 4) {
        Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

#[inline]
pub(crate) fn byte(b: &[u8], off: usize) -> u8 {
    b.get(off).copied().unwrap_or(0)
}

#[inline]
pub(crate) fn array<const N: usize>(b: &[u8], off: usize) -> [u8; N] {
    let mut a = [0u8; N];
    if let Some(s) = b.get(off..off + N) {
        a.copy_from_slice(s);
    }
    a
}

/// Writes at a fixed offset; out-of-range writes are dropped (the
/// buffer was sized by `buffer_len`, so they do not happen in practice).
#[inline]
pub(crate) fn put(b: &mut [u8], off: usize, v: &[u8]) {
    if let Some(s) = b.get_mut(off..off + v.len()) {
        s.copy_from_slice(v);
    }
}

/// Ones'-complement sum of an upper-layer segment plus its pseudo-header.
/// A mixed-family address pair sums the segment alone (and so fails).
pub(crate) fn l4_sum(seg: &[u8], src: IpAddr, dst: IpAddr, proto: u8) -> u16 {
    let len = seg.len();
    let ph = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            checksum::pseudo_v4(s.octets(), d.octets(), proto, len.min(0xffff) as u16)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => checksum::pseudo_v6(
            s.octets(),
            d.octets(),
            proto,
            len.min(u32::MAX as usize) as u32,
        ),
        _ => 0,
    };
    checksum::combine(&[ph, checksum::sum(seg)])
}
