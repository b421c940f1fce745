//! Our CARP against the ucarp model on one simulated segment: the lab's
//! configuration (vhid 1, pass "lanpasswd", VIP 198.51.100.100, advbase
//! 1). What ucarp-interop.md §7 saw with its OpenBSD emulator, and what
//! the compat mode adds.

use crate::auth::Key;
use crate::event::State;
use crate::sim::{Net, MS, SEC};
use crate::timing::master_down_ns;
use crate::CarpIfConfig;
use std::net::Ipv4Addr;

const VIP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 100);

fn ours(node: usize, advskew: u8, compat: bool) -> CarpIfConfig {
    let mut c = CarpIfConfig::new(
        "carp1",
        "eth0",
        Net::mac(node),
        1,
        Key::from_passphrase(b"lanpasswd"),
    );
    c.nodes[0].advskew = advskew;
    c.v4 = vec![VIP];
    c.ucarp_compat = compat;
    c
}

#[test]
fn ucarp_master_our_backup_then_failover_and_ucarp_preempts_back() {
    let mut net = Net::new(2, 17);
    net.start_ucarp(0, b"lanpasswd", VIP, 0, true);
    net.add(1, ours(1, 100, true));
    net.run_until(20 * SEC);
    assert_eq!(net.ucarp(0).state, State::Master);
    assert_eq!(net.state(1, "carp1", 1), State::Backup);
    // ucarp's counters change on every advert: none is taken for a loop
    // or a bad hash.
    let s = *net.host(1).stats();
    assert!(s.ipackets >= 15, "{s:?}");
    assert_eq!(s.dropped(), 0, "{s:?}");

    net.kill(0);
    let last = net.last_advert(0, 1).unwrap().at;
    net.run_until(30 * SEC);
    assert_eq!(net.state(1, "carp1", 1), State::Master);
    let took = net.last_transition(1, 1, State::Master).unwrap();
    assert_eq!(took - last, net.latency + master_down_ns(1, 100));

    // ucarp restarts with --preempt: it takes over on our first advert,
    // and we step down on its.
    net.start_ucarp(0, b"lanpasswd", VIP, 0, true);
    net.run_until(40 * SEC);
    assert_eq!(net.ucarp(0).state, State::Master);
    assert_eq!(net.state(1, "carp1", 1), State::Backup);
    assert_eq!(net.ucarp(0).bad_digest, 0);
}

#[test]
fn demotion_reaches_ucarp_only_through_compat_advskew() {
    for compat in [false, true] {
        let mut net = Net::new(2, 23);
        net.add(0, ours(0, 0, compat));
        net.run_until(300 * MS);
        net.start_ucarp(1, b"lanpasswd", VIP, 100, true);
        net.run_until(20 * SEC);
        assert_eq!(net.state(0, "carp1", 1), State::Master);
        assert_eq!(net.ucarp(1).state, State::Backup);
        net.with(0, |h, now| h.set_group_demote(now, "carp", 1))
            .unwrap();
        net.run_until(40 * SEC);
        if compat {
            // advskew 240 on the wire: ucarp (preempt, advskew 100)
            // takes over, and we yield to its faster advert.
            assert_eq!(net.ucarp(1).state, State::Master);
            assert_eq!(net.state(0, "carp1", 1), State::Backup);
        } else {
            // ucarp ignores the demote byte (lab step T2): no handover.
            assert_eq!(net.ucarp(1).state, State::Backup);
            assert_eq!(net.state(0, "carp1", 1), State::Master);
        }
    }
}

#[test]
fn our_bow_out_makes_ucarp_take_over_at_once() {
    let mut net = Net::new(2, 29);
    net.add(0, ours(0, 0, true));
    net.run_until(300 * MS);
    net.start_ucarp(1, b"lanpasswd", VIP, 100, false);
    net.run_until(10 * SEC);
    assert_eq!(net.state(0, "carp1", 1), State::Master);
    let t0 = net.now;
    net.with(0, |h, now| h.set_interface_up(now, "carp1", false))
        .unwrap();
    net.run_until(t0 + net.latency);
    assert_eq!(net.ucarp(1).state, State::Master);
}

#[test]
fn a_second_vip_breaks_ucarps_hmac_and_gives_split_brain() {
    // The compat mode refuses this configuration; plain OpenBSD mode
    // accepts it and ucarp cannot authenticate us (§2.4).
    let mut c = ours(0, 0, false);
    c.v4.push(Ipv4Addr::new(198, 51, 100, 101));
    let mut refused = c.clone();
    refused.ucarp_compat = true;
    assert!(refused.normalized().is_err());

    let mut net = Net::new(2, 31);
    net.add(0, c);
    net.run_until(300 * MS);
    net.start_ucarp(1, b"lanpasswd", VIP, 100, false);
    net.run_until(20 * SEC);
    assert!(net.ucarp(1).bad_digest > 0);
    assert_eq!(net.ucarp(1).state, State::Master);
    assert_eq!(net.host(0).stats().badauth, net.host(0).stats().ipackets);
    assert_eq!(net.state(0, "carp1", 1), State::Master);
}
