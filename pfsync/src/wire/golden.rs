//! The golden packets of spec §13.3: each decodes to the records it was
//! built from, and emitting those records gives back the bytes exactly.
//! The vectors include the 20-byte IPv4 header, which the daemon writes;
//! pfsync's part starts at offset 20.

use super::bus::Bus;
use super::clr::Clr;
use super::upd_c::UpdC;
use super::{Action, PacketRepr, Section};
use crate::state::*;
use std::net::{IpAddr, Ipv4Addr};

pub(crate) const CREATOR: u32 = 0x1a2b_3c4d;
pub(crate) const ID: u64 = 0x6650_0000_0000_0001;

const V1: &str = "
45 10 00 38 12 34 40 00 ff f0 c7 f9 c0 a8 fe fe
e0 00 00 f0 06 00 00 24 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 00 05 03 00 01 00 00 00 00
00 00 00 00 00 00 00 00";

const V2: &str = "
45 10 00 38 12 34 40 00 ff f0 c7 f9 c0 a8 fe fe
e0 00 00 f0 06 00 00 24 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 00 0a 03 00 01 1a 2b 3c 4d
00 00 00 00 02 00 00 00";

const V3: &str = "
45 10 01 34 12 34 40 00 ff f0 c6 fd c0 a8 fe fe
e0 00 00 f0 06 00 01 20 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 00 0d 42 00 01 66 50 00 00
00 00 00 01 65 6d 30 00 00 00 00 00 00 00 00 00
00 00 00 00 5d b8 d8 22 00 00 00 00 00 00 00 00
00 00 00 00 c6 33 64 07 00 00 00 00 00 00 00 00
00 00 00 00 01 bb c3 50 00 00 02 00 5d b8 d8 22
00 00 00 00 00 00 00 00 00 00 00 00 0a 00 00 05
00 00 00 00 00 00 00 00 00 00 00 00 01 bb 9c 40
00 00 02 00 00 00 00 00 00 00 00 00 00 0f 42 41
00 10 46 29 00 00 00 00 01 f6 05 b4 04 87 00 00
00 00 00 00 00 00 00 00 00 00 00 00 00 1e 84 81
00 1f 7f 71 00 00 00 00 ff ff 05 78 04 87 00 00
00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
00 00 00 00 ff ff ff ff ff ff ff ff ff ff ff ff
00 00 00 0c 00 01 51 74 00 00 00 00 00 00 00 0a
00 00 00 00 00 00 00 08 00 00 00 00 00 00 04 b0
00 00 00 01 00 00 00 10 1a 2b 3c 4d 00 00 00 00
00 00 00 00 00 00 02 06 02 00 00 02 00 00 00 00
00 00 00 00";

const V4: &str = "
45 10 00 80 12 34 40 00 ff f0 c7 b1 c0 a8 fe fe
e0 00 00 f0 06 00 00 6c 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 00 04 15 00 01 66 50 00 00
00 00 00 01 00 00 00 00 00 00 00 00 00 0f 47 f5
00 10 4b dd 00 00 00 00 01 f6 05 b4 04 87 00 00
00 00 00 00 00 00 00 00 00 00 00 00 00 1e 8f 71
00 1f 8a 61 00 00 00 00 ff ff 05 78 04 87 00 00
00 00 00 00 1a 2b 3c 4d 00 00 00 00 02 00 00 00";

const V5: &str = "
45 10 00 48 12 34 40 00 ff f0 c7 e9 c0 a8 fe fe
e0 00 00 f0 06 00 00 34 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 00 02 03 00 01 66 50 00 00
00 00 00 02 1a 2b 3c 4d 07 03 00 01 66 50 00 00
00 00 00 01 1a 2b 3c 4d";

const V6: &str = "
45 10 00 40 12 34 40 00 ff f0 c7 f1 c0 a8 fe fe
e0 00 00 f0 06 00 00 2c 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 00 00 05 00 01 00 00 00 00
00 00 00 00 00 00 00 00 00 00 00 00 1a 2b 3c 4d";

const V7: &str = "
45 10 01 44 12 34 40 00 ff f0 c6 ed c0 a8 fe fe
e0 00 00 f0 06 00 01 30 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 00 0a 03 00 01 1a 2b 3c 4d
00 00 00 00 01 00 00 00 0e 42 00 01 66 50 00 00
00 00 00 01 65 6d 30 00 00 00 00 00 00 00 00 00
00 00 00 00 5d b8 d8 22 00 00 00 00 00 00 00 00
00 00 00 00 c6 33 64 07 00 00 00 00 00 00 00 00
00 00 00 00 01 bb c3 50 00 00 02 00 5d b8 d8 22
00 00 00 00 00 00 00 00 00 00 00 00 0a 00 00 05
00 00 00 00 00 00 00 00 00 00 00 00 01 bb 9c 40
00 00 02 00 00 00 00 00 00 00 00 00 00 0f 42 41
00 10 46 29 00 00 00 00 01 f6 05 b4 04 87 00 00
00 00 00 00 00 00 00 00 00 00 00 00 00 1e 84 81
00 1f 7f 71 00 00 00 00 ff ff 05 78 04 87 00 00
00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
00 00 00 00 ff ff ff ff ff ff ff ff ff ff ff ff
00 00 00 0c 00 01 51 74 00 00 00 00 00 00 00 0a
00 00 00 00 00 00 00 08 00 00 00 00 00 00 04 b0
00 00 00 01 00 00 00 10 1a 2b 3c 4d 00 00 00 00
00 00 00 00 00 00 02 06 02 00 00 02 00 00 00 00
00 00 00 00";

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

/// The spec's sample: outbound TCP 10.0.0.5:40000 → 93.184.216.34:443
/// on em0, nat-to 198.51.100.7:50000.
pub(crate) fn sample_state() -> StateRecord {
    let remote = (v4([93, 184, 216, 34]), 443);
    StateRecord {
        id: StateId::new(ID, CREATOR),
        ifname: IfName::new("em0").unwrap(),
        keys: [
            StateKey::new(remote, (v4([198, 51, 100, 7]), 50000), 0),
            StateKey::new(remote, (v4([10, 0, 0, 5]), 40000), 0),
        ],
        src: Peer {
            seqlo: 1_000_001,
            seqhi: 1_066_537,
            max_win: 502,
            mss: 1460,
            state: TCPS_ESTABLISHED,
            wscale: 0x87,
            ..Peer::default()
        },
        dst: Peer {
            seqlo: 2_000_001,
            seqhi: 2_064_241,
            max_win: 65535,
            mss: 1400,
            state: TCPS_ESTABLISHED,
            wscale: 0x87,
            ..Peer::default()
        },
        rule: u32::MAX,
        anchor: u32::MAX,
        nat_rule: u32::MAX,
        creation: 12,
        expire: 86388,
        packets: [10, 8],
        bytes: [1200, 4_294_967_312],
        af: crate::wire::AF_INET,
        proto: IPPROTO_TCP,
        direction: PF_OUT,
        timeout: PFTM_TCP_ESTABLISHED,
        ..StateRecord::default()
    }
}

fn check(vector: &str, sections: Vec<Section>) {
    let bytes = hex(vector);
    // The IPv4 total length covers exactly the pfsync payload after it.
    assert_eq!(
        usize::from(u16::from_be_bytes([bytes[2], bytes[3]])),
        bytes.len()
    );
    let payload = &bytes[20..];
    let want = PacketRepr { sections };
    assert_eq!(PacketRepr::parse(payload).unwrap(), want);
    assert_eq!(want.emit(), payload);
}

#[test]
fn v1_bulk_request() {
    check(V1, vec![Section::UpdReq(vec![StateId::BULK_REQUEST])]);
}

#[test]
fn v2_bus_end() {
    let end = Bus {
        creator: CREATOR,
        endtime: 0,
        status: super::bus::STATUS_END,
    };
    check(V2, vec![Section::Bus(vec![end])]);
}

#[test]
fn v3_insert() {
    check(V3, vec![Section::Ins(vec![sample_state()])]);
}

#[test]
fn v3_state_record_fields() {
    let s = sample_state();
    assert_eq!(s.keys[0].addr[1][..4], [198, 51, 100, 7]);
    assert_eq!(
        pf_addr_ip(&s.keys[1].addr[1], s.keys[1].af),
        Some(v4([10, 0, 0, 5]))
    );
    assert_eq!(s.ifname.to_str(), Some("em0"));
    let b = hex(V3);
    assert_eq!(super::state::parse(&b[0x2c..]).unwrap(), s);
}

#[test]
fn v4_compressed_update() {
    let s = sample_state();
    let u = UpdC {
        id: s.id,
        src: Peer {
            seqlo: 0x000f_47f5,
            seqhi: 0x0010_4bdd,
            ..s.src
        },
        dst: Peer {
            seqlo: 0x001e_8f71,
            seqhi: 0x001f_8a61,
            ..s.dst
        },
        timeout: PFTM_TCP_ESTABLISHED,
        ..UpdC::default()
    };
    check(V4, vec![Section::UpdC(vec![u])]);
}

#[test]
fn v5_ins_ack_and_del_c() {
    check(
        V5,
        vec![
            Section::InsAck(vec![StateId::new(ID + 1, CREATOR)]),
            Section::DelC(vec![StateId::new(ID, CREATOR)]),
        ],
    );
}

#[test]
fn v6_clear() {
    check(
        V6,
        vec![Section::Clr(vec![Clr {
            ifname: IfName::default(),
            creator: CREATOR,
        }])],
    );
}

#[test]
fn v7_bulk_start_and_update() {
    let start = Bus {
        creator: CREATOR,
        endtime: 0,
        status: super::bus::STATUS_START,
    };
    check(
        V7,
        vec![
            Section::Bus(vec![start]),
            Section::Upd(vec![sample_state()]),
        ],
    );
}

#[test]
fn insert_section_with_longer_records_is_stepped_by_their_size() {
    // Spec §13.4 (2): a newer peer's 268-byte INS records.
    let s = sample_state();
    let mut payload = vec![6, 0, 0, 0];
    payload.extend_from_slice(&[0; 16]);
    payload.extend_from_slice(&[13, 67, 0, 2]);
    for i in 0..2u64 {
        let mut rec = Vec::new();
        super::state::emit(
            &StateRecord {
                id: StateId::new(ID + i, CREATOR),
                ..s
            },
            &mut rec,
        );
        rec.extend_from_slice(&[0xee; 4]);
        payload.extend_from_slice(&rec);
    }
    let len = payload.len() as u16;
    payload[2..4].copy_from_slice(&len.to_be_bytes());
    let p = PacketRepr::parse(&payload).unwrap();
    let Section::Ins(v) = &p.sections[0] else {
        panic!("{p:?}")
    };
    assert_eq!(v.len(), 2);
    assert_eq!(v[1].id.id, ID + 1);
    assert_eq!(v[1].keys, s.keys);
    assert_eq!(p.sections[0].action(), Action::INS);
}

#[test]
fn records_per_1500_byte_packet_match_the_spec() {
    use super::packet::section_len;
    let room = 1500 - 20 - 20;
    let fit = |len: usize| {
        (0..)
            .take_while(|&n| section_len(len, n) <= room)
            .last()
            .unwrap()
    };
    assert_eq!(fit(super::state::LEN), 5);
    assert_eq!(fit(super::upd_c::LEN), 17);
    assert_eq!(fit(super::ids::LEN), 121);
    assert_eq!(fit(super::clr::LEN), 72);
    assert_eq!(fit(super::action::TDB_LEN), 28);
}

/// The same vectors, produced by the sync machine itself rather than by
/// the codec from hand-built records.
mod machine {
    use super::*;
    use crate::sync::{ImportError, LocalChange, LocalState, Merge, Pfsync, Rx, StateStore};
    use crate::Config;
    use std::collections::BTreeMap;

    #[derive(Default)]
    struct Table(BTreeMap<StateId, StateRecord>);

    impl StateStore for Table {
        fn lookup(&self, id: StateId) -> Option<LocalState> {
            self.0.get(&id).map(|s| LocalState {
                proto: s.proto,
                src: s.src,
                dst: s.dst,
                timeout: s.timeout,
                state_flags: s.state_flags,
            })
        }
        fn export(&self, id: StateId, _: u64) -> Option<StateRecord> {
            self.0.get(&id).copied()
        }
        fn import(&mut self, rec: &StateRecord, _: u64) -> Result<(), ImportError> {
            self.0.insert(rec.id, *rec);
            Ok(())
        }
        fn merge(&mut self, _: StateId, _: &Merge, _: u64) {}
        fn remove(&mut self, id: StateId) -> bool {
            self.0.remove(&id).is_some()
        }
        fn clear(&mut self, _: u32, _: Option<&str>) -> Vec<StateId> {
            Vec::new()
        }
        fn snapshot(&self) -> Vec<StateId> {
            self.0.keys().copied().collect()
        }
    }

    const SEC: u64 = 1_000_000_000;

    fn node_mtu(mtu: u16) -> (Pfsync, Table) {
        let mut cfg = Config::new(CREATOR);
        cfg.mtu = mtu;
        let mut m = Pfsync::new(cfg).unwrap();
        m.up(0);
        (m, Table::default())
    }

    fn node() -> (Pfsync, Table) {
        node_mtu(1500)
    }

    fn insert(m: &mut Pfsync, t: &mut Table, s: StateRecord) {
        t.0.insert(s.id, s);
        let change = LocalChange::Insert {
            id: s.id,
            proto: s.proto,
            nosync: false,
        };
        m.handle_local(0, t, change);
    }

    fn payload(v: &str) -> Vec<u8> {
        hex(v)[20..].to_vec()
    }

    #[test]
    fn v1_request_v3_insert_v4_update() {
        let (mut m, mut t) = node();
        m.link_state(0, true);
        assert_eq!(m.poll_transmit(), Some(payload(V1)));
        insert(&mut m, &mut t, sample_state());
        m.handle_timeout(SEC, &mut t);
        assert_eq!(m.poll_transmit(), Some(payload(V3)));
        let s = t.0.get_mut(&sample_state().id).unwrap();
        (s.src.seqlo, s.src.seqhi) = (0x000f_47f5, 0x0010_4bdd);
        (s.dst.seqlo, s.dst.seqhi) = (0x001e_8f71, 0x001f_8a61);
        let id = s.id;
        m.handle_local(2 * SEC, &mut t, LocalChange::Update { id });
        m.handle_timeout(3 * SEC, &mut t);
        assert_eq!(m.poll_transmit(), Some(payload(V4)));
    }

    #[test]
    fn v2_v7_bulk_and_v6_clear() {
        // At the smallest MTU, V7 (324 bytes with its IPv4 header) fills
        // the first bulk packet exactly, so BUS END follows alone.
        let (mut m, mut t) = node_mtu(324);
        let req = payload(V1);
        let rx = Rx {
            on_syncdev: true,
            ttl: 255,
        };
        m.handle_packet(0, &mut t, rx, &req).unwrap();
        assert_eq!(m.poll_transmit(), Some(payload(V2)));
        // The state arrives through the table, not as a local insert, so
        // nothing else is queued.
        t.0.insert(sample_state().id, sample_state());
        m.handle_packet(SEC, &mut t, rx, &req).unwrap();
        assert_eq!(m.poll_transmit(), Some(payload(V7)));
        m.handle_timeout(SEC + 20_000_000, &mut t);
        let end = m.poll_transmit();
        assert_eq!(end, Some(payload(V2)), "BUS END did not fit: alone next");
        m.handle_local(2 * SEC, &mut t, LocalChange::Clear { ifname: None });
        assert_eq!(m.poll_transmit(), Some(payload(V6)));
        assert_eq!(m.poll_transmit(), None);
    }

    #[test]
    fn v5_ins_ack_with_a_pending_delete() {
        let (mut m, mut t) = node();
        insert(&mut m, &mut t, sample_state());
        m.handle_timeout(SEC, &mut t);
        assert!(m.poll_transmit().is_some());
        let id = sample_state().id;
        t.0.remove(&id);
        m.handle_local(2 * SEC, &mut t, LocalChange::Delete { id });
        assert_eq!(m.poll_transmit(), None, "DEL_C waits for the timer");
        // The peer holds a packet for state ...02 and asks for INS_ACK.
        let mut peer = sample_state();
        peer.id = StateId::new(ID + 1, CREATOR);
        peer.state_flags = crate::state::flags::ACK;
        let ins = PacketRepr {
            sections: vec![Section::Ins(vec![peer])],
        }
        .emit();
        let rx = Rx {
            on_syncdev: true,
            ttl: 255,
        };
        m.handle_packet(2 * SEC, &mut t, rx, &ins).unwrap();
        assert_eq!(m.poll_transmit(), Some(payload(V5)));
    }
}
