//! pf tables: loading a 100,000-entry table file into the lookup
//! structure, and the lookup rate in it. Figures: BENCHMARKS.md.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use pfd_benches::rng::Rng;
use pfd_benches::{table_file, SEED, TABLE_ENTRIES};
use ruleset::hostenv::RegressHost;
use ruleset::table::{build_radix, parse_table_text, TableAddr};

/// Addresses looked up per iteration, per family.
const PROBES: usize = 4096;

fn table_load_100k(c: &mut Criterion) {
    let text = table_file::generate(SEED, TABLE_ENTRIES);
    let env = RegressHost::new();
    let mut g = c.benchmark_group("table");
    g.throughput(Throughput::Elements(TABLE_ENTRIES as u64));
    g.bench_function("table_load_100k", |b| {
        b.iter(|| {
            let entries = parse_table_text(black_box(&text), &env).expect("table parses");
            black_box(build_radix(&entries).expect("radix builds"))
        })
    });
    g.finish();
}

/// Half the probes are table entries' own addresses (hits, or misses
/// on negated entries), half random addresses of the same family.
fn probes(entries: &[TableAddr], v6: bool, rng: &mut Rng) -> Vec<IpAddr> {
    let family: Vec<IpAddr> = entries
        .iter()
        .map(|e| e.addr)
        .filter(|a| a.is_ipv6() == v6)
        .collect();
    (0..PROBES)
        .map(|i| {
            if i % 2 == 0 {
                *rng.pick(&family)
            } else if v6 {
                let hi = u128::from(rng.next_u64()) << 64;
                IpAddr::V6(Ipv6Addr::from(
                    ((hi | u128::from(rng.next_u64())) >> 3) | (1 << 125),
                ))
            } else {
                IpAddr::V4(Ipv4Addr::from(rng.next_u64() as u32))
            }
        })
        .collect()
}

fn table_lookup(c: &mut Criterion) {
    let text = table_file::generate(SEED, TABLE_ENTRIES);
    let env = RegressHost::new();
    let entries = parse_table_text(&text, &env).expect("table parses");
    let radix = build_radix(&entries).expect("radix builds");
    let mut rng = Rng::new(SEED ^ 1);
    let mut g = c.benchmark_group("table_lookup");
    g.throughput(Throughput::Elements(PROBES as u64));
    for (name, v6) in [("ipv4", false), ("ipv6", true)] {
        let addrs = probes(&entries, v6, &mut rng);
        g.bench_function(name, |b| {
            b.iter(|| {
                addrs
                    .iter()
                    .filter(|&&a| radix.contains(black_box(a)))
                    .count()
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = table_load_100k, table_lookup
}
criterion_main!(benches);
