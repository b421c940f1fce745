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

    /// An IPv4 key leaves 24 of its 32 address bytes zero. When `stack`
    /// differs from this (wire) key only in its side-1 IPv4 address and
    /// port, as an outbound `nat-to` or an inbound `rdr-to` makes it, the
    /// code that rebuilds it from this key fits in side 1's unused low
    /// word: `addr << 32 | port << 16 | 1`.
    pub(crate) fn inline_code(&self, stack: &PackedKey) -> Option<u64> {
        let v4 = |k: &PackedKey| {
            k.af == 4
                && k.addr[1] == 0
                && k.addr[3] == 0
                && k.addr[0] as u32 == 0
                && k.addr[2] as u32 == 0
        };
        let same_rest = self.addr[0] == stack.addr[0]
            && self.port[0] == stack.port[0]
            && self.rdomain == stack.rdomain
            && self.proto == stack.proto;
        (v4(self) && v4(stack) && same_rest)
            .then(|| (stack.addr[2] >> 32) << 32 | u64::from(stack.port[1]) << 16 | 1)
    }

    /// This key with an inline code stored (see [`Self::inline_code`]).
    pub(crate) fn with_code(mut self, code: u64) -> Self {
        self.addr[3] = code;
        self
    }

    /// The wire key of a key that carries an inline code.
    #[inline]
    pub(crate) fn without_code(mut self) -> Self {
        self.addr[3] = 0;
        self
    }

    /// The stack key an inline code rebuilds.
    #[inline]
    pub(crate) fn decode_stack(&self) -> Self {
        let code = self.addr[3];
        let mut k = *self;
        k.addr[2] = (code >> 32) << 32;
        k.port[1] = (code >> 16) as u16;
        k.addr[3] = 0;
        k
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
mod inline_tests {
    use super::*;
    use crate::pdesc::addr_key;

    fn k(a0: &str, p0: u16, a1: &str, p1: u16) -> PackedKey {
        PackedKey::pack(&StateKey {
            addr: [addr_key(a0.parse().unwrap()), addr_key(a1.parse().unwrap())],
            port: [p0, p1],
            rdomain: 0,
            af: if a0.contains(':') {
                Af::Inet6
            } else {
                Af::Inet
            },
            proto: 6,
        })
    }

    #[test]
    fn side_one_translation_rebuilds_exactly() {
        let wire = k("203.0.113.5", 80, "198.51.100.1", 50001);
        let stack = k("203.0.113.5", 80, "192.0.2.10", 40000);
        let code = wire.inline_code(&stack).unwrap();
        let raw = wire.with_code(code);
        assert_ne!(raw, wire);
        assert_eq!(raw.without_code(), wire);
        assert_eq!(raw.decode_stack(), stack);
    }

    #[test]
    fn other_translations_do_not_fit() {
        let wire = k("203.0.113.5", 80, "198.51.100.1", 50001);
        assert!(wire
            .inline_code(&k("203.0.113.6", 80, "192.0.2.10", 1))
            .is_none());
        assert!(wire
            .inline_code(&k("203.0.113.5", 81, "192.0.2.10", 1))
            .is_none());
        let w6 = k("2001:db8::1", 80, "2001:db8::2", 1);
        assert!(w6
            .inline_code(&k("2001:db8::1", 80, "2001:db8::3", 2))
            .is_none());
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
