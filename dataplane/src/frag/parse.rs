//! The few IP header fields reassembly needs, read with bounds checks
//! (pf's `pf_setup_pdesc`/`pf_walk_header6` steps that decide whether a
//! packet is a fragment and where its fragmentable part starts).

use crate::reason::Reason;

pub(super) const IPV4_MIN_HDR: usize = 20;
pub(super) const IPV6_HDR: usize = 40;
pub(super) const IPV6_FRAG_HDR: usize = 8;

const IP_DF: u16 = 0x4000;
const IP_MF: u16 = 0x2000;
const IP_OFFMASK: u16 = 0x1fff;

const IPPROTO_HOPOPTS: u8 = 0;
const IPPROTO_ROUTING: u8 = 43;
const IPPROTO_FRAGMENT: u8 = 44;
const IPPROTO_AH: u8 = 51;
const IPPROTO_DSTOPTS: u8 = 60;

/// pf's `pf_hdr_limit`: how many IPv6 extension headers it walks.
const HDR_LIMIT: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Family {
    V4,
    V6,
}

/// One fragment as pf's `struct pf_frent` sees it, borrowing the bytes.
#[derive(Debug)]
pub(super) struct Fragment<'a> {
    pub family: Family,
    pub src: [u8; 16],
    pub dst: [u8; 16],
    /// IPv4 `ip_p`; 0 for IPv6, where only the first fragment's next
    /// header counts.
    pub proto: u8,
    pub id: u32,
    /// Offset of the payload in the original packet (`fe_off`).
    pub off: u16,
    /// Payload length (`fe_len`).
    pub len: u16,
    pub mff: bool,
    /// Everything before the payload: the IPv4 header with options, or
    /// the IPv6 header, extension headers and fragment header
    /// (`fe_hdrlen` bytes).
    pub hdr: &'a [u8],
    /// IPv6: offset of the last extension header before the fragment
    /// header (`fe_extoff`), 0 when there is none.
    pub extoff: u16,
    /// Exactly `len` bytes.
    pub payload: &'a [u8],
}

pub(super) enum Classified<'a> {
    NotFragment,
    Fragment(Fragment<'a>),
}

fn be16(b: &[u8], at: usize) -> Result<u16, Reason> {
    match (b.get(at), b.get(at.wrapping_add(1))) {
        (Some(&h), Some(&l)) => Ok(u16::from_be_bytes([h, l])),
        _ => Err(Reason::Short),
    }
}

fn byte(b: &[u8], at: usize) -> Result<u8, Reason> {
    b.get(at).copied().ok_or(Reason::Short)
}

fn addr16(b: &[u8], at: usize, n: usize) -> Result<[u8; 16], Reason> {
    let s = b.get(at..at.wrapping_add(n)).ok_or(Reason::Short)?;
    let mut out = [0u8; 16];
    out.get_mut(..n).ok_or(Reason::Short)?.copy_from_slice(s);
    Ok(out)
}

/// Is the packet at `frame[l3_off..]` a fragment, and of what? `no_df`
/// is `set reassemble yes no-df`: a fragment with DF set is then
/// reassembled instead of dropped.
pub(super) fn classify(frame: &[u8], l3_off: usize, no_df: bool) -> Result<Classified<'_>, Reason> {
    let ip = frame.get(l3_off..).ok_or(Reason::Short)?;
    match byte(ip, 0)? >> 4 {
        4 => classify_v4(ip, no_df),
        6 => classify_v6(ip),
        // Not IP at all: the header cannot be normalised.
        _ => Err(Reason::Normalize),
    }
}

fn classify_v4(ip: &[u8], no_df: bool) -> Result<Classified<'_>, Reason> {
    if ip.len() < IPV4_MIN_HDR {
        return Err(Reason::Short);
    }
    let hlen = usize::from(byte(ip, 0)? & 0x0f) * 4;
    let ip_len = usize::from(be16(ip, 2)?);
    if ip.len() < ip_len || hlen < IPV4_MIN_HDR || hlen > ip_len {
        return Err(Reason::Short);
    }
    let ip_off = be16(ip, 6)?;
    // IP_OFFMASK << 3 is at most 65528: fits.
    let off = (ip_off & IP_OFFMASK) << 3;
    let mff = ip_off & IP_MF != 0;
    if off == 0 && !mff {
        return Ok(Classified::NotFragment);
    }
    // pf_normalize_ip: a fragment may not carry DF, unless no-df clears
    // it (the caller clears it in the header it keeps).
    if ip_off & IP_DF != 0 && !no_df {
        return Err(Reason::Fragment);
    }
    let payload = ip.get(hlen..ip_len).ok_or(Reason::Short)?;
    let hdr = ip.get(..hlen).ok_or(Reason::Short)?;
    Ok(Classified::Fragment(Fragment {
        family: Family::V4,
        src: addr16(ip, 12, 4)?,
        dst: addr16(ip, 16, 4)?,
        proto: byte(ip, 9)?,
        id: u32::from(be16(ip, 4)?),
        off,
        // ip_len <= 65535, so the payload length fits.
        len: payload.len() as u16,
        mff,
        hdr,
        extoff: 0,
        payload,
    }))
}

fn ext_len(ip: &[u8], at: usize, nxt: u8) -> Result<usize, Reason> {
    let l = usize::from(byte(ip, at + 1)?);
    Ok(if nxt == IPPROTO_AH {
        (l + 2) * 4
    } else {
        (l + 1) * 8
    })
}

fn classify_v6(ip: &[u8]) -> Result<Classified<'_>, Reason> {
    if ip.len() < IPV6_HDR {
        return Err(Reason::Short);
    }
    let end = IPV6_HDR + usize::from(be16(ip, 4)?);
    let ip = ip.get(..end).ok_or(Reason::Short)?;
    let mut nxt = byte(ip, 6)?;
    let mut at = IPV6_HDR;
    let mut extoff = 0usize;
    let mut seen_atomic = false;
    for _ in 0..HDR_LIMIT {
        match nxt {
            IPPROTO_FRAGMENT => {
                if seen_atomic {
                    return Err(Reason::Fragment);
                }
                if at + IPV6_FRAG_HDR > end {
                    return Err(Reason::Short);
                }
                let offlg = be16(ip, at + 2)?;
                let off = offlg & 0xfff8;
                let mff = offlg & 1 != 0;
                if off == 0 && !mff {
                    // RFC 6946: an atomic fragment is not reassembled;
                    // pf walks on past its fragment header.
                    seen_atomic = true;
                    nxt = byte(ip, at)?;
                    at += IPV6_FRAG_HDR;
                    continue;
                }
                if off == 0 {
                    check_no_second_fraghdr(ip, at + IPV6_FRAG_HDR, byte(ip, at)?)?;
                }
                let hdrlen = at + IPV6_FRAG_HDR;
                let id = u32::from_be_bytes([
                    byte(ip, at + 4)?,
                    byte(ip, at + 5)?,
                    byte(ip, at + 6)?,
                    byte(ip, at + 7)?,
                ]);
                let payload = ip.get(hdrlen..).ok_or(Reason::Short)?;
                return Ok(Classified::Fragment(Fragment {
                    family: Family::V6,
                    src: addr16(ip, 8, 16)?,
                    dst: addr16(ip, 24, 16)?,
                    proto: 0,
                    id,
                    off,
                    // end <= 65575 and hdrlen >= 48: fits.
                    len: payload.len() as u16,
                    mff,
                    hdr: ip.get(..hdrlen).ok_or(Reason::Short)?,
                    // hdrlen < 65575, and extoff < hdrlen - 8.
                    extoff: extoff as u16,
                    payload,
                }));
            }
            IPPROTO_HOPOPTS | IPPROTO_ROUTING | IPPROTO_DSTOPTS | IPPROTO_AH => {
                if at + 2 > end {
                    return Err(Reason::Short);
                }
                // Reassembly rewrites the next-header field of the last
                // extension header before the fragment header.
                if !seen_atomic {
                    extoff = at;
                }
                let len = ext_len(ip, at, nxt)?;
                nxt = byte(ip, at)?;
                at += len;
            }
            _ => return Ok(Classified::NotFragment),
        }
    }
    // pf_walk_header6: "IPv6 nested extension header limit".
    Err(Reason::IpOption)
}

/// pf walks on past a first fragment's header and drops the packet if a
/// second fragment header follows; headers cut short by the fragment
/// end the walk without error ("fragments may be short").
fn check_no_second_fraghdr(ip: &[u8], mut at: usize, mut nxt: u8) -> Result<(), Reason> {
    for _ in 0..HDR_LIMIT {
        match nxt {
            IPPROTO_FRAGMENT => return Err(Reason::Fragment),
            IPPROTO_HOPOPTS | IPPROTO_ROUTING | IPPROTO_DSTOPTS | IPPROTO_AH => {
                let need = if nxt == IPPROTO_ROUTING { 4 } else { 2 };
                if at + need > ip.len() {
                    return Ok(());
                }
                let len = ext_len(ip, at, nxt)?;
                nxt = byte(ip, at)?;
                at += len;
            }
            _ => return Ok(()),
        }
    }
    Err(Reason::IpOption)
}
