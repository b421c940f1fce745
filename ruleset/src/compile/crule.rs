//! The compiled rule: what the packet engine reads per packet. No strings:
//! interfaces, tags, tables, labels and anchors are small integer ids
//! into the name tables kept by [`super::Compiled`]. The fields tested
//! while scanning sit inline; what only a matching rule needs (pools,
//! state options, scrub) sits behind one pointer so a scan touches less
//! memory.

use crate::addr::{Af, IfAddrFlags};
use crate::rule::{
    Action, BlockReturn, Direction, IdRange, KeepState, Log, Op, PoolType, PortRange, RouteKind,
    ScrubOpts, SrcTrack, PFTM_MAX,
};
use std::net::IpAddr;

/// Index into [`super::Compiled::ifnames`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IfId(pub u32);
/// Index into [`super::Compiled::tags`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagId(pub u32);
/// Index into [`super::Compiled::tables`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableId(pub u32);
/// Index into [`super::Compiled::rulesets`]; 0 is the main ruleset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RulesetId(pub u32);
/// Index into [`super::Compiled::labels`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelId(pub u32);

/// An address as one `u128`, laid out as pf lays out `struct pf_addr`:
/// an IPv4 address fills the first (most significant) 32 bits. One
/// `(key & mask) == addr` or `from <= key <= to` test then serves both
/// families, and two operands compare equal exactly when pf's
/// `pf_addr_wrap_neq` finds them equal. The rule's `af` keeps families
/// apart.
pub fn addr_key(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v4) => u128::from(u32::from(v4)) << 96,
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The mask of a `prefix`-bit network in [`addr_key`] layout.
pub fn prefix_mask(prefix: u8) -> u128 {
    match prefix {
        0 => 0,
        p if p >= 128 => u128::MAX,
        p => u128::MAX << (128 - u32::from(p)),
    }
}

/// One address operand (pf's `pf_addr_wrap`). Derived equality is pf's
/// skip-step equality: `any` and `0/0` are both [`CAddr::Any`], as both
/// are a zero address and mask in pf.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CAddr {
    Any,
    /// `(key & mask) == addr`, keys in [`addr_key`] layout.
    Net {
        addr: u128,
        mask: u128,
    },
    /// `from <= key <= to`
    Range {
        from: u128,
        to: u128,
    },
    Table(TableId),
    /// `(ifname:flags)/prefix`: the interface's current addresses.
    /// `prefix` is 128 for "whole address" (an IPv4 /32 is stored as 128,
    /// as pf does, so the two compare equal).
    DynIf {
        if_id: IfId,
        flags: IfAddrFlags,
        prefix: u8,
    },
    NoRoute,
    /// Kept for completeness; compile refuses it today.
    UrpfFailed,
}

/// Source or destination of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CEndpoint {
    pub addr: CAddr,
    pub neg: bool,
    pub port: PortRange,
}

/// A call into another ruleset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AnchorRef {
    pub ruleset: RulesetId,
    /// `anchor "a/*"`: evaluate each child of `ruleset` (see
    /// [`super::CompiledRuleset::children`]) instead of `ruleset` itself.
    pub wildcard: bool,
}

/// A translation or routing pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CPool {
    pub addr: CAddr,
    pub if_id: Option<IfId>,
    pub proxy_port: [u16; 2],
    pub port_op: Op,
    pub kind: PoolType,
    pub sticky: bool,
    pub key: [u32; 4],
}

/// `keep state (...)` options.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CStateOpts {
    pub max_states: u32,
    pub max_src_nodes: u32,
    pub max_src_states: u32,
    pub max_src_conn: u32,
    pub max_src_conn_rate: (u32, u32),
    pub overload: Option<TableId>,
    pub flush: bool,
    pub flush_global: bool,
    pub src_track: SrcTrack,
    pub no_sync: bool,
    pub if_bound: bool,
    pub sloppy: bool,
    /// 0 = use the global timeout.
    pub timeouts: [u32; PFTM_MAX],
}

/// What only a matching rule needs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CRuleActions {
    pub block: BlockReturn,
    pub state: CStateOpts,
    pub scrub: ScrubOpts,
    /// `set tos`
    pub set_tos: Option<u8>,
    pub nat: Option<CPool>,
    pub rdr: Option<CPool>,
    pub route: Option<CPool>,
    pub route_kind: RouteKind,
    pub label: Option<LabelId>,
}

/// Skip-step fields, in pf's `PF_SKIP_*` order.
pub const SKIP_IFP: usize = 0;
pub const SKIP_DIR: usize = 1;
pub const SKIP_RDOM: usize = 2;
pub const SKIP_AF: usize = 3;
pub const SKIP_PROTO: usize = 4;
pub const SKIP_SRC_ADDR: usize = 5;
pub const SKIP_DST_ADDR: usize = 6;
pub const SKIP_SRC_PORT: usize = 7;
pub const SKIP_DST_PORT: usize = 8;
pub const SKIP_COUNT: usize = 9;

/// One compiled rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CRule {
    /// `skip[f]`: index of the first later rule whose field `f` differs
    /// from this rule's (the ruleset's length if none). When field `f`
    /// fails to match, evaluation continues there.
    pub skip: [u32; SKIP_COUNT],
    pub if_id: Option<IfId>,
    /// `on ! ifname`; also negates `on rdomain`, as in pf.
    pub ifnot: bool,
    pub direction: Direction,
    /// `on rdomain 0` (other domains are refused).
    pub onrdomain: Option<u32>,
    pub af: Option<Af>,
    /// 0 = any
    pub proto: u8,
    pub src: CEndpoint,
    pub dst: CEndpoint,
    /// Always `Op::None` today (`user`/`group` are refused); kept so the
    /// engine's match order mirrors pf's.
    pub uid: IdRange,
    pub gid: IdRange,
    pub flags: u8,
    pub flagset: u8,
    pub icmp_type: Option<u8>,
    pub icmp_code: Option<u8>,
    pub tos: Option<u8>,
    /// Match probability as a fraction of 2^32; 0 = always.
    pub prob: u32,
    pub tagged: Option<TagId>,
    pub tagged_not: bool,
    pub fragment: bool,
    pub allow_opts: bool,
    pub action: Action,
    pub quick: bool,
    pub log: Log,
    pub keep_state: KeepState,
    pub once: bool,
    pub tag: Option<TagId>,
    pub anchor: Option<AnchorRef>,
    /// pf's `@nr` within its ruleset.
    pub nr: u32,
    /// pf.conf line, for messages.
    pub line: u32,
    pub actions: Box<CRuleActions>,
}
