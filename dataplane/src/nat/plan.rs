//! What a matching rule's `nat-to`/`rdr-to` does to a new connection:
//! the translated addresses and ports (pf's `pf_get_transaddr`) and the
//! state's two keys (pf's `pf_state_key_setup`).
//!
//! `binat-to` needs nothing of its own here: the parser splits it, as
//! pfctl does, into an outbound `nat-to ... static-port` rule and an
//! inbound `rdr-to` rule back to the inside address.

use super::pool::{map_addr, map_addr_sticky, PoolEnv, PoolState};
use super::port::{alloc_port, rdr_port};
use super::table::{from_local, host_mask, to_local};
use crate::key::{didx, sidx, StateKey};
use crate::pdesc::{proto, AddrKey, Dir, Pdesc};
use crate::reason::Reason;
use ruleset::compile::{CAddr, CPool, CRule};
use ruleset::rule::{PoolType, PortRange};

/// New source and/or destination (address, port) of a packet; `None`
/// leaves that side alone. Ports of an ICMP echo are its id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Translation {
    pub src: Option<(AddrKey, u16)>,
    pub dst: Option<(AddrKey, u16)>,
}

impl Translation {
    pub fn is_none(&self) -> bool {
        self.src.is_none() && self.dst.is_none()
    }
}

/// A new connection's translation and state keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub translation: Translation,
    /// The key as on the wire of the interface (pf's `PF_SK_WIRE`).
    pub wire: StateKey,
    /// The key as the host behind the firewall sees it (`PF_SK_STACK`).
    /// Equal to `wire` when nothing is translated.
    pub stack: StateKey,
}

/// The matched rule's translation pools and their run-time state.
#[derive(Clone, Copy)]
pub struct RuleNat<'a> {
    pub nat: Option<(&'a CPool, &'a PoolState)>,
    pub rdr: Option<(&'a CPool, &'a PoolState)>,
    /// The rule's destination port operand: an `rdr-to` port range maps
    /// ports by their offset from its first port.
    pub dst_port: PortRange,
}

impl<'a> RuleNat<'a> {
    pub fn of(rule: &'a CRule, nat: &'a PoolState, rdr: &'a PoolState) -> Self {
        RuleNat {
            nat: rule.actions.nat.as_ref().map(|p| (p, nat)),
            rdr: rule.actions.rdr.as_ref().map(|p| (p, rdr)),
            dst_port: rule.dst.port,
        }
    }
}

/// What planning reads besides the rule and the packet.
pub struct NatCtx<'a> {
    pub env: PoolEnv<'a>,
    /// Whether no state uses a key (pf's `pf_find_state_all` == NULL).
    pub free: &'a dyn Fn(&StateKey) -> bool,
    /// Fresh random numbers (pf's `arc4random`).
    pub rand: &'a mut dyn FnMut() -> u32,
    pub rdomain: u16,
}

/// Source addresses `nat-to` tries when every port of one is taken.
const MAX_NAT_ADDRS: usize = 256;

fn is_echo_request(pd: &Pdesc) -> bool {
    matches!(
        (pd.proto, pd.icmp_type),
        (proto::ICMP, Some(8)) | (proto::ICMPV6, Some(128))
    )
}

/// Translate a new connection `pd` travelling in `dir` by the rule's
/// pools. `Reason::Translate` when a pool has no usable address or no
/// port is free (pf drops the packet then).
pub fn plan(
    rule: &RuleNat<'_>,
    pd: &Pdesc,
    dir: Dir,
    ctx: &mut NatCtx<'_>,
) -> Result<Plan, Reason> {
    let af = pd.af;
    let (s, d) = (sidx(dir), didx(dir));
    let (mut nsaddr, mut nsport) = (pd.src, pd.sport);
    let (mut ndaddr, mut ndport) = (pd.dst, pd.dport);
    let icmp = matches!(pd.proto, proto::ICMP | proto::ICMPV6);

    if let Some((pool, st)) = rule.nat {
        let mut first = None;
        let mut found = None;
        for attempt in 0..MAX_NAT_ADDRS {
            let r = (ctx.rand)();
            let naddr = if attempt == 0 {
                map_addr_sticky(pool, st, af, pd.src, &ctx.env, r)?
            } else if let (PoolType::Random, CAddr::Net { mask, .. }, Some(f)) =
                (pool.kind, pool.addr, first)
            {
                // pf walks on from its first random pick (`pf_addr_inc`
                // on the pool counter) until it comes round again.
                let h = host_mask(af, mask_prefix(af, mask));
                let l = to_local(af, f);
                let step = u128::try_from(attempt).unwrap_or(u128::MAX);
                from_local(af, (l & !h) | (l.wrapping_add(step) & h))
            } else {
                // pf asks the pool again, without the sticky node, and
                // the new address replaces it.
                let a = map_addr(pool, st, af, pd.src, ctx.env.tables, ctx.env.ifaddr, r)?;
                if pool.sticky {
                    let exp = ctx.env.now_ns.saturating_add(st.sticky_timeout_ns);
                    st.sticky.insert(af, pd.src, a, exp);
                }
                a
            };
            if first == Some(naddr) {
                break;
            }
            first.get_or_insert(naddr);
            if icmp && !is_echo_request(pd) {
                // pf leaves the id of anything but an echo request alone.
                found = Some((naddr, pd.sport));
                break;
            }
            let mut tmpl = StateKey {
                addr: [0; 2],
                port: [0; 2],
                rdomain: ctx.rdomain,
                af,
                proto: pd.proto,
            };
            tmpl.addr[s] = naddr;
            tmpl.addr[d] = ndaddr;
            tmpl.port[s] = pd.sport;
            tmpl.port[d] = ndport;
            let r = (ctx.rand)();
            match alloc_port(pool, af, pd.proto, dir, &tmpl, ctx.free, r) {
                Ok(p) => {
                    found = Some((naddr, p));
                    break;
                }
                // Only pools that can offer another address try again.
                Err(_)
                    if matches!(
                        pool.kind,
                        PoolType::Random | PoolType::RoundRobin | PoolType::LeastStates
                    ) => {}
                Err(e) => return Err(e),
            }
        }
        let (a, p) = found.ok_or(Reason::Translate)?;
        nsaddr = a;
        nsport = p;
        if icmp && is_echo_request(pd) {
            // An echo's key carries the id at both sides.
            ndport = p;
        }
    }

    if let Some((pool, st)) = rule.rdr {
        let r = (ctx.rand)();
        let mut naddr = map_addr_sticky(pool, st, af, nsaddr, &ctx.env, r)?;
        if pool.kind == PoolType::Bitmask {
            // pf keeps the host bits of the original destination.
            if let CAddr::Net { mask, .. } = pool.addr {
                let h = host_mask(af, mask_prefix(af, mask));
                let l = (to_local(af, naddr) & !h) | (to_local(af, pd.dst) & h);
                naddr = from_local(af, l);
            }
        }
        ndaddr = naddr;
        if matches!(pd.proto, proto::TCP | proto::UDP) {
            ndport = rdr_port(pool, &rule.dst_port, pd.dport);
        }
    }

    let mut orig = StateKey {
        addr: [0; 2],
        port: [0; 2],
        rdomain: ctx.rdomain,
        af,
        proto: pd.proto,
    };
    orig.addr[s] = pd.src;
    orig.addr[d] = pd.dst;
    orig.port[s] = pd.sport;
    orig.port[d] = pd.dport;
    let mut new = orig;
    new.addr[s] = nsaddr;
    new.addr[d] = ndaddr;
    new.port[s] = nsport;
    new.port[d] = ndport;

    let translation = Translation {
        src: ((nsaddr, nsport) != (pd.src, pd.sport)).then_some((nsaddr, nsport)),
        dst: ((ndaddr, ndport) != (pd.dst, pd.dport)).then_some((ndaddr, ndport)),
    };
    let (wire, stack) = match dir {
        Dir::In => (orig, new),
        Dir::Out => (new, orig),
    };
    Ok(Plan {
        translation,
        wire,
        stack,
    })
}

fn mask_prefix(af: ruleset::addr::Af, mask: u128) -> u8 {
    u8::try_from(to_local(af, mask).count_ones()).unwrap_or(af.bits())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nat::golden as g;
    use crate::nat::rewrite::rewrite;
    use crate::nat::table::PoolTable;
    use crate::nat::testutil::pdesc;
    use crate::pdesc::addr_key;
    use ruleset::addr::Af;
    use ruleset::compile::{compile, Compiled, IfId};
    use ruleset::hostenv::RegressHost;
    use ruleset::lexer::FsSource;
    use ruleset::parse::{parse, ParseConfig};
    use std::cell::RefCell;
    use std::collections::HashSet;

    fn a(s: &str) -> AddrKey {
        addr_key(s.parse().unwrap())
    }

    fn compiled(text: &str) -> Compiled {
        let env = RegressHost::new();
        let cfg = ParseConfig {
            env: &env,
            files: &FsSource,
            anchor: String::new(),
            macros: vec![],
            queues: vec![],
        };
        let p = parse("test.conf", text.as_bytes().to_vec(), &cfg);
        assert_eq!(p.errors, 0, "{:?}", p.stderr);
        compile(&p).unwrap_or_else(|e| panic!("{}", e.render("test.conf")))
    }

    fn no_if(_: IfId, _: Af) -> Vec<(AddrKey, u8)> {
        Vec::new()
    }

    /// Plan `pd` by rule `nr` of `c` with random draws from `draws`.
    fn run(
        c: &Compiled,
        nr: usize,
        st: &(PoolState, PoolState),
        pd: &Pdesc,
        dir: Dir,
        free: &dyn Fn(&StateKey) -> bool,
        draws: &[u32],
    ) -> Result<Plan, Reason> {
        let tables: Vec<PoolTable> = Vec::new();
        let rule = &c.rulesets[0].rules[nr];
        let rn = RuleNat::of(rule, &st.0, &st.1);
        let mut it = draws.iter().copied().cycle();
        let mut rand = move || it.next().unwrap_or(0);
        let mut ctx = NatCtx {
            env: PoolEnv {
                tables: &tables,
                ifaddr: &no_if,
                now_ns: 0,
            },
            free,
            rand: &mut rand,
            rdomain: 0,
        };
        plan(&rn, pd, dir, &mut ctx)
    }

    fn states() -> (PoolState, PoolState) {
        (PoolState::default(), PoolState::default())
    }

    #[test]
    fn outbound_nat_to_keys_and_rewrite() {
        let c = compiled("pass out on em0 from 10.0.0.0/24 to any nat-to 192.0.2.1\n");
        let pd = pdesc(&g::V4_TCP);
        let st = states();
        // Second draw: the port cut, 50001 + 122.
        let p = run(&c, 0, &st, &pd, Dir::Out, &|_| true, &[0, 122]).unwrap();
        assert_eq!(
            p.translation,
            Translation {
                src: Some((a("192.0.2.1"), 50123)),
                dst: None
            }
        );
        // Stack key: the packet as the inside host sent it.
        assert_eq!(p.stack, StateKey::from_pdesc(&pd, Dir::Out, 0));
        // Wire key: what a reply from the outside looks like on arrival.
        let mut f = g::V4_TCP.to_vec();
        let mut out = pd;
        rewrite(&mut f, &mut out, p.translation.src, p.translation.dst).unwrap();
        assert_eq!(f, g::V4_TCP_NAT);
        assert_eq!(p.wire, StateKey::from_pdesc(&out, Dir::Out, 0));
        let mut reply = out;
        (reply.src, reply.dst) = (out.dst, out.src);
        (reply.sport, reply.dport) = (out.dport, out.sport);
        assert_eq!(p.wire, StateKey::from_pdesc(&reply, Dir::In, 0));
    }

    #[test]
    fn inbound_rdr_to_keys_and_port_range() {
        let c = compiled(
            "pass in on em0 proto udp from any to 192.0.2.1 port 53 rdr-to 10.0.0.80 port 5300\n\
             pass in on em0 proto tcp to 192.0.2.1 port 1000:1009 rdr-to 10.0.0.80 port 2000:*\n",
        );
        let pd = pdesc(&g::V4_UDP);
        let st = states();
        let p = run(&c, 0, &st, &pd, Dir::In, &|_| true, &[0]).unwrap();
        assert_eq!(
            p.translation,
            Translation {
                src: None,
                dst: Some((a("10.0.0.80"), 5300))
            }
        );
        assert_eq!(p.wire, StateKey::from_pdesc(&pd, Dir::In, 0));
        let mut f = g::V4_UDP.to_vec();
        let mut inside = pd;
        rewrite(&mut f, &mut inside, p.translation.src, p.translation.dst).unwrap();
        assert_eq!(f, g::V4_UDP_NAT);
        assert_eq!(p.stack, StateKey::from_pdesc(&inside, Dir::In, 0));

        let mut tcp = pdesc(&g::V4_TCP);
        (tcp.src, tcp.dst, tcp.dport) = (a("93.184.216.34"), a("192.0.2.1"), 1007);
        let p = run(&c, 1, &st, &tcp, Dir::In, &|_| true, &[0]).unwrap();
        assert_eq!(p.translation.dst, Some((a("10.0.0.80"), 2007)));
    }

    #[test]
    fn binat_halves_keep_ports_both_ways() {
        let c = compiled("pass on em0 from 10.0.0.5 to any binat-to 192.0.2.5\n");
        let rules = &c.rulesets[0].rules;
        assert_eq!(rules.len(), 2);
        let st = states();
        let pd = pdesc(&g::V4_TCP);
        let p = run(&c, 0, &st, &pd, Dir::Out, &|_| true, &[77]).unwrap();
        assert_eq!(p.translation.src, Some((a("192.0.2.5"), 40000)));
        let mut inbound = pdesc(&g::V4_TCP);
        (inbound.src, inbound.dst) = (a("93.184.216.34"), a("192.0.2.5"));
        (inbound.sport, inbound.dport) = (80, 40000);
        let p = run(&c, 1, &st, &inbound, Dir::In, &|_| true, &[77]).unwrap();
        assert_eq!(p.translation.dst, Some((a("10.0.0.5"), 40000)));
        assert_eq!(p.translation.src, None);
    }

    #[test]
    fn exhausted_ports_move_round_robin_to_the_next_address() {
        let c = compiled(
            "pass out on em0 from 10.0.0.0/24 to any nat-to 192.0.2.4/31 port 7000:7001 round-robin\n\
             pass out on em0 from 10.0.0.0/24 to any nat-to 192.0.2.4 port 7000:7001\n",
        );
        let pd = pdesc(&g::V4_TCP);
        let used = RefCell::new(HashSet::new());
        let free = |k: &StateKey| !used.borrow().contains(&(k.addr[1], k.port[1]));
        let st = states();
        let mut got = Vec::new();
        loop {
            let res = run(&c, 0, &st, &pd, Dir::Out, &free, &[0, 1, 0]);
            match res {
                Ok(p) => {
                    let src = p.translation.src.unwrap();
                    assert!(used.borrow_mut().insert(src));
                    got.push(src);
                }
                Err(e) => {
                    assert_eq!(e, Reason::Translate, "after {got:?}");
                    break;
                }
            }
        }
        assert_eq!(got.len(), 4);
        let addrs: HashSet<AddrKey> = got.iter().map(|x| x.0).collect();
        assert_eq!(addrs, HashSet::from([a("192.0.2.4"), a("192.0.2.5")]));
        // A single address has nowhere else to go.
        used.borrow_mut().clear();
        used.borrow_mut().insert((a("192.0.2.4"), 7000));
        used.borrow_mut().insert((a("192.0.2.4"), 7001));
        assert_eq!(
            run(&c, 1, &st, &pd, Dir::Out, &free, &[0]),
            Err(Reason::Translate)
        );
    }

    #[test]
    fn exhausted_random_pool_walks_on_from_its_pick() {
        let c = compiled(
            "pass out on em0 from 10.0.0.0/24 to any nat-to 192.0.2.4/30 port 7000 random\n",
        );
        let pd = pdesc(&g::V4_TCP);
        let used = RefCell::new(HashSet::from([a("192.0.2.6"), a("192.0.2.7")]));
        let free = |k: &StateKey| !used.borrow().contains(&k.addr[1]);
        let st = states();
        // Wherever the random pick lands, the walk from it reaches a free
        // address; with all four taken it comes round and gives up.
        let p = run(&c, 0, &st, &pd, Dir::Out, &free, &[2]);
        let first = p.map(|p| p.translation.src);
        assert!(matches!(first, Ok(Some((x, 7000))) if x == a("192.0.2.4") || x == a("192.0.2.5")));
        used.borrow_mut().extend([a("192.0.2.4"), a("192.0.2.5")]);
        assert_eq!(
            run(&c, 0, &st, &pd, Dir::Out, &free, &[2]),
            Err(Reason::Translate)
        );
    }

    #[test]
    fn icmp_echo_id_is_translated_on_both_key_sides() {
        let c = compiled("pass out on em0 from 10.0.0.0/24 to any nat-to 192.0.2.1\n");
        let pd = pdesc(&g::V4_ECHO);
        let st = states();
        // The id is drawn from 1:65535: 1 + 0xabcc = 0xabcd.
        let p = run(&c, 0, &st, &pd, Dir::Out, &|_| true, &[0, 0xabcc]).unwrap();
        assert_eq!(p.translation.src, Some((a("192.0.2.1"), 0xabcd)));
        let mut f = g::V4_ECHO.to_vec();
        let mut out = pd;
        rewrite(&mut f, &mut out, p.translation.src, p.translation.dst).unwrap();
        assert_eq!(f, g::V4_ECHO_NAT);
        // The reply, as it arrives, finds the wire key.
        let reply = pdesc(&g::V4_ECHOREPLY);
        assert_eq!(p.wire, StateKey::from_pdesc(&reply, Dir::In, 0));
        assert_eq!(p.stack, StateKey::from_pdesc(&pd, Dir::Out, 0));
    }

    #[test]
    fn no_pools_no_translation() {
        let c = compiled("pass out on em0 all\n");
        let pd = pdesc(&g::V6_TCP);
        let p = run(&c, 0, &states(), &pd, Dir::Out, &|_| false, &[0]).unwrap();
        assert!(p.translation.is_none());
        assert_eq!(p.wire, p.stack);
    }

    #[test]
    fn sticky_source_keeps_its_nat_address() {
        let c = compiled(
            "pass out on em0 from 10.0.0.0/24 to any nat-to 192.0.2.0/30 round-robin sticky-address\n",
        );
        let st = states();
        let pd = pdesc(&g::V4_TCP);
        let first = run(&c, 0, &st, &pd, Dir::Out, &|_| true, &[0])
            .unwrap()
            .translation
            .src
            .unwrap()
            .0;
        for _ in 0..5 {
            let p = run(&c, 0, &st, &pd, Dir::Out, &|_| true, &[0]).unwrap();
            assert_eq!(p.translation.src.unwrap().0, first);
        }
        let mut other = pd;
        other.src = a("10.0.0.6");
        let p = run(&c, 0, &st, &other, Dir::Out, &|_| true, &[0]).unwrap();
        assert_ne!(p.translation.src.unwrap().0, first);
    }
}
