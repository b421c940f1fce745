//! Tables changed on the running engine (`pfctl -t T -T add|delete|
//! replace|flush|show|test`): a table that was edited is rebuilt whole
//! from its entries and replaces the compiled one for lookups; the hosts
//! `overload` added (see `overload.rs`) stay on top.

use super::Engine;
use crate::nat::table::PoolTable;
use crate::pdesc::{addr_key, key_to_ip};
use ruleset::compile::TableId;
use ruleset::table::TableRadix;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// One table entry: network, prefix length, negated.
pub type TableEntry = (IpAddr, u8, bool);

/// An edited table: its lookup structure and the entries it was built
/// from.
type EditedTable = (Arc<TableRadix>, Vec<TableEntry>);

/// Tables that have been edited since the load, by [`TableId`].
#[derive(Debug, Default)]
pub(crate) struct Edited {
    /// No table edited yet: lookups skip the locks.
    used: AtomicBool,
    tables: Vec<RwLock<Option<EditedTable>>>,
}

impl Edited {
    pub fn new(n: usize) -> Edited {
        Edited {
            used: AtomicBool::new(false),
            tables: (0..n).map(|_| RwLock::new(None)).collect(),
        }
    }

    /// The edited table, if `t` was edited.
    pub fn get(&self, t: TableId) -> Option<Arc<TableRadix>> {
        if !self.used.load(Ordering::Acquire) {
            return None;
        }
        self.tables
            .get(t.0 as usize)?
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|(r, _)| r.clone())
    }
}

/// What an edit did, as pfctl reports it (`1/2 addresses added.`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableChange {
    pub changed: usize,
    pub given: usize,
}

fn normalize((a, p, neg): TableEntry) -> TableEntry {
    let masked = match a {
        IpAddr::V4(v) => {
            let m = u32::MAX.checked_shl(32 - u32::from(p.min(32))).unwrap_or(0);
            IpAddr::from(std::net::Ipv4Addr::from(u32::from(v) & m))
        }
        IpAddr::V6(v) => {
            let m = u128::MAX
                .checked_shl(128 - u32::from(p.min(128)))
                .unwrap_or(0);
            IpAddr::from(std::net::Ipv6Addr::from(u128::from(v) & m))
        }
    };
    (masked, p, neg)
}

impl Engine {
    /// The id of table `name` as the main ruleset sees it.
    pub fn table_id(&self, name: &str) -> Option<TableId> {
        self.compiled().table("", name)
    }

    /// The entries of table `t` now: edits applied, and the hosts
    /// `overload` added.
    pub fn table_entries(&self, t: TableId) -> Vec<TableEntry> {
        let base = self.edited.tables.get(t.0 as usize).and_then(|slot| {
            slot.read()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .map(|(_, e)| e.clone())
        });
        let mut out = base.unwrap_or_else(|| {
            self.compiled()
                .tables
                .get(t.0 as usize)
                .map(|r| r.entries())
                .unwrap_or_default()
        });
        for (af, a) in self.table_added(t) {
            let ip = key_to_ip(af, a);
            let full = if ip.is_ipv4() { 32 } else { 128 };
            if !out.contains(&(ip, full, false)) {
                out.push((ip, full, false));
            }
        }
        out.sort_by_key(|e| (e.0, e.1));
        out
    }

    fn table_store(&self, t: TableId, entries: Vec<TableEntry>) -> Result<(), String> {
        let radix = TableRadix::new(entries.iter().copied()).map_err(|e| e.to_string())?;
        let slot = self
            .edited
            .tables
            .get(t.0 as usize)
            .ok_or_else(|| "no such table".to_string())?;
        // Pools that draw from the table see the edit too.
        let pool = PoolTable::new(entries.iter().copied()).map_err(|e| e.to_string())?;
        *slot.write().unwrap_or_else(|e| e.into_inner()) = Some((Arc::new(radix), entries));
        self.edited.used.store(true, Ordering::Release);
        let mut pools = self.pool_tables.write().unwrap_or_else(|e| e.into_inner());
        let mut next = Vec::clone(&pools);
        if let Some(p) = next.get_mut(t.0 as usize) {
            *p = pool;
        }
        *pools = Arc::new(next);
        Ok(())
    }

    /// The tables as translation pools walk them now.
    pub(crate) fn pool_tables_now(&self) -> Arc<Vec<PoolTable>> {
        self.pool_tables
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `-T add`: entries not yet in the table are added.
    pub fn table_add(&self, t: TableId, add: &[TableEntry]) -> Result<TableChange, String> {
        let mut cur = self.table_entries(t);
        let mut changed = 0;
        for e in add.iter().copied().map(normalize) {
            if !cur.iter().any(|c| (c.0, c.1) == (e.0, e.1)) {
                cur.push(e);
                changed += 1;
            }
        }
        self.table_store(t, cur)?;
        Ok(TableChange {
            changed,
            given: add.len(),
        })
    }

    /// `-T delete`: the given networks are removed.
    pub fn table_delete(&self, t: TableId, del: &[TableEntry]) -> Result<TableChange, String> {
        let mut cur = self.table_entries(t);
        let before = cur.len();
        let del: Vec<TableEntry> = del.iter().copied().map(normalize).collect();
        cur.retain(|c| !del.iter().any(|d| (d.0, d.1) == (c.0, c.1)));
        for d in &del {
            self.overlay.remove(t, d.0, d.1);
        }
        let changed = before - cur.len();
        self.table_store(t, cur)?;
        Ok(TableChange {
            changed,
            given: del.len(),
        })
    }

    /// `-T replace`: the table becomes exactly `entries`.
    pub fn table_replace(&self, t: TableId, entries: &[TableEntry]) -> Result<TableChange, String> {
        let new: Vec<TableEntry> = entries.iter().copied().map(normalize).collect();
        self.overlay.clear(t);
        self.table_store(t, new)?;
        Ok(TableChange {
            changed: entries.len(),
            given: entries.len(),
        })
    }

    /// `-T flush`: every entry goes; returns how many there were.
    pub fn table_flush(&self, t: TableId) -> Result<usize, String> {
        let n = self.table_entries(t).len();
        self.overlay.clear(t);
        self.table_store(t, Vec::new())?;
        Ok(n)
    }

    /// `-T test`: which of `addrs` the table matches.
    pub fn table_test(&self, t: TableId, addrs: &[IpAddr]) -> Vec<bool> {
        addrs
            .iter()
            .map(|a| {
                let af = ruleset::addr::Af::of(a);
                self.table_contains(t, af, addr_key(*a))
            })
            .collect()
    }
}
