//! `pfsync_state` (264 bytes), the full record of INS, UPD and DEL
//! (spec §3.4).

use super::{be16, be32, be64, fixed, key, peer, take, WireError};
use crate::state::{IfName, StateId, StateRecord};

pub const LEN: usize = 264;

/// Decode one record. Bytes past 264 (a newer peer's extra fields) are
/// ignored.
pub fn parse(buf: &[u8]) -> Result<StateRecord, WireError> {
    let b = fixed::<LEN>(buf)?;
    Ok(StateRecord {
        id: StateId::new(be64(b, 0), be32(b, 236)),
        ifname: IfName(take(b, 8)),
        keys: [key::parse(&b[24..])?, key::parse(&b[64..])?],
        src: peer::parse(&b[104..])?,
        dst: peer::parse(&b[136..])?,
        rt_addr: take(b, 168),
        rule: be32(b, 184),
        anchor: be32(b, 188),
        nat_rule: be32(b, 192),
        creation: be32(b, 196),
        expire: be32(b, 200),
        packets: [be64(b, 204), be64(b, 212)],
        bytes: [be64(b, 220), be64(b, 228)],
        rtableid: [be32(b, 240) as i32, be32(b, 244) as i32],
        max_mss: be16(b, 248),
        af: b[250],
        proto: b[251],
        direction: b[252],
        log: b[253],
        rt: b[254],
        timeout: b[255],
        sync_flags: b[256],
        updates: b[257],
        min_ttl: b[258],
        set_tos: b[259],
        state_flags: be16(b, 260),
        set_prio: [b[262], b[263]],
    })
}

pub fn emit(s: &StateRecord, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&s.id.id.to_be_bytes());
    out.extend_from_slice(&s.ifname.0);
    key::emit(&s.keys[0], out);
    key::emit(&s.keys[1], out);
    peer::emit(&s.src, out);
    peer::emit(&s.dst, out);
    out.extend_from_slice(&s.rt_addr);
    for v in [s.rule, s.anchor, s.nat_rule, s.creation, s.expire] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    for v in [s.packets[0], s.packets[1], s.bytes[0], s.bytes[1]] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&s.id.creator.to_be_bytes());
    out.extend_from_slice(&s.rtableid[0].to_be_bytes());
    out.extend_from_slice(&s.rtableid[1].to_be_bytes());
    out.extend_from_slice(&s.max_mss.to_be_bytes());
    out.extend_from_slice(&[
        s.af,
        s.proto,
        s.direction,
        s.log,
        s.rt,
        s.timeout,
        s.sync_flags,
        s.updates,
        s.min_ttl,
        s.set_tos,
    ]);
    out.extend_from_slice(&s.state_flags.to_be_bytes());
    out.extend_from_slice(&s.set_prio);
    debug_assert_eq!(out.len() - start, LEN);
}
