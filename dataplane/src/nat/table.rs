//! A table as a translation pool walks it (pf's `pfr_pool_get`): the
//! non-negated entries of each family in radix-walk order, each standing
//! for the addresses of its block whose most specific entry it is
//! (addresses under a nested entry belong to that entry, or to nobody if
//! it is negated).
//!
//! [`ruleset::table::TableRadix`] answers "is this address in the table"
//! but cannot list its entries, which round-robin needs; a `PoolTable` is
//! built from the same entries for each table a pool uses.

use crate::pdesc::AddrKey;
use ruleset::addr::Af;
use ruleset::table::{RadixError, TableRadix};
use std::net::IpAddr;

/// Addresses as plain integers of their family's width (an IPv4 address
/// in the low 32 bits), so arithmetic is the same for both families.
pub(crate) fn to_local(af: Af, k: AddrKey) -> u128 {
    match af {
        Af::Inet => k >> 96,
        Af::Inet6 => k,
    }
}

pub(crate) fn from_local(af: Af, v: u128) -> AddrKey {
    match af {
        Af::Inet => (v & 0xffff_ffff) << 96,
        Af::Inet6 => v,
    }
}

/// Host bits of a `prefix`-bit network of family `af`, in local form.
pub(crate) fn host_mask(af: Af, prefix: u8) -> u128 {
    let bits = u32::from(af.bits());
    let p = u32::from(prefix).min(bits);
    let all = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    match bits - p {
        0 => 0,
        128 => u128::MAX,
        h => ((1u128 << h) - 1) & all,
    }
}

/// One non-negated entry: the inclusive address ranges it owns.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Block {
    /// The entry's network (local form) and prefix.
    net: u128,
    prefix: u8,
    ranges: Vec<(u128, u128)>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Family {
    blocks: Vec<Block>,
    /// `cum[i]`: addresses owned by blocks before `i` (saturating).
    cum: Vec<u128>,
    total: u128,
}

/// A table's entries as a pool walks them.
#[derive(Clone, Debug, Default)]
pub struct PoolTable {
    v4: Family,
    v6: Family,
    /// Entries of both families, negated ones included (pf's
    /// `pfrkt_cnt`, which random and source-hash index by).
    count: usize,
    radix: TableRadix,
}

impl PoolTable {
    /// Build from `(network, prefix, negated)` entries, as
    /// [`TableRadix::new`] takes them.
    pub fn new<I>(entries: I) -> Result<PoolTable, RadixError>
    where
        I: IntoIterator<Item = (IpAddr, u8, bool)>,
    {
        let entries: Vec<(IpAddr, u8, bool)> = entries.into_iter().collect();
        let radix = TableRadix::new(entries.iter().copied())?;
        let fam = |af: Af| {
            let mut list: Vec<(u128, u8, bool)> = entries
                .iter()
                .filter(|(a, _, _)| Af::of(a) == af)
                .map(|&(a, p, neg)| {
                    let v = to_local(af, crate::pdesc::addr_key(a));
                    (v & !host_mask(af, p), p, neg)
                })
                .collect();
            // The first of two equal entries wins, as in TableRadix.
            let mut seen = std::collections::HashSet::new();
            list.retain(|&(n, p, _)| seen.insert((n, p)));
            build_family(af, list)
        };
        let v4 = fam(Af::Inet);
        let v6 = fam(Af::Inet6);
        Ok(PoolTable {
            v4,
            v6,
            count: radix.len(),
            radix,
        })
    }

    fn family(&self, af: Af) -> &Family {
        match af {
            Af::Inet => &self.v4,
            Af::Inet6 => &self.v6,
        }
    }

    /// Whether `a` is in the table (its most specific entry is not negated).
    pub fn contains(&self, af: Af, a: AddrKey) -> bool {
        self.radix.contains(crate::pdesc::key_to_ip(af, a))
    }

    /// The `n`-th address of the round-robin cycle: every owned address
    /// of every entry, in walk order. `None` for an empty pool.
    pub fn nth(&self, af: Af, n: u64) -> Option<AddrKey> {
        let f = self.family(af);
        if f.total == 0 {
            return None;
        }
        let mut k = u128::from(n) % f.total;
        let i = f.cum.partition_point(|&c| c <= k).checked_sub(1)?;
        k -= f.cum.get(i)?;
        for &(lo, hi) in &f.blocks.get(i)?.ranges {
            let len = hi - lo;
            if k <= len {
                return Some(from_local(af, lo + k));
            }
            k -= len + 1;
        }
        None
    }

    /// pf's pick by entry index (random and source-hash over a table):
    /// `idx` is taken modulo all entries; an index past this family's
    /// entries falls back to the first, and an entry owning no address
    /// passes to the next, as `pfr_pool_get` loops.
    pub fn by_index(&self, af: Af, idx: u64) -> Option<AddrKey> {
        let f = self.family(af);
        let count = u64::try_from(self.count).ok().filter(|&c| c > 0)?;
        let mut i = usize::try_from(idx % count).ok()?;
        if i >= f.blocks.len() {
            i = 0;
        }
        let n = f.blocks.len();
        (0..n).find_map(|step| {
            let b = f.blocks.get((i + step) % n)?;
            b.ranges.first().map(|&(lo, _)| from_local(af, lo))
        })
    }

    /// The first entry of family `af` in walk order, as network and
    /// prefix (pf's `pfid_addr4`/`pfid_mask4` of a dynamic interface).
    pub fn first_entry(&self, af: Af) -> Option<(AddrKey, u8)> {
        let b = self.family(af).blocks.first()?;
        Some((from_local(af, b.net), b.prefix))
    }

    /// Addresses the pool owns in family `af` (saturating).
    pub fn size(&self, af: Af) -> u128 {
        self.family(af).total
    }
}

/// Walk order and owned ranges of one family's entries.
fn build_family(af: Af, mut list: Vec<(u128, u8, bool)>) -> Family {
    // Radix walk order: by network, a more specific mask first among
    // entries with the same network (the order of a duped-key chain).
    list.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let end = |&(n, p, _): &(u128, u8, bool)| n | host_mask(af, p);
    // Containment order: by network, shorter prefix first, so a
    // container precedes what it contains; a stack finds each entry's
    // immediate container.
    let mut by_nest: Vec<usize> = (0..list.len()).collect();
    by_nest.sort_by(|&i, &j| list[i].0.cmp(&list[j].0).then(list[i].1.cmp(&list[j].1)));
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); list.len()];
    let mut stack: Vec<usize> = Vec::new();
    for &i in &by_nest {
        while let Some(&top) = stack.last() {
            if list[i].0 <= end(&list[top]) {
                break;
            }
            stack.pop();
        }
        if let Some(&top) = stack.last() {
            children[top].push(i);
        }
        stack.push(i);
    }
    let mut fam = Family::default();
    for (i, e) in list.iter().enumerate() {
        if e.2 {
            continue;
        }
        // Children are disjoint and come in address order.
        let mut ranges = Vec::new();
        let mut next = Some(e.0);
        for &c in &children[i] {
            let (cs, ce) = (list[c].0, end(&list[c]));
            if let Some(n) = next {
                if cs > n {
                    ranges.push((n, cs - 1));
                }
            }
            next = ce.checked_add(1);
        }
        if let Some(n) = next {
            if n <= end(e) {
                ranges.push((n, end(e)));
            }
        }
        let size = ranges.iter().fold(0u128, |s, &(lo, hi)| {
            s.saturating_add((hi - lo).saturating_add(1))
        });
        fam.cum.push(fam.total);
        fam.total = fam.total.saturating_add(size);
        fam.blocks.push(Block {
            net: e.0,
            prefix: e.1,
            ranges,
        });
    }
    fam
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdesc::addr_key;

    fn e(s: &str, p: u8, neg: bool) -> (IpAddr, u8, bool) {
        (s.parse().unwrap(), p, neg)
    }

    fn a(s: &str) -> AddrKey {
        addr_key(s.parse().unwrap())
    }

    #[test]
    fn cycle_visits_each_owned_address_once_in_walk_order() {
        let t = PoolTable::new([
            e("192.0.2.8", 29, false),
            e("192.0.2.10", 31, true),
            e("192.0.2.12", 32, false),
            e("192.0.2.1", 32, false),
            e("2001:db8::1", 128, false),
        ])
        .unwrap();
        let got: Vec<AddrKey> = (0..8).map(|n| t.nth(Af::Inet, n).unwrap()).collect();
        let want: Vec<AddrKey> = [
            "192.0.2.1",
            "192.0.2.8",
            "192.0.2.9",
            "192.0.2.13",
            "192.0.2.14",
            "192.0.2.15",
            "192.0.2.12",
            "192.0.2.1",
        ]
        .iter()
        .map(|s| a(s))
        .collect();
        assert_eq!(got, want);
        assert_eq!(t.size(Af::Inet), 7);
        assert_eq!(t.nth(Af::Inet6, 5), Some(a("2001:db8::1")));
        assert!(t.contains(Af::Inet, a("192.0.2.9")));
        assert!(!t.contains(Af::Inet, a("192.0.2.10")));
        // Five entries; index 4 is past the three IPv4 non-negated ones.
        assert_eq!(t.by_index(Af::Inet, 4), Some(a("192.0.2.1")));
        assert_eq!(t.by_index(Af::Inet, 6), Some(a("192.0.2.8")));
    }

    #[test]
    fn empty_and_huge_pools() {
        let t = PoolTable::new([e("10.0.0.1", 32, true)]).unwrap();
        assert_eq!(t.nth(Af::Inet, 0), None);
        assert_eq!(t.by_index(Af::Inet, 0), None);
        let t = PoolTable::new([e("::", 0, false), e("0.0.0.0", 0, false)]).unwrap();
        assert_eq!(t.nth(Af::Inet6, 3), Some(3));
        assert_eq!(t.nth(Af::Inet, 5), Some(a("0.0.0.5")));
        assert_eq!(t.size(Af::Inet), 1 << 32);
    }
}
