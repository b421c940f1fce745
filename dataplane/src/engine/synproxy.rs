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
pub(super) fn frame_for(
    frame: &[u8],
    pd: &Pdesc,
    link: Link,
    seg: &ProxySegment,
) -> Option<Emitted> {
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
    Some(Emitted {
        frame,
        toward,
        generated: seg.generated,
    })
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
        v.emit.extend(frame_for(pkt.frame, pd, self.cfg.link, &seg));
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
        let mut v = Verdict::drop(step.reason);
        v.state = StateOutcome::Match;
        v.rule = self
            .state_ref(step.rule)
            .and_then(|r| self.rule_nr((r.ruleset.0, r.index)));
        v.emit = step
            .send
            .iter()
            .filter_map(|s| frame_for(pkt.frame, pd, self.cfg.link, s))
            .collect();
        Some(v)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::engine::{Action, EngineConfig, IfConfig};
    use crate::state::tcps;
    use crate::wire::frame::{parse_frame, Parsed};
    use ruleset::compile::addr_key;

    pub(crate) const US: [u8; 6] = [2, 0, 0, 0, 0, 0xfe];
    pub(crate) const PEER: [u8; 6] = [2, 0, 0, 0, 0, 1];
    pub(crate) const CLIENT: &str = "198.51.100.7";
    pub(crate) const SERVER: &str = "203.0.113.5";

    fn engine(rules: &str) -> Engine {
        let env = ruleset::hostenv::RegressHost::new();
        let cfg = ruleset::parse::ParseConfig {
            env: &env,
            files: &ruleset::lexer::FsSource,
            anchor: String::new(),
            macros: Vec::new(),
            queues: Vec::new(),
        };
        let p = ruleset::parse::parse("t", rules.as_bytes().to_vec(), &cfg);
        let c = ruleset::compile::compile(&p).expect("compiles");
        let cfg = EngineConfig {
            interfaces: vec![IfConfig {
                name: "em0".into(),
                addrs: Vec::new(),
                groups: Vec::new(),
            }],
            link: Link::Ethernet,
            seed: 3,
        };
        Engine::new(c, cfg).expect("loads")
    }

    /// A segment from `src` to `dst`, framed as seen inbound (to us) or
    /// outbound (from us).
    pub(crate) fn frame(
        src: (&str, u16),
        dst: (&str, u16),
        seq: u32,
        ack: u32,
        flags: u8,
        dir: Dir,
    ) -> Vec<u8> {
        let ip = tcp_segment(&TcpSegment {
            af: Af::Inet,
            src: addr_key(src.0.parse().unwrap()),
            dst: addr_key(dst.0.parse().unwrap()),
            sport: src.1,
            dport: dst.1,
            seq,
            ack,
            flags,
            win: 1000,
            mss: (flags & tcp_flags::SYN != 0).then_some(1460),
            ttl: 0,
        });
        match dir {
            Dir::In => ethernet_wrap(&ip, PEER, US, None),
            Dir::Out => ethernet_wrap(&ip, US, PEER, None),
        }
    }

    fn run(eng: &Engine, f: Vec<u8>, dir: Dir) -> Verdict {
        let mut w = eng.worker();
        let mut f = f;
        eng.process(
            &mut w,
            1_000_000_000,
            &mut Packet {
                frame: &mut f,
                ifindex: 0,
                dir,
            },
        )
    }

    fn tcp_of(e: &Emitted) -> (Pdesc, TcpInfo) {
        match parse_frame(&e.frame, Link::Ethernet) {
            Ok(Parsed::Ip(pd)) => (pd, pd.tcp.expect("TCP")),
            other => panic!("not IP: {other:?}"),
        }
    }

    /// Which frames pf lets through its own rules (PF_TAG_GENERATED):
    /// those to the client; those to the server are filtered again.
    #[test]
    fn handshake_frames_and_which_pf_filters_again() {
        let eng = engine("block all\npass in proto tcp to port 80 synproxy state\n");
        let (c, s) = ((CLIENT, 40000), (SERVER, 80));
        let v = run(&eng, frame(c, s, 1000, 0, tcp_flags::SYN, Dir::In), Dir::In);
        assert_eq!(
            (v.action, v.reason, v.state),
            (Action::Block, Reason::Synproxy, StateOutcome::New)
        );
        assert_eq!(v.emit.len(), 1);
        let e = &v.emit[0];
        assert_eq!((e.toward, e.generated), (Toward::Sender, true));
        assert_eq!((&e.frame[0..6], &e.frame[6..12]), (&PEER[..], &US[..]));
        let (pd, t) = tcp_of(e);
        assert_eq!(
            (pd.sport, pd.dport, t.flags, t.ack, t.mss),
            (80, 40000, tcp_flags::SYN | tcp_flags::ACK, 1001, Some(1460))
        );
        let fw_c = t.seq;

        let v = run(
            &eng,
            frame(c, s, 1001, fw_c.wrapping_add(1), tcp_flags::ACK, Dir::In),
            Dir::In,
        );
        assert_eq!(
            (v.action, v.reason, v.state),
            (Action::Block, Reason::Synproxy, StateOutcome::Match)
        );
        assert_eq!(v.emit.len(), 1);
        assert_eq!(
            (v.emit[0].toward, v.emit[0].generated),
            (Toward::Onward, false)
        );
        let (_, t) = tcp_of(&v.emit[0]);
        assert_eq!((t.flags, t.ack, t.win), (tcp_flags::SYN, 0, 0));
        let fw_s = t.seq;

        let v = run(
            &eng,
            frame(
                s,
                c,
                5000,
                fw_s.wrapping_add(1),
                tcp_flags::SYN | tcp_flags::ACK,
                Dir::Out,
            ),
            Dir::Out,
        );
        assert_eq!(v.reason, Reason::Synproxy);
        let kinds: Vec<_> = v.emit.iter().map(|e| (e.toward, e.generated)).collect();
        assert_eq!(kinds, [(Toward::Sender, false), (Toward::Onward, true)]);
        let st = eng.states().states();
        assert_eq!(st.len(), 1);
        let (src, dst) = (st[0].src, st[0].dst);
        assert_eq!(
            (src.state, dst.state),
            (tcps::ESTABLISHED, tcps::ESTABLISHED)
        );
        assert_eq!(src.seqdiff, fw_s.wrapping_sub(1000));
        assert_eq!(dst.seqdiff, fw_c.wrapping_sub(5000));
        assert_eq!((src.wscale, dst.wscale), (0, 0));
        assert_eq!((src.max_win, dst.max_win), (1000, 1000));
    }

    /// Outbound, a synproxy rule keeps an ordinary state (pfctl warns it
    /// proxies inbound connections only).
    #[test]
    fn outbound_syn_on_a_synproxy_rule_passes() {
        let eng = engine("pass proto tcp synproxy state\n");
        let v = run(
            &eng,
            frame(
                (CLIENT, 40000),
                (SERVER, 80),
                1000,
                0,
                tcp_flags::SYN,
                Dir::Out,
            ),
            Dir::Out,
        );
        assert_eq!((v.action, v.state), (Action::Pass, StateOutcome::New));
        assert!(v.emit.is_empty());
        assert_eq!(eng.states().states()[0].src.state, tcps::SYN_SENT);
    }

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
