//! hostname.carpN, as etc parsed it, to the carp crate's configuration,
//! and the addresses the router answers for as each carp interface's.

use crate::etc::{CarpState, EtcConfig, IfaceConfig};
use carp::auth::Key;
use carp::{CarpIfConfig, Carpnode, State, Sysctl};
use std::net::IpAddr;

/// One carp interface as the daemon runs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CarpPlan {
    pub cfg: CarpIfConfig,
    /// The port (and router interface) of its carpdev.
    pub port: usize,
    /// Its addresses with their prefix lengths, for the router.
    pub addrs: Vec<(IpAddr, u8)>,
    /// `state master|backup|init` from the file: forced at boot.
    pub forced: Option<State>,
}

/// The carp crate's sysctls from sysctl.conf.
pub fn sysctl(cfg: &EtcConfig) -> Sysctl {
    Sysctl {
        allow: cfg.sysctl.carp_allow,
        preempt: cfg.sysctl.carp_preempt,
        log: cfg.sysctl.carp_log,
    }
}

/// Every hostname.carpN of `cfg`, on the ports named `ports` (whose
/// MACs are `macs`).
pub fn plans(cfg: &EtcConfig, ports: &[String], macs: &[[u8; 6]]) -> Result<Vec<CarpPlan>, String> {
    cfg.interfaces
        .iter()
        .filter(|i| i.carp.is_some())
        .map(|i| plan(i, ports, macs))
        .collect()
}

fn plan(i: &IfaceConfig, ports: &[String], macs: &[[u8; 6]]) -> Result<CarpPlan, String> {
    let c = i
        .carp
        .as_ref()
        .ok_or_else(|| format!("{}: not a carp interface", i.name))?;
    let port = ports.iter().position(|p| *p == c.carpdev).ok_or_else(|| {
        format!(
            "{}: carpdev {} is not an interface pfd runs on",
            i.file.display(),
            c.carpdev
        )
    })?;
    let key = Key::from_passphrase(c.pass.as_deref().unwrap_or("").as_bytes());
    let mut cfg = CarpIfConfig::new(&i.name, &c.carpdev, macs[port], c.vhid, key);
    cfg.nodes = vec![Carpnode {
        vhid: c.vhid,
        advskew: c.advskew,
    }];
    cfg.advbase = c.advbase;
    cfg.v4 = i.inet.iter().map(|a| a.addr).collect();
    cfg.v6 = i.inet6.iter().map(|a| a.addr).collect();
    cfg.peer = c.carppeer;
    cfg.lladdr = i.lladdr;
    // `carp` is every carp interface's group; the crate adds it.
    cfg.groups = i.groups.iter().filter(|g| *g != "carp").cloned().collect();
    let cfg = cfg
        .normalized()
        .map_err(|e| format!("{}: {e}", i.file.display()))?;
    let addrs = i
        .inet
        .iter()
        .map(|a| (IpAddr::V4(a.addr), a.prefix))
        .chain(i.inet6.iter().map(|a| (IpAddr::V6(a.addr), a.prefix)))
        .collect();
    let forced = c.state.map(|s| match s {
        CarpState::Init => State::Init,
        CarpState::Backup => State::Backup,
        CarpState::Master => State::Master,
    });
    Ok(CarpPlan {
        cfg,
        port,
        addrs,
        forced,
    })
}
