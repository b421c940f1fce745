//! The established fast path in isolation, for instruction counts:
//! `valgrind --tool=callgrind --toggle-collect=engine_profile::hot
//! target/release/examples/engine_profile [nat] [STATES] [PACKETS]`
//! gives the instructions per packet (total / PACKETS) without setup.

use dataplane::engine::{Action, Engine, Packet};
use dataplane::pdesc::Dir;
use std::hint::black_box;

#[path = "../benches/support/engine_lab.rs"]
mod engine_lab;
use engine_lab::{engine, open, ring};

#[inline(never)]
fn hot(eng: &Engine, ring: &[[u8; 64]], packets: usize) -> usize {
    let mut w = eng.worker();
    let mut scratch = Vec::with_capacity(128);
    let mut passed = 0;
    for i in 0..packets {
        scratch.clear();
        scratch.extend_from_slice(&ring[i & (ring.len() - 1)]);
        let v = eng.process(
            &mut w,
            4,
            &mut Packet {
                frame: &mut scratch,
                ifindex: 0,
                dir: Dir::Out,
            },
        );
        passed += usize::from(black_box(v.action) == Action::Pass);
    }
    passed
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let nat = args.iter().any(|a| a == "nat");
    let nums: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let states = nums.first().copied().unwrap_or(1000) as u32;
    let packets = nums.get(1).copied().unwrap_or(100_000);
    let rules = if nat {
        "block all\npass out on em0 proto tcp from 192.0.2.0/24 nat-to 198.51.100.0/24 round-robin\n"
    } else {
        "block all\npass out proto tcp\n"
    };
    let eng = engine(rules);
    let frames = open(&eng, states);
    let ring = ring(&frames, 1 << 16);
    let t = std::time::Instant::now();
    let passed = hot(&eng, &ring, packets);
    let el = t.elapsed();
    assert_eq!(passed, packets);
    println!(
        "{packets} packets over {states} states{}: {:.1} ns/packet",
        if nat { " (nat)" } else { "" },
        el.as_nanos() as f64 / packets as f64
    );
}
