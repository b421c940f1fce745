//! The 20-byte pfsync header (spec §2.1).

use super::WireError;

pub const HEADER_LEN: usize = 20;
/// `PFSYNC_VERSION`.
pub const VERSION: u8 = 6;

/// A checked view of a pfsync payload (the bytes after the IPv4 header).
#[derive(Debug, Clone, Copy)]
pub struct Header<'a> {
    buf: &'a [u8],
}

impl<'a> Header<'a> {
    /// Accept a payload the way OpenBSD's input routine does: at least a
    /// header, version 6, and `len` within what arrived. Bytes past `len`
    /// are ignored (an authenticated trailer or link padding lives there).
    /// A `len` smaller than the header itself leaves no room for sections;
    /// OpenBSD silently processes nothing, pfd reports it as a bad length.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, WireError> {
        if buf.len() < HEADER_LEN {
            return Err(WireError::Truncated {
                need: HEADER_LEN,
                have: buf.len(),
            });
        }
        let h = Header { buf };
        if h.version() != VERSION {
            return Err(WireError::BadVersion(h.version()));
        }
        let claimed = usize::from(h.len());
        if claimed > buf.len() || claimed < HEADER_LEN {
            return Err(WireError::BadLength {
                claimed,
                have: buf.len(),
            });
        }
        Ok(h)
    }

    pub fn version(&self) -> u8 {
        self.buf[0]
    }

    /// Bytes from the start of the header to the end of the pfsync data.
    pub fn len(&self) -> u16 {
        u16::from_be_bytes([self.buf[2], self.buf[3]])
    }

    /// Never true after `new_checked`; here for clippy's `len` convention.
    pub fn is_empty(&self) -> bool {
        usize::from(self.len()) <= HEADER_LEN
    }

    /// The legacy ruleset checksum: sent as zeros, ignored on receive.
    pub fn pfcksum(&self) -> &'a [u8] {
        &self.buf[4..HEADER_LEN]
    }

    /// The sections, trailing bytes past `len` cut off.
    pub fn body(&self) -> &'a [u8] {
        &self.buf[HEADER_LEN..usize::from(self.len())]
    }
}

/// Write a header for a payload of `total_len` bytes (header included).
pub fn emit(out: &mut [u8; HEADER_LEN], total_len: u16) {
    *out = [0; HEADER_LEN];
    out[0] = VERSION;
    out[2..4].copy_from_slice(&total_len.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_trims_trailing_bytes() {
        let mut b = [0u8; 30];
        emit((&mut b[..20]).try_into().unwrap(), 24);
        let h = Header::new_checked(&b).unwrap();
        assert_eq!(h.len(), 24);
        assert_eq!(h.body().len(), 4);
        assert!(h.pfcksum().iter().all(|&x| x == 0));
    }

    #[test]
    fn refuses_short_old_and_overlong() {
        assert!(matches!(
            Header::new_checked(&[6; 19]),
            Err(WireError::Truncated { need: 20, have: 19 })
        ));
        let mut b = [0u8; 20];
        emit(&mut b, 20);
        b[0] = 5;
        assert_eq!(
            Header::new_checked(&b).unwrap_err(),
            WireError::BadVersion(5)
        );
        emit(&mut b, 21);
        assert!(matches!(
            Header::new_checked(&b),
            Err(WireError::BadLength {
                claimed: 21,
                have: 20
            })
        ));
        emit(&mut b, 19);
        assert!(matches!(
            Header::new_checked(&b),
            Err(WireError::BadLength { claimed: 19, .. })
        ));
    }
}
