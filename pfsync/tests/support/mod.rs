//! Test harness: an in-memory state table and a pair of nodes joined by a
//! lossy link, driven by a virtual clock (quinn's `Pair`, for pfsync).

#![allow(dead_code)]

use pfsync::state::{flags, Peer, StateId, StateKey, StateRecord, IPPROTO_TCP, PF_OUT};
use pfsync::sync::{ImportError, LocalState, Merge};
use pfsync::wire::{PacketRepr, AF_INET};
use pfsync::{Config, Event, LocalChange, Pfsync, Rx, StateStore};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

pub const MS: u64 = 1_000_000;
pub const SEC: u64 = 1_000_000_000;
pub const RX_OK: Rx = Rx {
    on_syncdev: true,
    ttl: 255,
};

/// A state table: what the daemon's dataplane would hold.
#[derive(Debug, Default)]
pub struct MemStore {
    pub states: BTreeMap<StateId, StateRecord>,
    /// Imports beyond this many states fail with `NoMemory`.
    pub limit: Option<usize>,
}

impl MemStore {
    pub fn get(&self, id: StateId) -> Option<&StateRecord> {
        self.states.get(&id)
    }
}

impl StateStore for MemStore {
    fn lookup(&self, id: StateId) -> Option<LocalState> {
        self.states.get(&id).map(|s| LocalState {
            proto: s.proto,
            src: s.src,
            dst: s.dst,
            timeout: s.timeout,
            state_flags: s.state_flags,
        })
    }

    fn export(&self, id: StateId, _now_ns: u64) -> Option<StateRecord> {
        self.states.get(&id).copied()
    }

    fn import(&mut self, rec: &StateRecord, _now_ns: u64) -> Result<(), ImportError> {
        if self.limit.is_some_and(|l| self.states.len() >= l) {
            return Err(ImportError::NoMemory);
        }
        if self.states.contains_key(&rec.id) {
            return Err(ImportError::Exists);
        }
        self.states.insert(rec.id, *rec);
        Ok(())
    }

    fn merge(&mut self, id: StateId, m: &Merge, _now_ns: u64) {
        let Some(s) = self.states.get_mut(&id) else {
            return;
        };
        let take = |local: &mut Peer, new: Peer| {
            let scrub = new.scrub.or(local.scrub);
            *local = Peer { scrub, ..new };
        };
        if let Some(p) = m.src {
            take(&mut s.src, p);
        }
        if let Some(p) = m.dst {
            take(&mut s.dst, p);
        }
        if let Some(t) = m.refresh_timeout {
            s.timeout = t;
        }
    }

    fn remove(&mut self, id: StateId) -> bool {
        self.states.remove(&id).is_some()
    }

    fn clear(&mut self, creator: u32, ifname: Option<&str>) -> Vec<StateId> {
        let gone: Vec<StateId> = self
            .states
            .values()
            .filter(|s| s.id.creator == creator)
            .filter(|s| ifname.is_none_or(|n| s.ifname.to_str() == Some(n)))
            .map(|s| s.id)
            .collect();
        for id in &gone {
            self.states.remove(id);
        }
        gone
    }

    fn snapshot(&self) -> Vec<StateId> {
        self.states.keys().copied().collect()
    }
}

/// A TCP state created by `creator`, number `n`.
pub fn tcp_state(creator: u32, n: u64) -> StateRecord {
    let a = IpAddr::V4(Ipv4Addr::new(10, 0, (n >> 8) as u8, n as u8));
    let b = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let key = StateKey::new((b, 443), (a, 40000 + (n % 20000) as u16), 0);
    let peer = |seq| Peer {
        seqlo: seq,
        seqhi: seq + 65535,
        max_win: 65535,
        mss: 1460,
        state: 4,
        wscale: 0x87,
        ..Peer::default()
    };
    StateRecord {
        id: StateId::new(0x6650_0000_0000_0000 + n, creator),
        ifname: pfsync::state::IfName::new("em0").unwrap(),
        keys: [key, key],
        src: peer(1000),
        dst: peer(5000),
        rule: u32::MAX,
        anchor: u32::MAX,
        nat_rule: u32::MAX,
        expire: 86400,
        af: AF_INET,
        proto: IPPROTO_TCP,
        direction: PF_OUT,
        timeout: 2,
        ..StateRecord::default()
    }
}

pub fn udp_state(creator: u32, n: u64) -> StateRecord {
    let mut s = tcp_state(creator, n);
    s.proto = pfsync::state::IPPROTO_UDP;
    s.src = Peer {
        state: 1,
        ..Peer::default()
    };
    s.dst = Peer::default();
    s.timeout = 7;
    s
}

/// One firewall: the machine, its table, and what it did.
pub struct Node {
    pub m: Pfsync,
    pub store: MemStore,
    /// Every payload sent, with the time it left.
    pub sent: Vec<(u64, Vec<u8>)>,
    pub events: Vec<Event>,
}

impl Node {
    pub fn new(cfg: Config) -> Self {
        Node {
            m: Pfsync::new(cfg).unwrap(),
            store: MemStore::default(),
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    pub fn creator(&self) -> u32 {
        self.m.config().creator
    }

    /// Create a state locally, as pf would, and tell pfsync.
    pub fn create(&mut self, now: u64, rec: StateRecord) -> StateId {
        self.store.states.insert(rec.id, rec);
        let nosync = rec.state_flags & flags::NOSYNC != 0;
        self.m.handle_local(
            now,
            &mut self.store,
            LocalChange::Insert {
                id: rec.id,
                proto: rec.proto,
                nosync,
            },
        );
        rec.id
    }

    /// A packet moved the state on: change it, tell pfsync.
    pub fn touch(&mut self, now: u64, id: StateId, f: impl FnOnce(&mut StateRecord)) {
        if let Some(s) = self.store.states.get_mut(&id) {
            f(s);
        }
        self.m
            .handle_local(now, &mut self.store, LocalChange::Update { id });
    }

    pub fn delete(&mut self, now: u64, id: StateId) {
        self.store.states.remove(&id);
        self.m
            .handle_local(now, &mut self.store, LocalChange::Delete { id });
    }

    pub fn receive(&mut self, now: u64, bytes: &[u8]) -> Result<(), pfsync::RxError> {
        self.m.handle_packet(now, &mut self.store, RX_OK, bytes)
    }

    /// Collect what the machine has to send and its events.
    pub fn drain(&mut self, now: u64) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(p) = self.m.poll_transmit() {
            self.m.transmit_result(true);
            self.sent.push((now, p.clone()));
            out.push(p);
        }
        while let Some(e) = self.m.poll_event() {
            self.events.push(e);
        }
        out
    }

    pub fn handle_timeout(&mut self, now: u64) {
        self.m.handle_timeout(now, &mut self.store);
    }

    /// The sent packets decoded (authenticated ones must be opened first).
    pub fn sent_decoded(&self) -> Vec<(u64, PacketRepr)> {
        self.sent
            .iter()
            .map(|(t, p)| (*t, PacketRepr::parse(p).unwrap()))
            .collect()
    }

    pub fn demotion_sum(&self) -> i32 {
        self.events
            .iter()
            .map(|e| match e {
                Event::Demote { delta, .. } => *delta,
                _ => 0,
            })
            .sum()
    }

    pub fn released(&self) -> Vec<(StateId, Vec<u8>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Release { id, packet } => Some((*id, packet.clone())),
                _ => None,
            })
            .collect()
    }
}

/// Decides whether the n-th packet in one direction is lost.
pub type Loss = Box<dyn FnMut(usize, &[u8]) -> bool>;

/// Two nodes on one sync link. `loss_ab` / `loss_ba` see each packet
/// (by its number in that direction, from 0) and drop it when they say so.
pub struct Pair {
    pub a: Node,
    pub b: Node,
    pub now: u64,
    pub loss_ab: Loss,
    pub loss_ba: Loss,
    n_ab: usize,
    n_ba: usize,
}

pub fn config(creator: u32) -> Config {
    Config::new(creator)
}

impl Pair {
    pub fn new(a: Config, b: Config) -> Self {
        Pair {
            a: Node::new(a),
            b: Node::new(b),
            now: 0,
            loss_ab: Box::new(|_, _| false),
            loss_ba: Box::new(|_, _| false),
            n_ab: 0,
            n_ba: 0,
        }
    }

    /// Both up with the link up, and their initial bulk exchange done.
    pub fn connected(a: Config, b: Config) -> Self {
        let mut p = Pair::new(a, b);
        p.a.m.up(0);
        p.b.m.up(0);
        p.a.m.link_state(0, true);
        p.b.m.link_state(0, true);
        p.drive();
        p.run_until_idle(60 * SEC);
        p
    }

    /// Deliver packets both ways until none are left.
    pub fn drive(&mut self) {
        loop {
            let ab = self.a.drain(self.now);
            let ba = self.b.drain(self.now);
            if ab.is_empty() && ba.is_empty() {
                break;
            }
            for p in ab {
                let n = self.n_ab;
                self.n_ab += 1;
                if !(self.loss_ab)(n, &p) {
                    let _ = self.b.receive(self.now, &p);
                }
            }
            for p in ba {
                let n = self.n_ba;
                self.n_ba += 1;
                if !(self.loss_ba)(n, &p) {
                    let _ = self.a.receive(self.now, &p);
                }
            }
        }
    }

    fn next_timeout(&self) -> Option<u64> {
        [self.a.m.poll_timeout(), self.b.m.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Run timers up to `until`, delivering what they produce.
    pub fn advance_to(&mut self, until: u64) {
        self.drive();
        while let Some(t) = self.next_timeout() {
            if t > until {
                break;
            }
            self.now = self.now.max(t);
            self.a.handle_timeout(self.now);
            self.b.handle_timeout(self.now);
            self.drive();
        }
        self.now = self.now.max(until);
    }

    pub fn advance(&mut self, dt: u64) {
        self.advance_to(self.now + dt);
    }

    /// Run until no timer is pending or `limit` of virtual time passed.
    pub fn run_until_idle(&mut self, limit: u64) {
        let end = self.now + limit;
        self.drive();
        while let Some(t) = self.next_timeout() {
            if t > end {
                break;
            }
            self.advance_to(t);
        }
    }
}
