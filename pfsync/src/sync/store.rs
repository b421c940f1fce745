//! What the sync machine needs from the daemon's state table.
//!
//! pf keeps pfsync's per-state fields inside its states; pfd keeps the
//! protocol in this crate and the table in the dataplane, so the machine
//! reaches the table through this trait. Calls happen inside
//! `Pfsync::handle_*`; none of them may call back into the machine (in
//! particular, states the machine imports or removes must not be reported
//! again as local changes).

use crate::state::{Peer, StateId, StateRecord};

/// The parts of a local state the merge rule and UPD_REQ handling read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalState {
    /// Protocol of the wire key: TCP states merge by sequence numbers.
    pub proto: u8,
    pub src: Peer,
    pub dst: Peer,
    /// PFTM_* class; at or above `PFTM_MAX` the state is being purged.
    pub timeout: u8,
    /// PFSTATE_* bits; NOSYNC states are never sent.
    pub state_flags: u16,
}

/// Why the table did not take a state from the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// State limit or memory exhausted: the rest of an INS section is
    /// abandoned (OpenBSD's ENOMEM).
    #[error("state table full")]
    NoMemory,
    /// A state with this id or these keys exists.
    #[error("state exists")]
    Exists,
    /// The record cannot be turned into a state here (unknown interface,
    /// unsupported family, ...).
    #[error("record refused: {0}")]
    Refused(&'static str),
}

/// The sides of a state the peer's copy wins, from the merge rule
/// (spec §6.1). A `Peer` whose `scrub` is `None` leaves the local scrub
/// data as it is; `Some` replaces it (allocating it if the state had none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Merge {
    pub src: Option<Peer>,
    pub dst: Option<Peer>,
    /// When set, at least one side was taken: the state's last activity
    /// becomes now and its timeout class this value.
    pub refresh_timeout: Option<u8>,
}

pub trait StateStore {
    /// The state's sync-relevant fields, if it exists.
    fn lookup(&self, id: StateId) -> Option<LocalState>;

    /// The full record as it is now (`pf_state_export`): `creation` is
    /// the age and `expire` the seconds left (0 if past), relative to
    /// `now_ns`; `proto` and `af` of the wire key; `nat_rule` 0xffffffff;
    /// counters as u64. The machine sets PFSTATE_ACK itself while a
    /// deferral is pending.
    fn export(&self, id: StateId, now_ns: u64) -> Option<StateRecord>;

    /// Insert a state from the peer (`pf_state_import`), keeping its id
    /// and creator and attaching it to the default rule (rule numbers are
    /// not trusted). The record has passed validation and has
    /// PFSTATE_ACK cleared. Times come back as OpenBSD rebuilds them:
    /// creation = now − `creation` s; last activity = now −
    /// (timeout of class `timeout` − `expire`) s. The stack key is built
    /// only when it differs from the wire key.
    fn import(&mut self, rec: &StateRecord, now_ns: u64) -> Result<(), ImportError>;

    /// Apply a merge decided by the machine.
    fn merge(&mut self, id: StateId, merge: &Merge, now_ns: u64);

    /// Remove a state because the peer deleted it. False if unknown.
    fn remove(&mut self, id: StateId) -> bool;

    /// Remove every state of `creator` (bound to `ifname` if given).
    /// Returns the removed ids; an unknown interface removes nothing.
    fn clear(&mut self, creator: u32, ifname: Option<&str>) -> Vec<StateId>;

    /// Every state's id, in table order: the list a bulk update walks.
    fn snapshot(&self) -> Vec<StateId>;
}
