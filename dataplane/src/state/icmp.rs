//! ICMP and ICMPv6 errors: the quoted packet names the connection the
//! error is about; pf passes the error by that connection's state (the
//! error half of `pf_test_state_icmp`).

use super::entry::F_SLOPPY;
use super::peer::{seq_geq, WSCALE_MASK};
use super::shard::modulators;
use super::table::{secs, StateTable};
use super::track::{other_key, reversed, rewrite};
use super::tracked::{Rewrite, Side, StateId, Tracked};
use crate::key::{didx, sidx, StateKey};
use crate::pdesc::{proto, Dir, Pdesc};
use crate::reason::Reason;

impl StateTable {
    /// Match an ICMP error (`pd.icmp_inner` set) to the state of the
    /// packet it quotes. `None`: no such state (rules decide).
    /// `Some(Err(StateMismatch))`: the quoted packet was not sent to the
    /// error's sender, or a quoted TCP sequence number is outside the
    /// sender's window. Under translation `Tracked::inner` rewrites the
    /// quoted header and `Tracked::translate` the outer addresses (ports
    /// 0); `inner_seq_sub` demodulates the quoted TCP sequence number.
    pub fn test_icmp_error(
        &self,
        pd: &Pdesc,
        dir: Dir,
        ifidx: u32,
        rdomain: u16,
        now_ns: u64,
        pkt_len: u32,
    ) -> Option<Result<Tracked, Reason>> {
        let inner = pd.icmp_inner?;
        if inner.src != pd.dst {
            return Some(Err(Reason::StateMismatch));
        }
        let now = secs(now_ns);
        // the quoted packet travelled the other way
        let (s2, d2) = (didx(dir), sidx(dir));
        let mut key = StateKey {
            addr: [0; 2],
            port: [0; 2],
            rdomain,
            af: pd.af,
            proto: inner.proto,
        };
        key.addr[s2] = inner.src;
        key.addr[d2] = inner.dst;
        // ports of TCP/UDP, the id twice for ICMP (as the pdesc keys
        // queries), 0 for the rest
        key.port[s2] = inner.sport;
        key.port[d2] = inner.dport;
        self.with_state(&key, dir, ifidx, now, |g, si, idx| {
            let st = g.slots.get_mut(idx as usize)?;
            let rev = reversed(st, pd.af);
            let mut seq_sub = 0;
            if inner.proto == proto::TCP {
                // which peer sent the quoted segment
                let quoted_by_src = (dir == st.dir) == rev;
                let m = modulators(&g.modulators, idx, st);
                let (ps, pd_) = (st.src.with(m[0]), st.dst.with(m[1]));
                let (src, dst) = if quoted_by_src {
                    (&ps, &pd_)
                } else {
                    (&pd_, &ps)
                };
                let dws = if src.wscale != 0 && dst.wscale != 0 {
                    dst.wscale & WSCALE_MASK
                } else {
                    0
                };
                let Some(qseq) = inner.seq else {
                    return Some(Err(Reason::Short));
                };
                let seq = qseq.wrapping_sub(src.seqdiff);
                seq_sub = src.seqdiff;
                let lo = src.seqlo.wrapping_sub(u32::from(dst.max_win) << dws);
                if st.flags & F_SLOPPY == 0 && (!seq_geq(src.seqhi, seq) || !seq_geq(seq, lo)) {
                    return Some(Err(Reason::StateMismatch));
                }
            }
            let fwd = dir == st.dir;
            let di = usize::from(!fwd);
            st.packets[di] = st.packets[di].wrapping_add(1);
            st.bytes[di] = st.bytes[di].wrapping_add(u64::from(pkt_len));
            let (mut translate, mut inner_rw) = (None, None);
            if let Some(nk) = other_key(st, pd.af, dir) {
                // the quoted packet's new addresses, seen in its own
                // (opposite) direction
                let qdir = match dir {
                    Dir::In => Dir::Out,
                    Dir::Out => Dir::In,
                };
                inner_rw = rewrite(
                    &nk,
                    pd.af,
                    qdir,
                    rdomain,
                    (inner.src, inner.sport),
                    (inner.dst, inner.dport),
                );
                if let Some(rw) = inner_rw {
                    // pf_translate_icmp moves the outer address along
                    // with the quoted one it mirrors
                    let out_dst = if rw.src.0 != inner.src {
                        rw.src.0
                    } else {
                        pd.dst
                    };
                    let out_src = if rw.dst.0 != inner.dst {
                        rw.dst.0
                    } else {
                        pd.src
                    };
                    translate = Some(Rewrite {
                        src: (out_src, 0),
                        dst: (out_dst, 0),
                        af: rw.af,
                        rdomain: rw.rdomain,
                    });
                }
            }
            let (serial, profile) = (st.serial, st.profile);
            let allow_opts = st.xflags & super::entry::X_ALLOWOPTS != 0;
            let side = if fwd != rev { Side::Src } else { Side::Dst };
            Some(Ok(Tracked {
                id: StateId {
                    shard: si as u32,
                    idx,
                    serial,
                },
                side,
                rule: g.profiles.get(profile as usize).map_or((0, 0), |p| p.rule),
                translate,
                seq: None,
                inner: inner_rw,
                inner_seq_sub: seq_sub,
                scrub: g
                    .profiles
                    .get(profile as usize)
                    .map_or_else(Default::default, |p| p.scrub),
                allow_opts,
                reply: None,
            }))
        })
        .flatten()
    }
}
