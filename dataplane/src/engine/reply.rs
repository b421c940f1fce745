//! Replies to blocked packets (`block return`, `return-rst`,
//! `return-icmp`), as pf_test_rule sends them: a TCP RST to a TCP
//! segment that is not itself a RST, else an ICMP or ICMPv6 error,
//! never in answer to an ICMP error.

use crate::pdesc::{proto, tcp_flags, Pdesc};
use crate::wire::build::{ethernet_wrap, icmp_error_for, tcp_rst_for};
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
        if pd.tcp_flags() & tcp_flags::RST != 0 {
            return None;
        }
        let mut p = tcp_rst_for(frame, pd)?;
        if ttl != 0 {
            set_ttl(&mut p, pd.af, ttl);
        }
        p
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
    match link {
        Link::RawIp => Some(ip),
        Link::Ethernet => {
            let dst: [u8; 6] = frame.get(6..12)?.try_into().ok()?;
            let src: [u8; 6] = frame.get(0..6)?.try_into().ok()?;
            Some(ethernet_wrap(&ip, src, dst, pd.vlan))
        }
    }
}

/// Set the TTL / hop limit of a built reply (`return-rst (ttl N)`),
/// fixing the IPv4 header checksum.
fn set_ttl(ip: &mut [u8], af: Af, ttl: u8) {
    match af {
        Af::Inet => {
            if ip.len() < 20 {
                return;
            }
            let old = u16::from_be_bytes([ip[8], ip[9]]);
            ip[8] = ttl;
            let new = u16::from_be_bytes([ip[8], ip[9]]);
            let ck = u16::from_be_bytes([ip[10], ip[11]]);
            let ck = crate::wire::checksum::update16(ck, old, new);
            ip[10..12].copy_from_slice(&ck.to_be_bytes());
        }
        Af::Inet6 => {
            if let Some(h) = ip.get_mut(7) {
                *h = ttl;
            }
        }
    }
}
