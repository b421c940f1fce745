//! Arbitrary frames through the packet engine, with a ruleset that
//! exercises states, NAT, rdr, modulate, synproxy, source tracking,
//! scrub, fragments and syncookies (adaptive: on past 10 half-open
//! states): it must never panic. The input is a sequence of
//! records: one byte of flags (bit 0: inbound, bits 1..: seconds to
//! advance), two bytes of length, then the frame.
#![no_main]

use dataplane::engine::{Engine, EngineConfig, IfConfig, Packet};
use dataplane::pdesc::Dir;
use dataplane::wire::frame::Link;
use libfuzzer_sys::fuzz_target;
use ruleset::hostenv::RegressHost;
use ruleset::lexer::FsSource;
use ruleset::parse::{parse, ParseConfig};
use std::sync::OnceLock;

const RULES: &str = "\
set limit states 1000
set syncookies adaptive (start 1%)
table <t> persist { 192.0.2.0/24, !192.0.2.7, 2001:db8::/48 }
block return all
match out scrub (max-mss 1200, min-ttl 30, no-df, random-id)
pass out on em0 from 192.0.2.0/24 nat-to { 198.51.100.1, 198.51.100.2 } round-robin sticky-address
pass in on em0 proto tcp to 198.51.100.1 port 8080 rdr-to 192.0.2.20 port 80
pass in proto tcp to port 443 synproxy state
pass in proto udp from <t> keep state (max-src-states 3)
pass in proto tcp to port 22 keep state (max-src-conn 2, overload <t> flush)
pass out proto tcp to port 25 modulate state
pass in proto icmp
pass inet6
";

fn compiled() -> &'static ruleset::compile::Compiled {
    static C: OnceLock<ruleset::compile::Compiled> = OnceLock::new();
    C.get_or_init(|| {
        let env = RegressHost::new();
        let cfg = ParseConfig {
            env: &env,
            files: &FsSource,
            anchor: String::new(),
            macros: Vec::new(),
            queues: Vec::new(),
        };
        let p = parse("fuzz", RULES.as_bytes().to_vec(), &cfg);
        assert_eq!(p.errors, 0, "{:?}", p.stderr);
        ruleset::compile::compile(&p).expect("compiles")
    })
}

fuzz_target!(|data: &[u8]| {
    let eng = Engine::new(
        compiled().clone(),
        EngineConfig {
            interfaces: vec![IfConfig {
                name: "em0".into(),
                addrs: vec![("198.51.100.1".parse().unwrap(), 24)],
                groups: Vec::new(),
            }],
            link: Link::Ethernet,
            seed: 9,
        },
    )
    .expect("loads");
    let mut w = eng.worker();
    let mut now = 1_000_000_000u64;
    let mut rest = data;
    while rest.len() >= 3 {
        let flags = rest[0];
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]])).min(rest.len() - 3);
        let mut frame = rest[3..3 + len].to_vec();
        rest = &rest[3 + len..];
        now += u64::from(flags >> 1) * 1_000_000_000;
        let dir = if flags & 1 == 1 { Dir::In } else { Dir::Out };
        eng.expire(now);
        let _ = eng.process(&mut w, now, &mut Packet { frame: &mut frame, ifindex: 0, dir });
    }
});
