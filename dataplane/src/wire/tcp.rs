//! TCP headers (RFC 9293) with the options pf reads: MSS, window scale,
//! SACK-permitted, SACK blocks, timestamps.

use super::checksum;
use super::{be16, be32, byte, l4_sum, put, WireError};
use crate::pdesc::proto;
use std::net::IpAddr;

pub const HEADER_LEN: usize = 20;
pub const MAX_HEADER_LEN: usize = 60;

/// pf caps a window scale option at `TCP_MAX_WINSHIFT`.
pub const MAX_WSCALE: u8 = 14;

pub mod kind {
    pub const END: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WSCALE: u8 = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const SACK: u8 = 5;
    pub const TIMESTAMP: u8 = 8;
}

#[derive(Debug, Clone)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    pub fn new_unchecked(buffer: T) -> Self {
        TcpPacket { buffer }
    }

    /// Accept a buffer holding the header with its options; the data
    /// offset must be at least 5 words.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let p = Self::new_unchecked(buffer);
        let len = p.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if p.header_len() < HEADER_LEN {
            return Err(WireError::Malformed);
        }
        if p.header_len() > len {
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
    pub fn seq_number(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }
    pub fn ack_number(&self) -> u32 {
        be32(self.buffer.as_ref(), 8)
    }
    /// Data offset in bytes.
    pub fn header_len(&self) -> usize {
        usize::from(byte(self.buffer.as_ref(), 12) >> 4) * 4
    }
    /// The flags byte as pf's `th_flags` (FIN..CWR).
    pub fn flags(&self) -> u8 {
        byte(self.buffer.as_ref(), 13)
    }
    pub fn window(&self) -> u16 {
        be16(self.buffer.as_ref(), 14)
    }
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 16)
    }
    pub fn urgent(&self) -> u16 {
        be16(self.buffer.as_ref(), 18)
    }
    pub fn options(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(HEADER_LEN..self.header_len())
            .unwrap_or(&[])
    }
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(self.header_len()..).unwrap_or(&[])
    }
    /// Check the checksum over the whole buffer (header and payload)
    /// with the pseudo-header of `src` and `dst`.
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        l4_sum(self.buffer.as_ref(), src, dst, proto::TCP) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    pub fn set_src_port(&mut self, v: u16) {
        put(self.buffer.as_mut(), 0, &v.to_be_bytes());
    }
    pub fn set_dst_port(&mut self, v: u16) {
        put(self.buffer.as_mut(), 2, &v.to_be_bytes());
    }
    pub fn set_seq_number(&mut self, v: u32) {
        put(self.buffer.as_mut(), 4, &v.to_be_bytes());
    }
    pub fn set_ack_number(&mut self, v: u32) {
        put(self.buffer.as_mut(), 8, &v.to_be_bytes());
    }
    pub fn set_flags(&mut self, v: u8) {
        put(self.buffer.as_mut(), 13, &[v]);
    }
    pub fn set_window(&mut self, v: u16) {
        put(self.buffer.as_mut(), 14, &v.to_be_bytes());
    }
    pub fn set_checksum(&mut self, v: u16) {
        put(self.buffer.as_mut(), 16, &v.to_be_bytes());
    }
    pub fn options_mut(&mut self) -> &mut [u8] {
        let h = self.header_len();
        self.buffer
            .as_mut()
            .get_mut(HEADER_LEN..h)
            .unwrap_or(&mut [])
    }
    /// Compute the checksum over the whole buffer.
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) {
        self.set_checksum(0);
        let s = l4_sum(self.buffer.as_ref(), src, dst, proto::TCP);
        self.set_checksum(checksum::finish(s));
    }
}

/// The options pf and the state machine read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    /// Window shift as sent (pf caps its use at [`MAX_WSCALE`]).
    pub wscale: Option<u8>,
    pub sack_permitted: bool,
    /// (TSval, TSecr)
    pub timestamps: Option<(u32, u32)>,
}

/// Read the options area the way pf's option scanners do: END stops,
/// NOP is one byte, a length byte below 2 counts as 2, an option that
/// runs past the area ends the scan. Malformed options are never an
/// error, they are simply not seen (pf does not drop for them).
pub fn parse_options(opts: &[u8]) -> TcpOptions {
    let mut o = TcpOptions::default();
    let mut off = 0usize;
    while let Some(&k) = opts.get(off) {
        match k {
            kind::END => break,
            kind::NOP => {
                off += 1;
                continue;
            }
            _ => {}
        }
        let Some(&l) = opts.get(off + 1) else { break };
        let len = usize::from(l.max(2));
        let Some(body) = opts.get(off..off + len) else {
            break;
        };
        match (k, len) {
            (kind::MSS, 4..) => o.mss = Some(u16::from_be_bytes([body[2], body[3]])),
            (kind::WSCALE, 3..) => o.wscale = Some(body[2]),
            (kind::SACK_PERMITTED, 2..) => o.sack_permitted = true,
            (kind::TIMESTAMP, 10..) => {
                o.timestamps = Some((
                    u32::from_be_bytes([body[2], body[3], body[4], body[5]]),
                    u32::from_be_bytes([body[6], body[7], body[8], body[9]]),
                ))
            }
            _ => {}
        }
        off += len;
    }
    o
}

impl TcpOptions {
    /// Bytes these options take when emitted (padded to 4).
    pub fn buffer_len(&self) -> usize {
        let mut n = 0;
        if self.mss.is_some() {
            n += 4;
        }
        if self.wscale.is_some() {
            n += 4;
        }
        if self.sack_permitted {
            n += 4;
        }
        if self.timestamps.is_some() {
            n += 12;
        }
        n
    }

    /// Emit in the layout most stacks use: each option padded with NOPs
    /// to a 4-byte boundary.
    pub fn emit(&self, buf: &mut [u8]) {
        let mut off = 0;
        if let Some(m) = self.mss {
            put(buf, off, &[kind::MSS, 4]);
            put(buf, off + 2, &m.to_be_bytes());
            off += 4;
        }
        if let Some(w) = self.wscale {
            put(buf, off, &[kind::NOP, kind::WSCALE, 3, w]);
            off += 4;
        }
        if self.sack_permitted {
            put(buf, off, &[kind::NOP, kind::NOP, kind::SACK_PERMITTED, 2]);
            off += 4;
        }
        if let Some((v, e)) = self.timestamps {
            put(buf, off, &[kind::NOP, kind::NOP, kind::TIMESTAMP, 10]);
            put(buf, off + 4, &v.to_be_bytes());
            put(buf, off + 8, &e.to_be_bytes());
        }
    }
}

/// The header fields of a TCP segment (the payload stays in the buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub urgent: u16,
    pub options: TcpOptions,
}

impl TcpRepr {
    pub fn parse<T: AsRef<[u8]>>(p: &TcpPacket<T>) -> Result<Self, WireError> {
        Ok(TcpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            seq: p.seq_number(),
            ack: p.ack_number(),
            flags: p.flags(),
            window: p.window(),
            urgent: p.urgent(),
            options: parse_options(p.options()),
        })
    }

    /// Header length, options included.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.options.buffer_len()
    }

    /// Write the header (checksum zero: fill it once the payload is in
    /// place with [`TcpPacket::fill_checksum`]).
    pub fn emit(&self, buf: &mut [u8]) {
        let hl = self.buffer_len();
        put(buf, 0, &self.src_port.to_be_bytes());
        put(buf, 2, &self.dst_port.to_be_bytes());
        put(buf, 4, &self.seq.to_be_bytes());
        put(buf, 8, &self.ack.to_be_bytes());
        put(buf, 12, &[((hl / 4) as u8) << 4, self.flags]);
        put(buf, 14, &self.window.to_be_bytes());
        put(buf, 16, &[0, 0]);
        put(buf, 18, &self.urgent.to_be_bytes());
        if let Some(o) = buf.get_mut(HEADER_LEN..hl) {
            self.options.emit(o);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdesc::tcp_flags as f;
    use crate::wire::fixtures::{IPV6_TCP, TCP_SYN_V4};
    use proptest::prelude::*;

    fn v4(a: [u8; 4]) -> IpAddr {
        IpAddr::from(a)
    }

    #[test]
    fn syn_golden() {
        let seg = &TCP_SYN_V4[34..];
        let p = TcpPacket::new_checked(seg).unwrap();
        assert_eq!(p.src_port(), 40000);
        assert_eq!(p.dst_port(), 80);
        assert_eq!(p.seq_number(), 0x1122_3344);
        assert_eq!(p.ack_number(), 0);
        assert_eq!(p.header_len(), 40);
        assert_eq!(p.flags(), f::SYN);
        assert_eq!(p.window(), 64240);
        assert!(p.verify_checksum(v4([192, 0, 2, 1]), v4([198, 51, 100, 2])));
        assert!(!p.verify_checksum(v4([192, 0, 2, 1]), v4([198, 51, 100, 3])));
        let r = TcpRepr::parse(&p).unwrap();
        assert_eq!(
            r.options,
            TcpOptions {
                mss: Some(1460),
                wscale: Some(7),
                sack_permitted: true,
                timestamps: Some((123456, 0))
            }
        );
    }

    #[test]
    fn synack_v6_golden_and_emit() {
        let seg = &IPV6_TCP[54..];
        let p = TcpPacket::new_checked(seg).unwrap();
        let r = TcpRepr::parse(&p).unwrap();
        assert_eq!(
            (r.src_port, r.dst_port, r.seq, r.ack),
            (443, 50000, 7, 1001)
        );
        assert_eq!(r.flags, f::SYN | f::ACK);
        assert_eq!(r.options.mss, Some(1440));
        assert_eq!(r.options.wscale, Some(8));
        assert_eq!(r.options.timestamps, Some((9, 8)));
        let src: IpAddr = "2001:db8::1".parse().unwrap();
        let dst: IpAddr = "2001:db8::2".parse().unwrap();
        assert!(p.verify_checksum(src, dst));
        // Our emit layout differs from scapy's, so compare by re-parsing
        // and by checksum rather than byte for byte.
        let mut b = vec![0u8; r.buffer_len()];
        r.emit(&mut b);
        let mut q = TcpPacket::new_unchecked(&mut b[..]);
        q.fill_checksum(src, dst);
        assert!(q.verify_checksum(src, dst));
        assert_eq!(TcpRepr::parse(&q).unwrap(), r);
    }

    #[test]
    fn checked_rejects() {
        let seg = &TCP_SYN_V4[34..];
        assert_eq!(
            TcpPacket::new_checked(&seg[..19]).unwrap_err(),
            WireError::Truncated
        );
        assert_eq!(
            TcpPacket::new_checked(&seg[..39]).unwrap_err(),
            WireError::Truncated
        );
        let mut b = seg.to_vec();
        b[12] = 0x40;
        assert_eq!(
            TcpPacket::new_checked(&b[..]).unwrap_err(),
            WireError::Malformed
        );
    }

    #[test]
    fn option_scan_is_lenient() {
        // zero length counts as 2 and the scan goes on to the MSS
        assert_eq!(parse_options(&[0x22, 0, 2, 4, 5, 0xb4]).mss, Some(1460));
        // an option running past the area ends the scan
        assert_eq!(parse_options(&[2, 4, 5]).mss, None);
        assert_eq!(parse_options(&[0, 2, 4, 5, 0xb4]).mss, None);
        // a short wscale is ignored
        assert_eq!(parse_options(&[3, 2, 1, 1]).wscale, None);
    }

    #[test]
    fn setters() {
        let mut b = TCP_SYN_V4[34..].to_vec();
        let mut p = TcpPacket::new_unchecked(&mut b[..]);
        p.set_src_port(1);
        p.set_dst_port(2);
        p.set_seq_number(3);
        p.set_ack_number(4);
        p.set_flags(f::RST);
        let (s, d) = (v4([1, 1, 1, 1]), v4([2, 2, 2, 2]));
        p.fill_checksum(s, d);
        assert!(p.verify_checksum(s, d));
        assert_eq!(
            (
                p.src_port(),
                p.dst_port(),
                p.seq_number(),
                p.ack_number(),
                p.flags()
            ),
            (1, 2, 3, 4, f::RST)
        );
    }

    fn arb_repr() -> impl Strategy<Value = TcpRepr> {
        (
            any::<u16>(),
            any::<u16>(),
            any::<u32>(),
            any::<u32>(),
            any::<u8>(),
            any::<u16>(),
            any::<u16>(),
            proptest::option::of(any::<u16>()),
            proptest::option::of(any::<u8>()),
            any::<bool>(),
            proptest::option::of(any::<(u32, u32)>()),
        )
            .prop_map(
                |(sp, dp, seq, ack, flags, window, urgent, mss, wscale, sp_ok, ts)| TcpRepr {
                    src_port: sp,
                    dst_port: dp,
                    seq,
                    ack,
                    flags,
                    window,
                    urgent,
                    options: TcpOptions {
                        mss,
                        wscale,
                        sack_permitted: sp_ok,
                        timestamps: ts,
                    },
                },
            )
    }

    proptest! {
        #[test]
        fn roundtrip(r in arb_repr(), payload in proptest::collection::vec(any::<u8>(), 0..64)) {
            let hl = r.buffer_len();
            let mut b = vec![0u8; hl + payload.len()];
            r.emit(&mut b);
            b[hl..].copy_from_slice(&payload);
            let p = TcpPacket::new_checked(&b[..]).unwrap();
            prop_assert_eq!(TcpRepr::parse(&p).unwrap(), r);
            prop_assert_eq!(p.payload(), &payload[..]);
        }
    }
}
