//! ICMPv6 (RFC 4443) with the neighbour discovery and MLD bodies pf
//! looks into (RFC 4861, RFC 2710).

use super::{array, be16, be32, byte, l4_sum, put, WireError};
use crate::pdesc::proto;
use std::net::{IpAddr, Ipv6Addr};

pub const HEADER_LEN: usize = 8;
/// MLD messages and neighbour solicitations/advertisements carry an
/// address right after the header (pf's `sizeof(struct mld_hdr)`).
pub const ADDR_BODY_LEN: usize = 24;

/// Message types (pf's `ICMP6_*`, `MLD_*`, `ND_*`).
pub mod ty {
    pub const DST_UNREACH: u8 = 1;
    pub const PACKET_TOO_BIG: u8 = 2;
    pub const TIME_EXCEEDED: u8 = 3;
    pub const PARAM_PROB: u8 = 4;
    pub const ECHO_REQUEST: u8 = 128;
    pub const ECHO_REPLY: u8 = 129;
    pub const MLD_LISTENER_QUERY: u8 = 130;
    pub const MLD_LISTENER_REPORT: u8 = 131;
    pub const MLD_LISTENER_DONE: u8 = 132;
    pub const ROUTER_SOLICIT: u8 = 133;
    pub const ROUTER_ADVERT: u8 = 134;
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    pub const NEIGHBOR_ADVERT: u8 = 136;
    pub const REDIRECT: u8 = 137;
    pub const WRUREQUEST: u8 = 139;
    pub const WRUREPLY: u8 = 140;
    pub const MLDV2_LISTENER_REPORT: u8 = 143;
    pub const MLD_MTRACE_RESP: u8 = 200;
    pub const MLD_MTRACE: u8 = 201;
}

pub mod unreach {
    pub const NOROUTE: u8 = 0;
    pub const ADMIN: u8 = 1;
    pub const ADDR: u8 = 3;
    pub const NOPORT: u8 = 4;
}

/// The error types whose body quotes the offending packet.
pub fn is_error(t: u8) -> bool {
    matches!(
        t,
        ty::DST_UNREACH | ty::PACKET_TOO_BIG | ty::TIME_EXCEEDED | ty::PARAM_PROB
    )
}

#[derive(Debug, Clone)]
pub struct Icmpv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
    pub fn new_unchecked(buffer: T) -> Self {
        Icmpv6Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        Ok(Icmpv6Packet { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn msg_type(&self) -> u8 {
        byte(self.buffer.as_ref(), 0)
    }
    pub fn code(&self) -> u8 {
        byte(self.buffer.as_ref(), 1)
    }
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }
    pub fn seq(&self) -> u16 {
        be16(self.buffer.as_ref(), 6)
    }
    /// The second word: id/seq, MTU (too big), pointer (param problem).
    pub fn rest(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }
    /// The target of a neighbour solicitation/advertisement or the
    /// multicast address of an MLD message, when the body is long enough.
    pub fn body_addr(&self) -> Option<Ipv6Addr> {
        (self.buffer.as_ref().len() >= ADDR_BODY_LEN)
            .then(|| Ipv6Addr::from(array::<16>(self.buffer.as_ref(), 8)))
    }
    pub fn data(&self) -> &[u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }
    pub fn verify_checksum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> bool {
        l4_sum(
            self.buffer.as_ref(),
            IpAddr::V6(src),
            IpAddr::V6(dst),
            proto::ICMPV6,
        ) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv6Packet<T> {
    pub fn set_msg_type(&mut self, v: u8) {
        put(self.buffer.as_mut(), 0, &[v]);
    }
    pub fn set_code(&mut self, v: u8) {
        put(self.buffer.as_mut(), 1, &[v]);
    }
    pub fn set_checksum(&mut self, v: u16) {
        put(self.buffer.as_mut(), 2, &v.to_be_bytes());
    }
    pub fn set_ident(&mut self, v: u16) {
        put(self.buffer.as_mut(), 4, &v.to_be_bytes());
    }
    pub fn data_mut(&mut self) -> &mut [u8] {
        self.buffer
            .as_mut()
            .get_mut(HEADER_LEN..)
            .unwrap_or(&mut [])
    }
    pub fn fill_checksum(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        self.set_checksum(0);
        let s = l4_sum(
            self.buffer.as_ref(),
            IpAddr::V6(src),
            IpAddr::V6(dst),
            proto::ICMPV6,
        );
        self.set_checksum(super::checksum::finish(s));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv6Repr {
    pub msg_type: u8,
    pub code: u8,
    pub rest: u32,
}

impl Icmpv6Repr {
    pub fn parse<T: AsRef<[u8]>>(p: &Icmpv6Packet<T>) -> Result<Self, WireError> {
        Ok(Icmpv6Repr {
            msg_type: p.msg_type(),
            code: p.code(),
            rest: p.rest(),
        })
    }
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }
    /// Write the header with a zero checksum; fill it with
    /// [`Icmpv6Packet::fill_checksum`] once the body is in place.
    pub fn emit(&self, buf: &mut [u8]) {
        put(buf, 0, &[self.msg_type, self.code, 0, 0]);
        put(buf, 4, &self.rest.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::fixtures::{ICMP6_ECHO, ICMP6_NS, ICMP6_UNREACH_TCP};
    use proptest::prelude::*;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn echo_golden() {
        let p = Icmpv6Packet::new_checked(&ICMP6_ECHO[40..]).unwrap();
        assert_eq!(
            (p.msg_type(), p.code(), p.ident(), p.seq()),
            (ty::ECHO_REQUEST, 0, 0x77, 3)
        );
        assert_eq!(p.data(), b"hi");
        assert!(p.verify_checksum(a("2001:db8::1"), a("2001:db8::2")));
        assert!(!p.verify_checksum(a("2001:db8::1"), a("2001:db8::3")));
        let r = Icmpv6Repr::parse(&p).unwrap();
        let mut b = ICMP6_ECHO[40..].to_vec();
        b[..8].fill(0);
        r.emit(&mut b);
        Icmpv6Packet::new_unchecked(&mut b[..]).fill_checksum(a("2001:db8::1"), a("2001:db8::2"));
        assert_eq!(&b[..], &ICMP6_ECHO[40..]);
    }

    #[test]
    fn ns_golden() {
        let p = Icmpv6Packet::new_checked(&ICMP6_NS[40..]).unwrap();
        assert_eq!(p.msg_type(), ty::NEIGHBOR_SOLICIT);
        assert_eq!(p.body_addr(), Some(a("2001:db8::2")));
        assert!(p.verify_checksum(a("fe80::1"), a("ff02::1:ff00:2")));
    }

    #[test]
    fn unreach_golden() {
        let p = Icmpv6Packet::new_checked(&ICMP6_UNREACH_TCP[40..]).unwrap();
        assert_eq!((p.msg_type(), p.code()), (ty::DST_UNREACH, unreach::NOPORT));
        assert!(is_error(p.msg_type()));
        assert_eq!(p.data()[0] >> 4, 6);
        assert!(p.verify_checksum(a("2001:db8::2"), a("2001:db8::1")));
        assert_eq!(
            Icmpv6Packet::new_checked(&ICMP6_ECHO[40..47]).unwrap_err(),
            WireError::Truncated
        );
        assert_eq!(
            Icmpv6Packet::new_checked(&ICMP6_NS[40..60])
                .unwrap()
                .body_addr(),
            None
        );
    }

    proptest! {
        #[test]
        fn roundtrip(t: u8, c: u8, rest: u32, data in proptest::collection::vec(any::<u8>(), 0..32), s: [u8; 16], d: [u8; 16]) {
            let r = Icmpv6Repr { msg_type: t, code: c, rest };
            let mut b = vec![0u8; r.buffer_len() + data.len()];
            r.emit(&mut b);
            b[8..].copy_from_slice(&data);
            Icmpv6Packet::new_unchecked(&mut b[..]).fill_checksum(s.into(), d.into());
            let p = Icmpv6Packet::new_checked(&b[..]).unwrap();
            prop_assert!(p.verify_checksum(s.into(), d.into()));
            prop_assert_eq!(Icmpv6Repr::parse(&p).unwrap(), r);
        }
    }
}
