use super::*;
use crate::router::iface::Interface;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn ifs() -> Interfaces {
    let mut ifs = Interfaces::new();
    ifs.add(Interface::new("em0", 1, [2, 0, 0, 0, 0, 1], 1500).unwrap())
        .unwrap();
    ifs.add(Interface::new("em1", 2, [2, 0, 0, 0, 0, 2], 1500).unwrap())
        .unwrap();
    ifs.add_addr(1, ip("192.0.2.1"), 24).unwrap();
    ifs.add_addr(1, ip("2001:db8:1::1"), 64).unwrap();
    ifs.add_addr(2, ip("198.51.100.1"), 24).unwrap();
    ifs.add_addr(2, ip("10.0.0.1"), 32).unwrap();
    ifs.add_addr(2, ip("2001:db8:2::1"), 64).unwrap();
    ifs
}

fn hop(ifindex: u32, gw: Option<&str>) -> Option<NextHop> {
    Some(NextHop {
        ifindex,
        gateway: gw.map(ip),
    })
}

#[test]
fn connected_routes() {
    let i = ifs();
    let t = RouteTable::connected(&i);
    assert_eq!(t.lookup_ip(ip("192.0.2.77")), hop(1, None));
    assert_eq!(t.lookup_ip(ip("198.51.100.255")), hop(2, None));
    assert_eq!(t.lookup_ip(ip("10.0.0.1")), hop(2, None));
    assert_eq!(t.lookup_ip(ip("10.0.0.2")), None);
    assert_eq!(t.lookup_ip(ip("2001:db8:1::ffff")), hop(1, None));
    assert_eq!(t.lookup_ip(ip("2001:db8:3::1")), None);
    assert_eq!(t.lookup_ip(ip("203.0.113.1")), None);
}

#[test]
fn default_and_overlapping_statics() {
    let i = ifs();
    let mut t = RouteTable::connected(&i);
    t.set_default(ip("198.51.100.254"), None, &i).unwrap();
    t.set_default(ip("2001:db8:2::fe"), None, &i).unwrap();
    t.add_static(ip("172.16.0.0"), 12, ip("192.0.2.2"), None, &i)
        .unwrap();
    t.add_static(ip("172.16.5.0"), 24, ip("192.0.2.3"), None, &i)
        .unwrap();
    t.add_static(ip("172.16.5.5"), 32, ip("198.51.100.9"), None, &i)
        .unwrap();
    t.add_static(ip("2001:db8:ff::"), 48, ip("2001:db8:1::2"), None, &i)
        .unwrap();
    t.add_static(ip("2001:db8:ff::7"), 128, ip("fe80::2"), Some(2), &i)
        .unwrap();
    assert_eq!(t.lookup_ip(ip("8.8.8.8")), hop(2, Some("198.51.100.254")));
    assert_eq!(t.lookup_ip(ip("172.31.255.255")), hop(1, Some("192.0.2.2")));
    assert_eq!(t.lookup_ip(ip("172.16.5.4")), hop(1, Some("192.0.2.3")));
    assert_eq!(t.lookup_ip(ip("172.16.5.5")), hop(2, Some("198.51.100.9")));
    assert_eq!(
        t.lookup_ip(ip("172.15.0.1")),
        hop(2, Some("198.51.100.254"))
    );
    // the connected route beats the default
    assert_eq!(t.lookup_ip(ip("192.0.2.200")), hop(1, None));
    assert_eq!(
        t.lookup_ip(ip("2001:db8:ff::6")),
        hop(1, Some("2001:db8:1::2"))
    );
    assert_eq!(t.lookup_ip(ip("2001:db8:ff::7")), hop(2, Some("fe80::2")));
    assert_eq!(
        t.lookup_ip(ip("2001:4860::1")),
        hop(2, Some("2001:db8:2::fe"))
    );
    assert_eq!(
        t.lookup(Af::Inet6, addr_key(ip("::"))),
        hop(2, Some("2001:db8:2::fe"))
    );
    // replacing the default keeps one
    t.set_default(ip("192.0.2.254"), None, &i).unwrap();
    assert_eq!(t.lookup_ip(ip("8.8.8.8")), hop(1, Some("192.0.2.254")));
    assert_eq!(t.iter().filter(|r| r.prefix == 0).count(), 2);
    // a failed replacement leaves the old one
    assert!(t.set_default(ip("203.0.113.1"), None, &i).is_err());
    assert_eq!(t.lookup_ip(ip("8.8.8.8")), hop(1, Some("192.0.2.254")));
    // removing the /24 exposes the /12
    assert!(t.remove(ip("172.16.5.0"), 24).is_some());
    assert_eq!(t.lookup_ip(ip("172.16.5.4")), hop(1, Some("192.0.2.2")));
    assert_eq!(t.route_to(ip("172.16.5.5")).unwrap().prefix, 32);
}

#[test]
fn static_route_errors() {
    let i = ifs();
    let mut t = RouteTable::connected(&i);
    assert_eq!(
        t.add_static(ip("10.1.0.0"), 16, ip("203.0.113.1"), None, &i),
        Err(ConfigError::GatewayUnreachable(ip("203.0.113.1")))
    );
    assert_eq!(
        t.add_static(ip("10.1.0.0"), 16, ip("2001:db8:1::2"), None, &i),
        Err(ConfigError::FamilyMismatch)
    );
    assert_eq!(
        t.add_static(ip("2001:db8:9::"), 48, ip("fe80::1"), None, &i),
        Err(ConfigError::GatewayUnreachable(ip("fe80::1")))
    );
    assert!(matches!(
        t.add_static(ip("10.1.0.0"), 33, ip("192.0.2.2"), None, &i),
        Err(ConfigError::BadPrefix { .. })
    ));
    assert_eq!(
        t.add_static(ip("10.1.0.0"), 16, ip("192.0.2.2"), Some(2), &i),
        Err(ConfigError::GatewayUnreachable(ip("192.0.2.2")))
    );
    t.add_static(ip("10.1.0.0"), 16, ip("192.0.2.2"), None, &i)
        .unwrap();
    assert!(matches!(
        t.add_static(ip("10.1.255.0"), 16, ip("192.0.2.3"), None, &i),
        Err(ConfigError::DuplicateRoute { .. })
    ));
    // our own address is no gateway
    assert!(t
        .add_static(ip("10.2.0.0"), 16, ip("192.0.2.1"), None, &i)
        .is_err());
}

#[test]
fn host_and_zero_routes_in_key_layout() {
    let i = ifs();
    let mut t = RouteTable::default();
    t.add_static(ip("0.0.0.0"), 0, ip("192.0.2.2"), Some(1), &i)
        .unwrap();
    t.add_static(ip("255.255.255.255"), 32, ip("198.51.100.2"), Some(2), &i)
        .unwrap();
    // an IPv4 /0 never answers for IPv6 and the reverse
    assert_eq!(t.lookup_ip(ip("::1")), None);
    assert_eq!(
        t.lookup_ip(ip("255.255.255.255")),
        hop(2, Some("198.51.100.2"))
    );
    assert_eq!(
        t.lookup_ip(ip("255.255.255.254")),
        hop(1, Some("192.0.2.2"))
    );
    t.add_static(ip("::"), 0, ip("2001:db8:1::9"), Some(1), &i)
        .unwrap();
    assert_eq!(t.lookup_ip(ip("ffff::1")), hop(1, Some("2001:db8:1::9")));
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    /// The table agrees with a linear scan for the longest matching
    /// prefix.
    fn naive(routes: &[(u32, u8, u32)], dst: u32) -> Option<u32> {
        routes
            .iter()
            .filter(|(net, p, _)| {
                let m = crate::router::iface::prefix_mask32(*p);
                dst & m == net & m
            })
            .max_by_key(|(_, p, _)| *p)
            .map(|(_, _, gw)| *gw)
    }

    proptest! {
        #[test]
        fn lpm_matches_linear_scan(routes in proptest::collection::vec((any::<u32>(), 0u8..=32, 1u32..250), 0..40),
                                   probes in proptest::collection::vec(any::<u32>(), 1..40)) {
            let mut i = Interfaces::new();
            i.add(Interface::new("em0", 1, [2, 0, 0, 0, 0, 1], 1500).unwrap()).unwrap();
            i.add_addr(1, ip("100.64.0.1"), 24).unwrap();
            let mut t = RouteTable::default();
            let mut kept = Vec::new();
            for (net, p, gw) in routes {
                let g = IpAddr::V4(Ipv4Addr::new(100, 64, 0, (gw + 1) as u8));
                if t.add_static(IpAddr::V4(net.into()), p, g, Some(1), &i).is_ok() {
                    kept.push((net, p, u32::from(Ipv4Addr::new(100, 64, 0, (gw + 1) as u8))));
                }
            }
            for d in probes.into_iter().chain(kept.iter().map(|k| k.0)) {
                let got = t.lookup_ip(IpAddr::V4(d.into())).and_then(|h| h.gateway);
                let want = naive(&kept, d).map(|g| IpAddr::V4(g.into()));
                prop_assert_eq!(got, want);
            }
        }
    }
}
