//! pfsync v6 wire format: header, subheaders and the records they carry.
//!
//! Layouts follow OpenBSD's `if_pfsync.h` / `pfvar.h` byte for byte (spec
//! §2–§3). Every integer is big-endian and nothing is padded implicitly.
//! Headers are zero-copy views (`Header`, `Sections`); records are small
//! fixed-size structures, decoded whole into a `Repr` from a slice whose
//! length the section walk has already checked.

pub mod action;
pub mod bus;
pub mod clr;
pub mod header;
pub mod ids;
pub mod ip;
pub mod key;
pub mod packet;
pub mod peer;
pub mod section;
pub mod state;
pub mod upd_c;

#[cfg(test)]
mod golden;

pub use action::Action;
pub use header::{Header, HEADER_LEN, VERSION};
pub use packet::{PacketBuilder, PacketRepr, Section};
pub use section::{RawSection, SectionError, Sections, SUBHEADER_LEN};

/// OpenBSD's address-family numbers, as carried in keys and states.
/// Linux's AF_INET6 (10) would be wrong on the wire.
pub const AF_INET: u8 = 2;
pub const AF_INET6: u8 = 24;

/// Size of the IPv4 header the daemon puts in front of every packet; it
/// counts against the pfsync MTU (spec §1: "including the IPv4 header").
pub const IP_HEADER_LEN: usize = 20;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// Fewer bytes than the structure needs.
    #[error("truncated: {need} bytes needed, {have} present")]
    Truncated { need: usize, have: usize },
    /// The header's version is not 6.
    #[error("pfsync version {0}, expected 6")]
    BadVersion(u8),
    /// The header claims more bytes than arrived, or fewer than itself.
    #[error("header length {claimed} does not fit the {have} bytes received")]
    BadLength { claimed: usize, have: usize },
    /// A section could not be walked (unknown action without a size, or
    /// records running past the end).
    #[error(transparent)]
    Section(#[from] SectionError),
}

/// The first `N` bytes of `buf` as an array, or `Truncated`.
pub(crate) fn fixed<const N: usize>(buf: &[u8]) -> Result<&[u8; N], WireError> {
    buf.get(..N)
        .and_then(|s| <&[u8; N]>::try_from(s).ok())
        .ok_or(WireError::Truncated {
            need: N,
            have: buf.len(),
        })
}

/// Copy `N` bytes starting at `off` out of a fixed-size record.
/// Offsets are constants of the layout, checked by the golden tests.
pub(crate) fn take<const N: usize, const L: usize>(b: &[u8; L], off: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&b[off..off + N]);
    out
}

pub(crate) fn be16<const L: usize>(b: &[u8; L], off: usize) -> u16 {
    u16::from_be_bytes(take(b, off))
}

pub(crate) fn be32<const L: usize>(b: &[u8; L], off: usize) -> u32 {
    u32::from_be_bytes(take(b, off))
}

pub(crate) fn be64<const L: usize>(b: &[u8; L], off: usize) -> u64 {
    u64::from_be_bytes(take(b, off))
}
