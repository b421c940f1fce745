//! The result of parsing a pf.conf: options, tables, queues and the
//! expanded rules, ready to print or to compile.

use crate::addr::NodeHost;
use crate::rule::{Rule, PFTM_MAX};

/// pf's default state timeouts in seconds, in `PFTM_*` order.
pub const DEFAULT_TIMEOUTS: [u32; PFTM_MAX] = [
    120,    // tcp.first
    30,     // tcp.opening
    86400,  // tcp.established
    900,    // tcp.closing
    45,     // tcp.finwait
    90,     // tcp.closed
    60,     // udp.first
    30,     // udp.single
    60,     // udp.multiple
    20,     // icmp.first
    10,     // icmp.error
    60,     // other.first
    30,     // other.single
    60,     // other.multiple
    60,     // frag
    10,     // interval
    60000,  // adaptive.start (60% of the default state limit)
    120000, // adaptive.end (120%)
    0,      // src.track
    30,     // tcp.tsdiff
];

/// `set limit` names, in pf's `PF_LIMIT_*` order.
pub const LIMIT_NAMES: [&str; 7] = [
    "states",
    "src-nodes",
    "frags",
    "tables",
    "table-entries",
    "pktdelay-pkts",
    "anchors",
];
/// pf's default limits, in [`LIMIT_NAMES`] order.
pub const DEFAULT_LIMITS: [u32; 7] = [100_000, 10_000, 65_536, 1000, 200_000, 10_000, 512];
pub const LIMIT_STATES: usize = 0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BlockPolicy {
    #[default]
    Drop,
    Return,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Syncookies {
    #[default]
    Never,
    Always,
    /// Adaptive, with start and end thresholds in percent of the state limit.
    Adaptive {
        start: u32,
        end: u32,
    },
}

/// Everything `set` can change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub timeouts: [u32; PFTM_MAX],
    pub timeout_set: [bool; PFTM_MAX],
    pub limits: [u32; 7],
    pub limit_set: [bool; 7],
    pub optimization: Option<String>,
    pub ruleset_optimization: Option<String>,
    /// `None` = `set loginterface none` or never set.
    pub loginterface: Option<String>,
    pub hostid: Option<u32>,
    pub block_policy: BlockPolicy,
    pub state_policy_if_bound: bool,
    pub fingerprints: Option<String>,
    /// syslog level 0..=7
    pub debug: Option<u32>,
    pub skip: Vec<String>,
    pub reassemble: bool,
    pub reassemble_no_df: bool,
    pub syncookies: Syncookies,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeouts: DEFAULT_TIMEOUTS,
            timeout_set: [false; PFTM_MAX],
            limits: DEFAULT_LIMITS,
            limit_set: [false; 7],
            optimization: None,
            ruleset_optimization: None,
            loginterface: None,
            hostid: None,
            block_policy: BlockPolicy::Drop,
            state_policy_if_bound: false,
            fingerprints: None,
            debug: None,
            skip: Vec::new(),
            reassemble: true,
            reassemble_no_df: false,
            syncookies: Syncookies::Never,
        }
    }
}

/// Where a table's initial addresses come from, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableInit {
    Hosts(Vec<NodeHost>),
    File(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TableFlags {
    pub constant: bool,
    pub persist: bool,
    pub counters: bool,
}

/// `table <name> ...`, including the automatic tables pfctl makes for
/// address pools.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableDef {
    pub name: String,
    /// Anchor path the table belongs to ("" for the main ruleset).
    pub anchor: String,
    pub flags: TableFlags,
    pub init: Vec<TableInit>,
    /// `{ }` given (even if empty).
    pub init_addr: bool,
    /// The resolved entries (hosts and files loaded).
    pub entries: Vec<crate::table::TableAddr>,
}

/// Bandwidth as pf stores it: absolute bits/s or a percentage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Bandwidth {
    pub absolute: u64,
    pub percent: u32,
}

/// HFSC service curve: `m2 [burst m1 for d ms]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ServiceCurve {
    pub m1: Bandwidth,
    pub d: u32,
    pub m2: Bandwidth,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct QueueSpec {
    pub name: String,
    pub parent: String,
    pub ifname: String,
    pub linkshare: ServiceCurve,
    pub realtime: ServiceCurve,
    pub upperlimit: ServiceCurve,
    pub flows: u32,
    pub quantum: u32,
    pub qlimit: u32,
    pub default: bool,
    pub flowqueue: bool,
    pub rootclass: bool,
    pub children: Vec<QueueSpec>,
}

/// `load anchor NAME from FILE`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadAnchor {
    pub anchor: String,
    pub file: String,
}

#[derive(Clone, Debug, Default)]
pub struct Ruleset {
    pub options: Options,
    pub tables: Vec<TableDef>,
    /// Root queues with their children.
    pub queues: Vec<QueueSpec>,
    pub rules: Vec<Rule>,
    pub load_anchors: Vec<LoadAnchor>,
}
