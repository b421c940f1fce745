#![forbid(unsafe_code)]
//! Inputs for pfd's benchmarks: a seeded generator of a large pf.conf,
//! its nftables equivalent, and a large table file. The benches in
//! `benches/` and the `gen-rulesets` binary (for `nft-compare.sh`) use
//! the same functions, so they measure the same bytes.

pub mod rng;
pub mod rules;
pub mod table_file;

/// The seed every published figure was produced with.
pub const SEED: u64 = 0x7066_642d_6265_6e63; // "pfd-benc"

/// Rules in the benchmark ruleset.
pub const RULES: usize = 10_000;

/// Entries in the benchmark table file.
pub const TABLE_ENTRIES: usize = 100_000;

/// The parser configuration of the benches: OpenBSD's regress host, so
/// nothing depends on this machine's interfaces or resolver.
pub fn parse_config(env: &ruleset::hostenv::RegressHost) -> ruleset::parse::ParseConfig<'_> {
    ruleset::parse::ParseConfig {
        env,
        files: &ruleset::lexer::FsSource,
        anchor: String::new(),
        macros: vec![],
        queues: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruleset::hostenv::RegressHost;

    #[test]
    fn ruleset_parses_to_exactly_the_generated_rules() {
        let pair = rules::generate(SEED, RULES);
        let env = RegressHost::new();
        let parsed = ruleset::parse::parse(
            "pf-10k.conf",
            pair.pf_conf.into_bytes(),
            &parse_config(&env),
        );
        assert_eq!(
            parsed.errors,
            0,
            "{:?}",
            &parsed.stderr[..parsed.stderr.len().min(10)]
        );
        assert_eq!(parsed.ruleset.rules.len(), RULES);
        assert_eq!(pair.rules, RULES);
    }

    #[test]
    fn nft_has_one_rule_per_pf_rule() {
        let pair = rules::generate(SEED, RULES);
        // Rules are the lines indented twice, less chain and set headers.
        let headers = ["type ", "flags ", "elements "];
        let rules = pair
            .nft
            .lines()
            .filter_map(|l| l.strip_prefix("\t\t"))
            .filter(|l| !headers.iter().any(|h| l.starts_with(h)))
            .count();
        // Plus the leading `ct state established,related accept`.
        assert_eq!(rules, RULES + 1);
    }

    #[test]
    fn table_file_has_every_entry() {
        let text = table_file::generate(SEED, TABLE_ENTRIES);
        let env = RegressHost::new();
        let entries = ruleset::table::parse_table_text(&text, &env).expect("table parses");
        assert_eq!(entries.len(), TABLE_ENTRIES);
        assert!(ruleset::table::build_radix(&entries).is_ok());
    }

    #[test]
    fn generation_is_deterministic() {
        assert_eq!(
            rules::generate(1, 500).pf_conf,
            rules::generate(1, 500).pf_conf
        );
        assert_eq!(table_file::generate(1, 500), table_file::generate(1, 500));
    }
}
