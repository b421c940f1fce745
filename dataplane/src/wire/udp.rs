//! UDP headers (RFC 768).

use super::checksum;
use super::{be16, l4_sum, put, WireError};
use crate::pdesc::proto;
use std::net::IpAddr;

pub const HEADER_LEN: usize = 8;

#[derive(Debug, Clone)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    pub fn new_unchecked(buffer: T) -> Self {
        UdpPacket { buffer }
    }

    /// Accept a buffer holding the header and the datagram its length
    /// field announces (at least the header).
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let p = Self::new_unchecked(buffer);
        let len = p.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let ul = usize::from(p.len());
        if ul < HEADER_LEN {
            return Err(WireError::Malformed);
        }
        if ul > len {
            return Err(WireError::Truncated);
        }
        Ok(p)
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }
    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    /// Length field: header plus payload.
    pub fn len(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }
    pub fn is_empty(&self) -> bool {
        usize::from(self.len()) <= HEADER_LEN
    }
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 6)
    }
    pub fn payload(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(HEADER_LEN..usize::from(self.len()))
            .unwrap_or(&[])
    }
    /// Check the checksum over the datagram (as its length field says).
    /// A zero checksum means "none" over IPv4 and is accepted; over IPv6
    /// it is forbidden (RFC 8200 8.1) and fails.
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        if self.checksum() == 0 {
            return src.is_ipv4();
        }
        match self.buffer.as_ref().get(..usize::from(self.len())) {
            Some(d) => l4_sum(d, src, dst, proto::UDP) == 0xffff,
            None => false,
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    pub fn set_src_port(&mut self, v: u16) {
        put(self.buffer.as_mut(), 0, &v.to_be_bytes());
    }
    pub fn set_dst_port(&mut self, v: u16) {
        put(self.buffer.as_mut(), 2, &v.to_be_bytes());
    }
    pub fn set_len(&mut self, v: u16) {
        put(self.buffer.as_mut(), 4, &v.to_be_bytes());
    }
    pub fn set_checksum(&mut self, v: u16) {
        put(self.buffer.as_mut(), 6, &v.to_be_bytes());
    }
    /// Compute the checksum over the datagram; a computed zero is sent as
    /// 0xffff, since zero means "no checksum".
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) {
        self.set_checksum(0);
        let n = usize::from(self.len());
        let Some(d) = self.buffer.as_ref().get(..n) else {
            return;
        };
        let c = match checksum::finish(l4_sum(d, src, dst, proto::UDP)) {
            0 => 0xffff,
            c => c,
        };
        self.set_checksum(c);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload_len: u16,
}

impl UdpRepr {
    pub fn parse<T: AsRef<[u8]>>(p: &UdpPacket<T>) -> Result<Self, WireError> {
        Ok(UdpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            payload_len: p
                .len()
                .checked_sub(HEADER_LEN as u16)
                .ok_or(WireError::Malformed)?,
        })
    }

    /// Header plus payload.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + usize::from(self.payload_len)
    }

    /// Write the header (checksum zero until `fill_checksum`).
    pub fn emit(&self, buf: &mut [u8]) {
        put(buf, 0, &self.src_port.to_be_bytes());
        put(buf, 2, &self.dst_port.to_be_bytes());
        let l = (HEADER_LEN + usize::from(self.payload_len)).min(0xffff) as u16;
        put(buf, 4, &l.to_be_bytes());
        put(buf, 6, &[0, 0]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::fixtures::{IPV6_HBH_FRAG_UDP, VLAN_UDP_V4};
    use proptest::prelude::*;

    #[test]
    fn golden_v4() {
        let p = UdpPacket::new_checked(&VLAN_UDP_V4[38..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.len()), (5353, 53, 13));
        assert_eq!(p.payload(), b"hello");
        let (s, d) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        assert!(p.verify_checksum(s, d));
        let r = UdpRepr::parse(&p).unwrap();
        let mut b = vec![0u8; r.buffer_len()];
        r.emit(&mut b);
        b[8..].copy_from_slice(b"hello");
        let mut q = UdpPacket::new_unchecked(&mut b[..]);
        q.fill_checksum(s, d);
        assert_eq!(&b[..], &VLAN_UDP_V4[38..]);
    }

    #[test]
    fn zero_checksum() {
        let mut b = VLAN_UDP_V4[38..].to_vec();
        b[6] = 0;
        b[7] = 0;
        let p = UdpPacket::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum(IpAddr::from([9, 9, 9, 9]), IpAddr::from([8, 8, 8, 8])));
        let v6: IpAddr = "::1".parse().unwrap();
        assert!(!p.verify_checksum(v6, v6));
    }

    #[test]
    fn golden_v6_after_frag_header() {
        let p = UdpPacket::new_checked(&IPV6_HBH_FRAG_UDP[56..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.len()), (1000, 2000, 16));
        let s: IpAddr = "2001:db8::1".parse().unwrap();
        let d: IpAddr = "2001:db8::2".parse().unwrap();
        assert!(p.verify_checksum(s, d));
    }

    #[test]
    fn checked_rejects() {
        let d = &VLAN_UDP_V4[38..];
        assert_eq!(
            UdpPacket::new_checked(&d[..7]).unwrap_err(),
            WireError::Truncated
        );
        assert_eq!(
            UdpPacket::new_checked(&d[..12]).unwrap_err(),
            WireError::Truncated
        );
        let mut b = d.to_vec();
        b[5] = 7;
        assert_eq!(
            UdpPacket::new_checked(&b[..]).unwrap_err(),
            WireError::Malformed
        );
    }

    proptest! {
        #[test]
        fn roundtrip(sp: u16, dp: u16, payload in proptest::collection::vec(any::<u8>(), 0..64)) {
            let r = UdpRepr { src_port: sp, dst_port: dp, payload_len: payload.len() as u16 };
            let mut b = vec![0u8; r.buffer_len()];
            r.emit(&mut b);
            b[8..].copy_from_slice(&payload);
            let (s, d) = (IpAddr::from([1, 2, 3, 4]), IpAddr::from([5, 6, 7, 8]));
            UdpPacket::new_unchecked(&mut b[..]).fill_checksum(s, d);
            let p = UdpPacket::new_checked(&b[..]).unwrap();
            prop_assert!(p.verify_checksum(s, d));
            prop_assert_eq!(UdpRepr::parse(&p).unwrap(), r);
        }
    }
}
