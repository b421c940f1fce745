//! route-to, reply-to and dup-to in `pfd run`'s per-frame pipeline,
//! without a kernel: a client network and two uplinks, the default
//! route by the first. Frames are handed in as a port would; what the
//! pipeline sends is read from its verdict and `drain_out`.

use dataplane::wire::build::ethernet_wrap;
use dataplane::worker::Fate;
use mgmt::control::{KillBy, Request, Response, ShowWhat, StateFilter};
use mgmt::daemon::{EngineSlot, Forwarding, Pipeline, Published, View};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

const FW: [[u8; 6]; 3] = [[2, 0, 0, 0, 1, 1], [2, 0, 0, 0, 1, 2], [2, 0, 0, 0, 1, 3]];
const CLIENT: [u8; 6] = [2, 0, 0, 0, 2, 10];
/// The first uplink's router (the default route, `mygate`).
const GW1: [u8; 6] = [2, 0, 0, 0, 3, 254];
/// The second uplink's router.
const GW2: [u8; 6] = [2, 0, 0, 0, 4, 254];
/// A host on the second uplink that takes dup-to copies.
const TAP: [u8; 6] = [2, 0, 0, 0, 4, 9];
const SEC: u64 = 1_000_000_000;

struct Lab {
    pipe: Pipeline,
    published: Arc<Published>,
    view: View,
    dir: PathBuf,
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// client net 192.0.2.0/24 on veth0 (port 0); uplink 1 198.51.100.0/24
/// on veth1 (default route via .254); uplink 2 203.0.113.0/24 on veth2.
/// Every neighbour is known (static), so frames leave at once.
fn lab(tag: &str, pf_conf: &str) -> Lab {
    lab_gw(tag, pf_conf, true)
}

fn lab_gw(tag: &str, pf_conf: &str, default_route: bool) -> Lab {
    let dir = std::env::temp_dir().join(format!("pfd-routeto-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let w = |f: &str, t: &str| std::fs::write(dir.join(f), t).unwrap();
    w("hostname.veth0", "inet 192.0.2.1 255.255.255.0\n");
    w("hostname.veth1", "inet 198.51.100.1 255.255.255.0\n");
    w("hostname.veth2", "inet 203.0.113.1 255.255.255.0\n");
    if default_route {
        w("mygate", "198.51.100.254\n");
    }
    w("pf.conf", pf_conf);
    w("sysctl.conf", "net.inet.ip.forwarding=1\n");
    let env = ruleset::hostenv::from_env().unwrap();
    let checked = mgmt::check::check(&dir, None, env.as_ref()).unwrap();
    let plan = mgmt::daemon::ports(&checked.config).unwrap();
    assert_eq!(plan.len(), 3);
    let mut router =
        mgmt::daemon::router(&checked.config, &plan, &FW, &[None, None, None]).unwrap();
    let v4 = |s: &str| IpAddr::V4(s.parse::<Ipv4Addr>().unwrap());
    for (port, ip, mac) in [
        (0, "192.0.2.10", CLIENT),
        (1, "198.51.100.254", GW1),
        (2, "203.0.113.254", GW2),
        (2, "203.0.113.9", TAP),
    ] {
        // the router numbers port p as interface p + 1
        router.add_static_neighbor(port + 1, v4(ip), mac, 0);
    }
    let engine = Arc::new(EngineSlot::new(Arc::new(checked.engine)));
    let published = Arc::new(Published::default());
    let view = View {
        engine: Arc::clone(&engine),
        etc: Some(Arc::new(checked.config.clone())),
        rules: std::sync::Mutex::new(mgmt::daemon::rules_text(&checked.config, env.as_ref())),
        published: Arc::clone(&published),
        started: Instant::now(),
        ports: plan.iter().map(|p| p.name.clone()).collect(),
        live: None,
        carp: None,
        pfsync: None,
        debug: Default::default(),
        table_times: std::sync::Mutex::new(mgmt::daemon::TableTimes::new(mgmt::daemon::wall_now())),
    };
    let engine_if = plan.iter().map(|p| p.engine_if).collect();
    let pipe = Pipeline::new(
        engine,
        router,
        engine_if,
        Arc::clone(&published),
        Forwarding {
            inet: true,
            inet6: false,
        },
    );
    Lab {
        pipe,
        published,
        view,
        dir,
    }
}

type Sent = Vec<(usize, Vec<u8>)>;

impl Lab {
    fn send(&mut self, port: usize, now: u64, frame: &[u8]) -> (Fate, Vec<u8>, Sent) {
        let mut f = frame.to_vec();
        let fate = self.pipe.frame(port, now, &mut f);
        let mut out = Vec::new();
        self.pipe.drain_out(|p, b| out.push((p, b.to_vec())));
        (fate, f, out)
    }
}

/// A UDP datagram from `src` to `dst` with `ttl`, framed for `to` (the
/// firewall port's MAC) from `from`.
fn udp(
    src: &str,
    sport: u16,
    dst: &str,
    dport: u16,
    ttl: u8,
    from: [u8; 6],
    to: [u8; 6],
) -> Vec<u8> {
    let s: Ipv4Addr = src.parse().unwrap();
    let d: Ipv4Addr = dst.parse().unwrap();
    let mut ip = vec![0x45, 0, 0, 36, 0, 1, 0, 0, ttl, 17, 0, 0];
    ip.extend_from_slice(&s.octets());
    ip.extend_from_slice(&d.octets());
    let ck = dataplane::wire::checksum::finish(dataplane::wire::checksum::sum(&ip));
    ip[10..12].copy_from_slice(&ck.to_be_bytes());
    ip.extend_from_slice(&sport.to_be_bytes());
    ip.extend_from_slice(&dport.to_be_bytes());
    // length 16, checksum 0 (none)
    ip.extend_from_slice(&[0, 16, 0, 0]);
    ip.extend_from_slice(b"route-to");
    ethernet_wrap(&ip, from, to, None)
}

fn dst_mac(f: &[u8]) -> [u8; 6] {
    f[..6].try_into().unwrap()
}
fn src_mac(f: &[u8]) -> [u8; 6] {
    f[6..12].try_into().unwrap()
}
fn ttl(f: &[u8]) -> u8 {
    f[14 + 8]
}
fn ip_dst(f: &[u8]) -> [u8; 4] {
    f[30..34].try_into().unwrap()
}

/// route-to sends a flow out of the second uplink to its router,
/// although the default route is the first; other flows keep the
/// default route. Forwarding's TTL decrement applies.
#[test]
fn route_to_leaves_by_the_second_uplink() {
    let mut l = lab(
        "rt",
        "pass\npass in on veth0 proto udp to port 53 route-to 203.0.113.254\n",
    );
    let pkt = udp("192.0.2.10", 4000, "8.8.8.8", 53, 64, CLIENT, FW[0]);
    let (fate, f, out) = l.send(0, SEC, &pkt);
    assert_eq!(fate, Fate::Forward(2), "{out:?}");
    assert_eq!((dst_mac(&f), src_mac(&f)), (GW2, FW[2]));
    assert_eq!(ttl(&f), 63);
    assert_eq!(ip_dst(&f), [8, 8, 8, 8]);
    // the state keeps the choice
    let (fate, _, _) = l.send(0, 2 * SEC, &pkt);
    assert_eq!(fate, Fate::Forward(2));
    // a flow the rule does not route goes by the default route
    let other = udp("192.0.2.10", 4000, "8.8.8.8", 54, 64, CLIENT, FW[0]);
    let (fate, f, _) = l.send(0, 3 * SEC, &other);
    assert_eq!(fate, Fate::Forward(1));
    assert_eq!(dst_mac(&f), GW1);
}

/// reply-to: a connection that came in on the second uplink is answered
/// through it, although the default route is the first.
#[test]
fn reply_to_answers_by_the_uplink_the_connection_came_in_on() {
    let mut l = lab("rp", "pass\npass in on veth2 reply-to 203.0.113.254\n");
    let q = udp("8.8.4.4", 5000, "192.0.2.10", 53, 64, GW2, FW[2]);
    let (fate, f, _) = l.send(2, SEC, &q);
    assert_eq!(fate, Fate::Forward(0));
    assert_eq!(dst_mac(&f), CLIENT);
    let a = udp("192.0.2.10", 53, "8.8.4.4", 5000, 64, CLIENT, FW[0]);
    let (fate, f, out) = l.send(0, 2 * SEC, &a);
    assert_eq!(fate, Fate::Forward(2), "{out:?}");
    assert_eq!((dst_mac(&f), src_mac(&f)), (GW2, FW[2]));
    assert_eq!(ttl(&f), 63);
    // without reply-to the answer would take the default route
    let mut l = lab("rp-none", "pass\n");
    l.send(2, SEC, &q);
    let (fate, f, _) = l.send(0, 2 * SEC, &a);
    assert_eq!((fate, dst_mac(&f)), (Fate::Forward(1), GW1));
}

/// dup-to: the packet goes on by the routing table, a copy goes to the
/// tap on the second uplink; both ways of the state.
#[test]
fn dup_to_sends_a_copy_and_the_original_goes_on() {
    let mut l = lab(
        "dup",
        "pass\npass in on veth0 proto udp dup-to 203.0.113.9\n",
    );
    let pkt = udp("192.0.2.10", 4000, "8.8.8.8", 53, 64, CLIENT, FW[0]);
    let (fate, f, out) = l.send(0, SEC, &pkt);
    assert_eq!(fate, Fate::Forward(1));
    assert_eq!(dst_mac(&f), GW1);
    let copies: Vec<_> = out.iter().filter(|(p, _)| *p == 2).collect();
    assert_eq!(copies.len(), 1, "{out:?}");
    let c = &copies[0].1;
    assert_eq!((dst_mac(c), src_mac(c)), (TAP, FW[2]));
    assert_eq!(ip_dst(c), [8, 8, 8, 8]);
    assert_eq!(&c[14 + 20..], &pkt[14 + 20..], "the payload, unchanged");
    // the answer is copied too
    let back = udp("8.8.8.8", 53, "192.0.2.10", 4000, 64, GW1, FW[1]);
    let (fate, _, out) = l.send(1, 2 * SEC, &back);
    assert_eq!(fate, Fate::Forward(0));
    assert_eq!(out.iter().filter(|(p, _)| *p == 2).count(), 1, "{out:?}");
}

/// A packet route-to sent out of the second uplink meets pf outbound
/// there (which may block it), and is not routed a second time by what
/// that run says.
#[test]
fn routed_packets_meet_pf_outbound_once_and_are_not_routed_again() {
    let mut l = lab(
        "loop",
        "pass\n\
         pass in on veth0 proto udp route-to 203.0.113.254\n\
         pass out on veth2 proto udp route-to 198.51.100.254\n\
         block out on veth2 proto udp to port 9\n",
    );
    let pkt = udp("192.0.2.10", 4000, "8.8.8.8", 53, 64, CLIENT, FW[0]);
    let (fate, f, _) = l.send(0, SEC, &pkt);
    assert_eq!(fate, Fate::Forward(2));
    assert_eq!(dst_mac(&f), GW2);
    let blocked = udp("192.0.2.10", 4000, "8.8.8.8", 9, 64, CLIENT, FW[0]);
    let (fate, _, _) = l.send(0, 2 * SEC, &blocked);
    assert_eq!(fate, Fate::Drop);
    assert_eq!(l.published.blocked[1].load(Ordering::Relaxed), 1);
}

/// Forwarding's errors apply: a packet whose TTL runs out is answered
/// with time exceeded, not sent.
#[test]
fn an_expiring_ttl_is_answered_as_forwarding_does() {
    let mut l = lab(
        "ttl",
        "pass\npass in on veth0 proto udp route-to 203.0.113.254\n",
    );
    let pkt = udp("192.0.2.10", 4000, "8.8.8.8", 53, 1, CLIENT, FW[0]);
    let (fate, _, out) = l.send(0, SEC, &pkt);
    assert_eq!(fate, Fate::Drop);
    let err: Vec<_> = out
        .iter()
        .filter(|(p, f)| *p == 0 && f[14 + 9] == 1 && f[34] == 11)
        .collect();
    assert_eq!(err.len(), 1, "time exceeded to the client: {out:?}");
}

/// `pfctl -k gateway -k ADDR`: the states routed toward ADDR (or a
/// network) go; the others stay.
#[test]
fn kill_states_by_gateway() {
    let mut l = lab(
        "kill",
        "pass in on veth0 proto udp route-to { 203.0.113.254, 203.0.113.9 } round-robin\n",
    );
    // one flow to each next hop (a table walks in address order)
    let mut hops = Vec::new();
    for port in [53, 54] {
        let pkt = udp("192.0.2.10", 4000, "8.8.8.8", port, 64, CLIENT, FW[0]);
        let (fate, f, _) = l.send(0, SEC, &pkt);
        assert_eq!(fate, Fate::Forward(2));
        hops.push(dst_mac(&f));
    }
    hops.sort();
    assert_eq!(hops, [TAP, GW2]);
    let states = |l: &Lab| {
        let r = l.view.handle(Request::Show {
            what: ShowWhat::Info,
            verbose: 0,
            anchor: None,
            rule: None,
            interface: None,
        });
        match r {
            Response::Ok { json: Some(j), .. } => j["states"].as_u64().unwrap(),
            r => panic!("{r:?}"),
        }
    };
    assert_eq!(states(&l), 2);
    let kill = |l: &Lab, addr: &str| {
        l.view.handle(Request::KillStates {
            filters: StateFilter {
                interface: None,
                by: KillBy::Gateway { addr: addr.into() },
            },
        })
    };
    let text = |r: Response| match r {
        Response::Ok { text: Some(t), .. } => t,
        r => panic!("{r:?}"),
    };
    assert_eq!(text(kill(&l, "198.51.100.254")), "killed 0 states\n");
    assert_eq!(text(kill(&l, "203.0.113.9")), "killed 1 states\n");
    assert_eq!(states(&l), 1);
    assert_eq!(text(kill(&l, "203.0.113.0/24")), "killed 1 states\n");
    assert_eq!(states(&l), 0);
    assert!(matches!(
        kill(&l, "nowhere"),
        Response::Error {
            kind: mgmt::control::ErrorKind::BadRequest,
            ..
        }
    ));
}

/// A next hop the routing table cannot reach: the packet is dropped and
/// its sender told the host is unreachable.
#[test]
fn an_unroutable_next_hop_is_refused_with_host_unreachable() {
    let mut l = lab_gw(
        "unr",
        "pass\npass in on veth0 proto udp to port 53 route-to 10.9.9.9\n",
        false,
    );
    let pkt = udp("192.0.2.10", 4000, "203.0.113.50", 53, 64, CLIENT, FW[0]);
    let (fate, _, out) = l.send(0, SEC, &pkt);
    assert_eq!(fate, Fate::Drop);
    let err: Vec<_> = out
        .iter()
        .filter(|(p, f)| *p == 0 && f[14 + 9] == 1 && f[34] == 3 && f[35] == 1)
        .collect();
    assert_eq!(err.len(), 1, "host unreachable to the client: {out:?}");
    // without route-to the same packet is forwarded (held while pfd
    // asks for its destination on the link)
    let other = udp("192.0.2.10", 4000, "203.0.113.50", 54, 64, CLIENT, FW[0]);
    let (_, _, out) = l.send(0, 2 * SEC, &other);
    assert!(
        out.iter()
            .any(|(p, f)| *p == 2 && f[12..14] == [0x08, 0x06]),
        "{out:?}"
    );
}

/// An ICMP echo request from `src` to `dst`, framed from `from` to `to`.
fn echo(src: &str, dst: &str, from: [u8; 6], to: [u8; 6]) -> Vec<u8> {
    use dataplane::wire::checksum::{finish, sum};
    let s: Ipv4Addr = src.parse().unwrap();
    let d: Ipv4Addr = dst.parse().unwrap();
    let mut ip = vec![0x45, 0, 0, 28, 0, 7, 0, 0, 64, 1, 0, 0];
    ip.extend_from_slice(&s.octets());
    ip.extend_from_slice(&d.octets());
    let ck = finish(sum(&ip));
    ip[10..12].copy_from_slice(&ck.to_be_bytes());
    let mut icmp = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1];
    let ck = finish(sum(&icmp));
    icmp[2..4].copy_from_slice(&ck.to_be_bytes());
    ip.extend_from_slice(&icmp);
    ethernet_wrap(&ip, from, to, None)
}

/// reply-to for the firewall's own answers: an echo to pfd's address on
/// the second uplink, from a network only reached through it, is
/// answered through it (by the default route without reply-to).
#[test]
fn reply_to_routes_the_firewalls_own_answers() {
    let req = echo("10.99.0.2", "203.0.113.1", GW2, FW[2]);
    let replies = |out: &Sent| -> Vec<(usize, [u8; 6])> {
        out.iter()
            .filter(|(_, f)| f.len() > 34 && f[14 + 9] == 1 && f[34] == 0)
            .map(|(p, f)| (*p, dst_mac(f)))
            .collect()
    };
    let mut l = lab("own", "pass\npass in on veth2 reply-to 203.0.113.254\n");
    let (fate, _, out) = l.send(2, SEC, &req);
    assert_eq!(fate, Fate::Drop, "consumed by the router");
    assert_eq!(replies(&out), [(2, GW2)], "{out:?}");
    let mut l = lab("own-none", "pass\n");
    let (_, _, out) = l.send(2, SEC, &req);
    assert_eq!(replies(&out), [(1, GW1)], "{out:?}");
}

/// route-to on an outbound rule: the packet the routing table sent to
/// the first uplink is moved to the second after pf outbound passed it
/// there (no second pf run, as pf_route on an outbound packet).
#[test]
fn route_to_on_an_outbound_rule_moves_the_packet() {
    let mut l = lab(
        "out",
        "pass\npass out on veth1 proto udp to port 53 route-to 203.0.113.254\n",
    );
    let pkt = udp("192.0.2.10", 4000, "8.8.8.8", 53, 64, CLIENT, FW[0]);
    let (fate, f, out) = l.send(0, SEC, &pkt);
    assert_eq!(fate, Fate::Forward(2), "{out:?}");
    assert_eq!((dst_mac(&f), src_mac(&f)), (GW2, FW[2]));
    assert_eq!(ttl(&f), 63);
    assert_eq!(
        l.published.passed[1].load(Ordering::Relaxed),
        1,
        "pf ran outbound once"
    );
}
