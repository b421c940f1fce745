//! Lab measurement, not a test of correctness (ignored by default; the
//! figure goes in a report, never into an assertion): frames bounce
//! between the two ends of a veth pair in a namespace, one worker
//! receiving each burst on one end and sending it back out of the same
//! end, so every frame crosses rx_burst and tx_burst once per hop.
//!
//!   cargo test --release -p dataplane --test lab_bounce -- --ignored --nocapture
//!
//! Knobs (environment): PFD_BOUNCE_SECS (3), PFD_BOUNCE_INFLIGHT (1024
//! frames), PFD_BOUNCE_LEN (64 bytes), PFD_BOUNCE_CORE (unpinned),
//! PFD_BOUNCE_BUSY_US (50), PFD_BOUNCE_BLOCK (receive block bytes,
//! 131072), PFD_BOUNCE_ENGINE (0; 1: frames are IPv4 UDP in 64 flows
//! and each hop runs `Engine::process` inbound with `pass all`, so the
//! figure includes the per-packet engine and a state lookup).

mod netns;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use dataplane::engine::{Action, Engine, EngineConfig, IfConfig, Packet};
use dataplane::pdesc::Dir;
use dataplane::port::afpacket::sys::enter_netns;
use dataplane::port::{AfPacketCfg, AfPacketPort, Port, TxBatch};
use dataplane::wire::checksum;
use dataplane::wire::frame::Link;
use dataplane::worker::{self, Fate, FrameCtx, WorkerCfg};
use netns::{can_run, Ns};
use ruleset::hostenv::RegressHost;
use ruleset::lexer::FsSource;
use ruleset::parse::{parse, ParseConfig};

fn engine() -> Engine {
    let env = RegressHost::new();
    let cfg = ParseConfig {
        env: &env,
        files: &FsSource,
        anchor: String::new(),
        macros: Vec::new(),
        queues: Vec::new(),
    };
    let p = parse("bounce", b"pass all\n".to_vec(), &cfg);
    assert_eq!(p.errors, 0, "{:?}", p.stderr);
    let c = ruleset::compile::compile(&p).expect("compiles");
    let iface = |name: &str| IfConfig {
        name: name.into(),
        addrs: Vec::new(),
        groups: Vec::new(),
    };
    Engine::new(
        c,
        EngineConfig {
            interfaces: vec![iface("pa"), iface("pb")],
            link: Link::Ethernet,
            seed: 1,
        },
    )
    .expect("loads")
}

/// IPv4 UDP 192.0.2.1:`sport` -> 198.51.100.1:9, `len` bytes in all.
fn udp_frame(dst: [u8; 6], src: [u8; 6], sport: u16, len: usize) -> Vec<u8> {
    let len = len.max(42);
    let mut f = Vec::with_capacity(len);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&0x0800u16.to_be_bytes());
    let ip_len = (len - 14) as u16;
    let mut ip = [
        0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 1,
    ];
    ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
    let c = checksum::finish(checksum::sum(&ip));
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&9u16.to_be_bytes());
    f.extend_from_slice(&(ip_len - 20).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.resize(len, 0x75);
    f
}

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
#[ignore = "lab measurement: run with --ignored --nocapture"]
fn lab_bounce_pps() {
    if !can_run("lab_bounce_pps") {
        return;
    }
    let secs = knob("PFD_BOUNCE_SECS", 3);
    let inflight = knob("PFD_BOUNCE_INFLIGHT", 1024) as usize;
    let len = knob("PFD_BOUNCE_LEN", 64) as usize;
    let core = std::env::var("PFD_BOUNCE_CORE")
        .ok()
        .and_then(|v| v.parse().ok());
    let busy = knob("PFD_BOUNCE_BUSY_US", 50);
    let block = knob("PFD_BOUNCE_BLOCK", 1 << 17) as u32;
    let with_engine = knob("PFD_BOUNCE_ENGINE", 0) == 1;
    let eng = engine();
    let ns = Ns::new("bounce");
    ns.veth("pa", "pb");
    let stop = AtomicBool::new(false);
    let (stats, elapsed, kernel_drops) = std::thread::scope(|s| {
        let w = s.spawn(|| {
            enter_netns(&ns.path()).expect("setns");
            let cfg = AfPacketCfg {
                rx_block_size: block,
                rx_block_nr: (4 << 20) / block,
                tx_frame_nr: 4096,
                ..AfPacketCfg::default()
            };
            let mut ports = vec![
                AfPacketPort::open("pa", &cfg).expect("open pa"),
                AfPacketPort::open("pb", &cfg).expect("open pb"),
            ];
            let (ma, mb) = (ports[0].mac(), ports[1].mac());
            let mut seed = TxBatch::new(inflight, len);
            for n in 0..inflight as u32 {
                let f = if with_engine {
                    udp_frame(mb, ma, 1000 + (n % 64) as u16, len)
                } else {
                    let mut f = Vec::with_capacity(len);
                    f.extend_from_slice(&mb);
                    f.extend_from_slice(&ma);
                    f.extend_from_slice(&0x88b5u16.to_be_bytes());
                    f.extend_from_slice(&n.to_be_bytes());
                    f.resize(len.max(18), 0);
                    f
                };
                seed.push(&f);
            }
            let t = Instant::now();
            while !seed.is_empty() && t.elapsed() < Duration::from_secs(5) {
                ports[0].tx_burst(&mut seed).expect("seed");
            }
            let wcfg = WorkerCfg {
                busy_poll_us: busy,
                pin_core: core,
                burst: 64,
                tx_queue: 1024,
                ..WorkerCfg::default()
            };
            // A frame that arrived on one end leaves by the same end, so
            // it lands on the other: the pair plays ping-pong.
            let mut w = eng.worker();
            let bounce = |ctx: &mut FrameCtx<'_>| {
                if with_engine {
                    let mut pkt = Packet {
                        frame: &mut *ctx.frame,
                        ifindex: ctx.port,
                        dir: Dir::In,
                    };
                    if eng.process(&mut w, ctx.now_ns, &mut pkt).action != Action::Pass {
                        return Fate::Drop;
                    }
                }
                Fate::Forward(ctx.port)
            };
            let t = Instant::now();
            let st = worker::run(&mut ports, bounce, &wcfg, &stop).expect("worker");
            let el = t.elapsed();
            let mut drops = 0;
            for p in &mut ports {
                p.refresh_kernel_stats().expect("PACKET_STATISTICS");
                drops += p.stats().rx_ring_drops;
            }
            (st, el, drops)
        });
        std::thread::sleep(Duration::from_secs(secs));
        stop.store(true, Ordering::Relaxed);
        w.join().expect("worker thread")
    });
    let pps = stats.rx as f64 / elapsed.as_secs_f64();
    println!(
        "lab_bounce: engine {with_engine}, {len}-byte frames, {inflight} in flight, {block}-byte blocks, busy_poll {busy} us, core {core:?}: \
         {} rx / {} tx in {:.2} s = {:.0} frames/s through rx_burst+tx_burst \
         (dropped {}, tx_full {}, kernel ring drops {kernel_drops}, sleeps {})",
        stats.rx,
        stats.tx,
        elapsed.as_secs_f64(),
        pps,
        stats.dropped,
        stats.tx_full,
        stats.sleeps
    );
    assert!(stats.rx > 0, "no frame bounced: {stats:?}");
}
