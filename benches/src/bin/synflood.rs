//! A SYN flood for the lab (`benches/synflood.sh`): bare SYNs to one
//! server port, each from a new source address and port drawn from a
//! /24 (a documentation network in the lab), written straight to an
//! interface's AF_PACKET transmit ring as Ethernet frames.
//!
//! ```text
//! synflood IFACE DST_MAC DST_IP DPORT SRC_NET_/24 RATE SECONDS
//! ```
//!
//! `RATE` SYNs per second (0: as fast as the ring takes them), for
//! `SECONDS`. The last line printed is `sent N in S s (P/s), ring full
//! F` : what left, and how often the ring had no room.

use dataplane::port::afpacket::{AfPacketCfg, AfPacketPort};
use dataplane::port::{Port, TxBatch};
use dataplane::wire::build::{ethernet_wrap, tcp_segment, TcpSegment};
use ruleset::addr::Af;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

fn usage() -> ! {
    eprintln!("usage: synflood IFACE DST_MAC DST_IP DPORT SRC_NET_/24 RATE SECONDS");
    std::process::exit(2);
}

fn mac(s: &str) -> Option<[u8; 6]> {
    let v: Vec<u8> = s
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).ok())
        .collect::<Option<_>>()?;
    v.try_into().ok()
}

/// xorshift64*: cheap, and enough to spread sources and sequence numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() != 7 {
        usage();
    }
    let dst_mac = mac(&a[1]).unwrap_or_else(|| usage());
    let dst: Ipv4Addr = a[2].parse().unwrap_or_else(|_| usage());
    let dport: u16 = a[3].parse().unwrap_or_else(|_| usage());
    let net: Ipv4Addr = a[4]
        .trim_end_matches("/24")
        .parse()
        .unwrap_or_else(|_| usage());
    let rate: u64 = a[5].parse().unwrap_or_else(|_| usage());
    let secs: u64 = a[6].parse().unwrap_or_else(|_| usage());
    let cfg = AfPacketCfg {
        rx_block_nr: 2,
        ..AfPacketCfg::default()
    };
    let mut port = AfPacketPort::open(&a[0], &cfg).unwrap_or_else(|e| {
        eprintln!("synflood: {e}");
        std::process::exit(1);
    });
    let src_mac = port.mac();
    let base = u32::from(net) & 0xffff_ff00;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id()));
    let mut batch = TxBatch::new(64, 128);
    let (mut sent, mut full) = (0u64, 0u64);
    let start = Instant::now();
    let end = start + Duration::from_secs(secs);
    while Instant::now() < end {
        // the SYNs due by now (all of a batch when unpaced)
        let due = if rate == 0 {
            sent + 64
        } else {
            rate * start.elapsed().as_micros() as u64 / 1_000_000
        };
        while sent + (batch.len() as u64) < due && !batch.is_full() {
            let r = rng.next();
            // host part 1..=254 of the /24, ports above 1023
            let host = 1 + (r % 254) as u32;
            let seg = TcpSegment {
                af: Af::Inet,
                src: u128::from(base | host) << 96,
                dst: u128::from(u32::from(dst)) << 96,
                sport: 1024 + ((r >> 8) % 64512) as u16,
                dport,
                seq: (r >> 32) as u32,
                ack: 0,
                flags: 0x02,
                win: 64240,
                mss: Some(1460),
                ttl: 64,
            };
            let frame = ethernet_wrap(&tcp_segment(&seg), src_mac, dst_mac, None);
            batch.push(&frame);
        }
        if batch.is_empty() {
            std::thread::sleep(Duration::from_micros(200));
            continue;
        }
        let before = batch.len();
        match port.tx_burst(&mut batch) {
            Ok(n) => {
                sent += n as u64;
                if n < before {
                    full += 1;
                    std::thread::yield_now();
                }
            }
            Err(e) => {
                eprintln!("synflood: send: {e}");
                std::process::exit(1);
            }
        }
    }
    let t = start.elapsed().as_secs_f64();
    println!(
        "sent {sent} in {t:.1} s ({:.0}/s), ring full {full}",
        sent as f64 / t
    );
}
