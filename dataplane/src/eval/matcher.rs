//! One rule against one packet, test by test in pf's order
//! (`pf_match_rule`'s `PF_TEST_ATTRIB` chain), saying on a miss which
//! skip-step field failed so the caller may jump.

use crate::pdesc::{proto, AddrKey, Dir, Pdesc};
use ruleset::addr::Af;
use ruleset::compile::{
    CAddr, CRule, Compiled, IfId, TagId, SKIP_AF, SKIP_DIR, SKIP_DST_ADDR, SKIP_DST_PORT, SKIP_IFP,
    SKIP_PROTO, SKIP_RDOM, SKIP_SRC_ADDR, SKIP_SRC_PORT,
};
use ruleset::rule::{Direction, IdRange, KeepState, Op, PortRange, ID_UNKNOWN};

use super::env::Flow;
use super::icmp::{classify, IcmpClass};
use super::EvalCtx;

/// Why a rule did not match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Miss {
    /// Skip-step field `f` failed: every rule up to `skip[f]` fails too.
    Skip(usize),
    /// Some other test failed: go on with the next rule.
    Next,
}

/// What stays the same for the whole evaluation of one packet.
pub(super) struct Packet<'a> {
    pub ctx: &'a EvalCtx<'a>,
    pub pd: &'a Pdesc,
    pub compiled: &'a Compiled,
    pub icmp: Option<IcmpClass>,
    pub tcp_flags: u8,
}

impl<'a> Packet<'a> {
    pub(super) fn new(ctx: &'a EvalCtx<'a>, pd: &'a Pdesc, compiled: &'a Compiled) -> Self {
        let icmp = match pd.proto {
            proto::ICMP | proto::ICMPV6 if !pd.fragment => pd.icmp_type.map(|t| classify(pd.af, t)),
            _ => None,
        };
        Packet {
            ctx,
            pd,
            compiled,
            icmp,
            tcp_flags: pd.tcp_flags(),
        }
    }

    /// pf's `pfi_kif_match`: the rule's interface is the packet's, or a
    /// group the packet's interface belongs to.
    pub(super) fn on_if(&self, rule_if: IfId) -> bool {
        self.ctx
            .ifp
            .is_some_and(|p| p == rule_if || self.ctx.env.if_in_group(p, rule_if))
    }

    /// pf's `PF_MISMATCHAW`: does `addr` (with negation) fail for `x`?
    fn addr_miss(&self, a: &CAddr, neg: bool, af: Af, x: AddrKey) -> bool {
        let env = self.ctx.env;
        let inner = match *a {
            CAddr::Any => false,
            CAddr::Net { addr, mask } => x & mask != addr,
            CAddr::Range { from, to } => x < from || x > to,
            CAddr::Table(t) => !env.table_match(self.compiled, t, af, x),
            CAddr::DynIf {
                if_id,
                flags,
                prefix,
            } => !env.dyn_addr_match(if_id, flags, prefix, af, x),
            CAddr::NoRoute => env.has_route(af, x),
            // The compiler refuses urpf-failed; a rule carrying it anyway
            // cannot be enforced here, so it matches nothing.
            CAddr::UrpfFailed => return true,
        };
        inner != neg
    }
}

fn port_miss(p: &PortRange, v: u16) -> bool {
    p.op != Op::None && !p.op.matches(u32::from(p.a), u32::from(p.b), u32::from(v))
}

/// pf's `pf_match_uid`/`pf_match_gid` for a forwarded packet, which has
/// no local socket: the id is always "unknown".
fn id_miss(r: &IdRange) -> bool {
    if r.op == Op::None {
        return false;
    }
    if r.op != Op::Eq && r.op != Op::Ne {
        return true;
    }
    !r.op.matches(r.a, r.b, ID_UNKNOWN)
}

/// Test `r` against the packet. `tag` is the packet's current tag,
/// `rand` the rule's own random draw in `1..=u32::MAX - 1`.
pub(super) fn test(
    r: &CRule,
    p: &Packet<'_>,
    flow: &Flow,
    tag: Option<TagId>,
    rand: u32,
) -> Result<(), Miss> {
    let ctx = p.ctx;
    let pd = p.pd;
    let on_if = match r.if_id {
        None => true,
        Some(i) => p.on_if(i),
    };
    if on_if == r.ifnot {
        return Err(Miss::Skip(SKIP_IFP));
    }
    let dir_ok = match r.direction {
        Direction::InOut => true,
        Direction::In => ctx.dir == Dir::In,
        Direction::Out => ctx.dir == Dir::Out,
    };
    if !dir_ok {
        return Err(Miss::Skip(SKIP_DIR));
    }
    if let Some(d) = r.onrdomain {
        if (d == ctx.rdomain) == r.ifnot {
            return Err(Miss::Skip(SKIP_RDOM));
        }
    }
    if r.af.is_some_and(|af| af != pd.af) {
        return Err(Miss::Skip(SKIP_AF));
    }
    if r.proto != 0 && r.proto != pd.proto {
        return Err(Miss::Skip(SKIP_PROTO));
    }
    if p.addr_miss(&r.src.addr, r.src.neg, flow.af, flow.src) {
        return Err(Miss::Skip(SKIP_SRC_ADDR));
    }
    if p.addr_miss(&r.dst.addr, r.dst.neg, flow.af, flow.dst) {
        return Err(Miss::Skip(SKIP_DST_ADDR));
    }

    if pd.fragment {
        // Without the transport header, nothing that reads it can match.
        if r.src.port.op != Op::None || r.dst.port.op != Op::None {
            return Err(Miss::Next);
        }
        if pd.proto == proto::TCP && r.flagset != 0 {
            return Err(Miss::Next);
        }
        if r.icmp_type.is_some() || r.icmp_code.is_some() {
            return Err(Miss::Next);
        }
        if r.uid.op != Op::None || r.gid.op != Op::None {
            return Err(Miss::Next);
        }
    } else {
        match pd.proto {
            proto::TCP | proto::UDP => {
                if pd.proto == proto::TCP && (r.flagset & p.tcp_flags) != r.flags {
                    return Err(Miss::Next);
                }
                if port_miss(&r.src.port, flow.sport) {
                    return Err(Miss::Skip(SKIP_SRC_PORT));
                }
                if port_miss(&r.dst.port, flow.dport) {
                    return Err(Miss::Skip(SKIP_DST_PORT));
                }
                if id_miss(&r.uid) || id_miss(&r.gid) {
                    return Err(Miss::Next);
                }
            }
            proto::ICMP | proto::ICMPV6 => {
                if r.icmp_type.is_some() && r.icmp_type != pd.icmp_type {
                    return Err(Miss::Next);
                }
                if r.icmp_code.is_some() && r.icmp_code != pd.icmp_code {
                    return Err(Miss::Next);
                }
                if r.keep_state != KeepState::None && !r.actions.state.sloppy {
                    let class = p.icmp.unwrap_or(IcmpClass {
                        error: false,
                        query: true,
                    });
                    // No state from a reply. (pf exempts an IPv6
                    // neighbour advertisement here, but classifies it as
                    // an error, which the next test refuses.)
                    if !class.error && !class.query {
                        return Err(Miss::Next);
                    }
                    // An error belongs to an existing state, never a new one.
                    if class.error {
                        return Err(Miss::Next);
                    }
                }
            }
            _ => {}
        }
    }

    if r.fragment && !pd.fragment {
        return Err(Miss::Next);
    }
    if r.tos.is_some_and(|t| t != 0 && t != pd.tos) {
        return Err(Miss::Next);
    }
    if r.prob != 0 && r.prob <= rand {
        return Err(Miss::Next);
    }
    if let Some(t) = r.tagged {
        if (tag == Some(t)) == r.tagged_not {
            return Err(Miss::Next);
        }
    }
    Ok(())
}
