//! One expanded rule: what pfctl hands the kernel after `expand_rule`, the
//! unit the printer prints and the compiler compiles.

use crate::addr::{AddrWrap, Af};
use std::net::IpAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Action {
    #[default]
    Pass,
    Block,
    Match,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    #[default]
    InOut,
    In,
    Out,
}

/// What a `block` rule does with the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum BlockReturn {
    #[default]
    Drop,
    /// `return`: RST for TCP, ICMP unreachable for the rest.
    Return { icmp: u16, icmp6: u16 },
    /// `return-rst [(ttl N)]`
    ReturnRst { ttl: u8 },
    /// `return-icmp` / `return-icmp6`: type << 8 | code, for each family.
    ReturnIcmp { icmp: u16, icmp6: u16 },
}

/// Port, uid and gid comparison operators (pf's `PF_OP_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Op {
    #[default]
    None,
    /// `a >< b`: strictly between
    Irg,
    /// `a <> b`: outside
    Xrg,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `a:b`: inclusive range
    Rrg,
}

impl Op {
    /// Does `v` satisfy `self` with operands `a`, `b`?
    pub fn matches(self, a: u32, b: u32, v: u32) -> bool {
        match self {
            Op::None => true,
            Op::Irg => v > a && v < b,
            Op::Xrg => v < a || v > b,
            Op::Eq => v == a,
            Op::Ne => v != a,
            Op::Lt => v < a,
            Op::Le => v <= a,
            Op::Gt => v > a,
            Op::Ge => v >= a,
            Op::Rrg => v >= a && v <= b,
        }
    }
}

/// `user` / `group` / port operand: operator and up to two values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct OpRange<T> {
    pub op: Op,
    pub a: T,
    pub b: T,
}

pub type PortRange = OpRange<u16>;
/// uid or gid; `u32::MAX` stands for `unknown`.
pub type IdRange = OpRange<u32>;

pub const ID_UNKNOWN: u32 = u32::MAX;

/// Source or destination of a rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RuleAddr {
    pub addr: AddrWrap,
    pub neg: bool,
    pub port: PortRange,
}

impl Default for RuleAddr {
    fn default() -> Self {
        RuleAddr {
            addr: AddrWrap::Any,
            neg: false,
            port: PortRange::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum KeepState {
    #[default]
    None,
    Keep,
    Modulate,
    Synproxy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum PoolType {
    #[default]
    None,
    Bitmask,
    Random,
    SourceHash,
    RoundRobin,
    LeastStates,
}

impl PoolType {
    /// Types that can walk several addresses (tables, interface aliases).
    pub fn is_dynamic(self) -> bool {
        matches!(
            self,
            PoolType::RoundRobin | PoolType::Random | PoolType::LeastStates | PoolType::SourceHash
        )
    }
}

/// A translation or routing pool: `nat-to`, `rdr-to`, `route-to`, ...
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Pool {
    /// `None` when the rule has no such pool.
    pub addr: Option<AddrWrap>,
    pub ifname: Option<String>,
    pub proxy_port: [u16; 2],
    pub port_op: Op,
    pub kind: PoolType,
    pub sticky: bool,
    pub key: [u32; 4],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum RouteKind {
    #[default]
    None,
    RouteTo,
    ReplyTo,
    DupTo,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum Divert {
    #[default]
    None,
    To {
        addr: IpAddr,
        port: u16,
    },
    Reply,
    Packet {
        port: u16,
    },
}

/// State timeouts, in pf's `PFTM_*` order (the order they print in).
pub const TIMEOUT_NAMES: [&str; 20] = [
    "tcp.first",
    "tcp.opening",
    "tcp.established",
    "tcp.closing",
    "tcp.finwait",
    "tcp.closed",
    "udp.first",
    "udp.single",
    "udp.multiple",
    "icmp.first",
    "icmp.error",
    "other.first",
    "other.single",
    "other.multiple",
    "frag",
    "interval",
    "adaptive.start",
    "adaptive.end",
    "src.track",
    "tcp.tsdiff",
];
pub const PFTM_MAX: usize = TIMEOUT_NAMES.len();
pub const PFTM_INTERVAL: usize = 15;
pub const PFTM_ADAPTIVE_START: usize = 16;
pub const PFTM_ADAPTIVE_END: usize = 17;
pub const PFTM_SRC_NODE: usize = 18;

pub fn timeout_index(name: &str) -> Option<usize> {
    TIMEOUT_NAMES
        .iter()
        .position(|n| n.eq_ignore_ascii_case(name))
}

/// `log` options.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Log {
    pub enabled: bool,
    pub all: bool,
    pub matches: bool,
    pub user: bool,
    /// `to pflogN`, 0 for pflog0
    pub logif: u8,
}

/// Source tracking mode requested by the state options.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SrcTrack {
    #[default]
    None,
    Global,
    Rule,
}

/// Stateful options (`keep state (...)`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct StateOpts {
    pub max_states: u32,
    pub max_src_nodes: u32,
    pub max_src_states: u32,
    pub max_src_conn: u32,
    pub max_src_conn_rate: (u32, u32),
    pub overload_table: Option<String>,
    pub flush: bool,
    pub flush_global: bool,
    pub src_track: SrcTrack,
    pub no_sync: bool,
    pub if_bound: bool,
    pub sloppy: bool,
    pub pflow: bool,
    pub timeouts: [u32; PFTM_MAX],
}

/// `scrub (...)` and `set (...)` options.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct ScrubOpts {
    pub no_df: bool,
    pub random_id: bool,
    pub reassemble_tcp: bool,
    pub min_ttl: u8,
    pub max_mss: u16,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct SetOpts {
    /// `set prio p` / `set prio (p1, p2)`
    pub prio: Option<(u8, u8)>,
    pub queue: Option<(String, Option<String>)>,
    pub tos: Option<u8>,
    pub delay: Option<u16>,
}

/// An anchor attached to a rule (`anchor "name" ... [{ ... }]`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct AnchorCall {
    /// Name as written, or `_N` for an unnamed inline anchor.
    pub name: String,
    /// Full path from the main ruleset.
    pub path: String,
    /// Defined inline with at least one rule (pf's `anchor->match`); the
    /// rules are kept by path beside the ruleset.
    pub inline_rules: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Rule {
    /// Number within its ruleset (pf's `@nr`).
    pub nr: u32,
    /// Line of the pf.conf statement this rule came from.
    pub line: u32,
    pub action: Action,
    pub block: BlockReturn,
    pub direction: Direction,
    pub log: Log,
    pub quick: bool,
    pub ifname: Option<String>,
    pub ifnot: bool,
    pub onrdomain: Option<u32>,
    pub af: Option<Af>,
    /// IP protocol number, 0 for any.
    pub proto: u8,
    pub src: RuleAddr,
    pub dst: RuleAddr,
    pub os: Option<String>,
    pub received_on: Option<(String, bool)>,
    pub uid: IdRange,
    pub gid: IdRange,
    pub flags: u8,
    pub flagset: u8,
    /// ICMP type + 1, 0 for none (pf's encoding).
    pub icmp_type: u16,
    /// ICMP code + 1, 0 for none.
    pub icmp_code: u16,
    pub tos: Option<u8>,
    /// `prio N` match.
    pub prio: Option<u8>,
    pub max_pkt_rate: (u32, u32),
    pub set: SetOpts,
    pub keep_state: KeepState,
    pub state: StateOpts,
    /// `probability`, as a fraction of 2^32.
    pub prob: u32,
    pub fragment: bool,
    pub scrub: ScrubOpts,
    pub allow_opts: bool,
    pub label: String,
    pub once: bool,
    pub tag: String,
    pub tagged: String,
    pub tagged_not: bool,
    pub rtable: Option<u32>,
    pub divert: Divert,
    pub nat: Pool,
    pub rdr: Pool,
    pub route: Pool,
    pub route_kind: RouteKind,
    /// `af-to` target family.
    pub naf: Option<Af>,
    pub afto: bool,
    pub anchor: Option<AnchorCall>,
}
