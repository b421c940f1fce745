//! The verdict on a reassembled packet says how it leaves: IPv6 that
//! passed as fragments again (pf_test's `pf_refragment6`), IPv4 whole.

use super::tests::engine_with;
use super::*;
use crate::frag::Refrag;

/// UDP from 2001:db8::1 to 2001:db8::2 port 53 with `n` payload bytes,
/// as Ethernet frames of `size`-byte fragments (fragment header right
/// after the IPv6 header), ident `id`.
fn v6_fragments(n: usize, size: usize, id: u32) -> Vec<Vec<u8>> {
    let mut l4 = vec![0x30, 0x39, 0, 53, 0, 0, 0, 0];
    l4.extend((0..n).map(|i| (i * 3) as u8));
    let ulen = (l4.len() as u16).to_be_bytes();
    l4[4..6].copy_from_slice(&ulen);
    let src: std::net::Ipv6Addr = "2001:db8::1".parse().unwrap();
    let dst: std::net::Ipv6Addr = "2001:db8::2".parse().unwrap();
    let c = crate::wire::checksum::finish(crate::wire::checksum::combine(&[
        crate::wire::checksum::pseudo_v6(src.octets(), dst.octets(), 17, l4.len() as u32),
        crate::wire::checksum::sum(&l4),
    ]));
    l4[6..8].copy_from_slice(&c.to_be_bytes());
    (0..l4.len())
        .step_by(size)
        .map(|off| {
            let piece = &l4[off..(off + size).min(l4.len())];
            let mut f = vec![2, 0, 0, 0, 0, 0xfe, 2, 0, 0, 0, 0, 1, 0x86, 0xdd];
            f.extend_from_slice(&[0x60, 0, 0, 0]);
            f.extend_from_slice(&((8 + piece.len()) as u16).to_be_bytes());
            f.extend_from_slice(&[44, 64]);
            f.extend_from_slice(&src.octets());
            f.extend_from_slice(&dst.octets());
            let m = u16::from(off + piece.len() < l4.len());
            f.extend_from_slice(&[17, 0]);
            f.extend_from_slice(&((off as u16) | m).to_be_bytes());
            f.extend_from_slice(&id.to_be_bytes());
            f.extend_from_slice(piece);
            f
        })
        .collect()
}

fn run(eng: &Engine, frames: &[Vec<u8>]) -> Vec<(Verdict, Vec<u8>)> {
    let mut w = eng.worker();
    frames
        .iter()
        .map(|f| {
            let mut frame = f.clone();
            let v = eng.process(
                &mut w,
                1,
                &mut Packet {
                    frame: &mut frame,
                    ifindex: 0,
                    dir: Dir::In,
                },
            );
            (v, frame)
        })
        .collect()
}

#[test]
fn passed_ipv6_reassembly_carries_the_refragment_tag() {
    let eng = engine_with("block all\npass in inet6 proto udp to port 53\n");
    let frags = v6_fragments(2000, 1232, 77);
    let out = run(&eng, &frags);
    assert_eq!(out[0].0.action, Action::Held);
    assert_eq!(out[0].0.refrag, None);
    let (v, frame) = &out[1];
    assert_eq!((v.action, v.state), (Action::Pass, StateOutcome::New));
    assert_eq!(
        v.refrag,
        Some(Refrag {
            max_frag_len: 1232,
            hdr_len: 40,
            ext_off: None,
            ident: 77,
        })
    );
    // filtered whole; cut back, it is what came in
    assert_eq!(frame.len(), 14 + 40 + 8 + 2000);
    let back = crate::frag::refragment_frame(frame, 14, &v.refrag.unwrap()).unwrap();
    assert_eq!(back, frags);
}

#[test]
fn blocked_or_ipv4_reassemblies_carry_none() {
    let eng = engine_with("block all\n");
    let out = run(&eng, &v6_fragments(2000, 1232, 1));
    assert_eq!(out[1].0.action, Action::Block);
    assert_eq!(out[1].0.refrag, None);
    // IPv4 is forwarded whole (the router fragments it if DF is clear)
    let eng = engine_with("pass all\n");
    let ip = vec![
        0x45, 0, 0, 0, 0, 9, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
    ];
    let udp: Vec<u8> = [0x30, 0x39, 0, 53, 0, 24, 0, 0]
        .into_iter()
        .chain(0..16)
        .collect();
    let frame = |off: u16, mf: bool, data: &[u8]| {
        let mut h = ip.clone();
        h[2..4].copy_from_slice(&((20 + data.len()) as u16).to_be_bytes());
        h[6..8].copy_from_slice(&((off / 8) | if mf { 0x2000 } else { 0 }).to_be_bytes());
        let c = crate::wire::checksum::finish(crate::wire::checksum::sum(&h));
        h[10..12].copy_from_slice(&c.to_be_bytes());
        let mut f = vec![2, 0, 0, 0, 0, 0xfe, 2, 0, 0, 0, 0, 1, 8, 0];
        f.extend_from_slice(&h);
        f.extend_from_slice(data);
        f
    };
    let out = run(
        &eng,
        &[frame(0, true, &udp[..16]), frame(16, false, &udp[16..])],
    );
    assert_eq!(out[1].0.action, Action::Pass);
    assert_eq!(out[1].0.refrag, None);
}
