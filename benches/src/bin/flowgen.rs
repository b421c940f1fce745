//! New flows at a steady rate, for the HA lab (`benches/ha-compare.sh`):
//! one UDP datagram per flow, each flow a new 5-tuple (a firewall makes
//! one state of each), and a log of when each was sent.
//!
//! ```text
//! flowgen DST RATE COUNT LOG [SPORT_BASE]
//! ```
//!
//! Flow `k` leaves from source port `SPORT_BASE + k / 64512` to
//! destination port `1024 + k % 64512` of `DST`; up to 1,000 source
//! ports, so 64.5 million distinct flows. The pace is kept per
//! millisecond: at each tick the flows due by then are sent. `LOG` gets a
//! line `unix_ns flows_sent` after every tick, the wall clock (the lab's
//! samplers in other namespaces read the same clock), then a last line
//! `# sent N of COUNT in S s, send errors E`.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const PORTS_PER_SOCKET: u64 = 65536 - 1024;

fn unix_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

fn usage() -> ! {
    eprintln!("usage: flowgen DST RATE COUNT LOG [SPORT_BASE]");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        usage();
    }
    let dst: Ipv4Addr = args[0].parse().unwrap_or_else(|_| usage());
    let rate: u64 = args[1].parse().unwrap_or_else(|_| usage());
    let count: u64 = args[2].parse().unwrap_or_else(|_| usage());
    let base: u16 = args
        .get(4)
        .map_or(Ok(20000), |s| s.parse())
        .unwrap_or_else(|_| usage());
    if rate == 0 || count.div_ceil(PORTS_PER_SOCKET) > 1000 {
        usage();
    }
    let mut log = std::io::BufWriter::new(std::fs::File::create(&args[3]).unwrap_or_else(|e| {
        eprintln!("flowgen: {}: {e}", args[3]);
        std::process::exit(1)
    }));
    let nsock = count.div_ceil(PORTS_PER_SOCKET) as u16;
    let socks: Vec<UdpSocket> = (0..nsock)
        .map(|i| {
            UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, base + i)).unwrap_or_else(
                |e| {
                    eprintln!("flowgen: bind port {}: {e}", base + i);
                    std::process::exit(1)
                },
            )
        })
        .collect();
    let payload = [0u8; 18];
    let start = Instant::now();
    let mut sent = 0u64;
    let mut errors = 0u64;
    let tick = Duration::from_millis(1);
    let mut next = start;
    while sent < count {
        let due = ((start.elapsed().as_nanos() * u128::from(rate)) / 1_000_000_000) as u64;
        let due = due.min(count);
        while sent < due {
            let s = &socks[(sent / PORTS_PER_SOCKET) as usize];
            let port = 1024 + (sent % PORTS_PER_SOCKET) as u16;
            if s.send_to(&payload, SocketAddrV4::new(dst, port)).is_err() {
                errors += 1;
            }
            sent += 1;
        }
        let _ = writeln!(log, "{} {sent}", unix_ns());
        next += tick;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
    }
    let _ = writeln!(
        log,
        "# sent {sent} of {count} in {:.3} s, send errors {errors}",
        start.elapsed().as_secs_f64()
    );
}
