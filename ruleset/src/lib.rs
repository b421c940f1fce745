//! pf.conf as OpenBSD's pfctl reads it: lexer, macro expansion, grammar,
//! rule expansion, printer, and the compiled form the packet engine runs.
#![forbid(unsafe_code)]

pub mod addr;
pub mod host;
pub mod hostenv;
pub mod print_addr;
pub mod table;
