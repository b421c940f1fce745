// The clap definitions of the three binaries, for the gendocs example
// and the docs_uptodate test: each binary's file is included as a module
// (its `main` unused here), so the pages are made from exactly what the
// binaries parse and print with --help.

#[allow(dead_code)]
#[path = "../../src/bin/ifctl.rs"]
mod ifctl;
#[allow(dead_code)]
#[path = "../../src/bin/pfctl.rs"]
mod pfctl;
#[allow(dead_code)]
#[path = "../../src/bin/pfd.rs"]
mod pfd;

use clap::CommandFactory;

/// pfd, pfctl and ifctl, in that order.
pub fn commands() -> Vec<clap::Command> {
    vec![
        pfd::Cli::command(),
        pfctl::Args::command(),
        ifctl::Args::command(),
    ]
}
