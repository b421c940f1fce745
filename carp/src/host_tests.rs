//! [`CarpHost`] driven by hand: receive validation in OpenBSD's order
//! with its counters, the real ucarp advert, loop detection, logging,
//! send-error demotion, ucarp-compat advskew, and never panicking on
//! random input.

use crate::auth::Key;
use crate::event::{Event, Family, LinkState, State};
use crate::host::{CarpHost, Received};
use crate::stats::CarpStats;
use crate::sysctl::{priority, Sysctl};
use crate::timing::master_down_ns;
use crate::wire::{CarpPacket, CarpRepr};
use crate::{CarpIfConfig, SendResult};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr};

const UCARP_FRAME: &[u8] = include_bytes!("../tests/fixtures/ucarp-advert-vhid1.bin");
const SEC: u64 = 1_000_000_000;
const GROUP: IpAddr = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
const UCARP_SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 11));

fn ucarp_payload() -> &'static [u8] {
    &UCARP_FRAME[0x22..]
}

/// The OpenBSD side of the ucarp lab: carp1 on em0, vhid 1, pass
/// lanpasswd, the one VIP 198.51.100.100.
fn lab_cfg(advskew: u8) -> CarpIfConfig {
    let mut c = CarpIfConfig::new(
        "carp1",
        "em0",
        [2, 0, 0, 0, 0, 0x0d],
        1,
        Key::from_passphrase(b"lanpasswd"),
    );
    c.nodes[0].advskew = advskew;
    c.v4 = vec![Ipv4Addr::new(198, 51, 100, 100)];
    c
}

fn host(sysctl: Sysctl, advskew: u8) -> CarpHost {
    let mut h = CarpHost::new(sysctl, 0x5eed);
    h.add_interface(0, lab_cfg(advskew)).unwrap();
    h
}

fn rx(payload: &[u8]) -> Received<'_> {
    Received {
        carpdev: "em0",
        src: UCARP_SRC,
        dst: GROUP,
        ttl: 255,
        payload,
    }
}

fn events(h: &mut CarpHost) -> Vec<Event> {
    std::iter::from_fn(|| h.poll_event()).collect()
}

fn logs(h: &mut CarpHost) -> Vec<String> {
    events(h)
        .into_iter()
        .filter_map(|e| match e {
            Event::Log(l) => Some(l.to_string()),
            _ => None,
        })
        .collect()
}

fn all_logs() -> Sysctl {
    Sysctl {
        log: priority::DEBUG,
        ..Sysctl::default()
    }
}

#[test]
fn the_real_ucarp_advert_is_accepted_and_restarts_the_backup_timer() {
    let mut h = host(all_logs(), 100);
    events(&mut h);
    assert_eq!(h.interface("carp1").unwrap().state(), State::Backup);
    assert_eq!(h.poll_timeout(), Some(master_down_ns(1, 100)));
    h.handle_advert(2 * SEC, &rx(ucarp_payload()));
    assert_eq!(h.stats().ipackets, 1);
    assert_eq!(h.stats().dropped(), 0, "{:?}", h.stats());
    assert_eq!(h.poll_timeout(), Some(2 * SEC + master_down_ns(1, 100)));
    assert_eq!(h.interface("carp1").unwrap().state(), State::Backup);
}

#[test]
fn a_master_with_higher_advskew_yields_to_the_ucarp_advert() {
    let mut h = host(all_logs(), 100);
    h.force_state(0, "carp1", State::Master).unwrap();
    assert_eq!(h.interface("carp1").unwrap().state(), State::Master);
    events(&mut h);
    h.handle_advert(SEC, &rx(ucarp_payload()));
    assert_eq!(h.interface("carp1").unwrap().state(), State::Backup);
    let l = logs(&mut h);
    assert!(
        l.contains(&"carp1: state transition: MASTER -> BACKUP".to_string()),
        "{l:?}"
    );
}

#[test]
fn our_advert_for_the_lab_config_matches_ucarps_hmac_form() {
    // Same key, vhid and single VIP: our md over ucarp's counter must
    // equal the md in the capture (the ucarp case of the same function).
    let mut h = host(Sysctl::default(), 0);
    h.force_state(0, "carp1", State::Master).unwrap();
    let tx = h.poll_transmit().unwrap();
    assert_eq!(tx.dst, GROUP);
    assert_eq!(tx.ttl, 255);
    assert_eq!(tx.src_mac, [0, 0, 0x5e, 0, 1, 1]);
    let ours = CarpRepr::parse(&CarpPacket::new_checked(&tx.payload[..]).unwrap()).unwrap();
    assert_eq!(
        (ours.version, ours.type_, ours.authlen, ours.advbase),
        (2, 1, 7, 1)
    );
    let theirs = CarpRepr::parse(&CarpPacket::new_checked(ucarp_payload()).unwrap()).unwrap();
    let auth = &h.interface("carp1").unwrap().vhost(1).unwrap().auth;
    assert_eq!(auth.generate(&theirs.counter.to_be_bytes()), theirs.md);
}

/// Each rejection in §3's order bumps exactly its counter.
#[test]
fn every_rejection_is_counted_in_openbsds_order() {
    let mut h = host(all_logs(), 0);
    events(&mut h);
    let good = ucarp_payload().to_vec();
    let check = |h: &mut CarpHost, r: Received<'_>, field: &str, log: Option<&str>| {
        let before = *h.stats();
        h.handle_advert(SEC, &r);
        let after = *h.stats();
        let changed: Vec<&str> = crate::stats::NAMES
            .iter()
            .zip(before.to_array().iter().zip(after.to_array()))
            .filter(|(_, (b, a))| **b != *a)
            .map(|(n, _)| *n)
            .filter(|n| *n != "ipackets" && *n != "ipackets6")
            .collect();
        assert_eq!(changed, vec![field]);
        let l = logs(h);
        match log {
            Some(text) => assert_eq!(l, vec![text.to_string()]),
            None => assert!(l.is_empty(), "{l:?}"),
        }
    };
    check(
        &mut h,
        Received {
            carpdev: "em1",
            ..rx(&good)
        },
        "badif",
        Some("carp: packet received on non-carp interface: em1"),
    );
    check(
        &mut h,
        Received {
            ttl: 254,
            ..rx(&good)
        },
        "badttl",
        Some("carp: received ttl 254 != 255 on em0"),
    );
    check(
        &mut h,
        rx(&good[..35]),
        "badlen",
        Some("carp: packet too short 35 on em0"),
    );
    let mut bad = good.clone();
    bad[20] ^= 0xff;
    check(
        &mut h,
        rx(&bad),
        "badsum",
        Some("carp: checksum failed on em0"),
    );
    let mut other_vhid = good.clone();
    other_vhid[1] = 9;
    CarpPacket::new_unchecked(&mut other_vhid[..]).fill_checksum();
    check(&mut h, rx(&other_vhid), "badvhid", None);
    let mut v3 = good.clone();
    v3[0] = 0x31;
    CarpPacket::new_unchecked(&mut v3[..]).fill_checksum();
    check(
        &mut h,
        rx(&v3),
        "badver",
        Some("carp1: invalid version 3 != 2"),
    );
    let mut md = good.clone();
    md[30] ^= 1;
    CarpPacket::new_unchecked(&mut md[..]).fill_checksum();
    check(&mut h, rx(&md), "badauth", Some("carp1: incorrect hash"));
    // IPv6: too short says it differently.
    let v6 = Received {
        dst: "ff02::12".parse().unwrap(),
        ..rx(&good[..10])
    };
    check(&mut h, v6, "badlen", Some("carp: packet size 10 too small"));
    assert_eq!(h.stats().ipackets, 7);
    assert_eq!(h.stats().ipackets6, 1);
}

#[test]
fn type_and_authlen_are_not_checked() {
    let mut h = host(Sysctl::default(), 100);
    for (off, val) in [(0usize, 0x22u8), (3, 0)] {
        let mut p = ucarp_payload().to_vec();
        p[off] = val;
        CarpPacket::new_unchecked(&mut p[..]).fill_checksum();
        h.handle_advert(SEC, &rx(&p));
    }
    assert_eq!(h.stats().dropped(), 0);
}

#[test]
fn allow_zero_counts_ipackets_and_drops_silently() {
    let mut h = host(
        Sysctl {
            allow: false,
            ..all_logs()
        },
        100,
    );
    events(&mut h);
    h.handle_advert(SEC, &rx(ucarp_payload()));
    assert_eq!(h.stats().ipackets, 1);
    assert_eq!(h.stats().dropped(), 0);
    assert_eq!(
        h.poll_timeout(),
        Some(master_down_ns(1, 100)),
        "timer not restarted"
    );
    assert!(logs(&mut h).is_empty());
}

#[test]
fn our_own_advert_looped_back_is_a_detected_loop() {
    let mut h = host(all_logs(), 0);
    h.force_state(0, "carp1", State::Master).unwrap();
    events(&mut h);
    let tx = h.poll_transmit().unwrap();
    h.handle_advert(SEC, &rx(&tx.payload));
    assert_eq!(h.stats().badauth, 1);
    assert_eq!(h.interface("carp1").unwrap().state(), State::Master);
    assert_eq!(
        logs(&mut h),
        vec!["carp1: replay or network loop detected".to_string()]
    );
}

#[test]
fn default_log_level_logs_only_master_backup_transitions() {
    let mut h = CarpHost::new(Sysctl::default(), 1);
    h.add_interface(0, lab_cfg(0)).unwrap();
    // INIT -> BACKUP is WARNING: not logged at the default LOG_CRIT.
    assert!(logs(&mut h).is_empty());
    h.handle_timeout(master_down_ns(1, 0));
    assert_eq!(
        logs(&mut h),
        vec!["carp1: state transition: BACKUP -> MASTER".to_string()]
    );
    let mut h = CarpHost::new(all_logs(), 1);
    h.add_interface(0, lab_cfg(0)).unwrap();
    assert_eq!(
        logs(&mut h),
        vec!["carp1: state transition: INIT -> BACKUP".to_string()]
    );
}

#[test]
fn master_down_timer_makes_master_with_arp_link_and_stats() {
    let mut h = host(Sysctl::default(), 0);
    events(&mut h);
    h.handle_timeout(master_down_ns(1, 0) - 1);
    assert!(h.poll_transmit().is_none());
    h.handle_timeout(master_down_ns(1, 0));
    let ev = events(&mut h);
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::LinkState {
            state: LinkState::Up,
            ..
        }
    )));
    assert!(ev.iter().any(|e| matches!(e,
        Event::GratuitousArp { mac, addrs, .. }
            if *mac == [0, 0, 0x5e, 0, 1, 1] && addrs == &[Ipv4Addr::new(198, 51, 100, 100)])));
    assert!(h.poll_transmit().is_some());
    assert_eq!(h.stats().preempt, 1);
    assert_eq!(h.stats().opackets, 1);
    assert!(h.interface("carp1").unwrap().answers_arp());
    assert_eq!(
        h.interface("carp1").unwrap().status_lines(),
        vec!["carp: MASTER carpdev em0 vhid 1 advbase 1 advskew 0".to_string()]
    );
}

#[test]
fn send_errors_demote_after_three_and_recover_after_three() {
    let mut h = host(
        Sysctl {
            log: priority::ERR,
            ..Sysctl::default()
        },
        0,
    );
    events(&mut h);
    for n in 1..=3 {
        h.report_send(SEC, "carp1", Family::V4, SendResult::NoBufs);
        assert_eq!(h.demote_count("carp1"), Some(u8::from(n == 3)));
    }
    assert_eq!(h.stats().onomem, 3);
    assert_eq!(
        logs(&mut h),
        vec!["carp: carp1 demoted group carp by 1 to 1 (> snderrors)".to_string()]
    );
    for n in 1..=3 {
        h.report_send(SEC, "carp1", Family::V4, SendResult::Sent);
        assert_eq!(h.demote_count("carp1"), Some(u8::from(n < 3)));
    }
}

#[test]
fn ucarp_compat_shows_demotion_as_advskew_240() {
    let mut c = lab_cfg(10);
    c.ucarp_compat = true;
    let mut h = CarpHost::new(Sysctl::default(), 3);
    h.add_interface(0, c).unwrap();
    h.force_state(0, "carp1", State::Master).unwrap();
    assert_eq!(h.poll_transmit().unwrap().payload[2], 10);
    h.set_group_demote(SEC, "carp", 1).unwrap();
    let tx = h.poll_transmit().unwrap();
    assert_eq!((tx.payload[2], tx.payload[4]), (240, 1), "advskew, demote");
}

#[test]
fn demotion_reaches_the_next_advert_of_every_master() {
    let mut h = host(Sysctl::default(), 0);
    h.force_state(0, "carp1", State::Master).unwrap();
    while h.poll_transmit().is_some() {}
    // pfsync0's bulk update: +32 on its groups, carp among them. OpenBSD
    // advertises at once only when a group steps 0 -> 1; 0 -> 32 is
    // carried by the next periodic advert.
    h.demote_groups(SEC, "pfsync0", &["pfsync", "carp"], 32, "pfsync start");
    assert!(h.poll_transmit().is_none());
    let t = h.poll_timeout().unwrap();
    h.handle_timeout(t);
    assert_eq!(h.poll_transmit().unwrap().payload[4], 32);
    h.demote_groups(2 * SEC, "pfsync0", &["pfsync", "carp"], -32, "pfsync done");
    let t = h.poll_timeout().unwrap();
    h.handle_timeout(t);
    assert_eq!(h.poll_transmit().unwrap().payload[4], 0);
}

#[test]
fn vhid_clash_on_one_carpdev_is_refused() {
    let mut h = host(Sysctl::default(), 0);
    let mut c = lab_cfg(0);
    c.name = "carp2".into();
    assert!(matches!(
        h.add_interface(0, c.clone()),
        Err(crate::ConfigError::VhidInUse { .. })
    ));
    c.carpdev = "em1".into();
    assert!(h.add_interface(0, c).is_ok());
}

#[test]
fn reconfiguring_addresses_resets_to_init_and_advskew_applies_in_place() {
    let mut h = host(all_logs(), 0);
    h.force_state(0, "carp1", State::Master).unwrap();
    events(&mut h);
    let mut c = lab_cfg(50);
    h.reconfigure(SEC, c.clone()).unwrap();
    assert_eq!(h.interface("carp1").unwrap().state(), State::Master);
    assert!(events(&mut h)
        .iter()
        .all(|e| !matches!(e, Event::StateChanged { .. })));
    c.v4.push(Ipv4Addr::new(198, 51, 100, 101));
    h.reconfigure(2 * SEC, c.clone()).unwrap();
    let l = logs(&mut h);
    assert!(
        l.contains(&"carp1: state transition: MASTER -> INIT".to_string()),
        "{l:?}"
    );
    assert_eq!(h.interface("carp1").unwrap().state(), State::Backup);
    c.v4.clear();
    h.reconfigure(3 * SEC, c).unwrap();
    assert_eq!(h.interface("carp1").unwrap().state(), State::Init);
    assert_eq!(h.poll_timeout(), None);
}

proptest! {
    /// Random bytes and random IP facts never panic, and every advert is
    /// either dropped in exactly one counter or handed to the state
    /// machine.
    #[test]
    fn random_adverts_never_panic(
        payload in proptest::collection::vec(any::<u8>(), 0..64),
        ttl in prop_oneof![Just(255u8), any::<u8>()],
        v6 in any::<bool>(),
        fix_sum in any::<bool>(),
        vhid1 in any::<bool>(),
        dev in prop_oneof![Just("em0"), Just("em1")],
    ) {
        let mut h = host(Sysctl { log: priority::DEBUG, ..Sysctl::default() }, 100);
        let mut p = payload;
        if p.len() >= 36 {
            if vhid1 { p[1] = 1; p[0] = 0x21; }
            if fix_sum { CarpPacket::new_unchecked(&mut p[..]).fill_checksum(); }
        }
        let dst = if v6 { "ff02::12".parse().unwrap() } else { GROUP };
        h.handle_advert(SEC, &Received { carpdev: dev, src: UCARP_SRC, dst, ttl, payload: &p });
        h.handle_timeout(100 * SEC);
        let s: CarpStats = *h.stats();
        prop_assert!(s.dropped() <= 1);
        prop_assert_eq!(s.ipackets + s.ipackets6, 1);
        while h.poll_event().is_some() {}
        while h.poll_transmit().is_some() {}
    }
}

#[test]
fn a_carppeer_interface_ignores_multicast_adverts_and_vice_versa() {
    let mut c = lab_cfg(100);
    c.peer = Some(Ipv4Addr::new(198, 51, 100, 11));
    let mut h = CarpHost::new(Sysctl::default(), 9);
    h.add_interface(0, c).unwrap();
    h.handle_advert(SEC, &rx(ucarp_payload()));
    assert_eq!(h.stats().badvhid, 1, "multicast advert, unicast interface");
    let unicast = Received {
        dst: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 13)),
        ..rx(ucarp_payload())
    };
    h.handle_advert(SEC, &unicast);
    assert_eq!(h.stats().dropped(), 1);
    let mut plain = host(Sysctl::default(), 100);
    plain.handle_advert(SEC, &unicast);
    assert_eq!(
        plain.stats().badvhid,
        1,
        "unicast advert, multicast interface"
    );
}

#[test]
fn demote_byte_is_the_sum_of_all_groups_and_follows_group_changes() {
    let mut c = lab_cfg(0);
    c.groups = vec!["uplink".into()];
    let mut h = CarpHost::new(Sysctl::default(), 4);
    h.add_interface(0, c.clone()).unwrap();
    h.set_group_demote(0, "uplink", 5).unwrap();
    h.set_group_demote(0, "carp", 2).unwrap();
    h.set_group_demote(0, "other", 50).unwrap();
    assert_eq!(h.demote_count("carp1"), Some(7));
    // The private count moves with group membership.
    h.demote_interface(0, "carp1", 3, "test").unwrap();
    assert_eq!(h.group_demote("uplink"), 8);
    c.groups = vec!["other".into()];
    h.reconfigure(SEC, c).unwrap();
    assert_eq!(h.group_demote("uplink"), 5);
    assert_eq!(h.group_demote("other"), 53);
    assert_eq!(h.demote_count("carp1"), Some(5 + 53));
    assert!(h.set_group_demote(0, "other", 300).is_err());
}

#[derive(Debug, Clone)]
enum Op {
    Bytes(Vec<u8>),
    Mutated(usize, u8),
    Wait(u64),
    Force(bool),
    Up(bool),
    Link(bool),
    Demote(i8),
    Send(u8),
    Skew(u8),
    Preempt(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..48).prop_map(Op::Bytes),
        (0usize..36, any::<u8>()).prop_map(|(i, b)| Op::Mutated(i, b)),
        (0u64..5_000).prop_map(|ms| Op::Wait(ms * 1_000_000)),
        any::<bool>().prop_map(Op::Force),
        any::<bool>().prop_map(Op::Up),
        any::<bool>().prop_map(Op::Link),
        (-3i8..4).prop_map(Op::Demote),
        (0u8..4).prop_map(Op::Send),
        (0u8..255).prop_map(Op::Skew),
        any::<bool>().prop_map(Op::Preempt),
    ]
}

proptest! {
    /// Any sequence of administrative calls, timeouts and received
    /// bytes: no panic, and the timers always fit the state (INIT none,
    /// BACKUP no advert timer, MASTER advertising and no master-down).
    #[test]
    fn random_operations_keep_timers_consistent_with_states(ops in proptest::collection::vec(op(), 1..40)) {
        let mut h = host(Sysctl::default(), 100);
        let mut now = 0u64;
        for op in ops {
            match op {
                Op::Bytes(b) => h.handle_advert(now, &rx(&b)),
                Op::Mutated(i, b) => {
                    let mut p = ucarp_payload().to_vec();
                    p[i] = b;
                    CarpPacket::new_unchecked(&mut p[..]).fill_checksum();
                    h.handle_advert(now, &rx(&p));
                }
                Op::Wait(dt) => {
                    now += dt;
                    while let Some(t) = h.poll_timeout().filter(|t| *t <= now) {
                        h.handle_timeout(t);
                    }
                }
                Op::Force(m) => h.force_state(now, "carp1", if m { State::Master } else { State::Backup }).unwrap(),
                Op::Up(u) => h.set_interface_up(now, "carp1", u).unwrap(),
                Op::Link(u) => h.set_carpdev_link(now, "em0", u),
                Op::Demote(d) => { let _ = h.set_group_demote(now, "carp", i32::from(d)); }
                Op::Send(r) => h.report_send(now, "carp1", Family::V4, match r {
                    0 => SendResult::Sent,
                    1 => SendResult::NoBufs,
                    2 => SendResult::HostDown,
                    _ => SendResult::Failed(5),
                }),
                Op::Skew(s) => h.reconfigure(now, lab_cfg(s)).unwrap(),
                Op::Preempt(p) => h.set_sysctl(Sysctl { preempt: p, ..h.sysctl() }),
            }
            while h.poll_event().is_some() {}
            while h.poll_transmit().is_some() {}
            let ifc = h.interface("carp1").unwrap();
            for v in ifc.vhosts() {
                match v.state() {
                    State::Init => prop_assert_eq!(v.next_deadline(), None),
                    State::Backup => {
                        prop_assert!(v.ad_at.is_none());
                        prop_assert!(v.md4_at.is_some_and(|t| t > now));
                    }
                    State::Master => {
                        prop_assert!(v.md4_at.is_none() && v.md6_at.is_none());
                        prop_assert!(v.ad_at.is_some_and(|t| t > now));
                    }
                }
                if !ifc.is_running() {
                    prop_assert_eq!(v.state(), State::Init);
                }
            }
            if let Some(t) = h.poll_timeout() {
                prop_assert!(t > now);
            }
        }
    }
}

#[test]
fn moving_to_another_carpdev_lifts_the_old_carpdev_demotion() {
    let mut h = host(Sysctl::default(), 0);
    h.set_carpdev_link(0, "em0", false);
    assert_eq!(h.demote_count("carp1"), Some(1));
    assert_eq!(h.interface("carp1").unwrap().state(), State::Init);
    let mut c = lab_cfg(0);
    c.carpdev = "em1".into();
    h.reconfigure(SEC, c).unwrap();
    assert_eq!(h.demote_count("carp1"), Some(0));
    assert_eq!(h.interface("carp1").unwrap().state(), State::Backup);
    // The old carpdev coming back is no longer ours to count.
    h.set_carpdev_link(2 * SEC, "em0", true);
    assert_eq!(h.demote_count("carp1"), Some(0));
}

#[test]
fn the_captured_frame_end_to_end_through_parse_frame() {
    let mut h = host(Sysctl::default(), 100);
    let r = crate::parse_frame("em0", UCARP_FRAME).unwrap();
    h.handle_advert(SEC, &r);
    assert_eq!(h.stats().ipackets, 1);
    assert_eq!(h.stats().dropped(), 0);
    assert_eq!(h.poll_timeout(), Some(SEC + master_down_ns(1, 100)));
}

/// Spec §2.6 vector 2 through a carp interface: the lladdr is hashed
/// only when overridden to neither the virtual MAC nor the carpdev's.
#[test]
fn lladdr_override_is_hashed_only_when_neither_virtual_nor_real() {
    let md = |lladdr: Option<[u8; 6]>| {
        let mut c = CarpIfConfig::new(
            "carp7",
            "em0",
            [2, 0, 0, 0, 0, 0x99],
            7,
            Key::from_passphrase(b"mekmitasdigoat"),
        );
        c.v4 = vec!["192.0.2.20".parse().unwrap(), "192.0.2.3".parse().unwrap()];
        c.v6 = vec![
            "2001:db8::20".parse().unwrap(),
            "fe80::200:5eff:fe00:107".parse().unwrap(),
            "2001:db8::3".parse().unwrap(),
        ];
        c.lladdr = lladdr;
        let mut h = CarpHost::new(Sysctl::default(), 1);
        h.add_interface(0, c).unwrap();
        let ifc = h.interface("carp7").unwrap();
        let md = ifc
            .vhost(7)
            .unwrap()
            .auth
            .generate(&[1, 2, 3, 4, 5, 6, 7, 8]);
        (
            md.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            ifc.lladdr(),
        )
    };
    let plain = "ede93c1b23793fae9bcecafb917e85b241949853";
    assert_eq!(md(None), (plain.to_string(), [0, 0, 0x5e, 0, 1, 7]));
    assert_eq!(md(Some([0, 0, 0x5e, 0, 1, 7])).0, plain);
    assert_eq!(md(Some([2, 0, 0, 0, 0, 0x99])).0, plain, "realmac");
    assert_eq!(
        md(Some([2, 0, 0, 0xaa, 0xbb, 0xcc])),
        (
            "db047ae6cc88fb2e27413fc4ff5b51a07fc1cacd".to_string(),
            [2, 0, 0, 0xaa, 0xbb, 0xcc]
        )
    );
}
