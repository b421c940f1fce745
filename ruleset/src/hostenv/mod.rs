//! What the parser asks of the machine it runs on: interfaces and their
//! addresses, interface groups, host names, users, groups, services and
//! protocols. pfctl reads these from the running OpenBSD system; we read
//! them through this trait so that the same parser can run against the
//! real Linux host ([`system::SystemHost`]) or against an emulation of the
//! OpenBSD machine the conformance corpus was produced on
//! ([`regress::RegressHost`], selected with `PFD_HOST_PROFILE=openbsd-regress`).

use std::net::IpAddr;

/// One address of an interface, as `getifaddrs(3)` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfAddress {
    pub addr: IpAddr,
    pub prefix: u8,
    pub broadcast: Option<IpAddr>,
    pub peer: Option<IpAddr>,
    /// IPv6 scope id (interface index) for link-local addresses, else 0.
    pub scope_id: u32,
}

/// One interface with its addresses in the order the system lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub index: u32,
    pub broadcast: bool,
    pub pointopoint: bool,
    pub loopback: bool,
    pub addrs: Vec<IfAddress>,
    /// Interface groups this interface belongs to (OpenBSD `ifconfig
    /// group`), e.g. `lo`, `egress`, `carp`.
    pub groups: Vec<String>,
}

pub trait HostEnv {
    /// All interfaces, in the order `getifaddrs` returns them.
    fn interfaces(&self) -> &[Interface];
    /// Resolve a host name (not a numeric address) the way getaddrinfo
    /// would, in its order. Empty when the name does not resolve.
    fn resolve(&self, name: &str) -> Vec<IpAddr>;
    fn user_id(&self, name: &str) -> Option<u32>;
    fn group_id(&self, name: &str) -> Option<u32>;
    /// `getservbyname(name, proto)` with proto `"tcp"` or `"udp"`.
    fn service_port(&self, name: &str, proto: &str) -> Option<u16>;
    /// `getprotobyname`
    fn protocol_number(&self, name: &str) -> Option<u8>;
    /// `getprotobynumber`: the protocol's official name.
    fn protocol_name(&self, number: u8) -> Option<String>;

    fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces().iter().find(|i| i.name == name)
    }
    /// Members of interface group `group`, or `None` if no such group.
    fn group_members(&self, group: &str) -> Option<Vec<&Interface>> {
        let m: Vec<&Interface> =
            self.interfaces().iter().filter(|i| i.groups.iter().any(|g| g == group)).collect();
        if m.is_empty() {
            None
        } else {
            Some(m)
        }
    }
}
