//! pf_normalize_tcp: the flag sanity check pf runs on every TCP segment
//! (whole or reassembled) before the state lookup, scrub or no scrub.
//! Scans with impossible flag sets (null, xmas, FIN or URG without ACK,
//! SYN with RST) are dropped as `normalize`; what can be repaired is
//! repaired in place: FIN cleared on a SYN, the reserved bits zeroed, an
//! urgent pointer without URG cleared, with incremental checksum updates.

use crate::pdesc::{proto, Pdesc};
use crate::reason::Reason;
use crate::wire::checksum::update16;

const TH_FIN: u8 = 0x01;
const TH_SYN: u8 = 0x02;
const TH_RST: u8 = 0x04;
const TH_PUSH: u8 = 0x08;
const TH_ACK: u8 = 0x10;
const TH_URG: u8 = 0x20;

/// Offsets in the TCP header.
const OFF_X2: usize = 12;
const OFF_CKSUM: usize = 16;
const OFF_URP: usize = 18;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Set the word at `at` of the TCP header at `l4`, fixing its checksum.
fn patch(frame: &mut [u8], l4: usize, at: usize, new: u16) -> Option<()> {
    let old = be16(frame, l4 + at)?;
    let ck = be16(frame, l4 + OFF_CKSUM)?;
    frame
        .get_mut(l4 + at..l4 + at + 2)?
        .copy_from_slice(&new.to_be_bytes());
    frame
        .get_mut(l4 + OFF_CKSUM..l4 + OFF_CKSUM + 2)?
        .copy_from_slice(&update16(ck, old, new).to_be_bytes());
    Some(())
}

/// Check and repair the TCP header of `pd` in `frame`. Not a TCP
/// segment, or a fragment (pf reads no transport header of those): left
/// alone. `Err(Normalize)` is pf's `PFRES_NORM` drop.
pub(super) fn normalize_tcp(frame: &mut [u8], pd: &mut Pdesc) -> Result<(), Reason> {
    if pd.proto != proto::TCP || pd.fragment {
        return Ok(());
    }
    let Some(tcp) = pd.tcp.as_mut() else {
        return Ok(());
    };
    let orig = tcp.flags;
    let mut flags = orig;
    if flags & TH_SYN != 0 {
        if flags & TH_RST != 0 {
            return Err(Reason::Normalize);
        }
        // pf: "why clear instead of drop?" -- it clears
        flags &= !TH_FIN;
    } else if flags & (TH_ACK | TH_RST) == 0 {
        return Err(Reason::Normalize);
    }
    if flags & TH_ACK == 0 && flags & (TH_FIN | TH_PUSH | TH_URG) != 0 {
        return Err(Reason::Normalize);
    }
    let l4 = usize::from(pd.l4_off);
    // The parser vouched for the 20-byte header: the patches below find
    // their bytes. A frame that somehow lacks them is left as it is.
    let Some(word) = be16(frame, l4 + OFF_X2) else {
        return Ok(());
    };
    let x2 = (word >> 8) as u8 & 0x0f;
    if flags != orig || x2 != 0 {
        let new = (word & 0xf000) | u16::from(flags);
        let _ = patch(frame, l4, OFF_X2, new);
        tcp.flags = flags;
    }
    if flags & TH_URG == 0 && be16(frame, l4 + OFF_URP).is_some_and(|u| u != 0) {
        let _ = patch(frame, l4, OFF_URP, 0);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::frame::{parse_frame, verify_l4_checksum, Link, Parsed};

    /// An Ethernet frame with IPv4 and a 20-byte TCP header from
    /// 192.0.2.20:45000 to 198.51.100.20:80, flags and reserved bits and
    /// urgent pointer as given, checksums right.
    fn segment(flags: u8, x2: u8, urp: u16) -> Vec<u8> {
        let mut f = vec![0u8; 14];
        f[12] = 0x08;
        let mut ip = vec![
            0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 192, 0, 2, 20, 198, 51, 100, 20,
        ];
        let ck = crate::wire::checksum::finish(crate::wire::checksum::sum(&ip));
        ip[10..12].copy_from_slice(&ck.to_be_bytes());
        let mut t = vec![0u8; 20];
        t[0..2].copy_from_slice(&45000u16.to_be_bytes());
        t[2..4].copy_from_slice(&80u16.to_be_bytes());
        t[4..8].copy_from_slice(&1000u32.to_be_bytes());
        t[12] = 0x50 | x2;
        t[13] = flags;
        t[14..16].copy_from_slice(&65535u16.to_be_bytes());
        t[18..20].copy_from_slice(&urp.to_be_bytes());
        let ps = crate::wire::checksum::pseudo_v4([192, 0, 2, 20], [198, 51, 100, 20], 6, 20);
        let ck = crate::wire::checksum::finish(crate::wire::checksum::combine(&[
            ps,
            crate::wire::checksum::sum(&t),
        ]));
        t[16..18].copy_from_slice(&ck.to_be_bytes());
        f.extend_from_slice(&ip);
        f.extend_from_slice(&t);
        f
    }

    fn run(flags: u8, x2: u8, urp: u16) -> (Result<(), Reason>, Vec<u8>, Pdesc) {
        let mut f = segment(flags, x2, urp);
        let Ok(Parsed::Ip(mut pd)) = parse_frame(&f, Link::Ethernet) else {
            panic!("test segment does not parse");
        };
        let r = normalize_tcp(&mut f, &mut pd);
        (r, f, pd)
    }

    #[test]
    fn scans_are_dropped_as_normalize() {
        for (name, flags) in [
            ("null", 0),
            ("xmas", TH_FIN | TH_PUSH | TH_URG),
            ("syn-rst", TH_SYN | TH_RST),
            ("syn-rst-ack", TH_SYN | TH_RST | TH_ACK),
            ("fin", TH_FIN),
            ("urg", TH_URG),
            ("psh", TH_PUSH),
            ("syn-psh", TH_SYN | TH_PUSH),
            ("rst-fin", TH_RST | TH_FIN),
        ] {
            assert_eq!(run(flags, 0, 0).0, Err(Reason::Normalize), "{name}");
        }
    }

    #[test]
    fn legal_flags_pass_untouched() {
        for flags in [
            TH_SYN,
            TH_SYN | TH_ACK,
            TH_ACK,
            TH_RST,
            TH_RST | TH_ACK,
            TH_FIN | TH_ACK,
            TH_FIN | TH_PUSH | TH_URG | TH_ACK,
            TH_SYN | 0xc0,
        ] {
            let (r, f, pd) = run(flags, 0, 0);
            assert_eq!(r, Ok(()), "{flags:#x}");
            assert_eq!(f, segment(flags, 0, 0), "{flags:#x} rewritten");
            assert_eq!(pd.tcp.map(|t| t.flags), Some(flags));
        }
    }

    #[test]
    fn syn_fin_loses_its_fin_with_the_checksum_fixed() {
        let (r, f, pd) = run(TH_SYN | TH_FIN, 0, 0);
        assert_eq!(r, Ok(()));
        assert_eq!(f[14 + 20 + 13], TH_SYN);
        assert_eq!(pd.tcp.map(|t| t.flags), Some(TH_SYN));
        assert!(verify_l4_checksum(&f, &pd));
        assert_eq!(&f[..], &segment(TH_SYN, 0, 0)[..]);
    }

    #[test]
    fn reserved_bits_and_stray_urgent_pointer_are_cleared() {
        let (r, f, pd) = run(TH_SYN, 0x0e, 0x1234);
        assert_eq!(r, Ok(()));
        assert_eq!(&f[..], &segment(TH_SYN, 0, 0)[..]);
        assert!(verify_l4_checksum(&f, &pd));
        // with URG the pointer is the segment's to keep
        let (r, f, _) = run(TH_ACK | TH_URG, 0, 7);
        assert_eq!(r, Ok(()));
        assert_eq!(&f[..], &segment(TH_ACK | TH_URG, 0, 7)[..]);
    }
}
