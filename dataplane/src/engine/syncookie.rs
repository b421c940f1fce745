//! `set syncookies` in the pipeline (the syncookie parts of pf's
//! `pf_test`):
//!
//! * while cookies are active, an inbound SYN (without ACK) is answered
//!   with a SYN|ACK whose ISN is a cookie and dropped, before any state
//!   lookup or rule, and nothing is kept;
//! * an inbound ACK (without SYN or RST) that matches no state and brings
//!   a valid cookie back has its client's SYN recreated (the client's
//!   ISN, the MSS from the cookie, the window pf puts there: the cookie's
//!   window shift) and run through the rules. If a rule passes it and
//!   keeps state, that state continues as a `synproxy state` handshake
//!   whose client side is already done: the ACK opens the connection to
//!   the server. A recreated SYN the rules block leaves the ACK to the
//!   rules; one they pass without state drops the ACK.
//!
//! An ACK without a valid cookie is simply evaluated as any packet
//! without a state. The secrets, counters and modes are
//! [`crate::syncookie::Syncookies`].
//!
//! Where pfd differs from pf: a `synproxy state` rule passing the
//! recreated SYN makes pf send the client a second SYN|ACK with another
//! ISN, which the client can only answer with an ACK that fits nothing;
//! pfd drops that segment. The SYN towards the server announces the MSS
//! from the cookie (as `synproxy state` would have announced the
//! client's), where pf announces none when the passing rule is not a
//! synproxy rule.

use super::ifaces::Iface;
use super::synproxy::{frame_for, mss_for};
use super::{Engine, Packet, StateOutcome, Verdict, Worker};
use crate::key::StateKey;
use crate::pdesc::{tcp_flags, Dir, Pdesc};
use crate::reason::Reason;
use crate::state::ProxySegment;
use crate::syncookie::cookie::Tuple;
use crate::wire::build::{ethernet_wrap, tcp_segment, TcpSegment};
use crate::wire::frame::{empty_pdesc, parse_frame_into, Frame, Link};

/// The kernel's `tcp_mssdflt`: pf offers at least this in its cookie
/// SYN|ACK.
const TCP_MSSDFLT: u16 = 512;

fn tuple(pd: &Pdesc) -> Tuple {
    Tuple {
        af: pd.af,
        src: pd.src,
        dst: pd.dst,
        sport: pd.sport,
        dport: pd.dport,
    }
}

impl Engine {
    /// pf's `pf_synflood_check` and `pf_syncookie_send` for a packet not
    /// yet looked up: the cookie SYN|ACK verdict if `pd` is an inbound
    /// SYN and cookies are on.
    pub(super) fn syncookie_syn(
        &self,
        w: &mut Worker,
        now_ns: u64,
        pkt: &Packet<'_>,
        pd: &Pdesc,
    ) -> Option<Verdict> {
        let th = pd.tcp?;
        if pkt.dir != Dir::In
            || pd.fragment
            || th.flags & (tcp_flags::SYN | tcp_flags::ACK) != tcp_flags::SYN
        {
            return None;
        }
        let half_open = self.states.half_open() as u64;
        self.cookies.tick(now_ns, half_open);
        if !self.cookies.flood_check(now_ns, half_open) {
            return None;
        }
        // pf offers the client's own MSS, never less than the default
        let mss = th.mss.unwrap_or(TCP_MSSDFLT).max(TCP_MSSDFLT);
        let iss = self.cookies.generate(&tuple(pd), th.seq, mss, th.wscale);
        let seg = ProxySegment {
            to_sender: true,
            src: (pd.dst, pd.dport),
            dst: (pd.src, pd.sport),
            seq: iss,
            ack: th.seq.wrapping_add(1),
            flags: tcp_flags::SYN | tcp_flags::ACK,
            win: 0,
            mss: Some(mss),
            generated: true,
        };
        // dropped, but under no reason: pf sets none for it
        let mut v = Verdict::drop(Reason::Match);
        w.uncounted = true;
        v.emit.extend(frame_for(pkt.frame, pd, self.cfg.link, &seg));
        Some(v)
    }

    /// pf's `pf_syncookie_validate` and what follows it, for a packet
    /// that matched no state. `None`: not a valid cookie ACK, or its
    /// recreated SYN was blocked: the rules decide on the packet.
    pub(super) fn syncookie_ack(
        &self,
        w: &mut Worker,
        now_ns: u64,
        pkt: &Packet<'_>,
        pd: &Pdesc,
        ifp: &Iface,
    ) -> Option<Verdict> {
        let th = pd.tcp?;
        if pkt.dir != Dir::In
            || pd.fragment
            || th.flags & (tcp_flags::SYN | tcp_flags::ACK | tcp_flags::RST) != tcp_flags::ACK
        {
            return None;
        }
        self.cookies.tick(now_ns, self.states.half_open() as u64);
        let bits = self.cookies.validate(&tuple(pd), th.seq, th.ack)?;
        let client_isn = th.seq.wrapping_sub(1);
        // pf_syncookie_recreate_syn: pf_build_tcp with the window shift
        // where the window goes, and the MSS option
        let ip = tcp_segment(&TcpSegment {
            af: pd.af,
            src: pd.src,
            dst: pd.dst,
            sport: pd.sport,
            dport: pd.dport,
            seq: client_isn,
            ack: 0,
            flags: tcp_flags::SYN,
            win: u16::from(bits.wscale()),
            mss: Some(bits.mss()),
            ttl: pd.ttl,
        });
        let mut syn = match self.cfg.link {
            Link::RawIp => ip,
            Link::Ethernet => {
                let dst: [u8; 6] = pkt.frame.get(0..6)?.try_into().ok()?;
                let src: [u8; 6] = pkt.frame.get(6..12)?.try_into().ok()?;
                ethernet_wrap(&ip, src, dst, pd.vlan)
            }
        };
        let mut spd = empty_pdesc(pd.af);
        if !matches!(
            parse_frame_into(&syn, self.cfg.link, &mut spd),
            Ok(Frame::Ip)
        ) {
            return None;
        }
        let mut sp = Packet {
            frame: &mut syn,
            ifindex: pkt.ifindex,
            dir: Dir::In,
        };
        let sv = self.test_rules(w, now_ns, &mut sp, &mut spd, ifp);
        // a synproxy rule "drops" the SYN it proxies: pf turns that into
        // a pass; its SYN|ACK is not sent (see above)
        let passed = sv.action == super::Action::Pass
            || (sv.reason == Reason::Synproxy && sv.state == StateOutcome::New);
        if !passed {
            return None;
        }
        let key = StateKey::from_pdesc(pd, pkt.dir, 0);
        let ifidx = u32::try_from(pkt.ifindex).unwrap_or(u32::MAX);
        if self
            .states
            .syncookie_proxy(
                &key,
                pkt.dir,
                ifidx,
                now_ns,
                (client_isn, th.ack.wrapping_sub(1)),
                mss_for(&spd),
            )
            .is_none()
        {
            // passed without a state: nothing to proxy the connection on
            let mut v = Verdict::drop(Reason::Match);
            w.uncounted = true;
            v.rule = sv.rule;
            v.log = sv.log;
            return Some(v);
        }
        let mut v = self
            .synproxy_state(pkt, pd, now_ns)
            .unwrap_or_else(|| Verdict::drop(Reason::Synproxy));
        v.state = StateOutcome::New;
        v.rule = sv.rule.or(v.rule);
        if v.log.is_none() {
            v.log = sv.log;
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Action, Emitted, EngineConfig, IfConfig, Toward};
    use crate::pdesc::TcpInfo;
    use crate::state::tcps;
    use crate::wire::frame::{parse_frame, Parsed};
    use ruleset::addr::Af;
    use ruleset::compile::addr_key;

    // synproxy's test segments and hosts: a cookie handshake ends in one
    use crate::engine::synproxy::tests::{frame, CLIENT, PEER, SERVER, US};
    const SEC: u64 = 1_000_000_000;

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
        Engine::new(
            c,
            EngineConfig {
                interfaces: vec![IfConfig {
                    name: "em0".into(),
                    addrs: Vec::new(),
                    groups: Vec::new(),
                }],
                link: Link::Ethernet,
                seed: 3,
            },
        )
        .expect("loads")
    }

    fn run(eng: &Engine, w: &mut Worker, now: u64, f: Vec<u8>, dir: Dir) -> Verdict {
        let mut f = f;
        eng.process(
            w,
            now,
            &mut Packet {
                frame: &mut f,
                ifindex: 0,
                dir,
            },
        )
    }

    fn tcp_of(e: &Emitted) -> TcpInfo {
        match parse_frame(&e.frame, Link::Ethernet) {
            Ok(Parsed::Ip(pd)) => pd.tcp.expect("TCP"),
            other => panic!("not IP: {other:?}"),
        }
    }

    const C: (&str, u16) = (CLIENT, 40000);
    const S: (&str, u16) = (SERVER, 80);

    /// The cookie's SYN|ACK, no state, no reason counted; the client's
    /// ACK recreates the SYN, the rule keeps a state, and it goes on as
    /// synproxy: the SYN to the server.
    #[test]
    fn always_cookie_then_proxy() {
        let eng = engine("set syncookies always\nblock all\npass in proto tcp to port 80\n");
        let mut w = eng.worker();
        let v = run(
            &eng,
            &mut w,
            SEC,
            frame(C, S, 1000, 0, tcp_flags::SYN, Dir::In),
            Dir::In,
        );
        assert_eq!((v.action, v.state), (Action::Block, StateOutcome::None));
        assert_eq!(w.reasons, Default::default(), "no reason counted");
        assert_eq!(eng.state_count(), 0);
        let [e] = &v.emit[..] else { panic!("{v:?}") };
        assert_eq!((e.toward, e.generated), (Toward::Sender, true));
        let t = tcp_of(e);
        assert_eq!(
            (t.flags, t.ack, t.win, t.mss),
            (tcp_flags::SYN | tcp_flags::ACK, 1001, 0, Some(1460))
        );
        let cookie = t.seq;
        assert_eq!(eng.syncookies().counters().sent, 1);

        let ack = frame(C, S, 1001, cookie.wrapping_add(1), tcp_flags::ACK, Dir::In);
        let v = run(&eng, &mut w, 2 * SEC, ack, Dir::In);
        assert_eq!(
            (v.action, v.reason, v.state),
            (Action::Block, Reason::Synproxy, StateOutcome::New)
        );
        assert_eq!(v.rule.map(|r| r.nr), Some(1));
        let [e] = &v.emit[..] else { panic!("{v:?}") };
        assert_eq!((e.toward, e.generated), (Toward::Onward, false));
        let t = tcp_of(e);
        assert_eq!(
            (t.flags, t.ack, t.win, t.mss),
            (tcp_flags::SYN, 0, 0, Some(1460))
        );
        assert_eq!(eng.syncookies().counters().valid, 1);
        let st = eng.states().states();
        assert_eq!(st.len(), 1);
        assert_eq!(st[0].src.state, tcps::PROXY_DST);
        assert_eq!((st[0].src.seqlo, st[0].src.seqhi), (1000, cookie));

        // the server answers; the handshake completes as synproxy's
        let sa = frame(
            S,
            C,
            5000,
            t.seq.wrapping_add(1),
            tcp_flags::SYN | tcp_flags::ACK,
            Dir::Out,
        );
        let v = run(&eng, &mut w, 3 * SEC, sa, Dir::Out);
        assert_eq!(v.emit.len(), 2);
        let st = eng.states().states();
        assert_eq!(
            (st[0].src.state, st[0].dst.state),
            (tcps::ESTABLISHED, tcps::ESTABLISHED)
        );
        assert_eq!(
            st[0].dst.seqdiff,
            cookie.wrapping_sub(5000),
            "server's ISN onto the cookie"
        );
    }

    /// An ACK whose cookie does not check is an ordinary stateless ACK:
    /// here `block all` takes it, and no state is made.
    #[test]
    fn forged_ack_gets_no_state() {
        let eng = engine("set syncookies always\nblock all\npass in proto tcp to port 80\n");
        let mut w = eng.worker();
        let v = run(
            &eng,
            &mut w,
            SEC,
            frame(C, S, 1000, 0, tcp_flags::SYN, Dir::In),
            Dir::In,
        );
        let cookie = tcp_of(&v.emit[0]).seq;
        for (seq, ack) in [
            (1001, cookie.wrapping_add(2)),
            (1002, cookie.wrapping_add(1)),
            (77, 99),
        ] {
            let v = run(
                &eng,
                &mut w,
                2 * SEC,
                frame(C, S, seq, ack, tcp_flags::ACK, Dir::In),
                Dir::In,
            );
            assert_eq!(
                (v.action, v.reason, v.state),
                (Action::Block, Reason::Match, StateOutcome::None)
            );
            assert!(v.emit.is_empty());
            assert_eq!(v.rule.map(|r| r.nr), Some(0), "the block rule");
        }
        assert_eq!(eng.state_count(), 0);
        assert_eq!(eng.syncookies().counters().valid, 0);
        assert_eq!(w.reasons.get(Reason::Match), 3);
    }

    /// A valid cookie whose recreated SYN the rules block leaves the ACK
    /// to the rules; one passed without state drops the ACK.
    #[test]
    fn recreated_syn_blocked_or_stateless() {
        let eng = engine(
            "set syncookies always\npass in proto tcp flags any no state\n\
             block in proto tcp from 198.51.100.7 port 40001 flags S/SA\n\
             pass in proto tcp from 198.51.100.7 port 40002 flags S/SA no state\n",
        );
        let mut w = eng.worker();
        for sport in [40001, 40002] {
            let v = run(
                &eng,
                &mut w,
                SEC,
                frame((CLIENT, sport), S, 1000, 0, tcp_flags::SYN, Dir::In),
                Dir::In,
            );
            let cookie = tcp_of(&v.emit[0]).seq;
            let ack = frame(
                (CLIENT, sport),
                S,
                1001,
                cookie.wrapping_add(1),
                tcp_flags::ACK,
                Dir::In,
            );
            let v = run(&eng, &mut w, 2 * SEC, ack, Dir::In);
            if sport == 40001 {
                // the ACK itself passes the first rule (the block is for SYNs)
                assert_eq!(
                    (v.action, v.state),
                    (Action::Pass, StateOutcome::None),
                    "{v:?}"
                );
            } else {
                assert_eq!((v.action, v.state), (Action::Block, StateOutcome::None));
                assert!(v.emit.is_empty());
            }
        }
        assert_eq!(eng.state_count(), 0);
        assert_eq!(eng.syncookies().counters().valid, 2);
    }

    /// Adaptive: a small state limit; SYNs keep states until the
    /// half-open ones pass `start`, then get cookies; once the states
    /// are gone the rotations turn cookies off.
    #[test]
    fn adaptive_on_and_off() {
        let eng = engine(
            "set limit states 10\nset syncookies adaptive (start 20%, end 10%)\n\
             pass in proto tcp\n",
        );
        let mut w = eng.worker();
        let syn = |sport| frame((CLIENT, sport), S, 1000, 0, tcp_flags::SYN, Dir::In);
        for sport in 1..=3 {
            let v = run(&eng, &mut w, SEC, syn(sport), Dir::In);
            assert_eq!(
                (v.action, v.state),
                (Action::Pass, StateOutcome::New),
                "{sport}"
            );
        }
        // three half-open states: over 2, the high watermark
        let v = run(&eng, &mut w, SEC, syn(4), Dir::In);
        assert_eq!((v.action, v.emit.len()), (Action::Block, 1));
        assert_eq!(eng.state_count(), 3);
        let st = eng.syncookies().status();
        assert!(st.active);
        assert_eq!((st.hiwat, st.lowat, st.counters.synfloods), (2, 1, 1));
        // the states time out (tcp.first); rotations find nothing
        // half-open and the cookie's secret drawn again: off
        eng.expire(200 * SEC);
        assert_eq!(eng.state_count(), 0);
        assert!(!eng.syncookies().status().active);
        let v = run(&eng, &mut w, 201 * SEC, syn(5), Dir::In);
        assert_eq!((v.action, v.state), (Action::Pass, StateOutcome::New));
    }

    /// IPv6: the cookie binds all 128 bits of each address, and the
    /// validated ACK opens the connection to the server as for IPv4.
    #[test]
    fn ipv6_cookie_and_proxy() {
        let eng = engine("set syncookies always\npass in inet6 proto tcp to port 80\n");
        let mut w = eng.worker();
        let seg6 = |src: &str, seq, ack, flags| {
            let ip = tcp_segment(&TcpSegment {
                af: Af::Inet6,
                src: addr_key(src.parse().unwrap()),
                dst: addr_key("2001:db8:1::5".parse().unwrap()),
                sport: 40000,
                dport: 80,
                seq,
                ack,
                flags,
                win: 1000,
                mss: (flags & tcp_flags::SYN != 0).then_some(1440),
                ttl: 0,
            });
            ethernet_wrap(&ip, PEER, US, None)
        };
        let v = run(
            &eng,
            &mut w,
            SEC,
            seg6("2001:db8::7", 9, 0, tcp_flags::SYN),
            Dir::In,
        );
        let t = tcp_of(&v.emit[0]);
        assert_eq!(
            (t.flags, t.ack, t.mss),
            (tcp_flags::SYN | tcp_flags::ACK, 10, Some(1440))
        );
        // the same numbers from a neighbouring address do not validate
        let forged = seg6("2001:db8::8", 10, t.seq.wrapping_add(1), tcp_flags::ACK);
        let v = run(&eng, &mut w, SEC, forged, Dir::In);
        assert_eq!((v.action, v.state), (Action::Pass, StateOutcome::None));
        assert_eq!(eng.state_count(), 0);
        let ack = seg6("2001:db8::7", 10, t.seq.wrapping_add(1), tcp_flags::ACK);
        let v = run(&eng, &mut w, SEC, ack, Dir::In);
        assert_eq!((v.reason, v.state), (Reason::Synproxy, StateOutcome::New));
        let syn = tcp_of(&v.emit[0]);
        // MSS 1440 is in the cookie's table; IPv6 headers leave 1440 on
        // an Ethernet route
        assert_eq!((syn.flags, syn.mss), (tcp_flags::SYN, Some(1440)));
        assert_eq!(eng.states().states()[0].src.state, tcps::PROXY_DST);
    }

    /// A reload keeps the secrets and the cookies in flight and takes
    /// the new ruleset's mode: `never` sends no more cookies at once,
    /// but an ACK of a cookie sent before still validates.
    #[test]
    fn reload_keeps_cookies_in_flight() {
        let eng = engine("set syncookies always\npass in proto tcp to port 80\n");
        let mut w = eng.worker();
        let v = run(
            &eng,
            &mut w,
            SEC,
            frame(C, S, 1000, 0, tcp_flags::SYN, Dir::In),
            Dir::In,
        );
        let cookie = tcp_of(&v.emit[0]).seq;
        let env = ruleset::hostenv::RegressHost::new();
        let cfg = ruleset::parse::ParseConfig {
            env: &env,
            files: &ruleset::lexer::FsSource,
            anchor: String::new(),
            macros: Vec::new(),
            queues: Vec::new(),
        };
        let p = ruleset::parse::parse("t", b"pass in proto tcp to port 80\n".to_vec(), &cfg);
        let eng = eng
            .reload(ruleset::compile::compile(&p).unwrap())
            .expect("reloads");
        let mut w = eng.worker();
        assert_eq!(eng.syncookies().mode(), ruleset::ruleset::Syncookies::Never);
        let v = run(
            &eng,
            &mut w,
            2 * SEC,
            frame((CLIENT, 40001), S, 5, 0, tcp_flags::SYN, Dir::In),
            Dir::In,
        );
        assert_eq!(
            (v.action, v.state),
            (Action::Pass, StateOutcome::New),
            "no cookie"
        );
        let ack = frame(C, S, 1001, cookie.wrapping_add(1), tcp_flags::ACK, Dir::In);
        let v = run(&eng, &mut w, 2 * SEC, ack, Dir::In);
        assert_eq!(
            (v.reason, v.state, v.emit.len()),
            (Reason::Synproxy, StateOutcome::New, 1)
        );
        assert_eq!(
            eng.syncookies().counters(),
            crate::syncookie::CookieCounters {
                synfloods: 0,
                sent: 1,
                valid: 1
            }
        );
    }

    /// A `log` rule that passes the recreated SYN logs that SYN (pf
    /// logs the packet it rebuilt and ran through the rules), on the
    /// client's ACK's verdict: the SYN's flags, the client's ISN and
    /// the MSS the cookie carried.
    #[test]
    fn log_rule_logs_the_recreated_syn() {
        let eng = engine("set syncookies always\nblock all\npass in log proto tcp to port 80\n");
        let mut w = eng.worker();
        let v = run(
            &eng,
            &mut w,
            SEC,
            frame(C, S, 1000, 0, tcp_flags::SYN, Dir::In),
            Dir::In,
        );
        assert!(v.log.is_none(), "the cookie SYN|ACK is not the rules'");
        let cookie = tcp_of(&v.emit[0]).seq;
        let ack = frame(C, S, 1001, cookie.wrapping_add(1), tcp_flags::ACK, Dir::In);
        let v = run(&eng, &mut w, 2 * SEC, ack, Dir::In);
        let log = v.log.expect("logged");
        assert_eq!(log.record.action, crate::pflog::PfAction::Pass);
        assert_eq!((log.record.sport, log.record.dport), (40000, 80));
        let mut pd = empty_pdesc(Af::Inet);
        parse_frame_into(&log.packet, Link::RawIp, &mut pd).expect("an IP packet");
        let t = pd.tcp.expect("TCP");
        assert_eq!(
            (t.flags, t.seq, t.ack, t.mss),
            (tcp_flags::SYN, 1000, 0, Some(1460))
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any mix of segments, either way, under `always`: no panic,
        /// every frame the engine sends parses as TCP, and a drop goes
        /// uncounted under a reason only when pf sets none (a cookie
        /// SYN|ACK, or an ACK whose recreated SYN kept no state).
        #[test]
        fn arbitrary_segments_under_cookies(
            segs in proptest::collection::vec(
                (proptest::prelude::any::<u8>(), proptest::prelude::any::<u32>(),
                 proptest::prelude::any::<u32>(), proptest::prelude::any::<bool>(), 0u16..4),
                1..40),
        ) {
            let eng = engine(
                "set syncookies always\nblock all\npass in proto tcp to port 80\n\
                 pass in proto tcp to port 81 no state\npass out\n",
            );
            let mut w = eng.worker();
            let mut cookies = Vec::new();
            for (i, (flags, seq, ack, inbound, port)) in segs.into_iter().enumerate() {
                let (mut sport, mut dport, mut seq, mut ack) = (40000 + port, 80 + port % 2, seq, ack);
                // half the segments bring back a cookie sent before, with
                // the connection and sequence it was sent for
                if flags & 1 == 0 {
                    if let Some(&(p, d, s, c)) = cookies.get(ack as usize % (cookies.len() + 1)) {
                        (sport, dport, seq, ack) = (p, d, s, u32::wrapping_add(c, 1));
                    }
                }
                let (dir, f) = if inbound {
                    (Dir::In, frame((CLIENT, sport), (SERVER, dport), seq, ack, flags, Dir::In))
                } else {
                    (Dir::Out, frame((SERVER, dport), (CLIENT, sport), seq, ack, flags, Dir::Out))
                };
                let before = w.reasons.clone();
                let v = run(&eng, &mut w, (i as u64 + 1) * SEC, f, dir);
                for e in &v.emit {
                    let t = tcp_of(e);
                    if t.flags == tcp_flags::SYN | tcp_flags::ACK && e.toward == Toward::Sender {
                        cookies.push((sport, dport, t.ack, t.seq));
                    }
                }
                if v.action == Action::Block && w.reasons == before {
                    proptest::prop_assert_eq!(v.reason, Reason::Match);
                    proptest::prop_assert!(dir == Dir::In && flags & tcp_flags::SYN != 0
                        || flags & tcp_flags::ACK != 0, "{:?}", v);
                }
            }
        }
    }
}
