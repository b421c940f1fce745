//! The whole appliance path on real interfaces: a worker running the
//! engine between two AF_PACKET ports in a firewall namespace, bridging
//! two hosts in namespaces of their own. The hosts' kernels do the
//! talking (ARP, UDP, ICMP), so what the worker forwards, drops and
//! generates is judged by real network stacks.

mod netns;

use std::io::ErrorKind;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use dataplane::engine::{Action, Engine, EngineConfig, IfConfig, Packet, Toward};
use dataplane::pdesc::Dir;
use dataplane::port::afpacket::sys::enter_netns;
use dataplane::port::{AfPacketCfg, AfPacketPort};
use dataplane::wire::frame::Link;
use dataplane::worker::{self, Fate, FrameCtx, WorkerCfg};
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

#[test]
fn engine_in_the_worker_bridges_passes_blocks_and_answers() {
    if !can_run("engine_in_the_worker_bridges_passes_blocks_and_answers") {
        return;
    }
    let fw = Ns::new("wfw");
    let h1 = Ns::new("wh1");
    let h2 = Ns::new("wh2");
    h1.veth("x0", "fa");
    h1.give("fa", &fw);
    h2.veth("x1", "fb");
    h2.give("fb", &fw);
    h1.ip(&["addr", "add", "203.0.113.1/24", "dev", "x0"]);
    h2.ip(&["addr", "add", "203.0.113.2/24", "dev", "x1"]);

    let eng = engine();
    let stop = AtomicBool::new(false);
    let fw_ready = AtomicBool::new(false);
    let echo_ready = AtomicBool::new(false);
    let stats = std::thread::scope(|s| {
        let _guard = StopOnDrop(&stop);
        let worker = s.spawn(|| {
            enter_netns(&fw.path()).expect("setns fw");
            let cfg = AfPacketCfg::default();
            let mut ports = vec![
                AfPacketPort::open("fa", &cfg).expect("open fa"),
                AfPacketPort::open("fb", &cfg).expect("open fb"),
            ];
            fw_ready.store(true, Ordering::Release);
            let mut w = eng.worker();
            let bridge = |ctx: &mut FrameCtx<'_>| {
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
                        // Seen inbound, the sender is behind the port
                        // it came in on; seen outbound, the other way.
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
            };
            let wcfg = WorkerCfg {
                busy_poll_us: 20,
                idle_backoff: Duration::from_millis(5),
                ..WorkerCfg::default()
            };
            worker::run(&mut ports, bridge, &wcfg, &stop).expect("worker")
        });
        let echo = s.spawn(|| {
            enter_netns(&h2.path()).expect("setns h2");
            let sock = UdpSocket::bind("203.0.113.2:7000").expect("bind echo");
            sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            echo_ready.store(true, Ordering::Release);
            let mut buf = [0u8; 1500];
            for _ in 0..5 {
                let (n, from) = sock.recv_from(&mut buf).expect("echo: nothing arrived");
                sock.send_to(&buf[..n], from).unwrap();
            }
        });
        wait(&fw_ready, "the worker's ports");
        wait(&echo_ready, "the echo server");
        h1.run(|| {
            let sock = UdpSocket::bind("203.0.113.1:0").unwrap();
            sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            sock.connect("203.0.113.2:7000").unwrap();
            let mut buf = [0u8; 1500];
            for i in 0..5 {
                let msg = format!("pfd-through-{i}");
                sock.send(msg.as_bytes()).unwrap();
                let n = sock.recv(&mut buf).expect("no echo through the firewall");
                assert_eq!(&buf[..n], msg.as_bytes());
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
        worker.join().expect("worker thread")
    });
    // Five datagrams each way, the ARP exchange, the blocked datagram.
    assert!(stats.rx >= 11, "{stats:?}");
    assert!(stats.tx >= 11, "{stats:?}");
    assert!(stats.dropped >= 1, "{stats:?}");
    assert_eq!(stats.bad_port, 0);
}
