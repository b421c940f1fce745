//! The typed boot configuration `load_etc` returns.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

/// Everything pfd configures at boot from an etc directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EtcConfig {
    /// One per `hostname.<if>` file, sorted by interface name.
    pub interfaces: Vec<IfaceConfig>,
    /// From `mygate`.
    pub gateways: Gateways,
    /// From `sysctl.conf`, OpenBSD's defaults for keys not set.
    pub sysctl: Sysctl,
    /// `DIR/pf.conf`, known to exist when `load_etc` succeeds.
    pub pf_conf: PathBuf,
    /// From `hostname.pfsync0`, if present.
    pub pfsync: Option<PfsyncConfig>,
}

impl EtcConfig {
    pub fn interface(&self, name: &str) -> Option<&IfaceConfig> {
        self.interfaces.iter().find(|i| i.name == name)
    }
}

/// One interface, as its `hostname.<if>` file leaves it after netstart
/// has run every line in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfaceConfig {
    /// The Linux interface name (`eth0`, `ens3`, `veth-lan`), or
    /// `carpN` for a CARP interface, which pfd provides itself.
    pub name: String,
    /// The file it came from, for later diagnostics.
    pub file: PathBuf,
    /// IPv4 addresses, the primary (`inet` without `alias`) first.
    pub inet: Vec<Inet4>,
    pub inet6: Vec<Inet6>,
    pub mtu: Option<u32>,
    /// Up after the last `up`/`down` line; setting an address brings an
    /// interface up, as on OpenBSD.
    pub up: bool,
    pub description: Option<String>,
    /// As `ifconfig` lists them on OpenBSD: the driver's group (the name
    /// without its unit: `eth` for eth0, `carp` for carp1), the `group`
    /// lines in order, then `egress` on the interface that holds a default
    /// gateway (pf.conf's `on egress` depends on it).
    pub groups: Vec<String>,
    pub lladdr: Option<[u8; 6]>,
    /// Present exactly for `carpN` interfaces.
    pub carp: Option<CarpConfig>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inet4 {
    pub addr: Ipv4Addr,
    pub prefix: u8,
    /// `None` for `NONE`, and for /31 and /32.
    pub broadcast: Option<Ipv4Addr>,
    /// The line it was set on.
    pub line: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inet6 {
    pub addr: Ipv6Addr,
    pub prefix: u8,
    pub line: usize,
}

/// The default routes from `mygate`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gateways {
    pub v4: Option<Ipv4Addr>,
    pub v6: Option<Gateway6>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gateway6 {
    pub addr: Ipv6Addr,
    /// The interface of a link-local gateway (`fe80::1%eth0`).
    pub scope: Option<String>,
}

/// The `sysctl.conf` keys pfd acts on. Defaults are OpenBSD's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sysctl {
    /// `net.inet.ip.forwarding` (default 0).
    pub ip_forwarding: bool,
    /// `net.inet6.ip6.forwarding` (default 0).
    pub ip6_forwarding: bool,
    /// `net.inet.carp.allow`: accept CARP advertisements (default 1).
    pub carp_allow: bool,
    /// `net.inet.carp.preempt`: take over as master with a better
    /// advskew, and fail all carp interfaces over together (default 0).
    pub carp_preempt: bool,
    /// `net.inet.carp.log`: syslog level 0..7 for CARP (default 2).
    pub carp_log: u8,
}

impl Default for Sysctl {
    fn default() -> Self {
        Sysctl {
            ip_forwarding: false,
            ip6_forwarding: false,
            carp_allow: true,
            carp_preempt: false,
            carp_log: 2,
        }
    }
}

/// A CARP virtual host (ifconfig's carp options). Parsed and validated
/// only: the CARP protocol itself is not running yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CarpConfig {
    /// 1..=255, unique per carpdev.
    pub vhid: u8,
    /// Seconds between advertisements, 0..=255 (default 1).
    pub advbase: u8,
    /// 0..=254 (default 0); the lowest advbase+advskew is master.
    pub advskew: u8,
    /// The physical interface the virtual host lives on: given with
    /// `carpdev`, else, as OpenBSD does, the interface whose network
    /// holds the carp address.
    pub carpdev: String,
    /// The HMAC passphrase (`pass`); at most 19 bytes, the most OpenBSD
    /// keeps.
    pub pass: Option<String>,
    /// Unicast advertisements to this peer instead of multicast
    /// (IPv4 only, as on OpenBSD).
    pub carppeer: Option<Ipv4Addr>,
    /// A forced initial state (`state master|backup|init`).
    pub state: Option<CarpState>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CarpState {
    Init,
    Backup,
    Master,
}

/// The pfsync interface (ifconfig's pfsync options). Parsed and validated
/// only: pfsync itself is not running yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PfsyncConfig {
    /// The interface state updates go out on, configured in the same
    /// directory.
    pub syncdev: String,
    /// Unicast updates to this peer instead of multicast to 224.0.0.240.
    pub syncpeer: Option<std::net::Ipv4Addr>,
    /// Updates to one state merged before one is sent, 0..=255 (128).
    pub maxupd: u8,
    /// Hold a new state's first packet until the peer acknowledges it.
    pub defer: bool,
    pub up: bool,
    /// pfd's `bulkburst N`: bulk-update packets per 20 ms step (1, as
    /// OpenBSD, unless set).
    pub bulk_burst: u16,
    /// pfd's `authkey FILE`: every packet carries an HMAC with this key
    /// and a sequence number, and packets without a valid one are
    /// dropped (not OpenBSD's protocol; off unless set).
    pub auth: Option<AuthKey>,
    /// pfd's `mirror NAME`: the TUN interface that copies of pfsync's
    /// packets go to for tcpdump while pfsync is up (`pfsync0` unless
    /// set; `None`: `-mirror`).
    pub mirror: Option<String>,
}

/// The shared secret of authenticated pfsync, as read from its file at
/// load. Never printed: `Debug` shows the file only.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthKey {
    pub path: PathBuf,
    key: Vec<u8>,
}

impl AuthKey {
    pub fn new(path: PathBuf, key: Vec<u8>) -> AuthKey {
        AuthKey { path, key }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.key
    }
}

impl std::fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthKey")
            .field("path", &self.path)
            .field("key", &"<redacted>")
            .finish()
    }
}
