//! Read a pf.conf from a file and compile it for the engine, with
//! pfctl's diagnostics: every parse error as `FILE:LINE: message`, then
//! every feature pfd refuses to enforce, and nothing returned if any.

use ruleset::compile::{compile, Compiled};
use ruleset::hostenv::HostEnv;
use ruleset::lexer::{FileSource, FsSource};
use ruleset::parse::{parse, ParseConfig};

/// Parse and compile `path` (`-` is not accepted: the engine needs a
/// file it can name in errors). `Err` holds the whole diagnostic text.
pub fn load_ruleset(path: &str, env: &dyn HostEnv) -> Result<Compiled, String> {
    load_ruleset_with_text(path, env).map(|(c, _)| c)
}

/// [`load_ruleset`], and the loaded rules as `pfctl -sr` prints them.
pub fn load_ruleset_with_text(path: &str, env: &dyn HostEnv) -> Result<(Compiled, String), String> {
    load_ruleset_listed(path, env).map(|(c, l)| (c, l.render(0, &|_| Default::default())))
}

/// [`load_ruleset`], and the loaded rules by ruleset and number, for
/// `pfctl -sr -v` and `-s labels` on the running pfd.
pub fn load_ruleset_listed(
    path: &str,
    env: &dyn HostEnv,
) -> Result<(Compiled, crate::daemon::Listing), String> {
    let text = FsSource
        .read(path)
        .map_err(|e| format!("{path}: {}\n", ruleset::io_error_text(&e)))?;
    let cfg = ParseConfig {
        env,
        files: &FsSource,
        anchor: String::new(),
        macros: Vec::new(),
        queues: Vec::new(),
    };
    let p = parse(path, text, &cfg);
    if p.errors > 0 {
        return Err(p.stderr.iter().map(|l| format!("{l}\n")).collect());
    }
    if !p.ruleset.load_anchors.is_empty() {
        return Err(format!(
            "{path}: not supported: load anchor in a replayed ruleset\n"
        ));
    }
    let c = compile(&p).map_err(|e| e.render(path))?;
    let carp = crate::carp_rules::refusals(&c, env, path);
    if !carp.is_empty() {
        return Err(carp.iter().map(|l| format!("{l}\n")).collect());
    }
    Ok((c, crate::daemon::Listing::of(&p, env)))
}
