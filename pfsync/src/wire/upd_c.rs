//! `pfsync_upd_c` (84 bytes), the compressed update (spec §3.7).

use super::{be32, be64, fixed, peer, WireError};
use crate::state::{Peer, StateId};

pub const LEN: usize = 84;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UpdC {
    pub id: StateId,
    pub src: Peer,
    pub dst: Peer,
    /// Sent as 0 and ignored on receive; kept so records round-trip.
    pub expire: u32,
    pub timeout: u8,
    /// Sent as 0 and ignored on receive.
    pub state_flags: u8,
}

impl UpdC {
    pub fn parse(buf: &[u8]) -> Result<Self, WireError> {
        let b = fixed::<LEN>(buf)?;
        Ok(UpdC {
            id: StateId::new(be64(b, 0), be32(b, 72)),
            src: peer::parse(&b[8..])?,
            dst: peer::parse(&b[40..])?,
            expire: be32(b, 76),
            timeout: b[80],
            state_flags: b[81],
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id.id.to_be_bytes());
        peer::emit(&self.src, out);
        peer::emit(&self.dst, out);
        out.extend_from_slice(&self.id.creator.to_be_bytes());
        out.extend_from_slice(&self.expire.to_be_bytes());
        out.extend_from_slice(&[self.timeout, self.state_flags, 0, 0]);
    }

    /// Peer levels and timeout class within OpenBSD's limits.
    pub fn is_valid(&self) -> bool {
        use crate::state::{PFTM_MAX, PF_TCPS_PROXY_DST};
        self.timeout < PFTM_MAX
            && self.src.state <= PF_TCPS_PROXY_DST
            && self.dst.state <= PF_TCPS_PROXY_DST
    }
}
