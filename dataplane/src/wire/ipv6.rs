//! IPv6 headers (RFC 8200) and the extension headers pf walks:
//! hop-by-hop and destination options, routing, fragment, AH.

use super::{array, be16, be32, byte, put, WireError};
use std::net::Ipv6Addr;

pub const HEADER_LEN: usize = 40;

/// Next-header values of the extension headers.
pub mod nh {
    pub const HOPOPTS: u8 = 0;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const AH: u8 = 51;
    pub const NONE: u8 = 59;
    pub const DSTOPTS: u8 = 60;
}

/// Option types inside hop-by-hop and destination options.
pub mod opt {
    pub const PAD1: u8 = 0;
    pub const PADN: u8 = 1;
    pub const ROUTER_ALERT: u8 = 5;
    pub const JUMBO: u8 = 0xc2;
}

#[derive(Debug, Clone)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    pub fn new_unchecked(buffer: T) -> Self {
        Ipv6Packet { buffer }
    }

    /// Accept a buffer holding version 6 and the whole payload the
    /// payload length announces (the buffer may be longer).
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let p = Self::new_unchecked(buffer);
        let len = p.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if p.version() != 6 {
            return Err(WireError::Malformed);
        }
        if HEADER_LEN + usize::from(p.payload_len()) > len {
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
    pub fn traffic_class(&self) -> u8 {
        ((be16(self.buffer.as_ref(), 0) >> 4) & 0xff) as u8
    }
    pub fn flow_label(&self) -> u32 {
        be32(self.buffer.as_ref(), 0) & 0x000f_ffff
    }
    pub fn payload_len(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }
    pub fn next_header(&self) -> u8 {
        byte(self.buffer.as_ref(), 6)
    }
    pub fn hop_limit(&self) -> u8 {
        byte(self.buffer.as_ref(), 7)
    }
    pub fn src_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(array::<16>(self.buffer.as_ref(), 8))
    }
    pub fn dst_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(array::<16>(self.buffer.as_ref(), 24))
    }
    /// Everything after the fixed header, as the payload length says.
    pub fn payload(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(HEADER_LEN..HEADER_LEN + usize::from(self.payload_len()))
            .unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    pub fn set_payload_len(&mut self, v: u16) {
        put(self.buffer.as_mut(), 4, &v.to_be_bytes());
    }
    pub fn set_next_header(&mut self, v: u8) {
        put(self.buffer.as_mut(), 6, &[v]);
    }
    pub fn set_hop_limit(&mut self, v: u8) {
        put(self.buffer.as_mut(), 7, &[v]);
    }
    pub fn set_src_addr(&mut self, a: Ipv6Addr) {
        put(self.buffer.as_mut(), 8, &a.octets());
    }
    pub fn set_dst_addr(&mut self, a: Ipv6Addr) {
        put(self.buffer.as_mut(), 24, &a.octets());
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Repr {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub next_header: u8,
    pub payload_len: u16,
    pub hop_limit: u8,
    pub traffic_class: u8,
    pub flow_label: u32,
}

impl Ipv6Repr {
    pub fn parse<T: AsRef<[u8]>>(p: &Ipv6Packet<T>) -> Result<Self, WireError> {
        Ok(Ipv6Repr {
            src: p.src_addr(),
            dst: p.dst_addr(),
            next_header: p.next_header(),
            payload_len: p.payload_len(),
            hop_limit: p.hop_limit(),
            traffic_class: p.traffic_class(),
            flow_label: p.flow_label(),
        })
    }

    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + usize::from(self.payload_len)
    }

    /// Write the fixed header into the first 40 bytes of `buf`.
    pub fn emit(&self, buf: &mut [u8]) {
        let w = (6u32 << 28) | (u32::from(self.traffic_class) << 20) | (self.flow_label & 0xf_ffff);
        put(buf, 0, &w.to_be_bytes());
        put(buf, 4, &self.payload_len.to_be_bytes());
        put(buf, 6, &[self.next_header, self.hop_limit]);
        put(buf, 8, &self.src.octets());
        put(buf, 24, &self.dst.octets());
    }
}

/// An extension header with the generic layout (next header, length):
/// hop-by-hop, destination options, routing, AH.
#[derive(Debug, Clone)]
pub struct ExtHeader<T: AsRef<[u8]>> {
    buffer: T,
    kind: u8,
}

impl<T: AsRef<[u8]>> ExtHeader<T> {
    /// View the extension header of type `kind` at the start of `buffer`;
    /// the buffer must hold all of it.
    pub fn new_checked(buffer: T, kind: u8) -> Result<Self, WireError> {
        let h = ExtHeader { buffer, kind };
        if h.buffer.as_ref().len() < 2 || h.buffer.as_ref().len() < h.header_len() {
            return Err(WireError::Truncated);
        }
        Ok(h)
    }
    pub fn next_header(&self) -> u8 {
        byte(self.buffer.as_ref(), 0)
    }
    pub fn len_field(&self) -> u8 {
        byte(self.buffer.as_ref(), 1)
    }
    /// Length in bytes: AH counts 4-byte words minus 2, the others 8-byte
    /// units minus 1.
    pub fn header_len(&self) -> usize {
        ext_len(self.kind, self.len_field())
    }
    /// The options area of hop-by-hop or destination options.
    pub fn options(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(2..self.header_len())
            .unwrap_or(&[])
    }
    /// Routing type (routing header only).
    pub fn routing_type(&self) -> u8 {
        byte(self.buffer.as_ref(), 2)
    }
    /// Segments left (routing header only).
    pub fn segments_left(&self) -> u8 {
        byte(self.buffer.as_ref(), 3)
    }
}

/// Length of an extension header of type `kind` whose length byte is `len`.
pub fn ext_len(kind: u8, len: u8) -> usize {
    if kind == nh::AH {
        (usize::from(len) + 2) * 4
    } else {
        (usize::from(len) + 1) * 8
    }
}

pub const FRAG_HEADER_LEN: usize = 8;

/// The fragment header.
#[derive(Debug, Clone)]
pub struct FragHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> FragHeader<T> {
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        if buffer.as_ref().len() < FRAG_HEADER_LEN {
            return Err(WireError::Truncated);
        }
        Ok(FragHeader { buffer })
    }
    pub fn next_header(&self) -> u8 {
        byte(self.buffer.as_ref(), 0)
    }
    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        be16(self.buffer.as_ref(), 2) & 0xfff8
    }
    pub fn more_frags(&self) -> bool {
        be16(self.buffer.as_ref(), 2) & 1 != 0
    }
    pub fn ident(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragRepr {
    pub next_header: u8,
    pub frag_offset: u16,
    pub more_frags: bool,
    pub ident: u32,
}

impl FragRepr {
    pub fn parse<T: AsRef<[u8]>>(h: &FragHeader<T>) -> Result<Self, WireError> {
        Ok(FragRepr {
            next_header: h.next_header(),
            frag_offset: h.frag_offset(),
            more_frags: h.more_frags(),
            ident: h.ident(),
        })
    }
    pub fn buffer_len(&self) -> usize {
        FRAG_HEADER_LEN
    }
    pub fn emit(&self, buf: &mut [u8]) {
        let w = (self.frag_offset & 0xfff8) | u16::from(self.more_frags);
        put(buf, 0, &[self.next_header, 0]);
        put(buf, 2, &w.to_be_bytes());
        put(buf, 4, &self.ident.to_be_bytes());
    }
}

/// One step of an extension-header chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainItem {
    /// Header type (the previous header's next-header value).
    pub kind: u8,
    /// Offset of the header in the walked buffer.
    pub offset: usize,
    pub len: usize,
}

/// Iterate over the extension headers starting at `offset` of `buf`
/// (the bytes after the fixed header), from next-header `first`. Ends at
/// the first upper-layer header: [`ExtChain::upper`] then tells which
/// protocol starts where. A truncated header yields one `Err` and ends.
/// Fragment headers are stepped over like the others; pf's own policy
/// (stop at a later fragment, limits, options) is `wire::frame`'s.
#[derive(Debug, Clone)]
pub struct ExtChain<'a> {
    buf: &'a [u8],
    next: u8,
    offset: usize,
    failed: bool,
}

impl<'a> ExtChain<'a> {
    pub fn new(buf: &'a [u8], first: u8, offset: usize) -> Self {
        ExtChain {
            buf,
            next: first,
            offset,
            failed: false,
        }
    }

    /// The protocol and offset reached so far (the upper layer once the
    /// iterator is exhausted without error).
    pub fn upper(&self) -> (u8, usize) {
        (self.next, self.offset)
    }
}

pub fn is_ext(kind: u8) -> bool {
    matches!(
        kind,
        nh::HOPOPTS | nh::ROUTING | nh::FRAGMENT | nh::AH | nh::DSTOPTS
    )
}

impl Iterator for ExtChain<'_> {
    type Item = Result<ChainItem, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || !is_ext(self.next) {
            return None;
        }
        let rest = self.buf.get(self.offset..).unwrap_or(&[]);
        let (nxt, len) = if self.next == nh::FRAGMENT {
            match FragHeader::new_checked(rest) {
                Ok(f) => (f.next_header(), FRAG_HEADER_LEN),
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        } else {
            match ExtHeader::new_checked(rest, self.next) {
                Ok(h) => (h.next_header(), h.header_len()),
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        };
        let item = ChainItem {
            kind: self.next,
            offset: self.offset,
            len,
        };
        self.offset += len;
        self.next = nxt;
        Some(Ok(item))
    }
}

/// What pf's `pf_walk_option6` finds in an options area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OptionKinds {
    pub router_alert: bool,
    pub jumbo: bool,
    pub other: bool,
    /// The jumbo payload length, when a jumbo option was present.
    pub jumbo_len: u32,
}

/// Why an options area is refused, in pf's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionError {
    /// An option header runs past the packet (pf: `PFRES_SHORT`).
    Short,
    /// An option runs past its header, or a bad jumbo option
    /// (pf: `PFRES_IPOPTIONS`).
    Bad,
}

/// Walk the TLV options of a hop-by-hop or destination options header as
/// pf does. `avail` is the number of bytes of `opts` actually in the
/// packet (pf reads each option header through the packet's bounds but
/// checks option lengths against the header's own end); `payload_len` is
/// the IPv6 payload length (a jumbo option needs it to be 0).
pub fn walk_options(opts: &[u8], end: usize, payload_len: u16) -> Result<OptionKinds, OptionError> {
    let mut k = OptionKinds::default();
    let mut off = 0usize;
    while off < end {
        let t = *opts.get(off).ok_or(OptionError::Short)?;
        if t == opt::PAD1 {
            off += 1;
            continue;
        }
        let len = usize::from(*opts.get(off + 1).ok_or(OptionError::Short)?);
        if off + 2 + len > end {
            return Err(OptionError::Bad);
        }
        match t {
            opt::PADN => {}
            opt::JUMBO => {
                k.jumbo = true;
                if k.jumbo_len != 0 || payload_len != 0 {
                    return Err(OptionError::Bad);
                }
                let v = opts.get(off + 2..off + 6).ok_or(OptionError::Short)?;
                k.jumbo_len = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
                if k.jumbo_len < 65535 {
                    return Err(OptionError::Bad);
                }
            }
            opt::ROUTER_ALERT => k.router_alert = true,
            _ => k.other = true,
        }
        off += 2 + len;
    }
    Ok(k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::fixtures::{IPV6_HBH_FRAG_UDP, IPV6_TCP};
    use proptest::prelude::*;

    #[test]
    fn tcp_golden() {
        let p = Ipv6Packet::new_checked(&IPV6_TCP[14..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0xb8);
        assert_eq!(p.flow_label(), 0x12345);
        assert_eq!(p.payload_len(), 40);
        assert_eq!(p.next_header(), 6);
        assert_eq!(p.hop_limit(), 63);
        assert_eq!(p.src_addr(), "2001:db8::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(p.dst_addr(), "2001:db8::2".parse::<Ipv6Addr>().unwrap());
        let r = Ipv6Repr::parse(&p).unwrap();
        let mut out = [0u8; HEADER_LEN];
        r.emit(&mut out);
        assert_eq!(&out[..], &IPV6_TCP[14..54]);
    }

    #[test]
    fn chain_golden() {
        let p = Ipv6Packet::new_checked(&IPV6_HBH_FRAG_UDP[..]).unwrap();
        let mut c = ExtChain::new(&IPV6_HBH_FRAG_UDP, p.next_header(), HEADER_LEN);
        let hbh = c.next().unwrap().unwrap();
        assert_eq!((hbh.kind, hbh.offset, hbh.len), (nh::HOPOPTS, 40, 8));
        let h = ExtHeader::new_checked(&IPV6_HBH_FRAG_UDP[40..], nh::HOPOPTS).unwrap();
        let k = walk_options(h.options(), h.options().len(), p.payload_len()).unwrap();
        assert!(k.router_alert && !k.other && !k.jumbo);
        let fr = c.next().unwrap().unwrap();
        assert_eq!((fr.kind, fr.offset, fr.len), (nh::FRAGMENT, 48, 8));
        let f = FragHeader::new_checked(&IPV6_HBH_FRAG_UDP[48..]).unwrap();
        let fr = FragRepr::parse(&f).unwrap();
        assert_eq!(
            fr,
            FragRepr {
                next_header: 17,
                frag_offset: 0,
                more_frags: true,
                ident: 0xabcd
            }
        );
        let mut out = [0u8; 8];
        fr.emit(&mut out);
        assert_eq!(&out[..], &IPV6_HBH_FRAG_UDP[48..56]);
        assert!(c.next().is_none());
        assert_eq!(c.upper(), (17, 56));
    }

    #[test]
    fn chain_truncated() {
        let b = &IPV6_HBH_FRAG_UDP[..52];
        let mut c = ExtChain::new(b, nh::HOPOPTS, HEADER_LEN);
        assert!(c.next().unwrap().is_ok());
        assert_eq!(c.next().unwrap().unwrap_err(), WireError::Truncated);
        assert!(c.next().is_none());
    }

    #[test]
    fn option_walk() {
        // PadN over the whole area is fine and says nothing.
        assert_eq!(
            walk_options(&[1, 4, 0, 0, 0, 0], 6, 8).unwrap(),
            OptionKinds::default()
        );
        // an option running past its header
        assert_eq!(
            walk_options(&[7, 9, 0, 0, 0, 0], 6, 8).unwrap_err(),
            OptionError::Bad
        );
        // a jumbo option with a non-zero payload length
        assert_eq!(
            walk_options(&[0xc2, 4, 0, 1, 0, 0], 6, 8).unwrap_err(),
            OptionError::Bad
        );
        let k = walk_options(&[0xc2, 4, 0, 1, 0, 0], 6, 0).unwrap();
        assert!(k.jumbo);
        assert_eq!(k.jumbo_len, 65536);
        // unknown type
        assert!(walk_options(&[0x3e, 0, 1, 0], 4, 8).unwrap().other);
        // option header cut by the end of the packet
        assert_eq!(walk_options(&[1], 6, 8).unwrap_err(), OptionError::Short);
    }

    proptest! {
        #[test]
        fn roundtrip(s: [u8; 16], d: [u8; 16], nh: u8, pl in 0u16..512, hl: u8, tc: u8, fl in 0u32..0x10_0000) {
            let r = Ipv6Repr { src: s.into(), dst: d.into(), next_header: nh, payload_len: pl, hop_limit: hl, traffic_class: tc, flow_label: fl };
            let mut b = vec![0u8; r.buffer_len()];
            r.emit(&mut b);
            prop_assert_eq!(Ipv6Repr::parse(&Ipv6Packet::new_checked(&b[..]).unwrap()).unwrap(), r);
        }

        #[test]
        fn frag_roundtrip(nh: u8, off in 0u16..8192, m: bool, id: u32) {
            let r = FragRepr { next_header: nh, frag_offset: off << 3, more_frags: m, ident: id };
            let mut b = [0u8; 8];
            r.emit(&mut b);
            prop_assert_eq!(FragRepr::parse(&FragHeader::new_checked(&b[..]).unwrap()).unwrap(), r);
        }
    }
}
