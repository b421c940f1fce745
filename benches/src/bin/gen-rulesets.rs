//! Write the benchmark inputs for `nft-compare.sh`:
//! `gen-rulesets --out DIR` creates DIR/pf-10k.conf, DIR/nft-10k.nft and
//! DIR/table-100k.txt from the published seed.

use std::path::PathBuf;
use std::process::ExitCode;

use pfd_benches::{rules, table_file, RULES, SEED, TABLE_ENTRIES};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut out: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = args.next().map(PathBuf::from),
            _ => {
                eprintln!("usage: gen-rulesets --out DIR");
                return ExitCode::from(2);
            }
        }
    }
    let Some(dir) = out else {
        eprintln!("usage: gen-rulesets --out DIR");
        return ExitCode::from(2);
    };
    let pair = rules::generate(SEED, RULES);
    let files = [
        ("pf-10k.conf", pair.pf_conf),
        ("nft-10k.nft", pair.nft),
        ("table-100k.txt", table_file::generate(SEED, TABLE_ENTRIES)),
    ];
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("gen-rulesets: {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    for (name, text) in files {
        let path = dir.join(name);
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("gen-rulesets: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("{}", path.display());
    }
    ExitCode::SUCCESS
}
