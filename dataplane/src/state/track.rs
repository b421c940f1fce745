//! The per-packet fast path: find the state a packet belongs to and
//! advance it (pf's `pf_find_state` + `pf_test_state`).

use super::entry::{PeerState, State, F_MODULATED, F_SLOPPY, F_SRCNODE, F_TCP_EST, X_ALLOWOPTS};
use super::info::StateEvent;
use super::packed::PackedKey;
use super::peer::{tcps, udps, Peer};
use super::shard::{modulators, Shard};
use super::srcnode::{Flush, Overload};
use super::table::{secs, FlushReq, StateTable};
use super::tcp::{tcp_timeout, track_full, track_sloppy};
use super::timeout::{self, PFTM_PURGE};
use super::tracked::{Rewrite, Scrub, Side, StateId, StateReply, Tracked};
use crate::key::{didx, sidx, StateKey};
use crate::pdesc::{proto, tcp_flags, AddrKey, Dir, Pdesc, TcpInfo};
use crate::reason::Reason;
use ruleset::addr::Af;
use std::sync::atomic::Ordering::Relaxed;

/// ICMP echo request and reply types, v4 and v6.
const ICMP_ECHO: u8 = 8;
const ICMP_ECHOREPLY: u8 = 0;
const ICMP6_ECHO_REQUEST: u8 = 128;
const ICMP6_ECHO_REPLY: u8 = 129;

/// pf's `PF_REVERSED_KEY`: under `af-to`, a packet of the stack side's
/// family sees the state's peers swapped.
pub(crate) fn reversed(st: &State, af: Af) -> bool {
    st.afto() && st.wire().af() != af
}

/// The key whose addresses a packet in `dir` must leave with (pf's `nk`).
pub(crate) fn other_key(st: &State, af: Af, dir: Dir) -> Option<StateKey> {
    let stack = st.stack_opt()?;
    // key[0] is the wire key, key[1] the stack key
    let i = if reversed(st, af) {
        sidx(dir)
    } else {
        didx(dir)
    };
    Some(if i == 0 {
        st.wire().unpack()
    } else {
        stack.unpack()
    })
}

/// The rewrite for a packet with these addresses, if any differs.
pub(crate) fn rewrite(
    nk: &StateKey,
    af: Af,
    dir: Dir,
    rdomain: u16,
    src: (AddrKey, u16),
    dst: (AddrKey, u16),
) -> Option<Rewrite> {
    let afto = af != nk.af;
    let (s, d) = if afto {
        (didx(dir), sidx(dir))
    } else {
        (sidx(dir), didx(dir))
    };
    let rw = Rewrite {
        src: (nk.addr[s], nk.port[s]),
        dst: (nk.addr[d], nk.port[d]),
        af: nk.af,
        rdomain: nk.rdomain,
    };
    (afto || rw.src != src || rw.dst != dst || rw.rdomain != rdomain).then_some(rw)
}

impl StateTable {
    /// Run `f` on the state that `key` finds for a packet in `dir` on
    /// interface `ifidx`, with its shard locked.
    pub(crate) fn with_state<R>(
        &self,
        key: &StateKey,
        dir: Dir,
        ifidx: u32,
        now: u32,
        f: impl FnOnce(&mut Shard, usize, u32) -> R,
    ) -> Option<R> {
        let h = key.symmetric_hash();
        let pk = PackedKey::pack(key);
        let si = self.shard_of(key.shard_hash());
        let mut g = self.lock(si);
        if let Some(idx) = self.find_local(&g, h, &pk, dir, ifidx, now) {
            return Some(Self::counted(&mut g, si, idx, f));
        }
        if g.foreign.is_empty() {
            return None;
        }
        let (home, idx, serial) = Self::find_foreign(&g, h, &pk, dir, ifidx)?;
        drop(g);
        let mut g = self.lock(home);
        let st = g.get(idx, serial)?;
        if !self.alive(&g, st, now) {
            return None;
        }
        Some(Self::counted(&mut g, home, idx, f))
    }

    /// `f` on slot `idx` of shard `g`, its half-open count following
    /// whatever `f` changed.
    fn counted<R>(
        g: &mut Shard,
        si: usize,
        idx: u32,
        f: impl FnOnce(&mut Shard, usize, u32) -> R,
    ) -> R {
        let (before, serial) = g
            .slots
            .get(idx as usize)
            .map_or((false, 0), |st| (super::shard::half_open(st), st.serial));
        let r = f(g, si, idx);
        g.recount(idx, serial, before);
        r
    }

    /// The state fast path. `key` is the packet's key
    /// ([`StateKey::from_pdesc`]), `ifidx` the interface it is seen on
    /// (if-bound states match only there), `pkt_len` what the byte
    /// counters add.
    ///
    /// `None`: no state (or one that pf would replace: a SYN on a closed
    /// TCP state), evaluate the rules. `Some(Err(StateMismatch))`: out of
    /// window (while both ends are in SYN_SENT, with a RST to send).
    /// `Some(Err(Match))`: dropped without a reason as pf does (a SYN on
    /// an established state, with the challenge ACK to send; an ICMP
    /// echo in the wrong direction). A segment to send is in `out.reply`
    /// (with `out.rule`) beside the `Err`.
    /// `Some(Err(Synproxy))`: the state is proxying a handshake
    /// (`synproxy state`): the packet is for
    /// [`StateTable::synproxy_step`].
    pub fn test(
        &self,
        key: &StateKey,
        pd: &Pdesc,
        dir: Dir,
        ifidx: u32,
        now_ns: u64,
        pkt_len: u32,
    ) -> Option<Result<Tracked, Reason>> {
        let mut t = Tracked::blank();
        self.test_into(key, pd, dir, ifidx, now_ns, pkt_len, &mut t)
            .map(|r| r.map(|()| t))
    }

    /// [`StateTable::test`] for the per-packet path: what the packet
    /// must have done to it is written to `out` (on `Some(Ok(()))`)
    /// instead of being returned, so the 200-byte [`Tracked`] is not
    /// copied through every layer.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn test_into(
        &self,
        key: &StateKey,
        pd: &Pdesc,
        dir: Dir,
        ifidx: u32,
        now_ns: u64,
        pkt_len: u32,
        out: &mut Tracked,
    ) -> Option<Result<(), Reason>> {
        let now = secs(now_ns);
        let mut flush = None;
        let r = self
            .with_state(key, dir, ifidx, now, |g, si, idx| {
                self.advance(g, si, idx, key, pd, dir, now, pkt_len, &mut flush, out)
            })
            .flatten();
        if let Some(f) = flush {
            // after the shard lock is gone: the flush walks every shard
            self.flush(f);
        }
        r
    }

    #[allow(clippy::too_many_arguments)]
    fn advance(
        &self,
        g: &mut Shard,
        si: usize,
        idx: u32,
        key: &StateKey,
        pd: &Pdesc,
        dir: Dir,
        now: u32,
        pkt_len: u32,
        flush: &mut Option<FlushReq>,
        out: &mut Tracked,
    ) -> Option<Result<(), Reason>> {
        let st = g.slots.get_mut(idx as usize)?;
        let fwd = dir == st.dir;
        let mut changed = false;
        let mut seq = None;
        match pd.proto {
            proto::TCP => {
                let Some(th) = pd.tcp else {
                    return Some(Err(Reason::Short));
                };
                if super::synproxy::proxying(st.src.state) {
                    // pf_synproxy runs first: the engine hands the packet
                    // to StateTable::synproxy_step
                    return Some(Err(Reason::Synproxy));
                }
                let (src, dst) = if fwd {
                    (&st.src, &st.dst)
                } else {
                    (&st.dst, &st.src)
                };
                if th.flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN {
                    if src.state >= tcps::FIN_WAIT_2 && dst.state >= tcps::FIN_WAIT_2 {
                        // a new connection on an old port pair: doom the
                        // old state and let the rules create a new one
                        st.timeout = PFTM_PURGE as u8;
                        return None;
                    }
                    if src.state >= tcps::ESTABLISHED && dst.state >= tcps::ESTABLISHED {
                        // pf_send_challenge_ack (RFC 5961 4): answer for
                        // the other end with the state's own numbers. A
                        // peer that rebooted answers with a RST that
                        // resets the state; a spoofed SYN changes nothing.
                        *out = Tracked {
                            rule: g
                                .profiles
                                .get(st.profile as usize)
                                .map_or((0, 0), |p| p.rule),
                            reply: Some(StateReply {
                                seq: dst.seqlo,
                                ack: src.seqlo,
                                flags: tcp_flags::ACK,
                            }),
                            ..Tracked::blank()
                        };
                        return Some(Err(Reason::Match));
                    }
                }
                let tfwd = fwd != reversed(st, pd.af);
                let sloppy = st.flags & F_SLOPPY != 0;
                let m = modulators(&g.modulators, idx, st);
                let (mut src, mut dst) = (st.src.with(m[0]), st.dst.with(m[1]));
                let (s, d) = if tfwd {
                    (&mut src, &mut dst)
                } else {
                    (&mut dst, &mut src)
                };
                let r = if sloppy {
                    let (c, e) = track_sloppy(s, d, &th);
                    changed = c;
                    Ok((true, e))
                } else {
                    track_full(s, d, &th, || self.random()).map(|o| {
                        changed = o.changed;
                        seq = o.seq;
                        (o.refresh, o.established)
                    })
                };
                // a refused segment may still reset a half-open peer
                st.src = PeerState::of(&src);
                st.dst = PeerState::of(&dst);
                if [src.seqdiff, dst.seqdiff] != m {
                    g.modulators.insert(idx, [src.seqdiff, dst.seqdiff]);
                    st.flags |= F_MODULATED;
                }
                let (refresh, established) = match r {
                    Ok(v) => v,
                    Err(r) => {
                        let (s, d) = if tfwd { (&src, &dst) } else { (&dst, &src) };
                        let reply = handshake_rst(s, d, &th).filter(|_| r == Reason::StateMismatch);
                        if let Some(reply) = reply {
                            *out = Tracked {
                                rule: g
                                    .profiles
                                    .get(st.profile as usize)
                                    .map_or((0, 0), |p| p.rule),
                                reply: Some(reply),
                                ..Tracked::blank()
                            };
                        }
                        return Some(Err(r));
                    }
                };
                if established && st.flags & F_SRCNODE != 0 {
                    st.flags |= F_TCP_EST;
                    let prof = g.profiles.get(st.profile as usize);
                    if let Some((p, t)) = prof.and_then(|p| Some((p, p.src?))) {
                        let key = Self::src_key(st, p.rule, t.per_rule);
                        let mut nodes = self.src_nodes();
                        if nodes.connlimit(&key, &t, now).is_some() {
                            if t.overload {
                                nodes.overloads.push(Overload {
                                    rule: p.rule,
                                    af: key.af,
                                    addr: key.addr,
                                });
                                self.overload_pending
                                    .store(true, std::sync::atomic::Ordering::Relaxed);
                                *flush = t.flush.map(|f| FlushReq {
                                    af: key.af,
                                    addr: key.addr,
                                    dir: st.dir,
                                    rule: (f == Flush::Rule).then_some(p.rule),
                                });
                            }
                            drop(nodes);
                            self.stats.src_limit.fetch_add(1, Relaxed);
                            st.timeout = PFTM_PURGE as u8;
                            st.src.state = tcps::CLOSED;
                            st.dst.state = tcps::CLOSED;
                            return Some(Err(Reason::SrcLimit));
                        }
                    }
                }
                if refresh {
                    // pfsync hears of an active TCP state once a second
                    // at most (pf queues an update per packet and sends
                    // them batched), so the peer's windows stay fresh
                    changed |= st.expire != now;
                    st.expire = now;
                    st.timeout = tcp_timeout(&src, &dst) as u8;
                }
            }
            proto::ICMP | proto::ICMPV6 => {
                let (req, rep) = if pd.proto == proto::ICMP {
                    (ICMP_ECHO, ICMP_ECHOREPLY)
                } else {
                    (ICMP6_ECHO_REQUEST, ICMP6_ECHO_REPLY)
                };
                // pf_icmp_state_lookup: a request travels the state's
                // way, a reply the other
                let wrong = match pd.icmp_type {
                    Some(t) if t == req => !fwd,
                    Some(t) if t == rep => fwd,
                    _ => false,
                };
                if wrong && !st.afto() {
                    return Some(Err(Reason::Match));
                }
                st.expire = now;
                st.timeout = timeout::PFTM_ICMP_ERROR_REPLY as u8;
            }
            p => {
                let (single, multiple) = if p == proto::UDP {
                    (timeout::PFTM_UDP_SINGLE, timeout::PFTM_UDP_MULTIPLE)
                } else {
                    (timeout::PFTM_OTHER_SINGLE, timeout::PFTM_OTHER_MULTIPLE)
                };
                let State { src, dst, .. } = st;
                let (s, d) = if fwd { (src, dst) } else { (dst, src) };
                if s.state < udps::SINGLE {
                    s.state = udps::SINGLE;
                    changed = true;
                }
                if d.state == udps::SINGLE {
                    d.state = udps::MULTIPLE;
                    changed = true;
                }
                st.expire = now;
                st.timeout = if s.state == udps::MULTIPLE && d.state == udps::MULTIPLE {
                    multiple
                } else {
                    single
                } as u8;
            }
        }
        let di = usize::from(!fwd);
        st.packets[di] = st.packets[di].wrapping_add(1);
        st.bytes[di] = st.bytes[di].wrapping_add(u64::from(pkt_len));
        let translate = other_key(st, pd.af, dir).and_then(|nk| {
            rewrite(
                &nk,
                pd.af,
                dir,
                key.rdomain,
                (pd.src, pd.sport),
                (pd.dst, pd.dport),
            )
        });
        let serial = st.serial;
        let profile = st.profile;
        let allow_opts = st.xflags & X_ALLOWOPTS != 0;
        let prof = g.profiles.get(profile as usize).map(|p| (p.rule, p.scrub));
        let prof = prof.map(|(rule, scrub)| ProfView { rule, scrub });
        let prof = prof.as_ref();
        let side = if fwd != reversed(st, pd.af) {
            Side::Src
        } else {
            Side::Dst
        };
        if changed {
            self.emit(g, || {
                StateEvent::Update(
                    self.info_at(si, g, idx)
                        .expect("slot is live under this lock"),
                )
            });
        }
        *out = Tracked {
            id: StateId {
                shard: si as u32,
                idx,
                serial,
            },
            side,
            rule: prof.map_or((0, 0), |p| p.rule),
            translate,
            seq,
            inner: None,
            inner_seq_sub: 0,
            scrub: prof.map_or(Scrub::default(), |p| p.scrub),
            allow_opts,
            reply: None,
        };
        Some(Ok(()))
    }
}

/// pf_tcp_track_full's "RST for state mismatches during handshake": a
/// segment out of window while both ends are in SYN_SENT is answered
/// with a RST (unless it is one) whose sequence number is the segment's
/// acknowledgement as pf has it then: demodulated when the sender's
/// numbers are modulated. `s` sent the segment, `d` is the other end.
fn handshake_rst(s: &Peer, d: &Peer, th: &TcpInfo) -> Option<StateReply> {
    if s.state != tcps::SYN_SENT || d.state != tcps::SYN_SENT || th.flags & tcp_flags::RST != 0 {
        return None;
    }
    let seq = if s.seqdiff != 0 {
        th.ack.wrapping_sub(d.seqdiff)
    } else {
        th.ack
    };
    Some(StateReply {
        seq,
        ack: 0,
        flags: tcp_flags::RST,
    })
}

/// What the fast path copies out of a state's profile.
struct ProfView {
    rule: (u32, u32),
    scrub: Scrub,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(state: u8, seqdiff: u32) -> Peer {
        Peer {
            seqlo: 0,
            seqhi: 1,
            seqdiff,
            max_win: 1,
            wscale: 0,
            state,
        }
    }

    fn seg(flags: u8, ack: u32) -> TcpInfo {
        TcpInfo {
            seq: 5000,
            ack,
            win: 1000,
            flags,
            hdr_len: 20,
            data_len: 10,
            wscale: None,
            mss: None,
            ts: None,
        }
    }

    #[test]
    fn handshake_rst_only_in_syn_sent_and_never_to_a_rst() {
        let (s, d) = (peer(tcps::SYN_SENT, 0), peer(tcps::SYN_SENT, 0));
        assert_eq!(
            handshake_rst(&s, &d, &seg(tcp_flags::ACK, 1001)),
            Some(StateReply {
                seq: 1001,
                ack: 0,
                flags: tcp_flags::RST
            })
        );
        assert_eq!(handshake_rst(&s, &d, &seg(tcp_flags::RST, 1001)), None);
        let est = peer(tcps::ESTABLISHED, 0);
        assert_eq!(handshake_rst(&est, &d, &seg(tcp_flags::ACK, 1)), None);
        assert_eq!(handshake_rst(&s, &est, &seg(tcp_flags::ACK, 1)), None);
    }

    #[test]
    fn handshake_rst_demodulates_the_ack_of_a_modulated_sender() {
        // the sender's numbers are modulated: pf has already rewritten
        // the segment's ack into the other end's own numbers
        let (s, d) = (peer(tcps::SYN_SENT, 500), peer(tcps::SYN_SENT, 77));
        let r = handshake_rst(&s, &d, &seg(tcp_flags::ACK, 1077)).unwrap();
        assert_eq!(r.seq, 1000);
        // unmodulated sender: the ack as it came
        let s = peer(tcps::SYN_SENT, 0);
        let r = handshake_rst(&s, &d, &seg(tcp_flags::ACK, 1077)).unwrap();
        assert_eq!(r.seq, 1077);
    }
}
