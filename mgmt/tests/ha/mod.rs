//! The HA pair of the OpenBSD FAQ in namespaces, shared by the HA
//! tests: a client LAN and a server WAN, each a bridge, two pfd
//! firewalls holding the gateway addresses by CARP (carp0 192.0.2.1,
//! carp1 198.51.100.1) and syncing states by pfsync over a cable of
//! their own (veth2); an echo server and a client of long-lived TCP
//! connections driven round by round.
#![allow(dead_code)]

use super::live::{spawn_in, Etc, Pfd};
use super::netns::Ns;
use mgmt::control::ShowWhat;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::{Duration, Instant};

pub struct Ha {
    pub lsw: Ns,
    pub wsw: Ns,
    pub fw: [Ns; 2],
    pub client: Ns,
    pub server: Ns,
}

pub fn bridge(sw: &Ns, ports: &[(&str, &Ns, &str)]) {
    sw.ip(&["link", "add", "br0", "type", "bridge"]);
    sw.ip(&["link", "set", "br0", "up"]);
    for (port, ns, dev) in ports {
        sw.veth(port, dev);
        sw.give(dev, ns);
        sw.ip(&["link", "set", port, "master", "br0"]);
    }
}

pub fn ha(tag: &str) -> Ha {
    let lsw = Ns::new(&format!("{tag}l"));
    let wsw = Ns::new(&format!("{tag}w"));
    let fw = [Ns::new(&format!("{tag}1")), Ns::new(&format!("{tag}2"))];
    let client = Ns::new(&format!("{tag}c"));
    let server = Ns::new(&format!("{tag}s"));
    bridge(
        &lsw,
        &[
            ("l1", &fw[0], "veth0"),
            ("l2", &fw[1], "veth0"),
            ("l3", &client, "cl0"),
        ],
    );
    bridge(
        &wsw,
        &[
            ("w1", &fw[0], "veth1"),
            ("w2", &fw[1], "veth1"),
            ("w3", &server, "sv0"),
        ],
    );
    // the sync link: a cable between the two
    fw[0].veth("veth2", "peer2");
    fw[0].give("peer2", &fw[1]);
    fw[1].ip(&["link", "set", "peer2", "name", "veth2"]);
    fw[1].ip(&["link", "set", "veth2", "up"]);
    client.ip(&["addr", "add", "192.0.2.10/24", "dev", "cl0"]);
    client.ip(&["route", "add", "default", "via", "192.0.2.1"]);
    server.ip(&["addr", "add", "198.51.100.10/24", "dev", "sv0"]);
    server.ip(&["route", "add", "default", "via", "198.51.100.1"]);
    Ha {
        lsw,
        wsw,
        fw,
        client,
        server,
    }
}

pub const PF_CONF: &str = "\
pass quick on veth2 proto pfsync keep state (no-sync)
pass quick on { veth0 veth1 } proto carp keep state (no-sync)
block
pass in on veth0 proto icmp
pass in on veth0 proto tcp from 192.0.2.0/24 to any port { 7000 7001 }
pass out on veth1
match out on veth1 proto tcp from 192.0.2.0/24 to any port 7001 nat-to 198.51.100.1
";

/// Firewall `n` (1 or 2): its addresses end in n+1; fw1 advertises
/// faster (advskew 0 against 100).
pub fn etc(n: u8) -> Etc {
    etc_with(n, PFSYNC0)
}

/// hostname.pfsync0 of both firewalls unless a test says otherwise.
pub const PFSYNC0: &str = "up syncdev veth2\n";

/// [`etc`] with `pfsync0` as hostname.pfsync0.
pub fn etc_with(n: u8, pfsync0: &str) -> Etc {
    let me = n + 1;
    let skew = if n == 1 { 0 } else { 100 };
    Etc::with(
        &format!("ha{n}"),
        &[
            ("hostname.veth0", &format!("inet 192.0.2.{me} 255.255.255.0\nup\n")),
            ("hostname.veth1", &format!("inet 198.51.100.{me} 255.255.255.0\nup\n")),
            ("hostname.veth2", &format!("inet 203.0.113.{me} 255.255.255.0\nup\n")),
            (
                "hostname.carp0",
                &format!("inet 192.0.2.1 255.255.255.0 192.0.2.255 vhid 1 carpdev veth0 pass lanpw advskew {skew}\n"),
            ),
            (
                "hostname.carp1",
                &format!("inet 198.51.100.1 255.255.255.0 198.51.100.255 vhid 2 carpdev veth1 pass wanpw advskew {skew}\n"),
            ),
            ("hostname.pfsync0", pfsync0),
            ("sysctl.conf", "net.inet.ip.forwarding=1\nnet.inet.carp.preempt=1\n"),
            ("pf.conf", PF_CONF),
        ],
    )
}

pub fn log(n: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("pfd-ha-{n}-{}.log", std::process::id()))
}

/// Wait (bounded) until `pfd`'s log holds `what` `times` times.
pub fn wait_log(pfd: &Pfd, what: &str, times: usize, within: Duration) -> bool {
    let t = Instant::now();
    while t.elapsed() < within {
        if pfd.stderr().matches(what).count() >= times {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Whether `pfd`'s last word on carp interface `carp` is MASTER.
pub fn is_master(pfd: &Pfd, carp: &str) -> bool {
    let what = format!("{carp}: state transition: ");
    pfd.stderr()
        .lines()
        .rev()
        .find_map(|l| l.split_once(what.as_str()).map(|(_, t)| t.to_string()))
        .is_some_and(|t| t.ends_with("-> MASTER"))
}

/// Wait (bounded) until `pfd` is master of both gateways.
pub fn wait_master(pfd: &Pfd, within: Duration) -> bool {
    let t = Instant::now();
    while t.elapsed() < within {
        if is_master(pfd, "carp0") && is_master(pfd, "carp1") {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// The server: echo every line on ports 7000 and 7001 (up to
/// `per_port` connections each), one thread per connection; returns
/// the peers' addresses as seen, as they connect.
pub fn server(ns: &Ns, per_port: usize) -> Receiver<std::net::SocketAddr> {
    let (tx, rx) = channel();
    for port in [7000u16, 7001] {
        let tx = tx.clone();
        let (ready_tx, ready_rx) = channel();
        spawn_in(ns, move || {
            let l = TcpListener::bind(("198.51.100.10", port)).unwrap();
            ready_tx.send(()).unwrap();
            for s in l.incoming().take(per_port) {
                let Ok(s) = s else { continue };
                let _ = s.set_nodelay(true);
                let _ = tx.send(s.peer_addr().unwrap());
                std::thread::spawn(move || {
                    let mut w = s.try_clone().unwrap();
                    for line in BufReader::new(s).lines() {
                        let Ok(line) = line else { return };
                        if writeln!(w, "{line}").is_err() {
                            return;
                        }
                    }
                });
            }
        });
        ready_rx.recv_timeout(Duration::from_secs(5)).unwrap();
    }
    rx
}

/// What the client is told to do: one round of one line per
/// connection, or stop.
pub enum Go {
    Round(u32),
    Stop,
}

/// The client: `conns` connections (the last `nated` to port 7001), then a
/// round of exchanges each time it is told; each round's result is the
/// number of connections that echoed, the errors, and the longest wait
/// for one echo (a connection's stall).
pub type RoundResult = (usize, Vec<String>, Duration);

pub fn client(ns: &Ns, n: usize, nated: usize) -> (Sender<Go>, Receiver<RoundResult>) {
    let (go_tx, go_rx) = channel::<Go>();
    let (res_tx, res_rx) = channel();
    spawn_in(ns, move || {
        let mut conns = Vec::new();
        for i in 0..n {
            let port = if i >= n - nated { 7001 } else { 7000 };
            let to = std::net::SocketAddr::from(([198, 51, 100, 10], port));
            let s = TcpStream::connect_timeout(&to, Duration::from_secs(10)).unwrap();
            // each line in one segment, answered at once (no Nagle wait)
            s.set_nodelay(true).unwrap();
            // long enough to ride out a failover's retransmissions
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let r = BufReader::new(s.try_clone().unwrap());
            conns.push((s, r));
        }
        while let Ok(Go::Round(n)) = go_rx.recv() {
            let mut ok = 0;
            let mut errs = Vec::new();
            let mut longest = Duration::ZERO;
            for (i, (s, r)) in conns.iter_mut().enumerate() {
                let msg = format!("conn {i} round {n}");
                let mut line = String::new();
                let t = Instant::now();
                match writeln!(s, "{msg}").and_then(|_| r.read_line(&mut line)) {
                    Ok(_) if line.trim_end() == msg => ok += 1,
                    Ok(_) => errs.push(format!("conn {i}: got {line:?}")),
                    Err(e) => errs.push(format!("conn {i}: {e}")),
                }
                longest = longest.max(t.elapsed());
            }
            if res_tx.send((ok, errs, longest)).is_err() {
                return;
            }
        }
    });
    (go_tx, res_rx)
}

/// One round: (echoed, errors, the round's time, the longest stall).
pub fn round(
    go: &Sender<Go>,
    res: &Receiver<RoundResult>,
    n: u32,
) -> (usize, Vec<String>, Duration, Duration) {
    let t = Instant::now();
    go.send(Go::Round(n)).unwrap();
    let (ok, errs, longest) = res
        .recv_timeout(Duration::from_secs(120))
        .expect("client round");
    (ok, errs, t.elapsed(), longest)
}

pub fn states_of(pfd_sock: &std::path::Path) -> usize {
    let (text, _) = super::live::show(pfd_sock, ShowWhat::States);
    text.lines()
        .filter(|l| l.contains(":7000 ") || l.contains(":7001 "))
        .count()
}

/// The pair booted and settled: fw1 master of both gateways, fw2 backup,
/// both bulk updates done (while a box waits for its bulk update it is
/// demoted, so the gateways may move to fw2 for a moment; then fw1,
/// advskew 0 with preempt, holds both).
pub struct Pair {
    pub etc: [Etc; 2],
    pub sock: [std::path::PathBuf; 2],
    pub fw1: Pfd,
    pub fw2: Pfd,
}

/// Boot fw1, then fw2, on `h`; their logs are named `{tag}1`, `{tag}2`.
pub fn settled_pair(h: &Ha, tag: &str) -> Pair {
    settled_pair_with(h, tag, PFSYNC0)
}

/// [`settled_pair`] with `pfsync0` as both boxes' hostname.pfsync0.
pub fn settled_pair_with(h: &Ha, tag: &str, pfsync0: &str) -> Pair {
    let (e1, e2) = (etc_with(1, pfsync0), etc_with(2, pfsync0));
    let (s1, s2) = (e1.0.join("pfd.sock"), e2.0.join("pfd.sock"));
    let fw1 = Pfd::start(&h.fw[0], &e1.0, &s1, log(&format!("{tag}1")));
    assert!(
        wait_log(
            &fw1,
            "carp1: state transition: BACKUP -> MASTER",
            1,
            Duration::from_secs(15)
        ),
        "fw1 takes both gateways: {}",
        fw1.stderr()
    );
    let fw2 = Pfd::start(&h.fw[1], &e2.0, &s2, log(&format!("{tag}2")));
    for (name, fw) in [("fw2", &fw2), ("fw1", &fw1)] {
        assert!(
            wait_log(fw, "pfsync0: bulk update done", 1, Duration::from_secs(30)),
            "{name}'s bulk update: {}",
            fw.stderr()
        );
    }
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        wait_master(&fw1, Duration::from_secs(10))
            && !is_master(&fw2, "carp0")
            && !is_master(&fw2, "carp1"),
        "fw1 master, fw2 backup:\nfw1: {}\nfw2: {}",
        fw1.stderr(),
        fw2.stderr()
    );
    Pair {
        etc: [e1, e2],
        sock: [s1, s2],
        fw1,
        fw2,
    }
}
