//! Ethernet II frames, with at most one 802.1Q tag.

use super::{array, be16, put, WireError};

pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const VLAN: u16 = 0x8100;
    pub const IPV6: u16 = 0x86dd;
}

pub const HEADER_LEN: usize = 14;
pub const VLAN_TAG_LEN: usize = 4;

pub type MacAddr = [u8; 6];

/// A view of an Ethernet II frame. When the outer EtherType is 802.1Q
/// the tag is read and [`EthernetFrame::ethertype`] is the one after it.
#[derive(Debug, Clone)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    pub fn new_unchecked(buffer: T) -> Self {
        EthernetFrame { buffer }
    }

    /// Accept `buffer` if it holds the whole header, tag included.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let f = Self::new_unchecked(buffer);
        let len = f.buffer.as_ref().len();
        if len < HEADER_LEN || len < f.header_len() {
            return Err(WireError::Truncated);
        }
        Ok(f)
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn dst_addr(&self) -> MacAddr {
        array(self.buffer.as_ref(), 0)
    }

    pub fn src_addr(&self) -> MacAddr {
        array(self.buffer.as_ref(), 6)
    }

    /// The EtherType right after the addresses (0x8100 for a tagged frame).
    pub fn outer_ethertype(&self) -> u16 {
        be16(self.buffer.as_ref(), 12)
    }

    /// The 802.1Q tag control information (PCP, DEI, VID), if tagged.
    pub fn vlan_tci(&self) -> Option<u16> {
        (self.outer_ethertype() == ethertype::VLAN).then(|| be16(self.buffer.as_ref(), 14))
    }

    /// The VLAN id (low 12 bits of the TCI), if tagged.
    pub fn vlan_id(&self) -> Option<u16> {
        self.vlan_tci().map(|t| t & 0x0fff)
    }

    /// The EtherType of the payload, after the tag if there is one.
    pub fn ethertype(&self) -> u16 {
        if self.outer_ethertype() == ethertype::VLAN {
            be16(self.buffer.as_ref(), 16)
        } else {
            self.outer_ethertype()
        }
    }

    pub fn header_len(&self) -> usize {
        if self.outer_ethertype() == ethertype::VLAN {
            HEADER_LEN + VLAN_TAG_LEN
        } else {
            HEADER_LEN
        }
    }

    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(self.header_len()..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    pub fn set_dst_addr(&mut self, a: MacAddr) {
        put(self.buffer.as_mut(), 0, &a);
    }

    pub fn set_src_addr(&mut self, a: MacAddr) {
        put(self.buffer.as_mut(), 6, &a);
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let h = self.header_len();
        self.buffer.as_mut().get_mut(h..).unwrap_or(&mut [])
    }
}

/// The header fields of an Ethernet II frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetRepr {
    pub src: MacAddr,
    pub dst: MacAddr,
    /// Full 802.1Q TCI (priority and VLAN id) when tagged.
    pub vlan_tci: Option<u16>,
    /// EtherType of the payload.
    pub ethertype: u16,
}

impl EthernetRepr {
    pub fn parse<T: AsRef<[u8]>>(f: &EthernetFrame<T>) -> Result<Self, WireError> {
        Ok(EthernetRepr {
            src: f.src_addr(),
            dst: f.dst_addr(),
            vlan_tci: f.vlan_tci(),
            ethertype: f.ethertype(),
        })
    }

    pub fn buffer_len(&self) -> usize {
        if self.vlan_tci.is_some() {
            HEADER_LEN + VLAN_TAG_LEN
        } else {
            HEADER_LEN
        }
    }

    /// Write the header into the first `buffer_len()` bytes of `buf`.
    pub fn emit(&self, buf: &mut [u8]) {
        put(buf, 0, &self.dst);
        put(buf, 6, &self.src);
        match self.vlan_tci {
            Some(tci) => {
                put(buf, 12, &ethertype::VLAN.to_be_bytes());
                put(buf, 14, &tci.to_be_bytes());
                put(buf, 16, &self.ethertype.to_be_bytes());
            }
            None => put(buf, 12, &self.ethertype.to_be_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::fixtures::{ARP_REQ, TCP_SYN_V4, VLAN_UDP_V4};
    use proptest::prelude::*;

    #[test]
    fn untagged_golden() {
        let f = EthernetFrame::new_checked(&TCP_SYN_V4[..]).unwrap();
        assert_eq!(f.dst_addr(), [0x52, 0x54, 0, 0xab, 0xcd, 0xef]);
        assert_eq!(f.src_addr(), [0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        assert_eq!(f.ethertype(), ethertype::IPV4);
        assert_eq!(f.vlan_tci(), None);
        assert_eq!(f.header_len(), 14);
        assert_eq!(f.payload()[0], 0x45);
        let a = EthernetFrame::new_checked(&ARP_REQ[..]).unwrap();
        assert_eq!(a.ethertype(), ethertype::ARP);
        assert_eq!(a.dst_addr(), [0xff; 6]);
    }

    #[test]
    fn tagged_golden() {
        let f = EthernetFrame::new_checked(&VLAN_UDP_V4[..]).unwrap();
        assert_eq!(f.outer_ethertype(), ethertype::VLAN);
        // prio 3, vlan 42
        assert_eq!(f.vlan_tci(), Some(0x602a));
        assert_eq!(f.vlan_id(), Some(42));
        assert_eq!(f.ethertype(), ethertype::IPV4);
        assert_eq!(f.header_len(), 18);
        let r = EthernetRepr::parse(&f).unwrap();
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut out);
        assert_eq!(&out[..], &VLAN_UDP_V4[..18]);
    }

    #[test]
    fn truncated() {
        assert_eq!(
            EthernetFrame::new_checked(&TCP_SYN_V4[..13]).unwrap_err(),
            WireError::Truncated
        );
        // a tag announced but cut off
        assert_eq!(
            EthernetFrame::new_checked(&VLAN_UDP_V4[..16]).unwrap_err(),
            WireError::Truncated
        );
    }

    #[test]
    fn setters() {
        let mut b = TCP_SYN_V4;
        let mut f = EthernetFrame::new_unchecked(&mut b[..]);
        f.set_src_addr([1, 2, 3, 4, 5, 6]);
        f.set_dst_addr([7, 8, 9, 10, 11, 12]);
        assert_eq!(f.src_addr(), [1, 2, 3, 4, 5, 6]);
        assert_eq!(f.dst_addr(), [7, 8, 9, 10, 11, 12]);
    }

    proptest! {
        #[test]
        fn roundtrip(src: [u8; 6], dst: [u8; 6], tci in proptest::option::of(any::<u16>()),
                     et in any::<u16>().prop_filter("not a tag", |e| *e != ethertype::VLAN)) {
            let r = EthernetRepr { src, dst, vlan_tci: tci, ethertype: et };
            let mut b = vec![0u8; r.buffer_len()];
            r.emit(&mut b);
            let f = EthernetFrame::new_checked(&b[..]).unwrap();
            prop_assert_eq!(EthernetRepr::parse(&f).unwrap(), r);
        }
    }
}
