//! `pfd run`'s per-frame pipeline without a kernel: the engine and the
//! router built from an etc directory as the daemon builds them, frames
//! handed in as a port would, what it sends taken from `drain_out`.

use dataplane::pdesc::tcp_flags;
use dataplane::wire::build::{ethernet_wrap, tcp_segment, TcpSegment};
use dataplane::worker::Fate;
use mgmt::control::{ErrorKind, Request, Response, ShowWhat};
use mgmt::daemon::{EngineSlot, Forwarding, Pipeline, Published, View};
use ruleset::addr::Af;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

const FW0: [u8; 6] = [2, 0, 0, 0, 1, 1];
const FW1: [u8; 6] = [2, 0, 0, 0, 1, 2];
const CLIENT: [u8; 6] = [2, 0, 0, 0, 2, 10];
const SERVER: [u8; 6] = [2, 0, 0, 0, 3, 10];
const SEC: u64 = 1_000_000_000;

const PF_CONF: &str = "\
block all
pass out
pass in on veth0 proto { tcp, udp, icmp }
block return in on veth0 proto tcp to port 23
";

struct Lab {
    pipe: Pipeline,
    published: Arc<Published>,
    view: Arc<View>,
    _dir: Dir,
}

impl Lab {
    fn dir(&self) -> &std::path::Path {
        &self._dir.0
    }
}

struct Dir(PathBuf);

/// Frames the pipeline sent itself: (port, frame).
type Sent = Vec<(usize, Vec<u8>)>;

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn lab(tag: &str) -> Lab {
    lab_with(tag, "net.inet.ip.forwarding=1\n")
}

fn lab_with(tag: &str, sysctl: &str) -> Lab {
    lab_full(tag, PF_CONF, sysctl)
}

fn lab_full(tag: &str, pf_conf: &str, sysctl: &str) -> Lab {
    let dir = std::env::temp_dir().join(format!("pfd-pipe-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let w = |f: &str, t: &str| std::fs::write(dir.join(f), t).unwrap();
    w("hostname.veth0", "inet 192.0.2.1 255.255.255.0\n");
    w("hostname.veth1", "inet 198.51.100.1 255.255.255.0\n");
    w("mygate", "198.51.100.254\n");
    w("pf.conf", pf_conf);
    w("sysctl.conf", sysctl);
    let env = ruleset::hostenv::from_env().unwrap();
    let checked = mgmt::check::check(&dir, None, env.as_ref()).unwrap();
    let plan = mgmt::daemon::ports(&checked.config).unwrap();
    assert_eq!(plan.len(), 2);
    let router = mgmt::daemon::router(&checked.config, &plan, &[FW0, FW1], &[None, None]).unwrap();
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
        // as if the ruleset had been loaded 100 s ago (-T expire)
        table_times: std::sync::Mutex::new(mgmt::daemon::TableTimes::new(
            mgmt::daemon::wall_now() - 100,
        )),
    };
    let engine_if = plan.iter().map(|p| p.engine_if).collect();
    let forwarding = Forwarding {
        inet: checked.config.sysctl.ip_forwarding,
        inet6: checked.config.sysctl.ip6_forwarding,
    };
    Lab {
        pipe: Pipeline::new(
            engine,
            router,
            engine_if,
            Arc::clone(&published),
            forwarding,
        ),
        published,
        view: Arc::new(view),
        _dir: Dir(dir),
    }
}

impl Lab {
    /// The view on a control socket, as `pfd run` serves it.
    fn serve(&self) -> (mgmt::control::Server, String) {
        let path = self.dir().join("pfd.sock");
        let v = Arc::clone(&self.view);
        let s = mgmt::control::Server::start(&path, Default::default(), move |req| v.handle(req))
            .unwrap();
        (s, path.to_string_lossy().into_owned())
    }

    fn send(&mut self, port: usize, now: u64, frame: &[u8]) -> (Fate, Vec<u8>, Sent) {
        let mut f = frame.to_vec();
        let fate = self.pipe.frame(port, now, &mut f);
        let mut out = Vec::new();
        self.pipe.drain_out(|p, b| out.push((p, b.to_vec())));
        (fate, f, out)
    }

    fn show(&self, what: ShowWhat) -> (String, serde_json::Value) {
        self.show_v(what, 0)
    }

    fn show_v(&self, what: ShowWhat, verbose: u8) -> (String, serde_json::Value) {
        let r = self.view.handle(Request::Show {
            what,
            verbose,
            anchor: None,
            rule: None,
            interface: None,
        });
        match r {
            Response::Ok { text, json } => (text.unwrap_or_default(), json.unwrap_or_default()),
            other => panic!("{other:?}"),
        }
    }
}

/// The real pfctl binary against `sock`: (exit code, stdout, stderr).
fn pfctl(sock: &str, args: &[&str]) -> (i32, String, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_pfctl"))
        .arg("--control")
        .arg(sock)
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn v4(s: &str) -> [u8; 4] {
    s.parse::<Ipv4Addr>().unwrap().octets()
}

fn key(s: &str) -> u128 {
    u128::from(u32::from_be_bytes(v4(s))) << 96
}

fn csum(data: &[u8]) -> u16 {
    let mut acc = 0u32;
    for c in data.chunks(2) {
        acc += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

fn ipv4(src: &str, dst: &str, proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0];
    h[2..4].copy_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    h.extend_from_slice(&v4(src));
    h.extend_from_slice(&v4(dst));
    let c = csum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

fn echo(src: &str, dst: &str) -> Vec<u8> {
    let mut icmp = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1, b'p', b'f', b'd', b'!'];
    let c = csum(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    ipv4(src, dst, 1, &icmp)
}

fn syn(src: &str, dst: &str, dport: u16) -> Vec<u8> {
    tcp_segment(&TcpSegment {
        af: Af::Inet,
        src: key(src),
        dst: key(dst),
        sport: 40000,
        dport,
        seq: 1000,
        ack: 0,
        flags: tcp_flags::SYN,
        win: 65535,
        mss: Some(1460),
        ttl: 64,
    })
}

fn arp(op: u16, sha: [u8; 6], spa: &str, tha: [u8; 6], tpa: &str) -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4];
    a.extend_from_slice(&op.to_be_bytes());
    a.extend_from_slice(&sha);
    a.extend_from_slice(&v4(spa));
    a.extend_from_slice(&tha);
    a.extend_from_slice(&v4(tpa));
    let dst = if op == 1 { [0xff; 6] } else { tha };
    let mut f = dst.to_vec();
    f.extend_from_slice(&sha);
    f.extend_from_slice(&[0x08, 0x06]);
    f.extend_from_slice(&a);
    f
}

fn eth(ip: &[u8], src: [u8; 6], dst: [u8; 6]) -> Vec<u8> {
    ethernet_wrap(ip, src, dst, None)
}

/// Fields of an Ethernet + IPv4 frame.
fn dst_mac(f: &[u8]) -> [u8; 6] {
    f[..6].try_into().unwrap()
}
fn ethertype(f: &[u8]) -> u16 {
    u16::from_be_bytes([f[12], f[13]])
}
fn ip_proto(f: &[u8]) -> u8 {
    f[14 + 9]
}
fn ttl(f: &[u8]) -> u8 {
    f[14 + 8]
}

#[test]
fn arp_for_our_address_is_answered_and_pf_never_sees_it() {
    let mut l = lab("arp");
    let (fate, _, out) = l.send(0, SEC, &arp(1, CLIENT, "192.0.2.10", [0; 6], "192.0.2.1"));
    assert_eq!(fate, Fate::Drop);
    let reply: Vec<_> = out
        .iter()
        .filter(|(p, f)| *p == 0 && dst_mac(f) == CLIENT)
        .collect();
    assert_eq!(reply.len(), 1, "{out:?}");
    assert_eq!(ethertype(&reply[0].1), 0x0806);
    assert_eq!(&reply[0].1[6..12], &FW0);
    // An address that is not ours gets no answer.
    let (_, _, out) = l.send(0, SEC, &arp(1, CLIENT, "192.0.2.10", [0; 6], "192.0.2.99"));
    assert!(out.is_empty(), "{out:?}");
    let (_, info) = l.show(ShowWhat::Info);
    assert_eq!(info["passed"]["in"], 0);
    assert_eq!(info["blocked"]["in"], 0);
}

#[test]
fn echo_to_the_firewall_passes_pf_both_ways_and_is_answered() {
    let mut l = lab("echo");
    let (fate, _, out) = l.send(0, SEC, &eth(&echo("192.0.2.10", "192.0.2.1"), CLIENT, FW0));
    assert_eq!(fate, Fate::Drop, "consumed by the router");
    // The reply needs the client's MAC: an ARP request first, the reply
    // held until the client answers.
    assert!(out.iter().all(|(p, _)| *p == 0), "{out:?}");
    let (_, _, out2) = l.send(0, SEC, &arp(2, CLIENT, "192.0.2.10", FW0, "192.0.2.1"));
    let all: Vec<_> = out.iter().chain(out2.iter()).collect();
    let replies: Vec<_> = all
        .iter()
        .filter(|(_, f)| ethertype(f) == 0x0800 && ip_proto(f) == 1 && f[34] == 0)
        .collect();
    assert_eq!(replies.len(), 1, "{all:?}");
    assert_eq!(dst_mac(&replies[0].1), CLIENT);
    assert_eq!(
        l.published.passed[0].load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert_eq!(
        l.published.passed[1].load(std::sync::atomic::Ordering::Relaxed),
        1,
        "the echo reply ran through pf outbound"
    );
}

#[test]
fn a_forwarded_packet_waits_for_the_next_hop_then_leaves_rewritten() {
    let mut l = lab("fwd");
    let pkt = syn("192.0.2.10", "198.51.100.10", 8080);
    let (fate, _, out) = l.send(0, SEC, &eth(&pkt, CLIENT, FW0));
    assert_eq!(fate, Fate::Drop, "held for ARP");
    let req: Vec<_> = out
        .iter()
        .filter(|(p, f)| *p == 1 && ethertype(f) == 0x0806)
        .collect();
    assert_eq!(req.len(), 1, "an ARP request out of veth1: {out:?}");
    let (_, _, out) = l.send(
        1,
        SEC,
        &arp(2, SERVER, "198.51.100.10", FW1, "198.51.100.1"),
    );
    let fwd: Vec<_> = out
        .iter()
        .filter(|(p, f)| *p == 1 && ethertype(f) == 0x0800)
        .collect();
    assert_eq!(fwd.len(), 1, "{out:?}");
    let f = &fwd[0].1;
    assert_eq!(dst_mac(f), SERVER);
    assert_eq!(&f[6..12], &FW1);
    assert_eq!(ttl(f), 63);
    assert_eq!(csum(&f[14..34]), 0, "IPv4 header checksum still right");
    // A repeat, with the next hop known now, leaves rewritten in place.
    let (fate, out_frame, _) = l.send(0, 2 * SEC, &eth(&pkt, CLIENT, FW0));
    assert_eq!(fate, Fate::Forward(1));
    assert_eq!(dst_mac(&out_frame), SERVER);
    let (states, _) = l.show(ShowWhat::States);
    assert!(
        // pfctl prints an inbound state's peers the other way round.
        states.contains("all tcp 198.51.100.10:8080 <- 192.0.2.10:40000       CLOSED:SYN_SENT"),
        "{states}"
    );
    assert!(
        states.contains("all tcp 192.0.2.10:40000 -> 198.51.100.10:8080       SYN_SENT:CLOSED"),
        "{states}"
    );
}

#[test]
fn without_ip_forwarding_nothing_is_routed() {
    let mut l = lab_with("nofwd", "net.inet.ip.forwarding=0\n");
    let pkt = syn("192.0.2.10", "198.51.100.10", 8080);
    let (fate, _, out) = l.send(0, SEC, &eth(&pkt, CLIENT, FW0));
    assert_eq!(fate, Fate::Drop);
    assert!(out.is_empty(), "{out:?}");
    let (text, info) = l.show(ShowWhat::Info);
    assert_eq!(info["passed"]["in"], 1, "pf saw it inbound: {text}");
    assert_eq!(info["cantforward"], 1, "{text}");
    // The firewall's own addresses still answer.
    let (_, _, out) = l.send(0, SEC, &arp(1, CLIENT, "192.0.2.10", [0; 6], "192.0.2.1"));
    assert_eq!(out.len(), 1, "{out:?}");
}

#[test]
fn carp_and_pfsync_run_on_their_devices() {
    let dir = std::env::temp_dir().join(format!("pfd-pipe-carp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let _d = Dir(dir.clone());
    std::fs::write(dir.join("hostname.veth0"), "inet 192.0.2.2 255.255.255.0\n").unwrap();
    std::fs::write(
        dir.join("hostname.veth1"),
        "inet 198.51.100.2 255.255.255.0\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("hostname.carp0"),
        "inet 192.0.2.1 255.255.255.0 192.0.2.255 vhid 1 carpdev veth0 pass x\n",
    )
    .unwrap();
    std::fs::write(dir.join("pf.conf"), "pass\n").unwrap();
    let env = ruleset::hostenv::from_env().unwrap();
    let checked = mgmt::check::check(&dir, None, env.as_ref()).unwrap();
    // carp0 is no port of its own: it lives on veth0's
    let plan = mgmt::daemon::ports(&checked.config).unwrap();
    let names: Vec<&str> = plan.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["veth0", "veth1"]);
    // pfsync0 lives on its syncdev's port too, `defer` or not
    for pfsync0 in ["up syncdev veth1\n", "up syncdev veth1 defer\n"] {
        std::fs::write(dir.join("hostname.pfsync0"), pfsync0).unwrap();
        let checked = mgmt::check::check(&dir, None, env.as_ref()).unwrap();
        assert_eq!(mgmt::daemon::ports(&checked.config).unwrap().len(), 2);
    }
}

/// The TCP header of an Ethernet + IPv4 (no options) frame.
fn tcp(f: &[u8]) -> &[u8] {
    &f[34..]
}
fn seq(f: &[u8]) -> u32 {
    u32::from_be_bytes(tcp(f)[4..8].try_into().unwrap())
}
fn flags(f: &[u8]) -> u8 {
    tcp(f)[13]
}

#[test]
fn a_reply_to_a_packet_blocked_outbound_is_routed_back_to_its_source() {
    let pf =
        "block all\npass out\npass in on veth0\nblock return out on veth1 proto tcp to port 25\n";
    let mut l = lab_full("retout", pf, "net.inet.ip.forwarding=1\n");
    let pkt = syn("192.0.2.10", "198.51.100.10", 25);
    let (fate, _, out) = l.send(0, SEC, &eth(&pkt, CLIENT, FW0));
    assert_eq!(fate, Fate::Drop);
    // The RST goes to 192.0.2.10 by the route to it: out of veth0,
    // once the client answers ARP.
    assert!(out.iter().all(|(p, _)| *p == 0), "{out:?}");
    let (_, _, out2) = l.send(0, SEC, &arp(2, CLIENT, "192.0.2.10", FW0, "192.0.2.1"));
    let all: Vec<_> = out.iter().chain(out2.iter()).collect();
    let rst: Vec<_> = all
        .iter()
        .filter(|(_, f)| ethertype(f) == 0x0800 && ip_proto(f) == 6)
        .collect();
    assert_eq!(rst.len(), 1, "{all:?}");
    let (port, f) = rst[0];
    assert_eq!(*port, 0);
    assert_eq!(dst_mac(f), CLIENT);
    assert_eq!(&f[6..12], &FW0);
    assert_ne!(flags(f) & tcp_flags::RST, 0);
    let (text, info) = l.show(ShowWhat::Info);
    assert_eq!(info["blocked"]["out"], 1, "{text}");
    assert_eq!(info["replies"], 1, "{text}");
    assert_eq!(info["unsent"], 0, "{text}");
}

#[test]
fn synproxy_completes_the_handshake_then_opens_to_the_server() {
    let pf = "block all\npass out\npass in on veth0 proto tcp to port 8080 synproxy state\n";
    let mut l = lab_full("synproxy", pf, "net.inet.ip.forwarding=1\n");
    // The client's SYN is answered by pf itself, out of veth0.
    let (fate, _, out) = l.send(
        0,
        SEC,
        &eth(&syn("192.0.2.10", "198.51.100.10", 8080), CLIENT, FW0),
    );
    assert_eq!(fate, Fate::Drop);
    assert_eq!(out.len(), 1, "{out:?}");
    let (port, synack) = &out[0];
    assert_eq!(*port, 0);
    assert_eq!(flags(synack), tcp_flags::SYN | tcp_flags::ACK);
    // The client's ACK: pf opens to the server, through pf outbound on
    // veth1, after ARP for the server.
    let ack = tcp_segment(&TcpSegment {
        af: Af::Inet,
        src: key("192.0.2.10"),
        dst: key("198.51.100.10"),
        sport: 40000,
        dport: 8080,
        seq: 1001,
        ack: seq(synack).wrapping_add(1),
        flags: tcp_flags::ACK,
        win: 65535,
        mss: None,
        ttl: 64,
    });
    let (fate, _, out) = l.send(0, SEC, &eth(&ack, CLIENT, FW0));
    assert_eq!(fate, Fate::Drop);
    assert!(
        out.iter().any(|(p, f)| *p == 1 && ethertype(f) == 0x0806),
        "ARP for the server: {out:?}"
    );
    let (_, _, out) = l.send(
        1,
        SEC,
        &arp(2, SERVER, "198.51.100.10", FW1, "198.51.100.1"),
    );
    let syns: Vec<_> = out
        .iter()
        .filter(|(p, f)| *p == 1 && ethertype(f) == 0x0800 && flags(f) == tcp_flags::SYN)
        .collect();
    assert_eq!(syns.len(), 1, "{out:?}");
    assert_eq!(dst_mac(&syns[0].1), SERVER);
    let (text, info) = l.show(ShowWhat::Info);
    assert_eq!(info["unsent"], 0, "{text}");
}

#[test]
fn off_link_destinations_go_to_mygate() {
    let mut l = lab("gw");
    let pkt = syn("192.0.2.10", "203.0.113.5", 8080);
    let (fate, _, out) = l.send(0, SEC, &eth(&pkt, CLIENT, FW0));
    assert_eq!(fate, Fate::Drop, "held for ARP");
    let req = out
        .iter()
        .find(|(p, f)| *p == 1 && ethertype(f) == 0x0806)
        .expect("ARP out of veth1");
    assert_eq!(&req.1[38..42], &v4("198.51.100.254"), "who-has the gateway");
}

#[test]
fn an_mtu_above_the_kernels_is_refused() {
    let dir = std::env::temp_dir().join(format!("pfd-pipe-mtu-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let _d = Dir(dir.clone());
    std::fs::write(
        dir.join("hostname.veth0"),
        "inet 192.0.2.1 255.255.255.0\nmtu 9000\n",
    )
    .unwrap();
    std::fs::write(dir.join("pf.conf"), "pass\n").unwrap();
    let env = ruleset::hostenv::from_env().unwrap();
    let checked = mgmt::check::check(&dir, None, env.as_ref()).unwrap();
    let plan = mgmt::daemon::ports(&checked.config).unwrap();
    let err = mgmt::daemon::router(&checked.config, &plan, &[FW0], &[Some(1500)]).unwrap_err();
    assert_eq!(err, "veth0: mtu 9000 exceeds the interface's MTU of 1500");
    let r = mgmt::daemon::router(&checked.config, &plan, &[FW0], &[Some(9000)]).unwrap();
    assert_eq!(r.iface(1).map(|i| i.mtu), Some(9000));
}

#[test]
fn block_return_answers_with_a_reset_out_of_the_arrival_port() {
    let mut l = lab("rst");
    let (fate, _, out) = l.send(
        0,
        SEC,
        &eth(&syn("192.0.2.10", "198.51.100.10", 23), CLIENT, FW0),
    );
    assert_eq!(fate, Fate::Drop);
    assert_eq!(out.len(), 1, "{out:?}");
    let (port, f) = &out[0];
    assert_eq!(*port, 0);
    assert_eq!(dst_mac(f), CLIENT);
    assert_eq!(ip_proto(f), 6);
    assert_ne!(f[14 + 20 + 13] & tcp_flags::RST, 0, "a RST");
    l.pipe.housekeep(10 * SEC);
    let (text, info) = l.show(ShowWhat::Info);
    assert_eq!(info["blocked"]["in"], 1, "{text}");
    assert_eq!(info["replies"], 1, "{text}");
    assert_eq!(info["reasons"]["match"], 1, "{text}");
}

#[test]
fn unsolicited_traffic_from_outside_is_blocked_and_counted() {
    let mut l = lab("wan");
    let pkt = syn("198.51.100.10", "192.0.2.10", 22);
    let (fate, _, out) = l.send(1, SEC, &eth(&pkt, SERVER, FW1));
    assert_eq!(fate, Fate::Drop);
    assert!(out.is_empty(), "{out:?}");
    let (_, info) = l.show(ShowWhat::Info);
    assert_eq!(info["blocked"]["in"], 1);
    assert_eq!(info["states"], 0);
}

#[test]
fn gratuitous_arp_goes_out_of_every_port() {
    let mut l = lab("ann");
    l.pipe.announce();
    l.pipe.housekeep(SEC);
    let mut out = Vec::new();
    l.pipe.drain_out(|p, b| out.push((p, b.to_vec())));
    for (port, mac, addr) in [(0, FW0, "192.0.2.1"), (1, FW1, "198.51.100.1")] {
        let garp = arp(1, mac, addr, [0; 6], addr);
        assert!(out.contains(&(port, garp)), "port {port}: {out:?}");
    }
}

#[test]
fn other_requests_are_not_supported_yet() {
    let l = lab("ns");
    let queue = Request::Show {
        what: ShowWhat::Queue,
        verbose: 0,
        anchor: None,
        rule: None,
        interface: None,
    };
    match l.view.handle(queue) {
        Response::Error { kind, .. } => assert_eq!(kind, ErrorKind::NotSupported),
        other => panic!("{other:?}"),
    }
}

/// `pfctl -f` on the running pfd: a bad file is refused with its
/// FILE:LINE and nothing changes; a good one applies to new connections
/// while the existing states go on.
#[test]
fn a_reload_keeps_states_and_a_bad_file_changes_nothing() {
    use mgmt::control::RuleSource;
    let mut l = lab("reload");
    // learn the server's MAC so forwarding is immediate
    l.send(
        1,
        SEC,
        &arp(2, SERVER, "198.51.100.10", FW1, "198.51.100.1"),
    );
    let first = syn("192.0.2.10", "198.51.100.10", 8080);
    let (fate, _, _) = l.send(0, SEC, &eth(&first, CLIENT, FW0));
    assert_eq!(fate, Fate::Forward(1));

    let (rules, _) = l.show(ShowWhat::Rules);
    assert!(
        rules.contains("block return in on veth0 proto tcp from any to any port = 23"),
        "{rules}"
    );
    // one packet blocked by a rule before the reloads
    let telnet = syn("192.0.2.10", "198.51.100.10", 23);
    let (fate, _, _) = l.send(0, SEC, &eth(&telnet, CLIENT, FW0));
    assert_eq!(fate, Fate::Drop);
    l.pipe.housekeep(SEC + SEC / 2);
    let (_, info) = l.show(ShowWhat::Info);
    assert_eq!(info["reasons"]["match"], 1, "{info}");
    let bad = l.dir().join("bad.conf");
    std::fs::write(&bad, "pass in on veth0 proto tcp port\n").unwrap();
    let r = l.view.handle(Request::LoadRules {
        source: RuleSource::Path { path: bad.clone() },
        anchor: None,
        defines: Vec::new(),
        optimizer: None,
    });
    match r {
        Response::Error { kind, message } => {
            assert_eq!(kind, ErrorKind::Failed);
            assert!(message.contains("bad.conf:1: syntax error"), "{message}");
        }
        other => panic!("{other:?}"),
    }

    // New rules: nothing new may enter from veth0.
    let good = l.dir().join("new.conf");
    std::fs::write(&good, "block all\npass out\n").unwrap();
    let r = l.view.handle(Request::LoadRules {
        source: RuleSource::Path { path: good },
        anchor: None,
        defines: Vec::new(),
        optimizer: None,
    });
    assert!(matches!(r, Response::Ok { .. }), "{r:?}");
    let (rules, _) = l.show(ShowWhat::Rules);
    assert_eq!(
        rules, "block drop all\npass out all flags S/SA\n",
        "pfctl -sr shows the new rules"
    );
    // the connection opened before the reload goes on by its state
    let (fate, _, _) = l.send(0, 2 * SEC, &eth(&first, CLIENT, FW0));
    assert_eq!(fate, Fate::Forward(1), "existing state kept");
    // a new one meets the new rules
    let second = syn("192.0.2.11", "198.51.100.10", 8081);
    let (fate, _, _) = l.send(0, 2 * SEC, &eth(&second, CLIENT, FW0));
    assert_eq!(fate, Fate::Drop, "blocked by the new ruleset");
    // pf's status counters outlive a ruleset (only pfctl -F info clears
    // them): the drop before the reloads still counts
    l.pipe.housekeep(3 * SEC);
    let (_, info) = l.show(ShowWhat::Info);
    assert_eq!(info["reasons"]["match"], 2, "{info}");
}

/// `pfctl -st` and `-sm` answered as pfctl prints them: pfctl's order
/// (tcp.tsdiff after tcp.closed), adaptive timeouts as state counts
/// derived from `set limit states`.
#[test]
fn timeouts_and_limits_as_pfctl_prints_them() {
    let l = lab_full(
        "tm",
        "set limit states 20000\nset timeout udp.first 33\nblock all\n",
        "net.inet.ip.forwarding=1\n",
    );
    let (text, json) = l.show(ShowWhat::Timeouts);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "tcp.first                   120s");
    assert_eq!(lines[6], "tcp.tsdiff                   30s");
    assert_eq!(lines[7], "udp.first                    33s");
    assert_eq!(lines[17], "adaptive.start            12000 states");
    assert_eq!(lines[18], "adaptive.end              24000 states");
    assert_eq!(json["udp.first"], 33);
    let (text, json) = l.show(ShowWhat::Memory);
    assert!(
        text.starts_with("states        hard limit    20000\n"),
        "{text}"
    );
    assert!(
        text.contains("src-nodes     hard limit    10000\n"),
        "{text}"
    );
    assert_eq!(json["frags"], 65536);
}

/// `pfctl -k HOST` and `pfctl -F states` on the running pfd.
#[test]
fn kill_and_flush_states() {
    use mgmt::control::{FlushWhat, KillBy, StateFilter};
    let mut l = lab("kill");
    l.send(
        1,
        SEC,
        &arp(2, SERVER, "198.51.100.10", FW1, "198.51.100.1"),
    );
    for (src, port) in [
        ("192.0.2.10", 8080),
        ("192.0.2.11", 8080),
        ("192.0.2.11", 8081),
    ] {
        let (fate, _, _) = l.send(0, SEC, &eth(&syn(src, "198.51.100.10", port), CLIENT, FW0));
        assert_eq!(fate, Fate::Forward(1));
    }
    let count = |l: &Lab| l.show(ShowWhat::Info).1["states"].as_u64().unwrap();
    // each connection has an inbound and an outbound state
    assert_eq!(count(&l), 6);
    let kill = |l: &Lab, src: &str, dst: Option<&str>| {
        l.view.handle(Request::KillStates {
            filters: StateFilter {
                interface: None,
                by: KillBy::Hosts {
                    src: src.into(),
                    dst: dst.map(String::from),
                },
            },
        })
    };
    let r = kill(&l, "192.0.2.10", None);
    assert!(
        matches!(&r, Response::Ok { text: Some(t), .. } if t == "killed 2 states from 1 sources and 0 destinations\n"),
        "{r:?}"
    );
    assert_eq!(count(&l), 4);
    let r = kill(&l, "192.0.2.0/24", Some("198.51.100.99"));
    assert!(
        matches!(&r, Response::Ok { text: Some(t), .. } if t == "killed 0 states from 1 sources and 1 destinations\n"),
        "{r:?}"
    );
    let r = kill(&l, "not-an-address", None);
    assert!(
        matches!(
            r,
            Response::Error {
                kind: ErrorKind::BadRequest,
                ..
            }
        ),
        "{r:?}"
    );
    let r = l.view.handle(Request::Flush {
        what: FlushWhat::States,
        anchor: None,
    });
    assert!(
        matches!(&r, Response::Ok { text: Some(t), .. } if t == "4 states cleared\n"),
        "{r:?}"
    );
    assert_eq!(count(&l), 0);
}

/// `pfctl -d` routes without pf; `pfctl -e` filters again.
#[test]
fn disable_and_enable() {
    let mut l = lab("ed");
    l.send(0, SEC, &arp(2, CLIENT, "192.0.2.10", FW0, "192.0.2.1"));
    // from outside, unsolicited: blocked while pf is on
    let pkt = syn("198.51.100.10", "192.0.2.10", 22);
    let (fate, _, _) = l.send(1, SEC, &eth(&pkt, SERVER, FW1));
    assert_eq!(fate, Fate::Drop);
    let r = l.view.handle(Request::Disable);
    assert!(
        matches!(&r, Response::Ok { text: Some(t), .. } if t == "pf disabled\n"),
        "{r:?}"
    );
    let r = l.view.handle(Request::Disable);
    assert!(
        matches!(r, Response::Error { .. }),
        "already disabled: {r:?}"
    );
    assert!(l.show(ShowWhat::Info).0.starts_with("Status: Disabled"));
    let (fate, _, _) = l.send(1, 2 * SEC, &eth(&pkt, SERVER, FW1));
    assert_eq!(fate, Fate::Forward(0), "routed without pf");
    let r = l.view.handle(Request::Enable);
    assert!(
        matches!(&r, Response::Ok { text: Some(t), .. } if t == "pf enabled\n"),
        "{r:?}"
    );
    let (fate, _, _) = l.send(1, 3 * SEC, &eth(&pkt, SERVER, FW1));
    assert_eq!(fate, Fate::Drop, "filtered again");
}

/// `pfctl -t T -T ...` on the running ruleset: a blocked source added to
/// the table is blocked at once, deleted and it passes again.
#[test]
fn tables_edited_at_run_time() {
    use mgmt::control::TableOp;
    let pf = "table <bad> { 203.0.113.0/24 }\nblock all\npass out\nblock in quick from <bad>\npass in on veth0 proto tcp\n";
    let mut l = lab_full("tbl", pf, "net.inet.ip.forwarding=1\n");
    l.send(
        1,
        SEC,
        &arp(2, SERVER, "198.51.100.10", FW1, "198.51.100.1"),
    );
    let table = |l: &Lab, op: TableOp| {
        l.view.handle(Request::Table {
            name: "bad".into(),
            anchor: None,
            op,
            verbose: 0,
        })
    };
    let text = |r: &Response| match r {
        Response::Ok { text: Some(t), .. } => t.clone(),
        other => panic!("{other:?}"),
    };
    let r = table(
        &l,
        TableOp::Add {
            addrs: vec!["192.0.2.10".into(), "203.0.113.0/24".into()],
        },
    );
    assert_eq!(text(&r), "1/2 addresses added.\n");
    let (fate, _, _) = l.send(
        0,
        SEC,
        &eth(&syn("192.0.2.10", "198.51.100.10", 80), CLIENT, FW0),
    );
    assert_eq!(fate, Fate::Drop, "blocked by the table at once");
    let r = table(&l, TableOp::Show);
    assert_eq!(text(&r), "   192.0.2.10\n   203.0.113.0/24\n");
    let r = table(
        &l,
        TableOp::Test {
            addrs: vec!["192.0.2.10".into(), "192.0.2.11".into()],
        },
    );
    assert_eq!(text(&r), "1/2 addresses match.\n");
    let r = table(
        &l,
        TableOp::Delete {
            addrs: vec!["192.0.2.10".into()],
        },
    );
    assert_eq!(text(&r), "1/1 addresses deleted.\n");
    let (fate, _, _) = l.send(
        0,
        2 * SEC,
        &eth(&syn("192.0.2.10", "198.51.100.10", 80), CLIENT, FW0),
    );
    assert_eq!(fate, Fate::Forward(1), "passes again");
    let r = table(&l, TableOp::Flush);
    assert_eq!(text(&r), "1 addresses deleted.\n");
    let r = l.view.handle(Request::Table {
        name: "nosuch".into(),
        anchor: None,
        op: TableOp::Show,
        verbose: 0,
    });
    assert!(matches!(r, Response::Error { .. }), "{r:?}");
}

/// `pfctl -sT` and `-sI`: the tables and the interfaces with groups.
#[test]
fn tables_and_interfaces_listed() {
    let pf = "table <b> { 192.0.2.9 }\ntable <a> persist\nblock all\npass in from <b>\npass in from <a>\n";
    let l = lab_full("list", pf, "net.inet.ip.forwarding=1\n");
    let (t, _) = l.show(ShowWhat::Tables);
    assert_eq!(t, "a\nb\n");
    // -v: print_table's flags
    let (t, j) = l.show_v(ShowWhat::Tables, 1);
    assert_eq!(t, "-pa-r--\ta\n--a-r--\tb\n");
    assert_eq!(j[0]["flags"], "-pa-r--");
    let (i, j) = l.show(ShowWhat::Interfaces);
    assert_eq!(i, "all\negress\nveth\nveth0\nveth1\n");
    assert_eq!(j[0], "all");
    let (i, _) = l.show_v(ShowWhat::Interfaces, 1);
    assert_eq!(i, "all\negress\nveth\nveth0\nveth1\n", "nothing skipped");
}

/// `pfctl -sr -v` / `-vv` and `-s labels`: each rule's counters as the
/// worker publishes them at its tick, the states it holds; `-z` clears
/// the counters and the states stay.
#[test]
fn rule_counters_labels_and_zero() {
    let pf = "block all\npass out\npass in on veth0 proto tcp label \"web\"\n";
    let mut l = lab_full("rulectr", pf, "net.inet.ip.forwarding=1\n");
    l.send(
        1,
        SEC,
        &arp(2, SERVER, "198.51.100.10", FW1, "198.51.100.1"),
    );
    let pkt = syn("192.0.2.10", "198.51.100.10", 80);
    let (fate, _, _) = l.send(0, SEC, &eth(&pkt, CLIENT, FW0));
    assert_eq!(fate, Fate::Forward(1));
    l.pipe.housekeep(2 * SEC);
    let (text, json) = l.show_v(ShowWhat::Rules, 1);
    let pid = std::process::id();
    let uid = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").unwrap().uid()
    };
    let ins = |n: u32| format!("  [ Inserted: uid {uid} pid {pid} State Creations: {n:<6}]\n");
    let want = format!(
        "block drop all\n\
         \x20 [ Evaluations: 2         Packets: 0         Bytes: 0           States: 0     ]\n{}\
         pass out all flags S/SA\n\
         \x20 [ Evaluations: 2         Packets: 1         Bytes: 44          States: 1     ]\n{}\
         pass in on veth0 proto tcp all flags S/SA label \"web\"\n\
         \x20 [ Evaluations: 2         Packets: 1         Bytes: 44          States: 1     ]\n{}",
        ins(0),
        ins(1),
        ins(1)
    );
    assert_eq!(text, want);
    assert_eq!(json[2]["counters"]["packets"]["in"], 1);
    assert_eq!(json[1]["counters"]["bytes"]["out"], 44);
    let (text, _) = l.show_v(ShowWhat::Rules, 2);
    assert!(
        text.starts_with("@0 block drop all\n  [ Evaluations: 2 "),
        "{text}"
    );
    assert!(text.contains("\n@2 pass in on veth0"), "{text}");
    let (labels, lj) = l.show(ShowWhat::Labels);
    assert_eq!(labels, "web 2 1 44 1 44 0 0 1\n");
    assert_eq!(lj[0]["label"], "web");

    // -z: zeros at once; the states stay, and counting goes on
    let r = l.view.handle(Request::ZeroCounters);
    assert!(matches!(r, Response::Ok { text: None, .. }), "{r:?}");
    let (labels, _) = l.show(ShowWhat::Labels);
    assert_eq!(labels, "web 0 0 0 0 0 0 0 0\n", "cleared before the tick");
    l.pipe.housekeep(3 * SEC);
    let (text, _) = l.show_v(ShowWhat::Rules, 1);
    assert!(
        text.contains("Packets: 0         Bytes: 0           States: 1     ]"),
        "{text}"
    );
    let pkt = syn("192.0.2.11", "198.51.100.10", 80);
    let (fate, _, _) = l.send(0, 4 * SEC, &eth(&pkt, CLIENT, FW0));
    assert_eq!(fate, Fate::Forward(1));
    l.pipe.housekeep(5 * SEC);
    let (labels, _) = l.show(ShowWhat::Labels);
    assert_eq!(labels, "web 2 1 44 1 44 0 0 1\n", "counted again from zero");
}

/// The same through the pfctl binary on a control socket: `-sr -v`,
/// `-s labels`, `-z` and `--json`.
#[test]
fn pfctl_shows_and_zeroes_rule_counters() {
    let pf = "block all\npass out\npass in on veth0 proto tcp label \"web\"\n";
    let mut l = lab_full("pfctlctr", pf, "net.inet.ip.forwarding=1\n");
    let (_server, sock) = l.serve();
    l.send(
        1,
        SEC,
        &arp(2, SERVER, "198.51.100.10", FW1, "198.51.100.1"),
    );
    let pkt = syn("192.0.2.10", "198.51.100.10", 80);
    l.send(0, SEC, &eth(&pkt, CLIENT, FW0));
    l.pipe.housekeep(2 * SEC);
    let (code, out, err) = pfctl(&sock, &["-sr", "-v"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 9, "{out}");
    assert_eq!(
        lines[6],
        "pass in on veth0 proto tcp all flags S/SA label \"web\""
    );
    assert_eq!(
        lines[7],
        "  [ Evaluations: 2         Packets: 1         Bytes: 44          States: 1     ]"
    );
    let (code, out, _) = pfctl(&sock, &["-sl"]);
    assert_eq!((code, out.as_str()), (0, "web 2 1 44 1 44 0 0 1\n"));
    let (code, out, _) = pfctl(&sock, &["-sl", "--json"]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j[0]["packets"]["in"], 1);
    // -z -sl: shown, then cleared
    let (code, out, _) = pfctl(&sock, &["-z", "-sl"]);
    assert_eq!((code, out.as_str()), (0, "web 2 1 44 1 44 0 0 1\n"));
    let (_, out, _) = pfctl(&sock, &["-sl"]);
    assert_eq!(out, "web 0 0 0 0 0 0 0 0\n");
    let (code, out, err) = pfctl(&sock, &["-z"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    // -R: one rule, or its states
    let (code, out, _) = pfctl(&sock, &["-sr", "-R", "1"]);
    assert_eq!((code, out.as_str()), (0, "pass out all flags S/SA\n"));
    let (_, out, _) = pfctl(&sock, &["-ss", "-R", "2"]);
    assert_eq!(out.lines().count(), 1, "the inbound state only: {out}");
    assert!(out.contains(" <- "), "{out}");
}

/// `pfctl -ss -v` / `-vv`: each state's windows, age, expiry, counters
/// and rule, then its id, told on the worker's clock.
#[test]
fn states_verbose_as_pfctl_prints_them() {
    let mut l = lab("ssv");
    let (_server, sock) = l.serve();
    l.send(
        1,
        SEC,
        &arp(2, SERVER, "198.51.100.10", FW1, "198.51.100.1"),
    );
    let pkt = syn("192.0.2.10", "198.51.100.10", 80);
    l.send(0, SEC, &eth(&pkt, CLIENT, FW0));
    l.pipe.housekeep(5 * SEC);
    let (code, out, err) = pfctl(&sock, &["-ss", "-vv"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 8, "{out}");
    assert_eq!(
        lines[0],
        "all tcp 192.0.2.10:40000 -> 198.51.100.10:80       SYN_SENT:CLOSED"
    );
    assert_eq!(lines[1], "   [1000 + 2]  [0 + 1]");
    assert_eq!(
        lines[2],
        "   age 00:00:04, expires in 00:01:56, 1:0 pkts, 44:0 bytes, rule 1"
    );
    assert!(lines[3].starts_with("   id: "), "{out}");
    // the creator is this box's hostid, as -si -v shows it
    let (_, si, _) = pfctl(&sock, &["-si", "-v"]);
    let hostid = si
        .lines()
        .find_map(|l| l.strip_prefix("Hostid:   0x"))
        .expect("Hostid line");
    assert!(
        lines[3].ends_with(&format!(" creatorid: {hostid}")),
        "{out}"
    );
    assert_eq!(
        lines[3].len(),
        "   id: 0000000b00000000 creatorid: 00000000".len()
    );
    assert!(lines[6].ends_with(", rule 2"), "{out}");
    // -v: no id line; --json carries the same
    let (_, out, _) = pfctl(&sock, &["-ss", "-v"]);
    assert_eq!(out.lines().count(), 6, "{out}");
    let (_, j) = l.show_v(ShowWhat::States, 1);
    assert_eq!(j[0]["expires_in"], 116);
    assert_eq!(j[1]["rule"], 2);
}

/// `pfctl -si [-v]` in print_status's layout, and `pfctl -x` setting the
/// level it shows.
#[test]
fn info_and_debug_level_as_pfctl_prints_them() {
    let mut l = lab("si");
    let (_server, sock) = l.serve();
    l.send(
        1,
        SEC,
        &arp(2, SERVER, "198.51.100.10", FW1, "198.51.100.1"),
    );
    let pkt = syn("192.0.2.10", "198.51.100.10", 80);
    l.send(0, SEC, &eth(&pkt, CLIENT, FW0));
    let (code, out, err) = pfctl(&sock, &["-si"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("Status: Enabled"), "{out}");
    assert!(lines[0].ends_with("Debug: err"), "{out}");
    assert_eq!(lines[0].len(), 59, "%-44s%15s: {out}");
    assert_eq!(lines[1], "");
    assert_eq!(
        lines[2],
        "State Table                          Total             Rate"
    );
    assert!(
        lines[3].starts_with("  current entries                        2 "),
        "{out}"
    );
    assert!(
        lines[4].starts_with("  half-open tcp                          2 "),
        "{out}"
    );
    assert!(
        lines[6].starts_with("  inserts                                2 "),
        "{out}"
    );
    assert_eq!(lines[8], "Counters");
    assert!(lines[9].starts_with("  match                    "), "{out}");
    assert!(!out.contains("Limit Counters"));
    let (_, out, _) = pfctl(&sock, &["-si", "-v"]);
    // pf's hostid, drawn at boot as pf's is (never 0: peers refuse it)
    let hostid = out
        .lines()
        .find_map(|l| l.strip_prefix("Hostid:   0x"))
        .expect("Hostid line");
    assert_eq!(hostid.len(), 8, "{out}");
    assert_ne!(hostid, "00000000", "{out}");
    assert!(out.contains("\nSource Tracking Table\n"), "{out}");
    assert!(
        out.contains("\nLimit Counters\n  max states per rule "),
        "{out}"
    );

    let (code, _, err) = pfctl(&sock, &["-x", "notice"]);
    assert_eq!((code, err.as_str()), (0, "debug level set to 'notice'\n"));
    let (code, _, err) = pfctl(&sock, &["-x", "warn"]);
    assert_eq!((code, err.as_str()), (0, "debug level set to 'warn'\n"));
    let (_, out, _) = pfctl(&sock, &["-si"]);
    assert!(
        out.lines().next().unwrap().ends_with("Debug: warn"),
        "{out}"
    );
    let (code, _, err) = pfctl(&sock, &["-x", "e"]);
    assert_eq!(code, 1, "e: error or emerg");
    assert_eq!(err, "pfctl: e is ambigious\n");
    let (code, _, err) = pfctl(&sock, &["-x", "loud"]);
    assert_eq!(code, 1);
    assert!(err.contains("Unknown debug level 'loud'"), "{err}");
    let (_, j) = l.show(ShowWhat::Info);
    assert_eq!(j["debug"], "warn");
    assert_eq!(j["half_open_tcp"], 2);
}

/// `pfctl -F rules|info|Tables|Sources|all`, `-K` and `-sS` through the
/// pfctl binary: an empty ruleset passes (pf's default) and the states
/// stay; statistics start again; tables empty.
#[test]
fn flushes_and_source_nodes() {
    let pf = "table <t> { 203.0.113.1 }\nblock all\npass out\n\
              pass in on veth0 proto tcp from ! <t> keep state (source-track rule, max-src-states 5)\n";
    let mut l = lab_full("flush", pf, "net.inet.ip.forwarding=1\n");
    let (_server, sock) = l.serve();
    l.send(
        1,
        SEC,
        &arp(2, SERVER, "198.51.100.10", FW1, "198.51.100.1"),
    );
    let pkt = syn("192.0.2.10", "198.51.100.10", 80);
    assert_eq!(l.send(0, SEC, &eth(&pkt, CLIENT, FW0)).0, Fate::Forward(1));
    let (code, out, err) = pfctl(&sock, &["-sS"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "192.0.2.10 ( states 1, connections 0, rate 0.0/0s )\n");
    let (code, _, err) = pfctl(&sock, &["-K", "192.0.2.0/24"]);
    assert_eq!(
        (code, err.as_str()),
        (0, "killed 1 src nodes from 1 sources and 0 destinations\n")
    );
    assert_eq!(pfctl(&sock, &["-sS"]).1, "");
    let (code, _, err) = pfctl(&sock, &["-K", "192.0.2.10", "-K", "10.0.0.1"]);
    assert_eq!(code, 1);
    assert!(err.contains("not supported"), "{err}");

    // -F info: the counters start again
    l.pipe.housekeep(2 * SEC);
    let (code, _, err) = pfctl(&sock, &["-F", "info"]);
    assert_eq!((code, err.as_str()), (0, "pf: statistics cleared\n"));
    let (_, j) = l.show(ShowWhat::Info);
    assert_eq!(j["passed"]["in"], 0);
    assert_eq!(j["state_table"]["inserts"], 0);
    assert_eq!(j["states"], 2, "the states stay");

    // -F Tables: every table emptied; 203.0.113.1 is no longer excluded
    let (code, _, err) = pfctl(&sock, &["-F", "Tables"]);
    assert_eq!((code, err.as_str()), (0, "1 tables deleted.\n"));
    assert_eq!(pfctl(&sock, &["-t", "t", "-T", "show"]).1, "");

    // -F rules: pf's default pass; the states stay
    let (code, _, err) = pfctl(&sock, &["-F", "r"]);
    assert_eq!((code, err.as_str()), (0, "rules cleared\n"));
    assert_eq!(pfctl(&sock, &["-sr"]).1, "");
    let (_, j) = l.show(ShowWhat::Info);
    assert_eq!(j["states"], 2);
    let from_outside = syn("198.51.100.10", "192.0.2.10", 22);
    l.send(0, 3 * SEC, &arp(2, CLIENT, "192.0.2.10", FW0, "192.0.2.1"));
    let (fate, _, _) = l.send(1, 3 * SEC, &eth(&from_outside, SERVER, FW1));
    assert_eq!(fate, Fate::Forward(0), "no rules: pf passes (no state)");

    // -F all: each part's message in pfctl's order
    let (code, _, err) = pfctl(&sock, &["-F", "all"]);
    assert_eq!(code, 0);
    let (_, j) = l.show(ShowWhat::Info);
    assert_eq!(
        err,
        "1 tables deleted.\nrules cleared\n2 states cleared\nsource tracking entries cleared\npf: statistics cleared\n"
    );
    assert_eq!(j["states"], 0);
    let (code, _, err) = pfctl(&sock, &["-F", "osfp"]);
    assert_eq!(code, 1);
    assert!(err.contains("not supported: -F osfp"), "{err}");
    // pfctl's prefixes are case-sensitive: s is states, S Sources
    let (code, _, err) = pfctl(&sock, &["-F", "s"]);
    assert_eq!((code, err.as_str()), (0, "0 states cleared\n"));
    let (code, _, err) = pfctl(&sock, &["-F", "S"]);
    assert_eq!(
        (code, err.as_str()),
        (0, "source tracking entries cleared\n")
    );
}

/// `pfctl -sa`: pfctl's sections in its order under its titles, the
/// empty optional ones left out.
#[test]
fn show_all_in_pfctls_order() {
    let pf = "table <t> { 203.0.113.1 }\nblock all\npass out label \"out\"\npass in on veth0 proto tcp\n";
    let mut l = lab_full("sa", pf, "net.inet.ip.forwarding=1\n");
    let (_server, sock) = l.serve();
    let (code, out, err) = pfctl(&sock, &["-sa"]);
    assert_eq!(code, 0, "{err}");
    let titles: Vec<&str> = out.lines().filter(|l| l.ends_with(':')).collect();
    assert_eq!(
        titles,
        [
            "FILTER RULES:",
            "INFO:",
            "LABEL COUNTERS:",
            "TIMEOUTS:",
            "LIMITS:",
            "TABLES:"
        ],
        "{out}"
    );
    assert!(out.starts_with("FILTER RULES:\nblock drop all\n"), "{out}");
    assert!(out.contains("\n\nINFO:\nStatus: Enabled"), "{out}");
    assert!(
        out.contains("\n\nLABEL COUNTERS:\nout 0 0 0 0 0 0 0 0\n"),
        "{out}"
    );
    assert!(out.ends_with("\n\nTABLES:\nt\n"), "{out}");
    l.send(
        1,
        SEC,
        &arp(2, SERVER, "198.51.100.10", FW1, "198.51.100.1"),
    );
    let pkt = syn("192.0.2.10", "198.51.100.10", 80);
    l.send(0, SEC, &eth(&pkt, CLIENT, FW0));
    let (_, out, _) = pfctl(&sock, &["-s", "all"]);
    assert!(
        out.contains("\n\nSTATES:\nall tcp 192.0.2.10:40000 -> "),
        "{out}"
    );
    let (_, out, _) = pfctl(&sock, &["-sa", "--json"]);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["tables"][0], "t");
    assert_eq!(j["states"].as_array().unwrap().len(), 2);
    assert_eq!(pfctl(&sock, &["-so"]).1, "", "no fingerprints loaded");
}

/// `pfctl -t T -T replace|zero|expire|kill` with pfctl's messages: the
/// loaded entries count from the load (100 s ago here), added ones from
/// their add.
#[test]
fn table_replace_zero_and_expire() {
    let pf = "table <t> { 192.0.2.1, 192.0.2.2 }\nblock all\npass in from <t>\n";
    let l = lab_full("texp", pf, "net.inet.ip.forwarding=1\n");
    let (_server, sock) = l.serve();
    let t = |args: &[&str]| {
        let mut a = vec!["-t", "t", "-T"];
        a.extend_from_slice(args);
        pfctl(&sock, &a)
    };
    // -vv: print_addr's <table:count>
    let (_, out, _) = pfctl(&sock, &["-sr", "-vv"]);
    assert!(out.contains("\n@1 pass in from <t:2> to any "), "{out}");
    assert!(pfctl(&sock, &["-sr", "-v"])
        .1
        .contains("pass in from <t> to any"));
    assert_eq!(t(&["add", "198.51.100.7"]).2, "1/1 addresses added.\n");
    let (_, out, _) = pfctl(&sock, &["-sr", "-vv"]);
    assert!(out.contains("\n@1 pass in from <t:3> to any "), "{out}");
    // 192.0.2.1 and .2 cleared at the load, 100 s ago; .7 just now
    assert_eq!(t(&["expire", "50"]).2, "2/2 addresses expired.\n");
    assert_eq!(t(&["show"]).1, "   198.51.100.7\n");
    assert_eq!(t(&["expire", "50"]).2, "0/0 addresses expired.\n");
    assert_eq!(
        t(&["replace", "198.51.100.7", "!10.0.0.0/8", "192.0.2.9"]).2,
        "2 addresses added.\n"
    );
    assert_eq!(
        t(&["replace", "198.51.100.7", "10.0.0.0/8"]).2,
        "1 addresses deleted.\n1 addresses changed.\n"
    );
    assert_eq!(
        t(&["replace", "198.51.100.7", "10.0.0.0/8"]).2,
        "no changes.\n"
    );
    assert_eq!(t(&["zero"]).2, "1 table/stats cleared.\n");
    assert_eq!(
        t(&["zero", "10.0.0.0/8", "192.0.2.99"]).2,
        "1/2 addresses cleared.\n"
    );
    let (code, _, err) = t(&["expire", "soon"]);
    assert_eq!((code, err.as_str()), (1, "pfctl: expiry time: invalid\n"));
    let (code, _, err) = t(&["kill"]);
    assert_eq!(code, 1);
    assert!(err.contains("not supported: -T kill"), "{err}");
    // pfctl's prefixes
    assert_eq!(t(&["sh"]).1, "   10.0.0.0/8\n   198.51.100.7\n");
    assert_eq!(t(&["de"]).2, "0/0 addresses deleted.\n");
}

/// `pfctl -a ANCHOR`: an inline anchor's rules, labels and tables;
/// named anchors are listed by `-sA`, unnamed ones only with -v and
/// shown inside braces by -sr.
#[test]
fn anchors_shown_and_their_tables_edited() {
    let pf = "table <w> { 192.0.2.80 }\nblock all\n\
              anchor \"web\" in on veth0 {\n  pass in proto tcp from <w> to port 80 label \"www\"\n}\n\
              anchor out {\n  pass out\n}\n";
    let l = lab_full("anch", pf, "net.inet.ip.forwarding=1\n");
    let (_server, sock) = l.serve();
    let (code, out, err) = pfctl(&sock, &["-sr"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "block drop all\nanchor \"web\" in on veth0 all\nanchor out all {\n  pass out all flags S/SA\n}\n"
    );
    let (_, out, _) = pfctl(&sock, &["-a", "web", "-sr"]);
    assert_eq!(
        out,
        "pass in proto tcp from <w> to any port = 80 flags S/SA label \"www\"\n"
    );
    let (_, out, _) = pfctl(&sock, &["-a", "web", "-sr", "-vv"]);
    assert!(
        out.starts_with("@0 pass in proto tcp from <w:1> to any"),
        "{out}"
    );
    assert!(out.contains("\n  [ Evaluations: 0 "), "{out}");
    assert_eq!(pfctl(&sock, &["-sA"]).1, "  web\n");
    assert_eq!(pfctl(&sock, &["-sA", "-v"]).1, "  _2\n  web\n");
    assert_eq!(pfctl(&sock, &["-a", "web", "-sT"]).1, "");
    assert_eq!(
        pfctl(&sock, &["-a", "web", "-sl"]).1,
        "www 0 0 0 0 0 0 0 0\n"
    );
    let (code, _, err) = pfctl(&sock, &["-a", "web", "-t", "w", "-T", "show"]);
    assert_eq!((code, err.as_str()), (1, "pfctl: Table does not exist\n"));
    assert_eq!(
        pfctl(&sock, &["-t", "w", "-T", "show"]).1,
        "   192.0.2.80\n"
    );
    let (code, _, err) = pfctl(&sock, &["-a", "nope", "-sr"]);
    assert_eq!((code, err.as_str()), (1, "pfctl: Anchor does not exist\n"));
    let (code, _, err) = pfctl(&sock, &["-a", "web", "-F", "rules"]);
    assert_eq!(code, 1);
    assert!(err.contains("not supported: -F in an anchor"), "{err}");
    let (code, _, err) = pfctl(&sock, &["-a", "web/*", "-sr"]);
    assert_eq!(code, 1);
    assert!(err.contains("not supported: anchor wildcards"), "{err}");
    // -a does not narrow what has no anchor
    assert_eq!(pfctl(&sock, &["-a", "web", "-ss"]).0, 0);
}

/// A NAT pool drawn from a table follows `pfctl -T` edits of it.
#[test]
fn nat_pools_follow_table_edits() {
    let pf = "table <pool> { 198.51.100.1 }\nblock all\n\
              pass out on veth1 nat-to <pool> round-robin\npass in on veth0\n";
    let mut l = lab_full("natpool", pf, "net.inet.ip.forwarding=1\n");
    let (_server, sock) = l.serve();
    l.send(
        1,
        SEC,
        &arp(2, SERVER, "198.51.100.10", FW1, "198.51.100.1"),
    );
    let src_of = |f: &[u8]| Ipv4Addr::new(f[26], f[27], f[28], f[29]);
    let (fate, f, _) = l.send(
        0,
        SEC,
        &eth(&syn("192.0.2.10", "198.51.100.10", 80), CLIENT, FW0),
    );
    assert_eq!(fate, Fate::Forward(1));
    assert_eq!(src_of(&f), Ipv4Addr::new(198, 51, 100, 1));
    let (code, _, err) = pfctl(&sock, &["-t", "pool", "-T", "replace", "198.51.100.2"]);
    assert_eq!(code, 0, "{err}");
    let (fate, f, _) = l.send(
        0,
        SEC,
        &eth(&syn("192.0.2.11", "198.51.100.10", 80), CLIENT, FW0),
    );
    assert_eq!(fate, Fate::Forward(1));
    assert_eq!(
        src_of(&f),
        Ipv4Addr::new(198, 51, 100, 2),
        "the edited pool"
    );
    let (code, _, err) = pfctl(&sock, &["-t", "pool", "-T", "add", "198.51.100.3"]);
    assert_eq!(code, 0, "{err}");
    let mut seen = std::collections::BTreeSet::new();
    for i in 12..16 {
        let (_, f, _) = l.send(
            0,
            SEC,
            &eth(
                &syn(&format!("192.0.2.{i}"), "198.51.100.10", 80),
                CLIENT,
                FW0,
            ),
        );
        seen.insert(src_of(&f));
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        [
            Ipv4Addr::new(198, 51, 100, 2),
            Ipv4Addr::new(198, 51, 100, 3)
        ],
        "round-robin over the grown pool"
    );
    // emptied: no translation address, the packet is dropped, no panic
    pfctl(&sock, &["-t", "pool", "-T", "flush"]);
    let (fate, _, _) = l.send(
        0,
        SEC,
        &eth(&syn("192.0.2.20", "198.51.100.10", 80), CLIENT, FW0),
    );
    assert_eq!(fate, Fate::Drop);
}

/// `-T ... -v[v]`: pfctl's per-address feedback on stdout, the count on
/// stderr.
#[test]
fn table_feedback_with_verbose() {
    let pf = "table <t> { 192.0.2.1 }\nblock all\npass in from <t>\n";
    let l = lab_full("tfb", pf, "net.inet.ip.forwarding=1\n");
    let (_server, sock) = l.serve();
    let t = |args: &[&str]| {
        let mut a = vec!["-t", "t"];
        a.extend_from_slice(args);
        pfctl(&sock, &a)
    };
    let (code, out, err) = t(&["-v", "-T", "add", "192.0.2.1", "10.0.0.0/8", "10.0.0.0/8"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "1/3 addresses added.\n");
    assert_eq!(out, "A  10.0.0.0/8\nX  10.0.0.0/8\n");
    let (_, out, _) = t(&["-vv", "-T", "delete", "192.0.2.1", "192.0.2.7"]);
    assert_eq!(out, "D  192.0.2.1\n   192.0.2.7\n");
    let (code, out, err) = t(&["-v", "-T", "test", "10.1.2.3", "192.0.2.7"]);
    assert_eq!((code, err.as_str()), (2, "1/2 addresses match.\n"));
    assert_eq!(out, "M  10.1.2.3\n");
    let (_, out, err) = t(&["-v", "-T", "replace", "!10.0.0.0/8", "192.0.2.5"]);
    assert_eq!(err, "1 addresses added.\n1 addresses changed.\n");
    assert_eq!(out, "C !10.0.0.0/8\nA  192.0.2.5\n");
    let (_, out, _) = t(&["-v", "-T", "replace", "192.0.2.5"]);
    assert_eq!(out, "D !10.0.0.0/8\n");
    let (code, _, err) = t(&["-v", "-T", "show"]);
    assert_eq!(code, 1);
    assert!(err.contains("not supported: -T show -v"), "{err}");
    // without -v: no feedback
    assert_eq!(t(&["-T", "add", "192.0.2.6"]).1, "");
}

/// An if-bound state is shown on its interface, floating ones on `all`;
/// `-i` narrows `-ss` and `-k` to one interface's states.
#[test]
fn states_by_interface() {
    let pf = "block all\npass out\npass in on veth0 proto tcp keep state (if-bound)\n";
    let mut l = lab_full("ssi", pf, "net.inet.ip.forwarding=1\n");
    let (_server, sock) = l.serve();
    l.send(
        1,
        SEC,
        &arp(2, SERVER, "198.51.100.10", FW1, "198.51.100.1"),
    );
    l.send(
        0,
        SEC,
        &eth(&syn("192.0.2.10", "198.51.100.10", 80), CLIENT, FW0),
    );
    let (_, out, _) = pfctl(&sock, &["-ss"]);
    assert_eq!(
        out,
        "all tcp 192.0.2.10:40000 -> 198.51.100.10:80       SYN_SENT:CLOSED\n\
         veth0 tcp 198.51.100.10:80 <- 192.0.2.10:40000       CLOSED:SYN_SENT\n"
    );
    let (_, out, _) = pfctl(&sock, &["-ss", "-i", "veth0"]);
    assert!(
        out.starts_with("veth0 tcp ") && out.lines().count() == 1,
        "{out}"
    );
    let (_, _, err) = pfctl(&sock, &["-k", "192.0.2.10", "-i", "veth1"]);
    assert_eq!(err, "killed 0 states from 1 sources and 0 destinations\n");
    let (_, _, err) = pfctl(&sock, &["-k", "192.0.2.10", "-i", "veth0"]);
    assert_eq!(err, "killed 1 states from 1 sources and 0 destinations\n");
    let (code, _, err) = pfctl(&sock, &["-F", "states", "-i", "veth0"]);
    assert_eq!(code, 1);
    assert!(err.contains("not supported: -F with -i"), "{err}");
}

/// `pfctl -sI -v` marks what `set skip on` skips (a group's members too).
#[test]
fn skipped_interfaces_marked() {
    let pf = "set skip on veth1\nblock all\n";
    let l = lab_full("skip", pf, "net.inet.ip.forwarding=1\n");
    let (i, j) = l.show_v(ShowWhat::Interfaces, 1);
    assert_eq!(i, "all\negress\nveth\nveth0\nveth1 (skip)\n");
    assert_eq!(j[4]["skip"], true);
}

/// `pfctl -k label NAME` and `pfctl -k id ID`: pfctl's `killed N states`.
#[test]
fn kill_states_by_label_and_id() {
    let pf = "block all\npass out label \"out\"\npass in on veth0 proto tcp label \"in\"\n";
    let mut l = lab_full("klab", pf, "net.inet.ip.forwarding=1\n");
    let (_server, sock) = l.serve();
    l.send(
        1,
        SEC,
        &arp(2, SERVER, "198.51.100.10", FW1, "198.51.100.1"),
    );
    for src in ["192.0.2.10", "192.0.2.11"] {
        l.send(0, SEC, &eth(&syn(src, "198.51.100.10", 80), CLIENT, FW0));
    }
    let count = |l: &Lab| l.show(ShowWhat::Info).1["states"].as_u64().unwrap();
    assert_eq!(count(&l), 4);
    let (code, _, err) = pfctl(&sock, &["-k", "label", "-k", "out"]);
    assert_eq!((code, err.as_str()), (0, "killed 2 states\n"));
    let (_, out, _) = pfctl(&sock, &["-ss", "-vv"]);
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("   id: "))
        .and_then(|l| l.split(' ').next())
        .unwrap()
        .to_string();
    let (code, _, err) = pfctl(&sock, &["-k", "id", "-k", &id]);
    assert_eq!((code, err.as_str()), (0, "killed 1 states\n"));
    let (_, _, err) = pfctl(&sock, &["-k", "id", "-k", &format!("{id}/00000001")]);
    assert_eq!(err, "killed 0 states\n", "another host's id");
    assert_eq!(count(&l), 1);
    let (code, _, err) = pfctl(&sock, &["-k", "id", "-k", "0"]);
    assert_eq!((code, err.as_str()), (1, "pfctl: cannot kill id 0\n"));
    let (code, _, err) = pfctl(&sock, &["-k", "id", "-k", "zz"]);
    assert_eq!(
        (code, err.as_str()),
        (1, "pfctl: wrong id format specified\n")
    );
    let (code, _, err) = pfctl(&sock, &["-k", "label"]);
    assert_eq!((code, err.as_str()), (1, "pfctl: no label specified\n"));
    let (code, _, err) = pfctl(&sock, &["-k", "key", "-k", "tcp 1.2.3.4:1 -> 5.6.7.8:2"]);
    assert_eq!(code, 1);
    assert!(err.contains("not supported: -k key"), "{err}");
}

/// Several actions in one pfctl run, in pfctl's order: `-F all -f FILE`
/// flushes, then loads; `-d ... -e` around them.
#[test]
fn several_actions_in_pfctls_order() {
    let l = lab("multi");
    let (_server, sock) = l.serve();
    let good = l.dir().join("new.conf");
    std::fs::write(&good, "block all\npass out\n").unwrap();
    let g = good.to_string_lossy().into_owned();
    let (code, out, err) = pfctl(&sock, &["-F", "all", "-f", &g, "-sr"]);
    assert_eq!(code, 0, "{err}");
    // -s runs before -F and -f, as in pfctl
    assert!(
        out.starts_with("block drop all\npass out all flags S/SA\npass in on veth0"),
        "{out}"
    );
    assert!(
        err.starts_with("0 tables deleted.\nrules cleared\n"),
        "{err}"
    );
    assert_eq!(
        pfctl(&sock, &["-sr"]).1,
        "block drop all\npass out all flags S/SA\n"
    );
    // -d then -e: disabled, then enabled again
    let (code, _, err) = pfctl(&sock, &["-d"]);
    assert_eq!((code, err.as_str()), (0, "pf disabled\n"));
    let (code, _, err) = pfctl(&sock, &["-e", "-f", &g]);
    assert_eq!(
        (code, err.as_str()),
        (0, "pf enabled\n"),
        "loaded, then enabled"
    );
    let (code, _, err) = pfctl(&sock, &["-e", "-x", "info"]);
    assert_eq!(code, 1, "already enabled stops pfctl: {err}");
    assert_eq!(err, "pfctl: pf already enabled\n");
}

#[test]
fn frames_a_full_queue_refuses_wait_in_order_for_the_next_drain() {
    let mut l = lab("back");
    l.pipe.announce();
    l.pipe.housekeep(SEC);
    let waiting = l.pipe.backlog();
    assert!(waiting >= 2, "the announcement's frames: {waiting}");
    // port 0's queue is full; port 1 takes what comes
    let mut first = Vec::new();
    l.pipe.drain_out_while(|p, b| {
        if p == 0 {
            return false;
        }
        first.push((p, b.to_vec()));
        true
    });
    assert!(first.iter().all(|(p, _)| *p == 1), "{first:?}");
    let kept = l.pipe.backlog();
    assert!(
        kept >= 1 && kept + first.len() == waiting,
        "{kept} + {}",
        first.len()
    );
    // the ring drained: the kept frames leave, in their order
    let mut second = Vec::new();
    l.pipe.drain_out_while(|p, b| {
        second.push((p, b.to_vec()));
        true
    });
    assert_eq!(second.len(), kept);
    assert!(second.iter().all(|(p, _)| *p == 0), "{second:?}");
    let garp = arp(1, FW0, "192.0.2.1", [0; 6], "192.0.2.1");
    assert!(second.contains(&(0, garp)), "{second:?}");
    assert_eq!(l.pipe.backlog(), 0);
}

/// `set syncookies always` through the daemon: the client's SYN is
/// answered by pf out of veth0 with no state kept; its ACK opens the
/// connection to the server (after ARP); `pfctl -si -v` shows the
/// syncookie limit counters and the adaptive watermarks (start and end
/// of `set limit states`) as pfctl prints them, and `-F info` zeroes
/// the counters.
#[test]
fn syncookies_through_the_daemon_and_pfctl_si() {
    let pf = "set limit states 1000\nset syncookies always\nblock all\npass out\n\
              pass in on veth0 proto tcp to port 8080\n";
    let mut l = lab_full("cookies", pf, "net.inet.ip.forwarding=1\n");
    let (_server, sock) = l.serve();
    let (fate, _, out) = l.send(
        0,
        SEC,
        &eth(&syn("192.0.2.10", "198.51.100.10", 8080), CLIENT, FW0),
    );
    assert_eq!(fate, Fate::Drop);
    let [(0, synack)] = &out[..] else {
        panic!("{out:?}")
    };
    assert_eq!(flags(synack), tcp_flags::SYN | tcp_flags::ACK);
    assert_eq!(
        l.view.engine.get().state_count(),
        0,
        "no state for a cookie"
    );
    let ack = tcp_segment(&TcpSegment {
        af: Af::Inet,
        src: key("192.0.2.10"),
        dst: key("198.51.100.10"),
        sport: 40000,
        dport: 8080,
        seq: 1001,
        ack: seq(synack).wrapping_add(1),
        flags: tcp_flags::ACK,
        win: 65535,
        mss: None,
        ttl: 64,
    });
    let (fate, _, out) = l.send(0, SEC, &eth(&ack, CLIENT, FW0));
    assert_eq!(fate, Fate::Drop);
    assert!(
        out.iter().any(|(p, f)| *p == 1 && ethertype(f) == 0x0806),
        "ARP for the server: {out:?}"
    );
    let (_, _, out) = l.send(
        1,
        SEC,
        &arp(2, SERVER, "198.51.100.10", FW1, "198.51.100.1"),
    );
    assert!(
        out.iter()
            .any(|(p, f)| *p == 1 && ethertype(f) == 0x0800 && flags(f) == tcp_flags::SYN),
        "the SYN to the server: {out:?}"
    );
    // the proxied state in on veth0, and `pass out`'s on veth1 for the SYN
    assert_eq!(l.view.engine.get().state_count(), 2);

    let (code, out, err) = pfctl(&sock, &["-si", "-v"]);
    assert_eq!(code, 0, "{err}");
    let line = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("  {name:<25} ")))
            .unwrap_or_else(|| panic!("no {name}: {out}"))
            .to_string()
    };
    assert!(line("synfloods detected")
        .starts_with(&format!("  {:<25} {:>14} ", "synfloods detected", 0)));
    assert!(line("syncookies sent").starts_with(&format!("  {:<25} {:>14} ", "syncookies sent", 1)));
    assert!(line("syncookies validated")
        .starts_with(&format!("  {:<25} {:>14} ", "syncookies validated", 1)));
    assert!(
        out.contains(
            "\nAdaptive Syncookies Watermarks\n  start                                250 states\n  \
             end                                  120 states\n"
        ),
        "{out}"
    );
    let (_, out, _) = pfctl(&sock, &["-si"]);
    assert!(
        !out.contains("Watermarks") && !out.contains("syncookies"),
        "{out}"
    );
    let (_, j) = l.show(ShowWhat::Info);
    assert_eq!(j["limits"]["syncookies sent"], 1);
    assert_eq!(j["syncookies"]["mode"], "always");
    assert_eq!(j["syncookies"]["active"], true);
    assert_eq!(j["syncookies"]["watermarks"]["start"], 250);
    let m = l.view.metrics();
    for line in [
        "pfd_syncookies_active 1\n",
        "pfd_syncookies_inflight 0\n",
        "pfd_limit_total{limit=\"syncookies sent\"} 1\n",
        "pfd_limit_total{limit=\"syncookies validated\"} 1\n",
    ] {
        assert!(m.contains(line), "{line} in {m}");
    }
    let (code, _, _) = pfctl(&sock, &["-F", "info"]);
    assert_eq!(code, 0);
    let (_, j) = l.show(ShowWhat::Info);
    assert_eq!(j["limits"]["syncookies sent"], 0);
    assert_eq!(j["limits"]["syncookies validated"], 0);
}
