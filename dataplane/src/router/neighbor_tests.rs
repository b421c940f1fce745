use super::*;

const S: u64 = SEC;
const M1: MacAddr = [2, 0, 0, 0, 0, 0x11];
const M2: MacAddr = [2, 0, 0, 0, 0, 0x22];

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn mcast(ifindex: u32, t: &str) -> Solicit {
    Solicit {
        ifindex,
        target: ip(t),
        unicast: None,
    }
}

#[test]
fn incomplete_queues_then_releases_in_order() {
    let mut c: NeighborCache = NeighborCache::new(NeighborConfig::default());
    let g = ip("192.0.2.2");
    assert_eq!(c.resolve(1, g, 0), Resolve::Pending);
    assert_eq!(c.take_solicits(), vec![mcast(1, "192.0.2.2")]);
    assert!(c.hold(1, g, vec![1]));
    assert_eq!(c.resolve(1, g, 10), Resolve::Pending);
    // no second request within the retransmit interval
    assert!(c.take_solicits().is_empty());
    assert!(c.hold(1, g, vec![2]));
    // holding for a neighbour nobody asked about is refused
    assert!(!c.hold(2, g, vec![3]));
    let rel = c.learn(1, g, M1, Learn::Reachable, false, 20);
    assert_eq!(rel, vec![vec![1], vec![2]]);
    assert_eq!(c.resolve(1, g, 30), Resolve::Known(M1));
}

#[test]
fn pending_queue_is_bounded_dropping_oldest() {
    let mut c: NeighborCache = NeighborCache::new(NeighborConfig {
        queue_len: 3,
        ..NeighborConfig::default()
    });
    let g = ip("2001:db8::2");
    c.resolve(1, g, 0);
    for i in 0..5u8 {
        assert!(c.hold(1, g, vec![i]));
    }
    assert_eq!(c.drops.overflow, 2);
    let rel = c.learn(1, g, M1, Learn::Reachable, false, 1);
    assert_eq!(rel, vec![vec![2], vec![3], vec![4]]);
}

#[test]
fn solicitations_are_rate_limited_and_give_up() {
    let cfg = NeighborConfig::default();
    let mut c: NeighborCache = NeighborCache::new(cfg);
    let g = ip("192.0.2.2");
    c.resolve(1, g, 0);
    c.hold(1, g, vec![9]);
    let mut sent = c.take_solicits().len();
    // poll every 100 ms for 10 s: one request per second, arp_tries in all
    for t in (0..100).map(|i| i * S / 10) {
        c.poll(t);
        sent += c.take_solicits().len();
    }
    assert_eq!(sent, usize::from(cfg.arp_tries));
    assert_eq!(c.resolve(1, g, 10 * S), Resolve::Failed);
    assert_eq!(c.drops.expired, 1);
    // hold-down: no new requests until it ends, then a fresh start
    assert!(c.take_solicits().is_empty());
    c.poll(5 * S + cfg.hold_down_ns);
    assert_eq!(c.state(1, g), None);
    assert_eq!(c.resolve(1, g, 5 * S + cfg.hold_down_ns), Resolve::Pending);
    assert_eq!(c.take_solicits().len(), 1);
    // IPv6 gives up after nd_tries
    let h = ip("2001:db8::2");
    c.resolve(1, h, 0);
    let mut n = c.take_solicits().len();
    for t in 1..10 {
        c.poll(t * S);
        n += c.take_solicits().len();
    }
    assert_eq!(n, usize::from(cfg.nd_tries));
    assert!(matches!(c.state(1, h), Some(State::Failed { .. })));
}

#[test]
fn reachable_ages_to_stale_then_probes_unicast() {
    let cfg = NeighborConfig::default();
    let mut c: NeighborCache = NeighborCache::new(cfg);
    let g = ip("2001:db8::2");
    c.learn(1, g, M1, Learn::Reachable, true, 0);
    assert_eq!(c.resolve(1, g, cfg.nd_reachable_ns - 1), Resolve::Known(M1));
    assert!(c.take_solicits().is_empty());
    assert_eq!(c.poll_timeout(), Some(cfg.nd_reachable_ns));
    c.poll(cfg.nd_reachable_ns);
    assert!(matches!(c.state(1, g), Some(State::Stale { .. })));
    // a stale entry still carries traffic, and schedules a probe
    let t = cfg.nd_reachable_ns + S;
    assert_eq!(c.resolve(1, g, t), Resolve::Known(M1));
    assert!(c.take_solicits().is_empty());
    c.poll(t + cfg.delay_ns);
    assert_eq!(
        c.take_solicits(),
        vec![Solicit {
            ifindex: 1,
            target: g,
            unicast: Some(M1)
        }]
    );
    // an answer makes it reachable again
    c.learn(1, g, M1, Learn::Reachable, false, t + cfg.delay_ns + 1);
    assert!(matches!(c.state(1, g), Some(State::Reachable { .. })));
}

#[test]
fn silent_neighbour_is_dropped_after_probes() {
    let cfg = NeighborConfig::default();
    let mut c: NeighborCache = NeighborCache::new(cfg);
    let g = ip("192.0.2.2");
    c.learn(1, g, M1, Learn::Stale, true, 0);
    c.resolve(1, g, 0);
    let mut probes = 0;
    for t in 1..30 {
        c.poll(t * S);
        probes += c
            .take_solicits()
            .iter()
            .filter(|s| s.unicast == Some(M1))
            .count();
    }
    assert_eq!(probes, usize::from(cfg.unicast_probes));
    assert_eq!(c.state(1, g), None);
}

#[test]
fn unused_stale_is_forgotten() {
    let cfg = NeighborConfig::default();
    let mut c: NeighborCache = NeighborCache::new(cfg);
    let g = ip("192.0.2.2");
    c.learn(1, g, M1, Learn::Stale, true, 0);
    c.poll(cfg.stale_ns - 1);
    assert!(c.state(1, g).is_some());
    c.poll(cfg.stale_ns);
    assert!(c.state(1, g).is_none());
}

#[test]
fn learn_rules() {
    let mut c: NeighborCache = NeighborCache::new(NeighborConfig::default());
    let g = ip("192.0.2.2");
    // without create, an unknown neighbour is not added
    c.learn(1, g, M1, Learn::Reachable, false, 0);
    assert!(c.is_empty());
    c.learn(1, g, M1, Learn::Reachable, true, 0);
    // hearsay with the same address keeps REACHABLE
    c.learn(1, g, M1, Learn::Stale, false, 1);
    assert!(matches!(c.state(1, g), Some(State::Reachable { .. })));
    // a new address makes it STALE at that address
    c.learn(1, g, M2, Learn::Stale, false, 2);
    assert_eq!(
        c.state(1, g),
        Some(&State::Stale {
            mac: M2,
            since_ns: 2
        })
    );
    // per interface
    assert_eq!(c.resolve(2, g, 3), Resolve::Pending);
    let mut all: Vec<_> = c.iter().map(|(i, a, _)| (i, a)).collect();
    all.sort();
    assert_eq!(all, vec![(1, g), (2, g)]);
    c.mark_stale(1, g, 4);
    assert!(c.remove(1, g));
}

#[test]
fn size_limit_evicts_resolved_oldest_first() {
    let mut c: NeighborCache = NeighborCache::new(NeighborConfig {
        max_entries: 3,
        ..NeighborConfig::default()
    });
    c.learn(1, ip("10.0.0.1"), M1, Learn::Reachable, true, 5);
    c.learn(1, ip("10.0.0.2"), M1, Learn::Reachable, true, 1);
    c.resolve(1, ip("10.0.0.3"), 0);
    c.hold(1, ip("10.0.0.3"), vec![0]);
    // full: the oldest resolved entry (10.0.0.2) goes, not the pending one
    c.resolve(1, ip("10.0.0.4"), 6);
    assert_eq!(c.len(), 3);
    assert!(c.state(1, ip("10.0.0.2")).is_none());
    assert!(c.state(1, ip("10.0.0.3")).is_some());
    assert_eq!(c.drops.evicted, 1);
    // a resolved entry goes before any pending one
    c.resolve(1, ip("10.0.0.8"), 9);
    assert!(c.state(1, ip("10.0.0.1")).is_none());
    // all pending: the oldest goes, its queue counted as dropped
    c.resolve(1, ip("10.0.0.9"), 10);
    assert!(c.state(1, ip("10.0.0.3")).is_none());
    assert_eq!(c.len(), 3);
    assert_eq!(c.drops.expired, 1);
    assert_eq!(c.drops.evicted, 3);
}

#[test]
fn static_entries_stay() {
    let mut c: NeighborCache = NeighborCache::new(NeighborConfig {
        max_entries: 2,
        ..NeighborConfig::default()
    });
    let g = ip("192.0.2.2");
    c.resolve(1, g, 0);
    c.hold(1, g, vec![7]);
    assert_eq!(c.add_static(1, g, M1, 1), vec![vec![7]]);
    c.learn(1, g, M2, Learn::Reachable, true, 2);
    assert_eq!(c.resolve(1, g, u64::MAX), Resolve::Known(M1));
    c.poll(u64::MAX);
    assert_eq!(c.poll_timeout(), None);
    // eviction passes over it
    c.learn(1, ip("10.0.0.1"), M2, Learn::Reachable, true, 3);
    c.learn(1, ip("10.0.0.2"), M2, Learn::Reachable, true, 4);
    assert_eq!(c.state(1, g), Some(&State::Static { mac: M1 }));
    assert!(c.state(1, ip("10.0.0.1")).is_none());
}

#[test]
fn held_frames_are_bounded_in_total() {
    let mut c: NeighborCache = NeighborCache::new(NeighborConfig {
        queue_len: 4,
        held_total: 6,
        ..NeighborConfig::default()
    });
    for i in 0..4u8 {
        let g = IpAddr::V4([10, 0, 0, i].into());
        c.resolve(1, g, 0);
        for j in 0..3u8 {
            c.hold(1, g, vec![i, j]);
        }
    }
    assert_eq!(c.held(), 6);
    assert_eq!(c.drops.overflow, 6);
    // answers and failures give room back
    let rel = c.learn(1, ip("10.0.0.0"), M1, Learn::Reachable, false, 1);
    assert_eq!(rel.len(), 3);
    assert_eq!(c.held(), 3);
    for t in 1..30 {
        c.poll(t * S);
    }
    assert_eq!(c.held(), 0);
    assert_eq!(c.drops.expired, 3);
    c.resolve(1, ip("10.0.0.9"), 40 * S);
    assert!(c.hold(1, ip("10.0.0.9"), vec![9]));
    assert_eq!(c.held(), 1);
    assert_eq!(c.held(), c.recount_held());
    c.retain(|_, _| false);
    assert_eq!(c.held(), 0);
}

#[test]
fn solicitation_flood_is_spread_over_seconds() {
    let mut c: NeighborCache = NeighborCache::new(NeighborConfig {
        solicits_per_sec: 3,
        ..NeighborConfig::default()
    });
    for i in 0..7u8 {
        assert_eq!(
            c.resolve(1, IpAddr::V4([10, 0, 0, i].into()), 0),
            Resolve::Pending
        );
    }
    assert_eq!(c.take_solicits().len(), 3);
    assert_eq!(c.drops.deferred, 4);
    // no busy loop: the next deadline is the next second
    assert_eq!(c.poll_timeout(), Some(S));
    c.poll(S / 2);
    assert!(c.take_solicits().is_empty());
    // each second: the budget goes to the deferred first-tries and the
    // retransmissions, three at a time
    let mut sent = 3;
    for t in 1..=40 {
        c.poll(t * S);
        let n = c.take_solicits().len();
        assert!(n <= 3);
        sent += n;
    }
    // every entry got its arp_tries in the end, and gave up
    assert_eq!(sent, 7 * usize::from(NeighborConfig::default().arp_tries));
    for i in 0..7u8 {
        assert!(matches!(
            c.state(1, IpAddr::V4([10, 0, 0, i].into())),
            Some(State::Failed { .. }) | None
        ));
    }
}
