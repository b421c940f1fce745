//! The outside world of the ucarp interop test: ucarp (Debian's
//! package) as a CARP peer in a namespace, a tcpdump capture on the
//! LAN's bridge, and tshark's reading of it. Every process is started
//! here, waited for with a deadline and stopped by its PID.
#![allow(dead_code)]

use super::netns::Ns;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether `tool` is on PATH. Missing, the test is skipped with a
/// message, or fails when CI is set (.ci/run installs them).
pub fn have(test: &str, tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        let msg = format!("SKIP {test}: {tool} is not installed");
        assert!(std::env::var_os("CI").is_none(), "{msg}, and CI is set");
        eprintln!("{msg}");
    }
    found
}

/// A process of the test with its output in a file; SIGKILLed on drop
/// if still running.
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    /// `ip netns exec <ns> args...`, stdout and stderr both to `log`.
    pub fn spawn(ns: &Ns, args: &[&str], log: PathBuf) -> Proc {
        let out = File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &ns.name])
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", args[0]));
        Proc { child, log }
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait (bounded) until the output says `what`.
    pub fn wait_for(&self, what: &str, within: Duration) -> bool {
        wait_until(within, || self.output().contains(what))
    }

    /// Send `sig` (by PID) and wait for the exit, at most 5 s.
    pub fn signal_and_wait(&mut self, sig: &str) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(Instant::now() < deadline, "no exit on SIG{sig}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL, as a crash.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn wait_until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while t.elapsed() < within {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

/// A ucarp node: its up/down scripts add and remove the address on
/// `dev` (ucarp runs them synchronously) and note each call in
/// `hooks.log` beside them.
pub struct Ucarp {
    pub proc: Proc,
    pub dir: PathBuf,
}

pub struct UcarpArgs<'a> {
    pub dev: &'a str,
    pub srcip: &'a str,
    pub vhid: u8,
    pub pass: &'a str,
    pub addr: &'a str,
    pub advbase: u8,
    pub advskew: u8,
}

impl Ucarp {
    /// The spec's command line (ucarp-interop.md §2), without preempt.
    pub fn start(ns: &Ns, tag: &str, a: &UcarpArgs<'_>) -> Ucarp {
        let dir = std::env::temp_dir().join(format!("pfd-ucarp-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let hooks = dir.join("hooks.log");
        let script = |name: &str, verb: &str| {
            let p = dir.join(name);
            let text = format!(
                "#!/bin/sh\necho \"{name} $1 $2\" >> {}\nip addr {verb} \"$2\"/24 dev \"$1\" 2>/dev/null\nexit 0\n",
                hooks.display()
            );
            std::fs::write(&p, text).unwrap();
            let _ = Command::new("chmod").arg("+x").arg(&p).status();
            p
        };
        let up = script("up.sh", "add");
        let down = script("down.sh", "del");
        let args = [
            "stdbuf".to_string(),
            "-oL".into(),
            "-eL".into(),
            "ucarp".into(),
            format!("--interface={}", a.dev),
            format!("--srcip={}", a.srcip),
            format!("--vhid={}", a.vhid),
            format!("--pass={}", a.pass),
            format!("--addr={}", a.addr),
            format!("--advbase={}", a.advbase),
            format!("--advskew={}", a.advskew),
            format!("--upscript={}", up.display()),
            format!("--downscript={}", down.display()),
            "--shutdown".into(),
            "--facility=none".into(),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let proc = Proc::spawn(ns, &args, dir.join("ucarp.log"));
        Ucarp { proc, dir }
    }

    /// Every up/down script call so far, one per line.
    pub fn hooks(&self) -> String {
        std::fs::read_to_string(self.dir.join("hooks.log")).unwrap_or_default()
    }
}

impl Drop for Ucarp {
    fn drop(&mut self) {
        if let Ok(None) = self.proc.child.try_wait() {
            let _ = self.proc.child.kill();
            let _ = self.proc.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// tcpdump writing a pcap of `dev` in `ns`. In immediate mode: by
/// default libpcap hands over frames in blocks up to 1 s late, and a
/// tcpdump stopped within that second loses them (a bow-out advert
/// sent just before the stop went missing that way).
pub struct Capture {
    proc: Proc,
    pub pcap: PathBuf,
}

impl Capture {
    pub fn start(ns: &Ns, dev: &str, filter: &str, pcap: PathBuf) -> Capture {
        let p = pcap.display().to_string();
        let proc = Proc::spawn(
            ns,
            &[
                "tcpdump",
                "-i",
                dev,
                "--immediate-mode",
                "-U",
                "-s0",
                "-n",
                "-w",
                &p,
                filter,
            ],
            pcap.with_extension("log"),
        );
        assert!(
            proc.wait_for("listening on", Duration::from_secs(10)),
            "tcpdump did not start: {}",
            proc.output()
        );
        Capture { proc, pcap }
    }

    /// Stop it (SIGINT: it flushes and closes the file).
    pub fn stop(&mut self) {
        self.proc.signal_and_wait("INT");
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.pcap);
        let _ = std::fs::remove_file(&self.proc.log);
    }
}

/// One frame of the capture as tshark decodes it with CARP tried first
/// (`-o ip.try_heuristic_first:TRUE`; otherwise protocol 112 reads as
/// VRRP): its time, Ethernet source, and the CARP fields, or `None`
/// where tshark saw no CARP.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub time: f64,
    pub eth_src: String,
    pub ip_src: String,
    pub carp: Option<CarpFields>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarpFields {
    pub version: u8,
    pub typ: u8,
    pub vhid: u8,
    pub advskew: u8,
    pub authlen: u8,
    pub demote: u8,
    pub advbase: u8,
    /// tshark's checksum verdict: "1" (good), "0" (bad), ...
    pub checksum_status: String,
}

/// The IP protocol 112 frames of `pcap`, decoded by tshark.
pub fn tshark_carp(pcap: &Path) -> Vec<Decoded> {
    let fields = [
        "frame.time_epoch",
        "eth.src",
        "ip.src",
        "carp.version",
        "carp.type",
        "carp.vhid",
        "carp.advskew",
        "carp.authlen",
        "carp.demotion",
        "carp.adver_int",
        "carp.checksum.status",
    ];
    let mut cmd = Command::new("tshark");
    cmd.args(["-o", "ip.try_heuristic_first:TRUE", "-n", "-r"])
        .arg(pcap)
        .args([
            "-Y",
            "ip.proto == 112",
            "-T",
            "fields",
            "-E",
            "separator=\t",
        ]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let o = cmd.output().expect("run tshark");
    assert!(
        o.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            let n = |i: usize| c.get(i).and_then(|s| s.parse::<u8>().ok());
            let carp = (|| {
                Some(CarpFields {
                    version: n(3)?,
                    typ: n(4)?,
                    vhid: n(5)?,
                    advskew: n(6)?,
                    authlen: n(7)?,
                    demote: n(8)?,
                    advbase: n(9)?,
                    checksum_status: c.get(10)?.to_string(),
                })
            })();
            Decoded {
                time: c.first().and_then(|s| s.parse().ok()).unwrap_or(0.0),
                eth_src: c.get(1).unwrap_or(&"").to_string(),
                ip_src: c.get(2).unwrap_or(&"").to_string(),
                carp,
            }
        })
        .collect()
}

/// Runs of adverts by sender, in capture order: (sender, adverts).
/// One master at a time shows as one run per mastership.
pub fn runs(frames: &[Decoded]) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for f in frames {
        match out.last_mut() {
            Some((s, n)) if *s == f.eth_src => *n += 1,
            _ => out.push((f.eth_src.clone(), 1)),
        }
    }
    out
}
