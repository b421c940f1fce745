//! The 36-byte CARP header (spec §1.2) as a zero-copy view and a `Repr`,
//! and its checksum (§1.3).
//!
//! The view is what the receive path reads untrusted bytes through: after
//! `new_checked` every accessor is in bounds. The `Repr` is what the state
//! machine builds adverts from. Neither checks `version`, `type` or
//! `authlen`: OpenBSD checks the version only after the vhid lookup (so a
//! bad version counts `badver`, not `badsum`), and never checks the other
//! two (§3).

use thiserror::Error;

/// Bytes of the CARP header; OpenBSD reads exactly these and ignores any
/// trailing bytes.
pub const HEADER_LEN: usize = 36;
/// The only version OpenBSD and ucarp accept (`CARP_VERSION`).
pub const VERSION: u8 = 2;
/// `CARP_ADVERTISEMENT`, the only type ever sent.
pub const TYPE_ADVERTISEMENT: u8 = 1;
/// Counter plus HMAC in 32-bit words; sent, never checked.
pub const AUTHLEN: u8 = 7;
/// TTL / hop limit of every advert, and the only one accepted.
pub const TTL: u8 = 255;
/// IPv4 TOS of adverts (IPTOS_LOWDELAY).
pub const TOS: u8 = 0x10;
/// IP protocol number.
pub const PROTO: u8 = 112;

mod field {
    pub const VERSION_TYPE: usize = 0;
    pub const VHID: usize = 1;
    pub const ADVSKEW: usize = 2;
    pub const AUTHLEN: usize = 3;
    pub const DEMOTE: usize = 4;
    pub const ADVBASE: usize = 5;
    pub const CHECKSUM: std::ops::Range<usize> = 6..8;
    pub const COUNTER: std::ops::Range<usize> = 8..16;
    pub const MD: std::ops::Range<usize> = 16..36;
}

/// Why bytes are not a CARP header. Both are the sender's (or the
/// network's) fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum WireError {
    /// Fewer than 36 bytes: OpenBSD's `badlen`.
    #[error("CARP packet too short: {len} bytes, need {HEADER_LEN}")]
    Truncated { len: usize },
    /// The checksum over the 36 bytes does not fold to zero: `badsum`.
    #[error("CARP checksum failed")]
    Checksum,
}

/// RFC 1071 Internet checksum of `data` (the one's complement of the
/// one's-complement sum of its 16-bit big-endian words, an odd last byte
/// padded with zero). No pseudo-header: CARP has none for either family.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A view of a CARP header at the start of `buffer`.
#[derive(Debug, Clone)]
pub struct CarpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> CarpPacket<T> {
    /// Wrap without checking; accessors panic on a short buffer. For
    /// buffers this crate sized itself.
    pub fn new_unchecked(buffer: T) -> Self {
        CarpPacket { buffer }
    }

    /// Wrap received bytes: at least 36 of them (more are allowed and
    /// ignored, as OpenBSD does).
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let len = buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(WireError::Truncated { len });
        }
        Ok(CarpPacket { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn version(&self) -> u8 {
        self.b()[field::VERSION_TYPE] >> 4
    }
    pub fn type_(&self) -> u8 {
        self.b()[field::VERSION_TYPE] & 0x0f
    }
    pub fn vhid(&self) -> u8 {
        self.b()[field::VHID]
    }
    pub fn advskew(&self) -> u8 {
        self.b()[field::ADVSKEW]
    }
    pub fn authlen(&self) -> u8 {
        self.b()[field::AUTHLEN]
    }
    pub fn demote(&self) -> u8 {
        self.b()[field::DEMOTE]
    }
    pub fn advbase(&self) -> u8 {
        self.b()[field::ADVBASE]
    }
    pub fn checksum(&self) -> u16 {
        let c = &self.b()[field::CHECKSUM];
        u16::from_be_bytes([c[0], c[1]])
    }
    /// The counter bytes exactly as on the wire: the HMAC covers these.
    pub fn counter_bytes(&self) -> [u8; 8] {
        let mut out = [0; 8];
        out.copy_from_slice(&self.b()[field::COUNTER]);
        out
    }
    pub fn counter(&self) -> u64 {
        u64::from_be_bytes(self.counter_bytes())
    }
    pub fn md(&self) -> [u8; 20] {
        let mut out = [0; 20];
        out.copy_from_slice(&self.b()[field::MD]);
        out
    }
    /// True when the 36 header bytes, received checksum included, sum to
    /// zero (§1.3).
    pub fn verify_checksum(&self) -> bool {
        checksum(&self.b()[..HEADER_LEN]) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> CarpPacket<T> {
    fn m(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }
    pub fn set_version_type(&mut self, version: u8, type_: u8) {
        self.m()[field::VERSION_TYPE] = (version << 4) | (type_ & 0x0f);
    }
    pub fn set_vhid(&mut self, v: u8) {
        self.m()[field::VHID] = v;
    }
    pub fn set_advskew(&mut self, v: u8) {
        self.m()[field::ADVSKEW] = v;
    }
    pub fn set_authlen(&mut self, v: u8) {
        self.m()[field::AUTHLEN] = v;
    }
    pub fn set_demote(&mut self, v: u8) {
        self.m()[field::DEMOTE] = v;
    }
    pub fn set_advbase(&mut self, v: u8) {
        self.m()[field::ADVBASE] = v;
    }
    pub fn set_checksum(&mut self, v: u16) {
        self.m()[field::CHECKSUM].copy_from_slice(&v.to_be_bytes());
    }
    pub fn set_counter(&mut self, v: u64) {
        self.m()[field::COUNTER].copy_from_slice(&v.to_be_bytes());
    }
    pub fn set_md(&mut self, md: &[u8; 20]) {
        self.m()[field::MD].copy_from_slice(md);
    }
    /// Zero the checksum field, then store the checksum of the 36 bytes.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum(&self.buffer.as_ref()[..HEADER_LEN]);
        self.set_checksum(c);
    }
}

/// A CARP header's fields, as parsed or as to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CarpRepr {
    /// High nibble of byte 0; only 4 bits survive `emit`.
    pub version: u8,
    /// Low nibble of byte 0; only 4 bits survive `emit`.
    pub type_: u8,
    pub vhid: u8,
    pub advskew: u8,
    pub authlen: u8,
    pub demote: u8,
    pub advbase: u8,
    /// The counter read big-endian; `to_be_bytes` gives the wire bytes
    /// back, which is what the HMAC covers.
    pub counter: u64,
    pub md: [u8; 20],
}

impl CarpRepr {
    /// Read a header whose length was checked, verifying its checksum.
    /// Version, type and authlen are returned as received (see the
    /// module docs for why they are not judged here).
    pub fn parse<T: AsRef<[u8]>>(packet: &CarpPacket<T>) -> Result<Self, WireError> {
        if !packet.verify_checksum() {
            return Err(WireError::Checksum);
        }
        Ok(CarpRepr {
            version: packet.version(),
            type_: packet.type_(),
            vhid: packet.vhid(),
            advskew: packet.advskew(),
            authlen: packet.authlen(),
            demote: packet.demote(),
            advbase: packet.advbase(),
            counter: packet.counter(),
            md: packet.md(),
        })
    }

    /// Bytes `emit` writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Write the header and its checksum into the first 36 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut CarpPacket<T>) {
        packet.set_version_type(self.version, self.type_);
        packet.set_vhid(self.vhid);
        packet.set_advskew(self.advskew);
        packet.set_authlen(self.authlen);
        packet.set_demote(self.demote);
        packet.set_advbase(self.advbase);
        packet.set_counter(self.counter);
        packet.set_md(&self.md);
        packet.fill_checksum();
    }

    /// The 36 wire bytes of this header.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut buf = [0u8; HEADER_LEN];
        self.emit(&mut CarpPacket::new_unchecked(&mut buf[..]));
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Frame 4 of the ucarp lab capture (ucarp-interop.md §4), Ethernet
    /// header included; the CARP header starts at 0x22.
    pub(crate) const UCARP_FRAME: &[u8] =
        include_bytes!("../tests/fixtures/ucarp-advert-vhid1.bin");
    const CARP_OFF: usize = 0x22;

    #[test]
    fn ucarp_capture_parses_field_by_field() {
        let p = CarpPacket::new_checked(&UCARP_FRAME[CARP_OFF..]).unwrap();
        assert!(p.verify_checksum());
        let r = CarpRepr::parse(&p).unwrap();
        assert_eq!(r.version, 2);
        assert_eq!(r.type_, 1);
        assert_eq!(r.vhid, 1);
        assert_eq!(r.advskew, 0);
        assert_eq!(r.authlen, 7);
        assert_eq!(r.demote, 0);
        assert_eq!(r.advbase, 1);
        assert_eq!(p.checksum(), 0xf4ff);
        assert_eq!(r.counter, 0xebb9_86ea_3ba4_2cf4);
        assert_eq!(r.counter, 16_985_755_810_185_620_724);
        assert_eq!(
            r.md,
            [
                0x72, 0xb6, 0x72, 0xc3, 0xa5, 0x82, 0xfb, 0x5f, 0x26, 0x01, 0xe4, 0xae, 0x39, 0x66,
                0x5a, 0x11, 0xf6, 0xde, 0xf3, 0x56
            ]
        );
    }

    #[test]
    fn ucarp_capture_re_emits_byte_for_byte() {
        let p = CarpPacket::new_checked(&UCARP_FRAME[CARP_OFF..]).unwrap();
        let r = CarpRepr::parse(&p).unwrap();
        assert_eq!(
            &r.to_bytes()[..],
            &UCARP_FRAME[CARP_OFF..CARP_OFF + HEADER_LEN]
        );
    }

    #[test]
    fn ucarp_checksum_with_field_zeroed_is_f4ff() {
        let mut b = [0u8; HEADER_LEN];
        b.copy_from_slice(&UCARP_FRAME[CARP_OFF..CARP_OFF + HEADER_LEN]);
        b[6] = 0;
        b[7] = 0;
        assert_eq!(checksum(&b), 0xf4ff);
    }

    #[test]
    fn short_buffer_is_truncated() {
        assert_eq!(
            CarpPacket::new_checked(&[0u8; 35][..]).unwrap_err(),
            WireError::Truncated { len: 35 }
        );
    }

    #[test]
    fn trailing_bytes_are_ignored() {
        let mut b = UCARP_FRAME[CARP_OFF..].to_vec();
        b.extend_from_slice(&[0xde, 0xad]);
        let p = CarpPacket::new_checked(&b[..]).unwrap();
        assert!(CarpRepr::parse(&p).is_ok());
    }

    #[test]
    fn one_flipped_bit_fails_the_checksum() {
        let mut b = UCARP_FRAME[CARP_OFF..].to_vec();
        b[2] ^= 0x01;
        let p = CarpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(CarpRepr::parse(&p).unwrap_err(), WireError::Checksum);
    }

    #[test]
    fn checksum_of_odd_length_pads_with_zero() {
        assert_eq!(checksum(&[0x01]), !0x0100);
        assert_eq!(checksum(&[]), 0xffff);
    }

    fn arb_repr() -> impl Strategy<Value = CarpRepr> {
        (
            0u8..16,
            0u8..16,
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u64>(),
            any::<[u8; 20]>(),
        )
            .prop_map(
                |(version, type_, vhid, advskew, authlen, demote, advbase, counter, md)| CarpRepr {
                    version,
                    type_,
                    vhid,
                    advskew,
                    authlen,
                    demote,
                    advbase,
                    counter,
                    md,
                },
            )
    }

    proptest! {
        #[test]
        fn parse_emit_round_trip(r in arb_repr()) {
            let bytes = r.to_bytes();
            let p = CarpPacket::new_checked(&bytes[..]).unwrap();
            prop_assert_eq!(CarpRepr::parse(&p).unwrap(), r);
        }

        #[test]
        fn random_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(p) = CarpPacket::new_checked(&b[..]) {
                let _ = CarpRepr::parse(&p);
                let _ = (p.version(), p.type_(), p.counter(), p.md(), p.checksum());
            }
        }
    }
}
