//! Boot files are operator input: no line, however mangled, may panic
//! the parsers. Lines are built from the words and characters the
//! parsers care about, by a fixed-seed generator so failures repeat.

use super::error::EtcErrors;
use std::path::Path;

const WORDS: &[&str] = &[
    "inet",
    "inet6",
    "alias",
    "autoconf",
    "up",
    "down",
    "mtu",
    "description",
    "group",
    "lladdr",
    "vhid",
    "advskew",
    "advbase",
    "carpdev",
    "pass",
    "carppeer",
    "state",
    "syncdev",
    "syncpeer",
    "maxupd",
    "defer",
    "NONE",
    "dhcp",
    "dest",
    "192.0.2.1",
    "192.0.2.255",
    "255.255.255.0",
    "0xffffff00",
    "0x",
    "0xfffffffff",
    "/",
    "/24",
    "192.0.2.1/33",
    "2001:db8::1",
    "fe80::1%eth0",
    "64",
    "129",
    "0",
    "255",
    "4294967296",
    "99999999999999999999",
    "\"",
    "\"a b\"",
    "'",
    "#",
    "!",
    "$",
    "=",
    "net.inet.ip.forwarding",
    "net.inet.carp.log",
    "eth0",
    "carp0",
    "00:00:5e:00:53:af",
    "ff:",
    ":",
    "%",
    "é",
    "\t",
    "",
    "master",
];

fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

fn noise_text(seed: &mut u64) -> String {
    let mut text = String::new();
    for _ in 0..(next(seed) % 6) {
        for _ in 0..(next(seed) % 9) {
            let n = (next(seed) % WORDS.len() as u64) as usize;
            text.push_str(WORDS.get(n).copied().unwrap_or(""));
            if next(seed) & 3 != 0 {
                text.push(' ');
            }
        }
        text.push('\n');
    }
    text
}

#[test]
fn mangled_lines_never_panic() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let f = Path::new("f");
    for _ in 0..20_000 {
        let t = noise_text(&mut seed);
        let mut errs = EtcErrors::default();
        let h = super::hostname::parse("carp0", f, &t, &mut errs);
        super::hostname::parse("eth0", f, &t, &mut errs);
        let g = super::mygate::parse(f, &t, &mut errs);
        super::sysctl::parse(f, &t, &mut errs);
        let s = super::pfsync::parse(f, &t, &mut errs);
        super::pfsync::finish(s, &["eth0"], &mut errs);
        super::validate::cross_check(vec![h], f, &g, &mut errs);
        // Rendering must not panic either.
        let _ = errs.to_string();
    }
}
