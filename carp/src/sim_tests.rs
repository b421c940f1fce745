//! Deterministic simulations on [`crate::sim::Net`]: convergence to
//! exactly one master, failover inside 3 × interval, preemption,
//! demotion, bow-out, loss, partition and heal, carpnodes, carppeer and
//! per-family master-down timers.

use crate::auth::Key;
use crate::event::{Event, Family, Reason, State};
use crate::sim::{Net, MS, SEC};
use crate::sysctl::Sysctl;
use crate::timing::{advert_interval_ns, master_down_ns};
use crate::{CarpIfConfig, Carpnode};
use std::net::Ipv4Addr;

const VIP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 100);

fn cfg(node: usize, advskew: u8) -> CarpIfConfig {
    let mut c = CarpIfConfig::new(
        "carp1",
        "eth0",
        Net::mac(node),
        1,
        Key::from_passphrase(b"simpass"),
    );
    c.nodes[0].advskew = advskew;
    c.v4 = vec![VIP];
    c
}

fn preempt() -> Sysctl {
    Sysctl {
        preempt: true,
        ..Sysctl::default()
    }
}

/// A (advskew 0) and B (advskew 100), both started at t=0.
fn pair() -> Net {
    let mut net = Net::new(2, 7);
    net.add(0, cfg(0, 0));
    net.add(1, cfg(1, 100));
    net
}

#[test]
fn two_nodes_converge_to_the_faster_one() {
    let mut net = pair();
    net.run_until(20 * SEC);
    assert_eq!(net.masters("carp1", 1), vec![0]);
    assert_eq!(net.state(1, "carp1", 1), State::Backup);
    // A went MASTER when its master-down (3 × 1 s) expired.
    assert_eq!(
        net.last_transition(0, 1, State::Master),
        Some(master_down_ns(1, 0))
    );
    // The master keeps advertising once per interval.
    let ads: Vec<u64> = net
        .wire
        .iter()
        .filter(|s| s.from == 0)
        .map(|s| s.at)
        .collect();
    assert!(ads
        .windows(2)
        .all(|w| w[1] - w[0] == advert_interval_ns(1, 0)));
    // Only A ever advertised: B never left BACKUP.
    assert!(net.wire.iter().all(|s| s.from == 0));
}

#[test]
fn failover_within_three_intervals_of_the_last_advert() {
    let mut net = pair();
    net.run_until(10 * SEC + 300 * MS);
    net.kill(0);
    let last = net.last_advert(0, 1).unwrap().at;
    net.run_until(30 * SEC);
    assert_eq!(net.masters("carp1", 1), vec![1]);
    let took = net.last_transition(1, 1, State::Master).unwrap();
    // B's master-down is 3 × (1 + 100/256) s from the last advert it
    // processed (which arrived after one latency).
    assert_eq!(took, last + net.latency + master_down_ns(1, 100));
    // 3 × 1.390625 s (current OpenBSD), not 3 + 100/256 s (2015).
    assert_eq!(took - last - net.latency, 4_171_875_000);
    assert!(took - last <= 3 * advert_interval_ns(1, 100) + net.latency);
    // Gratuitous ARP right away, and the delayed one with the 2nd
    // periodic advert (§4.3).
    let garps: Vec<u64> = net
        .events
        .iter()
        .filter(|(_, n, e)| *n == 1 && matches!(e, Event::GratuitousArp { .. }))
        .map(|(t, _, _)| *t)
        .collect();
    assert_eq!(garps, vec![took, took + 2 * advert_interval_ns(1, 100)]);
}

#[test]
fn preempt_takes_back_the_address_only_with_the_sysctl() {
    for with in [false, true] {
        let mut net = pair();
        net.run_until(10 * SEC);
        net.kill(0);
        net.run_until(20 * SEC);
        assert_eq!(net.masters("carp1", 1), vec![1]);
        net.reboot(0, 99);
        if with {
            net.set_sysctl(0, preempt());
        }
        net.add(0, cfg(0, 0));
        net.run_until(40 * SEC);
        if with {
            assert_eq!(net.masters("carp1", 1), vec![0]);
            assert_eq!(net.state(1, "carp1", 1), State::Backup);
            // A preempted on B's first advert, well before its own
            // master-down.
            let t = net.last_transition(0, 1, State::Master).unwrap();
            assert!(t - 20 * SEC < master_down_ns(1, 0));
            assert!(net.events.iter().any(|(_, n, e)| *n == 0
                && matches!(
                    e,
                    Event::StateChanged {
                        reason: Reason::Preempt,
                        ..
                    }
                )));
        } else {
            assert_eq!(net.masters("carp1", 1), vec![1]);
            assert_eq!(net.state(0, "carp1", 1), State::Backup);
        }
    }
}

#[test]
fn demoting_the_master_hands_over_and_undemoting_with_preempt_takes_back() {
    let mut net = pair();
    net.set_sysctl(0, preempt());
    net.run_until(10 * SEC);
    assert_eq!(net.masters("carp1", 1), vec![0]);
    let t0 = net.now;
    // ifconfig -g carp carpdemote 1 on A: A advertises at once with
    // demote 1, B (demote 0) takes over without preempt.
    net.with(0, |h, now| h.set_group_demote(now, "carp", 1))
        .unwrap();
    assert_eq!(net.last_advert(0, 1).unwrap().at, t0);
    assert_eq!(
        net.last_advert(0, 1).unwrap().tx.payload[4],
        1,
        "demote byte"
    );
    net.run_until(t0 + 10 * MS);
    assert_eq!(net.masters("carp1", 1), vec![1]);
    assert!(net.events.iter().any(|(_, n, e)| *n == 1
        && matches!(
            e,
            Event::StateChanged {
                reason: Reason::PeerDemoted,
                ..
            }
        )));
    net.run_until(20 * SEC);
    assert_eq!(
        net.masters("carp1", 1),
        vec![1],
        "stays handed over while demoted"
    );
    // Remove the demotion: A, faster and preempting, takes back.
    net.with(0, |h, now| h.set_group_demote(now, "carp", -1))
        .unwrap();
    net.run_until(30 * SEC);
    assert_eq!(net.masters("carp1", 1), vec![0]);
}

#[test]
fn bow_out_hands_over_at_once() {
    let mut net = pair();
    net.run_until(10 * SEC + 500 * MS);
    let t0 = net.now;
    net.with(0, |h, now| h.set_interface_up(now, "carp1", false))
        .unwrap();
    let bow = net.last_advert(0, 1).unwrap();
    assert_eq!(
        (bow.tx.payload[5], bow.tx.payload[2]),
        (255, 255),
        "advbase/advskew"
    );
    assert_eq!(bow.at, t0);
    assert_eq!(net.state(0, "carp1", 1), State::Init);
    net.run_until(t0 + net.latency);
    assert_eq!(net.masters("carp1", 1), vec![1]);
    assert_eq!(
        net.last_transition(1, 1, State::Master),
        Some(t0 + net.latency)
    );
    // The bowed-out host sends nothing more.
    net.run_until(20 * SEC);
    assert_eq!(net.last_advert(0, 1).unwrap().at, t0);
}

#[test]
fn shutdown_bows_out_every_master() {
    let mut net = pair();
    net.run_until(10 * SEC);
    net.with(0, |h, now| h.shutdown(now));
    net.run_until(10 * SEC + 5 * MS);
    assert_eq!(net.masters("carp1", 1), vec![1]);
}

#[test]
fn three_nodes_with_loss_partition_and_heal() {
    let mut net = Net::new(3, 42);
    for (i, skew) in [(0, 0), (1, 50), (2, 100)] {
        net.set_sysctl(i, preempt());
        net.add(i, cfg(i, skew));
    }
    net.loss_per_mille = 150;
    net.run_until(60 * SEC);
    net.loss_per_mille = 0;
    net.run_until(70 * SEC);
    assert_eq!(net.masters("carp1", 1), vec![0]);

    // A alone on one side: both sides elect a master.
    net.partition(&[1, 2, 2]);
    net.run_until(80 * SEC);
    assert_eq!(net.masters("carp1", 1), vec![0, 1]);
    assert_eq!(net.state(2, "carp1", 1), State::Backup);

    // Heal: exactly one master again, the most preferred.
    net.heal();
    net.run_until(90 * SEC);
    assert_eq!(net.masters("carp1", 1), vec![0]);
    // And stable from there on.
    let flips = net.events.len();
    net.run_until(120 * SEC);
    assert!(
        !net.events[flips..]
            .iter()
            .any(|(_, _, e)| matches!(e, Event::StateChanged { .. })),
        "no state change once converged"
    );
}

#[test]
fn heavy_loss_never_leaves_no_master_for_long_and_converges_after() {
    let mut net = Net::new(3, 1234);
    for (i, skew) in [(0, 10), (1, 20), (2, 30)] {
        net.add(i, cfg(i, skew));
    }
    net.loss_per_mille = 400;
    let mut t = 5 * SEC;
    while t < 120 * SEC {
        net.run_until(t);
        assert!(
            !net.masters("carp1", 1).is_empty(),
            "someone is master at {t}"
        );
        t += 250 * MS;
    }
    net.loss_per_mille = 0;
    net.run_until(140 * SEC);
    assert_eq!(net.masters("carp1", 1).len(), 1);
}

/// Equal settings: OpenBSD has no address tie-break; the host whose
/// master-down fires first wins and the other, hearing an equal advert
/// while BACKUP, stays there. (Started at the same instant with no
/// jitter, two hosts would step down together forever, in OpenBSD too.)
#[test]
fn equal_settings_converge_to_one_master() {
    let mut net = Net::new(2, 5);
    net.add(0, cfg(0, 0));
    net.run_until(300 * MS);
    net.add(1, cfg(1, 0));
    net.run_until(20 * SEC);
    assert_eq!(net.masters("carp1", 1), vec![0]);
}

#[test]
fn carpnodes_split_masters_per_vhid() {
    let mut net = Net::new(2, 11);
    for (i, skews) in [(0, [0, 100]), (1, [100, 0])] {
        let mut c = cfg(i, 0);
        c.nodes = vec![
            Carpnode {
                vhid: 1,
                advskew: skews[0],
            },
            Carpnode {
                vhid: 2,
                advskew: skews[1],
            },
        ];
        net.add(i, c);
    }
    net.run_until(20 * SEC);
    assert_eq!(net.masters("carp1", 1), vec![0]);
    assert_eq!(net.masters("carp1", 2), vec![1]);
    let a = net.host(0).interface("carp1").unwrap();
    assert_eq!(a.lsmask(), 0b01);
    assert_eq!(
        a.status_lines()[0],
        "carp: carpdev eth0 advbase 1 balancing ip"
    );
    assert_eq!(a.status_lines()[1], "\tstate MASTER vhid 1 advskew 0");
    // Balancing ip: exactly one of the two hosts keeps any flow.
    let b = net.host(1).interface("carp1").unwrap();
    for k in 0..16u8 {
        let src = Ipv4Addr::new(10, 0, 0, k).into();
        let dst = VIP.into();
        assert_ne!(a.ls_accept(src, dst), b.ls_accept(src, dst));
    }
    // Kill B: A takes vhid 2 as well.
    net.kill(1);
    net.run_until(30 * SEC);
    assert_eq!(net.masters("carp1", 2), vec![0]);
}

#[test]
fn several_carp_interfaces_on_one_carpdev_are_routed_by_vhid() {
    let mut net = Net::new(2, 3);
    for i in 0..2 {
        net.add(i, cfg(i, if i == 0 { 0 } else { 100 }));
        let mut c2 = cfg(i, if i == 0 { 100 } else { 0 });
        c2.name = "carp2".into();
        c2.nodes[0].vhid = 2;
        c2.v4 = vec![Ipv4Addr::new(198, 51, 100, 200)];
        net.add(i, c2);
    }
    net.run_until(20 * SEC);
    assert_eq!(net.masters("carp1", 1), vec![0]);
    assert_eq!(net.masters("carp2", 2), vec![1]);
    assert_eq!(net.host(0).stats().badvhid, 0);
    assert_eq!(net.host(0).stats().badauth, 0);
}

#[test]
fn carppeer_sends_unicast_and_converges() {
    let mut net = Net::new(2, 8);
    for i in 0..2 {
        let mut c = cfg(i, (i * 100) as u8);
        c.peer = Some(Ipv4Addr::new(192, 0, 2, 2 - i as u8));
        net.add(i, c);
    }
    net.run_until(20 * SEC);
    assert_eq!(net.masters("carp1", 1), vec![0]);
    let ad = net.last_advert(0, 1).unwrap();
    assert_eq!(ad.tx.dst, std::net::IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)));
    assert_eq!(net.host(1).stats().badvhid, 0);
}

#[test]
fn dual_stack_sends_both_families_and_needs_both_to_stay_backup() {
    let v6 = "2001:db8::100".parse().unwrap();
    let mut net = Net::new(2, 21);
    for i in 0..2 {
        let mut c = cfg(i, (i * 100) as u8);
        c.v6 = vec![v6];
        net.add(i, c);
    }
    net.run_until(10 * SEC);
    assert_eq!(net.masters("carp1", 1), vec![0]);
    let fams: Vec<Family> = net
        .wire
        .iter()
        .rev()
        .take(2)
        .map(|s| s.tx.family)
        .collect::<Vec<_>>();
    assert!(fams.contains(&Family::V4) && fams.contains(&Family::V6));
    assert_eq!(net.host(0).stats().opackets, net.host(0).stats().opackets6);
    // IPv4 adverts alone (a ucarp master sends no IPv6) do not keep the
    // backup's IPv6 master-down timer from expiring (§5.7): B takes over
    // every 3 × T and is pushed back by A's next IPv4 advert.
    net.drop_family = Some(Family::V6);
    let t0 = net.now;
    net.run_until(30 * SEC);
    let v6_takeovers: Vec<u64> = net
        .events
        .iter()
        .filter(|(t, n, e)| {
            *n == 1
                && *t > t0
                && matches!(
                    e,
                    Event::StateChanged {
                        reason: Reason::MasterDown(Family::V6),
                        ..
                    }
                )
        })
        .map(|(t, _, _)| *t)
        .collect();
    assert!(v6_takeovers.len() >= 3, "{v6_takeovers:?}");
    assert!(!net.events.iter().any(|(t, n, e)| *n == 1
        && *t > t0
        && matches!(
            e,
            Event::StateChanged {
                reason: Reason::MasterDown(Family::V4),
                ..
            }
        )));
}

#[test]
fn sub_second_advbase_zero_fails_over_fast() {
    let mut net = Net::new(2, 4);
    net.latency = 100_000;
    for i in 0..2 {
        let mut c = cfg(i, (i * 64) as u8);
        c.advbase = 0;
        net.add(i, c);
    }
    net.run_until(2 * SEC);
    assert_eq!(net.masters("carp1", 1), vec![0]);
    net.kill(0);
    let last = net.last_advert(0, 1).unwrap().at;
    net.run_until(4 * SEC);
    let took = net.last_transition(1, 1, State::Master).unwrap();
    assert_eq!(took - last, net.latency + master_down_ns(0, 64));
    assert_eq!(master_down_ns(0, 64), 750_000_000);
}

#[test]
fn forced_state_master_then_backup() {
    let mut net = pair();
    net.run_until(10 * SEC);
    net.with(1, |h, now| h.force_state(now, "carp1", State::Master))
        .unwrap();
    assert_eq!(net.state(1, "carp1", 1), State::Master);
    // A hears B's slower advert and keeps MASTER; B hears A's faster
    // one and steps down again.
    net.run_until(12 * SEC);
    assert_eq!(net.masters("carp1", 1), vec![0]);
    net.with(0, |h, now| h.force_state(now, "carp1", State::Backup))
        .unwrap();
    assert_eq!(net.state(0, "carp1", 1), State::Backup);
    net.run_until(30 * SEC);
    assert_eq!(net.masters("carp1", 1).len(), 1);
}

#[test]
fn carpdev_down_demotes_and_hands_over() {
    let mut net = pair();
    net.set_sysctl(0, preempt());
    net.run_until(10 * SEC);
    net.with(0, |h, now| h.set_carpdev_link(now, "eth0", false));
    assert_eq!(net.state(0, "carp1", 1), State::Init);
    assert_eq!(net.host(0).group_demote("carp"), 1);
    assert_eq!(net.host(0).demote_count("carp1"), Some(1));
    net.run_until(20 * SEC);
    assert_eq!(net.masters("carp1", 1), vec![1]);
    net.with(0, |h, now| h.set_carpdev_link(now, "eth0", true));
    assert_eq!(net.host(0).group_demote("carp"), 0);
    net.run_until(30 * SEC);
    assert_eq!(net.masters("carp1", 1), vec![0]);
}
