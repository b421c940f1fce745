//! IPv6 that pf reassembled leaves as the fragments it came in as
//! (`pf_refragment6`), sized against the egress MTU fragment by
//! fragment, as `ip6_forward` checks after pf.

use super::*;
use crate::frag::{FragResult, Reassembler, Refrag};
use crate::pdesc::Dir;
use crate::wire::ipv6::FragHeader;

const ID: u32 = 0x0bad_cafe;

/// A UDP datagram from HA's IPv6 address to HB's with `n` bytes of
/// payload, in fragments of `size` bytes (a multiple of 8) as HA would
/// send them: whole Ethernet frames to R0.
fn fragments(n: usize, size: usize) -> Vec<Vec<u8>> {
    let src: std::net::Ipv6Addr = "2001:db8:1::10".parse().unwrap();
    let dst: std::net::Ipv6Addr = "2001:db8:2::20".parse().unwrap();
    let mut l4 = vec![0x30, 0x39, 0, 53, 0, 0, 0, 0];
    l4.extend((0..n).map(|i| i as u8));
    let ulen = (l4.len() as u16).to_be_bytes();
    l4[4..6].copy_from_slice(&ulen);
    (0..l4.len())
        .step_by(size)
        .map(|off| {
            let piece = &l4[off..(off + size).min(l4.len())];
            let mut ip = vec![0x60, 0, 0, 0, 0, 0, 44, 64];
            ip[4..6].copy_from_slice(&((8 + piece.len()) as u16).to_be_bytes());
            ip.extend_from_slice(&src.octets());
            ip.extend_from_slice(&dst.octets());
            let m = u16::from(off + piece.len() < l4.len());
            ip.extend_from_slice(&[17, 0]);
            ip.extend_from_slice(&((off as u16) | m).to_be_bytes());
            ip.extend_from_slice(&ID.to_be_bytes());
            ip.extend_from_slice(piece);
            crate::wire::build::ethernet_wrap(&ip, HA, R0, None)
        })
        .collect()
}

/// The frame pf passes inbound: the reassembled datagram, and its tag.
fn reassembled(frags: &[Vec<u8>]) -> (Vec<u8>, Refrag) {
    let mut r = Reassembler::default();
    for f in frags {
        if let FragResult::Complete(c) = r.push(f, 14, Dir::In, 0).unwrap() {
            let mut frame = f[..14].to_vec();
            frame.extend_from_slice(&c.packet);
            return (frame, c.refrag().unwrap());
        }
    }
    panic!("not reassembled");
}

#[test]
fn reassembled_ipv6_leaves_as_its_fragments() {
    let mut r = router();
    learned(&mut r);
    // 1232-byte fragments (1280 on the wire) toward em1's MTU of 1400:
    // the whole datagram would not fit
    let sent = fragments(3000, 1232);
    assert_eq!(sent.len(), 3);
    let (whole, tag) = reassembled(&sent);
    assert!(whole.len() > 14 + 1400);
    let mut tx = Vec::new();
    // without pf's tag, it is too big for em1
    let mut f = whole.clone();
    let o = r.forward_in_place(&mut f, 1, &pd(&whole), 0, &mut tx);
    assert_eq!(o, InPlace::Consumed(Outcome::Dropped(Drop::TooBig)));
    tx.clear();
    // with it, each fragment is checked and sent
    let mut f = whole.clone();
    let routed = r
        .route_in_place_refrag(&mut f, 1, &pd(&whole), None, Some(tag), 0, &mut tx)
        .unwrap();
    assert_eq!(routed.refrag, Some(tag));
    let made = r.counters.count(Event::FragmentsMade);
    let o = r.transmit_in_place(&mut f, routed, 0, &mut tx);
    assert_eq!(o, InPlace::Consumed(Outcome::Sent { ifindex: 2 }));
    assert_eq!(tx.len(), 3);
    assert_eq!(r.counters.count(Event::FragmentsMade), made + 3);
    for (t, s) in tx.iter().zip(&sent) {
        assert_eq!(t.ifindex, 2);
        assert_eq!(t.kind, TxKind::Forwarded);
        assert_eq!(&t.frame[..12], &[HB, R1].concat()[..]);
        // the fragment as HA sent it, one hop later
        let mut want = s[14..].to_vec();
        want[7] -= 1;
        assert_eq!(&t.frame[14..], &want[..]);
        assert_eq!(FragHeader::new_checked(&t.frame[54..]).unwrap().ident(), ID);
    }
}

#[test]
fn fragments_too_big_for_the_link_get_packet_too_big() {
    let mut r = router();
    learned(&mut r);
    // 1400-byte fragments, 1448 on the wire: over em1's 1400
    let sent = fragments(3000, 1400);
    let (whole, tag) = reassembled(&sent);
    let mut tx = Vec::new();
    let mut f = whole.clone();
    let res = r.route_in_place_refrag(&mut f, 1, &pd(&whole), None, Some(tag), 0, &mut tx);
    assert_eq!(res, Err(Drop::TooBig));
    assert_eq!(f, whole, "refused: the frame is untouched");
    assert_eq!(tx.len(), 1);
    // Packet Too Big back to HA, naming em1's MTU, quoting the first
    // fragment as HA sent it (as ip6_forward quotes the fragment it
    // refuses), cut to the minimum MTU
    let e = &tx[0].frame;
    let quoted = &e[14 + 40 + 8..];
    assert_eq!(quoted, &sent[0][14..14 + quoted.len()]);
    assert_eq!(
        (
            tx[0].ifindex,
            e[54],
            u32::from_be_bytes([e[58], e[59], e[60], e[61]])
        ),
        (1, 2, 1400)
    );
}

#[test]
fn a_pf_outbound_reassembly_is_refragmented_by_transmit() {
    // pf outbound reassembled what route sized as a fragment; the tag
    // set on Routed after route still makes transmit cut it
    let mut r = router();
    learned(&mut r);
    let sent = fragments(2000, 1232);
    let (whole, tag) = reassembled(&sent);
    let mut tx = Vec::new();
    let mut routed = r
        .route(&sent[0], 1, &pd(&sent[0]), None, 0, &mut tx)
        .unwrap();
    routed.frame = Router::frame_for(r.iface(2).unwrap(), &whole[14..]);
    routed.refrag = Some(tag);
    assert_eq!(r.transmit(routed, 0, &mut tx), Outcome::Sent { ifindex: 2 });
    assert_eq!(tx.len(), 2);
    for (t, s) in tx.iter().zip(&sent) {
        assert_eq!(
            &t.frame[14..],
            &s[14..],
            "as sent (pf out saw the hop limit)"
        );
    }
    // a tag whose fragments could not be cut: a counted drop
    let mut routed = r
        .route(&sent[0], 1, &pd(&sent[0]), None, 0, &mut tx)
        .unwrap();
    routed.frame = Router::frame_for(r.iface(2).unwrap(), &whole[14..]);
    routed.refrag = Some(Refrag {
        max_frag_len: 4,
        ..tag
    });
    let before = r.counters.dropped(Drop::CantFrag);
    assert_eq!(
        r.transmit(routed, 0, &mut tx),
        Outcome::Dropped(Drop::CantFrag)
    );
    assert_eq!(r.counters.dropped(Drop::CantFrag), before + 1);
}
