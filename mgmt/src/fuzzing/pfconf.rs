//! pf.conf on arbitrary bytes: the parser, the compiler, the printer and
//! the engine's load check.
//!
//! The parser reads untrusted text (house rule 3): whatever the bytes, it
//! returns errors and never panics. When the input parses cleanly, what
//! `pfctl -nv` would print (the parse echo, then the loaded ruleset) must
//! parse cleanly too: the printed form is a fixed point, as the
//! conformance corpus checks for its `.ok` files. One exception is
//! pfctl's own: it echoes a macro as `NAME = "VALUE"` with the value's
//! characters as they are, so a value holding `"` (a word such as `y"`,
//! which its lexer accepts) prints a line no parser reads back. Those
//! echo lines are left out of the second parse; the rules never need
//! them (they print expanded). A ruleset that
//! compiles is then offered to the engine, which refuses what it does not
//! enforce with errors, not a panic.

use super::rules::{interfaces, parse_text};
use dataplane::engine::{Engine, EngineConfig};
use dataplane::wire::frame::Link;
use ruleset::hostenv::RegressHost;
use ruleset::print;

pub fn pfconf(data: &[u8]) {
    let env = RegressHost::new();
    let first = parse_text("fuzz", data.to_vec(), &env);
    if first.errors > 0 {
        return;
    }
    let echo: String = first
        .echo
        .lines()
        .filter(|l| !is_quoted_macro_with_quote(l))
        .flat_map(|l| [l, "\n"])
        .collect();
    let printed = format!("{echo}{}", print::loaded(&first, &env));
    let second = parse_text("printed", printed.clone().into_bytes(), &env);
    assert!(
        second.errors == 0,
        "the printed form does not parse again\n--- input\n{}\n--- printed\n{}--- errors\n{}",
        String::from_utf8_lossy(data),
        printed,
        second.stderr.join("\n"),
    );
    let Ok(compiled) = ruleset::compile::compile(&first) else {
        return;
    };
    let cfg = EngineConfig {
        interfaces: interfaces(),
        link: Link::Ethernet,
        seed: 1,
    };
    if let Err(e) = Engine::new(compiled, cfg) {
        // Every refusal renders as pfctl's FILE:LINE: message.
        assert!(!e.render("fuzz").is_empty(), "a refusal without text");
    }
}

/// `NAME = "VALUE"` where VALUE itself holds a `"`.
fn is_quoted_macro_with_quote(line: &str) -> bool {
    let Some((name, value)) = line.split_once(" = \"") else {
        return false;
    };
    let is_name = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    is_name
        && value
            .strip_suffix('"')
            .is_some_and(|inner| inner.contains('"'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_macro_echo_lines_with_a_quote_inside_are_recognised() {
        assert!(is_quoted_macro_with_quote("b = \"x`b= y\"\""));
        assert!(!is_quoted_macro_with_quote("a = \"10.0.0.1\""));
        assert!(!is_quoted_macro_with_quote("pass in label \"a = \"b\"\""));
        assert!(!is_quoted_macro_with_quote("set skip on lo0"));
    }
}
