//! The engine lab shared by `benches/engine.rs` and
//! `examples/engine_profile.rs`: an engine from a pf.conf string, 64-byte
//! frames, established connections, a receive ring of their packets.
//! Each includes it with `#[path]`; not every user calls every item.
#![allow(dead_code)]

use dataplane::engine::{Action, Engine, EngineConfig, IfConfig, Packet, StateOutcome};
use dataplane::pdesc::Dir;
use dataplane::wire::checksum::{combine, finish, pseudo_v4, sum};
use dataplane::wire::frame::Link;
use ruleset::hostenv::RegressHost;
use ruleset::lexer::FsSource;
use ruleset::parse::{parse, ParseConfig};

pub fn engine(rules: &str) -> Engine {
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
pub fn frame(
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

pub fn client(i: u32) -> ([u8; 4], u16) {
    let host = 10 + (i / 50_000);
    ([192, 0, 2, host as u8], 10_000 + (i % 50_000) as u16)
}

pub const SERVER: [u8; 4] = [203, 0, 113, 5];

/// Open `n` connections (SYN, SYN-ACK, ACK) and return the frames of one
/// data packet per connection, outbound.
pub fn open(eng: &Engine, n: u32) -> Vec<Vec<u8>> {
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
pub fn ring(frames: &[Vec<u8>], len: usize) -> Vec<[u8; 64]> {
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
