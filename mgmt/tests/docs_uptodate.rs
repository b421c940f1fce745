//! The man pages and shell completions under doc/ are those the
//! binaries' clap definitions make now: a changed option or help text
//! without `cargo run -p mgmt --example gendocs` fails here. And the
//! completions the binaries print are the packaged ones.

#[path = "../examples/support/clis.rs"]
mod clis;

use std::path::Path;
use std::process::Command;

#[test]
fn generated_docs_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let files = mgmt::docs::generated(&clis::commands());
    let mut stale = Vec::new();
    for (path, bytes) in &files {
        match std::fs::read(root.join(path)) {
            Ok(old) if old == *bytes => {}
            Ok(_) => stale.push(format!("{} differs", path.display())),
            Err(e) => stale.push(format!("{}: {e}", path.display())),
        }
    }
    // nothing generated is left behind either
    for dir in ["doc/man", "doc/completions"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = Path::new(dir).join(e.unwrap().file_name());
            let handwritten = p.extension().is_some_and(|x| x == "5");
            if !handwritten && !files.iter().any(|(f, _)| *f == p) {
                stale.push(format!("{} is no longer generated", p.display()));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "{}\nrun: cargo run -p mgmt --example gendocs",
        stale.join("\n")
    );
    let names: Vec<String> = files
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for page in [
        "pfd.8",
        "pfd-run.8",
        "pfd-check.8",
        "pfd-replay.8",
        "pfctl.8",
        "ifctl.8",
    ] {
        assert!(names.iter().any(|n| n == page), "{page}: {names:?}");
    }
}

#[test]
fn the_binaries_print_the_packaged_completions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (bin, args) in [
        (env!("CARGO_BIN_EXE_pfd"), &["completions"][..]),
        (env!("CARGO_BIN_EXE_pfctl"), &["--completions"][..]),
        (env!("CARGO_BIN_EXE_ifctl"), &["--completions"][..]),
    ] {
        let name = Path::new(bin).file_name().unwrap().to_str().unwrap();
        for shell in mgmt::docs::SHELLS {
            let o = Command::new(bin)
                .args(args)
                .arg(shell.to_string())
                .output()
                .unwrap();
            assert!(o.status.success(), "{name} {shell}");
            let file = root
                .join("doc/completions")
                .join(mgmt::docs::completion_file(name, shell));
            assert_eq!(
                o.stdout,
                std::fs::read(&file).unwrap(),
                "{name} {shell} vs {}",
                file.display()
            );
        }
    }
}
