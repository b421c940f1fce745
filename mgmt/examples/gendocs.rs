//! Write the man pages (doc/man/*.8) and shell completions
//! (doc/completions/) made from the binaries' clap definitions:
//!
//!     cargo run -p mgmt --example gendocs
//!
//! Run it after changing an option or a help text; the docs_uptodate
//! test fails until then. doc/man/pfd-pf.conf.5 is written by hand.

#[path = "support/clis.rs"]
mod clis;

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (path, bytes) in mgmt::docs::generated(&clis::commands()) {
        let to = root.join(&path);
        let same = std::fs::read(&to).is_ok_and(|old| old == bytes);
        if same {
            continue;
        }
        let written = to
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&to, &bytes));
        if let Err(e) = written {
            eprintln!("gendocs: {}: {e}", to.display());
            return ExitCode::from(1);
        }
        println!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}
