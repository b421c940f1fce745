//! pf.conf behaviour beyond OpenBSD's regression corpus: includes, macros
//! from the command line, error recovery, options' effect on later rules,
//! af-to, pools, anchors and tables, each checked against what pfctl's
//! grammar does.

use ruleset::hostenv::RegressHost;
use ruleset::lexer::FsSource;
use ruleset::parse::{parse, ParseConfig, Parsed};
use ruleset::print;
use ruleset::ruleset::Syncookies;

fn run_with(text: &str, macros: Vec<(String, String)>) -> (Parsed, String) {
    let env = RegressHost::new();
    let cfg = ParseConfig {
        env: &env,
        files: &FsSource,
        anchor: String::new(),
        macros,
        queues: vec![],
    };
    let p = parse("stdin", text.as_bytes().to_vec(), &cfg);
    let mut out = p.echo.clone();
    if p.errors == 0 {
        out.push_str(&print::loaded(&p, &env));
    }
    (p, out)
}

fn run(text: &str) -> (Parsed, String) {
    run_with(text, Vec::new())
}

fn errors(p: &Parsed) -> Vec<&str> {
    p.stderr
        .iter()
        .map(String::as_str)
        .filter(|l| !l.contains("skipping duplicate table checks"))
        .collect()
}

#[test]
fn every_error_is_reported_and_nothing_loads() {
    let (p, out) = run("pass in proto tcp from any to any port 22 \\\n  flags S/SA keep state (max 10, bogus 5)\nfoo bar\npass out all label \"x\" label \"y\"\nblock on em0 inet6 proto icmp\npass\n");
    assert_eq!(
        errors(&p),
        vec![
            "stdin:2: illegal timeout name bogus",
            "stdin:3: syntax error",
            "stdin:4: label cannot be redefined",
            "stdin:5: proto icmp doesn't match address family inet6",
            "stdin:5: skipping rule due to errors",
            "stdin:5: rule expands to no valid combination",
        ]
    );
    // "skipping rule due to errors" counts too, as in pfctl.
    assert_eq!(p.errors, 6);
    assert_eq!(out, "", "a rejected ruleset prints no rules");
}

#[test]
fn include_reads_another_file_and_reports_a_missing_one() {
    let dir = std::env::temp_dir().join(format!("pfd-grammar-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inc = dir.join("inc.conf");
    std::fs::write(&inc, "pass in on em0 proto tcp to port $p\n").unwrap();
    let text = format!("p = 22\ninclude \"{}\"\npass from 10/8\n", inc.display());
    let (p, out) = run(&text);
    assert_eq!(p.errors, 0, "{:?}", p.stderr);
    assert_eq!(
        out,
        "p = \"22\"\npass in on em0 proto tcp from any to any port = 22 flags S/SA\npass inet from 10.0.0.0/8 to any flags S/SA\n"
    );
    let (p, _) = run("pass\ninclude \"/nonexistent/pfd.conf\"\n");
    assert_eq!(
        errors(&p),
        vec![
            "pfctl: pushfile: /nonexistent/pfd.conf: No such file or directory",
            "stdin:2: failed to include file /nonexistent/pfd.conf"
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn command_line_macros_override_the_file() {
    let (p, out) = run_with(
        "ext = \"em0\"\npass on $ext\n",
        vec![("ext".into(), "em1".into())],
    );
    assert_eq!(p.errors, 0);
    assert_eq!(out, "ext = \"em0\"\npass on em1 all flags S/SA\n");
}

#[test]
fn undefined_macro_is_an_error() {
    let (p, _) = run("pass on $nope\n");
    assert_eq!(
        errors(&p),
        vec!["stdin:1: macro 'nope' not defined", "stdin:1: syntax error"]
    );
}

#[test]
fn options_are_echoed_and_stored() {
    let (p, out) = run(
        "set syncookies adaptive (start 25%, end 12%)\nset skip on { lo0 tun1000000 }\n\
         set timeout { interval 10, frag 30 }\nset limit { states 10000, src-nodes 100 }\n\
         set debug warning\nset hostid 0x10\nset ruleset-optimization none\nset loginterface none\n",
    );
    assert_eq!(p.errors, 0, "{:?}", p.stderr);
    assert_eq!(
        out,
        "set syncookies adaptive (start 25%, end 12%)\nset skip on { lo0 tun1000000 }\nset timeout interval 10\n\
         set timeout frag 30\nset limit states 10000\nset limit src-nodes 100\nset debug warning\n\
         set hostid 0x00000010\nset loginterface none\n"
    );
    let o = &p.ruleset.options;
    assert_eq!(o.syncookies, Syncookies::Adaptive { start: 25, end: 12 });
    assert_eq!(o.skip, vec!["lo0".to_string(), "tun1000000".to_string()]);
    assert_eq!(o.timeouts[15], 10);
    assert_eq!(o.limits[0], 10000);
    assert_eq!(o.debug, Some(4));
    assert_eq!(o.hostid, Some(16));
}

#[test]
fn state_defaults_and_state_policy_apply_to_implicit_keep_state() {
    let (p, out) = run("set state-defaults pflow, no-sync\nset state-policy if-bound\npass in proto tcp\npass out proto udp keep state (max 5)\n");
    assert_eq!(p.errors, 0, "{:?}", p.stderr);
    assert_eq!(
        out,
        "set state-policy if-bound\n\
         pass in proto tcp all flags S/SA keep state (no-sync, if-bound, pflow)\n\
         pass out proto udp all keep state (max 5, if-bound)\n"
    );
}

#[test]
fn bad_limit_and_timeout_names() {
    let (p, _) = run("set limit bogus 5\nset timeout nope 3\n");
    assert_eq!(
        errors(&p),
        vec![
            "pfctl: Bad pool name.",
            "stdin:1: unable to set limit bogus 5",
            "pfctl: Bad timeout name.",
            "stdin:2: unknown timeout nope"
        ]
    );
}

#[test]
fn af_to_route_to_pools_and_sources() {
    let (p, out) = run(
        "pass in on em0 inet6 from 2001:db8::/64 to 64:ff9b::/96 af-to inet from 192.0.2.1 to 198.51.100.9\n\
         pass out on em0 proto tcp route-to { 192.0.2.1, 192.0.2.2 } least-states sticky-address\n\
         match out on em0 from 10.0.0.0/8 nat-to (em0:0) port 1024:65535\n\
         pass in on em0 proto tcp to 192.0.2.10 port 80 rdr-to 10.0.0.10 port 8080\n\
         match out on em0 inet nat-to { 192.0.2.1 192.0.2.2 } source-hash 0x00112233445566778899aabbccddeeff\n",
    );
    assert_eq!(p.errors, 0, "{:?}", p.stderr);
    assert_eq!(
        out,
        "table <__automatic_0> const { 192.0.2.1 192.0.2.2 }\n\
         table <__automatic_1> const { 192.0.2.1 192.0.2.2 }\n\
         pass in on em0 inet6 from 2001:db8::/64 to 64:ff9b::/96 flags S/SA af-to inet from 192.0.2.1 to 198.51.100.9\n\
         pass out on em0 inet proto tcp all flags S/SA route-to <__automatic_0> least-states sticky-address\n\
         match out on em0 inet from 10.0.0.0/8 to any nat-to (em0:0) port 1024:65535\n\
         pass in on em0 inet proto tcp from any to 192.0.2.10 port = 80 flags S/SA rdr-to 10.0.0.10 port 8080\n\
         match out on em0 inet all nat-to <__automatic_1> source-hash 0x00112233445566778899aabbccddeeff\n"
    );
}

#[test]
fn pool_errors() {
    let (p, _) = run("match out on em0 inet nat-to { 192.0.2.1 192.0.2.2 } bitmask\nmatch in on em0 inet rdr-to 192.0.2.1 static-port\n");
    assert_eq!(
        errors(&p),
        vec![
            "stdin:1: pool type is not valid for multiple translation or routing addresses",
            "stdin:1: skipping rule due to errors",
            "stdin:1: rule expands to no valid combination",
            "stdin:2: the 'static-port' option is only valid with nat rules",
            "stdin:2: skipping rule due to errors",
            "stdin:2: rule expands to no valid combination",
        ]
    );
}

#[test]
fn antispoof_expands_interface_networks() {
    let (p, out) = run(
        "antispoof for lo0\nantispoof log quick for { (lo0) tun1000000 } inet label \"spoof\"\n",
    );
    assert_eq!(p.errors, 0, "{:?}", p.stderr);
    assert_eq!(
        out,
        "block drop in on ! lo0 inet6 from ::1 to any\n\
         block drop in on ! lo0 inet from 127.0.0.0/8 to any\n\
         block drop in log quick on ! lo0 inet from (lo0:network) to any label \"spoof\"\n"
    );
}

#[test]
fn anchors_named_inline_and_nested() {
    let (p, out) = run("anchor \"ext/*\" on em0\nanchor \"ext\" on em0 {\n  pass in proto tcp to port 443\n  anchor {\n    block\n  }\n}\nanchor \"nope/\"\n");
    assert_eq!(
        errors(&p),
        vec!["stdin:8: anchorrule: bad anchor name nope/"]
    );
    let (p, out2) = run("anchor \"ext/*\" on em0\nanchor \"ext\" on em0 {\n  pass in proto tcp to port 443\n  anchor {\n    block\n  }\n}\n");
    assert_eq!(p.errors, 0, "{:?}", p.stderr);
    assert_eq!(out, "");
    assert_eq!(
        out2,
        "anchor \"ext/*\" on em0 all\n\
         anchor \"ext\" on em0 all {\n  pass in proto tcp from any to any port = 443 flags S/SA\n  anchor all {\n    block drop all\n  }\n}\n"
    );
    assert!(p.anchors.contains_key("ext"));
    assert!(p.anchors.contains_key("ext/_2"));
}

#[test]
fn tables_from_files_and_lists() {
    let dir = std::env::temp_dir().join(format!("pfd-grammar-t-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("hosts");
    std::fs::write(
        &f,
        "# blocked\n192.0.2.1\n!192.0.2.128/25 198.51.100.0/24\n2001:db8::/32\n",
    )
    .unwrap();
    let text = format!(
        "table <bad> persist counters file \"{}\" {{ 203.0.113.7 }}\nblock in from <bad>\n",
        f.display()
    );
    let (p, out) = run(&text);
    assert_eq!(p.errors, 0, "{:?}", p.stderr);
    assert_eq!(
        out,
        format!(
            "table <bad> persist counters file \"{}\" {{ 203.0.113.7 }}\nblock drop in from <bad> to any\n",
            f.display()
        )
    );
    let t = &p.ruleset.tables[0];
    assert_eq!(t.entries.len(), 5);
    assert_eq!(t.entries.iter().filter(|e| e.negated).count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_rule_records_its_line() {
    let (p, _) = run("\n\npass in proto tcp from { 192.0.2.1 192.0.2.2 }\n\nblock\n");
    let lines: Vec<u32> = p.ruleset.rules.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![3, 3, 5]);
}

#[test]
fn parser_survives_hostile_input() {
    // Unbalanced braces, stray bytes, an unterminated quote, deep nesting:
    // errors, never a panic.
    for text in [
        "pass { { { {\n",
        "}\n}\n",
        "pass from \"unterminated\n",
        "\u{0}\u{1}\u{ff}pass\n",
        &"anchor {\n".repeat(64),
        "table <t> { 1.2.3.4 !! 5.6.7.8 }\n",
        "pass from 1.2.3.4 - \n",
        "$\n",
        "set\n",
        "queue q on lo1000000 bandwidth 5Q default\n",
        "queue q on lo1000000 bandwidth 5\u{e9}b default\n",
        "match nat-to 1.2.3.4 source-hash 0x\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\n",
        &format!("pass from {}1.2.3.4{}\n", "{ ".repeat(100_000), " }".repeat(100_000)),
        &format!("table <t> {}1.2.3.4{}\n", "{ ".repeat(100_000), " }".repeat(100_000)),
        &"anchor {\n".repeat(100_000),
        &format!("a = \"{}\"\n", "x ".repeat(600_000)),
        &format!(
            "pass from {{ {} }} to {{ {} }} port {{ 1:2 3:4 5:6 7:8 9:10 11:12 }}\n",
            (0..200).map(|i| format!("10.0.{}.{}", i / 250, i % 250)).collect::<Vec<_>>().join(" "),
            (0..1000).map(|i| format!("10.1.{}.{}", i / 250, i % 250)).collect::<Vec<_>>().join(" ")
        ),
    ] {
        let (p, _) = run(text);
        assert!(p.errors > 0, "no error for {text:?}");
    }
}

/// pfctl accepts `binat-to` with no source and prints an inbound half
/// (`rdr-to any`) it cannot read back (found by fuzz/run.sh); pfd refuses it.
#[test]
fn binat_needs_a_specified_source() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fuzz/regressions/pfconf/binat-without-source.conf"
    ))
    .unwrap();
    let (p, _) = run(&text);
    assert_eq!(
        errors(&p),
        vec![
            "stdin:2: binat-to requires a specified source and redirect address",
            "stdin:2: skipping rule due to errors",
            "stdin:2: rule expands to no valid combination",
        ]
    );
    let (p, _) = run("match on em0 from 192.0.2.1 binat-to 198.51.100.1\n");
    assert_eq!(p.errors, 0, "{:?}", p.stderr);
}
