//! Every system call the ports and workers make, behind safe wrappers.
//! Kept in one file so the `unsafe` to audit is in one place: the rest
//! of the crate (including the worker loop) stays free of it.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::mem::{size_of, MaybeUninit};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::time::Duration;

/// Turn a `-1` return into the thread's `errno`.
fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// An `AF_PACKET` raw socket that receives nothing until bound with a
/// protocol: rings must be set up before frames start to queue.
pub(crate) fn packet_socket() -> io::Result<OwnedFd> {
    // SAFETY: plain system call with constant arguments; the returned
    // descriptor is checked and then owned exactly once.
    let fd = cvt(unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: `fd` was just returned by socket(2) and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `setsockopt(SOL_PACKET, opt, val)` for any plain-data option value.
pub(crate) fn set_packet_opt<T: Copy>(fd: &OwnedFd, opt: libc::c_int, val: &T) -> io::Result<()> {
    let len = libc::socklen_t::try_from(size_of::<T>())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "option too large"))?;
    // SAFETY: `val` points to `len` readable bytes of a `Copy` (plain
    // data) value that outlives the call; the kernel only reads them.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            opt,
            (val as *const T).cast(),
            len,
        )
    })?;
    Ok(())
}

/// Bind to interface `ifindex`, receiving `protocol` (host order;
/// 0 = nothing, as for a transmit-only socket).
pub(crate) fn bind_packet(fd: &OwnedFd, ifindex: u32, protocol: u16) -> io::Result<()> {
    let mut sll = zeroed_sll();
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = protocol.to_be();
    sll.sll_ifindex = i32::try_from(ifindex)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "ifindex out of range"))?;
    // SAFETY: `sll` is a fully initialised sockaddr_ll on the stack and
    // the length passed is its size.
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sll as *const libc::sockaddr_ll).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

fn zeroed_sll() -> libc::sockaddr_ll {
    // SAFETY: sockaddr_ll is plain integers and byte arrays, for which
    // all-zero is a valid value.
    unsafe { MaybeUninit::<libc::sockaddr_ll>::zeroed().assume_init() }
}

/// The hardware address a bound packet socket's interface has
/// (`getsockname` on `AF_PACKET` reports the device's address).
pub(crate) fn bound_mac(fd: &OwnedFd) -> io::Result<[u8; 6]> {
    let mut sll = zeroed_sll();
    let mut len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: `sll` and `len` are valid for writes; `len` holds the size
    // of the buffer and the kernel writes at most that much.
    cvt(unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            (&mut sll as *mut libc::sockaddr_ll).cast(),
            &mut len,
        )
    })?;
    if sll.sll_halen != 6 {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "interface has a {}-byte hardware address, not Ethernet",
                sll.sll_halen
            ),
        ));
    }
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&sll.sll_addr[..6]);
    Ok(mac)
}

/// The index of interface `name` in the calling thread's network
/// namespace.
pub(crate) fn ifindex(name: &str) -> io::Result<u32> {
    let c = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface name has a NUL"))?;
    // SAFETY: `c` is a valid NUL-terminated string for the whole call.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if idx == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(idx)
}

/// The MTU of interface `name` (ioctl SIOCGIFMTU on any socket of the
/// interface's namespace).
pub(crate) fn mtu(fd: &OwnedFd, name: &str) -> io::Result<u32> {
    // SAFETY: ifreq is a C struct of byte arrays and a union of plain
    // integers and pointers, for which all-zero is valid.
    let mut req: libc::ifreq = unsafe { MaybeUninit::zeroed().assume_init() };
    let bytes = name.as_bytes();
    if bytes.len() >= req.ifr_name.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "interface name too long",
        ));
    }
    for (d, s) in req.ifr_name.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    // SAFETY: `req` is a valid, NUL-terminated ifreq for the duration of
    // the call; SIOCGIFMTU writes only `ifr_ifru.ifru_mtu`.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFMTU, &mut req) })?;
    // SAFETY: the kernel has just written the union's `ifru_mtu` member.
    let mtu = unsafe { req.ifr_ifru.ifru_mtu };
    u32::try_from(mtu).map_err(|_| io::Error::other("negative MTU"))
}

/// Ask the kernel to transmit every frame marked ready in the socket's
/// TX ring, without waiting for them to leave.
pub(crate) fn kick_tx(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: a zero-length send with no buffer and no address: the
    // kernel reads the frames from the TX ring it owns the mapping of.
    let r = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            std::ptr::null(),
            0,
            libc::MSG_DONTWAIT,
            std::ptr::null(),
            0,
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        // A full device queue: the frames stay marked and go next kick.
        if e.kind() == io::ErrorKind::WouldBlock || e.raw_os_error() == Some(libc::ENOBUFS) {
            return Ok(());
        }
        return Err(e);
    }
    Ok(())
}

/// A shared mapping of a packet socket's ring, unmapped on drop.
pub(crate) struct RingMap {
    base: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory shared with the kernel; the owner
// accesses it only through `&mut self` methods of the ring that holds
// it, so moving it to another thread is as safe as moving a Vec.
unsafe impl Send for RingMap {}

impl RingMap {
    /// Map the `len` bytes of the ring set up on `fd`.
    pub(crate) fn new(fd: &OwnedFd, len: usize) -> io::Result<RingMap> {
        // SAFETY: a fresh shared mapping of the socket's ring; the
        // kernel checks `len` against the ring it allocated, and the
        // result is checked for MAP_FAILED before use.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_LOCKED | libc::MAP_POPULATE,
                fd.as_raw_fd(),
                0,
            )
        };
        let p = if p == libc::MAP_FAILED {
            // MAP_LOCKED fails under a small RLIMIT_MEMLOCK; the ring
            // works unlocked, only with the risk of a page fault.
            // SAFETY: as above, without MAP_LOCKED.
            let q = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED | libc::MAP_POPULATE,
                    fd.as_raw_fd(),
                    0,
                )
            };
            if q == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            q
        } else {
            p
        };
        let base =
            NonNull::new(p.cast::<u8>()).ok_or_else(|| io::Error::other("mmap returned NULL"))?;
        Ok(RingMap { base, len })
    }

    /// The status word at byte `off` (the first field of every ring
    /// header), shared with the kernel: read with acquire, written with
    /// release, so frame contents are ordered around it.
    pub(crate) fn status(&self, off: usize) -> &std::sync::atomic::AtomicU32 {
        assert!(off.is_multiple_of(4) && off.checked_add(4).is_some_and(|e| e <= self.len));
        // SAFETY: in bounds and 4-aligned (asserted; the mapping is
        // page-aligned); the kernel accesses this word atomically too,
        // and the reference lives no longer than `&self`, i.e. the mapping.
        unsafe {
            &*self
                .base
                .as_ptr()
                .add(off)
                .cast::<std::sync::atomic::AtomicU32>()
        }
    }

    /// Read a `u32` or `u16` header field at byte `off`; `None` if out
    /// of the mapping (a corrupt offset from the ring is never trusted).
    pub(crate) fn read_u32(&self, off: usize) -> Option<u32> {
        let b = self.bytes(off, 4)?;
        Some(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn read_u16(&self, off: usize) -> Option<u16> {
        let b = self.bytes(off, 2)?;
        Some(u16::from_ne_bytes([b[0], b[1]]))
    }

    /// `len` bytes at `off`, or `None` if they are not all inside the
    /// mapping. Only called for a block or frame the kernel has handed
    /// to user space (status checked with acquire), so it does not write
    /// them concurrently.
    pub(crate) fn bytes(&self, off: usize, len: usize) -> Option<&[u8]> {
        let end = off.checked_add(len)?;
        if end > self.len {
            return None;
        }
        // SAFETY: `off..end` is inside the mapping (checked above), the
        // mapping lives as long as `&self`, and the region belongs to
        // user space per the ring protocol (see above).
        Some(unsafe { std::slice::from_raw_parts(self.base.as_ptr().add(off), len) })
    }

    /// Writable `len` bytes at `off` for a TX frame slot we own.
    pub(crate) fn bytes_mut(&mut self, off: usize, len: usize) -> Option<&mut [u8]> {
        let end = off.checked_add(len)?;
        if end > self.len {
            return None;
        }
        // SAFETY: in bounds (checked), unique through `&mut self`, and the
        // slot's status says the kernel is not using it.
        Some(unsafe { std::slice::from_raw_parts_mut(self.base.as_ptr().add(off), len) })
    }

    pub(crate) fn write_u32(&mut self, off: usize, v: u32) -> bool {
        match self.bytes_mut(off, 4) {
            Some(b) => {
                b.copy_from_slice(&v.to_ne_bytes());
                true
            }
            None => false,
        }
    }
}

impl Drop for RingMap {
    fn drop(&mut self) {
        // SAFETY: exactly the region mmap returned; no reference into it
        // outlives `self` (they all borrow it).
        unsafe {
            libc::munmap(self.base.as_ptr().cast(), self.len);
        }
    }
}

/// The descriptors an idle worker sleeps on, set up once.
pub struct Poller {
    fds: Vec<libc::pollfd>,
}

impl Poller {
    pub fn new(fds: &[RawFd]) -> Poller {
        Poller {
            fds: fds
                .iter()
                .map(|&fd| libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect(),
        }
    }

    /// Wait up to `timeout` (in whole milliseconds, at least 1 unless
    /// zero) for any descriptor to become readable; returns how many
    /// are. With no descriptors it simply sleeps.
    pub fn wait(&mut self, timeout: Duration) -> io::Result<usize> {
        let ms = match timeout.as_millis() {
            0 if !timeout.is_zero() => 1,
            m => libc::c_int::try_from(m).unwrap_or(libc::c_int::MAX),
        };
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd entries
        // for the duration of the call.
        let r = unsafe { libc::poll(self.fds.as_mut_ptr(), self.fds.len() as libc::nfds_t, ms) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(0);
            }
            return Err(e);
        }
        Ok(r as usize)
    }
}

/// Pin the calling thread to CPU `core`.
pub fn pin_current_thread(core: usize) -> io::Result<()> {
    if core >= libc::CPU_SETSIZE as usize {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "core number too large",
        ));
    }
    // SAFETY: cpu_set_t is a plain bit array; all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { MaybeUninit::zeroed().assume_init() };
    // SAFETY: `core` is below CPU_SETSIZE (checked above).
    unsafe { libc::CPU_SET(core, &mut set) };
    // SAFETY: pid 0 is the calling thread; `set` is valid and its size
    // is passed.
    cvt(unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) })?;
    Ok(())
}

/// Monotonic time in nanoseconds: the `now_ns` the worker reads once
/// per burst and passes down.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is valid for writes; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// Move the calling thread into the network namespace `path` refers to
/// (e.g. `/run/netns/NAME`): sockets it opens afterwards live there.
/// Only this thread moves; the rest of the process stays put.
pub fn enter_netns(path: &std::path::Path) -> io::Result<()> {
    let f = std::fs::File::open(path)?;
    // SAFETY: `f` is an open namespace file for the whole call; setns
    // only changes the calling thread's namespace.
    cvt(unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) })?;
    Ok(())
}

/// The receive ring's counters (`PACKET_STATISTICS`); reading resets
/// them in the kernel.
pub(crate) fn packet_stats_v3(fd: &OwnedFd) -> io::Result<libc::tpacket_stats_v3> {
    let mut s = libc::tpacket_stats_v3 {
        tp_packets: 0,
        tp_drops: 0,
        tp_freeze_q_cnt: 0,
    };
    let mut len = size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
    // SAFETY: `s` and `len` are valid for writes and `len` is the size of
    // `s`; the kernel writes at most that many bytes.
    cvt(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_STATISTICS,
            (&mut s as *mut libc::tpacket_stats_v3).cast(),
            &mut len,
        )
    })?;
    Ok(s)
}

/// The system's page size: ring blocks must be multiples of it.
pub(crate) fn page_size() -> u32 {
    // SAFETY: sysconf reads a constant of the running system.
    let r = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u32::try_from(r).ok().filter(|&p| p > 0).unwrap_or(4096)
}
