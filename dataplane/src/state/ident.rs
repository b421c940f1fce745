//! pfsync's identity of a state: (id, creator id), pf's
//! `(st->id, st->creatorid)`.
//!
//! A state created here is identified by its slot, so it stores nothing
//! for this: the id packs the slot's generation, shard and index
//! (`[serial: 24 | shard: 8 | idx: 32]`), the creator is the table's host
//! id. pf draws ids from a counter; ours only need what pf's give:
//! unique among this creator's states, and not reused while a peer may
//! still hold the old one (a slot must be freed 2^24 times for its id to
//! come back). States imported from a peer keep the peer's identity, in
//! side maps that only such states pay for.

use super::tracked::StateId;

/// A state's identity across a pfsync pair (pf's id and creatorid).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SyncId {
    pub id: u64,
    pub creator: u32,
}

/// A [`SyncId`] in 12 bytes aligned to 4 (the struct takes 16), for the
/// side maps of imported states: on a standby firewall every state is
/// one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PackedSync([u32; 3]);

impl From<SyncId> for PackedSync {
    fn from(s: SyncId) -> Self {
        PackedSync([(s.id >> 32) as u32, s.id as u32, s.creator])
    }
}

impl From<PackedSync> for SyncId {
    fn from(p: PackedSync) -> Self {
        SyncId {
            id: u64::from(p.0[0]) << 32 | u64::from(p.0[1]),
            creator: p.0[2],
        }
    }
}

/// Bits of the slot generation a local id keeps.
const SERIAL_BITS: u32 = 24;
pub(crate) const SERIAL_MASK: u32 = (1 << SERIAL_BITS) - 1;
/// The table has at most this many shards, so a shard fits in 8 bits.
pub(crate) const MAX_SHARDS: usize = 256;

impl StateId {
    /// The pfsync id of a state created here (also what `pfctl -ss -v`
    /// prints for it).
    pub fn as_u64(self) -> u64 {
        (u64::from(self.serial & SERIAL_MASK) << 40)
            | (u64::from(self.shard & 0xff) << 32)
            | u64::from(self.idx)
    }

    /// The slot a local id names; its `serial` holds only the 24 bits the
    /// id keeps (the table compares it masked).
    pub(crate) fn from_u64(id: u64) -> StateId {
        StateId {
            shard: ((id >> 32) & 0xff) as u32,
            idx: id as u32,
            serial: (id >> 40) as u32 & SERIAL_MASK,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_identities_round_trip() {
        let s = SyncId {
            id: 0x0123_4567_89ab_cdef,
            creator: 0xfeed_beef,
        };
        assert_eq!(SyncId::from(PackedSync::from(s)), s);
        assert_eq!(std::mem::size_of::<PackedSync>(), 12);
    }

    #[test]
    fn local_ids_round_trip_and_keep_24_bits_of_generation() {
        let id = StateId {
            shard: 63,
            idx: 0xdead_beef,
            serial: 0x0123_4567,
        };
        let back = StateId::from_u64(id.as_u64());
        assert_eq!((back.shard, back.idx), (63, 0xdead_beef));
        assert_eq!(back.serial, 0x0023_4567);
        assert_eq!(id.as_u64(), 0x2345_673f_dead_beef);
    }
}
