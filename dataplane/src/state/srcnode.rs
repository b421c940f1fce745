//! Source tracking (pf's `pf_src_node`): per source address counts of
//! states and established connections, the `max-src-*` limits, and
//! `overload <table> flush` when a source exceeds them.

use crate::pdesc::AddrKey;
use ruleset::addr::Af;
use std::collections::HashMap;

/// The rule's source-tracking options, as `pf_create_state` reads them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SrcTrack {
    /// `source-track rule`: nodes are per rule; otherwise global.
    pub per_rule: bool,
    pub max_src_nodes: u32,
    pub max_src_states: u32,
    pub max_src_conn: u32,
    /// (connections, seconds)
    pub max_src_conn_rate: (u32, u32),
    /// The rule has `overload <table>`: offending sources are reported
    /// by [`StateTable::drain_overloads`](super::StateTable::drain_overloads).
    pub overload: bool,
    /// `flush`: kill the offender's states of this rule; `flush global`:
    /// of every rule.
    pub flush: Option<Flush>,
    /// The rule's `src.track` timeout, 0 = the global one.
    pub timeout: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flush {
    Rule,
    Global,
}

/// A source that exceeded its rule's limits and must go into the rule's
/// overload table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overload {
    pub rule: (u32, u32),
    pub af: Af,
    pub addr: AddrKey,
}

/// pf's connection-rate meter (`pf_threshold`): a count in thousandths
/// that decays linearly over `seconds`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Threshold {
    limit: u32,
    seconds: u32,
    count: u32,
    last: u32,
}

const THRESHOLD_MULT: u32 = 1000;

impl Threshold {
    pub(crate) fn new(limit: u32, seconds: u32) -> Self {
        Threshold {
            limit: limit.saturating_mul(THRESHOLD_MULT),
            seconds,
            count: 0,
            last: 0,
        }
    }

    pub(crate) fn add(&mut self, now: u32) {
        let diff = now.wrapping_sub(self.last);
        if diff >= self.seconds {
            self.count = 0;
        } else {
            let decay = u64::from(self.count) * u64::from(diff) / u64::from(self.seconds.max(1));
            self.count -= decay as u32;
        }
        self.count = self.count.saturating_add(THRESHOLD_MULT);
        self.last = now;
    }

    pub(crate) fn exceeded(&self) -> bool {
        self.count > self.limit
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SrcKey {
    pub af: Af,
    pub addr: AddrKey,
    /// `Some` for per-rule tracking.
    pub rule: Option<(u32, u32)>,
}

#[derive(Debug)]
pub(crate) struct SrcNode {
    pub states: u32,
    pub conn: u32,
    pub conn_rate: Threshold,
    /// When a node without states goes (seconds).
    pub expire: u64,
    pub rule: (u32, u32),
}

/// pf's source-node counters (`SCNT_SRC_NODE_*` and the source-tracking
/// `LCNT_*` limit counters), as `pfctl -si -v` shows them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SrcNodeCounters {
    pub inserts: u64,
    pub removals: u64,
    /// `max-src-nodes` or `set limit src-nodes` refused a new source.
    pub limit_nodes: u64,
    /// `max-src-states` refused a state.
    pub limit_states: u64,
    /// `max-src-conn` closed a connection.
    pub limit_conn: u64,
    /// `max-src-conn-rate` closed a connection.
    pub limit_conn_rate: u64,
    /// Sources put into an overload table.
    pub overload_table: u64,
    /// Overloads that flushed the source's states.
    pub overload_flush: u64,
}

/// One source node as `pfctl -sS` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SrcNodeInfo {
    pub af: Af,
    pub addr: AddrKey,
    /// The rule whose limits apply.
    pub rule: (u32, u32),
    pub states: u32,
    /// Established TCP connections.
    pub conn: u32,
    /// Seconds (on the table's clock) at which a node without states
    /// goes; 0 while it has states.
    pub expire: u64,
    /// `max-src-conn-rate`'s meter: connections in thousandths, and
    /// the seconds it decays over (pf's `conn_rate`).
    pub rate_count: u32,
    pub rate_seconds: u32,
}

/// pf's default `set limit src-nodes`.
pub const DEFAULT_SRC_NODE_LIMIT: u32 = 10_000;

/// Which connection limit a source went over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConnLimit {
    Conn,
    Rate,
}

/// All source nodes, behind one lock: they are touched only when a
/// tracked state is created, established or removed.
#[derive(Default)]
pub(crate) struct SrcNodes {
    /// `set limit src-nodes` (0: pf's default).
    pub limit: u32,
    pub counters: SrcNodeCounters,
    pub nodes: HashMap<SrcKey, SrcNode>,
    /// Nodes per rule (pf's `r->src_nodes`), for `max-src-nodes`.
    pub per_rule: HashMap<(u32, u32), u32>,
    pub overloads: Vec<Overload>,
}

/// Why a source-tracking step refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SrcRefusal {
    Nodes,
    States,
}

impl SrcNodes {
    /// pf's `pf_insert_src_node` and the state's reference to it.
    pub(crate) fn attach(
        &mut self,
        key: SrcKey,
        rule: (u32, u32),
        t: &SrcTrack,
    ) -> Result<(), SrcRefusal> {
        if let Some(n) = self.nodes.get_mut(&key) {
            if t.max_src_states != 0 && n.states >= t.max_src_states {
                self.counters.limit_states += 1;
                return Err(SrcRefusal::States);
            }
            n.states += 1;
            return Ok(());
        }
        let limit = if self.limit == 0 {
            DEFAULT_SRC_NODE_LIMIT
        } else {
            self.limit
        };
        let count = self.per_rule.entry(rule).or_insert(0);
        if (t.max_src_nodes != 0 && *count >= t.max_src_nodes) || self.nodes.len() >= limit as usize
        {
            self.counters.limit_nodes += 1;
            return Err(SrcRefusal::Nodes);
        }
        *count += 1;
        self.counters.inserts += 1;
        self.nodes.insert(
            key,
            SrcNode {
                states: 1,
                conn: 0,
                conn_rate: Threshold::new(t.max_src_conn_rate.0, t.max_src_conn_rate.1),
                expire: 0,
                rule,
            },
        );
        Ok(())
    }

    /// A state referring to `key` went away (pf's
    /// `pf_src_tree_remove_state`).
    pub(crate) fn detach(&mut self, key: &SrcKey, established: bool, now: u32, timeout: u32) {
        if let Some(n) = self.nodes.get_mut(key) {
            if established {
                n.conn = n.conn.saturating_sub(1);
            }
            n.states = n.states.saturating_sub(1);
            if n.states == 0 {
                n.expire = u64::from(now) + u64::from(timeout);
            }
        }
    }

    /// pf's `pf_purge_expired_src_nodes`.
    pub(crate) fn purge(&mut self, now: u32) -> usize {
        let before = self.nodes.len();
        let per_rule = &mut self.per_rule;
        self.nodes.retain(|_, n| {
            let keep = n.states != 0 || n.expire > u64::from(now);
            if !keep {
                if let Some(c) = per_rule.get_mut(&n.rule) {
                    *c = c.saturating_sub(1);
                }
            }
            keep
        });
        let removed = before - self.nodes.len();
        self.counters.removals += removed as u64;
        removed
    }

    /// Every node, for `pfctl -sS`.
    pub(crate) fn info(&self) -> Vec<SrcNodeInfo> {
        self.nodes
            .iter()
            .map(|(k, n)| SrcNodeInfo {
                af: k.af,
                addr: k.addr,
                rule: n.rule,
                states: n.states,
                conn: n.conn,
                expire: if n.states == 0 { n.expire } else { 0 },
                rate_count: n.conn_rate.count,
                rate_seconds: n.conn_rate.seconds,
            })
            .collect()
    }

    /// pf's DIOCKILLSRCNODES: the nodes `which` picks go now. States
    /// that referred to one go on without it (their removal finds no
    /// node to release), as pf unlinks them.
    pub(crate) fn kill(&mut self, which: impl Fn(&SrcNodeInfo) -> bool) -> usize {
        let doomed: Vec<SrcKey> = self
            .nodes
            .iter()
            .filter(|(k, n)| {
                which(&SrcNodeInfo {
                    af: k.af,
                    addr: k.addr,
                    rule: n.rule,
                    states: n.states,
                    conn: n.conn,
                    expire: n.expire,
                    rate_count: n.conn_rate.count,
                    rate_seconds: n.conn_rate.seconds,
                })
            })
            .map(|(k, _)| *k)
            .collect();
        for k in &doomed {
            if let Some(n) = self.nodes.remove(k) {
                if let Some(c) = self.per_rule.get_mut(&n.rule) {
                    *c = c.saturating_sub(1);
                }
            }
        }
        self.counters.removals += doomed.len() as u64;
        doomed.len()
    }

    /// pf's `pf_src_connlimit`: count an established connection; `true`
    /// if the source is now over a limit.
    pub(crate) fn connlimit(&mut self, key: &SrcKey, t: &SrcTrack, now: u32) -> Option<ConnLimit> {
        let n = self.nodes.get_mut(key)?;
        n.conn += 1;
        n.conn_rate.add(now);
        let over = if t.max_src_conn != 0 && t.max_src_conn < n.conn {
            self.counters.limit_conn += 1;
            Some(ConnLimit::Conn)
        } else if t.max_src_conn_rate.0 != 0 && n.conn_rate.exceeded() {
            self.counters.limit_conn_rate += 1;
            Some(ConnLimit::Rate)
        } else {
            None
        };
        if over.is_some() && t.overload {
            self.counters.overload_table += 1;
            if t.flush.is_some() {
                self.counters.overload_flush += 1;
            }
        }
        over
    }
}
