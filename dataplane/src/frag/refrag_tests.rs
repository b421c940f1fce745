//! Refragmentation: a datagram reassembled from a sender's fragments
//! leaves as those fragments again, byte for byte.

use proptest::prelude::*;

use super::tests::{
    assert_v6_udp_checksum, complete, push, v6_frag, v6_udp, DSTOPTS, ETH, FRAGMENT, HOPOPTS, UDP,
};
use super::*;
use crate::wire::ipv6::{FragHeader, FRAG_HEADER_LEN};

/// Reassemble `frags` (frames from `v6_frag`) and return the result.
fn reassemble(frags: &[Vec<u8>]) -> Reassembled {
    let mut r = Reassembler::new(DEFAULT_LIMIT, 60);
    let (last, rest) = frags.split_last().unwrap();
    for f in rest {
        assert_eq!(push(&mut r, f, 0), Ok(FragResult::Held));
    }
    complete(push(&mut r, last, 0))
}

#[test]
fn the_senders_fragments_come_back() {
    // Hop-by-hop, then the fragment header, then destination options
    // and UDP in the fragmentable part (v6_frag's layout).
    let pkt = v6_udp(3000);
    let n = pkt.len() - 48;
    let id = 0xdead_beef;
    let sent = [
        v6_frag(&pkt, id, 0, 1232, true),
        v6_frag(&pkt, id, 1232, 1232, true),
        v6_frag(&pkt, id, 2464, n - 2464, false),
    ];
    let c = reassemble(&[sent[1].clone(), sent[2].clone(), sent[0].clone()]);
    assert_v6_udp_checksum(&c.packet);
    let tag = c.refrag().expect("IPv6 is refragmented");
    assert_eq!(
        tag,
        Refrag {
            max_frag_len: 1232,
            hdr_len: 48,
            ext_off: Some(40),
            ident: id,
        }
    );
    let out = refragment6(&c.packet, &tag).unwrap();
    assert_eq!(out.len(), 3);
    let mut data = Vec::new();
    for (i, (f, want)) in out.iter().zip(&sent).enumerate() {
        assert_eq!(&f[..], &want[ETH..], "fragment {i}");
        // the hop-by-hop header is kept and now names the fragment
        // header, which names what followed it before
        assert_eq!((f[6], f[40]), (HOPOPTS, FRAGMENT));
        let fh = FragHeader::new_checked(&f[48..]).unwrap();
        assert_eq!(fh.next_header(), DSTOPTS);
        assert_eq!(fh.ident(), id);
        assert_eq!(usize::from(fh.frag_offset()), data.len());
        assert_eq!(fh.more_frags(), i < 2);
        let payload = &f[48 + FRAG_HEADER_LEN..];
        assert!(payload.len() <= usize::from(tag.max_frag_len));
        assert_eq!(
            usize::from(u16::from_be_bytes([f[4], f[5]])),
            f.len() - 40,
            "payload length"
        );
        data.extend_from_slice(payload);
    }
    assert_eq!(&data[..], &pkt[48..]);
    assert_eq!(
        tag.largest_fragment(c.packet.len()),
        48 + FRAG_HEADER_LEN + 1232
    );
}

#[test]
fn fragment_header_first_takes_the_ipv6_next_header() {
    // A hand-made packet: IPv6 header, 20 bytes of UDP-ish payload.
    let mut pkt = vec![0x60, 0, 0, 0, 0, 20, UDP, 64];
    pkt.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    pkt.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    pkt.extend(0u8..20);
    let tag = Refrag {
        max_frag_len: 12, // rounded down to 8, as ip6_fragment does
        hdr_len: 40,
        ext_off: None,
        ident: 0x0102_0304,
    };
    let out = refragment6(&pkt, &tag).unwrap();
    // golden bytes: header with next header 44 and payload length
    // 8 + piece, then the fragment header, then the piece
    let head = |plen: u8| {
        let mut h = pkt[..40].to_vec();
        h[4..6].copy_from_slice(&[0, plen]);
        h[6] = FRAGMENT;
        h
    };
    let mut f0 = head(16);
    f0.extend_from_slice(&[UDP, 0, 0x00, 0x01, 1, 2, 3, 4]);
    f0.extend(0u8..8);
    let mut f1 = head(16);
    f1.extend_from_slice(&[UDP, 0, 0x00, 0x09, 1, 2, 3, 4]);
    f1.extend(8u8..16);
    let mut f2 = head(12);
    f2.extend_from_slice(&[UDP, 0, 0x00, 0x10, 1, 2, 3, 4]);
    f2.extend(16u8..20);
    assert_eq!(out, vec![f0, f1, f2]);
}

#[test]
fn one_fragment_still_gets_a_fragment_header() {
    let mut pkt = vec![0x60, 0, 0, 0, 0, 8, UDP, 64];
    pkt.extend_from_slice(&[0; 32]);
    pkt.extend(0u8..8);
    let tag = Refrag {
        max_frag_len: 1232,
        hdr_len: 40,
        ext_off: None,
        ident: 9,
    };
    let out = refragment6(&pkt, &tag).unwrap();
    assert_eq!(out.len(), 1);
    let fh = FragHeader::new_checked(&out[0][40..]).unwrap();
    assert_eq!(
        (fh.frag_offset(), fh.more_frags(), fh.ident()),
        (0, false, 9)
    );
}

#[test]
fn refusals() {
    let mut pkt = vec![0x60, 0, 0, 0, 0, 24, HOPOPTS, 64];
    pkt.extend_from_slice(&[0; 32]);
    pkt.extend_from_slice(&[UDP, 0, 1, 4, 0, 0, 0, 0]);
    pkt.extend(0u8..16);
    let tag = Refrag {
        max_frag_len: 8,
        hdr_len: 48,
        ext_off: Some(40),
        ident: 1,
    };
    assert_eq!(refragment6(&pkt, &tag).map(|v| v.len()), Ok(2));
    let with = |f: &dyn Fn(&mut Refrag)| {
        let mut t = tag;
        f(&mut t);
        refragment6(&pkt, &t)
    };
    assert_eq!(with(&|t| t.max_frag_len = 7), Err(RefragError::TooSmall));
    assert_eq!(with(&|t| t.hdr_len = 39), Err(RefragError::Malformed));
    assert_eq!(with(&|t| t.hdr_len = 65), Err(RefragError::Malformed));
    assert_eq!(with(&|t| t.hdr_len = 64), Err(RefragError::Empty));
    assert_eq!(with(&|t| t.ext_off = Some(48)), Err(RefragError::Malformed));
    assert_eq!(with(&|t| t.ext_off = Some(8)), Err(RefragError::Malformed));
    // shorter than the payload length says, or not IPv6 at all
    assert_eq!(refragment6(&pkt[..60], &tag), Err(RefragError::Malformed));
    let mut v4 = pkt.clone();
    v4[0] = 0x45;
    assert_eq!(refragment6(&v4, &tag), Err(RefragError::Malformed));
    assert_eq!(refragment6(&[], &tag), Err(RefragError::Malformed));
    // link padding after the packet is not sent
    let mut padded = pkt.clone();
    padded.extend_from_slice(&[0xee; 6]);
    assert_eq!(refragment6(&padded, &tag), refragment6(&pkt, &tag));
}

#[test]
fn a_frame_keeps_its_link_header() {
    let pkt = v6_udp(100);
    let sent = [
        v6_frag(&pkt, 5, 0, 64, true),
        v6_frag(&pkt, 5, 64, pkt.len() - 48 - 64, false),
    ];
    let c = reassemble(&sent);
    let mut frame = sent[0][..ETH].to_vec();
    frame.extend_from_slice(&c.packet);
    let out = refragment_frame(&frame, ETH, &c.refrag().unwrap()).unwrap();
    assert_eq!(out, sent);
    assert_eq!(
        refragment_frame(&frame[..10], ETH, &c.refrag().unwrap()),
        Err(RefragError::Malformed)
    );
}

#[test]
fn ipv4_is_not_refragmented() {
    let c = Reassembled {
        packet: vec![0x45; 20],
        max_frag_len: 8,
        hdr_len: 20,
        ext_off: None,
        ident: 1,
    };
    assert_eq!(c.refrag(), None);
}

proptest! {
    /// Whatever 8-aligned sizes a sender cut a datagram into (the last
    /// piece no larger than the first), pf sends back the same
    /// fragments; and what it sends reassembles to the datagram.
    #[test]
    fn refragmenting_undoes_reassembly(
        n in 1usize..4000,
        // pf refuses more than 64 fragments per 4 KiB: pieces of 128 up
        size8 in 16usize..200,
        id in any::<u32>(),
    ) {
        let pkt = v6_udp(n);
        let len = pkt.len() - 48;
        let size = size8 * 8;
        prop_assume!(len > size);
        let sent: Vec<Vec<u8>> = (0..len).step_by(size).map(|off| {
            let l = size.min(len - off);
            v6_frag(&pkt, id, off, l, off + l < len)
        }).collect();
        let c = reassemble(&sent);
        prop_assert_eq!(&c.packet, &pkt);
        let out = refragment6(&c.packet, &c.refrag().unwrap()).unwrap();
        prop_assert_eq!(out.len(), sent.len());
        for (f, s) in out.iter().zip(&sent) {
            prop_assert_eq!(&f[..], &s[ETH..]);
        }
        let mut framed: Vec<Vec<u8>> = out.iter().map(|f| {
            let mut g = sent[0][..ETH].to_vec();
            g.extend_from_slice(f);
            g
        }).collect();
        framed.reverse();
        prop_assert_eq!(reassemble(&framed).packet, pkt);
    }
}
