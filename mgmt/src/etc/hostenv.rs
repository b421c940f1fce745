//! The machine as the etc directory will leave it, for compiling pf.conf
//! at boot: the interfaces, addresses and groups come from the hostname
//! files, not from whatever the interfaces happen to hold before pfd
//! configures them; names, services and protocols still come from the
//! base environment.

use super::config::{EtcConfig, IfaceConfig};
use ruleset::compile::Compiled;
use ruleset::hostenv::{HostEnv, IfAddress, Interface};
use std::net::IpAddr;

/// A [`HostEnv`] whose interfaces are the base's loopback ones followed
/// by the etc directory's, in its order.
pub struct EtcHost<'a> {
    base: &'a dyn HostEnv,
    interfaces: Vec<Interface>,
}

impl EtcConfig {
    pub fn host_env<'a>(&self, base: &'a dyn HostEnv) -> EtcHost<'a> {
        let mut interfaces: Vec<Interface> = base
            .interfaces()
            .iter()
            .filter(|i| i.loopback)
            .cloned()
            .collect();
        let mut index = interfaces.iter().map(|i| i.index).max().unwrap_or(0);
        for i in &self.interfaces {
            index = index.saturating_add(1);
            interfaces.push(interface(i, index));
        }
        EtcHost { base, interfaces }
    }

    /// Compile `pf.conf` against the configured interfaces, with pfctl's
    /// diagnostics; the ruleset the daemon starts with.
    pub fn load_pf(&self, base: &dyn HostEnv) -> Result<Compiled, String> {
        let host = self.host_env(base);
        let path = self.pf_conf.to_string_lossy();
        crate::load::load_ruleset(&path, &host)
    }
}

fn interface(i: &IfaceConfig, index: u32) -> Interface {
    let v4 = i.inet.iter().map(|a| IfAddress {
        addr: IpAddr::V4(a.addr),
        prefix: a.prefix,
        broadcast: a.broadcast.map(IpAddr::V4),
        peer: None,
        scope_id: 0,
    });
    let v6 = i.inet6.iter().map(|a| IfAddress {
        addr: IpAddr::V6(a.addr),
        prefix: a.prefix,
        broadcast: None,
        peer: None,
        scope_id: if super::addr::is_link_local6(a.addr) {
            index
        } else {
            0
        },
    });
    Interface {
        name: i.name.clone(),
        index,
        broadcast: true,
        pointopoint: false,
        loopback: false,
        addrs: v4.chain(v6).collect(),
        groups: i.groups.clone(),
    }
}

impl HostEnv for EtcHost<'_> {
    fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }
    fn resolve(&self, name: &str) -> Vec<IpAddr> {
        self.base.resolve(name)
    }
    fn user_id(&self, name: &str) -> Option<u32> {
        self.base.user_id(name)
    }
    fn group_id(&self, name: &str) -> Option<u32> {
        self.base.group_id(name)
    }
    fn service_port(&self, name: &str, proto: &str) -> Option<u16> {
        self.base.service_port(name, proto)
    }
    fn protocol_number(&self, name: &str) -> Option<u8> {
        self.base.protocol_number(name)
    }
    fn protocol_name(&self, number: u8) -> Option<String> {
        self.base.protocol_name(number)
    }
}
