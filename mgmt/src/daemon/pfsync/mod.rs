//! pfsync in the daemon: `hostname.pfsync0` boots a thread
//! ([`driver`]) that owns the sans-IO [`::pfsync::Pfsync`] machine and
//! reaches the state table through [`store::EngineStore`], the
//! machine's [`::pfsync::StateStore`] over the table;
//! [`store::local_change`] turns the table's events into the machine's
//! local changes; [`defer`] holds new states' first packets for the
//! workers with `defer` on. `pfctl -F states` reaches the peer as one
//! CLR (`clear.rs`); [`mirror`] is the pfsync0 interface tcpdump watches.

mod clear;
pub mod defer;
pub mod driver;
pub mod mirror;
mod route;
pub mod store;

use super::carp::CarpHandle;
use super::mail::Address;
use super::slot::EngineSlot;
use crate::etc::{EtcConfig, PfsyncConfig};
use driver::{Link, PfsyncDriver, PfsyncHandle, GROUP};
use std::sync::Arc;

/// The pfsync thread for `p` (hostname.pfsync0), on the ports named
/// `names` (MACs `macs`).
#[allow(clippy::too_many_arguments)]
pub fn boot(
    p: &PfsyncConfig,
    cfg: &EtcConfig,
    names: &[String],
    macs: &[[u8; 6]],
    slot: &Arc<EngineSlot>,
    workers: Vec<Address>,
    carp: Option<CarpHandle>,
) -> Result<(PfsyncDriver, PfsyncHandle), String> {
    let port = names.iter().position(|n| *n == p.syncdev).ok_or_else(|| {
        format!(
            "pfsync0: syncdev {} is not an interface pfd runs on",
            p.syncdev
        )
    })?;
    let src = cfg
        .interface(&p.syncdev)
        .and_then(|i| i.inet.first())
        .map(|a| a.addr)
        .ok_or_else(|| {
            format!(
                "pfsync0: syncdev {} has no IPv4 address to send from",
                p.syncdev
            )
        })?;
    let engine = slot.get();
    // pf's hostid: the creator of this box's states, drawn at boot
    let creator = engine.states().host_id();
    let mut mc = pfsync::Config::new(creator);
    mc.maxupd = p.maxupd;
    mc.bulk_burst = p.bulk_burst;
    // pfsync packets fill the syncdev's MTU, as pfsync's if_mtu follows it
    if let Some(m) = super::topology::kernel_mtu(&p.syncdev) {
        mc.mtu = m;
    }
    mc.defer = p.defer;
    mc.state_limit = engine.states().limit();
    if let Some(k) = &p.auth {
        // sequence numbers keep growing across restarts: the peer's
        // replay window may still hold this hostid's last run
        let seq_start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let a = pfsync::auth::AuthConfig::new(k.bytes(), seq_start)
            .map_err(|e| format!("pfsync0: authkey {}: {e}", k.path.display()))?;
        mc.auth = Some(a);
    }
    let machine = pfsync::Pfsync::new(mc).map_err(|e| format!("pfsync0: {e}"))?;
    let ifnames = cfg.interfaces.iter().map(|i| i.name.clone()).collect();
    let store = store::EngineStore::new(Arc::clone(&engine), ifnames);
    // pfsync0 for tcpdump, while pfsync is up
    let mirror = match &p.mirror {
        Some(name) if p.up => Some(Arc::new(mirror::Mirror::create(name)?)),
        _ => None,
    };
    let link = Link {
        name: p.syncdev.clone(),
        port,
        src,
        mac: macs[port],
        dst: p.syncpeer.unwrap_or(GROUP),
        mirror,
    };
    Ok(driver::start(
        machine,
        store,
        Arc::clone(slot),
        link,
        workers,
        carp,
        p.up,
    ))
}
