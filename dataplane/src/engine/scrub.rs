//! pf_scrub and pf_normalize_mss: what `scrub (no-df, random-id,
//! min-ttl N, max-mss N)` and `set tos` do to each packet of a
//! connection, with incremental checksum updates.

use crate::pdesc::{proto, Pdesc};
use crate::state::Scrub;
use crate::wire::checksum::update16;
use ruleset::addr::Af;

const IP_DF: u16 = 0x4000;
const IPTOS_ECN_MASK: u8 = 0x03;
const TCPOPT_EOL: u8 = 0;
const TCPOPT_NOP: u8 = 1;
const TCPOPT_MAXSEG: u8 = 2;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Set the 16-bit word at `at` and fix the checksum at `ck`.
fn patch16(b: &mut [u8], at: usize, new: u16, ck: usize) -> Option<()> {
    let old = be16(b, at)?;
    if old == new {
        return Some(());
    }
    let c = be16(b, ck)?;
    b.get_mut(at..at + 2)?.copy_from_slice(&new.to_be_bytes());
    b.get_mut(ck..ck + 2)?
        .copy_from_slice(&update16(c, old, new).to_be_bytes());
    Some(())
}

/// Apply `s` to the packet; `rand` gives the new IPv4 id for
/// `random-id`. Malformed headers are left alone (the parser already
/// vouched for the fields touched here).
pub(super) fn apply(frame: &mut [u8], pd: &mut Pdesc, s: &Scrub, rand: u16) {
    if s.is_empty() {
        return;
    }
    let l3 = usize::from(pd.l3_off);
    match pd.af {
        Af::Inet => {
            let ck = l3 + 10;
            if let Some(off) = be16(frame, l3 + 6) {
                if s.no_df && off & IP_DF != 0 {
                    let _ = patch16(frame, l3 + 6, off & !IP_DF, ck);
                }
                // not for fragments: the id ties them together
                if s.random_id && off & !IP_DF == 0 {
                    let _ = patch16(frame, l3 + 4, rand, ck);
                }
            }
            if let Some(w) = be16(frame, l3 + 8) {
                let ttl = (w >> 8) as u8;
                if s.min_ttl != 0 && ttl < s.min_ttl {
                    let _ = patch16(frame, l3 + 8, u16::from(s.min_ttl) << 8 | (w & 0xff), ck);
                    pd.ttl = s.min_ttl;
                }
            }
            if let (Some(tos), Some(w)) = (s.set_tos, be16(frame, l3)) {
                let new = tos & !IPTOS_ECN_MASK | (w as u8 & IPTOS_ECN_MASK);
                let _ = patch16(frame, l3, (w & 0xff00) | u16::from(new), ck);
                pd.tos = new;
            }
        }
        Af::Inet6 => {
            if let Some(h) = frame.get_mut(l3 + 7) {
                if s.min_ttl != 0 && *h < s.min_ttl {
                    *h = s.min_ttl;
                    pd.ttl = s.min_ttl;
                }
            }
            if let (Some(tos), Some(b)) = (s.set_tos, frame.get_mut(l3..l3 + 2)) {
                let tc = (b[0] & 0x0f) << 4 | b[1] >> 4;
                let new = tos & !IPTOS_ECN_MASK | (tc & IPTOS_ECN_MASK);
                b[0] = (b[0] & 0xf0) | new >> 4;
                b[1] = (b[1] & 0x0f) | new << 4;
                pd.tos = new;
            }
        }
    }
    if s.max_mss != 0 && pd.proto == proto::TCP && !pd.fragment {
        let _ = clamp_mss(frame, pd, s.max_mss);
    }
}

/// pf_normalize_mss: lower an MSS option above `max`.
fn clamp_mss(frame: &mut [u8], pd: &mut Pdesc, max: u16) -> Option<()> {
    let th = usize::from(pd.l4_off);
    let hl = usize::from(pd.tcp?.hdr_len);
    let mut i = th + 20;
    let end = th + hl;
    while i < end {
        match *frame.get(i)? {
            TCPOPT_EOL => break,
            TCPOPT_NOP => i += 1,
            kind => {
                let len = usize::from(*frame.get(i + 1)?);
                if len < 2 || i + len > end {
                    break;
                }
                if kind == TCPOPT_MAXSEG && len == 4 {
                    let mss = be16(frame, i + 2)?;
                    if mss > max {
                        // The option may sit at an odd offset from the
                        // header: checksum words are counted from it.
                        if (i + 2 - th) % 2 == 0 {
                            patch16(frame, i + 2, max, th + 16)?;
                        } else {
                            // RFC 1071: a word summed at odd parity counts
                            // byte-swapped.
                            let c = be16(frame, th + 16)?;
                            let c = update16(c, mss.swap_bytes(), max.swap_bytes());
                            frame
                                .get_mut(i + 2..i + 4)?
                                .copy_from_slice(&max.to_be_bytes());
                            frame
                                .get_mut(th + 16..th + 18)?
                                .copy_from_slice(&c.to_be_bytes());
                        }
                        if let Some(t) = pd.tcp.as_mut() {
                            t.mss = Some(max);
                        }
                    }
                }
                i += len;
            }
        }
    }
    Some(())
}

/// The settings the rules asked for (`match` rules and the deciding
/// rule, as pf_rule_to_actions accumulates them).
pub(super) fn from_actions(a: &crate::eval::Actions) -> Scrub {
    Scrub {
        no_df: a.no_df,
        random_id: a.random_id,
        min_ttl: a.min_ttl,
        max_mss: a.max_mss,
        set_tos: a.set_tos,
    }
}
