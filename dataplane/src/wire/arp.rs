//! ARP for IPv4 over Ethernet (RFC 826). pf never filters ARP; the
//! engine passes it untouched, but CARP and the daemon's own neighbour
//! handling read and write it.

use super::ethernet::MacAddr;
use super::{array, be16, byte, put, WireError};
use std::net::Ipv4Addr;

pub const PACKET_LEN: usize = 28;

pub mod op {
    pub const REQUEST: u16 = 1;
    pub const REPLY: u16 = 2;
}

const HTYPE_ETHERNET: u16 = 1;
const PTYPE_IPV4: u16 = 0x0800;

#[derive(Debug, Clone)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    pub fn new_unchecked(buffer: T) -> Self {
        ArpPacket { buffer }
    }

    /// Accept an Ethernet/IPv4 ARP packet; other hardware or protocol
    /// types are `Unsupported`.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let p = Self::new_unchecked(buffer);
        if p.buffer.as_ref().len() < PACKET_LEN {
            return Err(WireError::Truncated);
        }
        if p.hardware_type() != HTYPE_ETHERNET
            || p.protocol_type() != PTYPE_IPV4
            || p.hardware_len() != 6
            || p.protocol_len() != 4
        {
            return Err(WireError::Unsupported);
        }
        Ok(p)
    }

    pub fn hardware_type(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }
    pub fn protocol_type(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    pub fn hardware_len(&self) -> u8 {
        byte(self.buffer.as_ref(), 4)
    }
    pub fn protocol_len(&self) -> u8 {
        byte(self.buffer.as_ref(), 5)
    }
    pub fn operation(&self) -> u16 {
        be16(self.buffer.as_ref(), 6)
    }
    pub fn sender_hw(&self) -> MacAddr {
        array(self.buffer.as_ref(), 8)
    }
    pub fn sender_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(self.buffer.as_ref(), 14))
    }
    pub fn target_hw(&self) -> MacAddr {
        array(self.buffer.as_ref(), 18)
    }
    pub fn target_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(self.buffer.as_ref(), 24))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpRepr {
    pub operation: u16,
    pub sender_hw: MacAddr,
    pub sender_ip: Ipv4Addr,
    pub target_hw: MacAddr,
    pub target_ip: Ipv4Addr,
}

impl ArpRepr {
    pub fn parse<T: AsRef<[u8]>>(p: &ArpPacket<T>) -> Result<Self, WireError> {
        Ok(ArpRepr {
            operation: p.operation(),
            sender_hw: p.sender_hw(),
            sender_ip: p.sender_ip(),
            target_hw: p.target_hw(),
            target_ip: p.target_ip(),
        })
    }

    pub fn buffer_len(&self) -> usize {
        PACKET_LEN
    }

    pub fn emit(&self, buf: &mut [u8]) {
        put(buf, 0, &HTYPE_ETHERNET.to_be_bytes());
        put(buf, 2, &PTYPE_IPV4.to_be_bytes());
        put(buf, 4, &[6, 4]);
        put(buf, 6, &self.operation.to_be_bytes());
        put(buf, 8, &self.sender_hw);
        put(buf, 14, &self.sender_ip.octets());
        put(buf, 18, &self.target_hw);
        put(buf, 24, &self.target_ip.octets());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::fixtures::ARP_REQ;
    use proptest::prelude::*;

    #[test]
    fn request_golden() {
        let p = ArpPacket::new_checked(&ARP_REQ[14..]).unwrap();
        let r = ArpRepr::parse(&p).unwrap();
        assert_eq!(r.operation, op::REQUEST);
        assert_eq!(r.sender_hw, [0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        assert_eq!(r.sender_ip, Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(r.target_hw, [0; 6]);
        assert_eq!(r.target_ip, Ipv4Addr::new(192, 0, 2, 254));
        let mut out = [0u8; PACKET_LEN];
        r.emit(&mut out);
        assert_eq!(&out[..], &ARP_REQ[14..]);
    }

    #[test]
    fn rejects_short_and_foreign() {
        assert_eq!(
            ArpPacket::new_checked(&ARP_REQ[14..41]).unwrap_err(),
            WireError::Truncated
        );
        let mut b = ARP_REQ;
        b[14 + 1] = 6; // hardware type 6 (IEEE 802)
        assert_eq!(
            ArpPacket::new_checked(&b[14..]).unwrap_err(),
            WireError::Unsupported
        );
    }

    proptest! {
        #[test]
        fn roundtrip(operation: u16, sh: [u8; 6], si: [u8; 4], th: [u8; 6], ti: [u8; 4]) {
            let r = ArpRepr { operation, sender_hw: sh, sender_ip: si.into(), target_hw: th, target_ip: ti.into() };
            let mut b = [0u8; PACKET_LEN];
            r.emit(&mut b);
            prop_assert_eq!(ArpRepr::parse(&ArpPacket::new_checked(&b[..]).unwrap()).unwrap(), r);
        }
    }
}
