//! IPv4 and IPv6 fragment reassembly before filtering, as pf's
//! `pf_norm.c` does it (`pf_reassemble`, `pf_reassemble6`,
//! `pf_fillup_fragment`, `pf_join_fragment`):
//!
//! - fragments are queued per (family, protocol, direction, source,
//!   destination) and IP id; a packet completes when its queue has no
//!   holes;
//! - IPv4 overlaps are trimmed (the data already held wins; a fragment
//!   wholly covered is dropped), while any IPv6 overlap discards the
//!   whole datagram (RFC 5722);
//! - fragments of length 0, non-final fragments not a multiple of 8,
//!   fragments past 65535, fragments contradicting the known end, and
//!   IPv4 fragments with DF (unless `no-df`) are `Reason::Fragment`;
//! - at most 64 fragments per 4 KiB of offset space per packet; beyond
//!   that the packet is discarded (`Reason::Fragment`);
//! - `set limit frags` bounds the fragments held: at the limit the
//!   least recently used packets are flushed down to 90 % first, and
//!   only a limit of 0 refuses with `Reason::Memory`;
//! - `set timeout frag` bounds how long a packet may wait, and a packet
//!   older than `timeout * 200` newer packets of the same node is stale;
//! - a reassembled packet longer than 65535 bytes is `Reason::Short`;
//! - a reassembled IPv6 packet that passes leaves as fragments again
//!   (`pf_refragment6`): [`Reassembled::refrag`] is the tag the verdict
//!   carries ([`Verdict::refrag`](crate::engine::Verdict::refrag)),
//!   [`refragment6`] cuts the packet where it is sent (the router's
//!   transmit, `pfd replay --out`). IPv4 leaves whole, as in pf.
//!
//! The reassembler reads no clock: `now_ns` is passed in.

mod join;
mod parse;
mod queue;
mod reassembler;
mod refrag;

#[cfg(test)]
mod refrag_tests;
#[cfg(test)]
mod tests;

pub use reassembler::Reassembler;
pub(crate) use refrag::split6;
pub use refrag::{refragment6, refragment_frame, Refrag, RefragError};

use ruleset::ruleset::{DEFAULT_LIMITS, DEFAULT_TIMEOUTS};

/// Index of `frags` in `set limit` (pf's `PF_LIMIT_FRAGS`).
pub const LIMIT_FRAGS: usize = 2;
/// Index of `frag` in `set timeout` (pf's `PFTM_FRAG`).
pub const PFTM_FRAG: usize = 14;
/// pf's default `set timeout frag`, seconds.
pub const DEFAULT_TIMEOUT_S: u32 = DEFAULT_TIMEOUTS[PFTM_FRAG];
/// pf's default `set limit frags` (`PFFRAG_FRENT_HIWAT`).
pub const DEFAULT_LIMIT: u32 = DEFAULT_LIMITS[LIMIT_FRAGS];

/// What [`Reassembler::push`] did with a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FragResult {
    /// Not a fragment (or an IPv6 atomic fragment, which RFC 6946 says
    /// not to reassemble): filter it as it is. It was not modified.
    NotFragment,
    /// A fragment, now held; the caller drops its copy, no reason
    /// counted (pf returns PF_PASS with no packet).
    Held,
    /// An IPv4 fragment wholly covered by fragments already held: pf
    /// drops it without setting a `PFRES_*` reason, so nothing is
    /// counted.
    Duplicate,
    /// The last missing fragment: here is the whole packet, to filter
    /// in place of the fragment.
    Complete(Reassembled),
}

/// A reassembled packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reassembled {
    /// The IP packet from its IP header on (no link-layer header), with
    /// the headers of the fragment at offset 0. IPv4: total length set,
    /// MF and offset cleared, header checksum recomputed. IPv6: fragment
    /// header removed, its next header moved into the preceding header,
    /// payload length set.
    pub packet: Vec<u8>,
    /// The largest fragment payload seen (pf's `fr_maxlen`), which pf
    /// uses to refragment IPv6 on output.
    pub max_frag_len: u16,
    /// IPv6: length of the unfragmentable part (IPv6 header plus the
    /// extension headers before the fragment header), pf's `ft_hdrlen`;
    /// IPv4: the header length.
    pub hdr_len: u16,
    /// IPv6: offset of the last extension header before the removed
    /// fragment header (pf's `ft_extoff`), `None` when the fragment
    /// header followed the IPv6 header. Always `None` for IPv4.
    pub ext_off: Option<u16>,
    /// The IP identification the fragments shared (IPv4's 16 bits
    /// widened).
    pub ident: u32,
}

impl Reassembled {
    /// What an IPv6 packet must be refragmented by on output (pf's
    /// `PACKET_TAG_PF_REASSEMBLED`); `None` for IPv4, which pf forwards
    /// whole (the router fragments it if DF is clear).
    pub fn refrag(&self) -> Option<Refrag> {
        (self.packet.first().map(|b| b >> 4) == Some(6)).then_some(Refrag {
            max_frag_len: self.max_frag_len,
            hdr_len: self.hdr_len,
            ext_off: self.ext_off,
            ident: self.ident,
        })
    }
}

/// Gauges and event counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FragStats {
    /// Fragments held now (pf's `pf_status.fragments`, what `set limit
    /// frags` bounds).
    pub fragments: u32,
    /// Packets in reassembly now.
    pub packets: u32,
    /// Bytes of fragment data and headers held now. pf bounds only the
    /// fragment count (`set limit frags`); this shows what that costs.
    pub bytes: u64,
    /// Fragments queued while their packet still had holes.
    pub held: u64,
    /// Packets reassembled.
    pub completed: u64,
    /// Packets discarded by [`Reassembler::purge`] on timeout.
    pub timed_out: u64,
    /// Packets discarded as stale (too many newer packets of the same
    /// source, destination and protocol).
    pub stale: u64,
    /// IPv4 fragments dropped as wholly covered, plus IPv6 datagrams
    /// discarded for an overlap.
    pub dropped_overlap: u64,
    /// Packets flushed to make room at the `frags` limit.
    pub flushed_limit: u64,
    /// Fragments refused with `Reason::Memory` (a limit of 0).
    pub dropped_memory: u64,
    /// Fragments refused as malformed or inconsistent (`Reason::Fragment`
    /// other than overlaps).
    pub dropped_bad: u64,
    /// Reassembled packets over 65535 bytes (`Reason::Short`).
    pub too_big: u64,
}
