//! Parsing pf.conf text inside a fuzz target: no file is ever read, and
//! the stateful targets share one fixed ruleset.

use dataplane::engine::{Engine, EngineConfig, IfConfig};
use dataplane::wire::frame::Link;
use ruleset::compile::Compiled;
use ruleset::hostenv::RegressHost;
use ruleset::lexer::FileSource;
use ruleset::parse::{parse, ParseConfig, Parsed};
use std::sync::{Arc, OnceLock};

/// Refuses every file: `include` and `table ... file` would otherwise let
/// the fuzzer read the machine's files (or block on a FIFO or /dev/zero).
pub struct NoFiles;

impl FileSource for NoFiles {
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{path}: files are not read while fuzzing"),
        ))
    }
}

/// `text` parsed as the file `name` of the main ruleset.
pub fn parse_text(name: &str, text: Vec<u8>, env: &RegressHost) -> Parsed {
    let cfg = ParseConfig {
        env,
        files: &NoFiles,
        anchor: String::new(),
        macros: vec![],
        queues: vec![],
    };
    parse(name, text, &cfg)
}

/// The ruleset the pipeline and pfsync targets run: blocks by default and
/// passes with states, `nat-to` (pool, sticky), `rdr-to`, `synproxy`,
/// `modulate`, source limits with an overload table, scrub and a table
/// with a negated entry, so that random frames reach every translation
/// and state path.
pub const RULES: &str = "\
set limit states 1000
table <t> persist { 192.0.2.0/24, !192.0.2.7, 2001:db8::/48 }
table <bad> persist
block return all
block in quick from <bad>
match in all scrub (no-df, max-mss 1200)
match out scrub (max-mss 1200, min-ttl 30, no-df, random-id)
pass out on em0 from 192.0.2.0/24 nat-to { 198.51.100.1, 198.51.100.2 } round-robin sticky-address
pass out on em0 inet6 from 2001:db8:1::/48 nat-to 2001:db8::1
pass in on em0 proto tcp to 198.51.100.1 port 8080 rdr-to 192.0.2.20 port 80
pass in on em0 proto udp to 198.51.100.1 port 5353 rdr-to 192.0.2.21 port 53
pass in proto tcp to port 443 synproxy state
pass in proto udp from <t> keep state (max-src-states 3, source-track rule)
pass in proto tcp to port 22 keep state (max-src-conn 2, max-src-conn-rate 3/5, overload <bad> flush)
pass out proto tcp to port 25 modulate state
pass in on em1 all
pass in proto icmp
pass in inet6 proto ipv6-icmp
pass out all no state
";

/// The firewall's interfaces: em0 outside (198.51.100.1/24), em1 inside
/// (192.0.2.1/24).
pub fn interfaces() -> Vec<IfConfig> {
    vec![
        IfConfig {
            name: "em0".into(),
            addrs: vec![
                ("198.51.100.1".parse().expect("address"), 24),
                ("2001:db8::1".parse().expect("address"), 64),
            ],
            groups: vec!["egress".into()],
        },
        IfConfig {
            name: "em1".into(),
            addrs: vec![("192.0.2.1".parse().expect("address"), 24)],
            groups: Vec::new(),
        },
    ]
}

fn compiled() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| {
        let env = RegressHost::new();
        let p = parse_text("fuzz.conf", RULES.as_bytes().to_vec(), &env);
        assert_eq!(p.errors, 0, "the fuzz ruleset: {:?}", p.stderr);
        ruleset::compile::compile(&p).expect("the fuzz ruleset compiles")
    })
}

/// A fresh engine (empty state table) on the fixed ruleset.
pub fn engine(seed: u64) -> Arc<Engine> {
    let cfg = EngineConfig {
        interfaces: interfaces(),
        link: Link::Ethernet,
        seed,
    };
    Arc::new(Engine::new(compiled().clone(), cfg).expect("the fuzz ruleset loads"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fuzz_ruleset_loads_in_the_engine() {
        let e = super::engine(1);
        assert_eq!(e.state_count(), 0);
        assert_eq!(e.interface_name(1), Some("em1"));
    }
}
