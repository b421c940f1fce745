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
//!   evaluated, inserting a state and answered with a built SYN|ACK.
//!
//! `cargo bench -p dataplane --bench engine`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dataplane::engine::{Action, Engine, EngineConfig, IfConfig, Packet, StateOutcome};
use dataplane::pdesc::Dir;
use dataplane::wire::checksum::{combine, finish, pseudo_v4, sum};
use dataplane::wire::frame::Link;
use ruleset::hostenv::RegressHost;
use ruleset::lexer::FsSource;
use ruleset::parse::{parse, ParseConfig};
use std::hint::black_box;

fn engine(rules: &str) -> Engine {
    let env = RegressHost::new();
    let cfg = ParseConfig {
        env: &env,
        files: &FsSource,
        anchor: String::new(),
        macros: Vec::new(),
        queues: Vec::new(),
    };
    let p = parse("bench", rules.as_bytes().to_vec(), &cfg);
    assert_eq!(p.errors, 0, "{:?}", p.stderr);
    let c = ruleset::compile::compile(&p).expect("compiles");
    Engine::new(
        c,
        EngineConfig {
            interfaces: vec![IfConfig {
                name: "em0".into(),
                addrs: vec![],
                groups: Vec::new(),
            }],
            link: Link::Ethernet,
            seed: 7,
        },
    )
    .expect("loads")
}

/// A 64-byte Ethernet/IPv4/TCP or UDP frame.
fn frame(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    tcp: Option<(u8, u32, u32)>,
) -> Vec<u8> {
    let mut l4 = Vec::new();
    l4.extend_from_slice(&sport.to_be_bytes());
    l4.extend_from_slice(&dport.to_be_bytes());
    let proto = match tcp {
        Some((flags, seq, ack)) => {
            l4.extend_from_slice(&seq.to_be_bytes());
            l4.extend_from_slice(&ack.to_be_bytes());
            l4.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
            6
        }
        None => {
            l4.extend_from_slice(&[0, 8 + 18, 0, 0]);
            l4.extend_from_slice(&[0x55; 18]);
            17
        }
    };
    let ck_at = if proto == 6 { 16 } else { 6 };
    let ck = finish(combine(&[
        pseudo_v4(src, dst, proto, l4.len() as u16),
        sum(&l4),
    ]));
    l4[ck_at..ck_at + 2].copy_from_slice(&ck.to_be_bytes());
    let mut ip = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0];
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let tl = (20 + l4.len()) as u16;
    ip[2..4].copy_from_slice(&tl.to_be_bytes());
    let ck = finish(sum(&ip));
    ip[10..12].copy_from_slice(&ck.to_be_bytes());
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0xfe, 8, 0];
    f.extend_from_slice(&ip);
    f.extend_from_slice(&l4);
    f.resize(f.len().max(64), 0);
    f
}

fn client(i: u32) -> ([u8; 4], u16) {
    let host = 10 + (i / 50_000);
    ([192, 0, 2, host as u8], 10_000 + (i % 50_000) as u16)
}

const SERVER: [u8; 4] = [203, 0, 113, 5];

/// Open `n` connections (SYN, SYN-ACK, ACK) and return the frames of one
/// data packet per connection, outbound.
fn open(eng: &Engine, n: u32) -> Vec<Vec<u8>> {
    let mut w = eng.worker();
    let mut data = Vec::with_capacity(n as usize);
    for i in 0..n {
        let (c, p) = client(i);
        let mut syn = frame(c, p, SERVER, 80, Some((0x02, 1000, 0)));
        let v = eng.process(
            &mut w,
            1,
            &mut Packet {
                frame: &mut syn,
                ifindex: 0,
                dir: Dir::Out,
            },
        );
        assert_eq!(v.state, StateOutcome::New, "{v:?}");
        let (nsrc, nport) = match v.nat {
            Some(n) => {
                let ip = n.src.ip();
                let std::net::IpAddr::V4(v4) = ip else {
                    unreachable!()
                };
                (v4.octets(), n.src.port)
            }
            None => (c, p),
        };
        let mut synack = frame(SERVER, 80, nsrc, nport, Some((0x12, 5000, 1001)));
        let v = eng.process(
            &mut w,
            2,
            &mut Packet {
                frame: &mut synack,
                ifindex: 0,
                dir: Dir::In,
            },
        );
        assert_eq!(v.action, Action::Pass);
        let mut ack = frame(c, p, SERVER, 80, Some((0x10, 1001, 5001)));
        let v = eng.process(
            &mut w,
            3,
            &mut Packet {
                frame: &mut ack,
                ifindex: 0,
                dir: Dir::Out,
            },
        );
        assert_eq!(v.action, Action::Pass);
        data.push(frame(c, p, SERVER, 80, Some((0x10, 1001, 5001))));
    }
    data
}

/// Frames laid out one after another, as a receive ring holds them,
/// in a shuffled flow order: the packet bytes stream in (as DMA'd
/// packets do), the state each one needs does not.
fn ring(frames: &[Vec<u8>], len: usize) -> Vec<[u8; 64]> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = &frames[(x % frames.len() as u64) as usize];
            let mut b = [0u8; 64];
            b.copy_from_slice(&f[..64]);
            b
        })
        .collect()
}

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

criterion_group!(
    benches,
    bench_established,
    bench_first_packet,
    bench_synproxy_syn
);
criterion_main!(benches);
