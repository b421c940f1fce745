//! State table figures: lookup + track of established TCP states in a
//! table of 1,000,000, inserts per second, bytes per state, and the
//! lookup rate with one and two threads against 1 and 64 shards.
//!
//! `cargo bench -p dataplane --bench state`
//!
//! Bytes per state are counted by a global allocator that tallies live
//! heap bytes; it needs `unsafe` (the `GlobalAlloc` trait is unsafe to
//! implement), which is why this bench allows it.
#![allow(unsafe_code)]

use criterion::{criterion_group, criterion_main, Criterion};
use dataplane::key::StateKey;
use dataplane::pdesc::{proto, tcp_flags as F, AddrKey, Dir, Pdesc, TcpInfo};
use dataplane::state::{ImportState, NewState, Peer, StateConfig, StateTable, SyncId};
use ruleset::addr::Af;
use ruleset::rule::{PFTM_ADAPTIVE_END, PFTM_ADAPTIVE_START, PFTM_MAX};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call forwards to the system allocator with the caller's
// arguments unchanged; the counter is only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: same contract as ours, forwarded.
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            LIVE.fetch_add(l.size(), Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: `p` came from `alloc`/`realloc` above with layout `l`.
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Relaxed);
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            LIVE.fetch_add(new, Relaxed);
            LIVE.fetch_sub(l.size(), Relaxed);
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const N: u32 = 1_000_000;
const ISN_C: u32 = 1000;
const ISN_S: u32 = 70_000;
const SEC: u64 = 1_000_000_000;

fn addr(i: u32) -> AddrKey {
    u128::from(0x0a00_0000 | (i >> 8)) << 96
}

/// Flow `i`: 10.x.y.z:(1024 + i % 256) -> 192.0.2.80:443.
fn seg(i: u32, from_client: bool, flags: u8, seq: u32, ack: u32) -> Pdesc {
    let (c, s) = (addr(i), u128::from(0xc000_0250u32) << 96);
    let cport = 1024 + (i & 0xff) as u16;
    let (src, sport, dst, dport) = if from_client {
        (c, cport, s, 443)
    } else {
        (s, 443, c, cport)
    };
    Pdesc {
        af: Af::Inet,
        proto: proto::TCP,
        src,
        dst,
        sport,
        dport,
        tos: 0,
        ttl: 64,
        l3_off: 14,
        l4_off: 34,
        ip_len: 52,
        vlan: None,
        fragment: false,
        ip_opts: false,
        icmp_type: None,
        icmp_code: None,
        tcp: Some(TcpInfo {
            seq,
            ack,
            win: 65535,
            flags,
            hdr_len: 32,
            data_len: 0,
            wscale: (flags & F::SYN != 0).then_some(7),
            mss: None,
            ts: None,
        }),
        icmp_inner: None,
    }
}

fn new_state(i: u32, pd: &Pdesc, nat: bool) -> NewState {
    let stack = StateKey::from_pdesc(pd, Dir::Out, 0);
    let mut wire = stack;
    if nat {
        // source-translated to 198.51.x.y, a port of its own per flow
        wire.addr[1] = u128::from(0xc633_0000 | (i >> 16)) << 96;
        wire.port[1] = i as u16;
    }
    NewState {
        wire,
        stack,
        dir: Dir::Out,
        rule: (0, 1),
        timeouts: [0; PFTM_MAX],
        max_states_rule: 0,
        if_bound: None,
        sloppy: false,
        modulate: false,
        translated: nat,
        src_track: None,
        release_tag: 0,
        scrub: Default::default(),
        no_sync: false,
        allow_opts: false,
        pd: *pd,
    }
}

fn table(shards: usize) -> StateTable {
    let limit = 4 * N;
    let mut timeouts = ruleset::ruleset::DEFAULT_TIMEOUTS;
    // what pfctl derives from `set limit states` (60% / 120%)
    timeouts[PFTM_ADAPTIVE_START] = limit / 10 * 6;
    timeouts[PFTM_ADAPTIVE_END] = limit / 10 * 12;
    StateTable::new(StateConfig {
        limit,
        timeouts,
        shards,
        ..StateConfig::default()
    })
}

/// A table of `n` established connections.
fn established(n: u32, shards: usize) -> StateTable {
    let t = table(shards);
    for i in 0..n {
        let syn = seg(i, true, F::SYN, ISN_C, 0);
        t.insert(new_state(i, &syn, false), 0).expect("insert");
        for (fc, fl, seq, ack) in [
            (false, F::SYN | F::ACK, ISN_S, ISN_C + 1),
            (true, F::ACK, ISN_C + 1, ISN_S + 1),
        ] {
            let p = seg(i, fc, fl, seq, ack);
            let dir = if fc { Dir::Out } else { Dir::In };
            let k = StateKey::from_pdesc(&p, dir, 0);
            assert!(matches!(t.test(&k, &p, dir, 1, SEC, 52), Some(Ok(_))));
        }
    }
    t
}

/// One ACK of flow `i` through the table.
fn track(t: &StateTable, i: u32) -> bool {
    let from_client = i & 1 == 0;
    let p = if from_client {
        seg(i, true, F::ACK, ISN_C + 1, ISN_S + 1)
    } else {
        seg(i, false, F::ACK, ISN_S + 1, ISN_C + 1)
    };
    let dir = if from_client { Dir::Out } else { Dir::In };
    let k = StateKey::from_pdesc(&p, dir, 0);
    matches!(t.test(&k, &p, dir, 1, 2 * SEC, 52), Some(Ok(_)))
}

/// Flow order that defeats the caches the way real traffic does.
fn scatter(i: u64) -> u32 {
    scatter_in(i, N)
}

fn scatter_in(i: u64, n: u32) -> u32 {
    (i.wrapping_mul(0x9e37_79b9) % u64::from(n)) as u32
}

fn bytes_per_state(n: u32, nat: bool) -> f64 {
    let before = LIVE.load(Relaxed);
    let t = table(64);
    for i in 0..n {
        let syn = seg(i, true, F::SYN, ISN_C, 0);
        t.insert(new_state(i, &syn, nat), 0).expect("insert");
    }
    let after = LIVE.load(Relaxed);
    assert_eq!(t.len(), n as usize);
    (after - before) as f64 / f64::from(n)
}

/// The same for states imported from a pfsync peer: they keep the
/// peer's identity in side maps (by identity, and by slot).
fn bytes_per_imported_state(n: u32) -> f64 {
    let before = LIVE.load(Relaxed);
    let t = table(64);
    for i in 0..n {
        let syn = seg(i, true, F::SYN, ISN_C, 0);
        let k = StateKey::from_pdesc(&syn, Dir::Out, 0);
        let imp = ImportState {
            sync: SyncId {
                id: u64::from(i),
                creator: 0xbeef,
            },
            wire: k,
            stack: k,
            dir: Dir::Out,
            src: Peer::default(),
            dst: Peer::default(),
            timeout: 2,
            creation: 0,
            expire: 0,
            packets: [0; 2],
            bytes: [0; 2],
            if_bound: None,
            sloppy: false,
            no_sync: false,
            allow_opts: false,
            scrub: Default::default(),
        };
        t.import(&imp, 0).expect("import");
    }
    let after = LIVE.load(Relaxed);
    assert_eq!(t.len(), n as usize);
    (after - before) as f64 / f64::from(n)
}

/// Lookups per second with `threads` threads hammering one table.
fn rate(t: &StateTable, threads: u32) -> f64 {
    let per = 2_000_000u64;
    let start = Instant::now();
    std::thread::scope(|s| {
        for th in 0..threads {
            s.spawn(move || {
                let mut ok = 0u64;
                for i in 0..per {
                    ok += u64::from(track(t, scatter(i * u64::from(threads) + u64::from(th))));
                }
                assert_eq!(ok, per);
            });
        }
    });
    (per * u64::from(threads)) as f64 / start.elapsed().as_secs_f64()
}

fn bench(c: &mut Criterion) {
    println!(
        "bytes per state at {N} states: {:.1} (untranslated), {:.1} (translated)",
        bytes_per_state(N, false),
        bytes_per_state(N, true)
    );
    println!(
        "bytes per state at {N} states imported from a pfsync peer (untranslated): {:.1}",
        bytes_per_imported_state(N)
    );

    let t = established(N, 64);
    println!("table of {} established TCP states built", t.len());
    for shards in [1, 64] {
        let tt = if shards == 64 {
            None
        } else {
            Some(established(N, shards))
        };
        let tab = tt.as_ref().unwrap_or(&t);
        let one = rate(tab, 1);
        let two = rate(tab, 2);
        println!(
            "{shards:>2} shard(s): {:.2} Mpps 1 thread, {:.2} Mpps 2 threads",
            one / 1e6,
            two / 1e6
        );
    }

    let mut g = c.benchmark_group("state");
    g.measurement_time(Duration::from_secs(5));
    let mut i = 0u64;
    g.bench_function("track_established_1M", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            black_box(track(&t, scatter(i)))
        })
    });
    // the same work on a table that fits in the caches: the compute floor
    let small = established(10_000, 64);
    g.bench_function("track_established_10k", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            black_box(track(&small, scatter_in(i, 10_000)))
        })
    });
    g.bench_function("insert", |b| {
        b.iter_custom(|iters| {
            let fresh = table(64);
            let n = iters.min(u64::from(4 * N - 1)) as u32;
            let start = Instant::now();
            for i in 0..n {
                let syn = seg(i, true, F::SYN, ISN_C, 0);
                black_box(fresh.insert(new_state(i, &syn, false), 0).is_ok());
            }
            let e = start.elapsed();
            e.mul_f64(iters as f64 / f64::from(n.max(1)))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
