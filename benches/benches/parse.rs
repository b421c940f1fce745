//! Ruleset load time: pf.conf text in memory to the expanded rule list
//! and on to the compiled flat rule array with skip steps.
//! Figures: BENCHMARKS.md.

use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use pfd_benches::{parse_config, rules, RULES, SEED};
use ruleset::hostenv::RegressHost;

fn parse_10k_rules(c: &mut Criterion) {
    let text = rules::generate(SEED, RULES).pf_conf.into_bytes();
    let env = RegressHost::new();
    let cfg = parse_config(&env);
    // Outside the timing: the input must be valid and exactly RULES rules.
    let check = ruleset::parse::parse("pf-10k.conf", text.clone(), &cfg);
    assert_eq!(check.errors, 0, "generated ruleset does not parse");
    assert_eq!(check.ruleset.rules.len(), RULES);

    let mut g = c.benchmark_group("ruleset");
    g.throughput(Throughput::Elements(RULES as u64));
    g.bench_function("parse_10k_rules", |b| {
        b.iter_batched(
            || text.clone(),
            |bytes| black_box(ruleset::parse::parse("pf-10k.conf", bytes, &cfg)),
            BatchSize::LargeInput,
        )
    });
    // The whole load: text to the flat rule array with skip steps.
    assert!(
        ruleset::compile::compile(&check).is_ok(),
        "generated ruleset does not compile"
    );
    g.bench_function("parse_compile_10k_rules", |b| {
        b.iter_batched(
            || text.clone(),
            |bytes| {
                let p = ruleset::parse::parse("pf-10k.conf", bytes, &cfg);
                black_box(ruleset::compile::compile(&p).is_ok())
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(9));
    targets = parse_10k_rules
}
criterion_main!(benches);
