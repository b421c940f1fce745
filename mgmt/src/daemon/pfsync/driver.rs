//! pfsync in the daemon: one thread owns the sans-IO [`Pfsync`] machine
//! and its timers, and reaches the state table through
//! [`EngineStore`]. It hears of the table's changes on the state
//! table's event channel, takes the pfsync packets pf passed in on the
//! syncdev from the workers ([`PfsyncHandle::packet`], never blocking:
//! a full queue is a counted drop), sends its packets through worker 0
//! (pf outbound sees them, as pfsync's go through ip_output), and moves
//! CARP's demotion as the machine says (+32 until the bulk update is
//! done, so a rebooted box does not take the gateway before it holds
//! the states). With `defer`, it holds the first packet of new states
//! for the workers ([`PfsyncHandle::defer`], see [`super::defer`]).
//!
//! [`PfsyncDriver::run`] reads the clock; [`PfsyncDriver::step`] does
//! the same work at a time given (tests' virtual clock).

use super::defer::{DeferCounters, Owners};
use super::store::{local_change, to_sync, EngineStore};
use crate::daemon::carp::CarpHandle;
use crate::daemon::linkstate::{operstate_up, LINK_CHECK_NS};
use crate::daemon::mail::{Address, Mail};
use crate::daemon::slot::EngineSlot;
use crossbeam_channel::{bounded, select, Receiver, Sender, TrySendError};
use dataplane::port::afpacket::sys::monotonic_ns;
use dataplane::state::{StateEvent, SyncId};
use dataplane::wire::build::ethernet_wrap;
use pfsync::{Event, Pfsync, Rx};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// IPPROTO_PFSYNC.
pub const PROTO_PFSYNC: u8 = 240;
/// The pfsync multicast group.
pub const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 240);
/// Packets (pfsync's, and those handed over to be held for `defer`)
/// and state changes waiting for the thread at most; past it they are
/// dropped and counted (state changes then reach the peer with the next
/// update or the bulk; a packet to hold is sent at once instead).
pub const QUEUE: usize = 65_536;

type Call = Box<dyn FnOnce(&mut Pfsync, &mut EngineStore, &mut Link, u64) + Send>;

enum SyncIn {
    Packet {
        port: usize,
        ttl: u8,
        ip: Vec<u8>,
    },
    /// A packet that created state `id`, to hold (`defer`); it leaves
    /// by `port` through worker `worker`.
    Defer {
        worker: usize,
        port: usize,
        id: pfsync::StateId,
        frame: Vec<u8>,
    },
    Call(Call),
    Stop,
}

/// The way to the pfsync thread; cheap to clone.
#[derive(Clone)]
pub struct PfsyncHandle {
    tx: Sender<SyncIn>,
    dropped: Arc<AtomicU64>,
    /// pfsync is up with `defer` on: the workers hand it new states'
    /// first packets (the thread keeps this current).
    deferring: Arc<AtomicBool>,
    defer: Arc<DeferCounters>,
}

impl std::fmt::Debug for PfsyncHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PfsyncHandle")
    }
}

impl PfsyncHandle {
    /// An IP protocol 240 packet (from its IPv4 header on) that pf
    /// passed in on `port` with `ttl`.
    pub fn packet(&self, port: usize, ttl: u8, ip: &[u8]) {
        let m = SyncIn::Packet {
            port,
            ttl,
            ip: ip.to_vec(),
        };
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.tx.try_send(m) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether new states' first packets are to be handed over
    /// ([`PfsyncHandle::defer`]): pfsync is up, `defer` on.
    pub fn deferring(&self) -> bool {
        self.deferring.load(Ordering::Relaxed)
    }

    /// Hold `frame`, which created the synced state `id` and is ready to
    /// leave by `port`, until the peer has the state; worker `worker`
    /// sends it then. False when it is not taken (not deferring, or the
    /// thread's queue is full, which is counted): send it now.
    pub fn defer(&self, worker: usize, port: usize, id: SyncId, frame: &[u8]) -> bool {
        if !self.deferring() {
            return false;
        }
        let m = SyncIn::Defer {
            worker,
            port,
            id: to_sync(id),
            frame: frame.to_vec(),
        };
        if self.tx.try_send(m).is_err() {
            self.defer.count_full();
            return false;
        }
        true
    }

    /// The daemon's deferral counters.
    pub fn defer_counters(&self) -> &DeferCounters {
        &self.defer
    }

    /// Run `f` on the machine, the store and the link in the pfsync
    /// thread, then send what it caused; its result comes back.
    pub fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Pfsync, &mut EngineStore, &mut Link, u64) -> T + Send + 'static,
    ) -> Result<T, String> {
        let (rtx, rrx) = bounded(1);
        let call: Call = Box::new(move |p, s, l, now| {
            let _ = rtx.send(f(p, s, l, now));
        });
        self.tx
            .send(SyncIn::Call(call))
            .map_err(|_| "pfsync is not running".to_string())?;
        rrx.recv_timeout(Duration::from_secs(5))
            .map_err(|_| "pfsync did not answer".to_string())
    }

    /// Packets dropped because the thread's queue was full.
    pub fn queue_drops(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Stop the thread (it sends nothing more).
    pub fn stop(&self) {
        let _ = self.tx.send(SyncIn::Stop);
    }
}

/// Where the thread sends: the syncdev's port, its address and MAC,
/// the destination (224.0.0.240 or the syncpeer), and the interface
/// tcpdump watches copies on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The syncdev's name (its link state is watched).
    pub name: String,
    pub port: usize,
    pub src: Ipv4Addr,
    pub mac: [u8; 6],
    pub dst: Ipv4Addr,
    pub mirror: Option<Arc<super::mirror::Mirror>>,
}

/// The pfsync thread's state.
pub struct PfsyncDriver {
    machine: Pfsync,
    store: EngineStore,
    slot: Arc<EngineSlot>,
    seen: u64,
    link: Link,
    rx: Receiver<SyncIn>,
    events: Receiver<StateEvent>,
    workers: Vec<Address>,
    carp: Option<CarpHandle>,
    ident: u16,
    /// Whether `up` was in hostname.pfsync0.
    up: bool,
    /// The syncdev's link as last seen, and when to look again.
    link_up: Option<bool>,
    next_link_check: u64,
    /// Where the held packets go back to.
    owners: Owners,
    deferring: Arc<AtomicBool>,
    defer: Arc<DeferCounters>,
}

/// The thread's state and the handle to it. The state table's events
/// go to the thread from now on.
pub fn start(
    machine: Pfsync,
    mut store: EngineStore,
    slot: Arc<EngineSlot>,
    link: Link,
    workers: Vec<Address>,
    carp: Option<CarpHandle>,
    up: bool,
) -> (PfsyncDriver, PfsyncHandle) {
    let (tx, rx) = bounded(QUEUE);
    let (etx, erx) = bounded(QUEUE);
    let engine = slot.get();
    engine.states().set_events(Some(etx));
    store.set_engine(engine);
    let deferring = Arc::new(AtomicBool::new(false));
    let defer = Arc::new(DeferCounters::default());
    let d = PfsyncDriver {
        machine,
        store,
        seen: slot.gen(),
        slot,
        link,
        rx,
        events: erx,
        workers,
        carp,
        ident: (monotonic_ns() >> 10) as u16,
        up,
        link_up: None,
        next_link_check: 0,
        owners: Owners::default(),
        deferring: Arc::clone(&deferring),
        defer: Arc::clone(&defer),
    };
    let h = PfsyncHandle {
        tx,
        dropped: Arc::new(AtomicU64::new(0)),
        deferring,
        defer,
    };
    (d, h)
}

impl PfsyncDriver {
    /// Run until stopped or every handle is gone.
    pub fn run(mut self) {
        self.begin(monotonic_ns());
        loop {
            let now = monotonic_ns();
            let wait = self
                .machine
                .poll_timeout()
                .map_or(Duration::from_secs(1), |t| {
                    Duration::from_nanos(t.saturating_sub(now))
                });
            select! {
                recv(self.rx) -> m => match m {
                    Ok(m) => {
                        if !self.input(m, monotonic_ns()) {
                            return;
                        }
                    }
                    Err(_) => return,
                },
                recv(self.events) -> ev => {
                    if let Ok(ev) = ev {
                        let now = monotonic_ns();
                        self.local(&ev, now);
                        // the rest of a burst at once
                        self.take_events(now);
                    }
                },
                default(wait.min(Duration::from_nanos(LINK_CHECK_NS))) => {},
            }
            let now = monotonic_ns();
            if now >= self.next_link_check {
                self.next_link_check = now + LINK_CHECK_NS;
                self.check_link(now);
            }
            self.timers(now);
        }
    }

    /// What `run` does first: `pfsync0 up` when hostname.pfsync0 says
    /// so (ask the peer for its table, demoting CARP until it is in).
    pub fn begin(&mut self, now: u64) {
        if self.up {
            self.machine.up(now);
        }
        self.flush(now);
    }

    /// Everything waiting (state changes, then messages), then the
    /// timers, at `now`: `run`'s work on a clock of the caller's (the
    /// syncdev's link is not watched). False once stopped.
    pub fn step(&mut self, now: u64) -> bool {
        self.take_events(now);
        while let Ok(m) = self.rx.try_recv() {
            if !self.input(m, now) {
                return false;
            }
        }
        self.timers(now);
        true
    }

    /// The machine, as the thread has it.
    pub fn machine(&self) -> &Pfsync {
        &self.machine
    }

    /// One message; false for Stop.
    fn input(&mut self, m: SyncIn, now: u64) -> bool {
        match m {
            SyncIn::Packet { port, ttl, ip } => self.packet(port, ttl, &ip, now),
            SyncIn::Defer {
                worker,
                port,
                id,
                frame,
            } => self.hold(worker, port, id, frame, now),
            SyncIn::Call(f) => f(&mut self.machine, &mut self.store, &mut self.link, now),
            SyncIn::Stop => return false,
        }
        true
    }

    /// Run the machine's timers if due, then send what it has.
    fn timers(&mut self, now: u64) {
        if self.machine.poll_timeout().is_some_and(|t| t <= now) {
            self.machine.handle_timeout(now, &mut self.store);
        }
        self.flush(now);
    }

    fn take_events(&mut self, now: u64) {
        while let Ok(ev) = self.events.try_recv() {
            self.local(&ev, now);
        }
    }

    /// A worker's packet to hold. The state's insert went to the event
    /// channel before the packet came here: take it first, so the
    /// machine knows the state. What the machine does not hold goes
    /// back at once.
    fn hold(&mut self, worker: usize, port: usize, id: pfsync::StateId, frame: Vec<u8>, now: u64) {
        self.take_events(now);
        self.pick_up_reload();
        match self.machine.defer(now, &mut self.store, id, frame, false) {
            Ok(()) => self.owners.hold(id, worker, port, now),
            Err(frame) => {
                self.defer.count_declined();
                self.send_back(worker, port, frame);
            }
        }
    }

    /// A held packet leaves through the worker that held it.
    fn send_back(&mut self, worker: usize, port: usize, frame: Vec<u8>) {
        let to = self.workers.get(worker).or(self.workers.first());
        if !to.is_some_and(|w| w.post([Mail::Release { port, frame }])) {
            self.defer.count_unsent();
        }
    }

    /// The syncdev went down or came back: pfsync demotes CARP while it
    /// is down and asks for a bulk update when it returns.
    fn check_link(&mut self, now: u64) {
        let Some(up) = operstate_up(&self.link.name) else {
            return;
        };
        if self.link_up != Some(up) {
            if self.link_up.is_some() {
                if up {
                    tracing::info!(target: "pfd::pfsync", "pfsync0: syncdev {} link up", self.link.name);
                } else {
                    tracing::warn!(target: "pfd::pfsync", "pfsync0: syncdev {} link down", self.link.name);
                }
            }
            self.link_up = Some(up);
            self.machine.link_state(now, up);
        }
    }

    /// After `pfctl -f`: the store works on the new engine (the same
    /// state table).
    fn pick_up_reload(&mut self) {
        let g = self.slot.gen();
        if g != self.seen {
            self.seen = g;
            self.store.set_engine(self.slot.get());
        }
    }

    fn local(&mut self, ev: &StateEvent, now: u64) {
        self.pick_up_reload();
        self.machine
            .handle_local(now, &mut self.store, local_change(ev));
    }

    fn packet(&mut self, port: usize, ttl: u8, ip: &[u8], now: u64) {
        self.pick_up_reload();
        let Ok(r) = pfsync::wire::ip::decap(ip) else {
            return;
        };
        let rx = Rx {
            on_syncdev: port == self.link.port,
            ttl,
        };
        // Drops are counted by the machine (pfsyncstats).
        let taken = self
            .machine
            .handle_packet(now, &mut self.store, rx, r.payload)
            .is_ok();
        if let (true, Some(m)) = (taken, &self.link.mirror) {
            m.taken(ip);
        }
    }

    /// Send the machine's packets, act on its events.
    fn flush(&mut self, now: u64) {
        while let Some(payload) = self.machine.poll_transmit() {
            self.ident = self.ident.wrapping_add(1);
            let ip = pfsync::wire::ip::encap(&payload, self.link.src, self.link.dst, self.ident);
            if let Some(m) = &self.link.mirror {
                m.sent(&ip);
            }
            let unicast = !self.link.dst.is_multicast();
            let o = self.link.dst.octets();
            let dst_mac = if unicast {
                [0; 6]
            } else {
                [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]
            };
            let frame = ethernet_wrap(&ip, self.link.mac, dst_mac, None);
            let ok = self.workers.first().is_some_and(|w| {
                w.post([Mail::Send {
                    port: self.link.port,
                    frame,
                    unicast,
                }])
            });
            self.machine.transmit_result(ok);
        }
        while let Some(e) = self.machine.poll_event() {
            match e {
                Event::Demote { delta, reason } => {
                    if let Some(c) = &self.carp {
                        let why = reason.as_str();
                        let _ = c.call(move |h, now| {
                            h.demote_groups(now, "pfsync0", &["carp", "pfsync"], delta, why)
                        });
                    }
                }
                Event::BulkDone { ok: true } => {
                    tracing::info!(target: "pfd::pfsync", "pfsync0: bulk update done");
                }
                Event::BulkDone { ok: false } => {
                    tracing::warn!(target: "pfd::pfsync", "pfsync0: bulk update failed");
                }
                Event::Release { id, packet } => match self.owners.release(id, now, &self.defer) {
                    Some(o) => self.send_back(o.worker, o.port, packet),
                    None => self.defer.count_unsent(),
                },
            }
        }
        let on = self.machine.is_up() && self.machine.config().defer;
        self.deferring.store(on, Ordering::Relaxed);
    }
}
