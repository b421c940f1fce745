//! First-packet rule evaluation (no state yet: the whole ruleset is
//! consulted) over the generated border ruleset of 10, 1,000 and 10,000
//! rules: pfd's fast path (skip steps plus classifier), skip steps
//! alone (pf's algorithm), and the plain linear scan the fast path is
//! held equal to. Figures: BENCHMARKS.md.
//!
//! The packets are drawn from the same address pools, ports and
//! interfaces as the rules, so they hit rules at every depth of the
//! ruleset as well as fall through to the end.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use dataplane::eval::{evaluate, evaluate_linear, EvalCtx, EvalWorker, NoEnv, RuleEngine, RuleRef};
use dataplane::pdesc::{addr_key, proto, tcp_flags, Dir, Pdesc, TcpInfo};
use pfd_benches::rng::Rng;
use pfd_benches::{parse_config, rules, SEED};
use ruleset::addr::Af;
use ruleset::compile::{Compiled, IfId, RulesetId};
use ruleset::hostenv::RegressHost;

const PACKETS: usize = 512;

/// The generator's address pools (see `rules.rs`), plus addresses no
/// rule names.
const V4_POOLS: [([u8; 4], u8); 8] = [
    ([198, 51, 100, 0], 24),
    ([203, 0, 113, 0], 24),
    ([192, 0, 2, 0], 24),
    ([10, 0, 0, 0], 8),
    ([172, 16, 0, 0], 12),
    ([192, 168, 0, 0], 16),
    ([100, 64, 0, 0], 10),
    ([8, 8, 0, 0], 16),
];
const PORTS: [u16; 14] = [
    22, 25, 53, 80, 110, 123, 143, 443, 465, 587, 993, 3306, 5432, 8080,
];

fn compile(n: usize) -> Arc<Compiled> {
    let text = rules::generate(SEED, n).pf_conf.into_bytes();
    let env = RegressHost::new();
    let p = ruleset::parse::parse("pf.conf", text, &parse_config(&env));
    assert_eq!(p.errors, 0, "generated ruleset does not parse");
    Arc::new(ruleset::compile::compile(&p).expect("generated ruleset compiles"))
}

fn v4(rng: &mut Rng) -> IpAddr {
    let (base, len) = *rng.pick(&V4_POOLS);
    let host = rng.next_u64() as u32 & (u32::MAX >> len);
    IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::from(base)) | host))
}

fn v6(rng: &mut Rng) -> IpAddr {
    let low = u128::from(rng.next_u64()) | (u128::from(rng.next_u64() as u32) << 64);
    IpAddr::V6(Ipv6Addr::from((0x2001_0db8_u128 << 96) | low))
}

/// A first packet: a TCP SYN, a UDP datagram or an ICMP echo request,
/// with its interface and direction.
fn packet(rng: &mut Rng, c: &Compiled) -> (Pdesc, Option<IfId>, Dir) {
    let is_v6 = rng.chance(25);
    let (src, dst) = if is_v6 {
        (v6(rng), v6(rng))
    } else {
        (v4(rng), v4(rng))
    };
    let pr = match rng.below(100) {
        0..=59 => proto::TCP,
        60..=89 => proto::UDP,
        _ if is_v6 => proto::ICMPV6,
        _ => proto::ICMP,
    };
    let icmp = pr == proto::ICMP || pr == proto::ICMPV6;
    let dport = if icmp {
        0
    } else if rng.chance(70) {
        *rng.pick(&PORTS)
    } else {
        rng.range(1024, 65535) as u16
    };
    let pd = Pdesc {
        af: if is_v6 { Af::Inet6 } else { Af::Inet },
        proto: pr,
        src: addr_key(src),
        dst: addr_key(dst),
        sport: if icmp {
            0
        } else {
            rng.range(1024, 65535) as u16
        },
        dport,
        tos: 0,
        ttl: 64,
        l3_off: 14,
        l4_off: 34,
        ip_len: 60,
        vlan: None,
        fragment: false,
        ip_opts: false,
        icmp_type: icmp.then_some(if is_v6 { 128 } else { 8 }),
        icmp_code: icmp.then_some(0),
        tcp: (pr == proto::TCP).then_some(TcpInfo {
            flags: tcp_flags::SYN,
            hdr_len: 20,
            ..TcpInfo::default()
        }),
        icmp_inner: None,
    };
    let ifname = if rng.chance(60) {
        rng.pick(&["em0", "em1", "em2"]).to_string()
    } else {
        format!("vlan{}", rng.range(100, 131))
    };
    let dir = if rng.chance(50) { Dir::In } else { Dir::Out };
    (pd, c.if_id(&ifname), dir)
}

fn eval_first_packet(c: &mut Criterion) {
    let mut g = c.benchmark_group("eval");
    for n in [10usize, 1_000, 10_000] {
        let compiled = compile(n);
        let eng = RuleEngine::new(compiled.clone());
        let mut rng = Rng::new(SEED ^ n as u64);
        let pkts: Vec<_> = (0..PACKETS).map(|_| packet(&mut rng, &compiled)).collect();
        let ctx = |ifp, dir| EvalCtx {
            ifp,
            dir,
            rdomain: 0,
            tag: None,
            rand: 1,
            env: &NoEnv,
        };
        // Outside the timing: both evaluators agree on every packet, and
        // how many rules each tests per packet.
        let (mut wf, mut wl) = (EvalWorker::new(&eng), EvalWorker::new(&eng));
        let mut decided = 0;
        for (pd, ifp, dir) in &pkts {
            let a = evaluate(&eng, &ctx(*ifp, *dir), pd, &mut wf);
            let b = evaluate_linear(&eng, &ctx(*ifp, *dir), pd, &mut wl);
            assert_eq!(a, b, "fast and linear evaluation differ");
            decided += usize::from(a.rule.is_some());
        }
        let tested = |w: &EvalWorker| -> u64 {
            (0..compiled.rulesets.len())
                .flat_map(|rs| {
                    let len = compiled.rulesets[rs].rules.len() as u32;
                    (0..len).map(move |index| RuleRef {
                        ruleset: RulesetId(rs as u32),
                        index,
                    })
                })
                .map(|r| w.counters(r).evaluations)
                .sum()
        };
        eprintln!(
            "eval/{n}: {decided} of {PACKETS} packets decided by a rule; rules tested per packet: fast {:.1}, linear {:.1}",
            tested(&wf) as f64 / PACKETS as f64,
            tested(&wl) as f64 / PACKETS as f64,
        );
        let mut w = wf;

        g.throughput(Throughput::Elements(PACKETS as u64));
        g.bench_function(format!("fast/{n}_rules"), |b| {
            b.iter(|| {
                for (pd, ifp, dir) in &pkts {
                    black_box(evaluate(&eng, &ctx(*ifp, *dir), pd, &mut w));
                }
            })
        });
        // pf's own algorithm: skip steps without the classifier.
        let pf_like = RuleEngine::with_classify_min(compiled.clone(), usize::MAX);
        let mut wp = EvalWorker::new(&pf_like);
        g.bench_function(format!("skip_steps/{n}_rules"), |b| {
            b.iter(|| {
                for (pd, ifp, dir) in &pkts {
                    black_box(evaluate(&pf_like, &ctx(*ifp, *dir), pd, &mut wp));
                }
            })
        });
        g.bench_function(format!("linear/{n}_rules"), |b| {
            b.iter(|| {
                for (pd, ifp, dir) in &pkts {
                    black_box(evaluate_linear(&eng, &ctx(*ifp, *dir), pd, &mut w));
                }
            })
        });
    }
    g.finish();
}

/// Packets no rule matches (GRE, which the ruleset never names): the
/// linear scan reads every rule, the fast path rules out all at once.
fn eval_no_match(c: &mut Criterion) {
    let compiled = compile(10_000);
    let eng = RuleEngine::new(compiled.clone());
    let mut rng = Rng::new(SEED);
    let pkts: Vec<_> = (0..PACKETS)
        .map(|_| {
            let (mut pd, ifp, dir) = packet(&mut rng, &compiled);
            pd.proto = 47;
            pd.tcp = None;
            pd.icmp_type = None;
            pd.icmp_code = None;
            (pd, ifp, dir)
        })
        .collect();
    let ctx = |ifp, dir| EvalCtx {
        ifp,
        dir,
        rdomain: 0,
        tag: None,
        rand: 1,
        env: &NoEnv,
    };
    let mut w = EvalWorker::new(&eng);
    for (pd, ifp, dir) in &pkts {
        let r = evaluate(&eng, &ctx(*ifp, *dir), pd, &mut w);
        assert_eq!(r, evaluate_linear(&eng, &ctx(*ifp, *dir), pd, &mut w));
        assert_eq!(r.rule, None, "a GRE packet matched a rule");
    }
    let mut g = c.benchmark_group("eval");
    g.throughput(Throughput::Elements(PACKETS as u64));
    g.bench_function("fast_no_match/10000_rules", |b| {
        b.iter(|| {
            for (pd, ifp, dir) in &pkts {
                black_box(evaluate(&eng, &ctx(*ifp, *dir), pd, &mut w));
            }
        })
    });
    g.bench_function("linear_no_match/10000_rules", |b| {
        b.iter(|| {
            for (pd, ifp, dir) in &pkts {
                black_box(evaluate_linear(&eng, &ctx(*ifp, *dir), pd, &mut w));
            }
        })
    });
    g.finish();
}

/// Building the fast path's classifiers on reload.
fn engine_build(c: &mut Criterion) {
    let compiled = compile(10_000);
    let mut g = c.benchmark_group("eval");
    g.bench_function("engine_build/10000_rules", |b| {
        b.iter(|| black_box(RuleEngine::new(compiled.clone())))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = eval_first_packet, eval_no_match, engine_build
}
criterion_main!(benches);
