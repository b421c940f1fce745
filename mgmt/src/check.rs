//! `pfd check --etc DIR`: everything `pfd run --etc DIR` does before it
//! touches an interface, done offline: read the hostname.if files,
//! mygate and sysctl.conf, compile pf.conf against the configured
//! interfaces and groups, and build the packet engine (which refuses
//! what it does not enforce). Every error is reported, as
//! `FILE:LINE: message`.

use crate::etc::{load_etc, EtcConfig};
use dataplane::engine::{Engine, EngineConfig, IfConfig};
use dataplane::wire::frame::Link;
use ruleset::hostenv::HostEnv;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;

/// What a successful check found, for its report.
pub struct Checked {
    pub config: EtcConfig,
    pub rules: usize,
    pub tables: usize,
    /// The packet engine, ready to run.
    pub engine: Engine,
}

/// The interfaces the engine sees, from the etc configuration.
pub fn engine_interfaces(cfg: &EtcConfig) -> Vec<IfConfig> {
    cfg.interfaces
        .iter()
        .map(|i| IfConfig {
            name: i.name.clone(),
            addrs: i
                .inet
                .iter()
                .map(|a| (IpAddr::V4(a.addr), a.prefix))
                .chain(i.inet6.iter().map(|a| (IpAddr::V6(a.addr), a.prefix)))
                .collect(),
            groups: i.groups.clone(),
        })
        .collect()
}

/// Check `dir`; `exists` says whether a (non-carp) interface exists on
/// this machine, `None` to skip that check. `Err` is the whole report.
pub fn check(
    dir: &Path,
    exists: Option<&dyn Fn(&str) -> bool>,
    env: &dyn HostEnv,
) -> Result<Checked, String> {
    check_seeded(dir, exists, env, 1)
}

/// [`check`] with the engine's random seed (the daemon's is not fixed).
pub fn check_seeded(
    dir: &Path,
    exists: Option<&dyn Fn(&str) -> bool>,
    env: &dyn HostEnv,
    seed: u64,
) -> Result<Checked, String> {
    let config = load_etc(dir).map_err(|e| e.to_string())?;
    if let Some(exists) = exists {
        config.check_interfaces(exists).map_err(|e| e.to_string())?;
    }
    let compiled = config.load_pf(env)?;
    let rules = compiled.rulesets.iter().map(|rs| rs.rules.len()).sum();
    let tables = compiled.tables.len();
    let pf = config.pf_conf.to_string_lossy().into_owned();
    let engine = Engine::new(
        compiled,
        EngineConfig {
            interfaces: engine_interfaces(&config),
            link: Link::Ethernet,
            seed,
        },
    )
    .map_err(|e| e.render(&pf))?;
    Ok(Checked {
        config,
        rules,
        tables,
        engine,
    })
}

/// The report of a successful check.
pub fn report(c: &Checked) -> String {
    let mut s = String::new();
    for i in &c.config.interfaces {
        let mut addrs: Vec<String> = i
            .inet
            .iter()
            .map(|a| format!("{}/{}", a.addr, a.prefix))
            .collect();
        addrs.extend(i.inet6.iter().map(|a| format!("{}/{}", a.addr, a.prefix)));
        let _ = writeln!(
            s,
            "{}: {}{} groups {}",
            i.name,
            if addrs.is_empty() {
                "no addresses".to_string()
            } else {
                addrs.join(" ")
            },
            i.mtu.map(|m| format!(" mtu {m}")).unwrap_or_default(),
            i.groups.join(" ")
        );
    }
    if let Some(g) = c.config.gateways.v4 {
        let _ = writeln!(s, "default {g}");
    }
    if let Some(g) = &c.config.gateways.v6 {
        let _ = writeln!(s, "default {}", g.addr);
    }
    let _ = writeln!(
        s,
        "{}: {} rules, {} tables: loads",
        c.config.pf_conf.display(),
        c.rules,
        c.tables
    );
    s
}
