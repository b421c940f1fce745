//! `pfd run --pflog`: what `log` rules log reaches a pflog file (pcap,
//! DLT_PFLOG, as pflogd writes) and a FIFO a live reader holds, while
//! pfd forwards between two namespaces. Needs root; skipped with a
//! message otherwise, and failed when CI is set.

mod live;
#[path = "../../dataplane/tests/netns/mod.rs"]
mod netns;

use dataplane::pcap::{PcapReader, LINKTYPE_PFLOG};
use dataplane::pflog::{PfAction, PflogRecord};
use live::{ping, Etc, Pfd};
use netns::Ns;
use std::net::IpAddr;
use std::process::Command;
use std::time::{Duration, Instant};

const PF_CONF: &str = "\
block log all
pass out
pass in log on veth0 proto icmp
";

fn lab(tag: &str) -> (Ns, Ns, Ns) {
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
    server.ip(&["route", "add", "default", "via", "198.51.100.1"]);
    (client, fw, server)
}

/// A UDP datagram from the client to the server (blocked and logged).
fn udp(client: &Ns) {
    let ok = Command::new("ip")
        .args(["netns", "exec", &client.name, "bash", "-c"])
        .arg("echo x > /dev/udp/198.51.100.10/5353")
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

fn records(bytes: &[u8]) -> Vec<PflogRecord> {
    let Ok(mut r) = PcapReader::new(bytes) else {
        return Vec::new();
    };
    assert_eq!(r.link_type(), LINKTYPE_PFLOG);
    let mut out = Vec::new();
    while let Ok(Some(rec)) = r.next_record() {
        out.push(PflogRecord::parse(&rec.data).expect("a pflog header"));
    }
    out
}

fn check(recs: &[PflogRecord]) {
    let client: IpAddr = "192.0.2.10".parse().unwrap();
    let server: IpAddr = "198.51.100.10".parse().unwrap();
    assert!(
        recs.iter().any(|r| r.action == PfAction::Pass
            && r.ifname == "veth0"
            && (r.saddr, r.daddr) == (client, server)),
        "the ping's first packet, passed: {recs:?}"
    );
    assert!(
        recs.iter()
            .any(|r| r.action == PfAction::Drop && r.ifname == "veth0" && r.dport == 5353),
        "the UDP datagram, blocked: {recs:?}"
    );
}

#[test]
fn logged_packets_reach_a_pflog_file_and_a_fifo() {
    if !netns::can_run("logged_packets_reach_a_pflog_file_and_a_fifo") {
        return;
    }
    let (client, fw, _server) = lab("plg");
    let etc = Etc::new("pflog", PF_CONF);
    let file = etc.0.join("pflog");
    let sock = etc.0.join("pfd.sock");
    let log = std::env::temp_dir().join(format!("pfd-pflog-{}.log", std::process::id()));
    let pfd = Pfd::start_with(
        &fw,
        &etc.0,
        &sock,
        log.clone(),
        &["--pflog", file.to_str().unwrap()],
    );
    assert!(ping(&client, "198.51.100.10"), "{}", pfd.stderr());
    udp(&client);
    let t = Instant::now();
    let mut recs = Vec::new();
    while t.elapsed() < Duration::from_secs(10) {
        recs = records(&std::fs::read(&file).unwrap_or_default());
        // the kernel's IPv6 chatter on the links is blocked and logged
        // too: wait for the datagram's own record
        if recs
            .iter()
            .any(|r| r.action == PfAction::Drop && r.dport == 5353)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check(&recs);
    drop(pfd);

    // The same into a FIFO that a reader holds, as `tcpdump -r FIFO`.
    let fifo = etc.0.join("pflog0");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut f = std::fs::File::open(&fifo).unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let t = Instant::now();
            // bounded: the records come within seconds, then pfd stops
            while t.elapsed() < Duration::from_secs(20) {
                match f.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            buf
        })
    };
    let pfd = Pfd::start_with(
        &fw,
        &etc.0,
        &sock,
        log,
        &["--pflog", fifo.to_str().unwrap()],
    );
    assert!(ping(&client, "198.51.100.10"), "{}", pfd.stderr());
    udp(&client);
    std::thread::sleep(Duration::from_secs(1));
    // pfd stopping closes the FIFO: the reader sees its end
    drop(pfd);
    let bytes = reader.join().unwrap();
    check(&records(&bytes));
}
