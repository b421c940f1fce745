//! `synproxy state` (pf's `pf_synproxy` and the synproxy part of
//! `pf_create_state`): the firewall completes the handshake with the
//! client itself, and only then opens the connection to the server,
//! so a flood of SYNs from spoofed sources never reaches the server.
//!
//! The state goes through two phases in its source peer's protocol
//! state, with pf's numbers (`pfctl -ss` shows them as `PROXY:SRC` and
//! `PROXY:DST`):
//!
//! * [`tcps::PROXY_SRC`]: the client's SYN was answered with the
//!   firewall's SYN|ACK (ISN `src.seqhi`, random). A repeated SYN is
//!   answered again; the client's ACK of that ISN moves on.
//! * [`tcps::PROXY_DST`]: the firewall sent its SYN to the server (ISN
//!   `dst.seqhi`, random) with the client's sequence and MSS. The
//!   server's SYN|ACK is answered with an ACK, the client gets an ACK
//!   carrying the server's window, and the state is `ESTABLISHED` with
//!   sequence modulators (`seqdiff`) that translate between the
//!   firewall's two ISNs and the peers' own, from then on through the
//!   ordinary tracking (`pf_tcp_track_full`).
//!
//! Every handshake packet is consumed (pf's `PF_SYNPROXY_DROP`, counted
//! as `PFRES_SYNPROXY`), is not counted on the state, and does not
//! refresh its timer: pf leaves the state on its first-packet timeout
//! until a packet goes through the tracking.
//!
//! pf keeps the MSS announced to both peers in the source peer's `mss`.
//! [`Peer`] has no room for it (the state is packed to 136 bytes), so
//! during the proxy phases it is kept in the destination peer's
//! `max_win`, which pf leaves at its initial 1 and reads nowhere until
//! the server's SYN|ACK sets it. (One place that sees the difference:
//! an ICMP error quoting a segment of a proxying state is checked
//! against a window of `mss` where pf's is 1.)
//!
//! Source tracking counts a proxied connection as established when the
//! client's ACK is taken (pf's `pf_src_connlimit` in `pf_synproxy`): a
//! source over its `max-src-conn` or `max-src-conn-rate` has that ACK
//! dropped (`src-limit`), its state doomed, and is reported for its
//! `overload` table, before any SYN goes to the server.

use super::entry::{PeerState, State, F_MODULATED, F_SRCNODE, F_TCP_EST};
use super::info::StateEvent;
use super::peer::{tcps, Peer};
use super::shard::modulators;
use super::srcnode::{Flush, Overload};
use super::table::{secs, FlushReq, StateTable};
use super::timeout::{Profile, PFTM_PURGE};
use super::tracked::StateId;
use crate::key::{didx, sidx, StateKey};
use crate::pdesc::{tcp_flags, AddrKey, Dir, Pdesc};
use crate::reason::Reason;
use std::sync::atomic::Ordering::Relaxed;

/// A TCP segment the firewall sends for a proxied handshake (pf's
/// `pf_send_tcp` arguments).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxySegment {
    /// `true`: back to the sender of the packet being processed; `false`:
    /// on toward that packet's destination.
    pub to_sender: bool,
    pub src: (AddrKey, u16),
    pub dst: (AddrKey, u16),
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub win: u16,
    pub mss: Option<u16>,
    /// pf sends it marked as generated (no ruleset sees it): the
    /// segments to the client. Those to the server go through the
    /// outbound rules (`pf_send_tcp` with `tag` 0).
    pub generated: bool,
}

/// What a handshake packet on a proxying state did. The packet itself
/// is always dropped, and counted as `Reason::Synproxy` (pf's
/// `PFRES_SYNPROXY`) whether the handshake consumed it or refused it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyStep {
    pub id: StateId,
    /// The handshake took it (pf's `PF_SYNPROXY_DROP`); `false`: it did
    /// not fit the phase and was refused (`PF_DROP`), nothing was sent.
    pub consumed: bool,
    /// `Reason::Synproxy`, or `Reason::SrcLimit` when the client's ACK
    /// took its source over a `max-src-conn*` limit.
    pub reason: Reason,
    /// The creating rule.
    pub rule: (u32, u32),
    /// At most two segments, in the order pf sends them.
    pub send: Vec<ProxySegment>,
}

/// Whether a state is in one of the proxy phases.
pub(crate) fn proxying(src_state: u8) -> bool {
    src_state == tcps::PROXY_SRC || src_state == tcps::PROXY_DST
}

fn reply(pd: &Pdesc, seq: u32, ack: u32, flags: u8, win: u16, mss: Option<u16>) -> ProxySegment {
    ProxySegment {
        to_sender: true,
        src: (pd.dst, pd.dport),
        dst: (pd.src, pd.sport),
        seq,
        ack,
        flags,
        win,
        mss,
        generated: true,
    }
}

/// A segment along the key `sk` in the packet's own direction.
fn along(
    sk: &StateKey,
    dir: Dir,
    seq: u32,
    ack: u32,
    flags: u8,
    win: u16,
    mss: Option<u16>,
) -> ProxySegment {
    let (s, d) = (sidx(dir), didx(dir));
    ProxySegment {
        to_sender: false,
        src: (sk.addr[s], sk.port[s]),
        dst: (sk.addr[d], sk.port[d]),
        seq,
        ack,
        flags,
        win,
        mss,
        generated: false,
    }
}

impl StateTable {
    /// Put the state `id`, just created by a `synproxy state` rule for
    /// the client's SYN `pd`, in the first proxy phase, and give the
    /// SYN|ACK to answer it with. `mss` is what pf's
    /// `pf_get_mss`/`pf_calc_mss` make of the SYN. `None` if the state
    /// is gone or `pd` is not TCP.
    pub fn synproxy_begin(&self, id: StateId, pd: &Pdesc, mss: u16) -> Option<ProxySegment> {
        let th = pd.tcp?;
        let seqhi = self.random();
        let mut g = self.lock(id.shard as usize);
        let before = super::shard::half_open(g.get(id.idx, id.serial)?);
        let st = g.slots.get_mut(id.idx as usize)?;
        st.src.state = tcps::PROXY_SRC;
        st.src.seqhi = seqhi;
        st.dst.max_win = mss;
        // pf counts a packet on its state only when it passes
        st.packets = [0; 2];
        st.bytes = [0; 2];
        g.recount(id.idx, id.serial, before);
        self.emit(&g, || {
            StateEvent::Update(
                self.info_at(id.shard as usize, &g, id.idx)
                    .expect("slot checked live under this lock"),
            )
        });
        Some(reply(
            pd,
            seqhi,
            th.seq.wrapping_add(1),
            tcp_flags::SYN | tcp_flags::ACK,
            0,
            Some(mss),
        ))
    }

    /// pf's `pf_synproxy` for a TCP packet `pd` (key `key`, seen in
    /// `dir` on `ifidx`) whose state is proxying. `None` if no state
    /// matches or it is no longer proxying (another worker finished the
    /// handshake meanwhile): track the packet normally.
    pub fn synproxy_step(
        &self,
        key: &StateKey,
        pd: &Pdesc,
        dir: Dir,
        ifidx: u32,
        now_ns: u64,
    ) -> Option<ProxyStep> {
        let th = pd.tcp?;
        let now = secs(now_ns);
        let mut flush = None;
        let step = self
            .with_state(key, dir, ifidx, now, |g, si, idx| {
                let st = g.slots.get_mut(idx as usize)?;
                if !proxying(st.src.state) {
                    return None;
                }
                let m = modulators(&g.modulators, idx, st);
                let (mut src_p, mut dst_p) = (st.src.with(m[0]), st.dst.with(m[1]));
                let fwd = dir == st.dir;
                // pf's `sk = st->key[pd->didx]`: the stack key for an inbound
                // packet, the wire key for an outbound one.
                let sk = if didx(dir) == 1 {
                    st.stack_key().unpack()
                } else {
                    st.wire().unpack()
                };
                let flags = th.flags;
                let (src, dst) = (&mut src_p, &mut dst_p);
                let mut send = Vec::new();
                let mut changed = false;
                let mut consumed = false;
                let mut reason = Reason::Synproxy;
                if src.state == tcps::PROXY_SRC {
                    if !fwd {
                        // nothing from the server side yet: swallow it
                        consumed = true;
                    } else if flags & tcp_flags::SYN != 0 {
                        if th.seq == src.seqlo {
                            consumed = true;
                            // the client repeats its SYN: answer it again
                            send.push(reply(
                                pd,
                                src.seqhi,
                                th.seq.wrapping_add(1),
                                tcp_flags::SYN | tcp_flags::ACK,
                                0,
                                Some(dst.max_win),
                            ));
                        }
                    } else if flags & (tcp_flags::ACK | tcp_flags::RST | tcp_flags::FIN)
                        == tcp_flags::ACK
                        && th.ack == src.seqhi.wrapping_add(1)
                        && th.seq == src.seqlo.wrapping_add(1)
                    {
                        let prof = g.profiles.get(st.profile as usize).map(|p| &**p);
                        if self.proxy_connlimit(st, prof, now, &mut flush) {
                            reason = Reason::SrcLimit;
                            src.state = tcps::CLOSED;
                            dst.state = tcps::CLOSED;
                        } else {
                            src.state = tcps::PROXY_DST;
                        }
                        changed = true;
                    }
                }
                if src.state == tcps::PROXY_DST {
                    if fwd {
                        if flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::ACK
                            && th.ack == src.seqhi.wrapping_add(1)
                            && th.seq == src.seqlo.wrapping_add(1)
                        {
                            src.max_win = th.win.max(1);
                            if dst.seqhi == 1 {
                                dst.seqhi = self.random();
                                changed = true;
                            }
                            send.push(along(
                                &sk,
                                dir,
                                dst.seqhi,
                                0,
                                tcp_flags::SYN,
                                0,
                                Some(dst.max_win),
                            ));
                            consumed = true;
                        }
                    } else if flags & (tcp_flags::SYN | tcp_flags::ACK)
                        == tcp_flags::SYN | tcp_flags::ACK
                        && th.ack == dst.seqhi.wrapping_add(1)
                    {
                        dst.max_win = th.win.max(1);
                        dst.seqlo = th.seq;
                        // the ACK to the server goes through the rules, the
                        // one to the client does not (pf_send_tcp's `tag`)
                        send.push(ProxySegment {
                            generated: false,
                            ..reply(
                                pd,
                                th.ack,
                                th.seq.wrapping_add(1),
                                tcp_flags::ACK,
                                src.max_win,
                                None,
                            )
                        });
                        send.push(ProxySegment {
                            generated: true,
                            ..along(
                                &sk,
                                dir,
                                src.seqhi.wrapping_add(1),
                                src.seqlo.wrapping_add(1),
                                tcp_flags::ACK,
                                dst.max_win,
                                None,
                            )
                        });
                        establish(src, dst);
                        changed = true;
                        consumed = true;
                    }
                }
                st.src = PeerState::of(&src_p);
                st.dst = PeerState::of(&dst_p);
                if [src_p.seqdiff, dst_p.seqdiff] != m {
                    g.modulators.insert(idx, [src_p.seqdiff, dst_p.seqdiff]);
                    st.flags |= F_MODULATED;
                }
                let serial = st.serial;
                let profile = st.profile;
                if changed {
                    self.emit(g, || {
                        StateEvent::Update(
                            self.info_at(si, g, idx)
                                .expect("slot is live under this lock"),
                        )
                    });
                }
                Some(ProxyStep {
                    id: StateId {
                        shard: si as u32,
                        idx,
                        serial,
                    },
                    consumed,
                    reason,
                    rule: g.profiles.get(profile as usize).map_or((0, 0), |p| p.rule),
                    send,
                })
            })
            .flatten();
        if let Some(f) = flush {
            // after the shard lock is gone: the flush walks every shard
            self.flush(f);
        }
        step
    }

    /// pf's `pf_src_connlimit` for a proxied connection whose client has
    /// just completed its handshake with the firewall: count it on its
    /// source node. `true` if that broke a `max-src-conn*` limit: the
    /// state is then doomed, the source reported for its overload table
    /// and `flush` requested. (The same accounting as the ordinary
    /// tracking's when a peer becomes established.)
    fn proxy_connlimit(
        &self,
        st: &mut State,
        prof: Option<&Profile>,
        now: u32,
        flush: &mut Option<FlushReq>,
    ) -> bool {
        if st.flags & F_SRCNODE == 0 {
            return false;
        }
        let Some((p, t)) = prof.and_then(|p| Some((p, p.src?))) else {
            return false;
        };
        st.flags |= F_TCP_EST;
        let key = Self::src_key(st, p.rule, t.per_rule);
        let mut nodes = self.src_nodes();
        if nodes.connlimit(&key, &t, now).is_none() {
            return false;
        }
        if t.overload {
            nodes.overloads.push(Overload {
                rule: p.rule,
                af: key.af,
                addr: key.addr,
            });
            self.overload_pending.store(true, Relaxed);
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
        true
    }
}

/// The handshake is complete on both sides: from now on the client's
/// numbers are shifted onto the firewall's ISN toward the server, and
/// the server's onto the firewall's ISN toward the client. Neither side
/// was offered window scaling by the firewall, so neither scales.
fn establish(src: &mut Peer, dst: &mut Peer) {
    src.seqdiff = dst.seqhi.wrapping_sub(src.seqlo);
    dst.seqdiff = src.seqhi.wrapping_sub(dst.seqlo);
    src.seqhi = src.seqlo.wrapping_add(u32::from(dst.max_win));
    dst.seqhi = dst.seqlo.wrapping_add(u32::from(src.max_win));
    src.wscale = 0;
    dst.wscale = 0;
    src.state = tcps::ESTABLISHED;
    dst.state = tcps::ESTABLISHED;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdesc::{proto, TcpInfo};
    use crate::state::{NewState, SeqMod, StateConfig};
    use ruleset::addr::Af;
    use ruleset::rule::PFTM_MAX;

    const SEC: u64 = 1_000_000_000;
    const CLIENT: AddrKey = 0xc633_6407 << 96; // 198.51.100.7
    const SERVER: AddrKey = 0xcb00_7105 << 96; // 203.0.113.5

    fn seg(from_client: bool, flags: u8, seq: u32, ack: u32, win: u16, len: u16) -> Pdesc {
        let ((src, sport), (dst, dport)) = if from_client {
            ((CLIENT, 40000), (SERVER, 80))
        } else {
            ((SERVER, 80), (CLIENT, 40000))
        };
        Pdesc {
            af: Af::Inet,
            proto: proto::TCP,
            src,
            dst,
            sport,
            dport,
            tos: 0,
            ttl: 64,
            l3_off: 14,
            l4_off: 34,
            ip_len: 40 + len,
            vlan: None,
            fragment: false,
            ip_opts: false,
            icmp_type: None,
            icmp_code: None,
            tcp: Some(TcpInfo {
                seq,
                ack,
                win,
                flags,
                hdr_len: 20,
                data_len: len,
                wscale: None,
                mss: None,
                ts: None,
            }),
            icmp_inner: None,
        }
    }

    /// The state a `synproxy state` rule `rule` creates for `syn`.
    fn create(t: &StateTable, syn: &Pdesc, rule: (u32, u32)) -> StateId {
        let k = StateKey::from_pdesc(syn, Dir::In, 0);
        let ns = NewState {
            wire: k,
            stack: k,
            dir: Dir::In,
            rule,
            timeouts: [0; PFTM_MAX],
            max_states_rule: 0,
            if_bound: None,
            sloppy: false,
            modulate: false,
            translated: false,
            src_track: None,
            release_tag: 0,
            scrub: Default::default(),
            no_sync: false,
            allow_opts: false,
            pd: *syn,
        };
        t.insert(ns, SEC).expect("inserted")
    }

    fn step(t: &StateTable, p: &Pdesc, dir: Dir) -> ProxyStep {
        let k = StateKey::from_pdesc(p, dir, 0);
        t.synproxy_step(&k, p, dir, 0, 2 * SEC)
            .expect("a proxying state")
    }

    fn test(t: &StateTable, p: &Pdesc, dir: Dir) -> Option<Result<crate::state::Tracked, Reason>> {
        let k = StateKey::from_pdesc(p, dir, 0);
        t.test(&k, p, dir, 0, 3 * SEC, u32::from(p.ip_len))
    }

    /// The whole handshake on the table alone: the fast path hands every
    /// handshake packet over, each transition is an update for pfsync,
    /// and the established state modulates both ways.
    #[test]
    fn handshake_on_the_table() {
        let t = StateTable::new(StateConfig::default());
        let (tx, rx) = crossbeam_channel::bounded(16);
        t.set_events(Some(tx));
        let syn = seg(true, tcp_flags::SYN, 1000, 0, 4000, 0);
        let id = create(&t, &syn, (0, 1));
        let synack = t.synproxy_begin(id, &syn, 1460).unwrap();
        let fw_c = synack.seq;
        assert!(synack.to_sender && synack.generated);
        assert_eq!((synack.src, synack.dst), ((SERVER, 80), (CLIENT, 40000)));
        assert_eq!((synack.ack, synack.mss), (1001, Some(1460)));
        let info = t.info(id).unwrap();
        assert_eq!((info.src.state, info.packets), (tcps::PROXY_SRC, [0, 0]));
        assert_eq!((t.half_open(), t.half_open_walk()), (1, 1));
        let updates = |rx: &crossbeam_channel::Receiver<StateEvent>| {
            rx.try_iter()
                .filter_map(|e| match e {
                    StateEvent::Update(i) => Some(i.src.state),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(updates(&rx), [tcps::PROXY_SRC]);

        let ack = seg(true, tcp_flags::ACK, 1001, fw_c.wrapping_add(1), 3000, 0);
        assert_eq!(test(&t, &ack, Dir::In), Some(Err(Reason::Synproxy)));
        let s = step(&t, &ack, Dir::In);
        assert!(s.consumed);
        assert_eq!(s.reason, Reason::Synproxy);
        assert_eq!(s.rule, (0, 1));
        let [syn_out] = s.send[..] else {
            panic!("{s:?}")
        };
        assert!(!syn_out.to_sender && !syn_out.generated);
        assert_eq!(
            (syn_out.flags, syn_out.ack, syn_out.win, syn_out.mss),
            (tcp_flags::SYN, 0, 0, Some(1460))
        );
        let fw_s = syn_out.seq;
        assert_eq!(updates(&rx), [tcps::PROXY_DST]);

        let sa = seg(
            false,
            tcp_flags::SYN | tcp_flags::ACK,
            5000,
            fw_s.wrapping_add(1),
            6000,
            0,
        );
        assert_eq!(test(&t, &sa, Dir::Out), Some(Err(Reason::Synproxy)));
        let s = step(&t, &sa, Dir::Out);
        let [to_server, to_client] = s.send[..] else {
            panic!("{s:?}")
        };
        assert!(to_server.to_sender && !to_server.generated);
        assert_eq!(
            (to_server.seq, to_server.ack, to_server.win),
            (fw_s.wrapping_add(1), 5001, 3000)
        );
        assert!(!to_client.to_sender && to_client.generated);
        assert_eq!(
            (to_client.seq, to_client.ack, to_client.win),
            (fw_c.wrapping_add(1), 1001, 6000)
        );
        assert_eq!(updates(&rx), [tcps::ESTABLISHED]);
        let info = t.info(id).unwrap();
        assert_eq!(
            (info.src.seqdiff, info.dst.seqdiff),
            (fw_s.wrapping_sub(1000), fw_c.wrapping_sub(5000))
        );

        // no longer proxying: the ordinary tracking, with modulation
        let data = seg(true, tcp_flags::ACK, 1001, fw_c.wrapping_add(1), 3000, 10);
        let k = StateKey::from_pdesc(&data, Dir::In, 0);
        assert_eq!(t.synproxy_step(&k, &data, Dir::In, 0, 3 * SEC), None);
        let tr = test(&t, &data, Dir::In).unwrap().unwrap();
        assert_eq!(
            tr.seq,
            Some(SeqMod {
                seq_add: fw_s.wrapping_sub(1000),
                ack_sub: fw_c.wrapping_sub(5000),
            })
        );
    }

    /// A refused ACK changes nothing and sends nothing.
    #[test]
    fn wrong_ack_changes_nothing() {
        let t = StateTable::new(StateConfig::default());
        let syn = seg(true, tcp_flags::SYN, 7, 0, 4000, 0);
        let id = create(&t, &syn, (0, 0));
        let fw = t.synproxy_begin(id, &syn, 536).unwrap().seq;
        let before = t.info(id).unwrap();
        for (flags, seq, ack) in [
            (tcp_flags::ACK, 8, fw),
            (tcp_flags::ACK, 9, fw.wrapping_add(1)),
            (tcp_flags::ACK | tcp_flags::FIN, 8, fw.wrapping_add(1)),
            (tcp_flags::SYN, 8, 0),
        ] {
            let s = step(&t, &seg(true, flags, seq, ack, 1, 0), Dir::In);
            assert!(!s.consumed && s.send.is_empty(), "{flags:#x} {seq} {ack}");
            assert_eq!(t.info(id).unwrap(), before);
        }
    }
}
