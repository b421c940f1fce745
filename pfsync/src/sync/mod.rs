//! The pfsync protocol machine, sans-IO (quinn-proto style).
//!
//! In: `up`/`down`/`link_state`, local state changes (`handle_local`),
//! received payloads (`handle_packet`), the clock (`handle_timeout`).
//! Out: payloads to send (`poll_transmit`; the daemon adds the IPv4
//! header with TTL 255 and TOS 0x10 toward 224.0.0.240 or the syncpeer),
//! events (`poll_event`: CARP demotion, bulk completion, deferred packets
//! to release) and the next deadline (`poll_timeout`).
//!
//! The state table stays in the daemon, reached through [`StateStore`].
//! Time is monotonic nanoseconds.

mod bulk_req;
mod bulk_send;
mod config;
mod defer;
mod input;
mod local;
pub mod merge;
mod output;
mod queue;
mod store;

pub use bulk_req::{ReqState, DEMOTE, LINK_WAIT_NS, MAX_TRIES, RETRY_NS};
pub use bulk_send::BULK_SND_IVAL_NS;
pub use config::{Config, ConfigError, DEFAULT_MAXUPD, DEFAULT_MTU, DEFAULT_STATE_LIMIT};
pub use defer::{DeferStats, DEFER_LIMIT, DEFER_NS};
pub use input::{Rx, RxError, PFSYNC_TTL};
pub use store::{ImportError, LocalState, Merge, StateStore};

use crate::auth::Auth;
use crate::state::{IfName, StateId};
use crate::stats::Stats;
use std::collections::{HashMap, VecDeque};

pub const SEC: u64 = 1_000_000_000;
/// A queued record waits at most this long.
pub const FLUSH_NS: u64 = SEC;
/// A state pfsync touched this recently is being forwarded by the peer
/// too: its updates go out at once.
pub const RECENT_NS: u64 = 2 * SEC;

/// A change to the local state table, reported by the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalChange {
    /// A state was created locally (`pf_state_insert`). `nosync` is the
    /// rule's `no-sync` option; states of protocol 240 are never synced
    /// either way.
    Insert {
        id: StateId,
        proto: u8,
        nosync: bool,
    },
    /// A packet matched the state (its peers or counters moved).
    Update { id: StateId },
    /// The state expired or was killed: the peer is told (DEL_C).
    Delete { id: StateId },
    /// The state went away without telling the peer: after a `Clear`, or
    /// when the daemon removes states the peer removes too.
    Forget { id: StateId },
    /// The daemon flushed its states (`pfctl -F states`): one CLR goes
    /// out at once. Follow it with `Forget` for each removed state.
    Clear { ifname: Option<IfName> },
}

/// Why CARP's demotion counter moves (the reasons OpenBSD logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoteReason {
    /// Bulk update requested at `up` (+32) — "pfsync start".
    Start,
    /// Bulk update finished or given up (−32) — "pfsync done".
    Done,
    /// The sync link is assumed down at `up` (+1) — "pfsync up".
    Up,
    /// Sync link state changed (±1) — "pfsync link".
    Link,
    /// pfsync went down (undoes what it held) — "pfsync down".
    Down,
}

impl DemoteReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DemoteReason::Start => "pfsync start",
            DemoteReason::Done => "pfsync done",
            DemoteReason::Up => "pfsync up",
            DemoteReason::Link => "pfsync link",
            DemoteReason::Down => "pfsync down",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Add `delta` to the "carp" group's demotion counter.
    Demote { delta: i32, reason: DemoteReason },
    /// The bulk update this node requested has ended: `ok` when the peer
    /// sent BUS END, false when it was given up.
    BulkDone { ok: bool },
    /// Transmit this held packet now (deferral over).
    Release { id: StateId, packet: Vec<u8> },
}

/// pfsync's view of one state (OpenBSD keeps these fields in pf_state).
#[derive(Debug, Clone, Copy)]
struct Entry {
    sync: Sync,
    tcp: bool,
    /// TCP updates while queued, against `maxupd`.
    updates: u32,
    /// When pfsync last changed the state from the wire.
    pfsync_time: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sync {
    None,
    Queued(queue::Q),
    /// Never synced (no-sync, protocol 240).
    Dead,
}

pub struct Pfsync {
    cfg: Config,
    up: bool,
    link_up: bool,
    /// Sum of the demotion this machine has applied and not undone.
    demotion: i32,
    entries: HashMap<StateId, Entry>,
    slice: queue::Slice,
    deferrals: defer::Deferrals,
    /// The pending packet is to be written at the end of this call.
    sched: bool,
    req: bulk_req::BulkReq,
    snd: Option<bulk_send::BulkSend>,
    auth: Option<Auth>,
    tx: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    stats: Stats,
}

impl std::fmt::Debug for Pfsync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pfsync")
            .field("creator", &format_args!("{:08x}", self.cfg.creator))
            .field("up", &self.up)
            .field("link_up", &self.link_up)
            .field("bulk", &self.req.state)
            .field("states", &self.entries.len())
            .field("pending", &self.slice.len())
            .finish()
    }
}

impl Pfsync {
    pub fn new(cfg: Config) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let auth = cfg.auth.as_ref().map(|a| Auth::new(a, cfg.creator));
        Ok(Pfsync {
            slice: queue::Slice::new(cfg.overhead()),
            cfg,
            up: false,
            link_up: false,
            demotion: 0,
            entries: HashMap::new(),
            deferrals: defer::Deferrals::default(),
            sched: false,
            req: bulk_req::BulkReq::default(),
            snd: None,
            auth,
            tx: VecDeque::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Change `maxupd` or `defer` while running (the other settings need
    /// pfsync down, as `ifconfig` demands).
    pub fn set_maxupd(&mut self, maxupd: u8) {
        self.cfg.maxupd = maxupd;
    }

    pub fn set_defer(&mut self, defer: bool) {
        self.cfg.defer = defer;
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The authenticated mode's drops by kind (`None`: no key).
    pub fn auth_stats(&self) -> Option<crate::auth::AuthStats> {
        self.auth.as_ref().map(Auth::stats)
    }

    pub fn defer_stats(&self) -> DeferStats {
        self.deferrals.stats
    }

    pub fn is_up(&self) -> bool {
        self.up
    }

    /// Where the bulk update requested at `up` stands.
    pub fn bulk_state(&self) -> ReqState {
        self.req.state
    }

    /// Whether a bulk update is being sent to a peer.
    pub fn bulk_sending(&self) -> bool {
        self.snd.is_some()
    }

    /// Demotion this machine currently holds on the "carp" group.
    pub fn demotion(&self) -> i32 {
        self.demotion
    }

    /// Packets held for deferral.
    pub fn deferred(&self) -> usize {
        self.deferrals.len()
    }

    /// `ifconfig pfsync0 up`: CARP is demoted (+32 until the bulk update
    /// ends, +1 while the sync link is down) and the bulk request starts.
    /// A link already reported up with `link_state` is taken into account
    /// at once, as OpenBSD re-reads the link state at the end of `up`.
    pub fn up(&mut self, now: u64) {
        if self.up {
            return;
        }
        let link = self.link_up;
        self.up = true;
        self.link_up = false;
        self.demote(1, DemoteReason::Up);
        let step = self.req.up(now);
        self.apply(step, DemoteReason::Start);
        if link {
            self.link_state(now, true);
        }
    }

    /// `ifconfig pfsync0 down`: pending records are dropped, held packets
    /// released, demotion undone.
    pub fn down(&mut self, _now: u64) {
        if !self.up {
            return;
        }
        for q in self.slice.take() {
            for id in q {
                if let Some(e) = self.entries.get_mut(&id) {
                    e.sync = Sync::None;
                }
            }
        }
        for (id, packet) in self.deferrals.drain() {
            self.events.push_back(Event::Release { id, packet });
        }
        self.snd = None;
        let step = self.req.down();
        self.apply(step, DemoteReason::Down);
        if !self.link_up {
            self.demote(-1, DemoteReason::Down);
        }
        self.up = false;
    }

    /// The sync device's link went up or down.
    pub fn link_state(&mut self, now: u64, link_up: bool) {
        if !self.up || link_up == self.link_up {
            self.link_up = link_up;
            return;
        }
        self.link_up = link_up;
        self.demote(if link_up { -1 } else { 1 }, DemoteReason::Link);
        if link_up {
            let step = self.req.link_up(now);
            self.apply(step, DemoteReason::Start);
        }
    }

    /// `defer`: offer the packet that created state `id` for holding
    /// until the peer has the state (spec §7). Hands the packet back when
    /// it is not held — deferral off, pfsync down, a state pfsync does
    /// not sync or has not been told of, or a broadcast or multicast
    /// packet — and the daemon sends it as usual. When held, the insert
    /// goes out at once, flagged for an immediate INS_ACK, and the packet
    /// comes back as `Event::Release` within 20 ms.
    pub fn defer(
        &mut self,
        now: u64,
        store: &mut dyn StateStore,
        id: StateId,
        packet: Vec<u8>,
        multicast: bool,
    ) -> Result<(), Vec<u8>> {
        let syncs = self.entries.get(&id).is_some_and(|e| e.sync != Sync::Dead);
        if !self.up || !self.cfg.defer || multicast || !syncs {
            return Err(packet);
        }
        for (id, packet) in self.deferrals.hold(now, id, packet) {
            self.events.push_back(Event::Release { id, packet });
        }
        self.sched = true;
        self.run_sched(now, store);
        Ok(())
    }

    /// Report the result of sending a packet from `poll_transmit`.
    pub fn transmit_result(&mut self, ok: bool) {
        if ok {
            self.stats.opackets += 1;
        } else {
            self.stats.oerrors += 1;
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.tx.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The earliest deadline `handle_timeout` must be called at.
    pub fn poll_timeout(&self) -> Option<u64> {
        [
            self.slice.deadline,
            self.req.deadline,
            self.snd.as_ref().map(|s| s.next_at),
            self.deferrals.next_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub fn handle_timeout(&mut self, now: u64, store: &mut dyn StateStore) {
        if self.slice.deadline.is_some_and(|d| d <= now) {
            self.write_slice(now, store);
        }
        if self.req.deadline.is_some_and(|d| d <= now) {
            let step = self.req.timer(now);
            self.apply(step, DemoteReason::Done);
        }
        if self.snd.as_ref().is_some_and(|s| s.next_at <= now) {
            self.bulk_send_step(now, store);
        }
        for (id, packet) in self.deferrals.expire(now) {
            self.events.push_back(Event::Release { id, packet });
        }
        self.run_sched(now, store);
    }

    /// "Flush now" (OpenBSD schedules the slice task): the pending packet
    /// is written when the current call has finished its work, so that
    /// everything one received packet or local event queued goes out
    /// together.
    pub(super) fn run_sched(&mut self, now: u64, store: &mut dyn StateStore) {
        if std::mem::take(&mut self.sched) {
            self.write_slice(now, store);
        }
    }

    fn demote(&mut self, delta: i32, reason: DemoteReason) {
        if delta != 0 {
            self.demotion += delta;
            self.events.push_back(Event::Demote { delta, reason });
        }
    }

    /// Carry out a requester transition.
    fn apply(&mut self, step: bulk_req::Step, reason: DemoteReason) {
        let reason = match step.done {
            Some(_) => DemoteReason::Done,
            None => reason,
        };
        self.demote(step.demote, reason);
        if step.send_request {
            self.send_bulk_request();
        }
        if let Some(ok) = step.done {
            self.events.push_back(Event::BulkDone { ok });
        }
    }
}
