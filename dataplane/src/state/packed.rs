//! The state key as the table stores it. [`StateKey`] holds `u128`
//! addresses, whose 16-byte alignment pads it to 48 bytes; split into
//! `u64` halves it packs into 40, and every state holds one or two.

use crate::key::StateKey;
use ruleset::addr::Af;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PackedKey {
    addr: [u64; 4],
    port: [u16; 2],
    rdomain: u16,
    af: u8,
    proto: u8,
}

impl PackedKey {
    pub(crate) fn pack(k: &StateKey) -> Self {
        PackedKey {
            addr: [
                (k.addr[0] >> 64) as u64,
                k.addr[0] as u64,
                (k.addr[1] >> 64) as u64,
                k.addr[1] as u64,
            ],
            port: k.port,
            rdomain: k.rdomain,
            af: match k.af {
                Af::Inet => 4,
                Af::Inet6 => 6,
            },
            proto: k.proto,
        }
    }

    pub(crate) fn unpack(&self) -> StateKey {
        StateKey {
            addr: [
                (u128::from(self.addr[0]) << 64) | u128::from(self.addr[1]),
                (u128::from(self.addr[2]) << 64) | u128::from(self.addr[3]),
            ],
            port: self.port,
            rdomain: self.rdomain,
            af: self.af(),
            proto: self.proto,
        }
    }

    pub(crate) fn af(&self) -> Af {
        if self.af == 6 {
            Af::Inet6
        } else {
            Af::Inet
        }
    }

    pub(crate) fn proto(&self) -> u8 {
        self.proto
    }

    /// The same hash [`StateKey::symmetric_hash`] gives, so the index can
    /// rehash from the stored key.
    /// [`StateKey::shard_hash`] of the key.
    pub(crate) fn shard_hash(&self) -> u64 {
        self.unpack().shard_hash()
    }

    pub(crate) fn hash(&self) -> u64 {
        self.unpack().symmetric_hash()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_round_trips_and_is_small() {
        let k = StateKey {
            addr: [0x2001_0db8_0000_0000_0000_0000_0000_0001, 0xc0a8_0001 << 96],
            port: [443, 51000],
            rdomain: 3,
            af: Af::Inet6,
            proto: 6,
        };
        let p = PackedKey::pack(&k);
        assert_eq!(p.unpack(), k);
        assert_eq!(p.hash(), k.symmetric_hash());
        assert_eq!(std::mem::size_of::<PackedKey>(), 40);
    }
}
