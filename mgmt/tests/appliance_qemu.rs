//! The appliance image, booted: `appliance/build-image.sh` builds one
//! kernel + initramfs from this build's binaries, and two qemu machines
//! boot it, one with `pfd.etc=fw1` and one with `pfd.etc=fw2`, each with
//! three NICs on the FAQ's segments (LAN, WAN, sync: bridges of tap
//! devices inside a namespace of the test's own). Read from their
//! serial consoles: fw1 becomes CARP master of both gateways and fw2
//! backup, pfsync's bulk update completes, a LAN client reaches the
//! gateway 192.0.2.1 and a WAN server through it, and opens a TCP
//! connection (NATed to the WAN's CARP address); fw1 powered off
//! (SIGKILL to its qemu), fw2 takes both gateways within a bounded
//! wait, the connection carries on through fw2 (its state came by
//! pfsync) and the client reaches the same places through fw2.
//!
//! KVM when /dev/kvm is backed by hardware virtualisation, qemu's
//! software emulation otherwise (`PFD_QEMU_ACCEL=kvm|tcg` decides).
//! Needs root, qemu-system-x86_64, cpio and dpkg-deb (`.ci/run`
//! installs them) and Debian's kernel package (the build script fetches
//! it once into target/appliance/cache). Skipped with a message when
//! they are missing, failed when CI is set.

#[path = "../../dataplane/tests/netns/mod.rs"]
mod netns;

use netns::Ns;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Booting both machines up to settled CARP roles and bulk updates:
/// generous for software emulation on a busy machine.
const BOOT: Duration = Duration::from_secs(240);
/// Three missed advertisements (advbase 1) and fw2's skew; the rest is
/// slack for emulation.
const FAILOVER: Duration = Duration::from_secs(30);

fn prerequisites(test: &str) -> bool {
    if !netns::can_run(test) {
        return false;
    }
    let missing: Vec<&str> = ["qemu-system-x86_64", "cpio", "dpkg-deb", "apt-get"]
        .into_iter()
        .filter(|t| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!(
        "SKIP {test}: needs {} (apt-get install qemu-system-x86 cpio)",
        missing.join(", ")
    );
    assert!(std::env::var_os("CI").is_none(), "{msg}, and CI is set");
    eprintln!("{msg}");
    false
}

/// KVM only where it can run an ordinary guest kernel: /dev/kvm backed
/// by VT-x or AMD-V (a /dev/kvm of another kind, such as a nested
/// sandbox's, cannot boot Debian's kernel).
fn accel() -> String {
    if let Ok(a) = std::env::var("PFD_QEMU_ACCEL") {
        return a;
    }
    let hw = ["/sys/module/kvm_intel", "/sys/module/kvm_amd"]
        .iter()
        .any(|m| Path::new(m).exists());
    if Path::new("/dev/kvm").exists() && hw {
        "kvm".into()
    } else {
        "tcg".into()
    }
}

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Build the image from this test's binaries into `dir`.
fn build_image(dir: &Path) -> (PathBuf, PathBuf) {
    let bins = dir.join("bin");
    std::fs::create_dir_all(&bins).unwrap();
    for (name, path) in [
        ("pfd", env!("CARGO_BIN_EXE_pfd")),
        ("pfctl", env!("CARGO_BIN_EXE_pfctl")),
        ("ifctl", env!("CARGO_BIN_EXE_ifctl")),
        ("pfd-init", env!("CARGO_BIN_EXE_pfd-init")),
    ] {
        std::os::unix::fs::symlink(path, bins.join(name)).unwrap();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../appliance/build-image.sh");
    let out = Command::new(script)
        .arg("--bin-dir")
        .arg(&bins)
        .arg("--out")
        .arg(dir)
        .output()
        .expect("run appliance/build-image.sh");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "build-image.sh:\n{text}");
    eprintln!("{}", text.trim_end());
    assert!(
        text.contains("virtio_net.ko") && text.contains("etc: fw1 fw2"),
        "{text}"
    );
    (dir.join("vmlinuz"), dir.join("initrd.img"))
}

/// One firewall: its qemu (killed by PID on drop) and serial console.
struct Vm {
    name: &'static str,
    qemu: Child,
    console: PathBuf,
    qemu_log: PathBuf,
}

impl Vm {
    /// Boot the image with `pfd.etc=NAME` in `sw`, NICs on the taps
    /// `{tap}l`, `{tap}w`, `{tap}s` in that order (eth0 LAN, eth1 WAN,
    /// eth2 sync).
    fn boot(
        name: &'static str,
        sw: &Ns,
        image: &(PathBuf, PathBuf),
        dir: &Path,
        tap: &str,
        n: u8,
    ) -> Vm {
        let console = dir.join(format!("{name}.console"));
        let qemu_log = dir.join(format!("{name}.qemu"));
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &sw.name, "qemu-system-x86_64"])
            .args(["-accel", &accel(), "-m", "256", "-smp", "1"])
            .args(["-nodefaults", "-no-user-config", "-no-reboot"])
            .args(["-nographic", "-monitor", "none"])
            .arg("-serial")
            .arg(format!("file:{}", console.display()))
            .arg("-kernel")
            .arg(&image.0)
            .arg("-initrd")
            .arg(&image.1)
            .args([
                "-append",
                &format!("console=ttyS0 quiet panic=-1 net.ifnames=0 pfd.etc={name}"),
            ]);
        for (i, seg) in ["l", "w", "s"].iter().enumerate() {
            cmd.arg("-netdev")
                .arg(format!(
                    "tap,id={seg},ifname={tap}{seg},script=no,downscript=no"
                ))
                .arg("-device")
                .arg(format!(
                    // romfile=: no iPXE; the kernel is loaded directly
                    "virtio-net-pci,netdev={seg},mac=52:54:00:00:0{n}:0{i},addr=0x{:x},romfile=",
                    3 + i
                ));
        }
        let log = std::fs::File::create(&qemu_log).unwrap();
        let qemu = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn qemu");
        Vm {
            name,
            qemu,
            console,
            qemu_log,
        }
    }

    fn console(&self) -> String {
        std::fs::read(&self.console)
            .map(|b| String::from_utf8_lossy(&b).replace('\r', ""))
            .unwrap_or_default()
    }

    fn count(&self, what: &str) -> usize {
        self.console().matches(what).count()
    }

    /// The console, and qemu's own words, for a failure message.
    fn report(&self) -> String {
        format!(
            "--- {} console ---\n{}\n--- {} qemu ---\n{}",
            self.name,
            self.console(),
            self.name,
            std::fs::read_to_string(&self.qemu_log).unwrap_or_default()
        )
    }

    /// Whether pfd's last word on `carp` is MASTER.
    fn is_master(&self, carp: &str) -> bool {
        let what = format!("{carp}: state transition: ");
        self.console()
            .lines()
            .rev()
            .find_map(|l| l.split_once(what.as_str()).map(|(_, t)| t.to_string()))
            .is_some_and(|t| t.trim_end().ends_with("-> MASTER"))
    }

    fn running(&mut self) -> bool {
        matches!(self.qemu.try_wait(), Ok(None))
    }

    /// Power off: SIGKILL to this qemu's PID, reaped.
    fn kill(&mut self) {
        let _ = self.qemu.kill();
        let _ = self.qemu.wait();
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Wait (bounded) until `done` holds; panics with both consoles if a
/// machine that should be running has stopped.
fn wait(vms: &mut [&mut Vm], within: Duration, what: &str, done: impl Fn(&[&mut Vm]) -> bool) {
    let t = Instant::now();
    loop {
        if done(vms) {
            eprintln!("{what}: {:.1} s", t.elapsed().as_secs_f64());
            return;
        }
        let stopped = vms.iter_mut().any(|v| !v.running());
        if stopped || t.elapsed() > within {
            let why = if stopped {
                "a machine stopped"
            } else {
                "timed out"
            };
            let reports: Vec<String> = vms.iter().map(|v| v.report()).collect();
            panic!("{what}: {why}\n{}", reports.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn ping(ns: &Ns, to: &str) -> Result<(), String> {
    let o = Command::new("ip")
        .args([
            "netns", "exec", &ns.name, "ping", "-n", "-c", "3", "-W", "3", to,
        ])
        .output()
        .expect("run ping");
    if o.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr))
    }
}

/// The client's neighbour entry for the gateway: the CARP virtual MAC
/// of vhid 1, whichever firewall answers.
fn gateway_mac(client: &Ns) -> String {
    let o = Command::new("ip")
        .args(["-n", &client.name, "neigh", "show", "192.0.2.1"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// An echo server on the WAN at 198.51.100.10:7000; each connection's
/// peer address as the server sees it comes out of the channel.
fn echo_server(ns: &Ns) -> std::sync::mpsc::Receiver<SocketAddr> {
    let l = ns
        .run(|| TcpListener::bind("198.51.100.10:7000"))
        .expect("bind the echo server");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { return };
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
    rx
}

/// One line through `conn` and back.
fn echo(conn: &mut (TcpStream, BufReader<TcpStream>), msg: &str) -> Result<(), String> {
    let mut line = String::new();
    writeln!(conn.0, "{msg}")
        .and_then(|_| conn.1.read_line(&mut line))
        .map_err(|e| format!("{msg}: {e}"))?;
    if line.trim_end() == msg {
        Ok(())
    } else {
        Err(format!("{msg}: echoed {line:?}"))
    }
}

#[test]
fn two_booted_images_elect_fw1_sync_and_fail_over_to_fw2() {
    let test = "two_booted_images_elect_fw1_sync_and_fail_over_to_fw2";
    if !prerequisites(test) {
        return;
    }
    let started = Instant::now();
    let scratch =
        Scratch(std::env::temp_dir().join(format!("pfd-appliance-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&scratch.0);
    std::fs::create_dir_all(&scratch.0).unwrap();
    let image = build_image(&scratch.0);

    // The segments: one bridge each in the switch namespace, a tap per
    // firewall NIC (qemu attaches to it), the client on the LAN and a
    // server on the WAN.
    let sw = Ns::new("qsw");
    let client = Ns::new("qcl");
    let server = Ns::new("qsv");
    for seg in ["l", "w", "s"] {
        let br = format!("br{seg}");
        sw.ip(&["link", "add", &br, "type", "bridge"]);
        sw.ip(&["link", "set", &br, "up"]);
        for fw in ["f1", "f2"] {
            let tap = format!("{fw}{seg}");
            sw.ip(&["tuntap", "add", "dev", &tap, "mode", "tap"]);
            sw.ip(&["link", "set", &tap, "master", &br, "up"]);
        }
    }
    for (port, ns, dev, br, addr, gw) in [
        ("pcl", &client, "cl0", "brl", "192.0.2.10/24", "192.0.2.1"),
        (
            "psv",
            &server,
            "sv0",
            "brw",
            "198.51.100.10/24",
            "198.51.100.1",
        ),
    ] {
        sw.veth(port, dev);
        sw.give(dev, ns);
        sw.ip(&["link", "set", port, "master", br]);
        ns.ip(&["addr", "add", addr, "dev", dev]);
        ns.ip(&["route", "add", "default", "via", gw]);
    }

    eprintln!("booting fw1 and fw2 ({})", accel());
    let mut fw1 = Vm::boot("fw1", &sw, &image, &scratch.0, "f1", 1);
    let mut fw2 = Vm::boot("fw2", &sw, &image, &scratch.0, "f2", 2);
    wait(&mut [&mut fw1, &mut fw2], BOOT, "both pfd running", |v| {
        v.iter()
            .all(|m| m.count("pfd: running on eth0 eth1 eth2") == 1)
    });
    wait(
        &mut [&mut fw1, &mut fw2],
        BOOT,
        "both bulk updates done",
        |v| {
            // a bulk update that gave up is not retried: no use waiting
            if let Some(m) = v
                .iter()
                .find(|m| m.count("pfsync0: bulk update failed") > 0)
            {
                panic!("{}'s bulk update failed:\n{}", m.name, m.report());
            }
            v.iter().all(|m| m.count("pfsync0: bulk update done") >= 1)
        },
    );
    let settled = |v: &[&mut Vm]| {
        v[0].is_master("carp0")
            && v[0].is_master("carp1")
            && !v[1].is_master("carp0")
            && !v[1].is_master("carp1")
    };
    wait(
        &mut [&mut fw1, &mut fw2],
        BOOT,
        "fw1 master of both gateways, fw2 backup",
        settled,
    );
    // and it stays so (no flapping once both have their tables)
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        settled(&[&mut fw1, &mut fw2]),
        "roles changed:\n{}\n{}",
        fw1.report(),
        fw2.report()
    );
    // The LAN reaches its gateway and, through it, the WAN.
    for to in ["192.0.2.1", "198.51.100.10"] {
        if let Err(e) = ping(&client, to) {
            panic!("client -> {to} through fw1: {e}\n{}", fw1.report());
        }
    }
    let mac = gateway_mac(&client);
    assert!(mac.contains("00:00:5e:00:01:01"), "gateway's MAC: {mac}");

    // A TCP connection through fw1, NATed to the WAN's CARP address;
    // pfsync carries its state to fw2.
    let peers = echo_server(&server);
    let to = SocketAddr::from(([198, 51, 100, 10], 7000));
    let s = client
        .run(|| TcpStream::connect_timeout(&to, Duration::from_secs(10)))
        .unwrap_or_else(|e| panic!("connect through fw1: {e}\n{}", fw1.report()));
    s.set_nodelay(true).unwrap();
    // long enough to ride out the failover's retransmissions
    s.set_read_timeout(Some(FAILOVER)).unwrap();
    let mut conn = (s.try_clone().unwrap(), BufReader::new(s));
    echo(&mut conn, "through fw1").unwrap();
    let peer = peers.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(peer.ip().to_string(), "198.51.100.1", "NATed to carp1");
    // pfsync sends its updates once a second
    std::thread::sleep(Duration::from_secs(3));

    // Power fw1 off; fw2 takes both gateways.
    let before = [
        fw2.count("carp0: state transition: BACKUP -> MASTER"),
        fw2.count("carp1: state transition: BACKUP -> MASTER"),
    ];
    fw1.kill();
    let killed = Instant::now();
    wait(
        &mut [&mut fw2],
        FAILOVER,
        "fw1 powered off: fw2 master of both gateways",
        |v| {
            v[0].count("carp0: state transition: BACKUP -> MASTER") > before[0]
                && v[0].count("carp1: state transition: BACKUP -> MASTER") > before[1]
        },
    );
    eprintln!(
        "failover: fw2 MASTER {:.1} s after fw1 was killed",
        killed.elapsed().as_secs_f64()
    );
    if let Err(e) = echo(&mut conn, "through fw2") {
        panic!("the connection after failover: {e}\n{}", fw2.report());
    }
    for to in ["192.0.2.1", "198.51.100.10"] {
        if let Err(e) = ping(&client, to) {
            panic!("client -> {to} through fw2: {e}\n{}", fw2.report());
        }
    }
    assert!(fw2.running(), "{}", fw2.report());
    eprintln!("{test}: {:.1} s", started.elapsed().as_secs_f64());
}
