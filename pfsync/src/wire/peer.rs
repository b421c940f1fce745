//! `pfsync_state_scrub` (8 bytes) and `pfsync_state_peer` (32 bytes),
//! spec §3.1–§3.2.

use super::{be16, be32, fixed, WireError};
use crate::state::{Peer, Scrub};

pub const SCRUB_LEN: usize = 8;
pub const LEN: usize = 32;

pub fn parse_scrub(buf: &[u8]) -> Result<Option<Scrub>, WireError> {
    let b = fixed::<SCRUB_LEN>(buf)?;
    // OpenBSD treats any non-zero flag byte as "scrub data present".
    if b[3] == 0 {
        return Ok(None);
    }
    Ok(Some(Scrub {
        flags: be16(b, 0),
        ttl: b[2],
        ts_mod: be32(b, 4),
    }))
}

pub fn emit_scrub(scrub: &Option<Scrub>, out: &mut Vec<u8>) {
    match scrub {
        None => out.extend_from_slice(&[0; SCRUB_LEN]),
        Some(s) => {
            out.extend_from_slice(&s.flags.to_be_bytes());
            out.push(s.ttl);
            out.push(1);
            out.extend_from_slice(&s.ts_mod.to_be_bytes());
        }
    }
}

pub fn parse(buf: &[u8]) -> Result<Peer, WireError> {
    let b = fixed::<LEN>(buf)?;
    Ok(Peer {
        scrub: parse_scrub(&b[..SCRUB_LEN])?,
        seqlo: be32(b, 8),
        seqhi: be32(b, 12),
        seqdiff: be32(b, 16),
        max_win: be16(b, 20),
        mss: be16(b, 22),
        state: b[24],
        wscale: b[25],
    })
}

pub fn emit(p: &Peer, out: &mut Vec<u8>) {
    emit_scrub(&p.scrub, out);
    out.extend_from_slice(&p.seqlo.to_be_bytes());
    out.extend_from_slice(&p.seqhi.to_be_bytes());
    out.extend_from_slice(&p.seqdiff.to_be_bytes());
    out.extend_from_slice(&p.max_win.to_be_bytes());
    out.extend_from_slice(&p.mss.to_be_bytes());
    out.push(p.state);
    out.push(p.wscale);
    out.extend_from_slice(&[0; 6]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let p = Peer {
            scrub: Some(Scrub {
                flags: 1,
                ttl: 64,
                ts_mod: 0x0102_0304,
            }),
            seqlo: 0x1111_1111,
            seqhi: 0x2222_2222,
            seqdiff: 0x3333_3333,
            max_win: 0x4444,
            mss: 0x5555,
            state: 4,
            wscale: 0x87,
        };
        let mut b = Vec::new();
        emit(&p, &mut b);
        assert_eq!(
            b,
            [
                0, 1, 64, 1, 1, 2, 3, 4, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22, 0x33,
                0x33, 0x33, 0x33, 0x44, 0x44, 0x55, 0x55, 4, 0x87, 0, 0, 0, 0, 0, 0
            ]
        );
        assert_eq!(parse(&b).unwrap(), p);
        assert!(parse(&b[..31]).is_err());
    }

    #[test]
    fn scrub_flag_zero_means_absent() {
        assert_eq!(parse_scrub(&[9, 9, 9, 0, 9, 9, 9, 9]).unwrap(), None);
    }
}
