//! pf.conf as OpenBSD's pfctl reads it: lexer, macro expansion, grammar,
//! rule expansion, printer, and the compiled form the packet engine runs.
#![forbid(unsafe_code)]

pub mod addr;
pub mod compile;
pub mod host;
pub mod hostenv;
pub mod icmp;
pub mod lexer;
pub mod parse;
pub mod print;
pub mod print_addr;
pub mod rule;
pub mod ruleset;
pub mod table;

/// An I/O error as C's `strerror` words it ("No such file or directory").
pub fn io_error_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
