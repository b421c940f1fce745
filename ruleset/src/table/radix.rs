//! The lookup structure of a pf table: longest-prefix match over IPv4 and
//! IPv6 networks, where the most specific covering entry decides and a
//! negated entry (`!10.1.0.0/16`) makes the address not match.
//!
//! One hash map per prefix length in use, probed from the longest length
//! down. A table rarely uses more than a handful of lengths, so a lookup
//! is a few hash probes, and building is one insert per entry: a
//! 100,000-entry table builds in a few milliseconds.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::net::IpAddr;

/// A table entry that cannot be stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RadixError {
    #[error("prefix /{prefix} too long for {addr}")]
    PrefixTooLong { addr: IpAddr, prefix: u8 },
}

/// Longest-prefix-match set of networks with negation.
#[derive(Clone, Debug, Default)]
pub struct TableRadix {
    v4: Family<u32>,
    v6: Family<u128>,
}

impl TableRadix {
    /// Build from `(network, prefix, negated)` entries. Host bits of the
    /// network are ignored. When the same network appears twice, the
    /// first entry wins, as when pfctl defines a table.
    pub fn new<I>(entries: I) -> Result<TableRadix, RadixError>
    where
        I: IntoIterator<Item = (IpAddr, u8, bool)>,
    {
        let mut t = TableRadix::default();
        for (addr, prefix, negated) in entries {
            let stored = match addr {
                IpAddr::V4(a) => t.v4.insert(u32::from(a), prefix, negated),
                IpAddr::V6(a) => t.v6.insert(u128::from(a), prefix, negated),
            };
            if !stored {
                return Err(RadixError::PrefixTooLong { addr, prefix });
            }
        }
        Ok(t)
    }

    /// Whether `addr` is in the table: its most specific covering entry
    /// exists and is not negated.
    pub fn contains(&self, addr: IpAddr) -> bool {
        matches!(self.lookup(addr), Some((_, false)))
    }

    /// The most specific entry covering `addr`: its prefix length and
    /// whether it is negated.
    pub fn lookup(&self, addr: IpAddr) -> Option<(u8, bool)> {
        match addr {
            IpAddr::V4(a) => self.v4.lookup(u32::from(a)),
            IpAddr::V6(a) => self.v6.lookup(u128::from(a)),
        }
    }

    /// Distinct networks stored.
    pub fn len(&self) -> usize {
        self.v4.len + self.v6.len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every stored entry as `(network, prefix, negated)`, IPv4 first,
    /// longest prefixes first (the order is otherwise unspecified): what
    /// a translation pool walks.
    pub fn entries(&self) -> Vec<(IpAddr, u8, bool)> {
        let mut out = Vec::with_capacity(self.len());
        for &l in &self.v4.lengths {
            for (k, &neg) in &self.v4.by_len[usize::from(l)] {
                out.push((IpAddr::from(std::net::Ipv4Addr::from(*k)), l, neg));
            }
        }
        for &l in &self.v6.lengths {
            for (k, &neg) in &self.v6.by_len[usize::from(l)] {
                out.push((IpAddr::from(std::net::Ipv6Addr::from(*k)), l, neg));
            }
        }
        out
    }
}

/// An address as an integer that can be cut to a prefix.
trait Key: Copy + Eq + Hash + Default {
    const BITS: u8;
    fn masked(self, prefix: u8) -> Self;
}

impl Key for u32 {
    const BITS: u8 = 32;
    fn masked(self, prefix: u8) -> u32 {
        match prefix {
            0 => 0,
            p => self & (u32::MAX << (32 - u32::from(p.min(32)))),
        }
    }
}

impl Key for u128 {
    const BITS: u8 = 128;
    fn masked(self, prefix: u8) -> u128 {
        match prefix {
            0 => 0,
            p => self & (u128::MAX << (128 - u32::from(p.min(128)))),
        }
    }
}

type Map<K> = HashMap<K, bool, BuildHasherDefault<AddrHasher>>;

#[derive(Clone, Debug)]
struct Family<K: Key> {
    /// Indexed by prefix length; empty maps for lengths not in use.
    by_len: Vec<Map<K>>,
    /// Prefix lengths in use, longest first.
    lengths: Vec<u8>,
    len: usize,
}

impl<K: Key> Default for Family<K> {
    fn default() -> Self {
        Family {
            by_len: (0..=K::BITS).map(|_| Map::default()).collect(),
            lengths: Vec::new(),
            len: 0,
        }
    }
}

impl<K: Key> Family<K> {
    /// `false` when `prefix` is too long for the family.
    fn insert(&mut self, key: K, prefix: u8, negated: bool) -> bool {
        let Some(map) = self.by_len.get_mut(usize::from(prefix)) else {
            return false;
        };
        if map.is_empty() {
            let at = self.lengths.partition_point(|&l| l > prefix);
            self.lengths.insert(at, prefix);
        }
        if let std::collections::hash_map::Entry::Vacant(v) = map.entry(key.masked(prefix)) {
            v.insert(negated);
            self.len += 1;
        }
        true
    }

    fn lookup(&self, key: K) -> Option<(u8, bool)> {
        self.lengths.iter().find_map(|&l| {
            self.by_len
                .get(usize::from(l))?
                .get(&key.masked(l))
                .map(|&neg| (l, neg))
        })
    }
}

/// A fast hasher for integer keys. Table contents come from the
/// operator's own configuration, so flooding resistance buys nothing
/// while SipHash would dominate the lookup cost.
#[derive(Default, Clone, Copy)]
struct AddrHasher(u64);

impl AddrHasher {
    fn mix(&mut self, v: u64) {
        let mut x = (self.0 ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        x ^= x >> 32;
        self.0 = x.wrapping_mul(0xd6e8_feb8_6659_fd93) ^ (x >> 29);
    }
}

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(b));
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.mix(u64::from(v));
    }
    fn write_u128(&mut self, v: u128) {
        self.mix(v as u64);
        self.mix((v >> 64) as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// xorshift64*: deterministic, dependency-free test randomness.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Addresses drawn from a few shared high-order patterns so that
    /// entries overlap and nest, with random low bits.
    fn rand_addr(r: &mut Rng, v6: bool) -> IpAddr {
        let pattern = r.below(4);
        if v6 {
            let hi = 0x2001_0db8_0000_0000_0000_0000_0000_0000u128 | (u128::from(pattern) << 96);
            IpAddr::V6(Ipv6Addr::from(hi | (u128::from(r.next()) >> r.below(64))))
        } else {
            let hi = 0x0a00_0000u32 | ((pattern as u32) << 22);
            IpAddr::V4(Ipv4Addr::from(
                hi | ((r.next() as u32) >> (8 + r.below(24))),
            ))
        }
    }

    fn naive(entries: &[(IpAddr, u8, bool)], addr: IpAddr) -> bool {
        let mut best: Option<(u8, bool)> = None;
        for &(net, prefix, neg) in entries {
            let covers = match (net, addr) {
                (IpAddr::V4(n), IpAddr::V4(a)) => {
                    u32::from(n).masked(prefix) == u32::from(a).masked(prefix)
                }
                (IpAddr::V6(n), IpAddr::V6(a)) => {
                    u128::from(n).masked(prefix) == u128::from(a).masked(prefix)
                }
                _ => false,
            };
            // Strictly longer only: the first of equal entries wins.
            let longer = match best {
                Some((p, _)) => prefix > p,
                None => true,
            };
            if covers && longer {
                best = Some((prefix, neg));
            }
        }
        matches!(best, Some((_, false)))
    }

    #[test]
    fn equals_linear_scan() {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..300 {
            let n = r.below(40) as usize;
            let entries: Vec<(IpAddr, u8, bool)> = (0..n)
                .map(|_| {
                    let v6 = r.below(2) == 0;
                    let a = rand_addr(&mut r, v6);
                    let prefix = if v6 {
                        96 + r.below(33)
                    } else {
                        8 + r.below(25)
                    } as u8;
                    let prefix = if r.below(20) == 0 { 0 } else { prefix };
                    (a, prefix, r.below(3) == 0)
                })
                .collect();
            let t = TableRadix::new(entries.iter().copied()).expect("valid entries");
            for _ in 0..200 {
                let v6 = r.below(2) == 0;
                let a = rand_addr(&mut r, v6);
                assert_eq!(
                    t.contains(a),
                    naive(&entries, a),
                    "round {round} addr {a} entries {entries:?}"
                );
            }
            for &(a, _, _) in &entries {
                assert_eq!(t.contains(a), naive(&entries, a), "round {round} addr {a}");
            }
        }
    }

    #[test]
    fn negation_and_nesting() {
        let e = |s: &str, p: u8, n: bool| (s.parse::<IpAddr>().unwrap(), p, n);
        let t = TableRadix::new([
            e("10.0.0.0", 8, false),
            e("10.1.0.0", 16, true),
            e("10.1.2.0", 24, false),
            e("2001:db8::", 32, false),
            e("10.0.0.0", 8, true),
        ])
        .unwrap();
        let c = |s: &str| t.contains(s.parse().unwrap());
        assert!(c("10.9.9.9"));
        assert!(!c("10.1.9.9"));
        assert!(c("10.1.2.3"));
        assert!(!c("11.0.0.1"));
        assert!(c("2001:db8::1"));
        assert!(!c("2001:db9::1"));
        assert!(!c("::ffff:10.9.9.9"));
        assert_eq!(t.len(), 4);
        assert_eq!(t.lookup("10.1.2.3".parse().unwrap()), Some((24, false)));
    }

    #[test]
    fn default_route_entry_and_bad_prefix() {
        let t = TableRadix::new([(IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)), 0, false)]).unwrap();
        assert!(t.contains("200.1.1.1".parse().unwrap()));
        assert!(!t.contains("::1".parse().unwrap()));
        assert_eq!(
            TableRadix::new([(IpAddr::V4(Ipv4Addr::LOCALHOST), 33, false)]).unwrap_err(),
            RadixError::PrefixTooLong {
                addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
                prefix: 33
            }
        );
        assert!(TableRadix::new([]).unwrap().is_empty());
    }
}
