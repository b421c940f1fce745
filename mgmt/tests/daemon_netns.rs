//! `pfd run` end to end: three network namespaces, client — fw —
//! server, joined by veth pairs. The fw namespace's kernel holds no
//! address on its two links (and does not forward): pfd owns them,
//! answering ARP and ping for its addresses, routing between them and
//! filtering with pf.conf. Needs root; skipped with a message otherwise,
//! and failed when CI is set.

mod live;
#[path = "../../dataplane/tests/netns/mod.rs"]
mod netns;

use live::{ping, show, spawn_in, Etc, Pfd};
use mgmt::control::{Client, Request, Response, ShowWhat};
use netns::Ns;
use serde_json::Value;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};

use std::process::Command;
use std::time::{Duration, Instant};

const PF_CONF: &str = "\
block all
pass out
pass in on veth0 proto { tcp, udp, icmp }
block return in on veth0 proto tcp to port 23
";

/// client (192.0.2.10) — fw (pfd: 192.0.2.1 | 198.51.100.1) — server
/// (198.51.100.10, routing back through pfd only if `server_gw`).
struct Lab {
    client: Ns,
    fw: Ns,
    server: Ns,
}

fn lab(tag: &str, server_gw: bool) -> Lab {
    let client = Ns::new(&format!("{tag}c"));
    let fw = Ns::new(&format!("{tag}f"));
    let server = Ns::new(&format!("{tag}s"));
    fw.veth("veth0", "cl0");
    fw.give("cl0", &client);
    fw.veth("veth1", "sv0");
    fw.give("sv0", &server);
    client.ip(&["addr", "add", "192.0.2.10/24", "dev", "cl0"]);
    client.ip(&["route", "add", "default", "via", "192.0.2.1"]);
    server.ip(&["addr", "add", "198.51.100.10/24", "dev", "sv0"]);
    if server_gw {
        server.ip(&["route", "add", "default", "via", "198.51.100.1"]);
    }
    Lab { client, fw, server }
}

/// A TCP echo of one 5-byte message on `addr` in `ns`; returns the
/// peer's address.
fn tcp_echo(ns: &Ns, addr: &'static str) -> std::thread::JoinHandle<SocketAddr> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let h = spawn_in(ns, move || {
        let l = TcpListener::bind(addr).unwrap();
        ready_tx.send(()).unwrap();
        let (mut s, peer) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).unwrap();
        s.write_all(&buf).unwrap();
        peer
    });
    ready_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("listener up");
    h
}

/// Connect from `ns` to `to`, send "hello", read the echo.
fn tcp_hello(ns: &Ns, to: &'static str) -> [u8; 5] {
    spawn_in(ns, move || {
        let to: SocketAddr = to.parse().unwrap();
        let mut s = TcpStream::connect_timeout(&to, Duration::from_secs(5)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"hello").unwrap();
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).unwrap();
        buf
    })
    .join()
    .expect("tcp client")
}

#[test]
fn pfd_run_translates_and_proxies_between_two_namespaces() {
    if !netns::can_run("pfd_run_translates_and_proxies_between_two_namespaces") {
        return;
    }
    // The server has no route back to the client's network: only the
    // translated source can be answered.
    let l = lab("n", false);
    let pf = "\
block all
pass out
match out on veth1 inet from 192.0.2.0/24 nat-to 198.51.100.1
pass in on veth0 proto { tcp, icmp }
pass in on veth0 proto tcp to port 8081 synproxy state
";
    let etc = Etc::new("nat", pf);
    let sock = etc.0.join("pfd.sock");
    let log = std::env::temp_dir().join(format!("pfd-run-nat-{}.log", std::process::id()));
    let mut pfd = Pfd::start(&l.fw, &etc.0, &sock, log);

    assert!(
        ping(&l.client, "198.51.100.10"),
        "ping through NAT: {}",
        pfd.stderr()
    );
    let server = tcp_echo(&l.server, "198.51.100.10:8080");
    assert_eq!(
        &tcp_hello(&l.client, "198.51.100.10:8080"),
        b"hello",
        "{}",
        pfd.stderr()
    );
    let peer = server.join().expect("tcp server");
    assert_eq!(
        peer.ip().to_string(),
        "198.51.100.1",
        "the server sees the NAT address"
    );

    // synproxy: pf completes the client's handshake itself, then opens
    // the connection to the server (translated on its way out).
    let server = tcp_echo(&l.server, "198.51.100.10:8081");
    assert_eq!(
        &tcp_hello(&l.client, "198.51.100.10:8081"),
        b"hello",
        "{}",
        pfd.stderr()
    );
    let peer = server.join().expect("synproxy server");
    assert_eq!(peer.ip().to_string(), "198.51.100.1");

    let (states, _) = show(&sock, ShowWhat::States);
    assert!(
        states
            .lines()
            .any(|l| l.starts_with("all tcp 198.51.100.1:")
                && l.contains(" (192.0.2.10:")
                && l.contains(") -> 198.51.100.10:8080 ")),
        "a translated state: {states}"
    );
    let st = pfd.terminate();
    assert!(st.success(), "pfd exit {st}: {}", pfd.stderr());
}

#[test]
fn pfd_run_routes_and_filters_between_two_namespaces() {
    if !netns::can_run("pfd_run_routes_and_filters_between_two_namespaces") {
        return;
    }
    let Lab { client, fw, server } = lab("r", true);

    let etc = Etc::new("e2e", PF_CONF);
    let sock = etc.0.join("pfd.sock");
    let log = std::env::temp_dir().join(format!("pfd-run-e2e-{}.log", std::process::id()));
    let mut pfd = Pfd::start(&fw, &etc.0, &sock, log);

    // The server side: a TCP echo and a UDP echo, one exchange each.
    let tcp = spawn_in(&server, || {
        let l = TcpListener::bind("198.51.100.10:8080").unwrap();
        l.set_nonblocking(false).unwrap();
        let (mut s, peer) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).unwrap();
        s.write_all(&buf).unwrap();
        peer
    });
    let udp = spawn_in(&server, || {
        let u = UdpSocket::bind("198.51.100.10:5353").unwrap();
        u.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut buf = [0u8; 64];
        let (n, from) = u.recv_from(&mut buf).unwrap();
        u.send_to(&buf[..n], from).unwrap();
        from
    });

    // ARP and echo for pfd's own address, then through it.
    assert!(ping(&client, "192.0.2.1"), "ping fw: {}", pfd.stderr());
    assert!(
        ping(&client, "198.51.100.10"),
        "ping server: {}",
        pfd.stderr()
    );

    let got = spawn_in(&client, || {
        let to: SocketAddr = "198.51.100.10:8080".parse().unwrap();
        let mut s = TcpStream::connect_timeout(&to, Duration::from_secs(5)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"hello").unwrap();
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).unwrap();
        buf
    })
    .join()
    .expect("tcp client");
    assert_eq!(&got, b"hello");
    let peer = tcp.join().expect("tcp server");
    assert_eq!(peer.ip().to_string(), "192.0.2.10", "no NAT configured");

    let got = spawn_in(&client, || {
        let u = UdpSocket::bind("192.0.2.10:0").unwrap();
        u.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut buf = [0u8; 64];
        for _ in 0..5 {
            u.send_to(b"ping-udp", "198.51.100.10:5353").unwrap();
            if let Ok((n, _)) = u.recv_from(&mut buf) {
                return buf[..n].to_vec();
            }
        }
        Vec::new()
    })
    .join()
    .expect("udp client");
    assert_eq!(got, b"ping-udp");
    udp.join().expect("udp server");

    // `block return`: the client's connect is refused at once by pf's RST.
    let (refused, took) = spawn_in(&client, || {
        let to: SocketAddr = "198.51.100.10:23".parse().unwrap();
        let t = Instant::now();
        let r = TcpStream::connect_timeout(&to, Duration::from_secs(5));
        (r.err().map(|e| e.kind()), t.elapsed())
    })
    .join()
    .expect("blocked connect");
    assert_eq!(
        refused,
        Some(ErrorKind::ConnectionRefused),
        "after {took:?}"
    );
    assert!(took < Duration::from_secs(2), "{took:?}");

    // The counters, as published by the worker's next housekeeping tick.
    let deadline = Instant::now() + Duration::from_secs(5);
    let (text, info) = loop {
        let (text, info) = show(&sock, ShowWhat::Info);
        // The per-reason counters are published at the worker's next
        // tick, the verdict counts at once: wait for them to agree.
        let blocked = info["blocked"]["in"].as_u64().unwrap_or(0)
            + info["blocked"]["out"].as_u64().unwrap_or(0);
        let reasons: u64 = info["reasons"]
            .as_object()
            .map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
        if (info["replies"].as_u64() >= Some(1) && reasons == blocked) || Instant::now() > deadline
        {
            break (text, info);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(info["passed"]["in"].as_u64() >= Some(10), "{text}");
    assert!(info["passed"]["out"].as_u64() >= Some(10), "{text}");
    assert!(info["blocked"]["in"].as_u64() >= Some(1), "{text}");
    assert_eq!(info["replies"].as_u64(), Some(1), "{text}");
    assert!(info["states"].as_u64() >= Some(1), "{text}");
    assert!(info["reasons"]["match"].as_u64() >= Some(1), "{text}");
    assert!(text.contains("passed"), "{text}");
    for port in ["veth0", "veth1"] {
        let st = &info["interfaces"][port];
        assert!(st["rx_frames"].as_u64() >= Some(10), "{port}: {text}");
        assert!(st["tx_frames"].as_u64() >= Some(10), "{port}: {text}");
    }

    let (states, _) = show(&sock, ShowWhat::States);
    assert!(
        states.contains("all udp 198.51.100.10:5353 <- 192.0.2.10:"),
        "{states}"
    );
    assert!(
        states.contains("all tcp 198.51.100.10:8080 <- 192.0.2.10:"),
        "{states}"
    );
    // pfctl asks the same running pfd.
    let o = Command::new(env!("CARGO_BIN_EXE_pfctl"))
        .arg("--control")
        .arg(&sock)
        .arg("-ss")
        .output()
        .unwrap();
    let pfctl_states = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        pfctl_states.contains("all tcp 198.51.100.10:8080 <- 192.0.2.10:"),
        "{pfctl_states}"
    );
    // The rule counters, as the worker's tick publishes them: the
    // inbound pass rule counted the pings, TCP and UDP.
    let pfctl_out = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_pfctl"))
            .arg("--control")
            .arg(&sock)
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let rules = pfctl_out(&["-sr", "-v"]);
    let lines: Vec<&str> = rules.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.starts_with("pass in on veth0 proto tcp"))
        .expect(&rules);
    let packets: u64 = lines[i + 1]
        .split("Packets:")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect(&rules);
    assert!(packets >= 1, "{rules}");
    assert!(lines[i + 2].starts_with("  [ Inserted: uid "), "{rules}");
    let states_v = pfctl_out(&["-ss", "-v"]);
    assert!(states_v.contains("   age 00:00:"), "{states_v}");
    let all = pfctl_out(&["-sa"]);
    assert!(all.starts_with("FILTER RULES:\n"), "{all}");
    assert!(all.contains("\n\nSTATES:\n"), "{all}");

    // pfctl -f into the running pfd: a bad file is refused with its
    // FILE:LINE and the running ruleset stays; a good one is loaded and
    // traffic still flows under it.
    let pfctl_f = |file: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_pfctl"))
            .arg("--control")
            .arg(&sock)
            .arg("-f")
            .arg(file)
            .output()
            .unwrap()
    };
    let bad = etc.0.join("bad.conf");
    std::fs::write(&bad, "pass in on veth0 proto tcp port\n").unwrap();
    let o = pfctl_f(&bad);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("bad.conf:1: syntax error"), "{e}");
    assert!(
        ping(&client, "198.51.100.10"),
        "ping after a refused reload"
    );
    let good = etc.0.join("good.conf");
    std::fs::write(&good, "block all\npass out\npass in on veth0 proto icmp\n").unwrap();
    let o = pfctl_f(&good);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        ping(&client, "198.51.100.10"),
        "ping under the reloaded ruleset"
    );

    // Anything else is refused, not pretended.
    let mut c = Client::connect(&sock).unwrap();
    let r = c
        .call(&Request::Show {
            what: ShowWhat::Queue,
            verbose: 0,
            anchor: None,
            rule: None,
            interface: None,
        })
        .unwrap();
    assert!(matches!(r, Response::Error { .. }), "{r:?}");
    drop(c);

    let st = pfd.terminate();
    let log = pfd.stderr();
    assert!(st.success(), "pfd exit {st}: {log}");
    assert!(!sock.exists(), "control socket left behind");
    assert!(
        log.contains("pfd: running on veth0 veth1 with 1 worker; control socket"),
        "{log}"
    );
    assert!(log.contains("pfd: stopped: "), "{log}");
}

/// A reload under traffic (`pfctl -f` on the running pfd) keeps the open
/// TCP connection going, while the new ruleset stops new ones.
#[test]
fn pfd_run_reload_keeps_an_open_connection() {
    if !netns::can_run("pfd_run_reload_keeps_an_open_connection") {
        return;
    }
    let l = lab("u", true);
    let etc = Etc::new("reload", PF_CONF);
    let sock = etc.0.join("pfd.sock");
    let log = std::env::temp_dir().join(format!("pfd-run-reload-{}.log", std::process::id()));
    let mut pfd = Pfd::start(&l.fw, &etc.0, &sock, log);

    // The server echoes 5-byte messages on one connection until EOF.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let server = spawn_in(&l.server, move || {
        let lst = TcpListener::bind("198.51.100.10:8090").unwrap();
        ready_tx.send(()).unwrap();
        let (mut s, _) = lst.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut n = 0;
        let mut buf = [0u8; 5];
        while s.read_exact(&mut buf).is_ok() {
            s.write_all(&buf).unwrap();
            n += 1;
        }
        n
    });
    ready_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("listener up");

    // The client sends one message, waits for the reload, sends another.
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let (sent_tx, sent_rx) = std::sync::mpsc::channel::<()>();
    let client = spawn_in(&l.client, move || {
        let to: SocketAddr = "198.51.100.10:8090".parse().unwrap();
        let mut s = TcpStream::connect_timeout(&to, Duration::from_secs(5)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 5];
        s.write_all(b"first").unwrap();
        s.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"first");
        sent_tx.send(()).unwrap();
        go_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("reload done");
        s.write_all(b"again").unwrap();
        s.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"again");
        // a new connection under the new ruleset is dropped: no answer
        let new = TcpStream::connect_timeout(&to, Duration::from_secs(2));
        new.is_err()
    });
    sent_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("first exchange");

    let new_rules = etc.0.join("new.conf");
    std::fs::write(
        &new_rules,
        "block all\npass out\npass in on veth0 proto icmp\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_pfctl"))
        .arg("--control")
        .arg(&sock)
        .arg("-f")
        .arg(&new_rules)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    go_tx.send(()).unwrap();

    let new_blocked = client.join().expect("client: the open connection survived");
    assert!(new_blocked, "a new connection got through the new ruleset");
    let echoed = server.join().expect("server");
    assert_eq!(echoed, 2);
    let st = pfd.terminate();
    assert!(st.success(), "{}", pfd.stderr());
}

/// The frames each worker took in, from pfd's report at stop.
fn per_worker_rx(log: &str) -> Vec<u64> {
    log.lines()
        // after the log line's time and level
        .filter_map(|l| l.split_once("pfd: worker ").map(|(_, rest)| rest))
        .filter_map(|l| l.split_once(": ")?.1.split(' ').next()?.parse().ok())
        .collect()
}

#[test]
fn pfd_run_with_two_workers_spreads_flows_over_both() {
    if !netns::can_run("pfd_run_with_two_workers_spreads_flows_over_both") {
        return;
    }
    let Lab { client, fw, server } = lab("w", true);
    let etc = Etc::new("workers", PF_CONF);
    let sock = etc.0.join("pfd.sock");
    let log = std::env::temp_dir().join(format!("pfd-run-workers-{}.log", std::process::id()));
    let mut pfd = Pfd::start_with(
        &fw,
        &etc.0,
        &sock,
        log,
        &["--workers", "2", "--idle-max-ms", "5"],
    );
    assert!(pfd.stderr().contains("with 2 workers"), "{}", pfd.stderr());
    assert!(ping(&client, "198.51.100.10"), "ping: {}", pfd.stderr());

    // A UDP echo on the server, and 64 flows from the client, one per
    // source port: the kernel's fanout hash spreads them over both
    // workers, which share the state table and the neighbours.
    const FLOWS: usize = 64;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let echo = spawn_in(&server, move || {
        let s = UdpSocket::bind("198.51.100.10:9000").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        ready_tx.send(()).unwrap();
        let mut buf = [0u8; 64];
        let mut n = 0;
        while n < FLOWS {
            let Ok((len, from)) = s.recv_from(&mut buf) else {
                break;
            };
            s.send_to(&buf[..len], from).unwrap();
            n += 1;
        }
        n
    });
    ready_rx.recv_timeout(Duration::from_secs(5)).unwrap();
    let answered = spawn_in(&client, || {
        let mut ok = 0;
        // every socket kept to the end, so no two flows share a port
        let mut open = Vec::new();
        for i in 0..FLOWS {
            let s = UdpSocket::bind("192.0.2.10:0").unwrap();
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let msg = format!("flow {i}");
            let mut buf = [0u8; 64];
            // a lost first datagram (a neighbour being resolved) is
            // sent again, as an application would
            for _ in 0..3 {
                s.send_to(msg.as_bytes(), "198.51.100.10:9000").unwrap();
                if let Ok((n, _)) = s.recv_from(&mut buf) {
                    if &buf[..n] == msg.as_bytes() {
                        ok += 1;
                        break;
                    }
                }
            }
            open.push(s);
        }
        ok
    })
    .join()
    .unwrap();
    assert_eq!(answered, FLOWS, "every flow answered: {}", pfd.stderr());
    assert_eq!(echo.join().unwrap(), FLOWS);

    let server_tcp = tcp_echo(&server, "198.51.100.10:8080");
    assert_eq!(&tcp_hello(&client, "198.51.100.10:8080"), b"hello");
    server_tcp.join().unwrap();

    // the counters of both workers, summed
    let (_, info) = show(&sock, ShowWhat::Info);
    let passed_in = info["passed"]["in"].as_u64().unwrap_or(0);
    assert!(passed_in >= 2 * FLOWS as u64, "passed in: {info}");
    let (states, _) = show(&sock, ShowWhat::States);
    // pf keeps a state in on veth0 and one out on veth1 per flow
    let udp_in = states
        .lines()
        .filter(|l| l.contains(" udp 198.51.100.10:9000 <- 192.0.2.10:"))
        .count();
    assert_eq!(udp_in, FLOWS, "one inbound state per flow: {states}");

    let st = pfd.terminate();
    assert!(st.success(), "pfd exit {st}: {}", pfd.stderr());
    let rx = per_worker_rx(&pfd.stderr());
    assert_eq!(rx.len(), 2, "{}", pfd.stderr());
    assert!(
        rx.iter().all(|&n| n > 0),
        "both workers had traffic: {rx:?}"
    );
}

/// A port forward: the WAN host connects to pfd's own WAN address, port
/// 8080, and reaches the LAN host's port 80 (rdr-to), which sees the
/// real source and answers through pfd, translated back.
#[test]
fn pfd_run_forwards_a_port_with_rdr_to() {
    if !netns::can_run("pfd_run_forwards_a_port_with_rdr_to") {
        return;
    }
    let l = lab("p", true);
    let pf = "\
block all
pass out
pass in on veth1 proto tcp to 198.51.100.1 port 8080 rdr-to 192.0.2.10 port 80
";
    let etc = Etc::new("rdr", pf);
    let sock = etc.0.join("pfd.sock");
    let log = std::env::temp_dir().join(format!("pfd-run-rdr-{}.log", std::process::id()));
    let mut pfd = Pfd::start(&l.fw, &etc.0, &sock, log);
    let inside = tcp_echo(&l.client, "192.0.2.10:80");
    assert_eq!(
        &tcp_hello(&l.server, "198.51.100.1:8080"),
        b"hello",
        "{}",
        pfd.stderr()
    );
    let peer = inside.join().expect("LAN server");
    assert_eq!(peer.ip().to_string(), "198.51.100.10", "the real source");
    let (states, _) = show(&sock, ShowWhat::States);
    assert!(
        states
            .lines()
            .any(|l| l.contains(" tcp 192.0.2.10:80 (198.51.100.1:8080) <- 198.51.100.10:")),
        "the forwarded state: {states}"
    );
    let st = pfd.terminate();
    assert!(st.success(), "pfd exit {st}: {}", pfd.stderr());
}

/// `set syncookies always` between real TCP stacks: the client's SYN is
/// answered by pfd with a cookie and no state; the client's ACK opens
/// the connection to the server; the echo goes through with sequence
/// numbers translated both ways. `pfctl -si -v` counts the cookie sent
/// and validated.
#[test]
fn pfd_run_answers_syns_with_syncookies() {
    if !netns::can_run("pfd_run_answers_syns_with_syncookies") {
        return;
    }
    let l = lab("k", true);
    let pf = "set syncookies always\nblock all\npass out\npass in on veth0 proto { tcp, icmp }\n";
    let etc = Etc::new("cookies", pf);
    let sock = etc.0.join("pfd.sock");
    let log = std::env::temp_dir().join(format!("pfd-run-cookies-{}.log", std::process::id()));
    let mut pfd = Pfd::start(&l.fw, &etc.0, &sock, log);
    assert!(ping(&l.client, "198.51.100.10"), "{}", pfd.stderr());

    let server = tcp_echo(&l.server, "198.51.100.10:8080");
    assert_eq!(
        &tcp_hello(&l.client, "198.51.100.10:8080"),
        b"hello",
        "{}",
        pfd.stderr()
    );
    let peer = server.join().expect("tcp server");
    assert_eq!(peer.ip().to_string(), "192.0.2.10");

    let (_, j) = show(&sock, ShowWhat::Info);
    assert!(j["limits"]["syncookies sent"].as_u64() >= Some(1), "{j}");
    assert!(
        j["limits"]["syncookies validated"].as_u64() >= Some(1),
        "{j}"
    );
    assert_eq!(j["syncookies"]["mode"], "always");
    let st = pfd.terminate();
    assert!(st.success(), "pfd exit {st}: {}", pfd.stderr());
}
