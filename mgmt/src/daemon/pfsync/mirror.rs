//! pfsync0 for tcpdump: OpenBSD taps every pfsync packet it sends onto
//! its pfsync0 interface; pfd writes a copy of each packet it sends and
//! of each it takes from the peer into a TUN interface (`mirror NAME`
//! in hostname.pfsync0, pfsync0 unless set, `-mirror` for none), where
//! tcpdump and tshark can watch them. The copies are whole IPv4 packets
//! (raw IP, not OpenBSD's DLT_PFSYNC); ours carry the syncdev's address
//! as source, the peer's its own. A write never blocks the pfsync
//! thread: one that fails is counted and the copy dropped.

use dataplane::port::TunMirror;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The interface and what went into it.
#[derive(Debug)]
pub struct Mirror {
    tun: TunMirror,
    sent: AtomicU64,
    taken: AtomicU64,
    failed: AtomicU64,
}

/// The mirror's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MirrorStats {
    /// Copies of packets sent to the peer.
    pub sent: u64,
    /// Copies of packets taken from the peer.
    pub taken: u64,
    /// Copies the interface refused (full queue, or gone).
    pub failed: u64,
}

impl Mirror {
    /// Make interface `name` in pfd's namespace; a name in use there is
    /// refused, never taken over.
    pub fn create(name: &str) -> Result<Mirror, String> {
        let tun = TunMirror::create(name).map_err(|e| {
            format!(
                "pfsync0: mirror {name}: {e} (another name with `mirror NAME` in hostname.pfsync0, or none with `-mirror`)"
            )
        })?;
        Ok(Mirror {
            tun,
            sent: AtomicU64::new(0),
            taken: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        })
    }

    pub fn name(&self) -> &str {
        self.tun.name()
    }

    /// A copy of a packet sent, from its IPv4 header on.
    pub fn sent(&self, ip: &[u8]) {
        self.copy(ip, &self.sent);
    }

    /// A copy of a packet taken from the peer, as it arrived.
    pub fn taken(&self, ip: &[u8]) {
        self.copy(ip, &self.taken);
    }

    fn copy(&self, ip: &[u8], ok: &AtomicU64) {
        match self.tun.write(ip) {
            Ok(()) => ok.fetch_add(1, Relaxed),
            Err(_) => self.failed.fetch_add(1, Relaxed),
        };
    }

    pub fn stats(&self) -> MirrorStats {
        MirrorStats {
            sent: self.sent.load(Relaxed),
            taken: self.taken.load(Relaxed),
            failed: self.failed.load(Relaxed),
        }
    }
}

/// One mirror is only ever equal to itself (the thread's `Link` compares).
impl PartialEq for Mirror {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for Mirror {}
