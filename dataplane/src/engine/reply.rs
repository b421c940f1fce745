//! Replies to blocked packets (`block return`, `return-rst`,
//! `return-icmp`), as pf_test_rule sends them: a TCP RST to a TCP
//! segment that is not itself a RST, else an ICMP or ICMPv6 error,
//! never in answer to an ICMP error. And the segments state tracking
//! answers with ([`for_state`]): the challenge ACK, the handshake RST.

use crate::pdesc::{proto, Pdesc};
use crate::state::StateReply;
use crate::wire::build::{
    ethernet_wrap, icmp_error_for, tcp_rst_with_ttl, tcp_segment, TcpSegment,
};
use crate::wire::frame::Link;
use ruleset::addr::Af;
use ruleset::compile::CRule;
use ruleset::rule::BlockReturn;

/// ICMP destination unreachable, port unreachable: pf's default.
const ICMP_PORT_UNREACH: u16 = 3 << 8 | 3;
/// ICMPv6 destination unreachable, port unreachable.
const ICMP6_PORT_UNREACH: u16 = 1 << 8 | 4;

/// The frame to send back for a packet `rule` blocked, if any.
pub(super) fn for_block(frame: &[u8], pd: &Pdesc, rule: &CRule, link: Link) -> Option<Vec<u8>> {
    let (rst, icmp, icmp6, ttl) = match rule.actions.block {
        BlockReturn::Drop => return None,
        BlockReturn::Return { icmp, icmp6 } => (true, icmp, icmp6, 0),
        BlockReturn::ReturnRst { ttl } => (true, 0, 0, ttl),
        BlockReturn::ReturnIcmp { icmp, icmp6 } => (false, icmp, icmp6, 0),
    };
    let is_tcp = pd.proto == proto::TCP && !pd.fragment;
    let ip = if is_tcp && rst {
        // none for a segment that is itself a reset
        tcp_rst_with_ttl(frame, pd, ttl)?
    } else if matches!(rule.actions.block, BlockReturn::ReturnRst { .. }) {
        // return-rst only answers TCP.
        return None;
    } else {
        if pd.icmp_inner.is_some() {
            return None;
        }
        let code = match pd.af {
            Af::Inet if icmp != 0 => icmp,
            Af::Inet => ICMP_PORT_UNREACH,
            Af::Inet6 if icmp6 != 0 => icmp6,
            Af::Inet6 => ICMP6_PORT_UNREACH,
        };
        icmp_error_for(frame, pd, (code >> 8) as u8, (code & 0xff) as u8)?
    };
    back_to_sender(frame, pd, ip, link)
}

/// The `return-ttl` of `rule` (0, the default, unless `return-rst (ttl
/// n)`), which pf puts on every segment it sends for a state of the rule.
pub(super) fn return_ttl(rule: Option<&CRule>) -> u8 {
    match rule.map(|r| r.actions.block) {
        Some(BlockReturn::ReturnRst { ttl }) => ttl,
        _ => 0,
    }
}

/// The segment state tracking answers the TCP segment in `frame` with
/// (`pf_send_tcp` from `pf_test_state` / `pf_tcp_track_full`): from its
/// destination address and port back to its source, the state's
/// numbers, window 0, no options. `None` if the packet is not TCP.
pub(super) fn for_state(
    frame: &[u8],
    pd: &Pdesc,
    reply: StateReply,
    ttl: u8,
    link: Link,
) -> Option<Vec<u8>> {
    if pd.proto != proto::TCP || pd.tcp.is_none() {
        return None;
    }
    let ip = tcp_segment(&TcpSegment {
        af: pd.af,
        src: pd.dst,
        dst: pd.src,
        sport: pd.dport,
        dport: pd.sport,
        seq: reply.seq,
        ack: reply.ack,
        flags: reply.flags,
        win: 0,
        mss: None,
        ttl,
    });
    back_to_sender(frame, pd, ip, link)
}

/// `ip` framed to go back where `frame` came from: its MAC addresses
/// swapped, its VLAN kept.
fn back_to_sender(frame: &[u8], pd: &Pdesc, ip: Vec<u8>, link: Link) -> Option<Vec<u8>> {
    match link {
        Link::RawIp => Some(ip),
        Link::Ethernet => {
            let dst: [u8; 6] = frame.get(6..12)?.try_into().ok()?;
            let src: [u8; 6] = frame.get(0..6)?.try_into().ok()?;
            Some(ethernet_wrap(&ip, src, dst, pd.vlan))
        }
    }
}
