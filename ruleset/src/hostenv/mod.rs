//! What the parser asks of the machine it runs on: interfaces and their
//! addresses, interface groups, host names, users, groups, services and
//! protocols. pfctl reads these from the running OpenBSD system; we read
//! them through this trait so that the same parser can run against the
//! real Linux host ([`system::SystemHost`]) or against an emulation of the
//! OpenBSD machine the conformance corpus was produced on
//! ([`regress::RegressHost`], selected with `PFD_HOST_PROFILE=openbsd-regress`).

use std::net::IpAddr;

mod netdb;
pub mod regress;
mod routes;
pub mod system;

pub use regress::RegressHost;
pub use system::{SystemHost, SystemHostError};

/// The environment variable that picks the host profile.
pub const PROFILE_VAR: &str = "PFD_HOST_PROFILE";

/// Names `PFD_HOST_PROFILE` accepts.
pub const PROFILES: &[&str] = &["system", "openbsd-regress"];

/// Why no host environment could be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The operator asked for a profile that does not exist.
    #[error("unknown host profile \"{0}\" in PFD_HOST_PROFILE: valid profiles are system, openbsd-regress")]
    Unknown(String),
    /// The real machine could not be read.
    #[error(transparent)]
    System(#[from] SystemHostError),
}

/// The host environment selected by `PFD_HOST_PROFILE`: `openbsd-regress`
/// for the machine the conformance corpus was made on, `system` (or
/// unset) for the machine we run on.
pub fn from_env() -> Result<Box<dyn HostEnv>, ProfileError> {
    let value = std::env::var_os(PROFILE_VAR);
    from_profile(value.as_ref().map(|v| v.to_string_lossy()).as_deref())
}

/// As [`from_env`], with the profile name given (`None` means unset).
pub fn from_profile(name: Option<&str>) -> Result<Box<dyn HostEnv>, ProfileError> {
    match name {
        None | Some("system") => Ok(Box::new(SystemHost::new()?)),
        Some("openbsd-regress") => Ok(Box::new(RegressHost::new())),
        Some(other) => Err(ProfileError::Unknown(other.to_string())),
    }
}

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

    /// Every address of every interface in the order `getifaddrs` lists
    /// them, which is the order pfctl walks them (`iftab`). Linux lists
    /// all IPv4 addresses before all IPv6 ones, so this can interleave
    /// interfaces; the default keeps each interface's addresses together.
    fn address_list(&self) -> Vec<(&Interface, &IfAddress)> {
        self.interfaces()
            .iter()
            .flat_map(|i| i.addrs.iter().map(move |a| (i, a)))
            .collect()
    }

    fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces().iter().find(|i| i.name == name)
    }
    /// Members of interface group `group`, or `None` if no such group.
    fn group_members(&self, group: &str) -> Option<Vec<&Interface>> {
        let m: Vec<&Interface> = self
            .interfaces()
            .iter()
            .filter(|i| i.groups.iter().any(|g| g == group))
            .collect();
        if m.is_empty() {
            None
        } else {
            Some(m)
        }
    }
}
