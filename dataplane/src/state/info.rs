//! A state as the control plane and pfsync see it.

use super::ident::SyncId;
use super::peer::Peer;
use super::tracked::{Scrub, StateId};
use crate::key::StateKey;
use crate::pdesc::Dir;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateInfo {
    pub id: StateId,
    /// pfsync's (id, creator): derived from `id` and the host id for a
    /// state created here, the peer's for one imported from it.
    pub sync: SyncId,
    pub wire: StateKey,
    pub stack: StateKey,
    pub dir: Dir,
    pub rule: (u32, u32),
    pub if_bound: Option<u32>,
    pub src: Peer,
    pub dst: Peer,
    /// [0]: in the creating direction, [1]: the other.
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    /// Seconds on the caller's clock.
    pub creation: u32,
    /// Last refresh.
    pub expire: u32,
    /// When it is due, as `pf_state_expires` computes it now (0 = due).
    pub expires_at: u64,
    /// `PFTM_*` index in force.
    pub timeout: u8,
    pub sloppy: bool,
    pub translated: bool,
    /// `no-sync` (pf's `PFSTATE_NOSYNC`).
    pub no_sync: bool,
    /// `allow-opts` (pf's `PFSTATE_ALLOWOPTS`).
    pub allow_opts: bool,
    /// Imported from a pfsync peer (attached to no rule).
    pub from_peer: bool,
    /// What scrub does to the state's packets.
    pub scrub: Scrub,
}

/// State changes for pfsync. Changes made through the pfsync API
/// ([`StateTable::import`](super::StateTable::import), `merge`,
/// `remove_sync`, `clear_creator`) are not reported: the machine made
/// them and must not hear them back. `Update` is sent when a peer's protocol
/// state moves (pf's pfsync also sends window updates; the batcher may
/// ask [`StateTable::info`](super::StateTable::info) for those).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateEvent {
    Insert(StateInfo),
    Update(StateInfo),
    Delete(StateInfo),
}
