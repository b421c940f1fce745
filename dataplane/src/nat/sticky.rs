//! `sticky-address`: the source-tracking nodes a pool keeps so one source
//! keeps getting the same translation address (pf's `pf_src_node` of
//! type `PF_SN_NAT`/`PF_SN_RDR`, found by `pf_map_addr_sticky`).
//!
//! As in pf, a node lives while states use it; when the last one goes,
//! it expires `src.track` later. The state table reports both through
//! [`SrcNodes::hold`] and [`SrcNodes::release`]; the engine calls
//! [`SrcNodes::purge`] on its purge tick. Time is an argument.

use crate::pdesc::AddrKey;
use ruleset::addr::Af;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SrcNode {
    /// The translation address chosen for this source.
    pub addr: AddrKey,
    /// States using the node.
    pub states: u32,
    /// With no states: when the node goes (ns).
    pub expires_ns: u64,
}

/// One pool's sticky mappings, shared by the workers.
#[derive(Debug, Default)]
pub struct SrcNodes {
    map: Mutex<HashMap<(Af, AddrKey), SrcNode>>,
}

impl SrcNodes {
    fn with<R>(&self, f: impl FnOnce(&mut HashMap<(Af, AddrKey), SrcNode>) -> R) -> R {
        // A worker that panicked while holding the lock left the map in
        // a consistent state (every change is one insert or remove).
        let mut g = self.map.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut g)
    }

    /// The node of `saddr`, if any. As in pf, a node with no states is
    /// found until [`SrcNodes::purge`] takes it, so a node made for a
    /// connection being set up is there for its state to hold.
    pub fn get(&self, af: Af, saddr: AddrKey) -> Option<SrcNode> {
        self.with(|m| m.get(&(af, saddr)).copied())
    }

    /// Record (or replace) the mapping of `saddr`, with no states yet and
    /// alive until `expires_ns` unless a state holds it.
    pub fn insert(&self, af: Af, saddr: AddrKey, addr: AddrKey, expires_ns: u64) {
        self.with(|m| {
            m.insert(
                (af, saddr),
                SrcNode {
                    addr,
                    states: 0,
                    expires_ns,
                },
            );
        });
    }

    /// Forget the mapping of `saddr` (pf drops a node whose address left
    /// the pool).
    pub fn remove(&self, af: Af, saddr: AddrKey) {
        self.with(|m| {
            m.remove(&(af, saddr));
        });
    }

    /// A state now uses the node of `saddr`.
    pub fn hold(&self, af: Af, saddr: AddrKey) {
        self.with(|m| {
            if let Some(n) = m.get_mut(&(af, saddr)) {
                n.states = n.states.saturating_add(1);
            }
        });
    }

    /// A state using the node of `saddr` went away; the last one starts
    /// the `timeout_ns` countdown.
    pub fn release(&self, af: Af, saddr: AddrKey, now_ns: u64, timeout_ns: u64) {
        self.with(|m| {
            if let Some(n) = m.get_mut(&(af, saddr)) {
                n.states = n.states.saturating_sub(1);
                if n.states == 0 {
                    n.expires_ns = now_ns.saturating_add(timeout_ns);
                }
            }
        });
    }

    /// Drop expired nodes; returns how many went.
    pub fn purge(&self, now_ns: u64) -> usize {
        self.with(|m| {
            let before = m.len();
            m.retain(|_, n| n.states > 0 || n.expires_ns > now_ns);
            before - m.len()
        })
    }

    pub fn len(&self) -> usize {
        self.with(|m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_lives_while_held_then_expires() {
        let s = SrcNodes::default();
        s.insert(Af::Inet, 1, 100, 10);
        s.hold(Af::Inet, 1);
        assert_eq!(s.purge(50), 0);
        assert_eq!(s.get(Af::Inet, 1).map(|n| n.addr), Some(100));
        s.release(Af::Inet, 1, 60, 5);
        assert_eq!(s.purge(64), 0);
        assert_eq!(s.get(Af::Inet, 1).map(|n| n.states), Some(0));
        assert_eq!(s.purge(65), 1);
        assert!(s.get(Af::Inet, 1).is_none());
        s.insert(Af::Inet6, 1, 7, 10);
        assert!(s.get(Af::Inet, 1).is_none());
        assert_eq!(s.purge(10), 1);
        assert!(s.is_empty());
    }
}
