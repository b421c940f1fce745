//! When each table entry's statistics were last cleared (pf's
//! `pfras_tzero`): set when an address is added, by `-T zero`, and for
//! the loaded entries by the load; `-T expire SECS` removes the entries
//! cleared longer ago than that. Wall-clock seconds, as pfctl compares
//! them with `time(NULL)`; the caller passes `now`.

use std::collections::HashMap;
use std::net::IpAddr;

/// A table entry's network: address and prefix length.
pub type Net = (IpAddr, u8);

#[derive(Debug, Default)]
pub struct TableTimes {
    /// When the ruleset in force was loaded: its entries' time.
    loaded: u64,
    /// Entries cleared since, by table name.
    entries: HashMap<(String, Net), u64>,
}

impl TableTimes {
    /// For the ruleset loaded at `now`.
    pub fn new(now: u64) -> TableTimes {
        TableTimes {
            loaded: now,
            entries: HashMap::new(),
        }
    }

    /// A new ruleset: its entries count from `now`.
    pub fn reloaded(&mut self, now: u64) {
        self.loaded = now;
        self.entries.clear();
    }

    /// `nets` were cleared (added or zeroed) at `now`.
    pub fn set(&mut self, table: &str, nets: impl IntoIterator<Item = Net>, now: u64) {
        for n in nets {
            self.entries.insert((table.to_string(), n), now);
        }
    }

    /// `nets` left the table.
    pub fn forget(&mut self, table: &str, nets: impl IntoIterator<Item = Net>) {
        for n in nets {
            self.entries.remove(&(table.to_string(), n));
        }
    }

    /// When `net` of `table` was last cleared.
    pub fn cleared(&self, table: &str, net: Net) -> u64 {
        self.entries
            .get(&(table.to_string(), net))
            .copied()
            .unwrap_or(self.loaded)
    }

    /// Of `nets`, those cleared more than `secs` before `now` (pfctl's
    /// `time(NULL) - tzero > lifetime`).
    pub fn expired(&self, table: &str, nets: &[Net], secs: u64, now: u64) -> Vec<Net> {
        nets.iter()
            .copied()
            .filter(|n| now.saturating_sub(self.cleared(table, *n)) > secs)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loaded_entries_age_from_the_load_added_ones_from_their_add() {
        let a: Net = ("192.0.2.1".parse().unwrap(), 32);
        let b: Net = ("192.0.2.0".parse().unwrap(), 24);
        let mut t = TableTimes::default();
        t.reloaded(1000);
        t.set("t", [b], 1050);
        assert_eq!(t.cleared("t", a), 1000);
        assert_eq!(t.expired("t", &[a, b], 30, 1060), vec![a]);
        assert_eq!(t.expired("t", &[a, b], 60, 1060), Vec::<Net>::new());
        assert_eq!(t.expired("t", &[a, b], 5, 1060), vec![a, b]);
        t.set("t", [a], 1059);
        assert_eq!(t.expired("t", &[a, b], 5, 1060), vec![b]);
        t.forget("t", [b]);
        assert_eq!(t.cleared("t", b), 1000, "a re-added entry starts again");
        t.reloaded(2000);
        assert_eq!(t.cleared("t", a), 2000);
        assert_eq!(t.cleared("u", a), 2000, "per table");
    }
}
