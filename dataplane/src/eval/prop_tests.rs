//! The fast evaluator against the linear one on random small rulesets,
//! written as pf.conf text and compiled, and random packets: they must
//! return the same result for every packet, in sequence (so `once`
//! rules expire the same way in both).
//!
//! Rules and packets are drawn as vectors of small choice numbers, so
//! proptest shrinks a failure toward fewer, simpler rules.

use super::tests::{compile, pkt, TestEnv};
use super::*;
use crate::pdesc::{addr_key, proto, tcp_flags, TcpInfo};
use proptest::prelude::*;
use std::net::IpAddr;

type Spec = [u8; 16];

const V4: [&str; 12] = [
    "any",
    "10.0.0.1",
    "10.0.0.0/24",
    "! 10.0.0.0/24",
    "10.0.0.0/16",
    "10.0.1.0/24",
    "10.0.0.1 - 10.0.0.3",
    "<t4>",
    "no-route",
    "(em0)",
    "! 10.0.0.2",
    "! <t4>",
];
const V6: [&str; 11] = [
    "any",
    "2001:db8::1",
    "2001:db8::/64",
    "! 2001:db8::/64",
    "2001:db8:0:1::/64",
    "2001:db8::/48",
    "2001:db8::1 - 2001:db8::3",
    "<t6>",
    "no-route",
    "(em0)",
    "! 2001:db8::2",
];
const PORTS: [&str; 12] = [
    "",
    "",
    "port 1",
    "port != 2",
    "port < 3",
    "port <= 3",
    "port > 4",
    "port >= 4",
    "port 2:4",
    "port 1 >< 5",
    "port 2 <> 4",
    "port 3",
];

fn pick<'a>(list: &[&'a str], c: u8) -> &'a str {
    list[usize::from(c) % list.len()]
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Pass,
    Block,
    Match,
    Anchor,
}

/// One rule's text from its choices. `kind` is decided by the caller.
fn rule_text(c: &Spec, kind: Kind) -> String {
    let mut out = Vec::<String>::new();
    let dir = c[2] % 3;
    let mut af = c[4] % 3;
    let translate = c[14] % 4;
    // Translation: nat-to on outbound, rdr-to on inbound, IPv4 only.
    let nat = matches!(kind, Kind::Pass | Kind::Match) && translate == 1 && dir == 2;
    let rdr = matches!(kind, Kind::Pass | Kind::Match) && translate == 2 && dir == 1;
    if nat || rdr {
        af = 1;
    }
    match kind {
        Kind::Pass => out.push("pass".into()),
        Kind::Block => out.push("block".into()),
        Kind::Match => out.push("match".into()),
        Kind::Anchor => out.push(format!("anchor \"{}\"", "ANCHOR")),
    }
    match dir {
        1 => out.push("in".into()),
        2 => out.push("out".into()),
        _ => {}
    }
    if kind != Kind::Anchor && c[15] % 5 == 1 {
        out.push("log".into());
    }
    if kind != Kind::Match && c[1] % 3 == 1 {
        out.push("quick".into());
    }
    match c[3] % 6 {
        1 => out.push("on em0".into()),
        2 => out.push("on em1".into()),
        3 => out.push("on ! em0".into()),
        4 => out.push("on egress".into()),
        _ => {}
    }
    match af {
        1 => out.push("inet".into()),
        2 => out.push("inet6".into()),
        _ => {}
    }
    let proto = match c[5] % 6 {
        1 | 5 => "tcp",
        2 => "udp",
        3 if af == 2 => "icmp6",
        3 => "icmp",
        4 => "gre",
        _ => "",
    };
    if !proto.is_empty() {
        out.push(format!("proto {proto}"));
    }
    let ports = proto == "tcp" || proto == "udp";
    let addrs: &[&str] = if af == 2 { &V6 } else { &V4 };
    let (src, dst) = (pick(addrs, c[6]), pick(addrs, c[7]));
    let (sport, dport) = if ports {
        (pick(&PORTS, c[8]), pick(&PORTS, c[9]))
    } else {
        ("", "")
    };
    if src != "any" || dst != "any" || !sport.is_empty() || !dport.is_empty() {
        out.push(format!("from {src} {sport} to {dst} {dport}"));
    } else if c[6] % 2 == 1 {
        out.push("all".into());
    }
    if kind == Kind::Anchor {
        match c[13] % 4 {
            1 => out.push("tagged X".into()),
            2 => out.push("! tagged Y".into()),
            _ => {}
        }
        return out.join(" ");
    }
    if proto == "tcp" {
        match c[10] % 6 {
            1 => out.push("flags S/SA".into()),
            2 => out.push("flags A/A".into()),
            3 => out.push("flags any".into()),
            _ => {}
        }
    }
    let icmp_type = match (proto, af) {
        ("icmp", 1) => pick(
            &[
                "",
                "icmp-type echoreq",
                "icmp-type echorep",
                "icmp-type unreach",
                "icmp-type unreach code port-unr",
            ],
            c[11],
        ),
        ("icmp6", 2) => pick(
            &[
                "",
                "icmp6-type echoreq",
                "icmp6-type echorep",
                "icmp6-type neighbradv",
            ],
            c[11],
        ),
        _ => "",
    };
    if !icmp_type.is_empty() {
        out.push(icmp_type.into());
    }
    match c[12] % 7 {
        1 => out.push("tos 0x10".into()),
        2 if proto != "tcp" && sport.is_empty() && dport.is_empty() && icmp_type.is_empty() => {
            out.push("fragment".into())
        }
        3 => out.push("probability 50%".into()),
        4 if kind == Kind::Pass => out.push("allow-opts".into()),
        _ => {}
    }
    if kind == Kind::Pass && !nat && !rdr {
        match c[10] % 6 {
            4 => out.push("no state".into()),
            5 => out.push("keep state (sloppy)".into()),
            _ => {}
        }
    }
    match c[13] % 6 {
        1 => out.push("tag X".into()),
        2 => out.push("tag Y".into()),
        3 => out.push("tagged X".into()),
        4 => out.push("! tagged X".into()),
        5 => out.push("tagged Y".into()),
        _ => {}
    }
    if c[15] % 7 == 3 && kind != Kind::Match {
        out.push("once".into());
    }
    if nat {
        out.push(pick(&["nat-to 192.0.2.1", "nat-to 10.0.0.3"], c[0]).into());
    }
    if rdr {
        if ports {
            out.push(pick(&["rdr-to 10.0.0.3 port 5", "rdr-to 10.0.1.1"], c[0]).into());
        } else {
            out.push("rdr-to 10.0.0.3".into());
        }
    }
    if kind == Kind::Match && c[12] % 5 == 4 {
        out.push("scrub (max-mss 1400)".into());
    }
    out.join(" ")
}

fn kind(c: &Spec) -> Kind {
    match c[0] % 7 {
        0 | 1 => Kind::Pass,
        2 | 3 => Kind::Block,
        _ => Kind::Match,
    }
}

/// A top-level entry: a rule, an inline anchor with a body, or a call
/// of the wildcard `w/*`.
fn ruleset_text(top: &[(Spec, Vec<Spec>)], wa: &[Spec], wb: &[Spec]) -> String {
    let mut t = String::from(
        "table <t4> { 10.0.0.0/16, !10.0.1.0/24, 10.0.1.1 }\n\
         table <t6> { 2001:db8::/48, !2001:db8:0:1::/64 }\n",
    );
    let body = |t: &mut String, rules: &[Spec]| {
        for r in rules {
            t.push_str(&rule_text(r, kind(r)));
            t.push('\n');
        }
        if rules.is_empty() {
            t.push_str("match proto gre\n");
        }
    };
    // The wildcard's children, behind an anchor rule nothing matches.
    t.push_str("anchor \"w\" proto 99 {\nanchor \"a\" {\n");
    body(&mut t, wa);
    t.push_str("}\nanchor \"b\" {\n");
    body(&mut t, wb);
    t.push_str("}\n}\n");
    for (n, (c, inner)) in top.iter().enumerate() {
        match c[0] % 9 {
            7 => {
                let head = rule_text(c, Kind::Anchor).replace("ANCHOR", &format!("a{n}"));
                t.push_str(&head);
                t.push_str(" {\n");
                body(&mut t, inner);
                t.push_str("}\n");
            }
            8 => {
                let head = rule_text(c, Kind::Anchor).replace("ANCHOR", "w/*");
                t.push_str(&head);
                t.push('\n');
            }
            _ => {
                t.push_str(&rule_text(c, kind(c)));
                t.push('\n');
            }
        }
    }
    t
}

const V4_HOSTS: [&str; 8] = [
    "10.0.0.1",
    "10.0.0.2",
    "10.0.0.3",
    "10.0.1.1",
    "10.0.1.5",
    "10.1.2.3",
    "192.0.2.1",
    "8.8.8.8",
];
const V6_HOSTS: [&str; 6] = [
    "2001:db8::1",
    "2001:db8::2",
    "2001:db8::3",
    "2001:db8:0:1::1",
    "2001:db8:1::1",
    "2001:db9::1",
];

type PktSpec = ([u8; 12], u32);

fn packet(c: &[u8; 12]) -> Pdesc {
    let v6 = c[0] % 3 == 2;
    let hosts: &[&str] = if v6 { &V6_HOSTS } else { &V4_HOSTS };
    let protos = [
        proto::TCP,
        proto::UDP,
        if v6 { proto::ICMPV6 } else { proto::ICMP },
        47,
    ];
    let pr = protos[usize::from(c[1]) % protos.len()];
    let mut p = pkt(
        pr,
        pick(hosts, c[2]),
        u16::from(c[4] % 7),
        pick(hosts, c[3]),
        u16::from(c[5] % 7),
    );
    if pr == proto::TCP {
        let flags = [
            tcp_flags::SYN,
            tcp_flags::SYN | tcp_flags::ACK,
            tcp_flags::ACK,
            tcp_flags::RST,
            0,
        ];
        p.tcp = Some(TcpInfo {
            flags: flags[usize::from(c[6]) % flags.len()],
            ..TcpInfo::default()
        });
    }
    if pr == proto::ICMP || pr == proto::ICMPV6 {
        let types: &[u8] = if v6 { &[128, 129, 136, 1] } else { &[8, 0, 3] };
        p.icmp_type = Some(types[usize::from(c[7]) % types.len()]);
        p.icmp_code = Some([0, 3][usize::from(c[7] / 8) % 2]);
    }
    p.tos = [0, 0x10][usize::from(c[8]) % 2];
    if c[9] % 5 == 1 {
        p.fragment = true;
        p.tcp = None;
    }
    p.ip_opts = c[9] % 6 == 2;
    p
}

fn spec() -> impl Strategy<Value = Spec> {
    any::<Spec>()
}

struct Case {
    top: Vec<(Spec, Vec<Spec>)>,
    wa: Vec<Spec>,
    wb: Vec<Spec>,
    packets: Vec<PktSpec>,
    translate: bool,
    list_groups: bool,
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let text = ruleset_text(&case.top, &case.wa, &case.wb);
    let compiled = compile(&text);
    let id = |n: &str| compiled.if_id(n);
    let em0 = id("em0").unwrap_or(IfId(1000));
    let em1 = id("em1").unwrap_or(IfId(1001));
    let key = |s: &str| addr_key(s.parse::<IpAddr>().expect("address"));
    let mut env = TestEnv {
        groups: id("egress").map(|g| vec![(em1, g)]).unwrap_or_default(),
        if_addrs: vec![(em0, key("10.0.0.1")), (em0, key("2001:db8::1"))],
        routes: vec![key("10.0.0.2"), key("2001:db8::2")],
        translate: case.translate,
        ..TestEnv::default()
    };
    if case.list_groups {
        env.list_groups();
    }
    let lin = RuleEngine::with_classify_min(compiled.clone(), usize::MAX);
    let skip = RuleEngine::with_classify_min(compiled.clone(), usize::MAX);
    let cls = RuleEngine::with_classify_min(compiled.clone(), 0);
    let (mut wl, mut ws, mut wc) = (
        EvalWorker::new(&lin),
        EvalWorker::new(&skip),
        EvalWorker::new(&cls),
    );
    for (c, rand) in &case.packets {
        let ctx = EvalCtx {
            ifp: [Some(em0), Some(em1), None][usize::from(c[10]) % 3],
            dir: if c[10] / 3 % 2 == 0 {
                Dir::In
            } else {
                Dir::Out
            },
            rdomain: 0,
            tag: [None, compiled.tag_id("X"), compiled.tag_id("Y")][usize::from(c[11]) % 3],
            rand: *rand,
            env: &env,
        };
        let pd = packet(c);
        let a = evaluate_linear(&lin, &ctx, &pd, &mut wl);
        let b = evaluate(&skip, &ctx, &pd, &mut ws);
        let d = evaluate(&cls, &ctx, &pd, &mut wc);
        prop_assert_eq!(a, b, "skip steps\n{}\n{:?}", text, pd);
        prop_assert_eq!(a, d, "classifier\n{}\n{:?}", text, pd);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn fast_evaluation_equals_linear(
        top in prop::collection::vec((spec(), prop::collection::vec(spec(), 0..4)), 0..14),
        wa in prop::collection::vec(spec(), 0..3),
        wb in prop::collection::vec(spec(), 0..3),
        packets in prop::collection::vec(any::<PktSpec>(), 1..7),
        translate in any::<bool>(),
        list_groups in any::<bool>(),
    ) {
        check(&Case { top, wa, wb, packets, translate, list_groups })?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Rulesets of several classifier words: candidates cross word
    /// boundaries, skip steps jump words, index lists are sparse or dense.
    #[test]
    fn fast_evaluation_equals_linear_on_long_rulesets(
        top in prop::collection::vec((spec(), prop::collection::vec(spec(), 0..2)), 64..260),
        packets in prop::collection::vec(any::<PktSpec>(), 1..24),
        translate in any::<bool>(),
        list_groups in any::<bool>(),
    ) {
        check(&Case { top, wa: vec![], wb: vec![], packets, translate, list_groups })?;
    }
}
