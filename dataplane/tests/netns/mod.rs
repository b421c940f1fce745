//! A throw-away lab of network namespaces joined by veth pairs, for the
//! AF_PACKET tests. Everything is created inside namespaces named for
//! this process and test, so the root namespace's interfaces are never
//! touched; dropping the lab deletes the namespaces and their links.
//! Only documentation prefixes (192.0.2.0/24, 198.51.100.0/24,
//! 203.0.113.0/24) are used.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// Whether the test may run: root, with `ip netns` working. When it
/// cannot, say so and skip, unless `CI` is set: there a skipped lab
/// test is a failed one.
pub fn can_run(test: &str) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        == Some("0");
    if root {
        return true;
    }
    let msg = format!("SKIP {test}: needs root (network namespaces and AF_PACKET)");
    assert!(std::env::var_os("CI").is_none(), "{msg}, and CI is set");
    eprintln!("{msg}");
    false
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip(8)");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One namespace.
pub struct Ns {
    pub name: String,
}

impl Ns {
    pub fn new(tag: &str) -> Ns {
        let name = format!("pfdt-{}-{tag}", std::process::id());
        // A namespace left by a crashed earlier run of the same pid.
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        ip(&["netns", "add", &name]);
        let ns = Ns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns.sysctl("net.ipv6.conf.all.disable_ipv6", "1");
        ns.sysctl("net.ipv6.conf.default.disable_ipv6", "1");
        ns
    }

    pub fn path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.name)
    }

    /// `ip -n <ns> args...`
    pub fn ip(&self, args: &[&str]) {
        let mut a = vec!["-n", self.name.as_str()];
        a.extend_from_slice(args);
        ip(&a);
    }

    /// Set a `net.` sysctl of this namespace: written from a thread
    /// inside it, as /proc/sys/net shows the writer's namespace (no
    /// sysctl(8) needed). A key the kernel lacks (IPv6 compiled out)
    /// is skipped: there is nothing to set.
    pub fn sysctl(&self, key: &str, val: &str) {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        let r = self.run(|| std::fs::write(&path, val));
        match r {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("sysctl {key}={val}: {e}"),
        }
    }

    /// A veth pair inside this namespace, both ends up, with offloads
    /// off so frames arrive as sent (no GRO super-frames).
    pub fn veth(&self, a: &str, b: &str) {
        self.ip(&["link", "add", a, "type", "veth", "peer", "name", b]);
        for dev in [a, b] {
            self.ethtool_off(dev);
            self.ip(&["link", "set", dev, "up"]);
        }
    }

    /// Move interface `dev` of this namespace into `other`.
    pub fn give(&self, dev: &str, other: &Ns) {
        self.ip(&["link", "set", dev, "netns", &other.name]);
        other.ethtool_off(dev);
        other.ip(&["link", "set", dev, "up"]);
    }

    fn ethtool_off(&self, dev: &str) {
        // Best effort: without ethtool the veth defaults (GRO off) hold.
        let _ = Command::new("ip")
            .args([
                "netns", "exec", &self.name, "ethtool", "-K", dev, "gro", "off", "tso", "off",
                "gso", "off",
            ])
            .output();
    }

    pub fn mac(&self, dev: &str) -> [u8; 6] {
        let out = Command::new("ip")
            .args(["-n", &self.name, "-o", "link", "show", dev])
            .output()
            .expect("run ip link show");
        let text = String::from_utf8_lossy(&out.stdout);
        let hex = text
            .split_whitespace()
            .skip_while(|w| *w != "link/ether")
            .nth(1)
            .unwrap_or_else(|| panic!("no MAC for {dev} in: {text}"));
        let mut mac = [0u8; 6];
        for (m, h) in mac.iter_mut().zip(hex.split(':')) {
            *m = u8::from_str_radix(h, 16).expect("MAC hex");
        }
        mac
    }

    /// The kernel's promiscuity count of `dev` (`ip -d link show`).
    pub fn promiscuity(&self, dev: &str) -> u32 {
        let out = Command::new("ip")
            .args(["-n", &self.name, "-d", "-o", "link", "show", dev])
            .output()
            .expect("run ip -d link show");
        let text = String::from_utf8_lossy(&out.stdout);
        text.split_whitespace()
            .skip_while(|w| *w != "promiscuity")
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no promiscuity for {dev} in: {text}"))
    }

    /// Run `f` on a thread that has entered this namespace; sockets it
    /// opens live here.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = self.path();
        std::thread::scope(|s| {
            s.spawn(move || {
                dataplane::port::afpacket::sys::enter_netns(&path).expect("setns");
                f()
            })
            .join()
            .expect("lab thread panicked")
        })
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}
