//! Building the reassembled packet from a queue without holes (pf's
//! `pf_join_fragment` and the header fix-ups after it).

use super::parse::{Family, IPV6_FRAG_HDR, IPV6_HDR};
use super::queue::FragQueue;
use super::Reassembled;
use crate::reason::Reason;
use crate::wire::checksum;

const IP_MAXPACKET: usize = 65_535;
const IP_DF: u16 = 0x4000;

/// Join `q` (complete: its first fragment is at offset 0).
pub(super) fn join(
    family: Family,
    q: &FragQueue,
    maxlen: u16,
    ident: u32,
) -> Result<Reassembled, Reason> {
    let first = q.first().ok_or(Reason::Fragment)?;
    let hdr = first.hdr.as_deref().ok_or(Reason::Fragment)?;
    let total = q.last().map_or(0, |l| l.end()) as usize;
    match family {
        Family::V4 => join_v4(q, hdr, total, maxlen, ident),
        Family::V6 => join_v6(q, hdr, first.extoff, total, maxlen, ident),
    }
}

fn append_payloads(out: &mut Vec<u8>, q: &FragQueue) {
    for f in q.iter() {
        out.extend_from_slice(f.payload());
    }
}

fn join_v4(
    q: &FragQueue,
    hdr: &[u8],
    total: usize,
    maxlen: u16,
    ident: u32,
) -> Result<Reassembled, Reason> {
    let hlen = hdr.len();
    let len = hlen + total;
    if len > IP_MAXPACKET {
        return Err(Reason::Short);
    }
    let mut p = Vec::with_capacity(len);
    p.extend_from_slice(hdr);
    append_payloads(&mut p, q);
    let ip_off = match (p.get(6), p.get(7)) {
        (Some(&h), Some(&l)) => u16::from_be_bytes([h, l]),
        _ => return Err(Reason::Short),
    };
    // pf clears MF and the offset, then keeps only DF (pf_normalize_ip's
    // "only IP_DF is allowed in ip_off").
    let fields = [
        (2, (len as u16).to_be_bytes()),
        (6, (ip_off & IP_DF).to_be_bytes()),
        (10, [0, 0]),
    ];
    for (at, v) in fields {
        p.get_mut(at..at + 2)
            .ok_or(Reason::Short)?
            .copy_from_slice(&v);
    }
    let c = checksum::finish(checksum::sum(p.get(..hlen).ok_or(Reason::Short)?));
    p.get_mut(10..12)
        .ok_or(Reason::Short)?
        .copy_from_slice(&c.to_be_bytes());
    Ok(Reassembled {
        packet: p,
        max_frag_len: maxlen,
        hdr_len: hlen as u16,
        ext_off: None,
        ident,
    })
}

fn join_v6(
    q: &FragQueue,
    hdr: &[u8],
    extoff: u16,
    total: usize,
    maxlen: u16,
    ident: u32,
) -> Result<Reassembled, Reason> {
    // The unfragmentable part: everything before the fragment header.
    let unfrag = hdr.len().checked_sub(IPV6_FRAG_HDR).ok_or(Reason::Short)?;
    let proto = *hdr.get(unfrag).ok_or(Reason::Short)?;
    let plen = (unfrag + total)
        .checked_sub(IPV6_HDR)
        .ok_or(Reason::Short)?;
    if plen > IP_MAXPACKET {
        return Err(Reason::Short);
    }
    let mut p = Vec::with_capacity(unfrag + total);
    p.extend_from_slice(hdr.get(..unfrag).ok_or(Reason::Short)?);
    append_payloads(&mut p, q);
    p.get_mut(4..6)
        .ok_or(Reason::Short)?
        .copy_from_slice(&(plen as u16).to_be_bytes());
    let nxt_at = if extoff != 0 { usize::from(extoff) } else { 6 };
    *p.get_mut(nxt_at).ok_or(Reason::Short)? = proto;
    Ok(Reassembled {
        packet: p,
        max_frag_len: maxlen,
        hdr_len: u16::try_from(unfrag).map_err(|_| Reason::Short)?,
        ext_off: (extoff != 0).then_some(extoff),
        ident,
    })
}
