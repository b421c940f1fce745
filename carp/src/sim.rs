//! A virtual Ethernet segment of N CARP hosts with a virtual clock: every
//! transmit is delivered to the other hosts after a fixed latency, unless
//! lost (seeded, deterministic), cut by a partition, filtered by family,
//! or sent by a dead host. No wall clock anywhere.

use crate::event::{Event, Family, State, Transmit};
use crate::host::{CarpHost, Received};
use crate::sysctl::Sysctl;
use crate::ucarp_model::Ucarp;
use crate::CarpIfConfig;
use std::net::{IpAddr, Ipv4Addr};

pub const MS: u64 = 1_000_000;
pub const SEC: u64 = 1_000_000_000;

/// What runs on a simulated host: our CARP, or the ucarp model. A few
/// of these live in a test; their size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Peer {
    Carp(CarpHost),
    Ucarp(Ucarp),
}

impl Peer {
    fn handle_advert(&mut self, now: u64, rx: &Received<'_>) {
        match self {
            Peer::Carp(h) => h.handle_advert(now, rx),
            Peer::Ucarp(u) => u.handle_advert(now, rx),
        }
    }
    fn handle_timeout(&mut self, now: u64) {
        match self {
            Peer::Carp(h) => h.handle_timeout(now),
            Peer::Ucarp(u) => u.handle_timeout(now),
        }
    }
    fn poll_timeout(&self) -> Option<u64> {
        match self {
            Peer::Carp(h) => h.poll_timeout(),
            Peer::Ucarp(u) => u.poll_timeout(),
        }
    }
    fn poll_transmit(&mut self) -> Option<Transmit> {
        match self {
            Peer::Carp(h) => h.poll_transmit(),
            Peer::Ucarp(u) => u.poll_transmit(),
        }
    }
    fn poll_event(&mut self) -> Option<Event> {
        match self {
            Peer::Carp(h) => h.poll_event(),
            Peer::Ucarp(u) => u.poll_event(),
        }
    }
}

pub struct Node {
    pub peer: Peer,
    pub addr: Ipv4Addr,
    pub alive: bool,
    /// Partition label: hosts hear each other only with equal labels.
    pub side: u8,
}

/// One frame on the segment.
#[derive(Debug, Clone)]
pub struct Sent {
    pub at: u64,
    pub from: usize,
    pub tx: Transmit,
}

pub struct Net {
    pub now: u64,
    pub nodes: Vec<Node>,
    /// (deliver at, to, from, frame)
    in_flight: Vec<(u64, usize, usize, Transmit)>,
    pub latency: u64,
    /// Loss in per mille for every delivery.
    pub loss_per_mille: u64,
    /// Drop every frame of this family (e.g. a ucarp master: no IPv6).
    pub drop_family: Option<Family>,
    rng: u64,
    pub events: Vec<(u64, usize, Event)>,
    pub wire: Vec<Sent>,
}

fn next_rand(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

impl Net {
    /// `n` hosts on eth0 with addresses 192.0.2.(1+i), running our CARP
    /// with no carp interface yet (see [`Net::add`]).
    pub fn new(n: usize, seed: u64) -> Self {
        let nodes = (0..n)
            .map(|i| Node {
                peer: Peer::Carp(CarpHost::new(
                    Sysctl::default(),
                    seed.wrapping_mul(31).wrapping_add(i as u64 + 1),
                )),
                addr: Ipv4Addr::new(192, 0, 2, 1 + i as u8),
                alive: true,
                side: 0,
            })
            .collect();
        Net {
            now: 0,
            nodes,
            in_flight: Vec::new(),
            latency: MS,
            loss_per_mille: 0,
            drop_family: None,
            rng: seed | 1,
            events: Vec::new(),
            wire: Vec::new(),
        }
    }

    pub fn mac(i: usize) -> [u8; 6] {
        [2, 0, 0, 0, 0, i as u8 + 1]
    }

    /// Our CARP on host `i` (a test bug if it runs ucarp).
    pub fn host(&self, i: usize) -> &CarpHost {
        match &self.nodes[i].peer {
            Peer::Carp(h) => h,
            Peer::Ucarp(_) => panic!("host {i} runs the ucarp model"),
        }
    }

    fn host_mut(&mut self, i: usize) -> &mut CarpHost {
        match &mut self.nodes[i].peer {
            Peer::Carp(h) => h,
            Peer::Ucarp(_) => panic!("host {i} runs the ucarp model"),
        }
    }

    /// The ucarp model on host `i`.
    pub fn ucarp(&self, i: usize) -> &Ucarp {
        match &self.nodes[i].peer {
            Peer::Ucarp(u) => u,
            Peer::Carp(_) => panic!("host {i} runs our CARP"),
        }
    }

    pub fn add(&mut self, i: usize, cfg: CarpIfConfig) {
        let now = self.now;
        self.host_mut(i)
            .add_interface(now, cfg)
            .expect("valid test config");
        self.pump();
    }

    /// Run ucarp on host `i` from now on, its address as `--srcip`.
    pub fn start_ucarp(
        &mut self,
        i: usize,
        pass: &[u8],
        vip: Ipv4Addr,
        advskew: u8,
        preempt: bool,
    ) {
        let (now, src) = (self.now, self.nodes[i].addr);
        let u = Ucarp::start(now, 1, pass, vip, src, 1, advskew, preempt, 77 + i as u64);
        self.nodes[i].peer = Peer::Ucarp(u);
        self.nodes[i].alive = true;
        self.pump();
    }

    pub fn set_sysctl(&mut self, i: usize, s: Sysctl) {
        self.host_mut(i).set_sysctl(s);
    }

    /// Run `f` on host `i` at the current time, then collect its output.
    pub fn with<R>(&mut self, i: usize, f: impl FnOnce(&mut CarpHost, u64) -> R) -> R {
        let now = self.now;
        let r = f(self.host_mut(i), now);
        self.pump();
        r
    }

    /// Crash host `i`: it stops sending, receiving and timing, no bow-out.
    pub fn kill(&mut self, i: usize) {
        self.nodes[i].alive = false;
        self.in_flight.retain(|f| f.1 != i);
    }

    /// Replace host `i` by a fresh one (a reboot); configure it with `add`.
    pub fn reboot(&mut self, i: usize, seed: u64) {
        let sysctl = match &self.nodes[i].peer {
            Peer::Carp(h) => h.sysctl(),
            Peer::Ucarp(_) => Sysctl::default(),
        };
        self.nodes[i].peer = Peer::Carp(CarpHost::new(sysctl, seed));
        self.nodes[i].alive = true;
    }

    pub fn partition(&mut self, sides: &[u8]) {
        for (n, s) in self.nodes.iter_mut().zip(sides) {
            n.side = *s;
        }
    }

    pub fn heal(&mut self) {
        for n in &mut self.nodes {
            n.side = 0;
        }
    }

    /// Drain every host's transmits onto the segment and its events into
    /// the log.
    fn pump(&mut self) {
        for from in 0..self.nodes.len() {
            while let Some(ev) = self.nodes[from].peer.poll_event() {
                self.events.push((self.now, from, ev));
            }
            while let Some(tx) = self.nodes[from].peer.poll_transmit() {
                if !self.nodes[from].alive {
                    continue;
                }
                self.wire.push(Sent {
                    at: self.now,
                    from,
                    tx: tx.clone(),
                });
                for to in 0..self.nodes.len() {
                    if to == from {
                        continue;
                    }
                    if let IpAddr::V4(d) = tx.dst {
                        if !d.is_multicast() && d != self.nodes[to].addr {
                            continue;
                        }
                    }
                    self.in_flight
                        .push((self.now + self.latency, to, from, tx.clone()));
                }
            }
        }
    }

    fn deliverable(&mut self, to: usize, from: usize, tx: &Transmit) -> bool {
        if !self.nodes[to].alive || self.nodes[to].side != self.nodes[from].side {
            return false;
        }
        if self.drop_family == Some(tx.family) {
            return false;
        }
        self.loss_per_mille == 0 || next_rand(&mut self.rng) % 1000 >= self.loss_per_mille
    }

    /// Advance the virtual clock to `until`, handling every delivery and
    /// timer on the way in time order.
    pub fn run_until(&mut self, until: u64) {
        loop {
            let next_pkt = self.in_flight.iter().map(|f| f.0).min();
            let next_tmr = self
                .nodes
                .iter()
                .filter(|n| n.alive)
                .filter_map(|n| n.peer.poll_timeout())
                .min();
            let next = match (next_pkt, next_tmr) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => break,
                },
            };
            if next > until {
                break;
            }
            self.now = next.max(self.now);
            let due: Vec<_> = {
                let (due, rest) = self.in_flight.drain(..).partition(|f| f.0 <= self.now);
                self.in_flight = rest;
                due
            };
            for (_, to, from, tx) in due {
                if !self.deliverable(to, from, &tx) {
                    continue;
                }
                let src = IpAddr::V4(self.nodes[from].addr);
                let now = self.now;
                self.nodes[to].peer.handle_advert(
                    now,
                    &Received {
                        carpdev: &tx.carpdev,
                        src,
                        dst: tx.dst,
                        ttl: tx.ttl,
                        payload: &tx.payload,
                    },
                );
            }
            for n in self.nodes.iter_mut().filter(|n| n.alive) {
                n.peer.handle_timeout(self.now);
            }
            self.pump();
        }
        self.now = until.max(self.now);
    }

    /// The state of `vhid` on host `i` (for ucarp, `ifname` is ignored).
    pub fn state(&self, i: usize, ifname: &str, vhid: u8) -> State {
        match &self.nodes[i].peer {
            Peer::Carp(h) => h
                .interface(ifname)
                .and_then(|c| c.vhost(vhid))
                .map_or(State::Init, |v| v.state()),
            Peer::Ucarp(u) if u.vhid == vhid => u.state,
            Peer::Ucarp(_) => State::Init,
        }
    }

    /// Live hosts that are MASTER of `vhid` on `ifname`.
    pub fn masters(&self, ifname: &str, vhid: u8) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].alive && self.state(i, ifname, vhid) == State::Master)
            .collect()
    }

    /// When host `i` last went to `to` (from the event log).
    pub fn last_transition(&self, i: usize, vhid: u8, to: State) -> Option<u64> {
        self.events.iter().rev().find_map(|(t, n, e)| match e {
            Event::StateChanged { vhid: v, to: s, .. } if *n == i && *v == vhid && *s == to => {
                Some(*t)
            }
            _ => None,
        })
    }

    /// When host `i` last put an advert for `vhid` on the wire.
    pub fn last_advert(&self, i: usize, vhid: u8) -> Option<&Sent> {
        self.wire
            .iter()
            .rev()
            .find(|s| s.from == i && s.tx.vhid == vhid)
    }
}
