//! Compile tests: skip steps against hand-computed arrays and a property
//! test, anchor and table resolution, and each refused feature.

use super::*;
use crate::hostenv::RegressHost;
use crate::lexer::FsSource;
use crate::parse::{parse, ParseConfig};
use crate::rule::{Direction, Op};

fn parsed(text: &str) -> Parsed {
    let env = RegressHost::new();
    let cfg = ParseConfig {
        env: &env,
        files: &FsSource,
        anchor: String::new(),
        macros: vec![],
        queues: vec![],
    };
    let p = parse("test.conf", text.as_bytes().to_vec(), &cfg);
    assert_eq!(p.errors, 0, "parse errors: {:?}", p.stderr);
    p
}

fn compiled(text: &str) -> Compiled {
    match compile(&parsed(text)) {
        Ok(c) => c,
        Err(e) => panic!("compile errors:\n{}", e.render("test.conf")),
    }
}

/// `skip[f]` of every rule, one row per field.
fn skip_columns(rules: &[CRule]) -> Vec<Vec<u32>> {
    (0..SKIP_COUNT)
        .map(|f| rules.iter().map(|r| r.skip[f]).collect())
        .collect()
}

// The first nine statements of regress/sbin/pfctl/pf4.in (14 rules).
const PF4_HEAD: &str = "\
block in all
block in proto tcp all
block in proto { tcp, udp } all
block in from any to any
block in from 10.0.0.0/8 to any
block in from ! 10.0.0.0/8 to any
block in from { 10.0.0.0/8, 172.16.0.0/12 } to any
block in proto tcp from any port = ssh to any
block in proto tcp from any port { ssh, ftp >< 2048, != 1234, >= www } \\
	to any port 1024:2048
";

#[test]
fn skip_steps_pf4() {
    let c = compiled(PF4_HEAD);
    let rules = &c.rulesets[0].rules;
    assert_eq!(rules.len(), 14);
    let all = vec![14; 14];
    let want: Vec<Vec<u32>> = vec![
        all.clone(),                                                  // IFP
        all.clone(),                                                  // DIR
        all.clone(),                                                  // RDOM
        vec![5, 5, 5, 5, 5, 9, 9, 9, 9, 14, 14, 14, 14, 14],          // AF
        vec![1, 3, 3, 4, 9, 9, 9, 9, 9, 14, 14, 14, 14, 14],          // PROTO
        vec![5, 5, 5, 5, 5, 6, 7, 8, 9, 14, 14, 14, 14, 14],          // SRC_ADDR
        all.clone(),                                                  // DST_ADDR
        vec![9, 9, 9, 9, 9, 9, 9, 9, 9, 11, 11, 12, 13, 14],          // SRC_PORT
        vec![10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 14, 14, 14, 14], // DST_PORT
    ];
    assert_eq!(skip_columns(rules), want);
}

#[test]
fn skip_steps_pf87() {
    // regress/sbin/pfctl/pf87.in
    let c = compiled(include_str!("testdata/pf87.in"));
    let rules = &c.rulesets[0].rules;
    assert_eq!(rules.len(), 22);
    let all = vec![22; 22];
    #[rustfmt::skip]
    let want: Vec<Vec<u32>> = vec![
        vec![1, 3, 3, 4, 5, 6, 9, 9, 9, 10, 11, 12, 13, 14, 18, 18, 18, 18, 20, 20, 22, 22],
        vec![5, 5, 5, 5, 5, 6, 7, 8, 10, 10, 14, 14, 14, 14, 17, 17, 17, 19, 19, 22, 22, 22],
        all.clone(),
        all.clone(),
        vec![2, 2, 4, 4, 5, 6, 8, 8, 13, 13, 13, 13, 13, 15, 15, 16, 19, 19, 19, 20, 21, 22],
        vec![1, 2, 3, 9, 9, 9, 9, 9, 9, 10, 16, 16, 16, 16, 16, 16, 17, 20, 20, 20, 21, 22],
        vec![2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 16, 16, 17, 18, 20, 20, 21, 22],
        vec![1, 2, 9, 9, 9, 9, 9, 9, 9, 10, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22],
        vec![1, 2, 4, 4, 5, 6, 7, 8, 9, 10, 13, 13, 13, 15, 15, 16, 17, 18, 19, 20, 21, 22],
    ];
    assert_eq!(skip_columns(rules), want);
}

#[test]
fn skip_steps_empty_and_single() {
    let mut none: Vec<CRule> = Vec::new();
    skip::calc_skip_steps(&mut none);
    let c = compiled("pass\n");
    assert_eq!(c.rulesets[0].rules[0].skip, [1; SKIP_COUNT]);
}

/// xorshift64: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A rule whose skip fields take few values, so runs of equal fields
/// are common.
fn random_rule(base: &CRule, g: &mut Rng) -> CRule {
    let mut r = base.clone();
    r.if_id = match g.below(3) {
        0 => None,
        n => Some(IfId(n as u32)),
    };
    r.ifnot = g.below(4) == 0;
    r.direction = [Direction::InOut, Direction::In, Direction::Out][g.below(3) as usize];
    r.onrdomain = (g.below(4) == 0).then_some(0);
    r.af = [None, Some(Af::Inet), Some(Af::Inet6)][g.below(3) as usize];
    r.proto = [0, 6, 17][g.below(3) as usize];
    let addr = |g: &mut Rng| match g.below(6) {
        0 | 1 => CAddr::Any,
        2 => CAddr::Net {
            addr: 10 << 120,
            mask: prefix_mask(8),
        },
        3 => CAddr::Table(TableId(g.below(2) as u32)),
        4 => CAddr::DynIf {
            if_id: IfId(1),
            flags: Default::default(),
            prefix: [24, 128][g.below(2) as usize],
        },
        _ => CAddr::Range {
            from: 1,
            to: 1 + g.below(2) as u128,
        },
    };
    r.src.addr = addr(g);
    r.dst.addr = addr(g);
    r.src.neg = g.below(5) == 0;
    r.dst.neg = g.below(5) == 0;
    let port = |g: &mut Rng| crate::rule::PortRange {
        op: [Op::None, Op::Eq, Op::Rrg][g.below(3) as usize],
        a: g.below(2) as u16,
        b: g.below(2) as u16,
    };
    r.src.port = port(g);
    r.dst.port = port(g);
    r
}

#[test]
fn skip_steps_property() {
    let base = compiled("pass\n").rulesets[0].rules[0].clone();
    let mut g = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..500 {
        let n = g.below(40) as usize;
        let mut rules: Vec<CRule> = (0..n).map(|_| random_rule(&base, &mut g)).collect();
        skip::calc_skip_steps(&mut rules);
        for (i, r) in rules.iter().enumerate() {
            for f in 0..SKIP_COUNT {
                let s = r.skip[f] as usize;
                assert!(s > i && s <= n, "rule {i} field {f}: skip {s} of {n}");
                for between in &rules[i + 1..s] {
                    assert!(skip::field_eq(r, between, f), "rule {i} field {f}");
                }
                if s < n {
                    assert!(!skip::field_eq(r, &rules[s], f), "rule {i} field {f}");
                }
            }
        }
    }
}

#[test]
fn field_equality_follows_pf() {
    let c = compiled(
        "pass in from 0.0.0.0/0\n\
         pass in from any\n\
         pass in inet from (lo0)/32\n\
         pass in inet from (lo0)\n\
         pass in inet from 10.0.0.0/8\n\
         pass in inet6 from a00::/8\n",
    );
    let r = &c.rulesets[0].rules;
    // 0/0 is any in pf; a family-length prefix on an interface is none;
    // pf compares addresses over all 128 bits, whatever the family.
    assert_eq!(r[0].src.addr, CAddr::Any);
    assert!(skip::field_eq(&r[0], &r[1], SKIP_SRC_ADDR));
    assert!(skip::field_eq(&r[2], &r[3], SKIP_SRC_ADDR));
    assert!(skip::field_eq(&r[4], &r[5], SKIP_SRC_ADDR));
    assert!(!skip::field_eq(&r[4], &r[5], SKIP_AF));
}

#[test]
fn addresses_share_one_layout() {
    let c = compiled("pass in from 192.168.1.0/24 to 10.1.2.3 - 10.1.2.9\n");
    let r = &c.rulesets[0].rules[0];
    let key = |s: &str| addr_key(s.parse().unwrap());
    match r.src.addr {
        CAddr::Net { addr, mask } => {
            assert_eq!(key("192.168.1.77") & mask, addr);
            assert_ne!(key("192.168.2.1") & mask, addr);
        }
        other => panic!("{other:?}"),
    }
    match r.dst.addr {
        CAddr::Range { from, to } => {
            assert!((from..=to).contains(&key("10.1.2.5")));
            assert!(!(from..=to).contains(&key("10.1.2.10")));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn anchors_resolve() {
    let c = compiled(
        "pass\n\
         anchor \"a\" {\n\
           pass in\n\
           anchor \"b\" {\n\
             block\n\
           }\n\
           anchor \"later\"\n\
         }\n\
         anchor \"ext\"\n\
         anchor \"x/*\"\n",
    );
    let main = &c.rulesets[0];
    assert_eq!(main.path, "");
    let call = |rs: &CompiledRuleset, i: usize| rs.rules[i].anchor.expect("anchor call");
    let a = call(main, 1);
    assert_eq!(c.rulesets[a.ruleset.0 as usize].path, "a");
    assert!(c.rulesets[a.ruleset.0 as usize].defined);
    let a_rs = c.ruleset("a").unwrap();
    assert_eq!(a_rs.rules.len(), 3);
    let b = call(a_rs, 1);
    assert_eq!(c.rulesets[b.ruleset.0 as usize].path, "a/b");
    assert_eq!(c.rulesets[b.ruleset.0 as usize].rules.len(), 1);
    // A call by name inside `a` is relative to `a`, and empty until loaded.
    let later = call(a_rs, 2);
    let later_rs = &c.rulesets[later.ruleset.0 as usize];
    assert_eq!(later_rs.path, "a/later");
    assert!(!later_rs.defined && later_rs.rules.is_empty());
    let ext = call(main, 2);
    assert_eq!(c.rulesets[ext.ruleset.0 as usize].path, "ext");
    let x = call(main, 3);
    assert!(x.wildcard);
    assert_eq!(c.rulesets[x.ruleset.0 as usize].path, "x");
    // Children follow paths.
    let kids: Vec<&str> = a_rs
        .children
        .iter()
        .map(|k| c.rulesets[k.0 as usize].path.as_str())
        .collect();
    assert_eq!(kids, ["a/b", "a/later"]);
    for (i, rs) in c.rulesets.iter().enumerate() {
        assert_eq!(c.ruleset_index[&rs.path].0 as usize, i);
    }
}

#[test]
fn tables_resolve_per_anchor() {
    let mut p = parsed(
        "table <t> { 10.0.0.0/8 }\n\
         table <u> { 192.168.0.0/16 }\n\
         pass from <t> to <nowhere>\n\
         pass in nat-to { 10.9.9.1, 10.9.9.2 } round-robin\n\
         anchor \"a\" {\n\
           pass from <t> to <u>\n\
         }\n",
    );
    // Inline anchors cannot define tables; a file loaded into anchor `a`
    // does, with the table's anchor set to "a".
    let mut def = p.ruleset.tables[0].clone();
    def.anchor = "a".into();
    def.entries[0].addr = "172.16.0.0".parse().unwrap();
    def.entries[0].prefix = 12;
    p.ruleset.tables.push(def);
    let c = compile(&p).unwrap();
    let table_of = |a: &CAddr| match a {
        CAddr::Table(id) => *id,
        other => panic!("{other:?}"),
    };
    let main = &c.rulesets[0].rules;
    let t_main = table_of(&main[0].src.addr);
    assert!(c.tables[t_main.0 as usize].contains("10.1.2.3".parse().unwrap()));
    // Never defined: created empty in the main ruleset.
    let nowhere = table_of(&main[0].dst.addr);
    assert!(c.tables[nowhere.0 as usize].is_empty());
    assert_eq!(c.table("", "nowhere"), Some(nowhere));
    // The pool's automatic table.
    let pool = main[1].actions.nat.expect("nat pool");
    let auto = table_of(&pool.addr);
    assert!(c.table_keys[auto.0 as usize]
        .name
        .starts_with("__automatic_"));
    assert_eq!(c.tables[auto.0 as usize].len(), 2);
    let a = &c.ruleset("a").unwrap().rules;
    let t_a = table_of(&a[0].src.addr);
    assert_ne!(t_a, t_main);
    assert!(c.tables[t_a.0 as usize].contains("172.16.1.1".parse().unwrap()));
    // Not in `a`: the main ruleset's.
    assert_eq!(table_of(&a[0].dst.addr), c.table("", "u").unwrap());
    assert_eq!(c.table("a", "u"), c.table("", "u"));
}

#[test]
fn names_are_interned() {
    let c = compiled(
        "pass in on lo0 tag T1\n\
         pass out on lo0 tagged T1 tag T2\n\
         pass out on ! lo0 from (lo0) label \"x\"\n",
    );
    let r = &c.rulesets[0].rules;
    let lo0 = c.if_id("lo0").unwrap();
    assert_eq!(r[0].if_id, Some(lo0));
    assert_eq!(r[2].if_id, Some(lo0));
    assert!(r[2].ifnot);
    assert_eq!(r[0].tag, c.tag_id("T1"));
    assert_eq!(r[1].tagged, c.tag_id("T1"));
    assert_eq!(r[1].tag, c.tag_id("T2"));
    assert_eq!(c.ifnames, ["lo0"]);
    assert_eq!(
        r[2].actions.label.map(|l| c.labels[l.0 as usize].as_str()),
        Some("x")
    );
}

#[test]
fn supported_ruleset_compiles() {
    let c = compiled(
        "set limit states 20000\n\
         set block-policy return\n\
         table <bad> persist\n\
         block return log all\n\
         match in all scrub (no-df random-id max-mss 1440)\n\
         pass in quick on lo0 inet proto tcp from ! <bad> to (lo0) port 22 \\\n\
           flags S/SA modulate state (max-src-conn 10, overload <bad> flush)\n\
         pass in inet proto icmp icmp-type echoreq code 0 probability 50%\n\
         pass out on lo0 inet from 10.0.0.0/8 to any nat-to (lo0) set tos 0x10\n\
         pass in on lo0 inet proto tcp to (lo0) port 80 rdr-to 127.0.0.1 port 8080\n\
         pass out from 10.0.0.0/8 to no-route route-to 127.0.0.1\n\
         pass in rtable 0\n\
         pass in on rdomain 0\n",
    );
    let r = &c.rulesets[0].rules;
    assert_eq!(c.options.limits[crate::ruleset::LIMIT_STATES], 20000);
    let icmp = r.iter().find(|r| r.icmp_type.is_some()).unwrap();
    assert_eq!(icmp.icmp_type, Some(8));
    assert_eq!(icmp.icmp_code, Some(0));
    assert_ne!(icmp.prob, 0);
    let ssh = &r[2];
    assert!(ssh.src.neg);
    assert_eq!(ssh.actions.state.overload, c.table("", "bad"));
}

/// Each refused feature, on line 3 after two accepted lines.
#[test]
fn unsupported_features_are_refused_with_line() {
    let cases: &[(&str, Feature)] = &[
        (
            "pass in proto tcp from any os \"OpenBSD\"",
            Feature::OsFingerprint,
        ),
        (
            "pass in proto tcp to 127.0.0.1 port 80 divert-to 127.0.0.1 port 8080",
            Feature::DivertTo,
        ),
        ("pass out proto tcp divert-reply", Feature::DivertReply),
        ("pass in inet divert-packet port 700", Feature::DivertPacket),
        ("pass in from route \"foo\"", Feature::RouteLabel),
        ("block in from urpf-failed", Feature::UrpfFailed),
        ("pass out proto tcp user 1000", Feature::User),
        ("pass out proto tcp group 1000", Feature::Group),
        ("pass out received-on lo0", Feature::ReceivedOn),
        ("pass in set delay 100", Feature::SetDelay),
        ("pass in max-pkt-rate 100/10", Feature::MaxPktRate),
        ("pass in set prio 3", Feature::SetPrio),
        ("pass in prio 3", Feature::Prio),
        (
            "pass in on lo0 inet af-to inet6 from 2001:db8::1 to 64:ff9b::/96",
            Feature::AfTo,
        ),
        ("pass in keep state (pflow)", Feature::Pflow),
    ];
    for (rule, feature) in cases {
        let text = format!("pass\nblock in on lo0\n{rule}\npass out\n");
        let err = compile(&parsed(&text)).expect_err(rule);
        let want = format!("test.conf:3: not supported: {feature}\n");
        assert!(
            err.0.iter().any(|e| matches!(e,
                CompileError::Unsupported { line: 3, feature: f, .. } if f == feature)),
            "{rule}: {err:?}"
        );
        assert!(err.render("test.conf").contains(&want), "{rule}: {err}");
        assert!(
            err.0
                .iter()
                .all(|e| matches!(e, CompileError::Unsupported { line: 3, .. })),
            "{rule}: {err:?}"
        );
    }
}

#[test]
fn every_offending_rule_is_listed() {
    let err = compile(&parsed(
        "pass out proto tcp user 1000\n\
         pass\n\
         anchor \"a\" {\n\
           pass in prio 3\n\
         }\n\
         pass in rtable 0\n",
    ))
    .unwrap_err();
    assert_eq!(
        err.render("pf.conf"),
        "pf.conf:1: not supported: user\n\
         pf.conf:4: not supported: prio\n"
    );
}

#[test]
fn global_features_are_refused() {
    let err = compile(&parsed(
        "queue rootq on lo0 bandwidth 10M max 10M\n\
         queue std parent rootq bandwidth 10M default\n\
         pass\n",
    ))
    .unwrap_err();
    assert_eq!(err.render("pf.conf"), "pf.conf: not supported: queues\n");
}

/// The parser already refuses other routing tables and domains on this
/// host, and `set queue` without a queue; the compiler refuses them
/// again in case a host or an earlier load allows them.
#[test]
fn other_rtables_rdomains_and_queues_are_refused() {
    let mut p = parsed("pass\npass in rtable 0\npass in on rdomain 0\npass out\n");
    p.ruleset.rules[1].rtable = Some(1);
    p.ruleset.rules[2].onrdomain = Some(2);
    p.ruleset.rules[3].set.queue = Some(("std".into(), None));
    let err = compile(&p).unwrap_err();
    assert_eq!(
        err.render("pf.conf"),
        "pf.conf:2: not supported: rtable other than 0\n\
         pf.conf:3: not supported: on rdomain other than 0\n\
         pf.conf:4: not supported: set queue\n"
    );
}
