//! route-to and reply-to in `pfd run`, end to end: a client behind pfd,
//! two uplinks each with its own router, the default route by the
//! first. Both routers answer for the same remote address, each in its
//! own name, so the answer tells which uplink a flow left by. Needs
//! root; skipped with a message otherwise, and failed when CI is set.

mod live;
#[path = "../../dataplane/tests/netns/mod.rs"]
mod netns;

use live::{spawn_in, Etc, Pfd};
use netns::Ns;
use std::net::UdpSocket;
use std::time::Duration;

/// client (192.0.2.10) — fw (pfd: veth0 192.0.2.1 | veth1 198.51.100.1
/// | veth2 203.0.113.1) — r1 (198.51.100.254, the default route) and
/// r2 (203.0.113.254). Both routers hold 10.99.0.1; r2 also 10.99.0.2.
struct Lab {
    client: Ns,
    fw: Ns,
    r1: Ns,
    r2: Ns,
}

fn lab(tag: &str) -> Lab {
    let client = Ns::new(&format!("{tag}c"));
    let fw = Ns::new(&format!("{tag}f"));
    let r1 = Ns::new(&format!("{tag}1"));
    let r2 = Ns::new(&format!("{tag}2"));
    fw.veth("veth0", "cl0");
    fw.give("cl0", &client);
    fw.veth("veth1", "u1");
    fw.give("u1", &r1);
    fw.veth("veth2", "u2");
    fw.give("u2", &r2);
    client.ip(&["addr", "add", "192.0.2.10/24", "dev", "cl0"]);
    client.ip(&["route", "add", "default", "via", "192.0.2.1"]);
    r1.ip(&["addr", "add", "198.51.100.254/24", "dev", "u1"]);
    r1.ip(&["addr", "add", "10.99.0.1/32", "dev", "lo"]);
    r1.ip(&["route", "add", "192.0.2.0/24", "via", "198.51.100.1"]);
    r2.ip(&["addr", "add", "203.0.113.254/24", "dev", "u2"]);
    r2.ip(&["addr", "add", "10.99.0.1/32", "dev", "lo"]);
    r2.ip(&["addr", "add", "10.99.0.2/32", "dev", "lo"]);
    r2.ip(&["route", "add", "192.0.2.0/24", "via", "203.0.113.1"]);
    Lab { client, fw, r1, r2 }
}

fn etc(tag: &str, pf_conf: &str) -> Etc {
    Etc::with(
        tag,
        &[
            ("hostname.veth0", "inet 192.0.2.1 255.255.255.0\nup\n"),
            ("hostname.veth1", "inet 198.51.100.1 255.255.255.0\nup\n"),
            ("hostname.veth2", "inet 203.0.113.1 255.255.255.0\nup\n"),
            ("mygate", "198.51.100.254\n"),
            ("sysctl.conf", "net.inet.ip.forwarding=1\n"),
            ("pf.conf", pf_conf),
        ],
    )
}

/// Answer every datagram to `addr` in `ns` with `name`, until none came
/// for a few seconds.
fn responder(ns: &Ns, addr: &'static str, name: &'static str) -> std::thread::JoinHandle<()> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let h = spawn_in(ns, move || {
        let u = UdpSocket::bind(addr).unwrap();
        u.set_read_timeout(Some(Duration::from_secs(4))).unwrap();
        ready_tx.send(()).unwrap();
        let mut buf = [0u8; 64];
        while let Ok((_, from)) = u.recv_from(&mut buf) {
            let _ = u.send_to(name.as_bytes(), from);
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("responder up");
    h
}

/// From `bind` in `ns`, ask `to`; the answer (retried a few times while
/// ARP settles), or "" when none came.
fn ask(ns: &Ns, bind: &'static str, to: &'static str) -> String {
    spawn_in(ns, move || {
        let u = UdpSocket::bind(bind).unwrap();
        u.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let mut buf = [0u8; 64];
        for _ in 0..5 {
            u.send_to(b"who?", to).unwrap();
            if let Ok((n, _)) = u.recv_from(&mut buf) {
                return String::from_utf8_lossy(&buf[..n]).into_owned();
            }
        }
        String::new()
    })
    .join()
    .expect("asker")
}

#[test]
fn route_to_sends_a_flow_out_of_the_second_uplink() {
    if !netns::can_run("route_to_sends_a_flow_out_of_the_second_uplink") {
        return;
    }
    let l = lab("rt");
    let etc = etc(
        "rt",
        "pass\npass in on veth0 proto udp to port 7 route-to 203.0.113.254\n",
    );
    let sock = etc.0.join("pfd.sock");
    let log = std::env::temp_dir().join(format!("pfd-run-rt-{}.log", std::process::id()));
    let mut pfd = Pfd::start(&l.fw, &etc.0, &sock, log);
    let _r = [
        responder(&l.r1, "10.99.0.1:7", "r1"),
        responder(&l.r2, "10.99.0.1:7", "r2"),
        responder(&l.r1, "10.99.0.1:8", "r1"),
        responder(&l.r2, "10.99.0.1:8", "r2"),
    ];
    assert_eq!(
        ask(&l.client, "192.0.2.10:0", "10.99.0.1:8"),
        "r1",
        "the default route: {}",
        pfd.stderr()
    );
    assert_eq!(
        ask(&l.client, "192.0.2.10:0", "10.99.0.1:7"),
        "r2",
        "route-to: {}",
        pfd.stderr()
    );
    let st = pfd.terminate();
    assert!(st.success(), "pfd exit {st}: {}", pfd.stderr());
}

#[test]
fn reply_to_answers_by_the_uplink_a_connection_came_in_on() {
    if !netns::can_run("reply_to_answers_by_the_uplink_a_connection_came_in_on") {
        return;
    }
    let l = lab("rp");
    let etc = etc("rp", "pass\npass in on veth2 reply-to 203.0.113.254\n");
    let sock = etc.0.join("pfd.sock");
    let log = std::env::temp_dir().join(format!("pfd-run-rp-{}.log", std::process::id()));
    let mut pfd = Pfd::start(&l.fw, &etc.0, &sock, log);
    let _c = responder(&l.client, "192.0.2.10:9000", "client");
    // r2 asks from an address only it holds; by the default route the
    // answer would go to r1, which does not forward
    assert_eq!(
        ask(&l.r2, "10.99.0.2:0", "192.0.2.10:9000"),
        "client",
        "reply-to: {}",
        pfd.stderr()
    );
    // pfd's own echo replies follow the state's reply-to too
    let pinged = std::process::Command::new("ip")
        .args(["netns", "exec", &l.r2.name, "ping", "-c", "3", "-W", "1"])
        .args(["-I", "10.99.0.2", "203.0.113.1"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(pinged, "ping the firewall from behind r2: {}", pfd.stderr());
    let st = pfd.terminate();
    assert!(st.success(), "pfd exit {st}: {}", pfd.stderr());
}
