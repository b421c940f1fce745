//! The whole appliance path on real interfaces: a worker running the
//! engine between two AF_PACKET ports in a firewall namespace, bridging
//! two hosts in namespaces of their own. The hosts' kernels do the
//! talking (ARP, UDP, ICMP), so what the worker forwards, drops and
//! generates is judged by real network stacks.

mod netns;

use std::io::ErrorKind;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dataplane::engine::{Action, Engine, EngineConfig, IfConfig, Packet, Toward};
use dataplane::pdesc::Dir;
use dataplane::port::afpacket::sys::enter_netns;
use dataplane::port::{AfPacketCfg, AfPacketPort};
use dataplane::wire::frame::Link;
use dataplane::worker::{self, Fate, FrameCtx, WorkerCfg, WorkerStats};
use netns::{can_run, Ns};
use ruleset::hostenv::RegressHost;
use ruleset::lexer::FsSource;
use ruleset::parse::{parse, ParseConfig};

const RULES: &str = "\
block return all
pass proto udp to port 7000
";

fn engine() -> Engine {
    let env = RegressHost::new();
    let cfg = ParseConfig {
        env: &env,
        files: &FsSource,
        anchor: String::new(),
        macros: Vec::new(),
        queues: Vec::new(),
    };
    let p = parse("t", RULES.as_bytes().to_vec(), &cfg);
    assert_eq!(p.errors, 0, "{:?}", p.stderr);
    let c = ruleset::compile::compile(&p).expect("compiles");
    let iface = |name: &str| IfConfig {
        name: name.into(),
        addrs: Vec::new(),
        groups: Vec::new(),
    };
    Engine::new(
        c,
        EngineConfig {
            interfaces: vec![iface("fa"), iface("fb")],
            link: Link::Ethernet,
            seed: 1,
        },
    )
    .expect("loads")
}

/// Sets `stop` when dropped, so a failing assertion cannot leave the
/// worker thread running and the test hanging in the scope's join.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn wait(flag: &AtomicBool, what: &str) {
    let t = Instant::now();
    while !flag.load(Ordering::Acquire) {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The bridge the daemon will run: the engine sees each frame inbound
/// on the port it came in by, then outbound on the other; what it
/// generates goes toward the sender or onward.
fn bridge<'e>(eng: &'e Engine) -> impl FnMut(&mut FrameCtx<'_>) -> Fate + 'e {
    let mut w = eng.worker();
    move |ctx: &mut FrameCtx<'_>| {
        let (inp, outp) = (ctx.port, 1 - ctx.port);
        for (ifindex, dir, other) in [(inp, Dir::In, outp), (outp, Dir::Out, inp)] {
            let v = eng.process(
                &mut w,
                ctx.now_ns,
                &mut Packet {
                    frame: &mut *ctx.frame,
                    ifindex,
                    dir,
                },
            );
            for e in &v.emit {
                // Seen inbound, the sender is behind the port it came
                // in on; seen outbound, the other way.
                let to = match (e.toward, dir) {
                    (Toward::Sender, Dir::In) | (Toward::Onward, Dir::Out) => ifindex,
                    _ => other,
                };
                ctx.emit(to, &e.frame);
            }
            if v.action != Action::Pass {
                return Fate::Drop;
            }
        }
        Fate::Forward(outp)
    }
}

/// h1 (203.0.113.1) -- fa [firewall: `workers` workers] fb -- h2
/// (203.0.113.2). `flows` UDP sockets on h1 each get five datagrams
/// echoed by h2 through the firewall; then one datagram to a blocked
/// port must be refused. Returns each worker's stats.
fn through_the_firewall(tag: &str, workers: usize, flows: usize) -> Vec<WorkerStats> {
    let fw = Ns::new(&format!("{tag}fw"));
    let h1 = Ns::new(&format!("{tag}h1"));
    let h2 = Ns::new(&format!("{tag}h2"));
    h1.veth("x0", "fa");
    h1.give("fa", &fw);
    h2.veth("x1", "fb");
    h2.give("fb", &fw);
    h1.ip(&["addr", "add", "203.0.113.1/24", "dev", "x0"]);
    h2.ip(&["addr", "add", "203.0.113.2/24", "dev", "x1"]);

    let eng = engine();
    let stop = AtomicBool::new(false);
    let fw_ready = AtomicUsize::new(0);
    let echo_ready = AtomicBool::new(false);
    std::thread::scope(|s| {
        let _guard = StopOnDrop(&stop);
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    enter_netns(&fw.path()).expect("setns fw");
                    // One fanout group per interface, shared by the workers.
                    let fan = |g| AfPacketCfg {
                        fanout_group: (workers > 1).then_some(g),
                        ..AfPacketCfg::default()
                    };
                    let mut ports = vec![
                        AfPacketPort::open("fa", &fan(101)).expect("open fa"),
                        AfPacketPort::open("fb", &fan(102)).expect("open fb"),
                    ];
                    fw_ready.fetch_add(1, Ordering::AcqRel);
                    let wcfg = WorkerCfg {
                        busy_poll_us: 20,
                        idle_backoff: Duration::from_millis(5),
                        ..WorkerCfg::default()
                    };
                    worker::run(&mut ports, bridge(&eng), &wcfg, &stop).expect("worker")
                })
            })
            .collect();
        let echo = s.spawn(|| {
            enter_netns(&h2.path()).expect("setns h2");
            let sock = UdpSocket::bind("203.0.113.2:7000").expect("bind echo");
            sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            echo_ready.store(true, Ordering::Release);
            let mut buf = [0u8; 1500];
            for _ in 0..flows * 5 {
                let (n, from) = sock.recv_from(&mut buf).expect("echo: nothing arrived");
                sock.send_to(&buf[..n], from).unwrap();
            }
        });
        let t = Instant::now();
        while fw_ready.load(Ordering::Acquire) < workers {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "timed out waiting for the workers' ports"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        wait(&echo_ready, "the echo server");
        h1.run(|| {
            let mut buf = [0u8; 1500];
            for f in 0..flows {
                let sock = UdpSocket::bind("203.0.113.1:0").unwrap();
                sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                sock.connect("203.0.113.2:7000").unwrap();
                for i in 0..5 {
                    let msg = format!("pfd-through-{f}-{i}");
                    sock.send(msg.as_bytes()).unwrap();
                    let n = sock.recv(&mut buf).expect("no echo through the firewall");
                    assert_eq!(&buf[..n], msg.as_bytes());
                }
            }
            // Port 7001 is blocked with `return`: the engine's ICMP port
            // unreachable, sent by the worker, makes the kernel refuse.
            let closed = UdpSocket::bind("203.0.113.1:0").unwrap();
            closed
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            closed.connect("203.0.113.2:7001").unwrap();
            closed.send(b"pfd-blocked").unwrap();
            let e = closed
                .recv(&mut buf)
                .expect_err("a blocked datagram was answered");
            assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
        });
        echo.join().expect("echo thread");
        stop.store(true, Ordering::Relaxed);
        handles
            .into_iter()
            .map(|h| h.join().expect("worker thread"))
            .collect()
    })
}

#[test]
fn engine_in_the_worker_bridges_passes_blocks_and_answers() {
    if !can_run("engine_in_the_worker_bridges_passes_blocks_and_answers") {
        return;
    }
    let st = through_the_firewall("w1", 1, 1);
    let stats = st[0];
    // Five datagrams each way, the ARP exchange, the blocked datagram.
    assert!(stats.rx >= 11, "{stats:?}");
    assert!(stats.tx >= 11, "{stats:?}");
    assert!(stats.dropped >= 1, "{stats:?}");
    assert_eq!(stats.bad_port, 0);
}

#[test]
fn two_fanout_workers_share_one_engine() {
    if !can_run("two_fanout_workers_share_one_engine") {
        return;
    }
    let st = through_the_firewall("w2", 2, 16);
    // 16 flows: both workers carried some (the chance that the kernel's
    // hash put all 16 on one worker is 2^-15).
    assert!(st.iter().all(|s| s.rx > 0), "{st:?}");
    let rx: u64 = st.iter().map(|s| s.rx).sum();
    // 16 flows x 5 datagrams each way, plus the blocked one.
    assert!(rx > 16 * 10, "{st:?}");
}
