//! The IPv4 header pfsync packets travel in (spec §1), for a daemon that
//! writes it itself (raw socket with IP_HDRINCL) and reads it on receive.
//! pfsync is IPv4-only, as in OpenBSD.

use super::{be16, fixed, WireError, IP_HEADER_LEN};
use std::net::Ipv4Addr;

/// `IPPROTO_PFSYNC`.
pub const PROTO: u8 = 240;
/// `INADDR_PFSYNC_GROUP`: the default destination.
pub const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 240);
/// Sent with, and required on receive.
pub const TTL: u8 = 255;
/// IPTOS_LOWDELAY.
pub const TOS: u8 = 0x10;
const DF: u16 = 0x4000;

fn checksum(h: &[u8; IP_HEADER_LEN]) -> u16 {
    let mut sum: u32 = h
        .chunks_exact(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Put the IPv4 header OpenBSD sends in front of a pfsync payload: no
/// options, TOS 0x10, DF, TTL 255, protocol 240, checksum filled in.
/// `ident` should be random per packet.
pub fn encap(payload: &[u8], src: Ipv4Addr, dst: Ipv4Addr, ident: u16) -> Vec<u8> {
    let total = u16::try_from(IP_HEADER_LEN + payload.len()).unwrap_or(u16::MAX);
    let mut h = [0u8; IP_HEADER_LEN];
    h[0] = 0x45;
    h[1] = TOS;
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&ident.to_be_bytes());
    h[6..8].copy_from_slice(&DF.to_be_bytes());
    h[8] = TTL;
    h[9] = PROTO;
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    let c = checksum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    let mut out = Vec::with_capacity(IP_HEADER_LEN + payload.len());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    out
}

/// What the receive filter needs from a received IPv4 packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received<'a> {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    /// The pfsync payload, cut at the IP total length.
    pub payload: &'a [u8],
}

/// Split a received IPv4 packet (as a raw socket returns it) into header
/// facts and payload. Options are skipped; the checksum is the kernel's
/// business.
pub fn decap(packet: &[u8]) -> Result<Received<'_>, WireError> {
    let h = fixed::<IP_HEADER_LEN>(packet)?;
    let ihl = usize::from(h[0] & 0x0f) * 4;
    let total = usize::from(be16(h, 2));
    if h[0] >> 4 != 4 || ihl < IP_HEADER_LEN || total < ihl || total > packet.len() {
        return Err(WireError::BadLength {
            claimed: total,
            have: packet.len(),
        });
    }
    Ok(Received {
        src: Ipv4Addr::new(h[12], h[13], h[14], h[15]),
        dst: Ipv4Addr::new(h[16], h[17], h[18], h[19]),
        ttl: h[8],
        payload: &packet[ihl..total],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let src = Ipv4Addr::new(10, 0, 0, 1);
        let mut p = encap(b"abcd", src, GROUP, 7);
        p.extend_from_slice(b"pad");
        let r = decap(&p).unwrap();
        assert_eq!(
            (r.src, r.dst, r.ttl, r.payload),
            (src, GROUP, 255, &b"abcd"[..])
        );
        assert!(decap(&p[..19]).is_err());
        let mut bad = p.clone();
        bad[0] = 0x65;
        assert!(decap(&bad).is_err());
        let mut short = p.clone();
        short[3] = 200;
        assert!(decap(&short).is_err());
        let mut opts = p.clone();
        opts[0] = 0x46;
        assert_eq!(decap(&opts).unwrap().payload, &b""[..]);
    }
}
