//! The bodies of the cargo-fuzz targets in `fuzz/` (issue 8), as plain
//! functions so that the stable test suite runs the same code over the
//! committed corpus and every saved crash (`mgmt/tests/fuzz_regress.rs`).
//!
//! Each function takes arbitrary bytes and must return normally: a
//! panic is a finding. Where a surface has a property beyond "does not
//! panic" (the printed ruleset parses again, a decoded request encodes
//! back to itself), the function asserts it.
//!
//! Nothing here reads files, opens sockets or reads a clock: time is a
//! virtual clock advanced by the input.

mod carp;
mod control;
mod pfconf;
mod pfsync;
mod pipeline;
mod records;
mod rules;

pub use self::carp::carp;
pub use self::control::control;
pub use self::pfconf::pfconf;
pub use self::pfsync::pfsync;
pub use self::pipeline::pipeline;

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target by its cargo-fuzz name, for the regression suite.
pub const TARGETS: &[(&str, Target)] = &[
    ("pfconf", pfconf),
    ("pipeline", pipeline),
    ("carp", carp),
    ("pfsync", pfsync),
    ("control", control),
];
