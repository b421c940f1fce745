//! One end of a connection as pf tracks it (`struct pf_state_peer`), and
//! the protocol states a peer moves through (`TCPS_*`, `PFUDPS_*`,
//! `PFOTHERS_*`), with pf's numbers: `pfctl -ss` prints them and pfsync
//! carries them.

use crate::pdesc::TcpInfo;

/// TCP peer states (`netinet/tcp_fsm.h`).
pub mod tcps {
    pub const CLOSED: u8 = 0;
    pub const LISTEN: u8 = 1;
    pub const SYN_SENT: u8 = 2;
    pub const SYN_RECEIVED: u8 = 3;
    pub const ESTABLISHED: u8 = 4;
    pub const CLOSE_WAIT: u8 = 5;
    pub const FIN_WAIT_1: u8 = 6;
    pub const CLOSING: u8 = 7;
    pub const LAST_ACK: u8 = 8;
    pub const FIN_WAIT_2: u8 = 9;
    pub const TIME_WAIT: u8 = 10;
    /// `synproxy state` phases (pf's `PF_TCPS_PROXY_SRC` and
    /// `PF_TCPS_PROXY_DST`: `TCP_NSTATES` and one more).
    pub const PROXY_SRC: u8 = 11;
    pub const PROXY_DST: u8 = 12;
}

/// UDP pseudo-states (`PFUDPS_*`); other protocols use the same numbers
/// (`PFOTHERS_*`).
pub mod udps {
    pub const NO_TRAFFIC: u8 = 0;
    pub const SINGLE: u8 = 1;
    pub const MULTIPLE: u8 = 2;
}

/// `wscale` holds the option's shift in the low bits and this flag when
/// the peer sent the option at all (pf's `PF_WSCALE_FLAG`).
pub const WSCALE_FLAG: u8 = 0x80;
pub const WSCALE_MASK: u8 = 0x0f;
/// RFC 7323's largest shift; pf clamps larger values to it.
const TCP_MAX_WINSHIFT: u8 = 14;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Peer {
    /// Highest sequence number this peer has sent (plus its length).
    pub seqlo: u32,
    /// Highest sequence number the other end allows this peer to send.
    pub seqhi: u32,
    /// `modulate state`: what pf adds to this peer's sequence numbers.
    pub seqdiff: u32,
    /// Largest window this peer advertised, unscaled.
    pub max_win: u16,
    pub wscale: u8,
    /// `tcps::*` for TCP, `udps::*` otherwise.
    pub state: u8,
}

/// pf's `pf_get_wscale`: the shift a SYN announces, with the flag.
pub(crate) fn wscale_of(tcp: &TcpInfo) -> u8 {
    match tcp.wscale {
        Some(w) => w.min(TCP_MAX_WINSHIFT) | WSCALE_FLAG,
        None => 0,
    }
}

/// Sequence-space comparisons (`SEQ_GEQ`, `SEQ_GT`): modulo 2^32.
pub(crate) fn seq_geq(a: u32, b: u32) -> bool {
    a.wrapping_sub(b) as i32 >= 0
}

pub(crate) fn seq_gt(a: u32, b: u32) -> bool {
    a.wrapping_sub(b) as i32 > 0
}
