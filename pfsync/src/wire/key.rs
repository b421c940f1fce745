//! `pfsync_state_key` (40 bytes), spec §3.3.

use super::{be16, fixed, take, WireError};
use crate::state::StateKey;

pub const LEN: usize = 40;

pub fn parse(buf: &[u8]) -> Result<StateKey, WireError> {
    let b = fixed::<LEN>(buf)?;
    Ok(StateKey {
        addr: [take(b, 0), take(b, 16)],
        port: [be16(b, 32), be16(b, 34)],
        rdomain: be16(b, 36),
        af: b[38],
    })
}

pub fn emit(k: &StateKey, out: &mut Vec<u8>) {
    out.extend_from_slice(&k.addr[0]);
    out.extend_from_slice(&k.addr[1]);
    out.extend_from_slice(&k.port[0].to_be_bytes());
    out.extend_from_slice(&k.port[1].to_be_bytes());
    out.extend_from_slice(&k.rdomain.to_be_bytes());
    out.push(k.af);
    out.push(0);
}
