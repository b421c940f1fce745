//! Addresses as pf.conf names them, after `host()` resolution: the
//! counterpart of pfctl's `node_host` / `pf_addr_wrap`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Address family (`inet` / `inet6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Af {
    Inet,
    Inet6,
}

impl Af {
    pub fn of(addr: &IpAddr) -> Af {
        match addr {
            IpAddr::V4(_) => Af::Inet,
            IpAddr::V6(_) => Af::Inet6,
        }
    }

    /// Bits in an address of this family.
    pub fn bits(self) -> u8 {
        match self {
            Af::Inet => 32,
            Af::Inet6 => 128,
        }
    }

    pub fn keyword(self) -> &'static str {
        match self {
            Af::Inet => "inet",
            Af::Inet6 => "inet6",
        }
    }

    /// The all-zero address of this family.
    pub fn unspecified(self) -> IpAddr {
        match self {
            Af::Inet => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Af::Inet6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        }
    }
}

impl fmt::Display for Af {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// Modifiers of an interface name used as an address
/// (`em0:network`, `(em0:broadcast)`, `em0:0`, ...): pf's `PFI_AFLAG_*`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct IfAddrFlags {
    pub network: bool,
    pub broadcast: bool,
    pub peer: bool,
    /// `:0`: only the first address of each family, no aliases.
    pub noalias: bool,
}

impl IfAddrFlags {
    pub fn is_empty(&self) -> bool {
        !(self.network || self.broadcast || self.peer || self.noalias)
    }
}

/// One address operand of a rule: pf's `pf_addr_wrap`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AddrWrap {
    /// No address at all (`any`, or a side left out).
    Any,
    /// An address with a prefix length (`10.0.0.0/8`, `::1`). The address
    /// is already masked with the prefix.
    AddrMask { addr: IpAddr, prefix: u8 },
    /// `a - b`
    Range { from: IpAddr, to: IpAddr },
    /// `(ifname[:mod])[/prefix]`: the interface's addresses, followed
    /// at run time. `prefix` is 128 when none was given; the printer and
    /// the compiler clamp it to the rule's family.
    DynIf {
        ifname: String,
        flags: IfAddrFlags,
        prefix: u8,
    },
    /// `<table>`
    Table { name: String },
    /// `no-route`
    NoRoute,
    /// `urpf-failed`
    UrpfFailed,
    /// `route "label"`
    RouteLabel(String),
}

impl AddrWrap {
    /// The family implied by the address itself, if any.
    pub fn af(&self) -> Option<Af> {
        match self {
            AddrWrap::AddrMask { addr, .. } => Some(Af::of(addr)),
            AddrWrap::Range { from, .. } => Some(Af::of(from)),
            _ => None,
        }
    }
}

/// A resolved host: what pfctl's `host()` and the grammar's host rules
/// produce, one per address after expansion.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeHost {
    pub addr: AddrWrap,
    /// Family; `None` for tables, dynamic interfaces, `no-route`, ...
    pub af: Option<Af>,
    /// Negated with `!`.
    pub not: bool,
    /// Interface bound to the address (`addr@if`, route-to pools).
    pub ifname: Option<String>,
    /// IPv6 scope (interface index) of a link-local address.
    pub scope_id: u32,
    /// Load-balancing weight (`weight N`), 0 when not given.
    pub weight: u16,
}

impl NodeHost {
    pub fn new(addr: AddrWrap, af: Option<Af>) -> NodeHost {
        NodeHost {
            addr,
            af,
            not: false,
            ifname: None,
            scope_id: 0,
            weight: 0,
        }
    }
}

/// Mask `addr` to its first `prefix` bits.
pub fn mask_addr(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let p = u32::from(prefix.min(32));
            let m = if p == 0 { 0 } else { u32::MAX << (32 - p) };
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let p = u32::from(prefix.min(128));
            let m = if p == 0 { 0 } else { u128::MAX << (128 - p) };
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
        }
    }
}
