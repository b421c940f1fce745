//! Applying translation to a packet's headers: what a state says for a
//! packet that matched it, what rule evaluation decided for the first
//! packet of a connection, and the ICMP-error case.

use super::verdict::{Endpoint, NatInfo};
use crate::eval::Flow;
use crate::nat::rewrite::{adjust_quoted_seq, adjust_seq, rewrite, rewrite_icmp_error};
use crate::pdesc::{AddrKey, Pdesc};
use crate::reason::Reason;
use crate::state::Tracked;
use ruleset::addr::Af;

fn changed(old: (AddrKey, u16), new: (AddrKey, u16)) -> Option<(AddrKey, u16)> {
    (old != new).then_some(new)
}

fn info(af: Af, src: (AddrKey, u16), dst: (AddrKey, u16)) -> NatInfo {
    NatInfo {
        src: Endpoint {
            af,
            addr: src.0,
            port: src.1,
        },
        dst: Endpoint {
            af,
            addr: dst.0,
            port: dst.1,
        },
    }
}

/// Rewrite a packet to the addresses evaluation chose (`flow`).
pub(super) fn apply_flow(frame: &mut [u8], pd: &mut Pdesc, flow: &Flow) -> Result<NatInfo, Reason> {
    let src = changed((pd.src, pd.sport), (flow.src, flow.sport));
    let dst = changed((pd.dst, pd.dport), (flow.dst, flow.dport));
    rewrite(frame, pd, src, dst)?;
    Ok(info(pd.af, (flow.src, flow.sport), (flow.dst, flow.dport)))
}

/// Rewrite a packet that matched state `t` as the state says (address
/// translation, sequence modulation).
#[inline]
pub(super) fn apply_state(
    frame: &mut [u8],
    pd: &mut Pdesc,
    t: &Tracked,
) -> Result<Option<NatInfo>, Reason> {
    let mut nat = None;
    if let Some(rw) = t.translate {
        let src = changed((pd.src, pd.sport), rw.src);
        let dst = changed((pd.dst, pd.dport), rw.dst);
        if src.is_some() || dst.is_some() {
            rewrite(frame, pd, src, dst)?;
            nat = Some(info(pd.af, rw.src, rw.dst));
        }
    }
    if let Some(sm) = t.seq {
        adjust_seq(frame, pd, sm.seq_add, sm.ack_sub.wrapping_neg())?;
    }
    Ok(nat)
}

/// Rewrite an ICMP error that matched the state of the packet it quotes:
/// the quoted packet as the state translates it, the outer addresses to
/// match, and a modulated quoted sequence number back to the peer's own.
pub(super) fn apply_icmp_error(
    frame: &mut [u8],
    pd: &mut Pdesc,
    t: &Tracked,
) -> Result<Option<NatInfo>, Reason> {
    let Some(inner) = pd.icmp_inner else {
        return Ok(None);
    };
    if t.inner_seq_sub != 0 {
        adjust_quoted_seq(frame, pd, t.inner_seq_sub.wrapping_neg())?;
    }
    let (inner_src, inner_dst) = match t.inner {
        Some(rw) => (
            changed((inner.src, inner.sport), rw.src),
            changed((inner.dst, inner.dport), rw.dst),
        ),
        None => (None, None),
    };
    let (outer_src, outer_dst) = match t.translate {
        Some(o) => (
            (o.src.0 != pd.src).then_some(o.src.0),
            (o.dst.0 != pd.dst).then_some(o.dst.0),
        ),
        None => (None, None),
    };
    if inner_src.is_none() && inner_dst.is_none() && outer_src.is_none() && outer_dst.is_none() {
        return Ok(None);
    }
    rewrite_icmp_error(frame, pd, (outer_src, outer_dst), inner_src, inner_dst)?;
    Ok(Some(info(pd.af, (pd.src, pd.sport), (pd.dst, pd.dport))))
}

/// Give the SYN that created a `modulate state` state its modulated
/// sequence number.
pub(super) fn modulate_syn(frame: &mut [u8], pd: &mut Pdesc, seqdiff: u32) -> Result<(), Reason> {
    if seqdiff == 0 {
        return Ok(());
    }
    adjust_seq(frame, pd, seqdiff, 0)
}
