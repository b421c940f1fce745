//! IPv4 headers (RFC 791), options included.

use super::checksum;
use super::{array, be16, byte, put, WireError};
use std::net::Ipv4Addr;

pub const HEADER_LEN: usize = 20;
pub const MAX_OPTIONS_LEN: usize = 40;

/// Flag and offset bits of the fragment word (pf's `IP_DF`, `IP_MF`,
/// `IP_OFFMASK`).
pub const DF: u16 = 0x4000;
pub const MF: u16 = 0x2000;
pub const OFFMASK: u16 = 0x1fff;

/// Option types pf tells apart.
pub mod opt {
    pub const EOL: u8 = 0;
    pub const NOP: u8 = 1;
    pub const RR: u8 = 7;
    pub const RA: u8 = 148;
}

#[derive(Debug, Clone)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    pub fn new_unchecked(buffer: T) -> Self {
        Ipv4Packet { buffer }
    }

    /// Accept a buffer holding a whole IPv4 packet: version 4, header
    /// length at least 20, total length covering the header and within
    /// the buffer (the buffer may be longer: Ethernet padding).
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let p = Self::new_unchecked(buffer);
        let len = p.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if p.version() != 4 {
            return Err(WireError::Malformed);
        }
        let hl = p.header_len();
        let tl = usize::from(p.total_len());
        if hl < HEADER_LEN || tl < hl {
            return Err(WireError::Malformed);
        }
        if hl > len || tl > len {
            return Err(WireError::Truncated);
        }
        Ok(p)
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn version(&self) -> u8 {
        byte(self.buffer.as_ref(), 0) >> 4
    }
    /// Header length in bytes (IHL * 4).
    pub fn header_len(&self) -> usize {
        usize::from(byte(self.buffer.as_ref(), 0) & 0x0f) * 4
    }
    pub fn tos(&self) -> u8 {
        byte(self.buffer.as_ref(), 1)
    }
    pub fn total_len(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }
    /// The flags-and-offset word as on the wire.
    pub fn frag_word(&self) -> u16 {
        be16(self.buffer.as_ref(), 6)
    }
    pub fn dont_frag(&self) -> bool {
        self.frag_word() & DF != 0
    }
    pub fn more_frags(&self) -> bool {
        self.frag_word() & MF != 0
    }
    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        (self.frag_word() & OFFMASK) << 3
    }
    pub fn ttl(&self) -> u8 {
        byte(self.buffer.as_ref(), 8)
    }
    pub fn protocol(&self) -> u8 {
        byte(self.buffer.as_ref(), 9)
    }
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 10)
    }
    pub fn src_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(self.buffer.as_ref(), 12))
    }
    pub fn dst_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(self.buffer.as_ref(), 16))
    }
    pub fn options(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(HEADER_LEN..self.header_len())
            .unwrap_or(&[])
    }
    /// The payload as the total length says (without link padding).
    pub fn payload(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(self.header_len()..usize::from(self.total_len()))
            .unwrap_or(&[])
    }
    /// True when the header checksum is correct.
    pub fn verify_checksum(&self) -> bool {
        match self.buffer.as_ref().get(..self.header_len()) {
            Some(h) if h.len() >= HEADER_LEN => checksum::sum(h) == 0xffff,
            _ => false,
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    pub fn set_tos(&mut self, v: u8) {
        put(self.buffer.as_mut(), 1, &[v]);
    }
    pub fn set_total_len(&mut self, v: u16) {
        put(self.buffer.as_mut(), 2, &v.to_be_bytes());
    }
    pub fn set_ident(&mut self, v: u16) {
        put(self.buffer.as_mut(), 4, &v.to_be_bytes());
    }
    pub fn set_frag_word(&mut self, v: u16) {
        put(self.buffer.as_mut(), 6, &v.to_be_bytes());
    }
    pub fn set_ttl(&mut self, v: u8) {
        put(self.buffer.as_mut(), 8, &[v]);
    }
    pub fn set_protocol(&mut self, v: u8) {
        put(self.buffer.as_mut(), 9, &[v]);
    }
    pub fn set_checksum(&mut self, v: u16) {
        put(self.buffer.as_mut(), 10, &v.to_be_bytes());
    }
    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        put(self.buffer.as_mut(), 12, &a.octets());
    }
    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        put(self.buffer.as_mut(), 16, &a.octets());
    }
    /// Recompute the header checksum from scratch.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let hl = self.header_len();
        let c = match self.buffer.as_ref().get(..hl) {
            Some(h) => checksum::finish(checksum::sum(h)),
            None => return,
        };
        self.set_checksum(c);
    }
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (h, t) = (self.header_len(), usize::from(self.total_len()));
        self.buffer.as_mut().get_mut(h..t).unwrap_or(&mut [])
    }
}

/// Up to 40 bytes of options, kept inline so the `Repr` stays `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Options {
    len: u8,
    bytes: [u8; MAX_OPTIONS_LEN],
}

impl Default for Ipv4Options {
    fn default() -> Self {
        Ipv4Options {
            len: 0,
            bytes: [0; MAX_OPTIONS_LEN],
        }
    }
}

impl Ipv4Options {
    /// Options padded to a multiple of four bytes are what the header
    /// can carry; anything else is `Malformed`.
    pub fn new(opts: &[u8]) -> Result<Self, WireError> {
        if opts.len() > MAX_OPTIONS_LEN || opts.len() & 3 != 0 {
            return Err(WireError::Malformed);
        }
        let mut bytes = [0u8; MAX_OPTIONS_LEN];
        bytes[..opts.len()].copy_from_slice(opts);
        Ok(Ipv4Options {
            // At most 40, checked above.
            len: opts.len() as u8,
            bytes,
        })
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// What pf's `pf_walk_option` finds in an options area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OptionKinds {
    pub router_alert: bool,
    pub other: bool,
}

/// Walk IPv4 options as pf does: EOL ends the list, NOP is one byte,
/// every other option needs a length byte of at least 2 that stays
/// inside the area, else the packet is malformed (pf: `PFRES_IPOPTIONS`).
pub fn walk_options(opts: &[u8]) -> Result<OptionKinds, WireError> {
    let mut k = OptionKinds::default();
    let mut off = 0usize;
    while let Some(&t) = opts.get(off) {
        match t {
            opt::EOL => break,
            opt::NOP => {
                off += 1;
                continue;
            }
            _ => {}
        }
        let len = usize::from(*opts.get(off + 1).ok_or(WireError::Malformed)?);
        if len < 2 || off + len > opts.len() {
            return Err(WireError::Malformed);
        }
        if t == opt::RA {
            k.router_alert = true;
        } else {
            k.other = true;
        }
        off += len;
    }
    Ok(k)
}

/// The header fields of an IPv4 packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Repr {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    pub tos: u8,
    pub ttl: u8,
    pub ident: u16,
    pub dont_frag: bool,
    pub more_frags: bool,
    /// Fragment offset in bytes (a multiple of 8).
    pub frag_offset: u16,
    pub payload_len: u16,
    pub options: Ipv4Options,
}

impl Ipv4Repr {
    /// Parse a checked packet; a bad header checksum is `Malformed`.
    pub fn parse<T: AsRef<[u8]>>(p: &Ipv4Packet<T>) -> Result<Self, WireError> {
        if !p.verify_checksum() {
            return Err(WireError::Malformed);
        }
        Ok(Ipv4Repr {
            src: p.src_addr(),
            dst: p.dst_addr(),
            protocol: p.protocol(),
            tos: p.tos(),
            ttl: p.ttl(),
            ident: p.ident(),
            dont_frag: p.dont_frag(),
            more_frags: p.more_frags(),
            frag_offset: p.frag_offset(),
            payload_len: p
                .total_len()
                .checked_sub(p.header_len() as u16)
                .ok_or(WireError::Malformed)?,
            options: Ipv4Options::new(p.options())?,
        })
    }

    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.as_bytes().len()
    }

    /// Header plus payload.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + usize::from(self.payload_len)
    }

    /// Write the header, checksum included, into `buf` (at least
    /// `header_len()` bytes).
    pub fn emit(&self, buf: &mut [u8]) {
        let hl = self.header_len();
        put(buf, 0, &[0x40 | (hl / 4) as u8, self.tos]);
        let total = (hl + usize::from(self.payload_len)).min(usize::from(u16::MAX)) as u16;
        put(buf, 2, &total.to_be_bytes());
        put(buf, 4, &self.ident.to_be_bytes());
        let mut w = (self.frag_offset >> 3) & OFFMASK;
        if self.dont_frag {
            w |= DF;
        }
        if self.more_frags {
            w |= MF;
        }
        put(buf, 6, &w.to_be_bytes());
        put(buf, 8, &[self.ttl, self.protocol, 0, 0]);
        put(buf, 12, &self.src.octets());
        put(buf, 16, &self.dst.octets());
        put(buf, HEADER_LEN, self.options.as_bytes());
        if let Some(h) = buf.get(..hl) {
            let c = checksum::finish(checksum::sum(h));
            put(buf, 10, &c.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::fixtures::{IPV4_RR_ICMP, TCP_SYN_V4};
    use proptest::prelude::*;

    #[test]
    fn syn_golden() {
        let p = Ipv4Packet::new_checked(&TCP_SYN_V4[14..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.total_len(), 60);
        assert_eq!(p.ident(), 0x1234);
        assert!(p.dont_frag() && !p.more_frags());
        assert_eq!(p.frag_offset(), 0);
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), 6);
        assert_eq!(p.src_addr(), Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(198, 51, 100, 2));
        assert!(p.verify_checksum());
        let r = Ipv4Repr::parse(&p).unwrap();
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut out);
        assert_eq!(&out[..20], &TCP_SYN_V4[14..34]);
    }

    #[test]
    fn options_golden() {
        let p = Ipv4Packet::new_checked(&IPV4_RR_ICMP[..]).unwrap();
        assert_eq!(p.header_len(), 32);
        assert_eq!(p.options()[0], opt::RR);
        assert_eq!(
            walk_options(p.options()).unwrap(),
            OptionKinds {
                router_alert: false,
                other: true
            }
        );
        let r = Ipv4Repr::parse(&p).unwrap();
        assert_eq!(r.options.as_bytes(), p.options());
        let mut out = vec![0u8; r.header_len()];
        r.emit(&mut out);
        assert_eq!(&out[..], &IPV4_RR_ICMP[..32]);
    }

    #[test]
    fn option_walk_errors() {
        assert_eq!(
            walk_options(&[opt::NOP, opt::NOP, opt::EOL, 0xff]).unwrap(),
            OptionKinds::default()
        );
        assert!(walk_options(&[opt::RA, 4, 0, 0]).unwrap().router_alert);
        // length byte missing, too small, or running past the end
        assert!(walk_options(&[opt::NOP, opt::NOP, opt::NOP, opt::RR]).is_err());
        assert!(walk_options(&[opt::RR, 1, 0, 0]).is_err());
        assert!(walk_options(&[opt::RR, 7, 0, 0]).is_err());
    }

    #[test]
    fn checked_rejects() {
        let ip = &TCP_SYN_V4[14..];
        assert_eq!(
            Ipv4Packet::new_checked(&ip[..19]).unwrap_err(),
            WireError::Truncated
        );
        assert_eq!(
            Ipv4Packet::new_checked(&ip[..59]).unwrap_err(),
            WireError::Truncated
        );
        let mut b = ip.to_vec();
        b[0] = 0x65;
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            WireError::Malformed
        );
        b[0] = 0x44;
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            WireError::Malformed
        );
        b[0] = 0x45;
        b[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            WireError::Malformed
        );
        b[2..4].copy_from_slice(&60u16.to_be_bytes());
        b[10] ^= 1;
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert!(!p.verify_checksum());
        assert_eq!(Ipv4Repr::parse(&p).unwrap_err(), WireError::Malformed);
    }

    #[test]
    fn setters_and_fill() {
        let mut b = TCP_SYN_V4[14..].to_vec();
        let mut p = Ipv4Packet::new_unchecked(&mut b[..]);
        p.set_src_addr(Ipv4Addr::new(10, 1, 2, 3));
        p.set_dst_addr(Ipv4Addr::new(10, 4, 5, 6));
        p.set_ttl(3);
        assert!(!p.verify_checksum());
        p.fill_checksum();
        assert!(p.verify_checksum());
        assert_eq!(p.src_addr(), Ipv4Addr::new(10, 1, 2, 3));
        assert_eq!(p.ttl(), 3);
    }

    fn arb_repr() -> impl Strategy<Value = Ipv4Repr> {
        (
            any::<[u8; 4]>(),
            any::<[u8; 4]>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u16>(),
            any::<bool>(),
            any::<bool>(),
            0u16..=OFFMASK,
            0u16..1400,
            (0usize..=10).prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n * 4)),
        )
            .prop_map(
                |(s, d, protocol, tos, ttl, ident, df, mf, off, pl, o)| Ipv4Repr {
                    src: s.into(),
                    dst: d.into(),
                    protocol,
                    tos,
                    ttl,
                    ident,
                    dont_frag: df,
                    more_frags: mf,
                    frag_offset: off << 3,
                    payload_len: pl,
                    options: Ipv4Options::new(&o).unwrap(),
                },
            )
    }

    proptest! {
        #[test]
        fn roundtrip(r in arb_repr()) {
            let mut b = vec![0u8; r.buffer_len()];
            r.emit(&mut b);
            let p = Ipv4Packet::new_checked(&b[..]).unwrap();
            prop_assert_eq!(Ipv4Repr::parse(&p).unwrap(), r);
        }
    }
}
