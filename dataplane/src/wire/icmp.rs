//! ICMP for IPv4 (RFC 792): the fixed 8-byte header; what follows it
//! (echo data, the quoted packet of an error) stays in the buffer.

use super::checksum;
use super::{be16, be32, byte, put, WireError};

pub const HEADER_LEN: usize = 8;

/// Message types (pf's `ICMP_*`).
pub mod ty {
    pub const ECHOREPLY: u8 = 0;
    pub const UNREACH: u8 = 3;
    pub const SOURCEQUENCH: u8 = 4;
    pub const REDIRECT: u8 = 5;
    pub const ECHO: u8 = 8;
    pub const ROUTERADVERT: u8 = 9;
    pub const ROUTERSOLICIT: u8 = 10;
    pub const TIMXCEED: u8 = 11;
    pub const PARAMPROB: u8 = 12;
    pub const TSTAMP: u8 = 13;
    pub const TSTAMPREPLY: u8 = 14;
    pub const IREQ: u8 = 15;
    pub const IREQREPLY: u8 = 16;
    pub const MASKREQ: u8 = 17;
    pub const MASKREPLY: u8 = 18;
    pub const IPV6_WHEREAREYOU: u8 = 33;
    pub const IPV6_IAMHERE: u8 = 34;
    pub const MOBILE_REGREQUEST: u8 = 35;
    pub const MOBILE_REGREPLY: u8 = 36;
}

/// Unreachable codes pf's `return-icmp` uses most.
pub mod unreach {
    pub const NET: u8 = 0;
    pub const HOST: u8 = 1;
    pub const PROTOCOL: u8 = 2;
    pub const PORT: u8 = 3;
    pub const NEEDFRAG: u8 = 4;
    pub const FILTER_PROHIB: u8 = 13;
}

/// The kernel's `ICMP_INFOTYPE`: queries and replies, not errors.
pub fn is_info(t: u8) -> bool {
    matches!(
        t,
        ty::ECHOREPLY
            | ty::ECHO
            | ty::ROUTERADVERT
            | ty::ROUTERSOLICIT
            | ty::TSTAMP
            | ty::TSTAMPREPLY
            | ty::IREQ
            | ty::IREQREPLY
            | ty::MASKREQ
            | ty::MASKREPLY
    )
}

/// The error types whose body quotes the offending packet (the ones pf's
/// `pf_icmp_mapping` sends to the quoted connection's state).
pub fn is_error(t: u8) -> bool {
    matches!(
        t,
        ty::UNREACH | ty::SOURCEQUENCH | ty::REDIRECT | ty::TIMXCEED | ty::PARAMPROB
    )
}

#[derive(Debug, Clone)]
pub struct IcmpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> IcmpPacket<T> {
    pub fn new_unchecked(buffer: T) -> Self {
        IcmpPacket { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        Ok(IcmpPacket { buffer })
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
    /// Identifier of a query or reply.
    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }
    pub fn seq(&self) -> u16 {
        be16(self.buffer.as_ref(), 6)
    }
    /// The second word (id and sequence, pointer, next-hop MTU, gateway).
    pub fn rest(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }
    /// What follows the header: echo data or the quoted packet.
    pub fn data(&self) -> &[u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }
    /// ICMP has no pseudo-header: the sum covers the message alone.
    pub fn verify_checksum(&self) -> bool {
        checksum::sum(self.buffer.as_ref()) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> IcmpPacket<T> {
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
    pub fn set_seq(&mut self, v: u16) {
        put(self.buffer.as_mut(), 6, &v.to_be_bytes());
    }
    pub fn data_mut(&mut self) -> &mut [u8] {
        self.buffer
            .as_mut()
            .get_mut(HEADER_LEN..)
            .unwrap_or(&mut [])
    }
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::finish(checksum::sum(self.buffer.as_ref()));
        self.set_checksum(c);
    }
}

/// The fixed header of an ICMP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpRepr {
    pub msg_type: u8,
    pub code: u8,
    /// The second word: id/seq for queries, pointer or MTU for errors.
    pub rest: u32,
}

impl IcmpRepr {
    pub fn parse<T: AsRef<[u8]>>(p: &IcmpPacket<T>) -> Result<Self, WireError> {
        Ok(IcmpRepr {
            msg_type: p.msg_type(),
            code: p.code(),
            rest: p.rest(),
        })
    }
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }
    /// Write the header with a zero checksum; fill it with
    /// [`IcmpPacket::fill_checksum`] once the body is in place.
    pub fn emit(&self, buf: &mut [u8]) {
        put(buf, 0, &[self.msg_type, self.code, 0, 0]);
        put(buf, 4, &self.rest.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::fixtures::{ICMP_ECHO, ICMP_UNREACH_UDP};
    use proptest::prelude::*;

    #[test]
    fn echo_golden() {
        let p = IcmpPacket::new_checked(&ICMP_ECHO[20..]).unwrap();
        assert_eq!(
            (p.msg_type(), p.code(), p.ident(), p.seq()),
            (ty::ECHO, 0, 0x4242, 7)
        );
        assert_eq!(p.data(), b"abcdefgh");
        assert!(p.verify_checksum());
        let r = IcmpRepr::parse(&p).unwrap();
        let mut b = ICMP_ECHO[20..].to_vec();
        b[..8].fill(0);
        r.emit(&mut b);
        IcmpPacket::new_unchecked(&mut b[..]).fill_checksum();
        assert_eq!(&b[..], &ICMP_ECHO[20..]);
    }

    #[test]
    fn unreach_golden() {
        let p = IcmpPacket::new_checked(&ICMP_UNREACH_UDP[20..]).unwrap();
        assert_eq!((p.msg_type(), p.code()), (ty::UNREACH, unreach::PORT));
        assert!(is_error(p.msg_type()) && !is_info(p.msg_type()));
        assert!(p.verify_checksum());
        // the quoted IPv4 header starts right after the 8-byte header
        assert_eq!(p.data()[0], 0x45);
        assert_eq!(p.data().len(), 28);
    }

    #[test]
    fn short() {
        assert_eq!(
            IcmpPacket::new_checked(&ICMP_ECHO[20..27]).unwrap_err(),
            WireError::Truncated
        );
    }

    proptest! {
        #[test]
        fn roundtrip(t: u8, c: u8, rest: u32, data in proptest::collection::vec(any::<u8>(), 0..32)) {
            let r = IcmpRepr { msg_type: t, code: c, rest };
            let mut b = vec![0u8; r.buffer_len() + data.len()];
            r.emit(&mut b);
            b[8..].copy_from_slice(&data);
            IcmpPacket::new_unchecked(&mut b[..]).fill_checksum();
            let p = IcmpPacket::new_checked(&b[..]).unwrap();
            prop_assert!(p.verify_checksum());
            prop_assert_eq!(IcmpRepr::parse(&p).unwrap(), r);
        }
    }
}
