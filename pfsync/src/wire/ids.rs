//! The 12-byte (id, creatorid) records: `pfsync_ins_ack` (2),
//! `pfsync_upd_req` (5) and `pfsync_del_c` (7), spec §3.6.

use super::{be32, be64, fixed, WireError};
use crate::state::StateId;

pub const LEN: usize = 12;

pub fn parse(buf: &[u8]) -> Result<StateId, WireError> {
    let b = fixed::<LEN>(buf)?;
    Ok(StateId::new(be64(b, 0), be32(b, 8)))
}

pub fn emit(id: &StateId, out: &mut Vec<u8>) {
    out.extend_from_slice(&id.id.to_be_bytes());
    out.extend_from_slice(&id.creator.to_be_bytes());
}
