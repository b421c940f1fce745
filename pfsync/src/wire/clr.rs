//! `pfsync_clr` (20 bytes): remove a creator's states (spec §3.5).

use super::{be32, fixed, take, WireError};
use crate::state::IfName;

pub const LEN: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Clr {
    /// Empty: every interface.
    pub ifname: IfName,
    pub creator: u32,
}

impl Clr {
    pub fn parse(buf: &[u8]) -> Result<Self, WireError> {
        let b = fixed::<LEN>(buf)?;
        Ok(Clr {
            ifname: IfName(take(b, 0)),
            creator: be32(b, 16),
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ifname.0);
        out.extend_from_slice(&self.creator.to_be_bytes());
    }
}
