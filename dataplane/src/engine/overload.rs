//! Addresses added to tables at run time: the sources `overload <t>`
//! puts there (pf's `pfr_insert_kentry` from `pf_src_connlimit`). They
//! are host entries, more specific than anything the ruleset loaded, so
//! an address here is in the table whatever the compiled entries say.

use crate::pdesc::AddrKey;
use ruleset::addr::Af;
use ruleset::compile::TableId;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

#[derive(Debug, Default)]
pub(crate) struct Overlay {
    /// Nothing added yet: table lookups skip the lock entirely.
    used: AtomicBool,
    tables: Vec<RwLock<HashSet<(bool, AddrKey)>>>,
}

impl Overlay {
    pub fn new(tables: usize) -> Overlay {
        Overlay {
            used: AtomicBool::new(false),
            tables: (0..tables).map(|_| RwLock::default()).collect(),
        }
    }

    pub fn add(&self, t: TableId, af: Af, addr: AddrKey) -> bool {
        let Some(set) = self.tables.get(t.0 as usize) else {
            return false;
        };
        let added = set
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert((af == Af::Inet6, addr));
        self.used.store(true, Ordering::Release);
        added
    }

    /// Forget an added host that `-T delete` names (a host: the full
    /// prefix of its family).
    pub fn remove(&self, t: TableId, ip: std::net::IpAddr, prefix: u8) {
        let full = if ip.is_ipv4() { 32 } else { 128 };
        if prefix != full {
            return;
        }
        if let Some(set) = self.tables.get(t.0 as usize) {
            set.write()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&(ip.is_ipv6(), crate::pdesc::addr_key(ip)));
        }
    }

    /// Forget every added host of `t`.
    pub fn clear(&self, t: TableId) {
        if let Some(set) = self.tables.get(t.0 as usize) {
            set.write().unwrap_or_else(|e| e.into_inner()).clear();
        }
    }

    pub fn contains(&self, t: TableId, af: Af, addr: AddrKey) -> bool {
        if !self.used.load(Ordering::Acquire) {
            return false;
        }
        self.tables.get(t.0 as usize).is_some_and(|set| {
            set.read()
                .unwrap_or_else(|e| e.into_inner())
                .contains(&(af == Af::Inet6, addr))
        })
    }

    /// Addresses added to table `t`, for `pfctl -t T -T show`.
    pub fn entries(&self, t: TableId) -> Vec<(Af, AddrKey)> {
        self.tables
            .get(t.0 as usize)
            .map(|set| {
                set.read()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .map(|&(v6, a)| (if v6 { Af::Inet6 } else { Af::Inet }, a))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_hosts_are_found_per_table_and_family() {
        let o = Overlay::new(2);
        assert!(!o.contains(TableId(0), Af::Inet, 5));
        assert!(o.add(TableId(1), Af::Inet, 5));
        assert!(!o.add(TableId(1), Af::Inet, 5));
        assert!(o.contains(TableId(1), Af::Inet, 5));
        assert!(!o.contains(TableId(1), Af::Inet6, 5));
        assert!(!o.contains(TableId(0), Af::Inet, 5));
        assert!(!o.add(TableId(9), Af::Inet, 5));
        assert_eq!(o.entries(TableId(1)), vec![(Af::Inet, 5)]);
    }
}
