//! Fragmentation on output. IPv4 (RFC 791 3.2, the kernel's
//! `ip_fragment`): pieces of the payload in multiples of 8 bytes, each
//! with a copy of the header. Options without the copy flag appear in
//! the first fragment only; later ones carry NOPs in their place, as
//! Linux's `ip_options_fragment` does, so every header keeps its length.
//! IPv6: the router's own packets (`ip6_fragment`), and the packets pf
//! reassembled, cut back into the fragments they came as
//! (`pf_refragment6`, see [`crate::frag::refragment6`]).

use super::stats::Drop;
use crate::frag::{Refrag, RefragError};
use crate::wire::ipv4::{Ipv4Packet, MF, OFFMASK};
use crate::wire::ipv6::{self, is_ext, Ipv6Packet, FRAG_HEADER_LEN};

/// The copy flag of an option type.
const COPIED: u8 = 0x80;

/// The header of later fragments: options without the copy flag
/// replaced by NOPs. `None` for an option list that does not parse.
fn later_header(h: &[u8]) -> Option<Vec<u8>> {
    let mut out = h.to_vec();
    let mut off = crate::wire::ipv4::HEADER_LEN;
    while off < out.len() {
        let t = *out.get(off)?;
        match t {
            0 => break,
            1 => {
                off += 1;
                continue;
            }
            _ => {}
        }
        let len = usize::from(*out.get(off + 1)?);
        if len < 2 {
            return None;
        }
        let o = out.get_mut(off..off.checked_add(len)?)?;
        if t & COPIED == 0 {
            o.fill(1);
        }
        off += len;
    }
    Some(out)
}

/// Split `pkt` (a whole IPv4 packet, DF clear) into fragments of at
/// most `mtu` bytes. A fragment is split further with offsets relative
/// to its own; the last piece keeps its more-fragments flag.
pub fn fragment_v4(pkt: &[u8], mtu: usize) -> Result<Vec<Vec<u8>>, Drop> {
    let p = Ipv4Packet::new_checked(pkt).map_err(|_| Drop::Malformed)?;
    let hl = p.header_len();
    let total = usize::from(p.total_len());
    if total <= mtu {
        return Ok(vec![pkt.get(..total).ok_or(Drop::Malformed)?.to_vec()]);
    }
    let step = mtu.checked_sub(hl).ok_or(Drop::CantFrag)? & !7;
    if step == 0 {
        return Err(Drop::CantFrag);
    }
    let first_h = pkt.get(..hl).ok_or(Drop::Malformed)?;
    let later_h = later_header(first_h).ok_or(Drop::Malformed)?;
    let payload = p.payload();
    let base = usize::from(p.frag_word() & OFFMASK) * 8;
    let orig_mf = p.more_frags();
    let flags_keep = p.frag_word() & !(OFFMASK | MF);
    let mut out = Vec::with_capacity(payload.len() / step + 1);
    for (i, piece) in payload.chunks(step).enumerate() {
        let h = if i == 0 { first_h } else { &later_h[..] };
        let off = base + i * step;
        if off / 8 > usize::from(OFFMASK) {
            return Err(Drop::CantFrag);
        }
        let last = (i + 1) * step >= payload.len();
        let mut word = flags_keep | (off / 8) as u16;
        if !last || orig_mf {
            word |= MF;
        }
        let mut f = Vec::with_capacity(hl + piece.len());
        f.extend_from_slice(h);
        f.extend_from_slice(piece);
        let mut fp = Ipv4Packet::new_unchecked(&mut f[..]);
        // hl + piece fit in mtu, itself a u16 interface MTU.
        fp.set_total_len((hl + piece.len()) as u16);
        fp.set_frag_word(word);
        fp.fill_checksum();
        out.push(f);
    }
    Ok(out)
}

/// Split a packet the router itself sends (`ip6_fragment` from
/// `ip6_output`: an echo reply larger than the egress MTU) into
/// fragments of at most `mtu` bytes with fragment identification
/// `ident`. Routers never fragment what they forward (RFC 8200 5), except
/// what pf reassembled ([`refragment_v6`]); the
/// router's own packets carry no extension headers, and one that does
/// is refused rather than split in the wrong place.
pub fn fragment_v6(pkt: &[u8], mtu: usize, ident: u32) -> Result<Vec<Vec<u8>>, Drop> {
    let p = Ipv6Packet::new_checked(pkt).map_err(|_| Drop::Malformed)?;
    if is_ext(p.next_header()) {
        return Err(Drop::CantFrag);
    }
    let piece = mtu
        .checked_sub(ipv6::HEADER_LEN + FRAG_HEADER_LEN)
        .ok_or(Drop::CantFrag)?
        & !7;
    crate::frag::split6(pkt, ipv6::HEADER_LEN, None, piece, ident).map_err(refrag_drop)
}

/// A reassembled IPv6 packet pf passed, cut back into fragments no
/// larger than the largest that came in (`pf_refragment6`); see
/// [`crate::frag::refragment6`]. Whether each fits the egress MTU is
/// the caller's check, as `ip6_forward` makes it per fragment.
pub fn refragment_v6(pkt: &[u8], tag: &Refrag) -> Result<Vec<Vec<u8>>, Drop> {
    crate::frag::refragment6(pkt, tag).map_err(refrag_drop)
}

fn refrag_drop(e: RefragError) -> Drop {
    match e {
        RefragError::TooSmall => Drop::CantFrag,
        _ => Drop::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ipv4::{Ipv4Options, Ipv4Repr};

    fn packet(len: usize, opts: &[u8], frag: u16, mf: bool) -> Vec<u8> {
        let r = Ipv4Repr {
            src: [192, 0, 2, 1].into(),
            dst: [198, 51, 100, 2].into(),
            protocol: 17,
            tos: 0,
            ttl: 63,
            ident: 0x1234,
            dont_frag: false,
            more_frags: mf,
            frag_offset: frag,
            payload_len: len as u16,
            options: Ipv4Options::new(opts).unwrap(),
        };
        let mut b = vec![0u8; r.buffer_len()];
        r.emit(&mut b);
        let hl = r.header_len();
        for (i, x) in b[hl..].iter_mut().enumerate() {
            *x = i as u8;
        }
        b
    }

    fn reassemble(frags: &[Vec<u8>]) -> Vec<u8> {
        let mut data = Vec::new();
        for f in frags {
            let p = Ipv4Packet::new_checked(&f[..]).unwrap();
            assert!(p.verify_checksum());
            assert_eq!(usize::from(p.frag_offset()), data.len());
            data.extend_from_slice(p.payload());
        }
        data
    }

    #[test]
    fn splits_on_8_byte_boundaries() {
        let p = packet(3000, &[], 0, false);
        let f = fragment_v4(&p, 1500).unwrap();
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].len(), 20 + 1480);
        assert_eq!(f[1].len(), 20 + 1480);
        assert_eq!(f[2].len(), 20 + 40);
        for x in &f[..2] {
            assert!(Ipv4Packet::new_checked(&x[..]).unwrap().more_frags());
        }
        let last = Ipv4Packet::new_checked(&f[2][..]).unwrap();
        assert!(!last.more_frags());
        assert_eq!(last.ident(), 0x1234);
        assert_eq!(reassemble(&f), &p[20..]);
        // an odd MTU rounds the piece down
        let g = fragment_v4(&p, 1001).unwrap();
        assert_eq!(g[0].len(), 20 + 976);
    }

    #[test]
    fn refragmenting_a_fragment_keeps_offsets_and_mf() {
        let p = packet(992, &[], 800, true);
        let f = fragment_v4(&p, 520).unwrap();
        assert_eq!(f.len(), 2);
        let a = Ipv4Packet::new_checked(&f[0][..]).unwrap();
        let b = Ipv4Packet::new_checked(&f[1][..]).unwrap();
        assert_eq!((a.frag_offset(), b.frag_offset()), (800, 1296));
        assert!(a.more_frags() && b.more_frags());
    }

    #[test]
    fn uncopied_options_become_nops_in_later_fragments() {
        // record route (7, not copied) then a copied option (0x83,
        // loose source route) padded with EOL
        let opts = [7, 7, 4, 0, 0, 0, 0, 0x83, 7, 4, 1, 2, 3, 4, 0, 0];
        let p = packet(100, &opts, 0, false);
        let f = fragment_v4(&p, 36 + 48).unwrap();
        assert_eq!(&f[0][20..36], &opts);
        assert_eq!(
            &f[1][20..36],
            &[1, 1, 1, 1, 1, 1, 1, 0x83, 7, 4, 1, 2, 3, 4, 0, 0]
        );
        assert_eq!(reassemble(&f), &p[36..]);
    }

    #[test]
    fn cannot_fragment() {
        let p = packet(100, &[], 0, false);
        assert_eq!(fragment_v4(&p, 27), Err(Drop::CantFrag));
        assert_eq!(fragment_v4(&p, 10), Err(Drop::CantFrag));
        assert_eq!(fragment_v4(&p[..30], 28), Err(Drop::Malformed));
        assert_eq!(fragment_v4(&p, 2000).unwrap(), vec![p.clone()]);
    }

    #[test]
    fn v6_refusals() {
        let r = crate::wire::ipv6::Ipv6Repr {
            src: "2001:db8::1".parse().unwrap(),
            dst: "2001:db8::2".parse().unwrap(),
            next_header: 17,
            payload_len: 100,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
        };
        let mut b = vec![0u8; r.buffer_len()];
        r.emit(&mut b);
        assert_eq!(fragment_v6(&b, 55, 1), Err(Drop::CantFrag));
        assert_eq!(fragment_v6(&b, 56, 1).unwrap().len(), 13);
        assert_eq!(fragment_v6(&b[..100], 1280, 1), Err(Drop::Malformed));
        b[6] = crate::wire::ipv6::nh::HOPOPTS;
        assert_eq!(fragment_v6(&b, 80, 1), Err(Drop::CantFrag));
    }
}
