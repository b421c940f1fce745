//! The whole per-packet path (parse, state lookup, TCP tracking,
//! translation with incremental checksums, counters) as `pfd replay`
//! and the workers run it, on one core:
//!
//! - `established`: packets of established TCP connections, no
//!   translation, over 1,000 and 100,000 states;
//! - `established_nat`: the same through `nat-to`, so every packet is
//!   rewritten and its checksums updated;
//! - `first_packet`: new UDP flows, each evaluated against the rules and
//!   inserting a state;
//! - `synproxy_syn`: a SYN flood on a `synproxy state` rule, each SYN
//!   evaluated, inserting a state and answered with a built SYN|ACK;
//! - `syncookie_syn`: a SYN flood under `set syncookies always`, each
//!   SYN answered with a cookie SYN|ACK (SipHash, frame built), no rule
//!   evaluated and no state kept.
//!
//! `cargo bench -p dataplane --bench engine`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dataplane::engine::Packet;
use dataplane::pdesc::Dir;
use std::hint::black_box;

#[path = "support/engine_lab.rs"]
mod engine_lab;
use engine_lab::{client, engine, frame, open, ring, SERVER};

fn established(c: &mut Criterion, name: &str, rules: &str) {
    let mut g = c.benchmark_group(name);
    for n in [1_000u32, 100_000] {
        let eng = engine(rules);
        let frames = open(&eng, n);
        let ring = ring(&frames, 1 << 16);
        let mut w = eng.worker();
        g.throughput(Throughput::Elements(1));
        let mut i = 0usize;
        let mut scratch = Vec::with_capacity(128);
        g.bench_function(format!("{n}_states"), |b| {
            b.iter(|| {
                i = (i + 1) & (ring.len() - 1);
                scratch.clear();
                scratch.extend_from_slice(&ring[i]);
                let v = eng.process(
                    &mut w,
                    4,
                    &mut Packet {
                        frame: &mut scratch,
                        ifindex: 0,
                        dir: Dir::Out,
                    },
                );
                black_box(v.action)
            })
        });
    }
    g.finish();
}

fn bench_established(c: &mut Criterion) {
    established(c, "established", "block all\npass out proto tcp\n");
    established(
        c,
        "established_nat",
        "block all\npass out on em0 proto tcp from 192.0.2.0/24 nat-to 198.51.100.0/24 round-robin\n",
    );
}

/// A distinct UDP flow for each `i` (up to 200 hosts x 50,000 ports x
/// 60,000 destination ports).
fn flow(i: u64) -> Vec<u8> {
    let port = 10_000 + (i % 50_000) as u16;
    let host = 10 + ((i / 50_000) % 200) as u8;
    let dport = 1 + (i / 10_000_000) as u16;
    frame([192, 0, 2, host], port, SERVER, dport, None)
}

/// Insert `iters` new UDP flows, timing only `process`; with `events`,
/// state events go to a bounded channel a second thread drains, as the
/// pfsync batcher will.
fn new_flows(iters: u64, events: bool) -> std::time::Duration {
    // A fresh table big enough for every flow of this sample, so each
    // packet is evaluated and inserts a state.
    let rules = format!(
        "set limit states {}\nblock all\npass out proto udp\n",
        iters + 16
    );
    let eng = engine(&rules);
    let consumer = events.then(|| {
        let (tx, rx) = crossbeam_channel::bounded(65_536);
        eng.states().set_events(Some(tx));
        std::thread::spawn(move || rx.iter().count())
    });
    let mut w = eng.worker();
    let mut total = std::time::Duration::ZERO;
    let mut done = 0u64;
    while done < iters {
        let n = (iters - done).min(65_536);
        let mut frames: Vec<Vec<u8>> = (done..done + n).map(flow).collect();
        let t = std::time::Instant::now();
        for f in &mut frames {
            let v = eng.process(
                &mut w,
                5,
                &mut Packet {
                    frame: f,
                    ifindex: 0,
                    dir: Dir::Out,
                },
            );
            black_box(v.state);
        }
        total += t.elapsed();
        done += n;
    }
    assert_eq!(eng.state_count() as u64, iters);
    eng.states().set_events(None);
    if let Some(c) = consumer {
        let _ = c.join();
    }
    total
}

fn bench_first_packet(c: &mut Criterion) {
    let mut g = c.benchmark_group("first_packet");
    g.throughput(Throughput::Elements(1));
    g.bench_function("udp_new_state", |b| {
        b.iter_custom(|iters| new_flows(iters, false))
    });
    g.bench_function("udp_new_state_with_events", |b| {
        b.iter_custom(|iters| new_flows(iters, true))
    });
    g.finish();
}

fn bench_synproxy_syn(c: &mut Criterion) {
    let mut g = c.benchmark_group("synproxy_syn");
    g.throughput(Throughput::Elements(1));
    g.bench_function("syn_answered", |b| {
        b.iter_custom(|iters| {
            let rules = format!(
                "set limit states {}\nblock all\npass in proto tcp to port 80 synproxy state\n",
                iters + 16
            );
            let eng = engine(&rules);
            let mut w = eng.worker();
            let mut total = std::time::Duration::ZERO;
            let mut done = 0u64;
            while done < iters {
                let n = (iters - done).min(65_536);
                let mut frames: Vec<Vec<u8>> = (done..done + n)
                    .map(|i| {
                        let (c, p) = client(i as u32);
                        frame(c, p, SERVER, 80, Some((0x02, 1000, 0)))
                    })
                    .collect();
                let t = std::time::Instant::now();
                for f in &mut frames {
                    let v = eng.process(
                        &mut w,
                        5,
                        &mut Packet {
                            frame: f,
                            ifindex: 0,
                            dir: Dir::In,
                        },
                    );
                    black_box(v.emit.len());
                }
                total += t.elapsed();
                done += n;
            }
            total
        })
    });
    g.finish();
}

fn bench_syncookie_syn(c: &mut Criterion) {
    let mut g = c.benchmark_group("syncookie_syn");
    g.throughput(Throughput::Elements(1));
    let eng = engine("set syncookies always\nblock all\npass in proto tcp to port 80\n");
    let frames: Vec<Vec<u8>> = (0..1u32 << 16)
        .map(|i| {
            let (c, p) = client(i);
            frame(c, p, SERVER, 80, Some((0x02, 1000, 0)))
        })
        .collect();
    let mut w = eng.worker();
    let mut i = 0usize;
    let mut scratch = Vec::with_capacity(128);
    g.bench_function("cookie_answered", |b| {
        b.iter(|| {
            i = (i + 1) & (frames.len() - 1);
            scratch.clear();
            scratch.extend_from_slice(&frames[i]);
            let v = eng.process(
                &mut w,
                5,
                &mut Packet {
                    frame: &mut scratch,
                    ifindex: 0,
                    dir: Dir::In,
                },
            );
            black_box(v.emit.len())
        })
    });
    assert_eq!(eng.state_count(), 0, "cookies keep no state");
    g.finish();
}

criterion_group!(
    benches,
    bench_established,
    bench_first_packet,
    bench_synproxy_syn,
    bench_syncookie_syn
);
criterion_main!(benches);
