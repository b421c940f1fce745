//! One state as the table stores it: packed into two cache lines (128
//! bytes, line-aligned), since a firewall holds millions and a lookup
//! should touch as few lines as it can. The rule, its timeouts and its
//! state count live once per rule in a
//! [`Profile`](super::timeout::Profile); the stack key is boxed and only
//! present under translation; `modulate state` modulators live in the
//! shard's side table.

use super::packed::PackedKey;
use super::peer::Peer;
use crate::pdesc::Dir;

/// Slot holds a state (otherwise it is on the free list).
pub(crate) const F_LIVE: u8 = 1;
/// `keep state (sloppy)`.
pub(crate) const F_SLOPPY: u8 = 2;
/// Created by a translating rule.
pub(crate) const F_TRANSLATED: u8 = 4;
/// The stack key is indexed in another shard's foreign table.
pub(crate) const F_FOREIGN: u8 = 8;

/// The state holds a reference to a source node.
pub(crate) const F_SRCNODE: u8 = 16;
/// Counted as an established connection of its source node (pf's
/// `src.tcp_est`).
pub(crate) const F_TCP_EST: u8 = 32;

/// The shard's side table holds this state's sequence modulators.
pub(crate) const F_MODULATED: u8 = 64;

/// `if_bound` of a floating state.
pub(crate) const FLOATING: u32 = u32::MAX;

/// A peer as stored: [`Peer`] less its modulator.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PeerState {
    pub seqlo: u32,
    pub seqhi: u32,
    pub max_win: u16,
    pub wscale: u8,
    pub state: u8,
}

impl PeerState {
    pub(crate) fn with(self, seqdiff: u32) -> Peer {
        Peer {
            seqlo: self.seqlo,
            seqhi: self.seqhi,
            seqdiff,
            max_win: self.max_win,
            wscale: self.wscale,
            state: self.state,
        }
    }

    pub(crate) fn of(p: &Peer) -> Self {
        PeerState {
            seqlo: p.seqlo,
            seqhi: p.seqhi,
            max_win: p.max_win,
            wscale: p.wscale,
            state: p.state,
        }
    }
}

#[derive(Debug)]
#[repr(align(64))]
pub(crate) struct State {
    /// The wire key; for an `X_INLINE` state its side-1 low word holds
    /// the code of the stack key (read it through [`State::wire`]).
    wire_raw: PackedKey,
    /// A stack key that differs from the wire key and is not inline.
    pub stack: Option<Box<PackedKey>>,
    /// The peer that sent the creating packet, and the other one.
    pub src: PeerState,
    pub dst: PeerState,
    /// [0]: packets in the creating direction, [1]: the other way.
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    /// Seconds on the caller's clock (`now_ns / 1e9`), as pf's uptime.
    pub creation: u32,
    /// Last time the state was refreshed (pf's `st->expire`).
    pub expire: u32,
    /// Index of the rule profile; the next free slot while vacant.
    pub profile: u32,
    /// Interface index of an if-bound state, [`FLOATING`] otherwise.
    pub if_bound: u32,
    /// Bumped when the slot is freed: a stale [`StateId`](super::StateId)
    /// never reaches the slot's next tenant.
    pub serial: u32,
    /// `PFTM_*` index of the timeout in force; `PFTM_PURGE` once doomed.
    pub timeout: u8,
    pub dir: Dir,
    pub flags: u8,
    /// `X_AFTO`: the stack key has the other address family (`af-to`);
    /// `X_INLINE`: the stack key is coded in the wire key. Kept here, in
    /// what was padding, so lookups need not follow a boxed key. Also
    /// `X_PEER`, `X_NOSYNC`, `X_ALLOWOPTS`.
    pub xflags: u8,
}

/// The stack key has the other address family (`af-to`).
pub(crate) const X_AFTO: u8 = 1;
/// The stack key is coded in the wire key's spare bytes.
pub(crate) const X_INLINE: u8 = 2;
/// Imported from a pfsync peer: its (id, creator) is in the shard's
/// `peer_ids`, not derived from the slot.
pub(crate) const X_PEER: u8 = 4;
/// `no-sync` (pf's `PFSTATE_NOSYNC`): pfsync never sends it.
pub(crate) const X_NOSYNC: u8 = 8;
/// `allow-opts` (pf's `PFSTATE_ALLOWOPTS`): packets with IP options pass
/// on this state. Kept in the state, as pf does, so it outlives the rule
/// and travels with pfsync.
pub(crate) const X_ALLOWOPTS: u8 = 16;

impl State {
    pub(crate) fn vacant(serial: u32, next_free: u32) -> Self {
        State {
            wire_raw: PackedKey::pack(&crate::key::StateKey {
                addr: [0; 2],
                port: [0; 2],
                rdomain: 0,
                af: ruleset::addr::Af::Inet,
                proto: 0,
            }),
            stack: None,
            src: PeerState::default(),
            dst: PeerState::default(),
            packets: [0; 2],
            bytes: [0; 2],
            creation: 0,
            expire: 0,
            profile: next_free,
            if_bound: FLOATING,
            serial,
            timeout: 0,
            dir: Dir::In,
            flags: 0,
            xflags: 0,
        }
    }

    pub(crate) fn live(&self) -> bool {
        self.flags & F_LIVE != 0
    }

    /// The state translates between address families (`af-to`).
    #[inline]
    pub(crate) fn afto(&self) -> bool {
        self.xflags & X_AFTO != 0
    }

    /// Store the keys: the stack key inline when it fits, boxed when not,
    /// not at all when it is the wire key.
    pub(crate) fn set_keys(&mut self, wire: PackedKey, stack: Option<PackedKey>) {
        self.xflags &= !X_INLINE;
        self.stack = None;
        self.wire_raw = wire;
        if let Some(st) = stack {
            match wire.inline_code(&st) {
                Some(code) => {
                    self.wire_raw = wire.with_code(code);
                    self.xflags |= X_INLINE;
                }
                None => self.stack = Some(Box::new(st)),
            }
        }
    }

    /// The wire key.
    #[inline]
    pub(crate) fn wire(&self) -> PackedKey {
        if self.xflags & X_INLINE != 0 {
            self.wire_raw.without_code()
        } else {
            self.wire_raw
        }
    }

    /// Whether the stack key differs from the wire key.
    #[inline]
    pub(crate) fn has_stack(&self) -> bool {
        self.xflags & X_INLINE != 0 || self.stack.is_some()
    }

    /// The stack key (the wire key when there is no translation).
    #[inline]
    pub(crate) fn stack_key(&self) -> PackedKey {
        if self.xflags & X_INLINE != 0 {
            self.wire_raw.decode_stack()
        } else {
            self.stack.as_deref().copied().unwrap_or(self.wire_raw)
        }
    }

    /// The stack key, if it differs from the wire key.
    pub(crate) fn stack_opt(&self) -> Option<PackedKey> {
        self.has_stack().then(|| self.stack_key())
    }

    /// Whether the key of `role` (0 wire, 1 stack) is `pk`, without
    /// building a key when the state stores both plainly.
    #[inline]
    pub(crate) fn key_eq(&self, role: u32, pk: &PackedKey) -> bool {
        if self.xflags & X_INLINE == 0 {
            if role == 0 {
                self.wire_raw == *pk
            } else {
                self.stack.as_deref().unwrap_or(&self.wire_raw) == pk
            }
        } else {
            self.key(role) == *pk
        }
    }

    /// Key by role: 0 wire, 1 stack.
    #[inline]
    pub(crate) fn key(&self, role: u32) -> PackedKey {
        if role == 0 {
            self.wire()
        } else {
            self.stack_key()
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn state_fills_two_cache_lines() {
        assert_eq!(std::mem::size_of::<super::State>(), 128);
    }
}
