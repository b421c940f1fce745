//! Three routers on two links with a virtual clock, quinn-`Pair` style:
//! A (192.0.2.10, 2001:db8:1::10) — R — B (198.51.100.20,
//! 2001:db8:2::20). A and B are routers with one interface and a
//! default route through R, so every frame on the wire is one a `Router`
//! made: ARP and ND both ways, held packets released, forwarding, echo.

use super::*;
use crate::wire::ethernet::ethertype;

/// Which (node, interface) each (node, interface) is wired to.
const WIRES: [((usize, u32), (usize, u32)); 2] = [((0, 1), (1, 1)), ((1, 2), (2, 1))];

fn host(name: &str, mac: [u8; 6], v4: &str, v6: &str, gw4: &str, gw6: &str) -> Router {
    let mut ifs = Interfaces::new();
    ifs.add(Interface::new(name, 1, mac, 1500).unwrap())
        .unwrap();
    ifs.add_addr(1, ip(v4), 24).unwrap();
    ifs.add_addr(1, ip(v6), 64).unwrap();
    let mut r = Router::new(ifs, RouterConfig::default());
    let ifs = r.ifaces.clone();
    r.routes.set_default(ip(gw4), None, &ifs).unwrap();
    r.routes.set_default(ip(gw6), None, &ifs).unwrap();
    r
}

/// The (node, interface) at the other end of `from`'s interface.
fn peer(from: usize, ifindex: u32) -> Option<(usize, u32)> {
    WIRES.iter().find_map(|&(a, b)| {
        if a == (from, ifindex) {
            Some(b)
        } else if b == (from, ifindex) {
            Some(a)
        } else {
            None
        }
    })
}

/// What the daemon does with a received frame (without pf).
fn receive(r: &mut Router, ifindex: u32, frame: &[u8], now: u64, tx: &mut Vec<Tx>) {
    let is_arp = crate::wire::ethernet::EthernetFrame::new_checked(frame)
        .is_ok_and(|e| e.ethertype() == ethertype::ARP);
    if is_arp {
        let _ = r.handle_local_into(frame, ifindex, now, tx);
        return;
    }
    if let Ok(Parsed::Ip(pd)) = parse_frame(frame, Link::Ethernet) {
        if r.is_local(ifindex, pd.dst_ip()) {
            let _ = r.handle_local_into(frame, ifindex, now, tx);
        } else {
            r.forward_into(frame, ifindex, &pd, now, tx);
        }
    }
}

/// Deliver frames until the wires are quiet; returns what each node
/// received, in order.
fn run(
    nodes: &mut [Router],
    mut inflight: Vec<(usize, Tx)>,
    now: &mut u64,
) -> Vec<(usize, Vec<u8>)> {
    let mut seen = Vec::new();
    for _ in 0..100 {
        if inflight.is_empty() {
            break;
        }
        *now += 1_000_000;
        let mut next = Vec::new();
        for (from, t) in inflight.drain(..) {
            let Some((to, ifindex)) = peer(from, t.ifindex) else {
                continue;
            };
            seen.push((to, t.frame.clone()));
            let mut tx = Vec::new();
            receive(&mut nodes[to], ifindex, &t.frame, *now, &mut tx);
            next.extend(tx.into_iter().map(|x| (to, x)));
        }
        inflight = next;
    }
    assert!(inflight.is_empty(), "the wires never went quiet");
    seen
}

fn nodes() -> Vec<Router> {
    let a = host(
        "a0",
        HA,
        "192.0.2.10",
        "2001:db8:1::10",
        "192.0.2.1",
        "2001:db8:1::1",
    );
    let b = host(
        "b0",
        HB,
        "198.51.100.20",
        "2001:db8:2::20",
        "198.51.100.1",
        "2001:db8:2::1",
    );
    vec![a, router(), b]
}

#[test]
fn ping_across_the_router_resolving_everything_on_the_way() {
    let mut n = nodes();
    let mut now = 0;
    // A pings B (A's frame is built by hand, as if A's stack made it:
    // ECHO4_TO_R0 readdressed to B)
    let mut ping = ECHO4_TO_R0.to_vec();
    let mut p = crate::wire::ipv4::Ipv4Packet::new_unchecked(&mut ping[14..]);
    p.set_dst_addr([198, 51, 100, 20].into());
    p.fill_checksum();
    let seen = run(
        &mut n,
        vec![(
            0,
            Tx {
                ifindex: 1,
                frame: ping,
                kind: TxKind::Originated,
            },
        )],
        &mut now,
    );
    // the echo reply from B came back to A
    let replies: Vec<_> = seen
        .iter()
        .filter(|(to, f)| *to == 0 && f.len() > 34 && f[23] == 1 && f[34] == 0)
        .collect();
    assert_eq!(replies.len(), 1);
    let reply = &replies[0].1;
    assert_eq!(&reply[0..6], &HA);
    assert_eq!(&reply[6..12], &R0);
    assert_eq!(&reply[26..34], &[198, 51, 100, 20, 192, 0, 2, 10]);
    // B's reply crossed one router: 255 - 1
    assert_eq!(reply[22], 254);
    // R resolved B, then A; B learned R from R's request (RFC 826) and
    // asked nothing: two ARP requests in all
    let arp_requests = seen
        .iter()
        .filter(|(_, f)| f[12..14] == [8, 6] && f[21] == 1)
        .count();
    assert_eq!(arp_requests, 2);
    assert_eq!(n[1].counters.count(Event::Forwarded), 2);
    assert_eq!(n[1].counters.count(Event::Released), 2);
    assert_eq!(n[2].counters.count(Event::EchoReplied), 1);
}

#[test]
fn ping6_across_the_router_with_neighbour_discovery() {
    let mut n = nodes();
    let mut now = 0;
    let mut ping = ECHO6_TO_R0.to_vec();
    let mut p = crate::wire::ipv6::Ipv6Packet::new_unchecked(&mut ping[14..]);
    let b: std::net::Ipv6Addr = "2001:db8:2::20".parse().unwrap();
    p.set_dst_addr(b);
    let pdesc = pd(&ping);
    let l4 = usize::from(pdesc.l4_off);
    let a: std::net::Ipv6Addr = "2001:db8:1::10".parse().unwrap();
    crate::wire::icmpv6::Icmpv6Packet::new_unchecked(&mut ping[l4..]).fill_checksum(a, b);
    let seen = run(
        &mut n,
        vec![(
            0,
            Tx {
                ifindex: 1,
                frame: ping,
                kind: TxKind::Originated,
            },
        )],
        &mut now,
    );
    let replies: Vec<_> = seen
        .iter()
        .filter(|(to, f)| *to == 0 && f.len() > 54 && f[20] == 58 && f[54] == 129)
        .collect();
    assert_eq!(replies.len(), 1);
    let reply = &replies[0].1;
    assert_eq!(reply[21], 63);
    let rpd = pd(reply);
    assert!(crate::wire::frame::verify_l4_checksum(reply, &rpd));
    let ns = seen
        .iter()
        .filter(|(_, f)| f.len() > 54 && f[20] == 58 && f[54] == 135)
        .count();
    // as for ARP: B learned R from the source link-layer address option
    // of R's solicitation
    assert_eq!(ns, 2);
    assert_eq!(n[2].counters.count(Event::EchoReplied), 1);
}
