//! TCP tracking: pf's `pf_tcp_track_full` (sequence windows after Guido
//! van Rooij's "Real Stateful TCP Packet Filtering in IP Filter") and
//! `pf_tcp_track_sloppy` (flags only).

use super::peer::{seq_geq, seq_gt, tcps, wscale_of, Peer, WSCALE_FLAG, WSCALE_MASK};
use super::timeout;
use super::tracked::SeqMod;
use crate::pdesc::tcp_flags::{ACK, FIN, RST, SYN};
use crate::pdesc::TcpInfo;
use crate::reason::Reason;

/// A retransmission or ACK may lag one window plus this fudge (pf's
/// `MAXACKWINDOW`).
const MAXACKWINDOW: i64 = 0xffff + 1500;
/// Largest unscaled window (`TCP_MAXWIN`).
const TCP_MAXWIN: u32 = 65535;

pub(crate) struct TcpOutcome {
    pub seq: Option<SeqMod>,
    /// A peer's protocol state moved (pfsync wants to hear of it).
    pub changed: bool,
    /// The segment was in window: refresh the state's timer and pick the
    /// timeout from the peers' states.
    pub refresh: bool,
    /// The handshake just completed with both ends established (where pf
    /// runs `pf_src_connlimit`).
    pub established: bool,
}

fn set(p: &mut Peer, state: u8, changed: &mut bool) {
    if p.state != state {
        p.state = state;
        *changed = true;
    }
}

/// pf's timeout choice after a TCP segment (end of `pf_tcp_track_full`).
pub(crate) fn tcp_timeout(src: &Peer, dst: &Peer) -> usize {
    let (s, d) = (src.state, dst.state);
    if s >= tcps::FIN_WAIT_2 && d >= tcps::FIN_WAIT_2 {
        timeout::PFTM_TCP_CLOSED
    } else if s >= tcps::CLOSING && d >= tcps::CLOSING {
        timeout::PFTM_TCP_FIN_WAIT
    } else if s < tcps::ESTABLISHED || d < tcps::ESTABLISHED {
        timeout::PFTM_TCP_OPENING
    } else if s >= tcps::CLOSING || d >= tcps::CLOSING {
        timeout::PFTM_TCP_CLOSING
    } else {
        timeout::PFTM_TCP_ESTABLISHED
    }
}

/// `src` sent the segment, `dst` is the other end; `random` yields the
/// deferred modulator for the second peer of a `modulate state`.
pub(crate) fn track_full(
    src: &mut Peer,
    dst: &mut Peer,
    th: &TcpInfo,
    random: impl FnOnce() -> u32,
) -> Result<TcpOutcome, Reason> {
    let flags = th.flags;
    let mut win = u32::from(th.win);
    let mut changed = false;
    let mut seqmod = None;
    let (mut sws, mut dws) = if src.wscale != 0 && dst.wscale != 0 && flags & SYN == 0 {
        (src.wscale & WSCALE_MASK, dst.wscale & WSCALE_MASK)
    } else {
        (0, 0)
    };
    let p_len = u32::from(th.data_len);
    let orig_seq = th.seq;
    let mut seq = th.seq;
    let mut ack;
    let mut end;
    let mut data_end;

    if src.seqlo == 0 {
        // first segment from this end
        if dst.seqdiff != 0 && src.seqdiff == 0 {
            // the responder of a modulated connection gets its own
            // modulator now that its ISN is known
            let r = random();
            src.seqdiff = r.wrapping_sub(seq);
            if src.seqdiff == 0 {
                src.seqdiff = 1;
            }
            ack = th.ack.wrapping_sub(dst.seqdiff);
            seqmod = Some(SeqMod {
                seq_add: src.seqdiff,
                ack_sub: dst.seqdiff,
            });
        } else {
            ack = th.ack;
        }
        end = seq.wrapping_add(p_len);
        if flags & SYN != 0 {
            end = end.wrapping_add(1);
            if dst.wscale & WSCALE_FLAG != 0 {
                src.wscale = wscale_of(th);
                if src.wscale & WSCALE_FLAG != 0 {
                    // the SYN's own window is never scaled
                    sws = src.wscale & WSCALE_MASK;
                    win = (win + (1u32 << sws) - 1) >> sws;
                    dws = dst.wscale & WSCALE_MASK;
                } else {
                    // the other end offered scaling, this one refused:
                    // neither scales, so undo the other's pre-scaling
                    dst.max_win =
                        TCP_MAXWIN.min(u32::from(dst.max_win) << (dst.wscale & WSCALE_MASK)) as u16;
                    dst.wscale = 0;
                }
            }
        }
        data_end = end;
        if flags & FIN != 0 {
            end = end.wrapping_add(1);
        }
        src.seqlo = seq;
        if src.state < tcps::SYN_SENT {
            set(src, tcps::SYN_SENT, &mut changed);
        }
        let w = (u32::from(dst.max_win) << dws).max(1);
        if src.seqhi == 1 || seq_geq(end.wrapping_add(w), src.seqhi) {
            src.seqhi = end.wrapping_add(w);
        }
        if win > u32::from(src.max_win) {
            src.max_win = win as u16;
        }
    } else {
        ack = th.ack.wrapping_sub(dst.seqdiff);
        if src.seqdiff != 0 {
            seqmod = Some(SeqMod {
                seq_add: src.seqdiff,
                ack_sub: dst.seqdiff,
            });
        }
        end = seq.wrapping_add(p_len);
        if flags & SYN != 0 {
            end = end.wrapping_add(1);
        }
        data_end = end;
        if flags & FIN != 0 {
            end = end.wrapping_add(1);
        }
    }

    if flags & ACK == 0 {
        // let it pass the ack skew check
        ack = dst.seqlo;
    } else if (ack == 0 && flags & (ACK | RST) == (ACK | RST)) || dst.state < tcps::SYN_SENT {
        // broken stacks send RST|ACK with ack 0, or ack before any SYN
        ack = dst.seqlo;
    }

    if seq == end {
        // no data: ease the sequence check
        seq = src.seqlo;
        data_end = seq;
        end = seq;
    }

    let ackskew = i64::from(dst.seqlo.wrapping_sub(ack) as i32);
    let dst_win = u32::from(dst.max_win) << dws;

    let rst_ok = flags & RST == 0
        || orig_seq == src.seqlo
        || orig_seq == src.seqlo.wrapping_add(1)
        || orig_seq.wrapping_add(1) == src.seqlo;
    if seq_geq(src.seqhi, data_end)
        && seq_geq(seq, src.seqlo.wrapping_sub(dst_win))
        && ackskew >= -MAXACKWINDOW
        && ackskew <= (MAXACKWINDOW << sws)
        && rst_ok
    {
        let mut established = false;
        slide(src, dst, win, sws, ack, end);
        if flags & SYN != 0 && src.state < tcps::SYN_SENT {
            set(src, tcps::SYN_SENT, &mut changed);
        }
        if flags & FIN != 0 && src.state < tcps::CLOSING {
            set(src, tcps::CLOSING, &mut changed);
        }
        if flags & ACK != 0 {
            if dst.state == tcps::SYN_SENT {
                set(dst, tcps::ESTABLISHED, &mut changed);
                established = src.state == tcps::ESTABLISHED;
            } else if dst.state == tcps::CLOSING {
                set(dst, tcps::FIN_WAIT_2, &mut changed);
            }
        }
        if flags & RST != 0 {
            set(src, tcps::TIME_WAIT, &mut changed);
            set(dst, tcps::TIME_WAIT, &mut changed);
        }
        Ok(TcpOutcome {
            seq: seqmod,
            changed,
            refresh: true,
            established,
        })
    } else if (dst.state < tcps::SYN_SENT
        || dst.state >= tcps::FIN_WAIT_2
        || src.state >= tcps::FIN_WAIT_2)
        && seq_geq(src.seqhi.wrapping_add(MAXACKWINDOW as u32), data_end)
        && seq_geq(seq, src.seqlo.wrapping_sub(MAXACKWINDOW as u32))
    {
        // Loose match: shotgunned SYNs, a connection picked up after a
        // state flush, stray packets after the close. The timer is not
        // refreshed, so a flood cannot keep the state alive.
        slide(src, dst, win, sws, ack, end);
        if flags & FIN != 0 && src.state < tcps::CLOSING {
            set(src, tcps::CLOSING, &mut changed);
        }
        if flags & RST != 0 {
            set(src, tcps::TIME_WAIT, &mut changed);
            set(dst, tcps::TIME_WAIT, &mut changed);
        }
        Ok(TcpOutcome {
            seq: seqmod,
            changed,
            refresh: false,
            established: false,
        })
    } else {
        if src.state == tcps::SYN_SENT && dst.state == tcps::SYN_SENT {
            // both ends in SYN_SENT: forget this end's sequence so its
            // next SYN starts over (the RST pf also sends here is
            // track.rs's `handshake_rst`)
            src.seqlo = 0;
            src.seqhi = 1;
            src.max_win = 1;
        }
        Err(Reason::StateMismatch)
    }
}

/// Window bookkeeping shared by the strict and loose matches.
fn slide(src: &mut Peer, dst: &mut Peer, win: u32, sws: u8, ack: u32, end: u32) {
    if u32::from(src.max_win) < win {
        src.max_win = win as u16;
    }
    if seq_gt(end, src.seqlo) {
        src.seqlo = end;
    }
    let w = win << sws;
    if seq_geq(ack.wrapping_add(w), dst.seqhi) {
        dst.seqhi = ack.wrapping_add(w.max(1));
    }
}

/// `keep state (sloppy)`: follow the flags, never the sequence numbers.
/// Returns (a peer's state moved, the connection just got established).
pub(crate) fn track_sloppy(src: &mut Peer, dst: &mut Peer, th: &TcpInfo) -> (bool, bool) {
    let flags = th.flags;
    let mut changed = false;
    let mut established = false;
    if flags & SYN != 0 && src.state < tcps::SYN_SENT {
        set(src, tcps::SYN_SENT, &mut changed);
    }
    if flags & FIN != 0 && src.state < tcps::CLOSING {
        set(src, tcps::CLOSING, &mut changed);
    }
    if flags & ACK != 0 {
        if dst.state == tcps::SYN_SENT {
            set(dst, tcps::ESTABLISHED, &mut changed);
            established = src.state == tcps::ESTABLISHED;
        } else if dst.state == tcps::CLOSING {
            set(dst, tcps::FIN_WAIT_2, &mut changed);
        } else if src.state == tcps::SYN_SENT && dst.state < tcps::SYN_SENT {
            // only one half of the connection passes here
            set(src, tcps::ESTABLISHED, &mut changed);
            set(dst, tcps::ESTABLISHED, &mut changed);
            established = true;
        } else if src.state == tcps::CLOSING && dst.state == tcps::ESTABLISHED && dst.seqlo == 0 {
            // half-seen close
            set(dst, tcps::CLOSING, &mut changed);
        }
    }
    if flags & RST != 0 {
        set(src, tcps::TIME_WAIT, &mut changed);
        set(dst, tcps::TIME_WAIT, &mut changed);
    }
    (changed, established)
}
