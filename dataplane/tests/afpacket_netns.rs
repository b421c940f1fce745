//! AfPacketPort against real kernel interfaces: veth pairs inside
//! throw-away network namespaces (root only; skipped with a message
//! otherwise, failed when `CI` is set).

mod netns;

use std::net::{SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use dataplane::port::afpacket::sys::Poller;
use dataplane::port::{AfPacketCfg, AfPacketPort, Port, RxBatch, TxBatch};
use dataplane::wire::checksum;
use netns::{can_run, Ns};

const DEADLINE: Duration = Duration::from_secs(5);

/// Read from `port` until `want` frames matching `pick` arrived or the
/// deadline passed; returns the matching frames.
fn collect(port: &mut AfPacketPort, want: usize, pick: impl Fn(&[u8]) -> bool) -> Vec<Vec<u8>> {
    collect_for(port, want, DEADLINE, pick)
}

fn collect_for(
    port: &mut AfPacketPort,
    want: usize,
    limit: Duration,
    pick: impl Fn(&[u8]) -> bool,
) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    let mut b = RxBatch::new(64, 2048);
    let t = Instant::now();
    while got.len() < want && t.elapsed() < limit {
        b.clear();
        port.rx_burst(&mut b).expect("rx_burst");
        got.extend(b.frames().iter().filter(|f| pick(f)).cloned());
        if b.is_empty() {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    got
}

/// Ethernet + IPv4 + UDP (checksum 0: allowed for IPv4).
fn udp_frame(
    dst_mac: [u8; 6],
    src_mac: [u8; 6],
    src: SocketAddrV4,
    dst: SocketAddrV4,
    payload: &[u8],
) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&dst_mac);
    f.extend_from_slice(&src_mac);
    f.extend_from_slice(&0x0800u16.to_be_bytes());
    let total = (20 + 8 + payload.len()) as u16;
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip[8] = 64;
    ip[9] = 17;
    ip[12..16].copy_from_slice(&src.ip().octets());
    ip[16..20].copy_from_slice(&dst.ip().octets());
    let c = checksum::finish(checksum::sum(&ip));
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&src.port().to_be_bytes());
    f.extend_from_slice(&dst.port().to_be_bytes());
    f.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A frame of our own experimental EtherType (IEEE 802 local 0x88b5),
/// which no kernel protocol handles, tagged with `n`.
fn raw_frame(dst: [u8; 6], src: [u8; 6], n: u32, len: usize) -> Vec<u8> {
    let mut f = Vec::with_capacity(len);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&0x88b5u16.to_be_bytes());
    f.extend_from_slice(b"pfd!");
    f.extend_from_slice(&n.to_be_bytes());
    f.resize(len.max(f.len()), 0x5a);
    f
}

fn cfg() -> AfPacketCfg {
    AfPacketCfg {
        rx_block_size: 1 << 16,
        rx_block_nr: 8,
        tx_frame_nr: 256,
        ..AfPacketCfg::default()
    }
}

#[test]
fn kernel_udp_arrives_through_rx_burst() {
    if !can_run("kernel_udp_arrives_through_rx_burst") {
        return;
    }
    let ns = Ns::new("rx");
    ns.veth("pa", "pb");
    ns.ip(&["addr", "add", "192.0.2.2/24", "dev", "pb"]);
    let mac_a = ns.mac("pa");
    ns.ip(&[
        "neigh",
        "add",
        "192.0.2.1",
        "lladdr",
        &fmt_mac(mac_a),
        "dev",
        "pb",
    ]);
    let frames = ns.run(|| {
        let mut port = AfPacketPort::open("pa", &cfg()).expect("open pa");
        assert_eq!(port.mac(), mac_a);
        assert_eq!(port.name(), "pa");
        let sock = UdpSocket::bind("192.0.2.2:0").expect("bind udp");
        for i in 0..10 {
            sock.send_to(format!("pfd-rx-{i:02}").as_bytes(), "192.0.2.1:9999")
                .expect("send udp");
        }
        let got = collect(&mut port, 10, |f| contains(f, b"pfd-rx-"));
        (got, port.stats())
    });
    let (got, stats) = frames;
    assert_eq!(got.len(), 10, "only {} of 10 frames arrived", got.len());
    for (i, f) in got.iter().enumerate() {
        assert_eq!(&f[0..6], &mac_a, "destination MAC");
        assert_eq!(&f[12..14], &[0x08, 0x00]);
        assert!(
            contains(f, format!("pfd-rx-{i:02}").as_bytes()),
            "frame {i} out of order"
        );
    }
    assert!(stats.rx_frames >= 10);
    assert_eq!(stats.rx_truncated, 0);
}

#[test]
fn tx_burst_reaches_a_kernel_udp_socket() {
    if !can_run("tx_burst_reaches_a_kernel_udp_socket") {
        return;
    }
    let ns = Ns::new("tx");
    ns.veth("pa", "pb");
    ns.ip(&["addr", "add", "192.0.2.2/24", "dev", "pb"]);
    let (mac_a, mac_b) = (ns.mac("pa"), ns.mac("pb"));
    let got = ns.run(|| {
        let mut port = AfPacketPort::open("pa", &cfg()).expect("open pa");
        let sock = UdpSocket::bind("192.0.2.2:7777").expect("bind udp");
        sock.set_read_timeout(Some(DEADLINE)).unwrap();
        let src: SocketAddrV4 = "192.0.2.1:1234".parse().unwrap();
        let dst: SocketAddrV4 = "192.0.2.2:7777".parse().unwrap();
        let mut tx = TxBatch::new(8, 2048);
        for i in 0..5 {
            tx.push(&udp_frame(
                mac_b,
                mac_a,
                src,
                dst,
                format!("pfd-tx-{i}").as_bytes(),
            ));
        }
        assert_eq!(port.tx_burst(&mut tx).expect("tx_burst"), 5);
        assert!(tx.is_empty());
        let mut got = Vec::new();
        let mut buf = [0u8; 2048];
        for _ in 0..5 {
            let (n, from) = sock.recv_from(&mut buf).expect("receive (timed out?)");
            got.push((String::from_utf8_lossy(&buf[..n]).into_owned(), from));
        }
        assert_eq!(port.stats().tx_frames, 5);
        got
    });
    for (i, (text, from)) in got.iter().enumerate() {
        assert_eq!(text, &format!("pfd-tx-{i}"));
        assert_eq!(from.to_string(), "192.0.2.1:1234");
    }
}

#[test]
fn port_to_port_with_vlan_tags_and_no_echo_of_own_frames() {
    if !can_run("port_to_port_with_vlan_tags_and_no_echo_of_own_frames") {
        return;
    }
    let ns = Ns::new("p2p");
    ns.veth("pa", "pb");
    // Without qdisc bypass the kernel shows every transmitted frame to
    // the interface's packet taps, ours included: only
    // PACKET_IGNORE_OUTGOING keeps them out of pa's receive ring.
    for bypass in [true, false] {
        ns.run(|| {
            let c = AfPacketCfg {
                qdisc_bypass: bypass,
                ..cfg()
            };
            let mut a = AfPacketPort::open("pa", &c).expect("open pa");
            let mut b = AfPacketPort::open("pb", &c).expect("open pb");
            let mut sent = Vec::new();
            let mut tx = TxBatch::new(64, 2048);
            for n in 0..40u32 {
                let mut f = raw_frame(b.mac(), a.mac(), n, 60 + n as usize * 30);
                if n % 4 == 0 {
                    // 802.1Q, VID n: the kernel strips the tag into the ring
                    // header; the port must put it back.
                    let tag = [0x81, 0x00, 0x20, n as u8];
                    f.splice(12..12, tag);
                }
                sent.push(f.clone());
                tx.push(&f);
            }
            // One frame too big for a 2048-byte slot: taken, counted, dropped.
            tx.push(&raw_frame(b.mac(), a.mac(), 999, 3000));
            let mut taken = 0;
            let t = Instant::now();
            while !tx.is_empty() && t.elapsed() < DEADLINE {
                taken += a.tx_burst(&mut tx).expect("tx_burst");
            }
            assert_eq!(taken, 41);
            assert_eq!(a.stats().tx_dropped, 1);
            let got = collect(&mut b, 40, |f| contains(f, b"pfd!"));
            assert_eq!(got.len(), 40);
            for (g, s) in got.iter().zip(&sent) {
                assert_eq!(g, s, "frame changed on the way");
            }
            // pa saw none of what it sent (b has already seen all of it).
            let echo = collect_for(&mut a, 1, Duration::from_millis(200), |f| {
                contains(f, b"pfd!")
            });
            assert!(
                echo.is_empty(),
                "own transmissions came back (bypass {bypass})"
            );
        });
    }
}

#[test]
fn fanout_splits_flows_between_ports_without_duplicates() {
    if !can_run("fanout_splits_flows_between_ports_without_duplicates") {
        return;
    }
    let ns = Ns::new("fan");
    ns.veth("pa", "pb");
    ns.ip(&["addr", "add", "198.51.100.2/24", "dev", "pb"]);
    let mac_a = ns.mac("pa");
    ns.ip(&[
        "neigh",
        "add",
        "198.51.100.1",
        "lladdr",
        &fmt_mac(mac_a),
        "dev",
        "pb",
    ]);
    let (n0, n1) = ns.run(|| {
        let fan = AfPacketCfg {
            fanout_group: Some(4242),
            ..cfg()
        };
        let mut w0 = AfPacketPort::open("pa", &fan).expect("open worker 0");
        let mut w1 = AfPacketPort::open("pa", &fan).expect("open worker 1");
        // 64 flows (source ports), two packets each.
        let socks: Vec<UdpSocket> = (0..64)
            .map(|_| UdpSocket::bind("198.51.100.2:0").unwrap())
            .collect();
        for round in 0..2 {
            for (i, s) in socks.iter().enumerate() {
                s.send_to(
                    format!("pfd-fan-{i:02}-{round}").as_bytes(),
                    "198.51.100.1:9",
                )
                .unwrap();
            }
        }
        let mut f0 = Vec::new();
        let mut f1 = Vec::new();
        let t = Instant::now();
        let mut b = RxBatch::new(64, 2048);
        while f0.len() + f1.len() < 128 && t.elapsed() < DEADLINE {
            for (port, out) in [(&mut w0, &mut f0), (&mut w1, &mut f1)] {
                b.clear();
                port.rx_burst(&mut b).unwrap();
                out.extend(
                    b.frames()
                        .iter()
                        .filter(|f| contains(f, b"pfd-fan-"))
                        .cloned(),
                );
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        (f0, f1)
    });
    assert_eq!(
        n0.len() + n1.len(),
        128,
        "{} + {} frames",
        n0.len(),
        n1.len()
    );
    assert!(
        !n0.is_empty() && !n1.is_empty(),
        "fanout sent everything to one worker"
    );
    // Each flow stays on one worker.
    let flow = |f: &Vec<u8>| f[34..36].to_vec();
    let flows0: std::collections::HashSet<_> = n0.iter().map(flow).collect();
    let flows1: std::collections::HashSet<_> = n1.iter().map(flow).collect();
    assert!(
        flows0.is_disjoint(&flows1),
        "a flow was split between workers"
    );
}

fn fmt_mac(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[test]
fn open_names_the_failing_step() {
    if !can_run("open_names_the_failing_step") {
        return;
    }
    let ns = Ns::new("err");
    let e = ns.run(|| {
        AfPacketPort::open("nosuchif0", &cfg())
            .err()
            .expect("opened a missing interface")
    });
    assert_eq!(e.step, "if_nametoindex");
    assert!(
        e.to_string()
            .starts_with("af_packet nosuchif0: if_nametoindex:"),
        "{e}"
    );
    let bad = AfPacketCfg {
        rx_block_size: 1000,
        ..cfg()
    };
    let e = ns.run(|| {
        AfPacketPort::open("lo", &bad)
            .err()
            .expect("accepted a bad block size")
    });
    assert_eq!(e.step, "rx ring");
    ns.veth("pa", "pb");
    let small = AfPacketCfg {
        tx_frame_size: 1024,
        ..cfg()
    };
    // Slots smaller than the interface's frames grow to hold them (a
    // jumbo sync link needs no setting), up to the largest slot.
    let max = ns.run(|| {
        AfPacketPort::open("pa", &small)
            .expect("slots grow to the MTU")
            .max_tx_frame()
    });
    assert!(max >= 1518, "{max}");
    ns.ip(&["link", "set", "pa", "mtu", "65535"]);
    let e = ns.run(|| {
        AfPacketPort::open("pa", &small)
            .err()
            .expect("accepted frames larger than the largest slot")
    });
    assert_eq!(e.step, "tx ring");
    assert!(e.to_string().contains("MTU 65535 needs 65553"), "{e}");
    ns.ip(&["link", "set", "pa", "mtu", "1500"]);
    let small = AfPacketCfg {
        rx_block_size: 4096,
        ..cfg()
    };
    ns.ip(&["link", "set", "pa", "mtu", "5000"]);
    let big_slots = AfPacketCfg {
        tx_frame_size: 8192,
        ..small
    };
    let e = ns.run(|| {
        AfPacketPort::open("pa", &big_slots)
            .err()
            .expect("accepted a block smaller than the MTU")
    });
    assert_eq!(e.step, "rx ring");
    assert!(e.to_string().contains("MTU 5000"), "{e}");
}

#[test]
fn poll_fd_wakes_when_frames_wait() {
    if !can_run("poll_fd_wakes_when_frames_wait") {
        return;
    }
    let ns = Ns::new("poll");
    ns.veth("pa", "pb");
    ns.run(|| {
        let mut a = AfPacketPort::open("pa", &cfg()).expect("open pa");
        let mut b = AfPacketPort::open("pb", &cfg()).expect("open pb");
        let fd = b.poll_fd().expect("an AF_PACKET port can be polled");
        let mut poller = Poller::new(&[fd]);
        assert_eq!(
            poller.wait(Duration::ZERO).unwrap(),
            0,
            "readable before anything was sent"
        );
        let mut tx = TxBatch::new(1, 128);
        tx.push(&raw_frame(b.mac(), a.mac(), 7, 64));
        assert_eq!(a.tx_burst(&mut tx).unwrap(), 1);
        // The block is handed over when its retire timer (1 ms) fires;
        // poll must wake for it long before this bound.
        assert_eq!(
            poller.wait(DEADLINE).unwrap(),
            1,
            "poll timed out with a frame waiting"
        );
        let got = collect(&mut b, 1, |f| contains(f, b"pfd!"));
        assert_eq!(got.len(), 1);
    });
}

#[test]
fn a_small_ring_wraps_many_times_without_loss_or_reordering() {
    if !can_run("a_small_ring_wraps_many_times_without_loss_or_reordering") {
        return;
    }
    let ns = Ns::new("wrap");
    ns.veth("pa", "pb");
    // Small slots need a small MTU (open checks); the frames are <= 180.
    for dev in ["pa", "pb"] {
        ns.ip(&["link", "set", dev, "mtu", "200"]);
    }
    ns.run(|| {
        // Four one-page blocks and 16 TX slots: 3000 frames wrap both
        // rings well over a hundred times; bursts of 7 end mid-block.
        let small = AfPacketCfg {
            rx_block_size: 4096,
            rx_block_nr: 4,
            tx_frame_size: 256,
            tx_frame_nr: 16,
            ..cfg()
        };
        let mut a = AfPacketPort::open("pa", &small).expect("open pa");
        let mut b = AfPacketPort::open("pb", &small).expect("open pb");
        let (ma, mb) = (a.mac(), b.mac());
        let total = 3000u32;
        let mut next_send = 0u32;
        let mut seen = Vec::new();
        let mut rx = RxBatch::new(7, 256);
        let mut tx = TxBatch::new(16, 256);
        let t = Instant::now();
        while seen.len() < total as usize && t.elapsed() < DEADLINE * 4 {
            // Keep at most 12 frames in flight: well inside the ring.
            while next_send < total && next_send < seen.len() as u32 + 12 && !tx.is_full() {
                tx.push(&raw_frame(
                    mb,
                    ma,
                    next_send,
                    60 + (next_send % 7) as usize * 20,
                ));
                next_send += 1;
            }
            a.tx_burst(&mut tx).expect("tx_burst");
            rx.clear();
            b.rx_burst(&mut rx).expect("rx_burst");
            for f in rx.frames().iter().filter(|f| contains(f, b"pfd!")) {
                seen.push(u32::from_be_bytes([f[18], f[19], f[20], f[21]]));
            }
        }
        let want: Vec<u32> = (0..total).collect();
        assert_eq!(seen.len(), want.len(), "frames lost");
        assert_eq!(seen, want, "frames reordered");
        assert_eq!(b.stats().rx_truncated, 0);
    });
}

#[test]
fn frames_larger_than_a_block_are_counted_not_delivered() {
    if !can_run("frames_larger_than_a_block_are_counted_not_delivered") {
        return;
    }
    let ns = Ns::new("trunc");
    ns.veth("pa", "pb");
    ns.run(|| {
        let big_tx = AfPacketCfg {
            tx_frame_size: 16384,
            tx_frame_nr: 8,
            ..cfg()
        };
        let one_page = AfPacketCfg {
            rx_block_size: 4096,
            rx_block_nr: 4,
            ..cfg()
        };
        let mut a = AfPacketPort::open("pa", &big_tx).expect("open pa");
        let mut b = AfPacketPort::open("pb", &one_page).expect("open pb");
        // Open refuses a block smaller than the MTU; raising the MTU
        // afterwards (as an operator can) is what makes frames too big.
        for dev in ["pa", "pb"] {
            ns.ip(&["link", "set", dev, "mtu", "9000"]);
        }
        let mut tx = TxBatch::new(2, 8192);
        tx.push(&raw_frame(b.mac(), a.mac(), 1, 6000));
        tx.push(&raw_frame(b.mac(), a.mac(), 2, 1000));
        assert_eq!(a.tx_burst(&mut tx).unwrap(), 2);
        // The small frame, sent second, arrives; the big one does not.
        let got = collect(&mut b, 1, |f| contains(f, b"pfd!"));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].len(), 1000);
        assert_eq!(b.stats().rx_truncated, 1);
    });
}

#[test]
fn fanout_members_do_not_see_their_own_transmissions() {
    if !can_run("fanout_members_do_not_see_their_own_transmissions") {
        return;
    }
    let ns = Ns::new("fanecho");
    ns.veth("pa", "pb");
    ns.run(|| {
        // Once a socket joins a fanout group the group's hook receives
        // for it: the ignore-outgoing filter must be the group's too.
        // Without qdisc bypass the kernel shows transmissions to taps.
        let fan = AfPacketCfg {
            fanout_group: Some(77),
            qdisc_bypass: false,
            ..cfg()
        };
        let mut a0 = AfPacketPort::open("pa", &fan).expect("open pa worker 0");
        let mut a1 = AfPacketPort::open("pa", &fan).expect("open pa worker 1");
        let mut b = AfPacketPort::open("pb", &cfg()).expect("open pb");
        let mut tx = TxBatch::new(32, 256);
        for n in 0..32 {
            tx.push(&raw_frame(b.mac(), a0.mac(), n, 64));
        }
        assert_eq!(a0.tx_burst(&mut tx).unwrap(), 32);
        assert_eq!(collect(&mut b, 32, |f| contains(f, b"pfd!")).len(), 32);
        for a in [&mut a0, &mut a1] {
            let echo = collect_for(a, 1, Duration::from_millis(200), |f| contains(f, b"pfd!"));
            assert!(echo.is_empty(), "a fanout member saw its own transmissions");
        }
    });
}

#[test]
fn promiscuous_mode_is_held_while_the_port_is_open() {
    if !can_run("promiscuous_mode_is_held_while_the_port_is_open") {
        return;
    }
    let ns = Ns::new("promisc");
    ns.veth("pa", "pb");
    assert_eq!(ns.promiscuity("pa"), 0);
    let (open_p, open_np) = ns.run(|| {
        let p = AfPacketPort::open("pa", &cfg()).expect("open promiscuous");
        let with = ns.promiscuity("pa");
        drop(p);
        let quiet = AfPacketCfg {
            promisc: false,
            ..cfg()
        };
        let np = AfPacketPort::open("pa", &quiet).expect("open");
        let without = ns.promiscuity("pa");
        drop(np);
        (with, without)
    });
    assert_eq!(open_p, 1, "promisc port did not raise the count");
    assert_eq!(
        open_np, 0,
        "a non-promisc port raised it, or the first one's outlived it"
    );
    assert_eq!(ns.promiscuity("pa"), 0);
}

#[test]
fn the_lab_changes_its_namespace_and_not_the_root_one() {
    if !can_run("the_lab_changes_its_namespace_and_not_the_root_one") {
        return;
    }
    let key = "/proc/sys/net/ipv6/conf/all/disable_ipv6";
    // This thread is in the root namespace, and so is the sysfs it sees.
    let root_link = std::path::Path::new("/sys/class/net/pfdlab0");
    let link_before = root_link.exists();
    let sysctl_before = std::fs::read_to_string(key).ok();
    let ns = Ns::new("sep");
    ns.veth("pfdlab0", "pfdlab1");
    assert_eq!(
        root_link.exists(),
        link_before,
        "the lab's veth appeared in the root namespace"
    );
    assert_eq!(
        std::fs::read_to_string(key).ok(),
        sysctl_before,
        "the root namespace's sysctl changed"
    );
    if sysctl_before.is_some() {
        let inside = ns.run(|| std::fs::read_to_string(key).expect("read inside"));
        assert_eq!(inside.trim(), "1", "the namespace's sysctl was not set");
    }
    let mac = ns.run(|| AfPacketPort::open("pfdlab0", &cfg()).map(|p| p.mac()));
    assert_eq!(mac.expect("open inside"), ns.mac("pfdlab0"));
}
