//! `pfsync_bus` (12 bytes): bulk update status (spec §3.8).

use super::{be32, fixed, WireError};

pub const LEN: usize = 12;

pub const STATUS_START: u8 = 1;
pub const STATUS_END: u8 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bus {
    pub creator: u32,
    /// Sent as 0 and ignored (older OpenBSD compared it; 0 passes).
    pub endtime: u32,
    pub status: u8,
}

impl Bus {
    pub fn parse(buf: &[u8]) -> Result<Self, WireError> {
        let b = fixed::<LEN>(buf)?;
        Ok(Bus {
            creator: be32(b, 0),
            endtime: be32(b, 4),
            status: b[8],
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.creator.to_be_bytes());
        out.extend_from_slice(&self.endtime.to_be_bytes());
        out.extend_from_slice(&[self.status, 0, 0, 0]);
    }
}
