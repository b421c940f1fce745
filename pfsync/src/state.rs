//! Host-side types for what pfsync carries: state identities, peers,
//! keys and the full state record (`pfsync_state`, spec §3.4).
//!
//! These are pfsync's own types; the daemon converts between them and the
//! dataplane's states. Values are kept as the wire has them (raw address
//! bytes, OpenBSD's AF numbers) so that decoding then encoding a record
//! gives back the same bytes.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::wire::{AF_INET, AF_INET6};

/// `PFTM_MAX`: a timeout class at or above this is refused on receive, and
/// a local state there is being purged.
pub const PFTM_MAX: u8 = 20;
/// `PFTM_TCP_ESTABLISHED`, for tests and callers building records.
pub const PFTM_TCP_ESTABLISHED: u8 = 2;
/// Synproxy peer levels above TCP's own states (`PF_TCPS_PROXY_*`).
pub const PF_TCPS_PROXY_SRC: u8 = 11;
pub const PF_TCPS_PROXY_DST: u8 = 12;
/// `TCPS_ESTABLISHED`.
pub const TCPS_ESTABLISHED: u8 = 4;

pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
/// pfsync's own protocol: states for it are never synced.
pub const IPPROTO_PFSYNC: u8 = 240;

/// `PF_IN` / `PF_OUT`.
pub const PF_IN: u8 = 1;
pub const PF_OUT: u8 = 2;

/// `PFSTATE_*` bits of `state_flags` that pfsync itself reads or writes.
pub mod flags {
    pub const NOSYNC: u16 = 0x0008;
    /// On the wire: the sender holds the packet until we answer INS_ACK.
    pub const ACK: u16 = 0x0010;
}

/// `PFSS_TIMESTAMP`, the only scrub flag exported.
pub const PFSS_TIMESTAMP: u16 = 0x0001;

/// A state's identity across the pair: OpenBSD's (id, creatorid).
/// Both read big-endian, so `id` is pf's counter and `creator` the hostid
/// as `pfctl` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct StateId {
    pub id: u64,
    pub creator: u32,
}

impl StateId {
    pub const fn new(id: u64, creator: u32) -> Self {
        StateId { id, creator }
    }

    /// The (0, 0) identity asks the peer for a full bulk update.
    pub const BULK_REQUEST: StateId = StateId { id: 0, creator: 0 };
}

impl fmt::Display for StateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // pfctl -ss -vv prints "id: %016llx creatorid: %08x".
        write!(f, "id: {:016x} creatorid: {:08x}", self.id, self.creator)
    }
}

/// Per-peer scrub data (`pfsync_state_scrub`); absent when the wire's
/// scrub flag is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scrub {
    pub flags: u16,
    pub ttl: u8,
    pub ts_mod: u32,
}

/// One side of a connection (`pfsync_state_peer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Peer {
    pub scrub: Option<Scrub>,
    pub seqlo: u32,
    pub seqhi: u32,
    pub seqdiff: u32,
    pub max_win: u16,
    pub mss: u16,
    /// TCPS_* (0..=10) or PF_TCPS_PROXY_* (11, 12) for TCP; 0..=2 otherwise.
    pub state: u8,
    /// Shift in the low 4 bits, 0x80 when scaling was negotiated.
    pub wscale: u8,
}

/// A 16-byte `pf_addr` as carried on the wire (IPv4 in the first 4 bytes).
pub type PfAddr = [u8; 16];

pub fn pf_addr(ip: IpAddr) -> PfAddr {
    let mut a = [0u8; 16];
    match ip {
        IpAddr::V4(v4) => a[..4].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => a = v6.octets(),
    }
    a
}

/// Read a `pf_addr` for an OpenBSD address family; `None` for other
/// families (0 is legal in keys and means "the state's af").
pub fn pf_addr_ip(a: &PfAddr, af: u8) -> Option<IpAddr> {
    match af {
        AF_INET => Some(IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]))),
        AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(*a))),
        _ => None,
    }
}

/// One of a state's two keys (`pfsync_state_key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StateKey {
    pub addr: [PfAddr; 2],
    /// Host order; the wire holds them in network order.
    pub port: [u16; 2],
    pub rdomain: u16,
    /// 2, 24, or 0 ("same as the state").
    pub af: u8,
}

impl StateKey {
    pub fn new(src: (IpAddr, u16), dst: (IpAddr, u16), rdomain: u16) -> Self {
        let af = if src.0.is_ipv4() { AF_INET } else { AF_INET6 };
        StateKey {
            addr: [pf_addr(src.0), pf_addr(dst.0)],
            port: [src.1, dst.1],
            rdomain,
            af,
        }
    }
}

/// An interface name field: 16 bytes, NUL-padded, untrusted (it may lack
/// the NUL). Kept raw so that records round-trip.
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct IfName(pub [u8; 16]);

/// A name longer than the 15 bytes an `IFNAMSIZ` field holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("interface name {0:?} is longer than 15 bytes")]
pub struct IfNameTooLong(pub String);

impl IfName {
    pub fn new(name: &str) -> Result<Self, IfNameTooLong> {
        let b = name.as_bytes();
        if b.len() > 15 {
            return Err(IfNameTooLong(name.to_string()));
        }
        let mut out = [0u8; 16];
        out[..b.len()].copy_from_slice(b);
        Ok(IfName(out))
    }

    /// The bytes before the first NUL (all 16 if there is none).
    pub fn as_bytes(&self) -> &[u8] {
        let end = self.0.iter().position(|&c| c == 0).unwrap_or(16);
        &self.0[..end]
    }

    pub fn is_empty(&self) -> bool {
        self.0[0] == 0
    }

    /// The name as text, `None` if it is not UTF-8 (an interface with such
    /// a name cannot exist here, so no state can match it).
    pub fn to_str(&self) -> Option<&str> {
        std::str::from_utf8(self.as_bytes()).ok()
    }
}

impl fmt::Display for IfName {
    /// Escaped like vis(3) would: peer-supplied bytes never reach a
    /// terminal raw.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &c in self.as_bytes() {
            if c.is_ascii_graphic() {
                write!(f, "{}", char::from(c))?;
            } else {
                write!(f, "\\{c:03o}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IfName(\"{self}\")")
    }
}

/// Everything a full state record carries (`pfsync_state`, 264 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StateRecord {
    pub id: StateId,
    pub ifname: IfName,
    /// `[wire, stack]` (PF_SK_WIRE = 0, PF_SK_STACK = 1).
    pub keys: [StateKey; 2],
    /// The peer that sent the state-creating packet, and the other one.
    pub src: Peer,
    pub dst: Peer,
    pub rt_addr: PfAddr,
    /// Rule numbers are informative only: states from pfsync attach to the
    /// default rule. 0xffffffff = none.
    pub rule: u32,
    pub anchor: u32,
    pub nat_rule: u32,
    /// Age in seconds.
    pub creation: u32,
    /// Seconds until expiry.
    pub expire: u32,
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    pub rtableid: [i32; 2],
    pub max_mss: u16,
    pub af: u8,
    pub proto: u8,
    pub direction: u8,
    pub log: u8,
    pub rt: u8,
    /// PFTM_* class.
    pub timeout: u8,
    pub sync_flags: u8,
    pub updates: u8,
    pub min_ttl: u8,
    pub set_tos: u8,
    pub state_flags: u16,
    pub set_prio: [u8; 2],
}

impl StateRecord {
    /// Whether the record passes OpenBSD's checks for an insert (spec §6,
    /// INS): timeout class, peer levels, direction and address families.
    pub fn valid_for_insert(&self) -> bool {
        let fam = |af: u8| af == AF_INET || af == AF_INET6;
        let (a1, a2) = (self.keys[0].af, self.keys[1].af);
        self.valid_for_update()
            && self.direction <= PF_OUT
            && (a1 == 0 && a2 == 0 || fam(a1) && fam(a2))
            && fam(self.af)
    }

    /// The lighter checks OpenBSD applies to UPD records.
    pub fn valid_for_update(&self) -> bool {
        self.timeout < PFTM_MAX
            && self.src.state <= PF_TCPS_PROXY_DST
            && self.dst.state <= PF_TCPS_PROXY_DST
    }
}
