//! OpenBSD's pfctl regression corpus, run through our pfctl exactly as
//! OpenBSD's suite runs it (`pfctl -o none -nv -f - < pfN.in`, from the
//! corpus folder, on an emulation of the host the outputs came from).
//!
//! - `pfN.in` must print exactly `pfN.ok` on stdout;
//! - `pfN.ok` fed back must print itself (the printed form is a fixed point);
//! - `pfailN.in` must print exactly `pfailN.ok` as stderr then stdout;
//! - inputs kept without an expected output must at least succeed (`pf`)
//!   or fail (`pfail`).
//!
//! The corpus lives in `../shared/conformance/pfctl` beside the checkout
//! (or `$PFD_CONFORMANCE_DIR`); it is not copied into the repository.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn corpus_dir() -> PathBuf {
    if let Ok(d) = std::env::var("PFD_CONFORMANCE_DIR") {
        return PathBuf::from(d);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/pfctl")
}

struct Run {
    stdout: String,
    stderr: String,
    ok: bool,
}

fn pfctl(dir: &Path, input: &Path) -> Run {
    let stdin = std::fs::File::open(input).expect("open corpus input");
    let out = Command::new(env!("CARGO_BIN_EXE_pfctl"))
        .args(["-o", "none", "-nv", "-f", "-"])
        .current_dir(dir)
        .env("PFD_HOST_PROFILE", "openbsd-regress")
        .stdin(Stdio::from(stdin))
        .output()
        .expect("run pfctl");
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        ok: out.status.success(),
    }
}

fn diff(expected: &str, got: &str) -> String {
    let d = similar::TextDiff::from_lines(expected, got);
    d.unified_diff().header("expected", "got").to_string()
}

/// Case names sorted as the corpus numbers them (pf2 before pf10).
fn cases(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("conformance corpus folder (../shared/conformance/pfctl) is missing")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|n| {
            let (stem, ext) = n.rsplit_once('.')?;
            matches!(ext, "in" | "ok").then(|| (stem.to_string(), ext.to_string()))
        })
        .collect();
    let key = |s: &str| {
        let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
        (s.starts_with("pfail"), digits.parse::<u32>().unwrap_or(0))
    };
    v.sort_by(|a, b| key(&a.0).cmp(&key(&b.0)).then(a.1.cmp(&b.1)));
    v
}

fn main() {
    let dir = corpus_dir();
    let mut passed = 0;
    let mut failed: Vec<String> = Vec::new();
    let mut report = String::new();
    for (stem, ext) in cases(&dir) {
        let fail = stem.starts_with("pfail");
        let input = dir.join(format!("{stem}.{ext}"));
        let expected_path = dir.join(format!("{stem}.ok"));
        let expected = std::fs::read_to_string(&expected_path).ok();
        let (name, ok, detail) = match (ext.as_str(), fail, expected) {
            // pfN.in -> pfN.ok
            ("in", false, Some(exp)) => {
                let r = pfctl(&dir, &input);
                let good = r.stdout == exp;
                (
                    stem.to_string(),
                    good,
                    format!("{}{}", r.stderr, diff(&exp, &r.stdout)),
                )
            }
            // pfailN.in -> pfailN.ok (stderr, then stdout)
            ("in", true, Some(exp)) => {
                let r = pfctl(&dir, &input);
                let got = format!("{}{}", r.stderr, r.stdout);
                // OpenBSD's suite compares the text only: some of these
                // inputs are accepted by current pfctl.
                let good = got == exp;
                (
                    stem.to_string(),
                    good,
                    format!("exit ok: {}\n{}", r.ok, diff(&exp, &got)),
                )
            }
            // held-out inputs: only the outcome is known
            ("in", fail, None) => {
                let r = pfctl(&dir, &input);
                let good = r.ok != fail;
                (
                    format!("{stem} (exit status)"),
                    good,
                    format!("exit ok: {}\n{}{}", r.ok, r.stderr, r.stdout),
                )
            }
            // pfN.ok fed back prints itself
            ("ok", false, Some(exp)) => {
                let r = pfctl(&dir, &input);
                let good = r.stdout == exp && r.ok;
                (
                    format!("{stem} (self)"),
                    good,
                    format!("{}{}", r.stderr, diff(&exp, &r.stdout)),
                )
            }
            _ => continue,
        };
        if ok {
            passed += 1;
        } else {
            report.push_str(&format!("=== {name}\n{detail}\n"));
            failed.push(name);
        }
    }
    print!("{report}");
    if !failed.is_empty() {
        println!("failed: {}", failed.join(", "));
    }
    println!("conformance: {} passed, {} failed", passed, failed.len());
    assert!(
        failed.is_empty(),
        "conformance: {} passed, {} failed: {}",
        passed,
        failed.len(),
        failed.join(", ")
    );
}
