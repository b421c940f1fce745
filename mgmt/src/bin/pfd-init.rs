//! pfd-init: `/init` of the appliance image (appliance/build-image.sh).
//! It boots the machine as OpenBSD's rc and netstart would, with pfd
//! in place of the kernel's network stack: mounts /proc, /sys, /dev,
//! /run and /tmp; keeps the kernel's IPv6 off the interfaces (pfd
//! answers for their addresses itself, and the kernel must hold none);
//! loads the NIC drivers listed in /lib/modules/pfd-init.list; picks
//! the etc directory `pfd.etc=NAME` names (/etc/pfd/NAME); brings up lo
//! and each physical interface whose hostname file says so, renaming
//! nothing; then becomes `pfd run --etc DIR`. No shell is involved.
//!
//! On any error it says why on the console and powers the machine off.

use mgmt::appliance::{etc_dir, links_to_raise, rtnetlink};
use mgmt::etc::load_etc;
use rustix::mount::{mount, MountFlags};
use rustix::net::netlink::SocketAddrNetlink;
use rustix::net::{socket, AddressFamily, RecvFlags, SendFlags, SocketType};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::{Duration, Instant};

const ETC_ROOT: &str = "/etc/pfd";
const MODULES: &str = "/lib/modules/pfd-init.list";
const PFD: &str = "/bin/pfd";
/// How long a NIC named in a hostname file may take to appear once its
/// driver is loaded.
const LINK_WAIT: Duration = Duration::from_secs(10);

fn main() {
    let e = boot();
    eprintln!("pfd-init: {e}; powering off");
    std::thread::sleep(Duration::from_secs(1));
    let _ = rustix::system::reboot(rustix::system::RebootCommand::PowerOff);
    // Not pid 1 (a test run by hand): nothing to power off.
    std::process::exit(1);
}

/// Boot, ending in pfd; returns only with the reason it could not.
fn boot() -> String {
    if let Err(e) = mounts() {
        return e;
    }
    // Before the drivers load, so that no NIC ever gets a link-local
    // address or sends router solicitations of the kernel's.
    for conf in ["default", "all"] {
        let _ = std::fs::write(format!("/proc/sys/net/ipv6/conf/{conf}/disable_ipv6"), "1");
    }
    if let Err(e) = load_modules(Path::new(MODULES)) {
        return e;
    }
    let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
    let etc = match etc_dir(Path::new(ETC_ROOT), &cmdline, &subdirs(Path::new(ETC_ROOT))) {
        Ok(d) => d,
        Err(e) => return e,
    };
    let cfg = match load_etc(&etc) {
        Ok(c) => c,
        Err(e) => return format!("{}:\n{e}", etc.display()),
    };
    let nl = match Netlink::open() {
        Ok(n) => n,
        Err(e) => return format!("rtnetlink: {e}"),
    };
    let mut up = vec![("lo".to_string(), None)];
    up.extend(links_to_raise(&cfg));
    for (name, mtu) in &up {
        if let Err(e) = wait_for_link(name).and_then(|ix| nl.link_up(ix, *mtu)) {
            return format!("{name}: {e}");
        }
    }
    eprintln!(
        "pfd-init: {} up; starting pfd with {}",
        up.iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        etc.display()
    );
    let e = std::process::Command::new(PFD)
        .arg("run")
        .arg("--etc")
        .arg(&etc)
        .exec();
    format!("exec {PFD}: {e}")
}

fn mounts() -> Result<(), String> {
    let nodev = MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC;
    for (src, dir, fs, flags) in [
        ("proc", "/proc", "proc", nodev),
        ("sysfs", "/sys", "sysfs", nodev),
        ("devtmpfs", "/dev", "devtmpfs", MountFlags::NOSUID),
        (
            "tmpfs",
            "/run",
            "tmpfs",
            MountFlags::NOSUID | MountFlags::NODEV,
        ),
        (
            "tmpfs",
            "/tmp",
            "tmpfs",
            MountFlags::NOSUID | MountFlags::NODEV,
        ),
    ] {
        let _ = std::fs::create_dir_all(dir);
        mount(src, dir, fs, flags, None).map_err(|e| format!("mount {fs} on {dir}: {e}"))?;
    }
    Ok(())
}

/// Load each module file the list names, in order (the image builder
/// wrote them dependencies first). One the kernel already has is fine.
fn load_modules(list: &Path) -> Result<(), String> {
    let Ok(text) = std::fs::read_to_string(list) else {
        return Ok(()); // a kernel with the drivers built in
    };
    for ko in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let f = std::fs::File::open(ko).map_err(|e| format!("{ko}: {e}"))?;
        match rustix::system::finit_module(&f, c"", 0) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(format!("loading {ko}: {e}")),
        }
    }
    Ok(())
}

fn subdirs(root: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The interface's index once the kernel has it (bounded wait: a
/// driver's probe may still be running).
fn wait_for_link(name: &str) -> Result<u32, String> {
    let path = format!("/sys/class/net/{name}/ifindex");
    let start = Instant::now();
    loop {
        if let Some(ix) = std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return Ok(ix);
        }
        if start.elapsed() > LINK_WAIT {
            let have = std::fs::read_dir("/sys/class/net")
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ");
            return Err(format!(
                "no such interface after {LINK_WAIT:?} (the kernel has: {have})"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A NETLINK_ROUTE socket.
struct Netlink {
    fd: std::os::fd::OwnedFd,
    seq: std::cell::Cell<u32>,
}

impl Netlink {
    fn open() -> rustix::io::Result<Netlink> {
        // NETLINK_ROUTE is protocol 0: None.
        let fd = socket(AddressFamily::NETLINK, SocketType::RAW, None)?;
        Ok(Netlink {
            fd,
            seq: std::cell::Cell::new(0),
        })
    }

    fn link_up(&self, index: u32, mtu: Option<u32>) -> Result<(), String> {
        let seq = self.seq.get() + 1;
        self.seq.set(seq);
        let req = rtnetlink::link_up(index, mtu, seq);
        rustix::net::sendto(
            &self.fd,
            &req,
            SendFlags::empty(),
            &SocketAddrNetlink::new(0, 0),
        )
        .map_err(|e| format!("RTM_NEWLINK: {e}"))?;
        let mut buf = [0u8; 8192];
        loop {
            let (n, _) = rustix::net::recv(&self.fd, &mut buf[..], RecvFlags::empty())
                .map_err(|e| format!("RTM_NEWLINK answer: {e}"))?;
            match rtnetlink::parse_ack(&buf[..n], seq) {
                Some(rtnetlink::Ack::Ok) => return Ok(()),
                Some(rtnetlink::Ack::Refused(errno)) => {
                    return Err(format!(
                        "setting it up: {}",
                        std::io::Error::from_raw_os_error(errno)
                    ))
                }
                Some(rtnetlink::Ack::Other) => continue,
                None => return Err("a short rtnetlink answer".into()),
            }
        }
    }
}
