//! Properties of the wire codec: decoding then encoding any record gives
//! the record back, and no input bytes make the decoder panic.

use pfsync::wire::bus::Bus;
use pfsync::wire::clr::Clr;
use pfsync::wire::upd_c::UpdC;
use pfsync::wire::{ids, state, Action, Header, PacketRepr, Section, Sections};
use proptest::prelude::*;

fn bytes(n: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), n)
}

/// A record of each kind, drawn from arbitrary bytes (every field value
/// is reachable that way).
fn section() -> impl Strategy<Value = Section> {
    let n = 0..4usize;
    prop_oneof![
        prop::collection::vec(bytes(state::LEN), n.clone())
            .prop_map(|v| Section::Ins(v.iter().map(|b| state::parse(b).unwrap()).collect())),
        prop::collection::vec(bytes(state::LEN), n.clone())
            .prop_map(|v| Section::Upd(v.iter().map(|b| state::parse(b).unwrap()).collect())),
        prop::collection::vec(bytes(state::LEN), n.clone())
            .prop_map(|v| Section::Del(v.iter().map(|b| state::parse(b).unwrap()).collect())),
        prop::collection::vec(bytes(84), n.clone())
            .prop_map(|v| Section::UpdC(v.iter().map(|b| UpdC::parse(b).unwrap()).collect())),
        prop::collection::vec(bytes(12), n.clone())
            .prop_map(|v| Section::InsAck(v.iter().map(|b| ids::parse(b).unwrap()).collect())),
        prop::collection::vec(bytes(12), n.clone())
            .prop_map(|v| Section::UpdReq(v.iter().map(|b| ids::parse(b).unwrap()).collect())),
        prop::collection::vec(bytes(12), n.clone())
            .prop_map(|v| Section::DelC(v.iter().map(|b| ids::parse(b).unwrap()).collect())),
        prop::collection::vec(bytes(20), n.clone())
            .prop_map(|v| Section::Clr(v.iter().map(|b| Clr::parse(b).unwrap()).collect())),
        prop::collection::vec(bytes(12), n.clone())
            .prop_map(|v| Section::Bus(v.iter().map(|b| Bus::parse(b).unwrap()).collect())),
        (16u8..=255, 1usize..8, 1u16..3).prop_map(|(a, words, count)| Section::Skipped {
            action: Action(a),
            mlen: words * 4,
            count
        }),
        (
            prop::sample::select(vec![1u8, 3, 8, 9, 11, 12]),
            0usize..8,
            0u16..3
        )
            .prop_map(|(a, words, count)| Section::Skipped {
                action: Action(a),
                mlen: words * 4,
                count
            }),
    ]
}

proptest! {
    #[test]
    fn packet_round_trips(sections in prop::collection::vec(section(), 0..4)) {
        let p = PacketRepr { sections };
        let bytes = p.emit();
        prop_assert_eq!(usize::from(u16::from_be_bytes([bytes[2], bytes[3]])), bytes.len());
        prop_assert_eq!(PacketRepr::parse(&bytes).unwrap(), p);
    }

    #[test]
    fn random_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..1600)) {
        let _ = PacketRepr::parse(&b);
    }

    #[test]
    fn plausible_headers_with_random_sections_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..1500),
        extra in 0usize..8,
    ) {
        let mut b = vec![6, 0, 0, 0];
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(&body);
        let len = (b.len().saturating_sub(extra)).max(20) as u16;
        b[2..4].copy_from_slice(&len.to_be_bytes());
        if let Ok(h) = Header::new_checked(&b) {
            for s in Sections::new(h.body()).flatten() {
                let _ = Section::decode(&s);
                for r in s.records() {
                    let _ = state::parse(r);
                }
            }
        }
        let _ = PacketRepr::parse(&b);
    }

    #[test]
    fn mutated_packets_never_panic(
        sections in prop::collection::vec(section(), 1..3),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut b = PacketRepr { sections }.emit();
        for (at, v) in flips {
            let i = at.index(b.len());
            b[i] = v;
        }
        let keep = cut.index(b.len() + 1);
        b.truncate(keep.max(b.len() / 2));
        let _ = PacketRepr::parse(&b);
    }
}
