//! Per-packet cost of the wire parser: `parse_frame` on a 64-byte
//! Ethernet/IPv4/TCP frame (14 + 20 + 20 header bytes and 10 of data),
//! the shape of most packets a firewall sees under a small-packet flood.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use dataplane::pdesc::tcp_flags;
use dataplane::wire::ethernet::{ethertype, EthernetRepr};
use dataplane::wire::frame::{parse_frame, verify_l4_checksum, Link, Parsed};
use dataplane::wire::ipv4::{Ipv4Options, Ipv4Repr};
use dataplane::wire::tcp::{TcpOptions, TcpPacket, TcpRepr};
use std::net::Ipv4Addr;

fn tcp4_frame() -> Vec<u8> {
    let eth = EthernetRepr {
        src: [2, 0, 0, 0, 0, 1],
        dst: [2, 0, 0, 0, 0, 2],
        vlan_tci: None,
        ethertype: ethertype::IPV4,
    };
    let tcp = TcpRepr {
        src_port: 40000,
        dst_port: 443,
        seq: 1,
        ack: 1,
        flags: tcp_flags::ACK | tcp_flags::PUSH,
        window: 512,
        urgent: 0,
        options: TcpOptions::default(),
    };
    let data = [0x17u8; 10];
    let ip = Ipv4Repr {
        src: Ipv4Addr::new(192, 0, 2, 1),
        dst: Ipv4Addr::new(198, 51, 100, 2),
        protocol: 6,
        tos: 0,
        ttl: 64,
        ident: 1,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        payload_len: (tcp.buffer_len() + data.len()) as u16,
        options: Ipv4Options::default(),
    };
    let mut f = vec![0u8; eth.buffer_len() + ip.buffer_len()];
    eth.emit(&mut f);
    ip.emit(&mut f[14..]);
    tcp.emit(&mut f[34..]);
    f[54..].copy_from_slice(&data);
    TcpPacket::new_unchecked(&mut f[34..]).fill_checksum(ip.src.into(), ip.dst.into());
    f
}

fn bench(c: &mut Criterion) {
    let f = tcp4_frame();
    assert_eq!(f.len(), 64);
    let Ok(Parsed::Ip(pd)) = parse_frame(&f, Link::Ethernet) else {
        panic!("bench frame does not parse")
    };
    assert!(verify_l4_checksum(&f, &pd));
    let mut g = c.benchmark_group("wire");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse_frame/tcp4_64B", |b| {
        b.iter(|| parse_frame(black_box(&f), Link::Ethernet))
    });
    g.bench_function("verify_l4_checksum/tcp4_64B", |b| {
        b.iter(|| verify_l4_checksum(black_box(&f), black_box(&pd)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
