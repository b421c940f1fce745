//! TunMirror in a throw-away namespace: the interface comes up with no
//! address and IPv6 off, tcpdump on it captures exactly the packets
//! written (raw IP), a name in use is refused and not taken over, and
//! the interface goes with the mirror (root only; skipped with a
//! message otherwise, failed when `CI` is set).

mod netns;

use dataplane::port::TunMirror;
use netns::{can_run, Ns};
use std::io::{BufRead, BufReader, ErrorKind};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A pcap file's link type and packets (tcpdump writes host order).
fn read_pcap(bytes: &[u8]) -> (u32, Vec<Vec<u8>>) {
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
    assert_eq!(u32_at(0), 0xa1b2_c3d4, "a little-endian pcap file");
    let mut out = Vec::new();
    let mut o = 24;
    while o + 16 <= bytes.len() {
        let n = u32_at(o + 8) as usize;
        out.push(bytes[o + 16..o + 16 + n].to_vec());
        o += 16 + n;
    }
    (u32_at(20), out)
}

/// `tcpdump -i IF -c N -w FILE` started in the calling thread's
/// namespace, returned once it listens.
fn tcpdump(dev: &str, n: usize, file: &std::path::Path) -> std::process::Child {
    let mut c = Command::new("tcpdump")
        .args(["-i", dev, "-n", "-U", "-c", &n.to_string(), "-w"])
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tcpdump");
    let err = c.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let t = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_secs(5)) {
            Ok(l) if l.contains("listening on") => return c,
            Ok(_) if t.elapsed() < Duration::from_secs(5) => {}
            other => {
                let _ = c.kill();
                panic!("tcpdump did not start: {other:?}");
            }
        }
    }
}

/// Wait (bounded) for `c` to exit; killed by its PID past the bound.
fn wait_exit(c: &mut std::process::Child) -> bool {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(5) {
        if c.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = c.kill();
    let _ = c.wait();
    false
}

fn link(ns: &Ns, what: &[&str]) -> String {
    let mut args = vec!["-n", ns.name.as_str()];
    args.extend_from_slice(what);
    let o = Command::new("ip").args(&args).output().unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// An IPv4 header (protocol 240, TTL 255) and `n` bytes after it.
fn packet(n: u8) -> Vec<u8> {
    let mut p = vec![
        0x45, 0x10, 0, 0, 0x12, 0x34, 0x40, 0, 255, 240, 0, 0, 192, 0, 2, 1, 224, 0, 0, 240,
    ];
    p.extend((0..n).map(|i| i ^ 0x5a));
    let len = p.len() as u16;
    p[2..4].copy_from_slice(&len.to_be_bytes());
    p
}

#[test]
fn mirror_interface_shows_what_is_written_and_refuses_a_taken_name() {
    if !can_run("mirror_interface_shows_what_is_written_and_refuses_a_taken_name") {
        return;
    }
    let ns = Ns::new("tun");
    ns.veth("veth0", "veth1");
    let got = ns.run(|| {
        let m = TunMirror::create("pfsync0").expect("create");
        assert_eq!(m.name(), "pfsync0");
        let shown = link(&ns, &["-o", "link", "show", "pfsync0"]);
        assert!(shown.contains(",UP"), "up: {shown}");
        let addrs = link(&ns, &["-o", "addr", "show", "dev", "pfsync0"]);
        assert!(!addrs.contains("inet"), "no address: {addrs}");
        let v6 = std::fs::read_to_string("/proc/sys/net/ipv6/conf/pfsync0/disable_ipv6");
        assert!(v6.map_or(true, |v| v.trim() == "1"), "IPv6 off");

        // a name in use is refused, the mirror's own or another kind's
        for taken in ["pfsync0", "veth0"] {
            let e = TunMirror::create(taken).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{taken}: {e}");
            assert!(e.to_string().contains(taken), "{e}");
        }

        let file = std::env::temp_dir().join(format!("pfd-tun-{}.pcap", std::process::id()));
        let mut dump = tcpdump("pfsync0", 3, &file);
        let sent: Vec<Vec<u8>> = (0..3).map(|i| packet(8 + i)).collect();
        for p in &sent {
            m.write(p).expect("write");
        }
        assert!(wait_exit(&mut dump), "tcpdump saw 3 packets");
        let (linktype, got) = read_pcap(&std::fs::read(&file).unwrap());
        let _ = std::fs::remove_file(&file);
        assert_eq!(
            linktype, 101,
            "LINKTYPE_RAW: the packet starts at its IP header"
        );
        assert_eq!(got, sent, "the capture holds the packets as written");
        drop(m);
        got
    });
    assert_eq!(got.len(), 3);
    let after = link(&ns, &["-o", "link", "show"]);
    assert!(!after.contains("pfsync0"), "gone with the mirror: {after}");
}
