//! One test per matching feature: a small pf.conf compiled through the
//! ruleset crate, one packet, and the deciding rule by pf.conf line.
//! Every evaluation runs three ways (linear, skip steps only, classifier
//! on every ruleset) and the three must agree.

use super::*;
use crate::pdesc::{addr_key, proto, tcp_flags, AddrKey, TcpInfo};
use crate::reason::Reason;
use ruleset::addr::{Af, IfAddrFlags};
use ruleset::compile::{CAddr, TableId};
use ruleset::hostenv::RegressHost;
use ruleset::lexer::FsSource;
use ruleset::parse::{parse, ParseConfig};
use ruleset::rule::Action;
use std::cell::Cell;
use std::net::IpAddr;

pub(super) fn compile(text: &str) -> Arc<Compiled> {
    let env = RegressHost::new();
    let cfg = ParseConfig {
        env: &env,
        files: &FsSource,
        anchor: String::new(),
        macros: vec![],
        queues: vec![],
    };
    let p = parse("test.conf", text.as_bytes().to_vec(), &cfg);
    assert_eq!(p.errors, 0, "{text}\n{:?}", p.stderr);
    Arc::new(ruleset::compile::compile(&p).expect("compiles"))
}

fn key(s: &str) -> AddrKey {
    addr_key(s.parse::<IpAddr>().expect("address"))
}

pub(super) fn pkt(proto: u8, src: &str, sport: u16, dst: &str, dport: u16) -> Pdesc {
    let s: IpAddr = src.parse().expect("src");
    Pdesc {
        af: Af::of(&s),
        proto,
        src: key(src),
        dst: key(dst),
        sport,
        dport,
        tos: 0,
        ttl: 64,
        l3_off: 14,
        l4_off: 34,
        ip_len: 60,
        vlan: None,
        fragment: false,
        ip_opts: false,
        icmp_type: None,
        icmp_code: None,
        tcp: (proto == proto::TCP).then_some(TcpInfo {
            flags: tcp_flags::SYN,
            hdr_len: 20,
            ..TcpInfo::default()
        }),
        icmp_inner: None,
    }
}

fn tcp(src: &str, dst: &str, dport: u16) -> Pdesc {
    pkt(proto::TCP, src, 40000, dst, dport)
}

fn udp(src: &str, dst: &str, dport: u16) -> Pdesc {
    pkt(proto::UDP, src, 40000, dst, dport)
}

fn icmp(src: &str, dst: &str, t: u8, code: u8) -> Pdesc {
    let mut p = pkt(proto::ICMP, src, 7, dst, 7);
    if p.af == Af::Inet6 {
        p.proto = proto::ICMPV6;
    }
    p.icmp_type = Some(t);
    p.icmp_code = Some(code);
    p
}

/// A configurable environment: interface groups, interface addresses,
/// routes, and translation to single-address pools.
#[derive(Default)]
pub(super) struct TestEnv {
    pub groups: Vec<(IfId, IfId)>,
    pub if_addrs: Vec<(IfId, AddrKey)>,
    pub routes: Vec<AddrKey>,
    pub translate: bool,
    pub calls: Cell<u32>,
    /// Answer `if_groups` from `groups` (else the evaluator asks
    /// `if_in_group` about each interface).
    pub listed: Option<Vec<(IfId, Vec<IfId>)>>,
}

impl TestEnv {
    pub(super) fn list_groups(&mut self) {
        let mut listed: Vec<(IfId, Vec<IfId>)> = Vec::new();
        for &(i, g) in &self.groups {
            match listed.iter_mut().find(|(x, _)| *x == i) {
                Some((_, v)) => v.push(g),
                None => listed.push((i, vec![g])),
            }
        }
        self.listed = Some(listed);
    }
}

impl EvalEnv for TestEnv {
    fn dyn_addr_match(&self, if_id: IfId, _: IfAddrFlags, _: u8, _: Af, addr: AddrKey) -> bool {
        self.if_addrs.contains(&(if_id, addr))
    }

    fn has_route(&self, _: Af, addr: AddrKey) -> bool {
        self.routes.contains(&addr)
    }

    fn if_in_group(&self, ifp: IfId, group: IfId) -> bool {
        ifp == group || self.groups.contains(&(ifp, group))
    }

    fn if_groups(&self, ifp: IfId) -> Option<&[IfId]> {
        let listed = self.listed.as_ref()?;
        Some(
            listed
                .iter()
                .find(|(x, _)| *x == ifp)
                .map_or(&[][..], |(_, v)| v.as_slice()),
        )
    }

    fn translate(
        &self,
        _: &Compiled,
        _: RuleRef,
        rule: &CRule,
        _: &EvalCtx<'_>,
        _: &Pdesc,
        flow: &Flow,
    ) -> Result<Option<Flow>, Reason> {
        if !self.translate {
            return Ok(None);
        }
        self.calls.set(self.calls.get() + 1);
        let mut f = *flow;
        let single = |a: CAddr| match a {
            CAddr::Net { addr, .. } => Ok(addr),
            _ => Err(Reason::Translate),
        };
        if let Some(p) = &rule.actions.nat {
            f.src = single(p.addr)?;
        }
        if let Some(p) = &rule.actions.rdr {
            f.dst = single(p.addr)?;
            if p.proxy_port[0] != 0 {
                f.dport = p.proxy_port[0];
            }
        }
        Ok(Some(f))
    }
}

pub(super) struct Setup<'e> {
    pub compiled: Arc<Compiled>,
    pub ifp: Option<IfId>,
    pub dir: Dir,
    pub rdomain: u32,
    pub tag: Option<TagId>,
    pub rand: u32,
    pub env: &'e dyn EvalEnv,
}

impl<'e> Setup<'e> {
    pub(super) fn new(text: &str, env: &'e dyn EvalEnv) -> Setup<'e> {
        Setup {
            compiled: compile(text),
            ifp: None,
            dir: Dir::In,
            rdomain: 0,
            tag: None,
            rand: 1,
            env,
        }
    }

    fn on(mut self, ifname: &str, dir: Dir) -> Self {
        self.ifp = self.compiled.if_id(ifname);
        self.dir = dir;
        self
    }

    pub(super) fn ctx(&self) -> EvalCtx<'e> {
        EvalCtx {
            ifp: self.ifp,
            dir: self.dir,
            rdomain: self.rdomain,
            tag: self.tag,
            rand: self.rand,
            env: self.env,
        }
    }

    /// Evaluate with fresh engines three ways; they must agree.
    pub(super) fn eval(&self, pd: &Pdesc) -> EvalResult {
        let ctx = self.ctx();
        let lin = RuleEngine::with_classify_min(self.compiled.clone(), usize::MAX);
        let skip = RuleEngine::with_classify_min(self.compiled.clone(), usize::MAX);
        let cls = RuleEngine::with_classify_min(self.compiled.clone(), 0);
        let a = evaluate_linear(&lin, &ctx, pd, &mut EvalWorker::new(&lin));
        let b = evaluate(&skip, &ctx, pd, &mut EvalWorker::new(&skip));
        let c = evaluate(&cls, &ctx, pd, &mut EvalWorker::new(&cls));
        assert_eq!(a, b, "skip steps differ from linear");
        assert_eq!(a, c, "classifier differs from linear");
        a
    }

    /// pf.conf line of the deciding rule, 0 for the default rule.
    fn line(&self, res: &EvalResult) -> u32 {
        res.rule.map_or(0, |r| self.rule(r).line)
    }

    fn rule(&self, r: RuleRef) -> &CRule {
        &self.compiled.rulesets[r.ruleset.0 as usize].rules[r.index as usize]
    }

    fn decide(&self, pd: &Pdesc) -> (Action, u32) {
        let r = self.eval(pd);
        (r.action, self.line(&r))
    }
}

fn main_rule(index: u32) -> RuleRef {
    RuleRef {
        ruleset: RulesetId(0),
        index,
    }
}

#[test]
fn last_matching_rule_wins() {
    let s = Setup::new("block all\npass in proto tcp\n", &NoEnv);
    assert_eq!(
        s.decide(&tcp("10.0.0.1", "10.0.0.2", 80)),
        (Action::Pass, 2)
    );
    assert_eq!(
        s.decide(&udp("10.0.0.1", "10.0.0.2", 53)),
        (Action::Block, 1)
    );
}

#[test]
fn quick_stops_at_the_first_match() {
    let s = Setup::new("block quick proto tcp\npass all\n", &NoEnv);
    let r = s.eval(&tcp("10.0.0.1", "10.0.0.2", 80));
    assert_eq!((r.action, s.line(&r), r.quick), (Action::Block, 1, true));
    let r = s.eval(&udp("10.0.0.1", "10.0.0.2", 80));
    assert_eq!((r.action, s.line(&r), r.quick), (Action::Pass, 2, false));
}

#[test]
fn nothing_matching_is_the_default_pass() {
    let s = Setup::new("block in proto udp\n", &NoEnv);
    let r = s.eval(&tcp("10.0.0.1", "10.0.0.2", 80));
    assert_eq!((r.action, r.rule), (Action::Pass, None));
}

#[test]
fn match_rules_accumulate_without_deciding() {
    let s = Setup::new(
        "match out proto tcp scrub (max-mss 1400, no-df) tag T\n\
         match out log set tos 0x10\n\
         match out scrub (max-mss 1300)\n\
         block out proto udp\n",
        &NoEnv,
    )
    .on("em0", Dir::Out);
    let r = s.eval(&tcp("10.0.0.1", "10.0.0.2", 80));
    assert_eq!((r.action, r.rule), (Action::Pass, None));
    let lines: Vec<u32> = r
        .matches
        .as_slice()
        .iter()
        .map(|&m| s.rule(m).line)
        .collect();
    assert_eq!(lines, vec![1, 2, 3]);
    assert_eq!(r.actions.max_mss, 1300, "later match rule overrides");
    assert!(r.actions.no_df);
    assert_eq!(r.actions.set_tos, Some(0x10));
    assert!(r.log);
    assert_eq!(r.tag, s.compiled.tag_id("T"));
    // A match rule neither decides nor stops an earlier decision.
    let r = s.eval(&udp("10.0.0.1", "10.0.0.2", 53));
    assert_eq!(
        (r.action, s.line(&r), r.matches.len()),
        (Action::Block, 4, 2)
    );
}

#[test]
fn interface_and_negated_interface() {
    let text = "block all\npass in on em0\npass in on ! em1 proto udp\n";
    let s = Setup::new(text, &NoEnv).on("em0", Dir::In);
    assert_eq!(s.decide(&tcp("10.0.0.1", "10.0.0.2", 80)).1, 2);
    assert_eq!(s.decide(&udp("10.0.0.1", "10.0.0.2", 80)).1, 3);
    let s = Setup::new(text, &NoEnv).on("em1", Dir::In);
    assert_eq!(s.decide(&tcp("10.0.0.1", "10.0.0.2", 80)).1, 1);
    assert_eq!(s.decide(&udp("10.0.0.1", "10.0.0.2", 80)).1, 1);
    // An interface no rule names: only `on !` rules and rules without
    // an interface apply.
    let mut s = Setup::new(text, &NoEnv);
    s.ifp = None;
    assert_eq!(s.decide(&udp("10.0.0.1", "10.0.0.2", 80)).1, 3);
    assert_eq!(s.decide(&tcp("10.0.0.1", "10.0.0.2", 80)).1, 1);
}

#[test]
fn interface_group() {
    let c = compile("block all\npass out on egress\n");
    let em1 = c.if_id("em1");
    let egress = c.if_id("egress").expect("egress named");
    // em1 is not named by any rule, so the caller has no id for it;
    // give it one beyond the compiled names.
    let em1 = em1.unwrap_or(IfId(99));
    let env = TestEnv {
        groups: vec![(em1, egress)],
        ..TestEnv::default()
    };
    let mut s = Setup::new("block all\npass out on egress\n", &env);
    s.dir = Dir::Out;
    s.ifp = Some(em1);
    assert_eq!(
        s.decide(&tcp("10.0.0.1", "10.0.0.2", 80)),
        (Action::Pass, 2)
    );
    s.ifp = Some(IfId(98));
    assert_eq!(
        s.decide(&tcp("10.0.0.1", "10.0.0.2", 80)),
        (Action::Block, 1)
    );
}

#[test]
fn direction() {
    let mut s = Setup::new("block all\npass out\n", &NoEnv);
    assert_eq!(s.decide(&tcp("10.0.0.1", "10.0.0.2", 80)).1, 1);
    s.dir = Dir::Out;
    assert_eq!(s.decide(&tcp("10.0.0.1", "10.0.0.2", 80)).1, 2);
}

#[test]
fn rdomain() {
    let mut s = Setup::new("block all\npass on rdomain 0\n", &NoEnv);
    assert_eq!(s.decide(&tcp("10.0.0.1", "10.0.0.2", 80)).1, 2);
    s.rdomain = 3;
    assert_eq!(s.decide(&tcp("10.0.0.1", "10.0.0.2", 80)).1, 1);
}

#[test]
fn address_family_and_protocol() {
    let s = Setup::new("block all\npass inet6\npass inet proto udp\n", &NoEnv);
    assert_eq!(s.decide(&tcp("2001:db8::1", "2001:db8::2", 80)).1, 2);
    assert_eq!(s.decide(&tcp("10.0.0.1", "10.0.0.2", 80)).1, 1);
    assert_eq!(s.decide(&udp("10.0.0.1", "10.0.0.2", 80)).1, 3);
}

#[test]
fn networks_negation_and_ranges() {
    let s = Setup::new(
        "block all\n\
         pass from 10.0.0.0/8 to ! 10.9.0.0/16\n\
         pass from 192.0.2.10 - 192.0.2.20\n\
         pass to 2001:db8:1::/48\n",
        &NoEnv,
    );
    assert_eq!(s.decide(&udp("10.1.1.1", "10.8.0.1", 1)).1, 2);
    assert_eq!(s.decide(&udp("10.1.1.1", "10.9.0.1", 1)).1, 1);
    assert_eq!(s.decide(&udp("192.0.2.10", "1.1.1.1", 1)).1, 3);
    assert_eq!(s.decide(&udp("192.0.2.20", "1.1.1.1", 1)).1, 3);
    assert_eq!(s.decide(&udp("192.0.2.21", "1.1.1.1", 1)).1, 1);
    assert_eq!(s.decide(&udp("2001:db8::1", "2001:db8:1:2::3", 1)).1, 4);
    assert_eq!(s.decide(&udp("2001:db8::1", "2001:db8:2::3", 1)).1, 1);
}

#[test]
fn negated_any_never_matches() {
    let s = Setup::new("block all\npass inet from ! 0.0.0.0/0\n", &NoEnv);
    assert_eq!(s.decide(&udp("10.1.1.1", "10.8.0.1", 1)).1, 1);
}

#[test]
fn tables_longest_prefix_v4_and_v6() {
    let s = Setup::new(
        "table <t> { 10.0.0.0/8, !10.1.0.0/16, 10.1.2.0/24, 2001:db8::/32, !2001:db8:bad::/48 }\n\
         block all\n\
         pass from <t>\n\
         pass proto udp to ! <t>\n",
        &NoEnv,
    );
    assert_eq!(s.decide(&tcp("10.5.5.5", "10.0.0.1", 1)).1, 3);
    assert_eq!(s.decide(&tcp("10.1.5.5", "10.0.0.1", 1)).1, 2);
    assert_eq!(s.decide(&tcp("10.1.2.3", "10.0.0.1", 1)).1, 3);
    assert_eq!(s.decide(&tcp("2001:db8:1::1", "2001:db8::1", 1)).1, 3);
    assert_eq!(s.decide(&tcp("2001:db8:bad::1", "2001:db8::1", 1)).1, 2);
    assert_eq!(s.decide(&udp("1.1.1.1", "10.1.9.9", 1)).1, 4);
    assert_eq!(s.decide(&udp("1.1.1.1", "10.2.9.9", 1)).1, 2);
}

#[test]
fn table_lookup_goes_through_the_environment() {
    struct Everything;
    impl EvalEnv for Everything {
        fn dyn_addr_match(&self, _: IfId, _: IfAddrFlags, _: u8, _: Af, _: AddrKey) -> bool {
            false
        }
        fn has_route(&self, _: Af, _: AddrKey) -> bool {
            false
        }
        fn table_match(&self, _: &Compiled, _: TableId, _: Af, _: AddrKey) -> bool {
            true
        }
    }
    let s = Setup::new("table <t> persist\nblock all\npass from <t>\n", &Everything);
    assert_eq!(s.decide(&tcp("10.5.5.5", "10.0.0.1", 1)).1, 3);
    let s = Setup::new("table <t> persist\nblock all\npass from <t>\n", &NoEnv);
    assert_eq!(s.decide(&tcp("10.5.5.5", "10.0.0.1", 1)).1, 2);
}

#[test]
fn interface_addresses() {
    let c = compile("block all\npass to (em0)\n");
    let em0 = c.if_id("em0").expect("em0");
    let env = TestEnv {
        if_addrs: vec![(em0, key("192.0.2.1"))],
        ..TestEnv::default()
    };
    let s = Setup::new("block all\npass to (em0)\n", &env);
    assert_eq!(s.decide(&tcp("10.0.0.9", "192.0.2.1", 22)).1, 2);
    assert_eq!(s.decide(&tcp("10.0.0.9", "192.0.2.2", 22)).1, 1);
}

#[test]
fn no_route() {
    let env = TestEnv {
        routes: vec![key("10.0.0.1")],
        ..TestEnv::default()
    };
    let s = Setup::new("pass all\nblock from no-route\n", &env);
    assert_eq!(s.decide(&tcp("10.0.0.1", "10.0.0.2", 80)).1, 1);
    assert_eq!(s.decide(&tcp("10.0.0.7", "10.0.0.2", 80)).1, 2);
}

#[test]
fn port_operators() {
    // (operator text, ports that match among 79, 80, 81, 89, 90, 91)
    let cases: [(&str, [bool; 6]); 9] = [
        ("= 80", [false, true, false, false, false, false]),
        ("!= 80", [true, false, true, true, true, true]),
        ("< 80", [true, false, false, false, false, false]),
        ("<= 80", [true, true, false, false, false, false]),
        ("> 80", [false, false, true, true, true, true]),
        (">= 80", [false, true, true, true, true, true]),
        ("80:90", [false, true, true, true, true, false]),
        ("80 >< 90", [false, false, true, true, false, false]),
        ("80 <> 90", [true, false, false, false, false, true]),
    ];
    for (op, want) in cases {
        let to = Setup::new(&format!("block all\npass proto udp to port {op}\n"), &NoEnv);
        let from = Setup::new(
            &format!("block all\npass proto udp from port {op}\n"),
            &NoEnv,
        );
        for (port, w) in [79u16, 80, 81, 89, 90, 91].into_iter().zip(want) {
            let got = to.decide(&pkt(proto::UDP, "10.0.0.1", 1, "10.0.0.2", port));
            assert_eq!(got.1 == 2, w, "to port {op} with {port}");
            let got = from.decide(&pkt(proto::UDP, "10.0.0.1", port, "10.0.0.2", 1));
            assert_eq!(got.1 == 2, w, "from port {op} with {port}");
        }
    }
}

#[test]
fn tcp_flags_and_the_keep_state_default() {
    let s = Setup::new(
        "block all\npass proto tcp\npass proto tcp flags A/A no state\n",
        &NoEnv,
    );
    let syn = tcp("10.0.0.1", "10.0.0.2", 80);
    assert_eq!(s.decide(&syn).1, 2);
    let mut synack = syn;
    synack.tcp = Some(TcpInfo {
        flags: tcp_flags::SYN | tcp_flags::ACK,
        ..TcpInfo::default()
    });
    assert_eq!(s.decide(&synack).1, 3);
    let mut rst = syn;
    rst.tcp = Some(TcpInfo {
        flags: tcp_flags::RST,
        ..TcpInfo::default()
    });
    assert_eq!(s.decide(&rst).1, 1);
}

#[test]
fn icmp_type_and_code() {
    let s = Setup::new(
        "block all\n\
         pass inet proto icmp icmp-type echoreq no state\n\
         pass inet proto icmp icmp-type unreach code port-unr no state\n\
         pass inet6 proto icmp6 icmp6-type echoreq no state\n",
        &NoEnv,
    );
    assert_eq!(s.decide(&icmp("10.0.0.1", "10.0.0.2", 8, 0)).1, 2);
    assert_eq!(s.decide(&icmp("10.0.0.1", "10.0.0.2", 0, 0)).1, 1);
    assert_eq!(s.decide(&icmp("10.0.0.1", "10.0.0.2", 3, 3)).1, 3);
    assert_eq!(s.decide(&icmp("10.0.0.1", "10.0.0.2", 3, 1)).1, 1);
    assert_eq!(s.decide(&icmp("2001:db8::1", "2001:db8::2", 128, 0)).1, 4);
    assert_eq!(s.decide(&icmp("2001:db8::1", "2001:db8::2", 129, 0)).1, 1);
}

#[test]
fn stateful_rules_skip_icmp_replies_and_errors() {
    let s = Setup::new("block all\npass inet proto icmp\n", &NoEnv);
    assert_eq!(s.decide(&icmp("10.0.0.1", "10.0.0.2", 8, 0)).1, 2);
    assert_eq!(s.decide(&icmp("10.0.0.1", "10.0.0.2", 0, 0)).1, 1, "reply");
    assert_eq!(s.decide(&icmp("10.0.0.1", "10.0.0.2", 3, 3)).1, 1, "error");
    let s = Setup::new(
        "block all\npass inet proto icmp keep state (sloppy)\n",
        &NoEnv,
    );
    assert_eq!(s.decide(&icmp("10.0.0.1", "10.0.0.2", 0, 0)).1, 2);
    assert_eq!(s.decide(&icmp("10.0.0.1", "10.0.0.2", 3, 3)).1, 2);
    let s = Setup::new("block all\npass inet6 proto icmp6\n", &NoEnv);
    assert_eq!(s.decide(&icmp("fe80::1", "fe80::2", 135, 0)).1, 2);
    assert_eq!(s.decide(&icmp("fe80::1", "fe80::2", 136, 0)).1, 1, "advert");
}

#[test]
fn tos() {
    let s = Setup::new("block all\npass tos 0x10\n", &NoEnv);
    let mut p = tcp("10.0.0.1", "10.0.0.2", 80);
    assert_eq!(s.decide(&p).1, 1);
    p.tos = 0x10;
    assert_eq!(s.decide(&p).1, 2);
}

#[test]
fn tag_and_tagged() {
    let text = "block all\n\
                match in proto tcp tag WEB\n\
                pass in tagged WEB\n\
                pass in proto udp ! tagged WEB\n\
                block in tagged OLD\n";
    let mut s = Setup::new(text, &NoEnv);
    let r = s.eval(&tcp("10.0.0.1", "10.0.0.2", 80));
    assert_eq!((s.line(&r), r.tag), (3, s.compiled.tag_id("WEB")));
    assert_eq!(s.decide(&udp("10.0.0.1", "10.0.0.2", 80)).1, 4);
    // A tag the packet brought from an earlier pass.
    s.tag = s.compiled.tag_id("OLD");
    let r = s.eval(&udp("10.0.0.1", "10.0.0.2", 80));
    assert_eq!((s.line(&r), r.tag), (5, s.compiled.tag_id("OLD")));
}

#[test]
fn probability_draws_per_rule() {
    let mut s = Setup::new("block all\npass probability 25%\n", &NoEnv);
    let mut passed = 0;
    for rand in 0..4000u32 {
        s.rand = rand.wrapping_mul(0x9e37_79b9);
        if s.decide(&udp("10.0.0.1", "10.0.0.2", 53)).1 == 2 {
            passed += 1;
        }
    }
    assert!((800..1200).contains(&passed), "{passed} of 4000 at 25%");
    let s = Setup::new("block all\npass probability 100%\n", &NoEnv);
    assert_eq!(s.decide(&udp("10.0.0.1", "10.0.0.2", 53)).1, 2);
}

#[test]
fn once_rules_expire_after_their_first_match() {
    let c = compile("block all\npass in proto tcp once\n");
    for fast in [false, true] {
        let eng = RuleEngine::with_classify_min(c.clone(), 0);
        let mut w = EvalWorker::new(&eng);
        let ctx = EvalCtx {
            ifp: None,
            dir: Dir::In,
            rdomain: 0,
            tag: None,
            rand: 1,
            env: &NoEnv,
        };
        let p = tcp("10.0.0.1", "10.0.0.2", 80);
        let run = |w: &mut EvalWorker| {
            if fast {
                evaluate(&eng, &ctx, &p, w)
            } else {
                evaluate_linear(&eng, &ctx, &p, w)
            }
        };
        let first = run(&mut w);
        assert_eq!(first.action, Action::Pass);
        let once = first.rule.expect("once rule");
        assert!(eng.is_expired(once));
        let second = run(&mut w);
        assert_eq!(second.action, Action::Block);
        assert_eq!(
            w.counters(once).evaluations,
            1,
            "expired rules are not evaluated"
        );
    }
}

#[test]
fn fragments_match_only_rules_that_need_no_transport_header() {
    let text = "block all\n\
                pass proto tcp to port 80 no state\n\
                pass proto tcp\n\
                pass proto tcp no state\n\
                pass proto udp fragment\n";
    let s = Setup::new(text, &NoEnv);
    let mut p = tcp("10.0.0.1", "10.0.0.2", 80);
    p.fragment = true;
    p.tcp = None;
    assert_eq!(
        s.decide(&p).1,
        4,
        "ports and flags S/SA cannot match a fragment"
    );
    let mut u = udp("10.0.0.1", "10.0.0.2", 53);
    assert_eq!(s.decide(&u).1, 1, "fragment rules match only fragments");
    u.fragment = true;
    assert_eq!(s.decide(&u).1, 5);
}

#[test]
fn ip_options_need_allow_opts() {
    let mut p = tcp("10.0.0.1", "10.0.0.2", 80);
    p.ip_opts = true;
    let s = Setup::new("pass all\n", &NoEnv);
    let r = s.eval(&p);
    assert_eq!(
        (r.action, r.fail, s.line(&r)),
        (Action::Block, Some(Reason::IpOption), 1)
    );
    let s = Setup::new("pass all allow-opts\n", &NoEnv);
    assert_eq!(s.eval(&p).fail, None);
    // The default rule has no allow-opts either.
    let s = Setup::new("block in proto udp\n", &NoEnv);
    assert_eq!(s.eval(&p).fail, Some(Reason::IpOption));
}

#[test]
fn anchors_are_stepped_into_when_their_rule_matches() {
    let s = Setup::new(
        "block all\n\
         anchor \"a\" in proto tcp {\n\
           pass proto tcp to port 80\n\
           block proto tcp to port 81\n\
         }\n\
         pass in proto tcp to port 82\n",
        &NoEnv,
    );
    let r = s.eval(&tcp("10.0.0.1", "10.0.0.2", 80));
    assert_eq!((r.action, s.line(&r)), (Action::Pass, 3));
    let a = r.anchor.expect("anchor");
    assert_eq!(s.line(&s.eval(&tcp("10.0.0.1", "10.0.0.2", 81))), 4);
    assert_eq!(a, main_rule(1));
    assert!(s.rule(a).anchor.is_some());
    assert_eq!(s.decide(&tcp("10.0.0.1", "10.0.0.2", 82)).1, 6);
    // udp does not match the anchor rule: its rules are not evaluated.
    let r = s.eval(&pkt(proto::UDP, "10.0.0.1", 1, "10.0.0.2", 80));
    assert_eq!((s.line(&r), r.anchor), (1, None));
}

#[test]
fn quick_inside_an_anchor_stops_everything() {
    let s = Setup::new(
        "anchor \"a\" {\n block quick proto tcp\n}\npass all\n",
        &NoEnv,
    );
    let r = s.eval(&tcp("10.0.0.1", "10.0.0.2", 80));
    assert_eq!((r.action, r.quick), (Action::Block, true));
}

#[test]
fn quick_anchor_stops_when_a_rule_inside_matched() {
    let s = Setup::new(
        "anchor \"a\" quick {\n pass proto tcp\n}\nblock all\n",
        &NoEnv,
    );
    let r = s.eval(&tcp("10.0.0.1", "10.0.0.2", 80));
    assert_eq!((r.action, r.quick), (Action::Pass, true));
    let r = s.eval(&udp("10.0.0.1", "10.0.0.2", 80));
    assert_eq!((r.action, r.quick, s.line(&r)), (Action::Block, false, 4));
}

#[test]
fn anchor_field_is_not_reset_on_leaving_an_anchor() {
    // pf's ctx->a is set on entering an anchor and never restored.
    let s = Setup::new("anchor \"a\" {\n match tag X\n}\npass all\n", &NoEnv);
    let r = s.eval(&tcp("10.0.0.1", "10.0.0.2", 80));
    assert_eq!(s.line(&r), 4);
    assert_eq!(r.anchor, Some(main_rule(0)));
}

#[test]
fn wildcard_anchor_runs_every_child_in_name_order() {
    let s = Setup::new(
        "anchor \"x\" proto 99 {\n\
           anchor \"b\" {\n pass proto tcp tag B\n }\n\
           anchor \"a\" {\n pass proto tcp tag A\n block proto udp\n }\n\
         }\n\
         block all\n\
         anchor \"x/*\"\n",
        &NoEnv,
    );
    let r = s.eval(&tcp("10.0.0.1", "10.0.0.2", 80));
    assert_eq!(r.action, Action::Pass);
    assert_eq!(r.tag, s.compiled.tag_id("B"), "x/b runs after x/a");
    assert_eq!(s.line(&r), 3);
    assert_eq!(r.anchor, Some(main_rule(2)));
    assert_eq!(
        s.decide(&udp("10.0.0.1", "10.0.0.2", 80)),
        (Action::Block, 7)
    );
}

#[test]
fn later_rules_see_translated_addresses() {
    let env = TestEnv {
        translate: true,
        ..TestEnv::default()
    };
    let s = Setup::new(
        "match out on em0 inet from 10.0.0.0/8 nat-to 192.0.2.1\n\
         block out from 10.0.0.0/8\n\
         pass out from 192.0.2.1\n\
         match in on em0 inet proto tcp to 198.51.100.1 port 80 rdr-to 10.1.1.1 port 8080\n\
         block in to 198.51.100.1\n\
         pass in proto tcp to 10.1.1.1 port 8080\n",
        &env,
    )
    .on("em0", Dir::Out);
    let r = s.eval(&udp("10.2.2.2", "8.8.8.8", 53));
    assert_eq!((r.action, s.line(&r)), (Action::Pass, 3));
    assert_eq!(r.nat.map(|n| s.rule(n).line), Some(1));
    assert_eq!(r.flow.src, key("192.0.2.1"));
    let s = s.on("em0", Dir::In);
    let r = s.eval(&tcp("203.0.113.5", "198.51.100.1", 80));
    assert_eq!((r.action, s.line(&r)), (Action::Pass, 6));
    assert_eq!(r.rdr.map(|n| s.rule(n).line), Some(4));
    assert_eq!((r.flow.dst, r.flow.dport), (key("10.1.1.1"), 8080));
    // Without translation in the environment the original addresses stay.
    let s = Setup::new(
        "match out on em0 inet from 10.0.0.0/8 nat-to 192.0.2.1\nblock out from 10.0.0.0/8\n",
        &NoEnv,
    )
    .on("em0", Dir::Out);
    let r = s.eval(&udp("10.2.2.2", "8.8.8.8", 53));
    assert_eq!(
        (r.action, s.line(&r), r.flow.src),
        (Action::Block, 2, key("10.2.2.2"))
    );
}

#[test]
fn the_deciding_rule_translates_too() {
    let env = TestEnv {
        translate: true,
        ..TestEnv::default()
    };
    let s = Setup::new("pass out on em0 inet nat-to 192.0.2.1\n", &env).on("em0", Dir::Out);
    let r = s.eval(&udp("10.2.2.2", "8.8.8.8", 53));
    assert_eq!(r.nat, r.rule);
    assert_eq!(r.flow.src, key("192.0.2.1"));
}

#[test]
fn failed_translation_drops() {
    let env = TestEnv {
        translate: true,
        ..TestEnv::default()
    };
    let s = Setup::new(
        "table <pool> { 192.0.2.1, 192.0.2.2 }\n\
         match out on em0 inet nat-to <pool> round-robin\n\
         pass all\n",
        &env,
    )
    .on("em0", Dir::Out);
    let r = s.eval(&udp("10.2.2.2", "8.8.8.8", 53));
    assert_eq!((r.action, r.fail), (Action::Block, Some(Reason::Translate)));
}

#[test]
fn too_many_match_rules_fail_like_pf_out_of_memory() {
    let mut text = String::new();
    for _ in 0..=MAX_MATCHES {
        text.push_str("match proto tcp\n");
    }
    text.push_str("pass all\n");
    let s = Setup::new(&text, &NoEnv);
    let r = s.eval(&tcp("10.0.0.1", "10.0.0.2", 80));
    assert_eq!((r.action, r.fail), (Action::Block, Some(Reason::Memory)));
    assert_eq!(r.matches.len(), MAX_MATCHES);
}

#[test]
fn counters_follow_pf_counters_inc() {
    let c = compile("match in tag X\nanchor \"a\" {\n pass in proto tcp\n}\nblock in proto udp\n");
    let eng = RuleEngine::new(c);
    let mut w = EvalWorker::new(&eng);
    assert!(w.fits(&eng));
    let ctx = EvalCtx {
        ifp: None,
        dir: Dir::In,
        rdomain: 0,
        tag: None,
        rand: 1,
        env: &NoEnv,
    };
    let p = tcp("10.0.0.1", "10.0.0.2", 80);
    let r = evaluate(&eng, &ctx, &p, &mut w);
    w.account(&eng, &r, Dir::In, 60);
    w.add_state(r.rule);
    let rule = r.rule.expect("pass rule");
    let c = w.counters(rule);
    assert_eq!((c.packets, c.bytes, c.states_created), ([1, 0], [60, 0], 1));
    assert_eq!(c.evaluations, 1);
    let anchor = w.counters(r.anchor.expect("anchor"));
    assert_eq!(anchor.packets, [1, 0]);
    let m = w.counters(r.matches.as_slice()[0]);
    assert_eq!(m.bytes, [60, 0]);
    assert_eq!(w.counters(main_rule(2)).evaluations, 1);
    let mut sum = RuleCounters::default();
    sum.add(&c);
    sum.add(&c);
    assert_eq!(sum.bytes, [120, 0]);
}

#[test]
fn anchors_nested_past_pfs_stack_fail_closed() {
    // An anchor that calls itself nests until pf's anchor stack is full;
    // pf then fails the evaluation (drop, reason left at "match").
    let s = Setup::new("anchor \"r\" {\n anchor \"/r\"\n}\npass all\n", &NoEnv);
    let r = s.eval(&tcp("10.0.0.1", "10.0.0.2", 80));
    assert_eq!(
        (r.action, r.fail, r.rule),
        (Action::Block, Some(Reason::Match), None)
    );
    // Nested a few levels is fine.
    let s = Setup::new(
        "anchor \"a\" {\n anchor \"b\" {\n anchor \"c\" {\n block proto tcp\n }\n }\n}\n",
        &NoEnv,
    );
    let r = s.eval(&tcp("10.0.0.1", "10.0.0.2", 80));
    assert_eq!((r.action, r.fail), (Action::Block, None));
    let inner = r.rule.expect("rule in a/b/c");
    assert_eq!(s.compiled.rulesets[inner.ruleset.0 as usize].path, "a/b/c");
}

#[test]
fn engines_are_shared_across_workers() {
    fn shared<T: Send + Sync>() {}
    fn owned<T: Send>() {}
    shared::<RuleEngine>();
    owned::<EvalWorker>();
    shared::<EvalResult>();
}
