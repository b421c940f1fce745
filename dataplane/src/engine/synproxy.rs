//! `synproxy state` in the pipeline: the client's SYN that creates the
//! state, and the handshake packets that meet it, are consumed, and the
//! segments pf's `pf_send_tcp` would send go out as [`Emitted`] frames.
//! The handshake itself is the state table's
//! (`StateTable::synproxy_begin` / `synproxy_step`).
//!
//! Cost of a flood SYN (rule evaluation, state insertion, SYN|ACK built
//! and framed), `cargo bench -p dataplane --bench engine -- synproxy_syn`
//! on the shared 2-core VM (load average ~4): 717 ns (1.39 M SYN/s on
//! one core), against 426 ns for a new UDP state in the same run.

use super::verdict::{Emitted, StateOutcome, Toward, Verdict};
use super::{Engine, Packet};
use crate::key::StateKey;
use crate::pdesc::{tcp_flags, Dir, Pdesc, TcpInfo};
use crate::reason::Reason;
use crate::state::{ProxySegment, StateId};
use crate::wire::build::{ethernet_wrap, tcp_segment, TcpSegment};
use crate::wire::frame::Link;
use ruleset::addr::Af;

/// The kernel's `tcp_mssdflt`.
const TCP_MSSDFLT: u16 = 512;
/// The MTU `pf_calc_mss` finds on the route to an address. The engine
/// has no routing table (every destination is routable, as in
/// `Env::has_route`), so every route is taken to be Ethernet's.
const ROUTE_MTU: u16 = 1500;
/// `pf_calc_mss`'s floor: room for the largest TCP options.
const MIN_MSS: u16 = 64;

/// pf's `pf_get_mss`: 0 for a SYN without options, the default MSS for
/// one whose options hold no MSS.
fn get_mss(t: &TcpInfo) -> u16 {
    if t.hdr_len <= 20 {
        0
    } else {
        t.mss.unwrap_or(TCP_MSSDFLT)
    }
}

/// pf's `pf_calc_mss` for a route of [`ROUTE_MTU`]. pf applies it for
/// the source and then the destination route; with one MTU for every
/// route the second changes nothing.
fn calc_mss(af: Af, offer: u16) -> u16 {
    let hdrs = match af {
        Af::Inet => 20 + 20,
        Af::Inet6 => 40 + 20,
    };
    let route = ROUTE_MTU.saturating_sub(hdrs).max(TCP_MSSDFLT);
    route.min(offer).max(MIN_MSS)
}

/// The MSS the firewall announces to both ends for this client SYN.
pub(super) fn mss_for(pd: &Pdesc) -> u16 {
    let offer = pd.tcp.map_or(0, |t| get_mss(&t));
    calc_mss(pd.af, offer)
}

/// Whether pf_create_state proxies this packet's connection: a SYN
/// (without ACK), inbound (pfctl warns that outbound synproxy rules
/// proxy nothing).
pub(super) fn proxies(pd: &Pdesc, dir: Dir) -> bool {
    dir == Dir::In
        && !pd.fragment
        && pd
            .tcp
            .is_some_and(|t| t.flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN)
}

/// The frame for `seg`: the IP packet, wrapped as the packet in `frame`
/// was. Frames back to the sender swap the packet's MAC addresses (as
/// a `block return` reply); frames onward keep them, as the packet
/// would have left had it passed.
fn frame_for(frame: &[u8], pd: &Pdesc, link: Link, seg: &ProxySegment) -> Option<Emitted> {
    let ip = tcp_segment(&TcpSegment {
        af: pd.af,
        src: seg.src.0,
        dst: seg.dst.0,
        sport: seg.src.1,
        dport: seg.dst.1,
        seq: seg.seq,
        ack: seg.ack,
        flags: seg.flags,
        win: seg.win,
        mss: seg.mss,
        ttl: 0,
    });
    let toward = if seg.to_sender {
        Toward::Sender
    } else {
        Toward::Onward
    };
    let frame = match link {
        Link::RawIp => ip,
        Link::Ethernet => {
            let dst: [u8; 6] = frame.get(0..6)?.try_into().ok()?;
            let src: [u8; 6] = frame.get(6..12)?.try_into().ok()?;
            match toward {
                Toward::Sender => ethernet_wrap(&ip, dst, src, pd.vlan),
                Toward::Onward => ethernet_wrap(&ip, src, dst, pd.vlan),
            }
        }
    };
    Some(Emitted { frame, toward })
}

impl Engine {
    /// The client's SYN created state `id` on a `synproxy state` rule:
    /// answer it with the firewall's SYN|ACK and consume it (pf's
    /// `PF_SYNPROXY_DROP`, reason `PFRES_SYNPROXY`).
    pub(super) fn synproxy_begin(
        &self,
        pkt: &Packet<'_>,
        pd: &Pdesc,
        id: StateId,
        v: &mut Verdict,
    ) {
        v.action = super::Action::Block;
        v.reason = Reason::Synproxy;
        let Some(seg) = self.states.synproxy_begin(id, pd, mss_for(pd)) else {
            return;
        };
        v.emit.extend(frame_for(pkt.frame, pd, self.link, &seg));
    }

    /// A packet whose state is proxying a handshake. `None`: the state
    /// finished its handshake (or went away) meanwhile; test it again.
    pub(super) fn synproxy_state(
        &self,
        pkt: &Packet<'_>,
        pd: &Pdesc,
        now_ns: u64,
    ) -> Option<Verdict> {
        let key = StateKey::from_pdesc(pd, pkt.dir, 0);
        let ifidx = u32::try_from(pkt.ifindex).unwrap_or(u32::MAX);
        let step = self
            .states
            .synproxy_step(&key, pd, pkt.dir, ifidx, now_ns)?;
        let mut v = Verdict::drop(Reason::Synproxy);
        v.state = StateOutcome::Match;
        v.rule = self.rule_nr(step.rule);
        v.emit = step
            .send
            .iter()
            .filter_map(|s| frame_for(pkt.frame, pd, self.link, s))
            .collect();
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syn(hdr_len: u8, mss: Option<u16>) -> TcpInfo {
        TcpInfo {
            flags: tcp_flags::SYN,
            hdr_len,
            mss,
            ..TcpInfo::default()
        }
    }

    #[test]
    fn mss_as_pf_calc_mss_makes_it() {
        // the client's offer, capped by the route's MTU
        assert_eq!(calc_mss(Af::Inet, get_mss(&syn(24, Some(1460)))), 1460);
        assert_eq!(calc_mss(Af::Inet, get_mss(&syn(24, Some(9000)))), 1460);
        assert_eq!(calc_mss(Af::Inet6, get_mss(&syn(24, Some(9000)))), 1440);
        assert_eq!(calc_mss(Af::Inet, get_mss(&syn(24, Some(536)))), 536);
        // options without an MSS: the default MSS
        assert_eq!(calc_mss(Af::Inet, get_mss(&syn(24, None))), 512);
        // no options at all: pf_get_mss says 0, the floor applies
        assert_eq!(calc_mss(Af::Inet, get_mss(&syn(20, None))), 64);
        assert_eq!(calc_mss(Af::Inet, get_mss(&syn(24, Some(10)))), 64);
    }
}
