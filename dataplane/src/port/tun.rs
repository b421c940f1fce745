//! A TUN interface that only shows packets: pfd writes copies of IP
//! packets into it so that tcpdump, tshark or anything else with a
//! packet socket can watch them on an interface of their own (pfsync0
//! as OpenBSD has it). It is made with no address, IPv6 off, no
//! forwarding from it and strict reverse-path filtering, so the kernel
//! drops what arrives on it after the taps have seen it; pfd never
//! reads it. The interface goes when the descriptor closes (not
//! persistent), that is when pfd exits.
#![allow(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The clone device.
const TUN_DEV: &str = "/dev/net/tun";

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// An `ifreq` naming `name` (which must fit IFNAMSIZ with its NUL).
fn ifreq(name: &str) -> io::Result<libc::ifreq> {
    // SAFETY: ifreq is a C struct of byte arrays and a union of plain
    // integers and pointers, for which all-zero is valid.
    let mut req: libc::ifreq = unsafe { MaybeUninit::zeroed().assume_init() };
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= req.ifr_name.len() || bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "interface name must be 1 to 15 bytes",
        ));
    }
    for (d, s) in req.ifr_name.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    Ok(req)
}

/// A raw-IP TUN interface (IFF_TUN | IFF_NO_PI) that copies are written
/// into.
#[derive(Debug)]
pub struct TunMirror {
    file: File,
    name: String,
}

impl TunMirror {
    /// Make interface `name` in the calling thread's network namespace
    /// and bring it up. Fails with `AlreadyExists` when an interface of
    /// that name is there already (it is never taken over).
    pub fn create(name: &str) -> io::Result<TunMirror> {
        let mut req = ifreq(name)?;
        if Path::new("/sys/class/net").join(name).exists() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("an interface named {name} exists already"),
            ));
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(TUN_DEV)
            .map_err(|e| io::Error::new(e.kind(), format!("{TUN_DEV}: {e}")))?;
        // IFF_TUN_EXCL: fail rather than attach to a device of that name
        // made since the look above
        req.ifr_ifru.ifru_flags = (libc::IFF_TUN | libc::IFF_NO_PI | libc::IFF_TUN_EXCL) as i16;
        // SAFETY: `req` is a valid, NUL-terminated ifreq for the whole
        // call; TUNSETIFF reads the name and flags and writes back the
        // name, within the struct.
        cvt(unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &mut req) }).map_err(|e| {
            if e.raw_os_error() == Some(libc::EBUSY) {
                io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("an interface named {name} exists already"),
                )
            } else {
                io::Error::new(e.kind(), format!("TUNSETIFF {name}: {e}"))
            }
        })?;
        quiet_sysctls(name);
        set_up(name)?;
        Ok(TunMirror {
            file,
            name: name.to_string(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Put one IP packet on the interface. Never blocks: a full queue
    /// is an error (`WouldBlock`) for the caller to count.
    pub fn write(&self, ip: &[u8]) -> io::Result<()> {
        let n = (&self.file).write(ip)?;
        if n == ip.len() {
            Ok(())
        } else {
            Err(io::Error::new(io::ErrorKind::WriteZero, "short write"))
        }
    }
}

/// The kernel is to drop whatever arrives on the interface: no IPv6
/// (no link-local address, no router or listener reports of its own on
/// the interface either), no forwarding from it, strict reverse-path
/// check. Best effort: where /proc/sys cannot be written (a read-only
/// mount), the interface still has no address and only shows packets.
fn quiet_sysctls(name: &str) {
    for (path, val) in [
        (format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6"), "1"),
        (format!("/proc/sys/net/ipv4/conf/{name}/forwarding"), "0"),
        (format!("/proc/sys/net/ipv4/conf/{name}/rp_filter"), "1"),
    ] {
        let _ = std::fs::write(path, val);
    }
}

/// `ifconfig NAME up` (SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP).
fn set_up(name: &str) -> io::Result<()> {
    // SAFETY: plain system call with constant arguments; the returned
    // descriptor is checked and then owned exactly once.
    let fd = cvt(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: `fd` was just returned by socket(2) and nothing else owns it.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut req = ifreq(name)?;
    // SAFETY: `req` is a valid, NUL-terminated ifreq for the call;
    // SIOCGIFFLAGS writes only `ifr_ifru.ifru_flags`.
    cvt(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) })?;
    // SAFETY: the kernel has just written the union's `ifru_flags`.
    let flags = unsafe { req.ifr_ifru.ifru_flags };
    req.ifr_ifru.ifru_flags = flags | libc::IFF_UP as i16;
    // SAFETY: as above; SIOCSIFFLAGS reads the name and the flags.
    cvt(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) })
        .map_err(|e| io::Error::new(e.kind(), format!("{name} up: {e}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_fit_ifnamsiz() {
        assert!(ifreq("pfsync0").is_ok());
        assert!(ifreq("fifteen-bytes-x").is_ok());
        for bad in ["", "sixteen-bytes-xx", "a\0b"] {
            assert_eq!(
                ifreq(bad).unwrap_err().kind(),
                io::ErrorKind::InvalidInput,
                "{bad:?}"
            );
        }
    }
}
