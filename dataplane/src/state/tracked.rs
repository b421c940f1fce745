//! What a packet that matched a state must have done to it.

use crate::pdesc::AddrKey;
use ruleset::addr::Af;

/// A state's handle. Stale handles (state gone, slot reused) are
/// recognised and refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StateId {
    pub(crate) shard: u32,
    pub(crate) idx: u32,
    pub(crate) serial: u32,
}

/// Which peer of the state sent the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The peer that sent the creating packet.
    Src,
    Dst,
}

/// Addresses and ports the packet must carry after this firewall
/// (pf's `nk->addr[sidx]`/`nk->addr[didx]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rewrite {
    pub src: (AddrKey, u16),
    pub dst: (AddrKey, u16),
    /// Differs from the packet's family under `af-to` (NAT64).
    pub af: Af,
    pub rdomain: u16,
}

/// `modulate state`: add `seq_add` to the TCP sequence number and
/// subtract `ack_sub` from the acknowledgement number and from every
/// SACK block edge (pf's `pf_modulate_sack`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeqMod {
    pub seq_add: u32,
    pub ack_sub: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tracked {
    pub id: StateId,
    pub side: Side,
    /// The creating rule (its logging, route-to and set options apply).
    pub rule: (u32, u32),
    /// For an ICMP error, the outer header's new addresses (ports 0).
    pub translate: Option<Rewrite>,
    pub seq: Option<SeqMod>,
    /// ICMP error only: the quoted packet's new addresses and ports.
    pub inner: Option<Rewrite>,
    /// ICMP error only: subtract from the quoted TCP sequence number
    /// (demodulation).
    pub inner_seq_sub: u32,
    /// The scrub settings the state was created with (pf keeps them in
    /// the state and applies them to every packet).
    pub scrub: Scrub,
    /// Packets with IP options may pass (pf's `PFSTATE_ALLOWOPTS`).
    pub allow_opts: bool,
    /// A segment the state answers a dropped packet with (set with an
    /// `Err` from [`StateTable::test_into`](super::StateTable::test_into),
    /// `rule` then set too).
    pub reply: Option<StateReply>,
}

/// A TCP segment pf sends from state tracking, from the dropped
/// packet's destination back to its sender, window 0, no options
/// (`pf_send_tcp` from `pf_test_state` and `pf_tcp_track_full`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateReply {
    pub seq: u32,
    pub ack: u32,
    /// TCP flags byte (`crate::pdesc::tcp_flags`).
    pub flags: u8,
}

/// What `scrub (...)` and `set tos` do to every packet of a state (pf's
/// `state_flags` PFSTATE_NODF / RANDOMID / SETTOS, `min_ttl`,
/// `max_mss`, `set_tos`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Scrub {
    pub no_df: bool,
    pub random_id: bool,
    pub min_ttl: u8,
    pub max_mss: u16,
    pub set_tos: Option<u8>,
}

impl Scrub {
    pub fn is_empty(&self) -> bool {
        *self == Scrub::default()
    }
}

impl Tracked {
    /// An empty value for [`StateTable::test_into`](super::StateTable::test_into)
    /// to overwrite.
    pub fn blank() -> Self {
        Tracked {
            id: StateId {
                shard: 0,
                idx: 0,
                serial: 0,
            },
            side: Side::Src,
            rule: (0, 0),
            translate: None,
            seq: None,
            inner: None,
            inner_seq_sub: 0,
            scrub: Scrub::default(),
            allow_opts: false,
            reply: None,
        }
    }
}
