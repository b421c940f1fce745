//! `unsafe` lives only where the kernel is touched: the AF_PACKET ring
//! and socket code under src/port/afpacket, and the TUN interface pfd
//! mirrors pfsync onto (src/port/tun.rs). Everywhere else the crate's
//! `deny(unsafe_code)` stands, and every unsafe block that is allowed
//! says why it is sound.

use std::fs;
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).expect("read src dir") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn src_files() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    assert!(files.len() > 10, "found only {} source files", files.len());
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, fs::read_to_string(&p).expect("read source"))
        })
        .collect()
}

fn kernel_facing(rel: &str) -> bool {
    rel.starts_with("src/port/afpacket") || rel == "src/port/tun.rs"
}

#[test]
fn allow_unsafe_only_in_the_kernel_facing_files() {
    let lib = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    assert!(
        lib.contains("#![deny(unsafe_code)]"),
        "lib.rs must deny unsafe_code"
    );
    let offenders: Vec<String> = src_files()
        .into_iter()
        .filter(|(rel, text)| {
            !kernel_facing(rel)
                && (text.contains("allow(unsafe_code)") || text.contains("expect(unsafe_code)"))
        })
        .map(|(rel, _)| rel)
        .collect();
    assert!(
        offenders.is_empty(),
        "unsafe allowed outside src/port/afpacket and src/port/tun.rs: {offenders:?}"
    );
}

#[test]
fn every_unsafe_block_in_the_kernel_facing_files_has_a_safety_comment() {
    let mut missing = Vec::new();
    let mut seen = 0;
    for (rel, text) in src_files().into_iter().filter(|(r, _)| kernel_facing(r)) {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if !(code.contains("unsafe {") || code.contains("unsafe impl")) {
                continue;
            }
            seen += 1;
            // The comment sits on the lines just above the statement
            // (which may start a line or two before the block itself).
            let from = i.saturating_sub(6);
            if !lines[from..=i]
                .iter()
                .any(|l| l.trim_start().starts_with("// SAFETY:"))
            {
                missing.push(format!("{rel}:{}", i + 1));
            }
        }
    }
    assert!(
        seen > 0,
        "no unsafe blocks found: is the scan looking in the right place?"
    );
    assert!(
        missing.is_empty(),
        "unsafe without a // SAFETY: comment at {missing:?}"
    );
}
