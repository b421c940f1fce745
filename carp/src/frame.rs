//! Whole Ethernet frames for a daemon that sends and receives CARP on a
//! packet socket: [`Transmit::to_frame`] wraps an advert in Ethernet and
//! IPv4/IPv6 headers the way OpenBSD and ucarp do (spec §1.1), and
//! [`parse_frame`] turns a received frame into a [`Received`].
//!
//! A daemon that uses raw IP sockets instead needs neither; these exist so
//! the packet-socket path is one tested function each way.

use crate::event::{Family, Transmit};
use crate::host::Received;
use crate::wire::{checksum, HEADER_LEN, PROTO, TOS};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use thiserror::Error;

const ETH_LEN: usize = 14;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const IPV4_LEN: usize = 20;
const IPV6_LEN: usize = 40;
/// IPv4 flags word with DF set, offset 0.
const IP_DF: u16 = 0x4000;

/// Why a frame is not a CARP advert we can read. These are not CARP
/// drops (OpenBSD's IP layer would have discarded them before carp saw
/// them); the daemon counts them itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FrameError {
    #[error("frame too short for its headers: {len} bytes")]
    Truncated { len: usize },
    #[error("not IPv4 or IPv6: ethertype {0:#06x}")]
    NotIp(u16),
    #[error("malformed IP header")]
    BadIpHeader,
    #[error("IPv4 header checksum failed")]
    BadIpChecksum,
    #[error("IPv4 fragment")]
    Fragment,
    #[error("not CARP: protocol / next header {0}")]
    NotCarp(u8),
    #[error("advert family and source address family differ")]
    FamilyMismatch,
    #[error("unicast destination without the peer's MAC")]
    NoDstMac,
}

/// The Ethernet multicast address an IP multicast group maps to
/// (RFC 1112 §6.4, RFC 2464 §7).
pub fn multicast_mac(dst: IpAddr) -> Option<[u8; 6]> {
    match dst {
        IpAddr::V4(a) if a.is_multicast() => {
            let o = a.octets();
            Some([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]])
        }
        IpAddr::V6(a) if a.is_multicast() => {
            let o = a.octets();
            Some([0x33, 0x33, o[12], o[13], o[14], o[15]])
        }
        _ => None,
    }
}

impl Transmit {
    /// The whole frame. `src_ip`: an address of the carpdev of the
    /// advert's family; `ip_id`: a random IPv4 identification (ignored
    /// for IPv6); `dst_mac`: for a unicast `carppeer`, the peer's MAC
    /// from ARP (multicast destinations map by themselves).
    pub fn to_frame(
        &self,
        src_ip: IpAddr,
        ip_id: u16,
        unicast_dst_mac: Option<[u8; 6]>,
    ) -> Result<Vec<u8>, FrameError> {
        let dst_mac = multicast_mac(self.dst)
            .or(unicast_dst_mac)
            .ok_or(FrameError::NoDstMac)?;
        let mut f = Vec::with_capacity(ETH_LEN + IPV6_LEN + HEADER_LEN);
        f.extend_from_slice(&dst_mac);
        f.extend_from_slice(&self.src_mac);
        match (self.family, src_ip, self.dst) {
            (Family::V4, IpAddr::V4(src), IpAddr::V4(dst)) => {
                f.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
                let mut ip = [0u8; IPV4_LEN];
                ip[0] = 0x45;
                ip[1] = TOS;
                ip[2..4].copy_from_slice(&((IPV4_LEN + HEADER_LEN) as u16).to_be_bytes());
                ip[4..6].copy_from_slice(&ip_id.to_be_bytes());
                ip[6..8].copy_from_slice(&IP_DF.to_be_bytes());
                ip[8] = self.ttl;
                ip[9] = PROTO;
                ip[12..16].copy_from_slice(&src.octets());
                ip[16..20].copy_from_slice(&dst.octets());
                let sum = checksum(&ip);
                ip[10..12].copy_from_slice(&sum.to_be_bytes());
                f.extend_from_slice(&ip);
            }
            (Family::V6, IpAddr::V6(src), IpAddr::V6(dst)) => {
                f.extend_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
                let mut ip = [0u8; IPV6_LEN];
                ip[0] = 0x60;
                ip[4..6].copy_from_slice(&(HEADER_LEN as u16).to_be_bytes());
                ip[6] = PROTO;
                ip[7] = self.ttl;
                ip[8..24].copy_from_slice(&src.octets());
                ip[24..40].copy_from_slice(&dst.octets());
                f.extend_from_slice(&ip);
            }
            _ => return Err(FrameError::FamilyMismatch),
        }
        f.extend_from_slice(&self.payload);
        Ok(f)
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Read a received Ethernet frame (no VLAN tag) carrying IPv4 or IPv6
/// protocol 112. The payload is the IP payload, trailing Ethernet
/// padding removed; its length is left for the CARP input to judge
/// (`badlen`).
pub fn parse_frame<'a>(carpdev: &'a str, frame: &'a [u8]) -> Result<Received<'a>, FrameError> {
    let len = frame.len();
    if len < ETH_LEN {
        return Err(FrameError::Truncated { len });
    }
    let ip = &frame[ETH_LEN..];
    match be16(frame, 12) {
        ETHERTYPE_IPV4 => {
            if ip.len() < IPV4_LEN {
                return Err(FrameError::Truncated { len });
            }
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let total = usize::from(be16(ip, 2));
            if ip[0] >> 4 != 4 || ihl < IPV4_LEN || total < ihl {
                return Err(FrameError::BadIpHeader);
            }
            if total > ip.len() {
                return Err(FrameError::Truncated { len });
            }
            if checksum(&ip[..ihl]) != 0 {
                return Err(FrameError::BadIpChecksum);
            }
            if be16(ip, 6) & 0x3fff != 0 {
                return Err(FrameError::Fragment);
            }
            if ip[9] != PROTO {
                return Err(FrameError::NotCarp(ip[9]));
            }
            let addr =
                |at: usize| IpAddr::V4(Ipv4Addr::new(ip[at], ip[at + 1], ip[at + 2], ip[at + 3]));
            Ok(Received {
                carpdev,
                src: addr(12),
                dst: addr(16),
                ttl: ip[8],
                payload: &ip[ihl..total],
            })
        }
        ETHERTYPE_IPV6 => {
            if ip.len() < IPV6_LEN {
                return Err(FrameError::Truncated { len });
            }
            if ip[0] >> 4 != 6 {
                return Err(FrameError::BadIpHeader);
            }
            let plen = usize::from(be16(ip, 4));
            if IPV6_LEN + plen > ip.len() {
                return Err(FrameError::Truncated { len });
            }
            // OpenBSD sends no extension headers; any other next header
            // is not (plainly) CARP.
            if ip[6] != PROTO {
                return Err(FrameError::NotCarp(ip[6]));
            }
            let addr = |at: usize| {
                let mut o = [0u8; 16];
                o.copy_from_slice(&ip[at..at + 16]);
                IpAddr::V6(Ipv6Addr::from(o))
            };
            Ok(Received {
                carpdev,
                src: addr(8),
                dst: addr(24),
                ttl: ip[7],
                payload: &ip[IPV6_LEN..IPV6_LEN + plen],
            })
        }
        t => Err(FrameError::NotIp(t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::GROUP_V6;
    use proptest::prelude::*;

    const UCARP_FRAME: &[u8] = include_bytes!("../tests/fixtures/ucarp-advert-vhid1.bin");

    fn ucarp_transmit() -> Transmit {
        let mut payload = [0u8; HEADER_LEN];
        payload.copy_from_slice(&UCARP_FRAME[0x22..]);
        Transmit {
            ifname: "carp1".into(),
            carpdev: "eth0".into(),
            vhid: 1,
            family: Family::V4,
            src_mac: [0, 0, 0x5e, 0, 0, 1],
            dst: IpAddr::V4(crate::event::GROUP_V4),
            ttl: 255,
            payload,
        }
    }

    /// Our IPv4 framing rebuilds the captured ucarp frame byte for byte
    /// (same TOS, DF, TTL, length and header checksum).
    #[test]
    fn rebuilds_the_ucarp_capture_exactly() {
        let f = ucarp_transmit()
            .to_frame(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 11)), 0xe04d, None)
            .unwrap();
        assert_eq!(f, UCARP_FRAME);
    }

    #[test]
    fn parses_the_ucarp_capture() {
        let r = parse_frame("eth0", UCARP_FRAME).unwrap();
        assert_eq!(r.src, IpAddr::V4(Ipv4Addr::new(198, 51, 100, 11)));
        assert_eq!(r.dst, IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18)));
        assert_eq!(r.ttl, 255);
        assert_eq!(r.payload, &UCARP_FRAME[0x22..]);
    }

    #[test]
    fn ethernet_padding_is_not_payload_and_bad_headers_are_refused() {
        let mut padded = UCARP_FRAME.to_vec();
        padded.extend_from_slice(&[0; 4]);
        assert_eq!(parse_frame("eth0", &padded).unwrap().payload.len(), 36);
        let mut bad = UCARP_FRAME.to_vec();
        bad[0x18] ^= 1;
        assert_eq!(
            parse_frame("eth0", &bad).unwrap_err(),
            FrameError::BadIpChecksum
        );
        let mut udp = UCARP_FRAME.to_vec();
        udp[0x17] = 17;
        udp[0x18..0x1a].fill(0);
        let sum = checksum(&udp[14..34]);
        udp[0x18..0x1a].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(
            parse_frame("eth0", &udp).unwrap_err(),
            FrameError::NotCarp(17)
        );
        assert_eq!(
            parse_frame("eth0", &UCARP_FRAME[..30]).unwrap_err(),
            FrameError::Truncated { len: 30 }
        );
        let mut arp = UCARP_FRAME.to_vec();
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(
            parse_frame("eth0", &arp).unwrap_err(),
            FrameError::NotIp(0x0806)
        );
    }

    #[test]
    fn ipv6_frame_round_trips_to_ff02_12_over_33_33() {
        let mut t = ucarp_transmit();
        t.family = Family::V6;
        t.dst = IpAddr::V6(GROUP_V6);
        let src: IpAddr = "fe80::1".parse().unwrap();
        let f = t.to_frame(src, 0, None).unwrap();
        assert_eq!(f.len(), 90);
        assert_eq!(&f[..6], &[0x33, 0x33, 0, 0, 0, 0x12]);
        let r = parse_frame("eth0", &f).unwrap();
        assert_eq!((r.src, r.dst, r.ttl), (src, t.dst, 255));
        assert_eq!(r.payload, &t.payload[..]);
    }

    #[test]
    fn unicast_carppeer_needs_the_peers_mac() {
        let mut t = ucarp_transmit();
        t.dst = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
        let src = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(t.to_frame(src, 1, None).unwrap_err(), FrameError::NoDstMac);
        let f = t.to_frame(src, 1, Some([2, 0, 0, 0, 0, 2])).unwrap();
        assert_eq!(&f[..6], &[2, 0, 0, 0, 0, 2]);
        assert_eq!(
            t.to_frame("::1".parse().unwrap(), 1, Some([2; 6]))
                .unwrap_err(),
            FrameError::FamilyMismatch
        );
    }

    proptest! {
        #[test]
        fn random_frames_never_panic(b in proptest::collection::vec(any::<u8>(), 0..120), v6 in any::<bool>()) {
            let mut b = b;
            if b.len() >= 14 {
                b[12..14].copy_from_slice(if v6 { &[0x86, 0xdd] } else { &[0x08, 0x00] });
            }
            let _ = parse_frame("eth0", &b);
        }
    }
}
