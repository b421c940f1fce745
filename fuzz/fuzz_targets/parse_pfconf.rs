//! pf.conf parser and printer on arbitrary bytes.
//!
//! The parser reads untrusted text (house rule 3): whatever the bytes, it
//! returns errors and never panics. When the input parses cleanly, what
//! `pfctl -nv` would print (the parse echo, then the loaded ruleset) is
//! parsed again and must parse cleanly too: the printed form is a fixed
//! point, as the conformance corpus checks for its `.ok` files.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruleset::hostenv::RegressHost;
use ruleset::lexer::FileSource;
use ruleset::parse::{parse, ParseConfig, Parsed};
use ruleset::print;

/// Refuses every file: `include` and `table ... file` would otherwise let
/// the fuzzer read the machine's files (or block on a FIFO or /dev/zero).
struct NoFiles;

impl FileSource for NoFiles {
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{path}: files are not read while fuzzing"),
        ))
    }
}

fn parse_text(name: &str, text: Vec<u8>, env: &RegressHost) -> Parsed {
    let cfg = ParseConfig {
        env,
        files: &NoFiles,
        anchor: String::new(),
        macros: vec![],
        queues: vec![],
    };
    parse(name, text, &cfg)
}

fuzz_target!(|data: &[u8]| {
    let env = RegressHost::new();
    let first = parse_text("fuzz", data.to_vec(), &env);
    if first.errors > 0 {
        return;
    }
    let printed = format!("{}{}", first.echo, print::loaded(&first, &env));
    let second = parse_text("printed", printed.clone().into_bytes(), &env);
    assert!(
        second.errors == 0,
        "the printed form does not parse again\n--- input\n{}\n--- printed\n{}--- errors\n{}",
        String::from_utf8_lossy(data),
        printed,
        second.stderr.join("\n"),
    );
});
