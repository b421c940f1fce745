//! Running `pfd run` in a network namespace for end-to-end tests: its
//! etc directory, the process (killed on drop), the control socket.
#![allow(dead_code)]

use super::netns::Ns;
use dataplane::port::afpacket::sys::enter_netns;
use mgmt::control::{Client, Request, Response, ShowWhat};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The etc directory, removed on drop.
pub struct Etc(pub PathBuf);

impl Etc {
    /// The two-interface firewall of daemon_netns: veth0 192.0.2.1/24,
    /// veth1 198.51.100.1/24, forwarding on, `pf_conf`.
    pub fn new(tag: &str, pf_conf: &str) -> Etc {
        let dir = std::env::temp_dir().join(format!("pfd-run-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let w = |f: &str, t: &str| std::fs::write(dir.join(f), t).unwrap();
        w("hostname.veth0", "inet 192.0.2.1 255.255.255.0\nup\n");
        w("hostname.veth1", "inet 198.51.100.1 255.255.255.0\nup\n");
        w("sysctl.conf", "net.inet.ip.forwarding=1\n");
        w("pf.conf", pf_conf);
        Etc(dir)
    }
}

impl Etc {
    /// An etc directory holding exactly `files` (name, text).
    pub fn with(tag: &str, files: &[(&str, &str)]) -> Etc {
        let dir = std::env::temp_dir().join(format!("pfd-run-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (f, t) in files {
            std::fs::write(dir.join(f), t).unwrap();
        }
        Etc(dir)
    }
}

impl Drop for Etc {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `pfd run` inside a namespace; killed on drop if still running.
pub struct Pfd {
    pub child: Child,
    log: PathBuf,
}

impl Pfd {
    pub fn start(ns: &Ns, etc: &Path, sock: &Path, log: PathBuf) -> Pfd {
        Pfd::start_with(ns, etc, sock, log, &[])
    }

    pub fn start_with(ns: &Ns, etc: &Path, sock: &Path, log: PathBuf, extra: &[&str]) -> Pfd {
        let err = std::fs::File::create(&log).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &ns.name])
            .arg(env!("CARGO_BIN_EXE_pfd"))
            .args(["run", "--etc"])
            .arg(etc)
            .arg("--control")
            .arg(sock)
            .args(extra)
            .env("PFD_HOST_PROFILE", "system")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("spawn pfd");
        let mut p = Pfd { child, log };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Client::connect(sock).is_err() {
            if let Ok(Some(st)) = p.child.try_wait() {
                panic!("pfd exited at start ({st}): {}", p.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "no control socket: {}",
                p.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        p
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, and the exit status within a bounded wait.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let st = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(Instant::now() < deadline, "pfd did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Pfd {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

pub fn show(sock: &Path, what: ShowWhat) -> (String, Value) {
    let mut c = Client::connect(sock).unwrap();
    let r = c
        .call(&Request::Show {
            what,
            verbose: 0,
            anchor: None,
            rule: None,
            interface: None,
        })
        .unwrap();
    match r {
        Response::Ok { text, json } => (text.unwrap_or_default(), json.unwrap_or(Value::Null)),
        other => panic!("show {what:?}: {other:?}"),
    }
}

/// Run `f` on a thread inside `ns` (not waited for).
pub fn spawn_in<T: Send + 'static>(
    ns: &Ns,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    let path = ns.path();
    std::thread::spawn(move || {
        enter_netns(&path).expect("setns");
        f()
    })
}

pub fn ping(ns: &Ns, to: &str) -> bool {
    Command::new("ip")
        .args(["netns", "exec", &ns.name, "ping", "-c", "3", "-W", "1", to])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Two firewalls and a client on one LAN segment (a bridge in a
/// namespace of its own), for the CARP tests.
/// fw1 and fw2 (pfd on veth0) and a client (192.0.2.10) on one bridge.
pub struct Lan {
    pub _sw: Ns,
    pub fw1: Ns,
    pub fw2: Ns,
    pub client: Ns,
}

pub fn lan(tag: &str) -> Lan {
    let sw = Ns::new(&format!("{tag}sw"));
    let fw1 = Ns::new(&format!("{tag}f1"));
    let fw2 = Ns::new(&format!("{tag}f2"));
    let client = Ns::new(&format!("{tag}cl"));
    sw.ip(&["link", "add", "br0", "type", "bridge"]);
    sw.ip(&["link", "set", "br0", "up"]);
    for (port, ns, dev) in [
        ("p1", &fw1, "veth0"),
        ("p2", &fw2, "veth0"),
        ("p3", &client, "cl0"),
    ] {
        sw.veth(port, dev);
        sw.give(dev, ns);
        sw.ip(&["link", "set", port, "master", "br0"]);
    }
    client.ip(&["addr", "add", "192.0.2.10/24", "dev", "cl0"]);
    Lan {
        _sw: sw,
        fw1,
        fw2,
        client,
    }
}
