//! Cutting a reassembled IPv6 packet back into fragments on output
//! (pf's `pf_refragment6` over the kernel's `ip6_fragment`).
//!
//! pf reassembles IPv6 to filter the whole datagram, then must not send
//! something the source never sent: a datagram larger than the path
//! may take, which a router on it answers with Packet Too Big (to a
//! source that already fragmented). So the reassembled packet carries
//! pf's tag (`PACKET_TAG_PF_REASSEMBLED`: the largest fragment, the
//! unfragmentable part) and leaves as fragments no larger than the
//! largest one that came in, each with a fragment header, even when
//! there was a single fragment.
//!
//! The fragments keep the source's fragment identification, as
//! FreeBSD's pf does (`ft_id`); OpenBSD's `ip6_fragment` draws a new
//! one. Keeping it makes the firewall invisible in the ident and cannot
//! collide with another of the source's datagrams in flight.

use super::parse::IPV6_HDR;
use crate::wire::ipv6::{nh, FragRepr, FRAG_HEADER_LEN};

/// What pf records on a reassembled IPv6 packet (`struct
/// pf_fragment_tag`), all that refragmenting it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Refrag {
    /// The largest fragment payload that came in (`ft_maxlen`); each
    /// fragment sent carries at most this much, rounded down to 8.
    pub max_frag_len: u16,
    /// The unfragmentable part every fragment repeats: the IPv6 header
    /// and the extension headers before the fragment header
    /// (`ft_hdrlen`).
    pub hdr_len: u16,
    /// Offset of the last of those extension headers, whose next-header
    /// byte becomes the fragment header's (`ft_extoff`); `None` when
    /// the fragment header follows the IPv6 header.
    pub ext_off: Option<u16>,
    /// The fragment identification the source used.
    pub ident: u32,
}

/// Why a packet could not be cut into fragments. The caller drops it
/// and counts the drop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RefragError {
    /// Not an IPv6 packet, shorter than its payload length says, or the
    /// tag's headers do not fit it.
    #[error("not an IPv6 packet the fragment tag fits")]
    Malformed,
    /// Fragments of less than 8 bytes of payload (`ip6_fragment`'s
    /// `EMSGSIZE`): the largest fragment seen was under 8 bytes, or the
    /// link cannot carry the headers plus 8 bytes.
    #[error("fragments would carry less than 8 bytes")]
    TooSmall,
    /// Nothing after the unfragmentable part.
    #[error("no fragmentable part")]
    Empty,
}

impl Refrag {
    /// The size of the largest fragment [`refragment6`] makes of a
    /// packet of `ip_len` bytes: what must fit the egress MTU.
    pub fn largest_fragment(&self, ip_len: usize) -> usize {
        let hdr = usize::from(self.hdr_len);
        let data = ip_len.saturating_sub(hdr);
        hdr + FRAG_HEADER_LEN + data.min(usize::from(self.max_frag_len) & !7)
    }
}

/// Cut `ip`, a whole IPv6 packet as pf reassembled (and maybe
/// translated) it, into the fragments pf sends (`pf_refragment6`):
/// `tag.max_frag_len` rounded down to 8 bytes of payload in each but
/// the last, offsets in 8-byte units, M set on all but the last, the
/// source's ident.
pub fn refragment6(ip: &[u8], tag: &Refrag) -> Result<Vec<Vec<u8>>, RefragError> {
    let piece = usize::from(tag.max_frag_len) & !7;
    split6(ip, usize::from(tag.hdr_len), tag.ext_off, piece, tag.ident)
}

/// Split `ip` after its first `hdr_len` bytes (the unfragmentable part)
/// into fragments of `piece` bytes of payload (a multiple of 8), each
/// behind a copy of those headers and a fragment header with `ident`.
/// The next header of the header at `ext_off` (the IPv6 header's when
/// `None`) becomes the fragment header; its old value goes into the
/// fragment header.
pub(crate) fn split6(
    ip: &[u8],
    hdr_len: usize,
    ext_off: Option<u16>,
    piece: usize,
    ident: u32,
) -> Result<Vec<Vec<u8>>, RefragError> {
    if piece < 8 || !piece.is_multiple_of(8) {
        return Err(RefragError::TooSmall);
    }
    if ip.len() < IPV6_HDR || ip.first().map(|b| b >> 4) != Some(6) {
        return Err(RefragError::Malformed);
    }
    let plen = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
    let ip = ip.get(..IPV6_HDR + plen).ok_or(RefragError::Malformed)?;
    if hdr_len < IPV6_HDR || hdr_len > ip.len() {
        return Err(RefragError::Malformed);
    }
    // The byte holding the next header the fragment header takes over.
    let nxt_at = match ext_off {
        None => 6,
        Some(o) if usize::from(o) >= IPV6_HDR && usize::from(o) < hdr_len => usize::from(o),
        Some(_) => return Err(RefragError::Malformed),
    };
    let (unfrag, data) = ip.split_at(hdr_len);
    if data.is_empty() {
        return Err(RefragError::Empty);
    }
    let proto = unfrag[nxt_at];
    let mut out = Vec::with_capacity(data.len().div_ceil(piece));
    for (i, chunk) in data.chunks(piece).enumerate() {
        let off = i * piece;
        let fr = FragRepr {
            next_header: proto,
            // below the 64 KiB payload limit: `data` came from one
            // IPv6 packet
            frag_offset: off as u16,
            more_frags: off + chunk.len() < data.len(),
            ident,
        };
        let mut f = Vec::with_capacity(hdr_len + FRAG_HEADER_LEN + chunk.len());
        f.extend_from_slice(unfrag);
        f[nxt_at] = nh::FRAGMENT;
        let plen = u16::try_from(hdr_len - IPV6_HDR + FRAG_HEADER_LEN + chunk.len())
            .map_err(|_| RefragError::Malformed)?;
        f[4..6].copy_from_slice(&plen.to_be_bytes());
        f.resize(hdr_len + FRAG_HEADER_LEN, 0);
        fr.emit(&mut f[hdr_len..]);
        f.extend_from_slice(chunk);
        out.push(f);
    }
    Ok(out)
}

/// [`refragment6`] on a frame: the IPv6 packet at `l3_off`, each
/// fragment behind a copy of the link header before it.
pub fn refragment_frame(
    frame: &[u8],
    l3_off: usize,
    tag: &Refrag,
) -> Result<Vec<Vec<u8>>, RefragError> {
    let (link, ip) = (
        frame.get(..l3_off).ok_or(RefragError::Malformed)?,
        frame.get(l3_off..).ok_or(RefragError::Malformed)?,
    );
    Ok(refragment6(ip, tag)?
        .into_iter()
        .map(|f| {
            let mut out = Vec::with_capacity(link.len() + f.len());
            out.extend_from_slice(link);
            out.extend_from_slice(&f);
            out
        })
        .collect())
}
