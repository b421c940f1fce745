//! A realistic pf.conf of a given number of rules and the equivalent
//! nftables ruleset, generated from one rule model so that the two files
//! say the same thing.
//!
//! # Matching order
//!
//! pf evaluates every rule and the *last* matching one decides, unless a
//! matching rule is `quick`, which decides at once. nftables decides at
//! the *first* rule with a verdict. Every `pass` and `block` rule here is
//! `quick`, so both engines stop at the first matching filter rule, in
//! file order; the default when nothing matches is pass in pf and
//! `policy accept` in nft.
//!
//! `match` rules carry no verdict in either engine (pf applies their
//! options and goes on; an nft rule without a verdict falls through). The
//! only `match` rules are `nat-to` and `rdr-to`, which in nft live in the
//! `postrouting` (snat) and `prerouting` (dnat) chains of the same table.
//! pf applies the last matching translation and nft the first, so the
//! generator gives each translation rule a network no other one matches:
//! order then does not matter.
//!
//! # State
//!
//! pf looks a packet up in the state table before any rule; nft's
//! equivalent is one leading `ct state established,related accept`. A
//! stateful pass (`keep state`, pf's default) becomes `ct state new
//! accept`, and for TCP also pf's implicit `flags S/SA`
//! (`tcp flags & (syn | ack) == syn`); `no state` becomes a plain
//! `accept`.
//!
//! # Interfaces
//!
//! The nft side is the `forward` hook, where a packet has both an input
//! and an output interface: `in on X` is `iifname X`, `out on X` is
//! `oifname X`; a rule with no direction has no interface.
//!
//! Each pf rule line expands to exactly one rule (no `{ }` lists, each
//! macro holds one value), so the rule count is exact.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::rng::Rng;

mod nft;
mod pf;

/// Interface macros: (pf/nft macro name, interface).
const IF_MACROS: [(&str, &str); 3] = [("ext_if", "em0"), ("int_if", "em1"), ("dmz_if", "em2")];

/// Address macros: (name, value). Each holds one address.
const ADDR_MACROS: [(&str, &str); 5] = [
    ("web_srv", "198.51.100.10"),
    ("mail_srv", "198.51.100.25"),
    ("dns_srv", "192.0.2.53"),
    ("web6_srv", "2001:db8::80"),
    ("dns6_srv", "2001:db8::53"),
];

/// Network pools for addresses: documentation ranges, private and
/// carrier-grade NAT space, so the ruleset looks like a real border.
const V4_POOLS: [([u8; 4], u8); 7] = [
    ([198, 51, 100, 0], 24),
    ([203, 0, 113, 0], 24),
    ([192, 0, 2, 0], 24),
    ([10, 0, 0, 0], 8),
    ([172, 16, 0, 0], 12),
    ([192, 168, 0, 0], 16),
    ([100, 64, 0, 0], 10),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    V4,
    V6,
    /// No `inet`/`inet6`: only for rules without addresses.
    Both,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Proto {
    Tcp,
    Udp,
    Icmp,
    Icmp6,
}

#[derive(Clone, Debug)]
pub(crate) enum Action {
    Pass {
        keep_state: bool,
    },
    BlockDrop,
    /// Only with TCP or UDP: RST or ICMP port unreachable.
    BlockReturn,
    /// `match out on IF ... nat-to ADDR`
    NatTo(Ipv4Addr),
    /// `match in on IF ... rdr-to ADDR port P`
    RdrTo(Ipv4Addr, u16),
}

#[derive(Clone, Debug)]
pub(crate) enum Iface {
    Macro(&'static str),
    Name(String),
}

#[derive(Clone, Debug)]
pub(crate) enum Dir {
    Any,
    In(Iface),
    Out(Iface),
}

#[derive(Clone, Debug)]
pub(crate) enum Addr {
    Any,
    /// A host or network, masked; `negated` is `! net`.
    Net {
        addr: IpAddr,
        prefix: u8,
        negated: bool,
    },
    Table {
        name: &'static str,
        negated: bool,
    },
    Macro(&'static str),
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Port {
    Any,
    Eq(u16),
    Ne(u16),
    Gt(u16),
    /// `lo:hi`, inclusive.
    Range(u16, u16),
    /// `lo >< hi`, exclusive; `hi - lo >= 2`.
    Between(u16, u16),
}

#[derive(Clone, Debug)]
pub(crate) struct Rule {
    pub action: Action,
    pub dir: Dir,
    pub family: Family,
    pub proto: Option<Proto>,
    pub src: Addr,
    pub src_port: Port,
    pub dst: Addr,
    pub dst_port: Port,
    /// `icmp-type echoreq` / `icmp6-type echoreq`.
    pub echo_request: bool,
}

/// The inline tables both files define; entries never overlap, since an
/// nft interval set refuses overlapping elements.
pub(crate) struct Tables {
    pub bad_v4: Vec<(IpAddr, u8)>,
    pub bad_v6: Vec<(IpAddr, u8)>,
    pub trusted_v4: Vec<(IpAddr, u8)>,
}

/// A generated pf.conf and its nftables equivalent.
pub struct RulesetPair {
    pub pf_conf: String,
    pub nft: String,
    /// Rules in `pf_conf` after expansion.
    pub rules: usize,
}

/// Generate `n` pf rules and their nft equivalent from `seed`.
pub fn generate(seed: u64, n: usize) -> RulesetPair {
    let mut rng = Rng::new(seed);
    let tables = gen_tables(&mut rng);
    let rules: Vec<Rule> = (0..n).map(|i| gen_rule(&mut rng, i)).collect();
    RulesetPair {
        pf_conf: pf::emit(&tables, &rules),
        nft: nft::emit(&tables, &rules),
        rules: rules.len(),
    }
}

fn gen_tables(rng: &mut Rng) -> Tables {
    // Hosts from 198.18.0.0/15 and /24s from 100.64.0.0/10's upper half:
    // disjoint by construction.
    let mut bad_v4: Vec<(IpAddr, u8)> = (0..150u32)
        .map(|i| (IpAddr::V4(Ipv4Addr::from(0xc612_0000 + i * 97 + 1)), 32))
        .collect();
    bad_v4.extend((0..50u32).map(|i| (IpAddr::V4(Ipv4Addr::from(0x6460_0000 + (i << 8))), 24)));
    let bad_v6 = (0..100u128)
        .map(|i| {
            let base = 0x2001_0db8_ff00_u128 << 80;
            (IpAddr::V6(Ipv6Addr::from(base + (i << 80))), 48)
        })
        .collect();
    let trusted_v4 = vec![
        (IpAddr::V4(Ipv4Addr::new(192, 0, 2, 0)), 28),
        (IpAddr::V4(Ipv4Addr::new(198, 51, 100, 0)), 27),
        (
            IpAddr::V4(Ipv4Addr::new(203, 0, 113, rng.range(64, 127) as u8 & !7)),
            29,
        ),
    ];
    Tables {
        bad_v4,
        bad_v6,
        trusted_v4,
    }
}

fn gen_rule(rng: &mut Rng, i: usize) -> Rule {
    // One translation rule in 250: 40 in a 10k ruleset.
    if i % 250 == 125 {
        return gen_translation(i / 250);
    }
    let family = match rng.below(100) {
        0..=69 => Family::V4,
        70..=94 => Family::V6,
        _ => Family::Both,
    };
    let proto = match (family, rng.below(100)) {
        (Family::Both, r) if r < 40 => Proto::Udp,
        (Family::Both, _) | (_, 0..=54) => Proto::Tcp,
        (_, 55..=84) => Proto::Udp,
        (Family::V4, _) => Proto::Icmp,
        (Family::V6, _) => Proto::Icmp6,
    };
    let ports = matches!(proto, Proto::Tcp | Proto::Udp);
    let action = match rng.below(100) {
        0..=54 => Action::Pass {
            keep_state: rng.chance(85),
        },
        55..=69 if ports => Action::BlockReturn,
        _ => Action::BlockDrop,
    };
    let dir = match rng.below(100) {
        0..=39 => Dir::In(gen_iface(rng)),
        40..=79 => Dir::Out(gen_iface(rng)),
        _ => Dir::Any,
    };
    let (src, dst) = if family == Family::Both {
        (Addr::Any, Addr::Any)
    } else {
        (gen_addr(rng, family), gen_addr(rng, family))
    };
    let src_port = if ports && rng.chance(10) {
        gen_port(rng)
    } else {
        Port::Any
    };
    let dst_port = if ports && (family == Family::Both || rng.chance(80)) {
        gen_port(rng)
    } else {
        Port::Any
    };
    Rule {
        action,
        dir,
        family,
        proto: Some(proto),
        src,
        src_port,
        dst,
        dst_port,
        echo_request: !ports && rng.chance(60),
    }
}

/// The `k`-th translation rule: even ones nat-to, odd ones rdr-to, each
/// on its own source network or destination address and port.
fn gen_translation(k: usize) -> Rule {
    let k8 = k as u8;
    if k & 1 == 0 {
        Rule {
            action: Action::NatTo(Ipv4Addr::new(203, 0, 113, 1)),
            dir: Dir::Out(Iface::Macro("ext_if")),
            family: Family::V4,
            proto: None,
            src: Addr::Net {
                addr: IpAddr::V4(Ipv4Addr::new(10, 200, k8, 0)),
                prefix: 24,
                negated: false,
            },
            src_port: Port::Any,
            dst: Addr::Any,
            dst_port: Port::Any,
            echo_request: false,
        }
    } else {
        Rule {
            action: Action::RdrTo(Ipv4Addr::new(192, 0, 2, 100 + k8), 8080),
            dir: Dir::In(Iface::Macro("ext_if")),
            family: Family::V4,
            proto: Some(Proto::Tcp),
            src: Addr::Any,
            src_port: Port::Any,
            dst: Addr::Net {
                addr: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 200)),
                prefix: 32,
                negated: false,
            },
            dst_port: Port::Eq(10_000 + k as u16),
            echo_request: false,
        }
    }
}

fn gen_iface(rng: &mut Rng) -> Iface {
    if rng.chance(60) {
        Iface::Macro(rng.pick(&IF_MACROS).0)
    } else {
        Iface::Name(format!("vlan{}", rng.range(100, 131)))
    }
}

fn gen_addr(rng: &mut Rng, family: Family) -> Addr {
    let v6 = family == Family::V6;
    match rng.below(100) {
        0..=24 => Addr::Any,
        25..=54 => gen_net(rng, v6, true, false),
        55..=84 => gen_net(rng, v6, false, false),
        85..=89 => gen_net(rng, v6, false, true),
        90..=94 => {
            let name = match (v6, rng.below(2)) {
                (true, _) => "bad_v6",
                (false, 0) => "bad_v4",
                (false, _) => "trusted_v4",
            };
            Addr::Table {
                name,
                negated: rng.chance(20),
            }
        }
        _ => {
            let names: &[&'static str] = if v6 {
                &["web6_srv", "dns6_srv"]
            } else {
                &["web_srv", "mail_srv", "dns_srv"]
            };
            Addr::Macro(names[rng.below(names.len() as u64) as usize])
        }
    }
}

fn gen_net(rng: &mut Rng, v6: bool, host: bool, negated: bool) -> Addr {
    let (addr, prefix) = if v6 {
        // 2001:db8::/32, split into /48 sites and /64 subnets.
        let low = u128::from(rng.next_u64()) | (u128::from(rng.next_u64() as u32) << 64);
        let bits = (0x2001_0db8_u128 << 96) | low;
        let prefix = if host {
            128
        } else {
            *rng.pick(&[48u8, 56, 64, 64, 64, 80, 96, 112])
        };
        (IpAddr::V6(Ipv6Addr::from(mask128(bits, prefix))), prefix)
    } else {
        let (base, len) = *rng.pick(&V4_POOLS);
        let base = u32::from(Ipv4Addr::from(base));
        let bits = base | (rng.next_u64() as u32 & (u32::MAX >> len));
        let prefix = if host {
            32
        } else {
            rng.range(u64::from(len).max(16), 30) as u8
        };
        (IpAddr::V4(Ipv4Addr::from(mask32(bits, prefix))), prefix)
    };
    Addr::Net {
        addr,
        prefix,
        negated,
    }
}

fn gen_port(rng: &mut Rng) -> Port {
    const WELL_KNOWN: [u16; 14] = [
        22, 25, 53, 80, 110, 123, 143, 443, 465, 587, 993, 3306, 5432, 8080,
    ];
    match rng.below(100) {
        0..=59 => Port::Eq(*rng.pick(&WELL_KNOWN)),
        60..=69 => Port::Eq(rng.range(1024, 65535) as u16),
        70..=74 => Port::Ne(*rng.pick(&WELL_KNOWN)),
        75..=79 => Port::Gt(1023),
        80..=89 => {
            let lo = rng.range(1024, 60000) as u16;
            Port::Range(lo, lo + rng.range(1, 5000) as u16)
        }
        _ => {
            let lo = rng.range(1024, 60000) as u16;
            Port::Between(lo, lo + rng.range(2, 5000) as u16)
        }
    }
}

pub(crate) fn mask32(a: u32, prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        a & (u32::MAX << (32 - prefix))
    }
}

pub(crate) fn mask128(a: u128, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        a & (u128::MAX << (128 - prefix))
    }
}

/// `addr` or `addr/prefix`, omitting a host's full-length prefix.
pub(crate) fn net_text(out: &mut String, addr: IpAddr, prefix: u8) {
    let full = if addr.is_ipv4() { 32 } else { 128 };
    if prefix == full {
        let _ = write!(out, "{addr}");
    } else {
        let _ = write!(out, "{addr}/{prefix}");
    }
}
