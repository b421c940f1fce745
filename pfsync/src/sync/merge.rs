//! The merge rule for incoming updates (spec §6.1, OpenBSD's
//! `pfsync_upd_tcp` and `pfsync_in_updates`): each side of a state takes
//! the peer's copy unless the local one is newer.

use super::store::{LocalState, Merge};
use crate::state::{Peer, IPPROTO_TCP, PF_TCPS_PROXY_SRC};

/// The merge to apply, and how many sides were kept because the local
/// copy is newer (0..=2; non-zero means the peer is stale and gets our
/// state back).
pub fn decide(local: &LocalState, src: &Peer, dst: &Peer, timeout: u8) -> (Merge, u8) {
    let (keep_src, keep_dst) = if local.proto == IPPROTO_TCP {
        (
            tcp_src_newer(&local.src, src),
            tcp_dst_newer(&local.dst, dst),
        )
    } else {
        (local.src.state > src.state, local.dst.state > dst.state)
    };
    let stale = u8::from(keep_src) + u8::from(keep_dst);
    let merge = Merge {
        src: (!keep_src).then_some(*src),
        dst: (!keep_dst).then_some(*dst),
        refresh_timeout: (stale < 2).then_some(timeout),
    };
    (merge, stale)
}

/// `SEQ_GT`: a is after b in 32-bit sequence space.
fn seq_gt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// The source side never goes backwards; but leaving the synproxy levels
/// (11, 12) for a real TCP state is forwards, however the numbers
/// compare. This is OpenBSD's `pfsync_upd_tcp` condition; spec §6.1's
/// wording and §13.4's "local PROXY_DST vs remote 4 → keep local" row
/// state it the other way round, and the code is what peers run.
fn tcp_src_newer(local: &Peer, incoming: &Peer) -> bool {
    let backwards = local.state > incoming.state
        && (local.state < PF_TCPS_PROXY_SRC || incoming.state >= PF_TCPS_PROXY_SRC);
    backwards || local.state == incoming.state && seq_gt(local.seqlo, incoming.seqlo)
}

fn tcp_dst_newer(local: &Peer, incoming: &Peer) -> bool {
    local.state > incoming.state
        || local.state == incoming.state && seq_gt(local.seqlo, incoming.seqlo)
}

#[cfg(test)]
mod tests {
    //! The truth table of spec §13.4 (3).
    use super::*;
    use crate::state::{IPPROTO_UDP, PF_TCPS_PROXY_DST, TCPS_ESTABLISHED};

    const X: u32 = 1_000_000;

    fn peer(state: u8, seqlo: u32) -> Peer {
        Peer {
            state,
            seqlo,
            ..Peer::default()
        }
    }

    fn local(proto: u8, src: Peer, dst: Peer) -> LocalState {
        LocalState {
            proto,
            src,
            dst,
            timeout: 2,
            state_flags: 0,
        }
    }

    #[test]
    fn tcp_older_peer_is_stale_on_both_sides() {
        let est = |s| peer(TCPS_ESTABLISHED, s);
        let l = local(IPPROTO_TCP, est(X), est(X));
        let (m, stale) = decide(&l, &est(X - 1), &est(X - 1), 2);
        assert_eq!(stale, 2);
        assert_eq!(m, Merge::default());
    }

    #[test]
    fn tcp_newer_peer_is_taken_and_refreshes() {
        let est = |s| peer(TCPS_ESTABLISHED, s);
        let l = local(IPPROTO_TCP, est(X), est(X));
        let (m, stale) = decide(&l, &est(X + 1), &est(X), 3);
        assert_eq!(stale, 0);
        assert_eq!(m.src, Some(est(X + 1)));
        assert_eq!(m.dst, Some(est(X)), "equal is not newer: taken");
        assert_eq!(m.refresh_timeout, Some(3));
    }

    #[test]
    fn tcp_sequence_compare_wraps() {
        let est = |s| peer(TCPS_ESTABLISHED, s);
        let l = local(IPPROTO_TCP, est(u32::MAX - 5), est(0));
        let (m, stale) = decide(&l, &est(10), &est(u32::MAX), 2);
        assert_eq!(m.src, Some(est(10)), "10 is after 2^32-6");
        assert_eq!(stale, 1, "0 is after 2^32-1: dst kept");
        assert_eq!(m.refresh_timeout, Some(2));
    }

    #[test]
    fn tcp_synproxy_levels() {
        let l = local(IPPROTO_TCP, peer(4, X), peer(4, X));
        let (m, _) = decide(&l, &peer(PF_TCPS_PROXY_SRC, 0), &peer(4, X), 2);
        assert!(m.src.is_some(), "local 4 vs remote PROXY_SRC: take remote");
        // Leaving synproxy for a real state is forwards (OpenBSD's code).
        let l = local(IPPROTO_TCP, peer(PF_TCPS_PROXY_DST, X), peer(4, X));
        let (m, stale) = decide(&l, &peer(4, X - 100), &peer(4, X), 2);
        assert!(m.src.is_some(), "local PROXY_DST vs remote 4: take remote");
        assert_eq!(stale, 0);
        // Between the proxy levels themselves the higher one still wins.
        let l = local(IPPROTO_TCP, peer(PF_TCPS_PROXY_DST, X), peer(0, 0));
        let (m, _) = decide(&l, &peer(PF_TCPS_PROXY_SRC, X), &peer(0, 0), 2);
        assert!(m.src.is_none());
    }

    #[test]
    fn tcp_dst_side_has_no_synproxy_exception() {
        let l = local(IPPROTO_TCP, peer(4, X), peer(PF_TCPS_PROXY_DST, X));
        let (m, _) = decide(&l, &peer(4, X), &peer(4, X + 5), 2);
        assert!(m.dst.is_none());
    }

    #[test]
    fn non_tcp_higher_state_wins_per_side_and_sequence_is_ignored() {
        let l = local(IPPROTO_UDP, peer(2, X), peer(1, X));
        let (m, stale) = decide(&l, &peer(1, X + 9), &peer(2, 0), 8);
        assert_eq!(stale, 1);
        assert!(m.src.is_none());
        assert_eq!(m.dst, Some(peer(2, 0)));
        assert_eq!(m.refresh_timeout, Some(8));
        let (m, stale) = decide(&l, &peer(2, 0), &peer(1, 0), 8);
        assert_eq!((m.src.is_some(), m.dst.is_some(), stale), (true, true, 0));
    }
}
