//! CARP in the daemon: one thread owns the carp crate's [`CarpHost`]
//! and its timers. Workers hand it the adverts pf passed inbound
//! ([`CarpHandle::advert`], never blocking: a full queue is a counted
//! drop); it sends its adverts through worker 0 (pf outbound sees them,
//! as carp_send_ad's go through ip_output), tells every worker's router
//! when to answer ARP/ND for the virtual addresses, and has worker 0
//! announce them on takeover. The control socket reaches the host with
//! [`CarpHandle::call`] (ifctl).

pub mod config;
pub mod frame;

use super::linkstate::{operstate_up, LINK_CHECK_NS};
use super::mail::{Address, Mail};
use super::topology::router_index;
use ::carp::{CarpHost, Event, Received, SendResult};
use config::CarpPlan;
use dataplane::port::afpacket::sys::monotonic_ns;
use frame::Sources;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

/// Adverts waiting for the CARP thread at most; past it they are
/// dropped and counted (a flood must not grow memory or stall workers).
pub const QUEUE: usize = 1024;

type Call = Box<dyn FnOnce(&mut CarpHost, u64) + Send>;

enum CarpIn {
    Advert {
        port: usize,
        src: IpAddr,
        dst: IpAddr,
        ttl: u8,
        payload: Vec<u8>,
    },
    Call(Call),
    /// Bow out (advertise advbase 255 / advskew 255), send it, answer.
    Shutdown(SyncSender<()>),
}

/// The way to the CARP thread; cheap to clone.
#[derive(Clone, Debug)]
pub struct CarpHandle {
    tx: SyncSender<CarpIn>,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for CarpIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CarpIn::Advert { .. } => "Advert",
            CarpIn::Call(_) => "Call",
            CarpIn::Shutdown(_) => "Shutdown",
        })
    }
}

impl CarpHandle {
    /// An IP protocol 112 packet pf passed in on `port`.
    pub fn advert(&self, port: usize, src: IpAddr, dst: IpAddr, ttl: u8, payload: &[u8]) {
        let m = CarpIn::Advert {
            port,
            src,
            dst,
            ttl,
            payload: payload.to_vec(),
        };
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.tx.try_send(m) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Run `f` on the host in the CARP thread (with its `now`), then
    /// send what it caused; its result comes back.
    pub fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut CarpHost, u64) -> T + Send + 'static,
    ) -> Result<T, String> {
        let (rtx, rrx) = sync_channel(1);
        let call: Call = Box::new(move |h, now| {
            let _ = rtx.send(f(h, now));
        });
        self.tx
            .send(CarpIn::Call(call))
            .map_err(|_| "CARP is not running".to_string())?;
        rrx.recv_timeout(Duration::from_secs(5))
            .map_err(|_| "CARP did not answer".to_string())
    }

    /// Adverts dropped because the CARP thread's queue was full.
    pub fn queue_drops(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Bow out and wait (bounded) until the adverts are handed to worker
    /// 0. False if the thread is gone or did not answer.
    pub fn shutdown(&self) -> bool {
        let (rtx, rrx) = sync_channel(1);
        self.tx.send(CarpIn::Shutdown(rtx)).is_ok()
            && rrx.recv_timeout(Duration::from_secs(2)).is_ok()
    }
}

/// A carpdev as the CARP thread sends on it.
#[derive(Clone, Debug)]
pub struct Carpdev {
    pub name: String,
    pub sources: Sources,
}

/// One carp interface's addresses as the workers' routers hold them.
struct VipSet {
    name: String,
    /// The port of its carpdev.
    port: usize,
    addrs: Vec<IpAddr>,
    /// Whether the routers answer for them now.
    answering: bool,
    /// The MAC they answer with (its lladdr when the routers were last
    /// told).
    mac: [u8; 6],
}

/// The CARP thread's state.
pub struct CarpDriver {
    host: CarpHost,
    rx: Receiver<CarpIn>,
    /// By port index; `None` for ports that carry no carp interface.
    carpdevs: Vec<Option<Carpdev>>,
    /// Each carp interface as the routers know it.
    vips: Vec<VipSet>,
    workers: Vec<Address>,
    ident: u16,
    /// Each carpdev's link as last seen (`None` before the first
    /// reading), and when to look again.
    links: Vec<(String, Option<bool>)>,
    next_link_check: u64,
}

/// The host for `plans`, its thread's state and the handle to it.
/// `carpdevs[port]` names each port's interface and source addresses.
pub fn start(
    sysctl: ::carp::Sysctl,
    seed: u64,
    plans: &[CarpPlan],
    carpdevs: Vec<Option<Carpdev>>,
    workers: Vec<Address>,
) -> Result<(CarpDriver, CarpHandle), String> {
    let now = monotonic_ns();
    let mut host = CarpHost::new(sysctl, seed);
    for p in plans {
        host.add_interface(now, p.cfg.clone())
            .map_err(|e| format!("{}: {e}", p.cfg.name))?;
        if let Some(s) = p.forced {
            host.force_state(now, &p.cfg.name, s)
                .map_err(|e| format!("{}: {e}", p.cfg.name))?;
        }
    }
    let (tx, rx) = sync_channel(QUEUE);
    let vips = plans
        .iter()
        .map(|p| VipSet {
            name: p.cfg.name.clone(),
            port: p.port,
            addrs: p.addrs.iter().map(|a| a.0).collect(),
            answering: false,
            mac: host.interface(&p.cfg.name).map_or([0; 6], |i| i.lladdr()),
        })
        .collect();
    let mut links: Vec<(String, Option<bool>)> = Vec::new();
    for c in carpdevs.iter().flatten() {
        if !links.iter().any(|(n, _)| *n == c.name) {
            links.push((c.name.clone(), None));
        }
    }
    let d = CarpDriver {
        host,
        rx,
        carpdevs,
        vips,
        workers,
        ident: (seed >> 16) as u16,
        links,
        next_link_check: 0,
    };
    let h = CarpHandle {
        tx,
        dropped: Arc::new(AtomicU64::new(0)),
    };
    Ok((d, h))
}

impl CarpDriver {
    /// The MAC carp interface `name` answers with (its leader vhid's
    /// virtual MAC, or its `lladdr`).
    pub fn lladdr(&self, name: &str) -> Option<[u8; 6]> {
        self.host.interface(name).map(|i| i.lladdr())
    }

    /// Run until shut down or every handle is gone.
    pub fn run(mut self) {
        let now = monotonic_ns();
        self.check_links(now);
        self.flush(now);
        loop {
            let now = monotonic_ns();
            let next = self
                .host
                .poll_timeout()
                .map_or(self.next_link_check, |t| t.min(self.next_link_check));
            let wait = Duration::from_nanos(next.saturating_sub(now));
            let msg = match self.rx.recv_timeout(wait) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let now = monotonic_ns();
            match msg {
                Some(CarpIn::Advert {
                    port,
                    src,
                    dst,
                    ttl,
                    payload,
                }) => {
                    // A port without a carp interface names no carpdev:
                    // the host counts it as `badif`.
                    let carpdev = self
                        .carpdevs
                        .get(port)
                        .and_then(|c| c.as_ref())
                        .map_or("", |c| c.name.as_str())
                        .to_string();
                    let rx = Received {
                        carpdev: &carpdev,
                        src,
                        dst,
                        ttl,
                        payload: &payload,
                    };
                    self.host.handle_advert(now, &rx);
                }
                Some(CarpIn::Call(f)) => f(&mut self.host, now),
                Some(CarpIn::Shutdown(done)) => {
                    self.host.shutdown(now);
                    self.flush(now);
                    let _ = done.send(());
                    return;
                }
                None => {}
            }
            if now >= self.next_link_check {
                self.check_links(now);
            }
            if self.host.poll_timeout().is_some_and(|t| t <= now) {
                self.host.handle_timeout(now);
            }
            self.flush(now);
        }
    }

    /// `carp_carpdev_state`: a carpdev that lost its link (or was set
    /// down) takes its carp interfaces to INIT and demotes their groups
    /// by 1, so the peer takes over every gateway in those groups; its
    /// return lifts that. A carpdev first seen down is applied at once;
    /// one whose state cannot be read is left as it was.
    fn check_links(&mut self, now: u64) {
        self.next_link_check = now + LINK_CHECK_NS;
        for i in 0..self.links.len() {
            let Some(up) = operstate_up(&self.links[i].0) else {
                continue;
            };
            let (name, seen) = &mut self.links[i];
            // unchanged, or first seen up (the state CARP starts from)
            if seen.replace(up).unwrap_or(true) == up {
                continue;
            }
            let name = name.clone();
            if up {
                tracing::info!(target: "pfd::carp", "{name}: link up");
            } else {
                tracing::warn!(target: "pfd::carp", "{name}: link down");
            }
            self.host.set_carpdev_link(now, &name, up);
        }
    }

    /// Send the host's adverts, act on its events.
    fn flush(&mut self, now: u64) {
        while let Some(t) = self.host.poll_transmit() {
            let port = self.port_of(&t.carpdev);
            let sent = port.and_then(|p| {
                let dev = self.carpdevs.get(p)?.as_ref()?;
                self.ident = self.ident.wrapping_add(1);
                let a = frame::advert(&t, &dev.sources, self.ident).ok()?;
                self.workers.first()?.post([Mail::Send {
                    port: p,
                    frame: a.frame,
                    unicast: a.unicast,
                }]);
                Some(())
            });
            // The worker sends it later; what the crate needs to know
            // is whether it could be handed over at all.
            let r = if sent.is_some() {
                SendResult::Sent
            } else {
                SendResult::Failed(libc_eaddrnotavail())
            };
            self.host.report_send(now, &t.ifname, t.family, r);
        }
        while let Some(e) = self.host.poll_event() {
            match e {
                Event::GratuitousArp {
                    carpdev,
                    mac,
                    addrs,
                    ..
                } => {
                    self.announce(&carpdev, mac, addrs.into_iter().map(IpAddr::V4).collect());
                }
                Event::UnsolicitedNa {
                    carpdev,
                    mac,
                    addrs,
                    ..
                } => {
                    self.announce(&carpdev, mac, addrs.into_iter().map(IpAddr::V6).collect());
                }
                Event::Log(line) => {
                    crate::log_at!(
                        crate::logging::level_of_priority(line.priority),
                        target: "pfd::carp",
                        "{line}"
                    )
                }
                _ => {}
            }
        }
        // Whether each carp interface answers for its addresses follows
        // from its vhosts' states (and balancing); tell the routers on
        // every change.
        for v in &mut self.vips {
            let Some(ifc) = self.host.interface(&v.name) else {
                continue;
            };
            // A new vhid is a new virtual MAC: the routers learn it
            // before they are told to answer with it.
            if ifc.lladdr() != v.mac {
                v.mac = ifc.lladdr();
                let m = Mail::VipMac {
                    ifindex: router_index(v.port),
                    addrs: v.addrs.clone(),
                    mac: v.mac,
                };
                for w in &self.workers {
                    w.post([m.clone()]);
                }
            }
            let now_answers = ifc.answers_arp();
            if now_answers != v.answering {
                v.answering = now_answers;
                let m = Mail::Vip {
                    ifindex: router_index(v.port),
                    addrs: v.addrs.clone(),
                    master: now_answers,
                };
                for w in &self.workers {
                    w.post([m.clone()]);
                }
            }
        }
    }

    fn announce(&self, carpdev: &str, mac: [u8; 6], addrs: Vec<IpAddr>) {
        let (Some(p), Some(w)) = (self.port_of(carpdev), self.workers.first()) else {
            return;
        };
        w.post([Mail::Announce {
            ifindex: router_index(p),
            mac,
            addrs,
        }]);
    }

    fn port_of(&self, carpdev: &str) -> Option<usize> {
        self.carpdevs
            .iter()
            .position(|c| c.as_ref().is_some_and(|c| c.name == carpdev))
    }
}

/// EADDRNOTAVAIL: no address to send from, as ip_output would fail.
fn libc_eaddrnotavail() -> i32 {
    99
}
