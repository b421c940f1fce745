use super::*;
use crate::key::StateKey;
use crate::pdesc::{proto, tcp_flags as F, AddrKey, Dir, IcmpInner, Pdesc, TcpInfo};
use ruleset::addr::Af;
use ruleset::rule::{PFTM_ADAPTIVE_END, PFTM_ADAPTIVE_START, PFTM_MAX};
use ruleset::ruleset::DEFAULT_TIMEOUTS;

pub(super) const SEC: u64 = 1_000_000_000;

pub(super) fn v4(a: [u8; 4]) -> AddrKey {
    u128::from(u32::from_be_bytes(a)) << 96
}

pub(super) const C: [u8; 4] = [10, 0, 0, 2];
pub(super) const S: [u8; 4] = [192, 0, 2, 80];
pub(super) const P: [u8; 4] = [198, 51, 100, 1];
pub(super) const R: [u8; 4] = [203, 0, 113, 9];

pub(super) fn table(limit: u32, shards: usize) -> StateTable {
    StateTable::new(StateConfig {
        limit,
        timeouts: DEFAULT_TIMEOUTS,
        shards,
        seed: 7,
    })
}

pub(super) fn pd(p: u8, src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Pdesc {
    Pdesc {
        af: Af::Inet,
        proto: p,
        src: v4(src),
        dst: v4(dst),
        sport,
        dport,
        tos: 0,
        ttl: 64,
        l3_off: 14,
        l4_off: 34,
        ip_len: 40,
        vlan: None,
        fragment: false,
        ip_opts: false,
        icmp_type: None,
        icmp_code: None,
        tcp: None,
        icmp_inner: None,
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn seg(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    flags: u8,
    seq: u32,
    ack: u32,
    win: u16,
    len: u16,
    wscale: Option<u8>,
) -> Pdesc {
    let mut p = pd(proto::TCP, src, sport, dst, dport);
    p.tcp = Some(TcpInfo {
        seq,
        ack,
        win,
        flags,
        hdr_len: 20,
        data_len: len,
        wscale,
        mss: None,
        ts: None,
    });
    p
}

pub(super) fn new_state(p: &Pdesc, dir: Dir) -> NewState {
    let k = StateKey::from_pdesc(p, dir, 0);
    NewState {
        wire: k,
        stack: k,
        dir,
        rule: (0, 3),
        timeouts: [0; PFTM_MAX],
        max_states_rule: 0,
        if_bound: None,
        sloppy: false,
        modulate: false,
        translated: false,
        src_track: None,
        release_tag: 0,
        scrub: Default::default(),
        no_sync: false,
        allow_opts: false,
        pd: *p,
    }
}

pub(super) fn test(
    t: &StateTable,
    p: &Pdesc,
    dir: Dir,
    now: u64,
) -> Option<Result<Tracked, crate::reason::Reason>> {
    t.test(
        &StateKey::from_pdesc(p, dir, 0),
        p,
        dir,
        1,
        now,
        u32::from(p.ip_len),
    )
}

pub(super) fn pass(t: &StateTable, p: &Pdesc, dir: Dir, now: u64) -> Tracked {
    match test(t, p, dir, now) {
        Some(Ok(tr)) => tr,
        other => panic!("expected a pass, got {other:?} for {p:?}"),
    }
}

pub(super) const ISN_C: u32 = 1000;
pub(super) const ISN_S: u32 = 50_000;

/// C:1000 -> S:80 created outbound, handshake done.
pub(super) fn established(t: &StateTable, wscale: Option<u8>) -> StateId {
    let syn = seg(C, 1000, S, 80, F::SYN, ISN_C, 0, 65535, 0, wscale);
    let id = t.insert(new_state(&syn, Dir::Out), 0).unwrap();
    pass(
        t,
        &seg(
            S,
            80,
            C,
            1000,
            F::SYN | F::ACK,
            ISN_S,
            ISN_C + 1,
            65535,
            0,
            wscale,
        ),
        Dir::In,
        SEC,
    );
    pass(
        t,
        &seg(C, 1000, S, 80, F::ACK, ISN_C + 1, ISN_S + 1, 65535, 0, None),
        Dir::Out,
        SEC,
    );
    id
}

#[test]
fn tcp_handshake_data_and_close_walk_the_states() {
    let t = table(100, 4);
    let syn = seg(C, 1000, S, 80, F::SYN, ISN_C, 0, 65535, 0, None);
    let id = t.insert(new_state(&syn, Dir::Out), 0).unwrap();
    let i = t.info(id).unwrap();
    assert_eq!((i.src.state, i.dst.state), (tcps::SYN_SENT, tcps::CLOSED));
    assert_eq!(usize::from(i.timeout), PFTM_TCP_FIRST_PACKET);
    assert_eq!(t.half_open(), 1, "pfctl -si's half-open tcp");

    let tr = pass(
        &t,
        &seg(
            S,
            80,
            C,
            1000,
            F::SYN | F::ACK,
            ISN_S,
            ISN_C + 1,
            65535,
            0,
            None,
        ),
        Dir::In,
        SEC,
    );
    assert_eq!(tr.side, Side::Dst);
    assert_eq!(tr.id, id);
    assert_eq!(tr.rule, (0, 3));
    assert_eq!(tr.translate, None);
    let i = t.info(id).unwrap();
    assert_eq!(
        (i.src.state, i.dst.state),
        (tcps::ESTABLISHED, tcps::SYN_SENT)
    );
    assert_eq!(usize::from(i.timeout), PFTM_TCP_OPENING);

    let tr = pass(
        &t,
        &seg(C, 1000, S, 80, F::ACK, ISN_C + 1, ISN_S + 1, 65535, 0, None),
        Dir::Out,
        SEC,
    );
    assert_eq!(tr.side, Side::Src);
    let i = t.info(id).unwrap();
    assert_eq!(
        (i.src.state, i.dst.state),
        (tcps::ESTABLISHED, tcps::ESTABLISHED)
    );
    assert_eq!(usize::from(i.timeout), PFTM_TCP_ESTABLISHED);
    assert_eq!(t.half_open(), 0);

    pass(
        &t,
        &seg(
            C,
            1000,
            S,
            80,
            F::ACK | F::PUSH,
            ISN_C + 1,
            ISN_S + 1,
            65535,
            100,
            None,
        ),
        Dir::Out,
        2 * SEC,
    );
    pass(
        &t,
        &seg(
            S,
            80,
            C,
            1000,
            F::ACK,
            ISN_S + 1,
            ISN_C + 101,
            65535,
            0,
            None,
        ),
        Dir::In,
        2 * SEC,
    );

    pass(
        &t,
        &seg(
            C,
            1000,
            S,
            80,
            F::FIN | F::ACK,
            ISN_C + 101,
            ISN_S + 1,
            65535,
            0,
            None,
        ),
        Dir::Out,
        3 * SEC,
    );
    let i = t.info(id).unwrap();
    assert_eq!(i.src.state, tcps::CLOSING);
    assert_eq!(usize::from(i.timeout), PFTM_TCP_CLOSING);
    pass(
        &t,
        &seg(
            S,
            80,
            C,
            1000,
            F::ACK,
            ISN_S + 1,
            ISN_C + 102,
            65535,
            0,
            None,
        ),
        Dir::In,
        3 * SEC,
    );
    assert_eq!(t.info(id).unwrap().src.state, tcps::FIN_WAIT_2);
    pass(
        &t,
        &seg(
            S,
            80,
            C,
            1000,
            F::FIN | F::ACK,
            ISN_S + 1,
            ISN_C + 102,
            65535,
            0,
            None,
        ),
        Dir::In,
        3 * SEC,
    );
    let i = t.info(id).unwrap();
    assert_eq!(i.dst.state, tcps::CLOSING);
    assert_eq!(usize::from(i.timeout), PFTM_TCP_FIN_WAIT);
    pass(
        &t,
        &seg(
            C,
            1000,
            S,
            80,
            F::ACK,
            ISN_C + 102,
            ISN_S + 2,
            65535,
            0,
            None,
        ),
        Dir::Out,
        3 * SEC,
    );
    let i = t.info(id).unwrap();
    assert_eq!(
        (i.src.state, i.dst.state),
        (tcps::FIN_WAIT_2, tcps::FIN_WAIT_2)
    );
    assert_eq!(usize::from(i.timeout), PFTM_TCP_CLOSED);
    assert_eq!(i.packets, [5, 4]);
    assert_eq!(i.bytes, [200, 160]);
    // tcp.closed is 90 s
    assert_eq!(i.expires_at, 3 + 90);

    // a new SYN on the closed pair: the old state is doomed, rules decide,
    // and the new state replaces it
    let syn2 = seg(C, 1000, S, 80, F::SYN, 7777, 0, 65535, 0, None);
    assert!(test(&t, &syn2, Dir::Out, 4 * SEC).is_none());
    let id2 = t.insert(new_state(&syn2, Dir::Out), 4 * SEC).unwrap();
    assert_ne!(id, id2);
    assert!(t.info(id).is_none());
    assert_eq!(t.len(), 1);
}

#[test]
fn rst_in_window_closes_and_rst_off_sequence_is_refused() {
    let t = table(100, 4);
    let id = established(&t, None);
    let bad = seg(S, 80, C, 1000, F::RST, ISN_S + 1 + 5000, 0, 0, 0, None);
    assert_eq!(
        test(&t, &bad, Dir::In, 2 * SEC),
        Some(Err(crate::reason::Reason::StateMismatch))
    );
    assert_eq!(t.info(id).unwrap().src.state, tcps::ESTABLISHED);
    pass(
        &t,
        &seg(S, 80, C, 1000, F::RST, ISN_S + 1, 0, 0, 0, None),
        Dir::In,
        2 * SEC,
    );
    let i = t.info(id).unwrap();
    assert_eq!(
        (i.src.state, i.dst.state),
        (tcps::TIME_WAIT, tcps::TIME_WAIT)
    );
    assert_eq!(usize::from(i.timeout), PFTM_TCP_CLOSED);
}

#[test]
fn segment_outside_the_window_is_a_state_mismatch() {
    let t = table(100, 4);
    let id = established(&t, None);
    let far = seg(
        C,
        1000,
        S,
        80,
        F::ACK,
        ISN_C + 1 + 10_000_000,
        ISN_S + 1,
        65535,
        100,
        None,
    );
    assert_eq!(
        test(&t, &far, Dir::Out, 2 * SEC),
        Some(Err(crate::reason::Reason::StateMismatch))
    );
    // acking data the server never sent
    let ack = seg(
        C,
        1000,
        S,
        80,
        F::ACK,
        ISN_C + 1,
        ISN_S + 1 + 500_000,
        65535,
        0,
        None,
    );
    assert_eq!(
        test(&t, &ack, Dir::Out, 2 * SEC),
        Some(Err(crate::reason::Reason::StateMismatch))
    );
    // refused segments do not count
    assert_eq!(t.info(id).unwrap().packets, [2, 1]);
}

#[test]
fn window_scaling_widens_the_window() {
    for (ws, ok) in [(Some(7), true), (None, false)] {
        let t = table(100, 4);
        established(&t, ws);
        // the server opens its full (scaled) window
        pass(
            &t,
            &seg(S, 80, C, 1000, F::ACK, ISN_S + 1, ISN_C + 1, 65535, 0, None),
            Dir::In,
            2 * SEC,
        );
        let far = seg(
            C,
            1000,
            S,
            80,
            F::ACK,
            ISN_C + 1 + 1_000_000,
            ISN_S + 1,
            65535,
            1000,
            None,
        );
        let r = test(&t, &far, Dir::Out, 2 * SEC);
        assert_eq!(matches!(r, Some(Ok(_))), ok, "wscale {ws:?}: {r:?}");
    }
}

#[test]
fn modulate_state_rewrites_both_directions() {
    let t = table(100, 4);
    let syn = seg(C, 1000, S, 80, F::SYN, ISN_C, 0, 65535, 0, None);
    let mut ns = new_state(&syn, Dir::Out);
    ns.modulate = true;
    let id = t.insert(ns, 0).unwrap();
    let cdiff = t.info(id).unwrap().src.seqdiff;
    assert_ne!(cdiff, 0);
    // the server acks the modulated ISN
    let tr = pass(
        &t,
        &seg(
            S,
            80,
            C,
            1000,
            F::SYN | F::ACK,
            ISN_S,
            ISN_C + cdiff + 1,
            65535,
            0,
            None,
        ),
        Dir::In,
        SEC,
    );
    let sdiff = t.info(id).unwrap().dst.seqdiff;
    assert_ne!(sdiff, 0);
    assert_eq!(
        tr.seq,
        Some(SeqMod {
            seq_add: sdiff,
            ack_sub: cdiff
        })
    );
    let tr = pass(
        &t,
        &seg(
            C,
            1000,
            S,
            80,
            F::ACK,
            ISN_C + 1,
            ISN_S + sdiff + 1,
            65535,
            0,
            None,
        ),
        Dir::Out,
        SEC,
    );
    assert_eq!(
        tr.seq,
        Some(SeqMod {
            seq_add: cdiff,
            ack_sub: sdiff
        })
    );
    let i = t.info(id).unwrap();
    assert_eq!(
        (i.src.state, i.dst.state),
        (tcps::ESTABLISHED, tcps::ESTABLISHED)
    );
}

#[test]
fn sloppy_state_follows_one_half() {
    let t = table(100, 4);
    let syn = seg(C, 1000, S, 80, F::SYN, ISN_C, 0, 65535, 0, None);
    let mut ns = new_state(&syn, Dir::Out);
    ns.sloppy = true;
    let id = t.insert(ns, 0).unwrap();
    // only the client's half passes here; any sequence is fine
    pass(
        &t,
        &seg(C, 1000, S, 80, F::ACK, 9, 99_999_999, 65535, 0, None),
        Dir::Out,
        SEC,
    );
    let i = t.info(id).unwrap();
    assert!(i.sloppy);
    assert_eq!(
        (i.src.state, i.dst.state),
        (tcps::ESTABLISHED, tcps::ESTABLISHED)
    );
}

#[test]
fn udp_goes_single_then_multiple_with_its_timeouts() {
    let t = table(100, 4);
    let out = pd(proto::UDP, C, 5353, S, 53);
    let back = pd(proto::UDP, S, 53, C, 5353);
    let id = t.insert(new_state(&out, Dir::Out), 0).unwrap();
    assert_eq!(
        usize::from(t.info(id).unwrap().timeout),
        PFTM_UDP_FIRST_PACKET
    );
    pass(&t, &out, Dir::Out, SEC);
    assert_eq!(usize::from(t.info(id).unwrap().timeout), PFTM_UDP_SINGLE);
    pass(&t, &back, Dir::In, 2 * SEC);
    let i = t.info(id).unwrap();
    assert_eq!((i.src.state, i.dst.state), (udps::MULTIPLE, udps::SINGLE));
    assert_eq!(usize::from(i.timeout), PFTM_UDP_SINGLE);
    assert_eq!(i.expires_at, 2 + 30);
    pass(&t, &out, Dir::Out, 3 * SEC);
    let i = t.info(id).unwrap();
    assert_eq!((i.src.state, i.dst.state), (udps::MULTIPLE, udps::MULTIPLE));
    assert_eq!(usize::from(i.timeout), PFTM_UDP_MULTIPLE);
    assert_eq!(i.expires_at, 3 + 60);
    // a packet in the same direction but on another port has no state
    assert!(test(&t, &pd(proto::UDP, C, 5354, S, 53), Dir::Out, 3 * SEC).is_none());
}

#[test]
fn other_protocols_use_the_other_timeouts() {
    let t = table(100, 4);
    let gre = pd(47, C, 0, S, 0);
    let id = t.insert(new_state(&gre, Dir::Out), 0).unwrap();
    assert_eq!(
        usize::from(t.info(id).unwrap().timeout),
        PFTM_OTHER_FIRST_PACKET
    );
    pass(&t, &pd(47, S, 0, C, 0), Dir::In, SEC);
    pass(&t, &gre, Dir::Out, SEC);
    assert_eq!(
        usize::from(t.info(id).unwrap().timeout),
        PFTM_OTHER_MULTIPLE
    );
}

#[test]
fn limits_refuse_new_states_and_keep_old_ones() {
    let t = table(3, 4);
    let mut ids = Vec::new();
    for port in 0..3 {
        ids.push(
            t.insert(
                new_state(&pd(proto::UDP, C, 2000 + port, S, 53), Dir::Out),
                0,
            )
            .unwrap(),
        );
    }
    let r = t.insert(new_state(&pd(proto::UDP, C, 2003, S, 53), Dir::Out), 0);
    assert_eq!(r, Err(crate::reason::Reason::Memory));
    assert_eq!(t.counters().limit, 1);
    assert_eq!(t.len(), 3);
    for port in 0..3 {
        let tr = pass(&t, &pd(proto::UDP, S, 53, C, 2000 + port), Dir::In, SEC);
        assert_eq!(tr.id, ids[usize::from(port)]);
    }
    // a rule's max
    let t = table(100, 4);
    let mut ns = new_state(&pd(proto::UDP, C, 1, S, 53), Dir::Out);
    ns.max_states_rule = 1;
    t.insert(ns.clone(), 0).unwrap();
    ns.wire.port[1] = 2;
    ns.stack.port[1] = 2;
    assert_eq!(t.insert(ns, 0), Err(crate::reason::Reason::StateLimit));
    assert_eq!(t.counters().rule_limit, 1);
}

#[test]
fn same_key_same_direction_collides() {
    let t = table(100, 4);
    let p = pd(proto::UDP, C, 1, S, 53);
    t.insert(new_state(&p, Dir::Out), 0).unwrap();
    assert_eq!(
        t.insert(new_state(&p, Dir::Out), 0),
        Err(crate::reason::Reason::StateInsert)
    );
    assert_eq!(t.len(), 1);
    // an if-bound state on the same key coexists with the floating one
    let mut ns = new_state(&p, Dir::Out);
    ns.if_bound = Some(1);
    let bound = t.insert(ns, 0).unwrap();
    assert_eq!(pass(&t, &p, Dir::Out, SEC).id, bound);
    assert_eq!(t.len(), 2);
}

#[test]
fn purge_removes_states_when_due() {
    let t = table(100, 8);
    let p = pd(proto::UDP, C, 1, S, 53);
    let id = t.insert(new_state(&p, Dir::Out), 100 * SEC).unwrap();
    for port in 2..50 {
        t.insert(
            new_state(&pd(proto::UDP, C, port, S, 53), Dir::Out),
            130 * SEC,
        )
        .unwrap();
    }
    // udp.first is 60 s
    assert!(test(&t, &p, Dir::Out, 159 * SEC).is_some());
    assert_eq!(t.purge(159 * SEC, usize::MAX), 0);
    // due but not purged yet: already gone for packets
    assert!(test(&t, &p, Dir::Out, 220 * SEC).is_none());
    // the first one was refreshed at 159 (udp.single 30 s)
    assert_eq!(t.purge(188 * SEC, usize::MAX), 0);
    assert_eq!(t.purge(189 * SEC, usize::MAX), 1);
    assert!(t.info(id).is_none());
    assert!(!t.remove(id));
    // bounded walks: small budgets get there in steps
    let mut removed = 0;
    for _ in 0..1000 {
        removed += t.purge(190 * SEC, 5);
    }
    assert_eq!(removed, 48);
    assert!(t.is_empty());
    assert_eq!(t.counters().removals, 49);
}

#[test]
fn adaptive_timeouts_shrink_as_the_table_fills() {
    let mut timeouts = DEFAULT_TIMEOUTS;
    timeouts[PFTM_ADAPTIVE_START] = 10;
    timeouts[PFTM_ADAPTIVE_END] = 20;
    let t = StateTable::new(StateConfig {
        limit: 100,
        timeouts,
        shards: 4,
        seed: 1,
    });
    let mut ids = Vec::new();
    for port in 0..15 {
        ids.push(
            t.insert(new_state(&pd(47, C, 0, S, port), Dir::Out), 0)
                .unwrap(),
        );
    }
    // other.first 60 s scaled by (20 - 15) / (20 - 10)
    assert_eq!(t.info(ids[0]).unwrap().expires_at, 30);
    for port in 15..20 {
        t.insert(new_state(&pd(47, C, 0, S, port), Dir::Out), 0)
            .unwrap();
    }
    assert_eq!(t.info(ids[0]).unwrap().expires_at, 0);
    assert_eq!(t.purge(0, usize::MAX), 20);

    // a rule's own adaptive settings count only its states
    let t = table(100, 4);
    let mut ns = new_state(&pd(47, C, 0, S, 0), Dir::Out);
    ns.timeouts[PFTM_ADAPTIVE_START] = 1;
    ns.timeouts[PFTM_ADAPTIVE_END] = 5;
    ns.timeouts[PFTM_OTHER_FIRST_PACKET] = 100;
    let first = t.insert(ns.clone(), 0).unwrap();
    assert_eq!(t.info(first).unwrap().expires_at, 100);
    ns.wire.port[1] = 1;
    ns.stack.port[1] = 1;
    t.insert(ns, 0).unwrap();
    // 2 states of the rule: 100 * (5 - 2) / (5 - 1)
    assert_eq!(t.info(first).unwrap().expires_at, 75);
}

/// C:1000 -> S:53 leaves as P:6000 -> S:53.
pub(super) fn nat_state(t: &StateTable) -> StateId {
    let orig = pd(proto::UDP, C, 1000, S, 53);
    let xlat = pd(proto::UDP, P, 6000, S, 53);
    let mut ns = new_state(&orig, Dir::Out);
    ns.wire = StateKey::from_pdesc(&xlat, Dir::Out, 0);
    ns.translated = true;
    t.insert(ns, 0).unwrap()
}

#[test]
fn both_keys_reach_one_state_and_say_how_to_translate() {
    for shards in [1, 2, 3, 64] {
        let t = table(100, shards);
        let id = nat_state(&t);
        let tr = pass(&t, &pd(proto::UDP, C, 1000, S, 53), Dir::Out, SEC);
        assert_eq!(tr.id, id);
        let rw = tr.translate.expect("outbound is translated");
        assert_eq!((rw.src, rw.dst), ((v4(P), 6000), (v4(S), 53)));
        let tr = pass(&t, &pd(proto::UDP, S, 53, P, 6000), Dir::In, SEC);
        assert_eq!(tr.id, id);
        assert_eq!(tr.side, Side::Dst);
        let rw = tr.translate.expect("reply is translated back");
        assert_eq!((rw.src, rw.dst), ((v4(S), 53), (v4(C), 1000)));
        // the keys match only in their own direction
        assert!(test(&t, &pd(proto::UDP, P, 6000, S, 53), Dir::Out, SEC).is_none());
        assert!(t
            .lookup(&StateKey::from_pdesc(
                &pd(proto::UDP, C, 1000, S, 53),
                Dir::Out,
                0
            ))
            .is_some());
        let info = t.info(id).unwrap();
        assert!(info.translated);
        assert_ne!(info.wire, info.stack);
        assert!(t.remove(id));
        assert!(t.is_empty());
        assert!(test(&t, &pd(proto::UDP, C, 1000, S, 53), Dir::Out, SEC).is_none());
        assert!(test(&t, &pd(proto::UDP, S, 53, P, 6000), Dir::In, SEC).is_none());
        // both keys are free again
        nat_state(&t);
        assert_eq!(t.purge(1000 * SEC, usize::MAX), 1);
        assert!(t.is_empty());
    }
}

fn icmp_error(outer_src: [u8; 4], outer_dst: [u8; 4], inner: IcmpInner) -> Pdesc {
    let mut p = pd(proto::ICMP, outer_src, 0, outer_dst, 0);
    p.icmp_type = Some(3);
    p.icmp_code = Some(4);
    p.ip_len = 56;
    p.icmp_inner = Some(inner);
    p
}

#[test]
fn icmp_error_matches_its_tcp_state_and_checks_the_quoted_seq() {
    let t = table(100, 4);
    let id = established(&t, None);
    let quoted = |seq| IcmpInner {
        proto: proto::TCP,
        src: v4(C),
        dst: v4(S),
        sport: 1000,
        dport: 80,
        seq: Some(seq),
        icmp_type: None,
        ip_off: 42,
        l4_off: 62,
    };
    let e = icmp_error(R, C, quoted(ISN_C + 1));
    let tr = match t.test_icmp_error(&e, Dir::In, 1, 0, 2 * SEC, 56) {
        Some(Ok(tr)) => tr,
        other => panic!("{other:?}"),
    };
    assert_eq!(tr.id, id);
    assert_eq!((tr.inner, tr.translate), (None, None));
    let e = icmp_error(R, C, quoted(ISN_C + 50_000_000));
    assert_eq!(
        t.test_icmp_error(&e, Dir::In, 1, 0, 2 * SEC, 56),
        Some(Err(crate::reason::Reason::StateMismatch))
    );
    // quoting a packet the error's destination did not send
    let e = icmp_error(R, S, quoted(ISN_C + 1));
    assert_eq!(
        t.test_icmp_error(&e, Dir::In, 1, 0, 2 * SEC, 56),
        Some(Err(crate::reason::Reason::StateMismatch))
    );
    // a connection with no state
    let mut q = quoted(ISN_C + 1);
    q.sport = 1001;
    assert!(t
        .test_icmp_error(&icmp_error(R, C, q), Dir::In, 1, 0, 2 * SEC, 56)
        .is_none());
}

#[test]
fn icmp_error_under_nat_rewrites_inner_and_outer() {
    for shards in [1, 64] {
        let t = table(100, shards);
        let id = nat_state(&t);
        // a router answers the translated packet P:6000 -> S:53
        let e = icmp_error(
            R,
            P,
            IcmpInner {
                proto: proto::UDP,
                src: v4(P),
                dst: v4(S),
                sport: 6000,
                dport: 53,
                seq: None,
                icmp_type: None,
                ip_off: 42,
                l4_off: 62,
            },
        );
        let tr = match t.test_icmp_error(&e, Dir::In, 1, 0, SEC, 56) {
            Some(Ok(tr)) => tr,
            other => panic!("{other:?}"),
        };
        assert_eq!(tr.id, id);
        let inner = tr.inner.expect("quoted packet translated back");
        assert_eq!((inner.src, inner.dst), ((v4(C), 1000), (v4(S), 53)));
        let outer = tr.translate.expect("outer destination follows");
        assert_eq!((outer.src.0, outer.dst.0), (v4(R), v4(C)));
    }
}

#[test]
fn events_report_changes_and_count_drops() {
    let t = table(100, 2);
    let id0 = t
        .insert(new_state(&pd(proto::UDP, C, 1, S, 53), Dir::Out), 0)
        .unwrap();
    let (tx, rx) = crossbeam_channel::bounded(2);
    t.set_events(Some(tx));
    let id = t
        .insert(new_state(&pd(proto::UDP, C, 2, S, 53), Dir::Out), 0)
        .unwrap();
    pass(&t, &pd(proto::UDP, S, 53, C, 2), Dir::In, SEC);
    assert!(t.remove(id0));
    match rx.try_recv().unwrap() {
        StateEvent::Insert(i) => assert_eq!(i.id, id),
        e => panic!("{e:?}"),
    }
    match rx.try_recv().unwrap() {
        StateEvent::Update(i) => assert_eq!(i.dst.state, udps::SINGLE),
        e => panic!("{e:?}"),
    }
    assert_eq!(t.counters().event_drops, 1);
    t.set_events(None);
    assert!(t.remove(id));
    assert!(rx.try_recv().is_err());
    assert_eq!(t.counters().event_drops, 1);
}

/// pfsync keeps a backup's TCP windows fresh: an established state in
/// use tells of itself once a second, not once a packet.
#[test]
fn busy_tcp_states_report_once_a_second() {
    let t = table(100, 2);
    established(&t, None);
    let (tx, rx) = crossbeam_channel::bounded(64);
    t.set_events(Some(tx));
    let data = |i: u32, now: u64| {
        let p = seg(
            C,
            1000,
            S,
            80,
            F::ACK,
            ISN_C + 1 + 100 * i,
            ISN_S + 1,
            65535,
            100,
            None,
        );
        pass(&t, &p, Dir::Out, now);
    };
    // ten segments within the second of the handshake: nothing new
    for i in 0..10 {
        data(i, SEC + 100_000_000);
    }
    assert!(rx.try_recv().is_err(), "no update within the same second");
    // ten more over the next second: one update, with the new seqlo
    for i in 10..20 {
        data(i, 2 * SEC + u64::from(i) * 10_000_000);
    }
    match rx.try_recv().unwrap() {
        StateEvent::Update(i) => assert_eq!(i.src.seqlo, ISN_C + 1 + 100 * 11),
        e => panic!("{e:?}"),
    }
    assert!(rx.try_recv().is_err(), "one update per second");
}

#[test]
fn states_snapshot_lists_everything() {
    let t = table(1000, 8);
    for port in 0..100 {
        t.insert(new_state(&pd(proto::UDP, C, port, S, 53), Dir::Out), 0)
            .unwrap();
    }
    nat_state(&t);
    let all = t.states();
    assert_eq!(all.len(), 101);
    assert_eq!(all.iter().filter(|s| s.translated).count(), 1);
}

fn src_tracked(p: &Pdesc, t: SrcTrack) -> NewState {
    let mut ns = new_state(p, Dir::In);
    ns.src_track = Some(t);
    ns
}

#[test]
fn max_src_states_and_nodes_refuse_new_states() {
    let t = table(100, 4);
    let lim = SrcTrack {
        per_rule: true,
        max_src_states: 2,
        max_src_nodes: 2,
        ..SrcTrack::default()
    };
    let from = |src: [u8; 4], port| pd(proto::UDP, src, port, S, 53);
    t.insert(src_tracked(&from(C, 1), lim), 0).unwrap();
    let second = t.insert(src_tracked(&from(C, 2), lim), 0).unwrap();
    assert_eq!(
        t.insert(src_tracked(&from(C, 3), lim), 0),
        Err(crate::reason::Reason::SrcLimit)
    );
    // a second source is a second node; a third node is refused
    t.insert(src_tracked(&from(R, 1), lim), 0).unwrap();
    assert_eq!(
        t.insert(src_tracked(&from(P, 1), lim), 0),
        Err(crate::reason::Reason::SrcLimit)
    );
    assert_eq!(t.counters().src_limit, 2);
    assert_eq!(t.src_node_count(), 2);
    // a state of the full source goes: room for one more
    assert!(t.remove(second));
    t.insert(src_tracked(&from(C, 3), lim), 0).unwrap();
    // nodes outlive their last state by src.track (0 s by default)
    for st in t.states() {
        assert!(t.remove(st.id));
    }
    assert_eq!(t.src_node_count(), 2);
    t.purge(SEC, usize::MAX);
    assert_eq!(t.src_node_count(), 0);
}

#[test]
fn max_src_conn_overloads_and_flushes_the_source() {
    let t = table(100, 4);
    let lim = SrcTrack {
        per_rule: false,
        max_src_conn: 1,
        overload: true,
        flush: Some(Flush::Global),
        ..SrcTrack::default()
    };
    // R connects in to S twice; the second established connection is one
    // too many
    let mut ids = Vec::new();
    for port in [4000, 4001] {
        let syn = seg(R, port, S, 22, F::SYN, ISN_C, 0, 65535, 0, None);
        ids.push(t.insert(src_tracked(&syn, lim), 0).unwrap());
        pass(
            &t,
            &seg(
                S,
                22,
                R,
                port,
                F::SYN | F::ACK,
                ISN_S,
                ISN_C + 1,
                65535,
                0,
                None,
            ),
            Dir::Out,
            SEC,
        );
    }
    // an unrelated state from another source stays
    let other = t
        .insert(new_state(&pd(proto::UDP, C, 1, S, 53), Dir::In), 0)
        .unwrap();
    pass(
        &t,
        &seg(R, 4000, S, 22, F::ACK, ISN_C + 1, ISN_S + 1, 65535, 0, None),
        Dir::In,
        SEC,
    );
    let last = seg(R, 4001, S, 22, F::ACK, ISN_C + 1, ISN_S + 1, 65535, 0, None);
    assert_eq!(
        test(&t, &last, Dir::In, SEC),
        Some(Err(crate::reason::Reason::SrcLimit))
    );
    assert_eq!(
        t.drain_overloads(),
        vec![Overload {
            rule: (0, 3),
            af: Af::Inet,
            addr: v4(R),
        }]
    );
    assert!(t.drain_overloads().is_empty());
    // both of R's states are flushed, the other one is not
    assert!(test(
        &t,
        &seg(R, 4000, S, 22, F::ACK, ISN_C + 1, ISN_S + 1, 65535, 0, None),
        Dir::In,
        SEC
    )
    .is_none());
    assert_eq!(t.purge(SEC, usize::MAX), 2);
    assert!(t.info(other).is_some());
    assert!(t.info(ids[0]).is_none());
}

#[test]
fn conn_rate_threshold_decays() {
    let mut th = srcnode::Threshold::new(2, 10);
    th.add(100);
    th.add(100);
    assert!(!th.exceeded());
    th.add(100);
    assert!(th.exceeded());
    // ten seconds later the meter has emptied
    th.add(110);
    assert!(!th.exceeded());
}

#[test]
fn concurrent_nat_inserts_lookups_removals_and_purges_stay_consistent() {
    let t = table(100_000, 16);
    let n: u16 = 2000;
    let flow = |i: u16| {
        let orig = pd(proto::UDP, C, 10_000 + i, S, 53);
        let xlat = pd(proto::UDP, P, 30_000 + i, S, 53);
        let mut ns = new_state(&orig, Dir::Out);
        ns.wire = StateKey::from_pdesc(&xlat, Dir::Out, 0);
        ns.translated = true;
        (ns, orig, pd(proto::UDP, S, 53, P, 30_000 + i))
    };
    let barrier = std::sync::Barrier::new(2);
    std::thread::scope(|s| {
        for part in 0..2u16 {
            let (t, barrier) = (&t, &barrier);
            s.spawn(move || {
                for round in 0..3u64 {
                    barrier.wait();
                    // leftovers of the last round are due now; both
                    // threads purge concurrently with the other's work
                    t.purge(round * 100 * SEC, usize::MAX);
                    for i in (part..n).step_by(2) {
                        let (ns, out, back) = flow(i);
                        let id = t.insert(ns, round * 100 * SEC).unwrap();
                        assert_eq!(pass(t, &out, Dir::Out, round * 100 * SEC).id, id);
                        assert_eq!(pass(t, &back, Dir::In, round * 100 * SEC).id, id);
                        if i % 4 < 2 {
                            assert!(t.remove(id));
                        }
                    }
                }
            });
        }
    });
    assert_eq!(t.half_open(), t.half_open_walk());
    t.purge(1000 * SEC, usize::MAX);
    assert!(t.is_empty(), "{} left", t.len());
    assert_eq!(t.half_open(), 0);
    for i in 0..n {
        let (_, out, back) = flow(i);
        assert!(test(&t, &out, Dir::Out, 1000 * SEC).is_none());
        assert!(test(&t, &back, Dir::In, 1000 * SEC).is_none());
    }
    for i in 0..16 {
        let g = t.lock(i);
        assert_eq!((g.local.len(), g.foreign.len()), (0, 0));
    }
}

#[test]
fn if_bound_states_match_only_on_their_interface() {
    let t = table(100, 4);
    let p = pd(proto::UDP, C, 1, S, 53);
    let mut ns = new_state(&p, Dir::Out);
    ns.if_bound = Some(7);
    let id = t.insert(ns, 0).unwrap();
    let k = StateKey::from_pdesc(&p, Dir::Out, 0);
    assert!(t.test(&k, &p, Dir::Out, 1, SEC, 40).is_none());
    assert_eq!(
        t.test(&k, &p, Dir::Out, 7, SEC, 40).unwrap().unwrap().id,
        id
    );
    assert_eq!(t.info(id).unwrap().if_bound, Some(7));
}

#[test]
fn if_bound_count_follows_inserts_and_removals() {
    // the lookup stops at the first floating match only while a shard
    // holds no if-bound state: the count must come back to zero
    let t = table(100, 1);
    let p = pd(proto::UDP, C, 1, S, 53);
    let floating = t.insert(new_state(&p, Dir::Out), 0).unwrap();
    let mut ns = new_state(&p, Dir::Out);
    ns.if_bound = Some(7);
    let bound = t.insert(ns, 0).unwrap();
    assert_eq!(t.lock(0).bound, 1);
    let k = StateKey::from_pdesc(&p, Dir::Out, 0);
    assert_eq!(
        t.test(&k, &p, Dir::Out, 7, SEC, 40).unwrap().unwrap().id,
        bound
    );
    assert_eq!(
        t.test(&k, &p, Dir::Out, 1, SEC, 40).unwrap().unwrap().id,
        floating
    );
    assert!(t.remove(bound));
    assert_eq!(t.lock(0).bound, 0);
    assert_eq!(
        t.test(&k, &p, Dir::Out, 7, SEC, 40).unwrap().unwrap().id,
        floating
    );
    assert!(t.remove(floating));
    assert_eq!(t.lock(0).bound, 0);
}

#[test]
fn foreign_if_bound_count_follows_inserts_and_removals() {
    let t = table(100, 64);
    let bound_total = |t: &StateTable| (0..64).map(|i| t.lock(i).foreign_bound).sum::<u32>();
    let foreign_total = |t: &StateTable| (0..64).map(|i| t.lock(i).foreign.len()).sum::<usize>();
    let mut ids = Vec::new();
    for port in 1..40u16 {
        let p = pd(proto::UDP, C, port, S, 53);
        let mut ns = new_state(&p, Dir::Out);
        // translated on side 0 (as `pass out ... rdr-to` would: the
        // shard hash reads side 0, so these two keys hash apart), half
        // of them if-bound
        ns.wire.port[0] = port + 1000;
        if port % 2 == 0 {
            ns.if_bound = Some(3);
        }
        ids.push((t.insert(ns, 0).unwrap(), p));
    }
    // most stack keys hash to another shard than their state's
    assert!(foreign_total(&t) > 20);
    assert!(bound_total(&t) > 0);
    assert!(bound_total(&t) as usize <= foreign_total(&t));
    for (id, p) in &ids {
        // the outbound packet finds its state by the stack key
        let k = StateKey::from_pdesc(p, Dir::Out, 0);
        let got = t.test(&k, p, Dir::Out, 3, SEC, 40).unwrap().unwrap();
        assert_eq!(got.id, *id);
    }
    for (id, _) in ids {
        assert!(t.remove(id));
    }
    assert_eq!((bound_total(&t), foreign_total(&t)), (0, 0));
}

#[test]
fn icmp_echo_state_checks_the_direction() {
    let t = table(100, 4);
    let mut req = pd(proto::ICMP, C, 77, S, 77);
    req.icmp_type = Some(8);
    let mut rep = pd(proto::ICMP, S, 77, C, 77);
    rep.icmp_type = Some(0);
    let id = t.insert(new_state(&req, Dir::Out), 0).unwrap();
    assert_eq!(
        usize::from(t.info(id).unwrap().timeout),
        PFTM_ICMP_FIRST_PACKET
    );
    assert_eq!(pass(&t, &rep, Dir::In, SEC).id, id);
    assert_eq!(
        usize::from(t.info(id).unwrap().timeout),
        PFTM_ICMP_ERROR_REPLY
    );
    // a request coming back the other way is not this state's
    let mut req_in = rep;
    req_in.icmp_type = Some(8);
    assert_eq!(
        test(&t, &req_in, Dir::In, SEC),
        Some(Err(crate::reason::Reason::Match))
    );
}

#[test]
fn syn_on_an_established_state_is_dropped() {
    let t = table(100, 4);
    established(&t, None);
    let syn = seg(C, 1000, S, 80, F::SYN, 123, 0, 65535, 0, None);
    assert_eq!(
        test(&t, &syn, Dir::Out, 2 * SEC),
        Some(Err(crate::reason::Reason::Match))
    );
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn segment() -> impl Strategy<Value = (bool, u8, u32, u32, u16, u16, Option<u8>)> {
        (
            any::<bool>(),
            any::<u8>(),
            any::<u32>(),
            any::<u32>(),
            any::<u16>(),
            any::<u16>(),
            proptest::option::of(any::<u8>()),
        )
    }

    proptest! {
        /// Any segment sequence on any state: never a panic (overflow
        /// included: tests run with overflow checks), and a state that
        /// passes a segment keeps answering.
        #[test]
        fn tcp_tracking_never_panics(
            first in segment(),
            rest in proptest::collection::vec(segment(), 0..40),
            modulate in any::<bool>(),
            sloppy in any::<bool>(),
        ) {
            let t = table(100, 2);
            let mk = |(fc, flags, seq, ack, win, len, ws): (bool, u8, u32, u32, u16, u16, Option<u8>)| {
                if fc {
                    (seg(C, 1000, S, 80, flags, seq, ack, win, len, ws), Dir::Out)
                } else {
                    (seg(S, 80, C, 1000, flags, seq, ack, win, len, ws), Dir::In)
                }
            };
            let (p, dir) = mk(first);
            let mut ns = new_state(&p, dir);
            ns.modulate = modulate;
            ns.sloppy = sloppy;
            let id = t.insert(ns, 0).unwrap();
            for (n, s) in rest.into_iter().enumerate() {
                let (p, dir) = mk(s);
                if let Some(Ok(tr)) = test(&t, &p, dir, n as u64 * SEC / 4) {
                    prop_assert_eq!(tr.id, id);
                }
                let mut e = icmp_error(R, R, IcmpInner {
                    proto: proto::TCP,
                    src: p.src,
                    dst: p.dst,
                    sport: p.sport,
                    dport: p.dport,
                    seq: p.tcp.map(|t| t.seq),
                    icmp_type: None,
                    ip_off: 42,
                    l4_off: 62,
                });
                e.dst = p.src;
                let _ = t.test_icmp_error(&e, dir, 1, 0, n as u64 * SEC / 4, 56);
                // the kept half-open count follows every change
                prop_assert_eq!(t.half_open(), t.half_open_walk());
            }
            t.purge(u64::MAX, usize::MAX);
            prop_assert!(t.is_empty());
            prop_assert_eq!(t.half_open(), 0);
        }
    }
}

#[test]
fn icmp_error_from_behind_nat_leaves_translated() {
    let t = table(100, 64);
    let id = nat_state(&t);
    // C refuses S's reply: the error quotes S:53 -> C:1000
    let e = icmp_error(
        C,
        S,
        IcmpInner {
            proto: proto::UDP,
            src: v4(S),
            dst: v4(C),
            sport: 53,
            dport: 1000,
            seq: None,
            icmp_type: None,
            ip_off: 42,
            l4_off: 62,
        },
    );
    let tr = t
        .test_icmp_error(&e, Dir::Out, 1, 0, SEC, 56)
        .unwrap()
        .unwrap();
    assert_eq!(tr.id, id);
    assert_eq!(tr.side, Side::Src);
    let inner = tr.inner.unwrap();
    assert_eq!((inner.src, inner.dst), ((v4(S), 53), (v4(P), 6000)));
    let outer = tr.translate.unwrap();
    assert_eq!((outer.src.0, outer.dst.0), (v4(P), v4(S)));
}

#[test]
fn icmp_error_quoting_a_modulated_segment_is_demodulated() {
    let t = table(100, 4);
    let syn = seg(C, 1000, S, 80, F::SYN, ISN_C, 0, 65535, 0, None);
    let mut ns = new_state(&syn, Dir::Out);
    ns.modulate = true;
    let id = t.insert(ns, 0).unwrap();
    let cdiff = t.info(id).unwrap().src.seqdiff;
    // S's side saw the modulated ISN; a router past the firewall quotes it
    let e = icmp_error(
        R,
        C,
        IcmpInner {
            proto: proto::TCP,
            src: v4(C),
            dst: v4(S),
            sport: 1000,
            dport: 80,
            seq: Some(ISN_C.wrapping_add(cdiff)),
            icmp_type: None,
            ip_off: 42,
            l4_off: 62,
        },
    );
    let tr = t
        .test_icmp_error(&e, Dir::In, 1, 0, SEC, 56)
        .unwrap()
        .unwrap();
    assert_eq!(tr.inner_seq_sub, cdiff);
}

#[test]
fn nat_out_and_rdr_in_keep_both_keys_in_one_shard() {
    // side 1 is what an outbound nat-to or an inbound rdr-to changes:
    // no cross-shard entry for them
    let t = table(1000, 64);
    for port in 1..200u16 {
        let p = pd(proto::UDP, C, port, S, 80);
        let mut ns = new_state(&p, Dir::Out);
        ns.wire.port[1] = port + 1000;
        ns.wire.addr[1] ^= 0xff << 96;
        t.insert(ns, 0).unwrap();
    }
    let foreign: usize = (0..64).map(|i| t.lock(i).foreign.len()).sum();
    assert_eq!(foreign, 0);
}
