//! The neighbour cache for ARP (IPv4) and neighbour discovery (IPv6):
//! RFC 4861's states (INCOMPLETE, REACHABLE, STALE, DELAY, PROBE) for
//! both families, as Linux's neighbour table also does for ARP, so an
//! entry past its lifetime is re-confirmed with a unicast probe while
//! traffic keeps flowing instead of being dropped and re-resolved.
//! OpenBSD's numbers: an ARP entry lives `arpt_keep` (20 min), an
//! unanswered one is retried `arp_maxtries` (5) times and then held
//! down `arpt_down` (20 s); ND's reachable time is 30 s, retransmit 1 s,
//! 3 multicast and 3 unicast probes, first probe delay 5 s.
//!
//! Sans-IO: time is passed in; solicitations to send are collected and
//! taken with [`NeighborCache::take_solicits`]; timers run in
//! [`NeighborCache::poll`], whose next deadline is
//! [`NeighborCache::poll_timeout`].

use crate::wire::ethernet::MacAddr;
use hashbrown::HashMap;
use std::collections::VecDeque;
use std::net::IpAddr;

const SEC: u64 = 1_000_000_000;

/// Entries looked at to choose one to evict from a full cache.
pub const EVICT_SCAN: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeighborConfig {
    /// Entries kept at most; the least recently confirmed goes first.
    pub max_entries: usize,
    /// Frames held per unresolved neighbour (OpenBSD's `LA_HOLD_QUEUE`,
    /// 10 there); the oldest is dropped when a new one arrives.
    pub queue_len: usize,
    /// Frames held over all entries (OpenBSD's `LA_HOLD_TOTAL`, 100
    /// there); past it a new frame is dropped, so unresolvable
    /// destinations cannot pin `max_entries * queue_len` frames.
    pub held_total: usize,
    /// Broadcast / multicast solicitations sent per second at most, over
    /// all entries: a flood of packets to new destinations on a
    /// connected network must not become an ARP storm. Deferred ones go
    /// out from [`NeighborCache::poll`] in a later second.
    pub solicits_per_sec: u32,
    pub arp_reachable_ns: u64,
    pub nd_reachable_ns: u64,
    /// An unused STALE entry is forgotten after this long.
    pub stale_ns: u64,
    /// Time between solicitations for one neighbour.
    pub retrans_ns: u64,
    /// Broadcast/multicast solicitations before giving up.
    pub arp_tries: u8,
    pub nd_tries: u8,
    /// Unicast probes of a DELAY/PROBE entry before it is dropped.
    pub unicast_probes: u8,
    /// Wait between the first use of a STALE entry and the first probe.
    pub delay_ns: u64,
    /// After resolution failed, packets to the neighbour are refused
    /// for this long without new solicitations.
    pub hold_down_ns: u64,
}

impl Default for NeighborConfig {
    fn default() -> Self {
        NeighborConfig {
            max_entries: 4096,
            // More than OpenBSD's 10 and 100 (Linux holds ~100 frames
            // per neighbour): a backup that takes over a gateway meets
            // the retransmissions of every connection at once, towards
            // next hops it has not resolved yet; with 10 held, the other
            // connections lost their retransmission and stalled one TCP
            // back-off longer (13.4 s instead of 6.8 s in demo/ha.sh
            // with 50 connections to one server). 1,024 frames in all
            // stay a bounded ~1.5 MB per worker.
            queue_len: 128,
            held_total: 1024,
            solicits_per_sec: 1000,
            arp_reachable_ns: 20 * 60 * SEC,
            nd_reachable_ns: 30 * SEC,
            stale_ns: 20 * 60 * SEC,
            retrans_ns: SEC,
            arp_tries: 5,
            nd_tries: 3,
            unicast_probes: 3,
            delay_ns: 5 * SEC,
            hold_down_ns: 20 * SEC,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
/// `P` is what waits in an INCOMPLETE entry's queue (the router keeps
/// frames with what they still need before sending).
pub enum State<P = Vec<u8>> {
    Incomplete {
        tries: u8,
        next_ns: u64,
        queue: VecDeque<P>,
    },
    Reachable {
        mac: MacAddr,
        until_ns: u64,
    },
    Stale {
        mac: MacAddr,
        since_ns: u64,
    },
    Delay {
        mac: MacAddr,
        probe_ns: u64,
    },
    Probe {
        mac: MacAddr,
        tries: u8,
        next_ns: u64,
    },
    Failed {
        until_ns: u64,
    },
    /// Configured (`arp -s`, `ndp -s`): never expires, never evicted,
    /// never overwritten by what the wire says.
    Static {
        mac: MacAddr,
    },
}

impl<P> State<P> {
    /// The link address the entry holds, if it holds one.
    pub fn mac(&self) -> Option<MacAddr> {
        match self {
            State::Reachable { mac, .. }
            | State::Stale { mac, .. }
            | State::Delay { mac, .. }
            | State::Probe { mac, .. }
            | State::Static { mac } => Some(*mac),
            State::Incomplete { .. } | State::Failed { .. } => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry<P> {
    state: State<P>,
    /// Last time the entry was created or confirmed: eviction order.
    touched_ns: u64,
}

/// What [`NeighborCache::resolve`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolve {
    Known(MacAddr),
    /// Resolution under way: hold the frame with [`NeighborCache::hold`].
    Pending,
    /// Resolution failed recently; drop (and answer host unreachable).
    Failed,
}

/// A solicitation the cache wants sent: an ARP request or neighbour
/// solicitation for `target` out of `ifindex`, to `unicast` (a probe of
/// a known neighbour) or broadcast / solicited-node multicast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Solicit {
    pub ifindex: u32,
    pub target: IpAddr,
    pub unicast: Option<MacAddr>,
}

/// How a learned address is trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Learn {
    /// Confirmed reachable: an ARP reply or request to us, a solicited NA.
    Reachable,
    /// Heard of but unconfirmed: an NS's source link-layer address, an
    /// unsolicited NA that overrides.
    Stale,
}

/// What happened to queued frames, for the caller's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheDrops {
    /// Frames pushed out of a full pending queue.
    pub overflow: u64,
    /// Frames dropped with an entry that failed or was evicted.
    pub expired: u64,
    /// Entries evicted to make room.
    pub evicted: u64,
    /// Solicitations put off by the per-second limit.
    pub deferred: u64,
}

/// The per-second budget of [`NeighborConfig::solicits_per_sec`].
#[derive(Clone, Copy, Debug, Default)]
struct Limiter {
    window: u64,
    used: u32,
}

impl Limiter {
    fn allow(&mut self, now: u64, limit: u32) -> bool {
        let w = now / SEC;
        if w != self.window {
            self.window = w;
            self.used = 0;
        }
        if self.used >= limit {
            return false;
        }
        self.used += 1;
        true
    }
}

/// The start of the second after `now`, when the budget refills.
fn next_window(now: u64) -> u64 {
    (now / SEC).saturating_add(1).saturating_mul(SEC)
}

fn tries_for(cfg: &NeighborConfig, ip: IpAddr) -> u8 {
    if ip.is_ipv4() {
        cfg.arp_tries
    } else {
        cfg.nd_tries
    }
}

#[derive(Clone, Debug)]
pub struct NeighborCache<P = Vec<u8>> {
    pub cfg: NeighborConfig,
    entries: HashMap<(u32, IpAddr), Entry<P>>,
    out: Vec<Solicit>,
    /// Frames in all INCOMPLETE queues.
    held: usize,
    limiter: Limiter,
    pub drops: CacheDrops,
    /// What this cache learned from the wire since the last
    /// [`NeighborCache::take_facts`], kept only when sharing is on.
    facts: VecDeque<Fact>,
    sharing: bool,
}

/// A neighbour's link address learned from the wire, for the caches of
/// other workers. Each worker routes with a cache of its own (no lock
/// on the per-packet path); the kernel's fanout may hand the reply to a
/// solicitation to a worker other than the one that asked, so what one
/// learns the others apply with [`NeighborCache::apply_fact`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fact {
    pub ifindex: u32,
    pub ip: IpAddr,
    pub mac: MacAddr,
    pub how: Learn,
}

/// Facts kept at most between two [`NeighborCache::take_facts`]: a
/// flood of ARP from many senders must not grow them without bound (the
/// oldest go; a worker that misses one resolves on its own).
pub const MAX_FACTS: usize = 1024;

impl<P> NeighborCache<P> {
    pub fn new(cfg: NeighborConfig) -> Self {
        NeighborCache {
            cfg,
            entries: HashMap::new(),
            out: Vec::new(),
            held: 0,
            limiter: Limiter::default(),
            drops: CacheDrops::default(),
            facts: VecDeque::new(),
            sharing: false,
        }
    }

    /// Keep what is learned from the wire for [`NeighborCache::take_facts`]
    /// (off by default: a single worker has nobody to tell).
    pub fn set_sharing(&mut self, on: bool) {
        self.sharing = on;
        if !on {
            self.facts.clear();
        }
    }

    /// What was learned since the last call, oldest first.
    pub fn take_facts(&mut self) -> Vec<Fact> {
        self.facts.drain(..).collect()
    }

    /// Whether facts are waiting (cheap, for the per-frame path).
    pub fn has_facts(&self) -> bool {
        !self.facts.is_empty()
    }

    /// Apply what another worker's cache learned: as [`NeighborCache::learn`]
    /// with the entry created if absent (the other cache already decided
    /// it was worth keeping), and not shared again. Returns the frames
    /// that were waiting for the neighbour.
    pub fn apply_fact(&mut self, f: &Fact, now: u64) -> Vec<P> {
        self.learn_inner(f.ifindex, f.ip, f.mac, f.how, true, now)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Every entry, for `arp -a` / `ndp -a`: (interface, address, state).
    pub fn iter(&self) -> impl Iterator<Item = (u32, IpAddr, &State<P>)> {
        self.entries.iter().map(|(k, e)| (k.0, k.1, &e.state))
    }

    /// Frames waiting in all INCOMPLETE entries.
    pub fn held(&self) -> usize {
        self.held
    }

    /// [`NeighborCache::held`] counted the slow way, for tests.
    #[cfg(test)]
    pub(crate) fn recount_held(&self) -> usize {
        self.entries
            .values()
            .map(|e| match &e.state {
                State::Incomplete { queue, .. } => queue.len(),
                _ => 0,
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn state(&self, ifindex: u32, ip: IpAddr) -> Option<&State<P>> {
        self.entries.get(&(ifindex, ip)).map(|e| &e.state)
    }

    fn reachable_ns(&self, ip: IpAddr) -> u64 {
        if ip.is_ipv4() {
            self.cfg.arp_reachable_ns
        } else {
            self.cfg.nd_reachable_ns
        }
    }

    /// Solicitations to send, oldest first.
    pub fn take_solicits(&mut self) -> Vec<Solicit> {
        std::mem::take(&mut self.out)
    }

    /// The link address for `ip` on `ifindex`, starting resolution when
    /// there is none.
    pub fn resolve(&mut self, ifindex: u32, ip: IpAddr, now: u64) -> Resolve {
        let key = (ifindex, ip);
        let retrans = self.cfg.retrans_ns;
        let delay = self.cfg.delay_ns;
        let probes = self.cfg.unicast_probes;
        let Some(e) = self.entries.get_mut(&key) else {
            self.start(key, now);
            return Resolve::Pending;
        };
        let mut solicit = None;
        let res = match &mut e.state {
            State::Incomplete { .. } => Resolve::Pending,
            State::Static { mac } => Resolve::Known(*mac),
            State::Reachable { mac, until_ns } if now < *until_ns => Resolve::Known(*mac),
            State::Reachable { mac, .. } | State::Stale { mac, .. } => {
                let mac = *mac;
                e.state = State::Delay {
                    mac,
                    probe_ns: now.saturating_add(delay),
                };
                Resolve::Known(mac)
            }
            State::Delay { mac, probe_ns } => {
                let mac = *mac;
                if now >= *probe_ns {
                    e.state = State::Probe {
                        mac,
                        tries: 1,
                        next_ns: now.saturating_add(retrans),
                    };
                    solicit = Some(mac);
                }
                Resolve::Known(mac)
            }
            State::Probe {
                mac,
                tries,
                next_ns,
            } => {
                let mac = *mac;
                if now < *next_ns {
                    Resolve::Known(mac)
                } else if *tries >= probes {
                    // RFC 4861 7.3.3: a neighbour that stops answering
                    // its probes is deleted; this packet starts anew.
                    self.entries.remove(&key);
                    self.start(key, now);
                    return Resolve::Pending;
                } else {
                    *tries += 1;
                    *next_ns = now.saturating_add(retrans);
                    solicit = Some(mac);
                    Resolve::Known(mac)
                }
            }
            State::Failed { until_ns } if now < *until_ns => Resolve::Failed,
            State::Failed { .. } => {
                self.entries.remove(&key);
                self.start(key, now);
                return Resolve::Pending;
            }
        };
        if let Some(mac) = solicit {
            self.out.push(Solicit {
                ifindex,
                target: ip,
                unicast: Some(mac),
            });
        }
        res
    }

    /// A new INCOMPLETE entry, with its first solicitation.
    fn start(&mut self, key: (u32, IpAddr), now: u64) {
        self.make_room(now);
        let send = self.limiter.allow(now, self.cfg.solicits_per_sec);
        let (tries, next_ns) = if send {
            (1, now.saturating_add(self.cfg.retrans_ns))
        } else {
            self.drops.deferred += 1;
            (0, next_window(now))
        };
        self.entries.insert(
            key,
            Entry {
                state: State::Incomplete {
                    tries,
                    next_ns,
                    queue: VecDeque::new(),
                },
                touched_ns: now,
            },
        );
        if send {
            self.out.push(Solicit {
                ifindex: key.0,
                target: key.1,
                unicast: None,
            });
        }
    }

    /// Evict the least recently confirmed entry while full; resolved
    /// entries go before ones still resolving, so a flood of packets to
    /// unknown hosts cannot push out the neighbours that carry traffic
    /// until it has used up all the room.
    ///
    /// The victim is the best of at most [`EVICT_SCAN`] entries, not of
    /// all: an approximate LRU, so that a flood of new destinations
    /// costs a bounded scan per packet rather than one of the whole
    /// cache.
    fn make_room(&mut self, _now: u64) {
        while self.entries.len() >= self.cfg.max_entries.max(1) {
            let victim = self
                .entries
                .iter()
                .filter(|(_, e)| !matches!(e.state, State::Static { .. }))
                .take(EVICT_SCAN)
                .min_by_key(|(_, e)| (matches!(e.state, State::Incomplete { .. }), e.touched_ns))
                .map(|(k, _)| *k);
            let Some(k) = victim else { return };
            if let Some(Entry {
                state: State::Incomplete { queue, .. },
                ..
            }) = self.entries.remove(&k)
            {
                self.drops.expired += queue.len() as u64;
                self.held = self.held.saturating_sub(queue.len());
            }
            self.drops.evicted += 1;
        }
    }

    /// Hold `frame` until `ip` on `ifindex` resolves. Returns false when
    /// there is no resolution under way (the frame is dropped).
    pub fn hold(&mut self, ifindex: u32, ip: IpAddr, frame: P) -> bool {
        let max = self.cfg.queue_len;
        match self.entries.get_mut(&(ifindex, ip)) {
            Some(Entry {
                state: State::Incomplete { queue, .. },
                ..
            }) => {
                if max == 0 {
                    self.drops.overflow += 1;
                    return true;
                }
                while queue.len() >= max {
                    queue.pop_front();
                    self.held = self.held.saturating_sub(1);
                    self.drops.overflow += 1;
                }
                if self.held >= self.cfg.held_total {
                    self.drops.overflow += 1;
                    return true;
                }
                queue.push_back(frame);
                self.held += 1;
                true
            }
            _ => false,
        }
    }

    /// Record that `ip` on `ifindex` is at `mac`. With `create` false
    /// only an existing entry is updated (RFC 4861 7.2.5: an
    /// advertisement for an unknown neighbour is ignored; RFC 826: only
    /// a request to us adds a new sender). Returns frames that were
    /// waiting for this neighbour, for the caller to address to `mac`.
    pub fn learn(
        &mut self,
        ifindex: u32,
        ip: IpAddr,
        mac: MacAddr,
        how: Learn,
        create: bool,
        now: u64,
    ) -> Vec<P> {
        let known = self.entries.get(&(ifindex, ip)).map(|e| e.state.mac());
        let out = self.learn_inner(ifindex, ip, mac, how, create, now);
        let now_known = self.entries.get(&(ifindex, ip)).map(|e| e.state.mac());
        // Shared: a new neighbour, a changed address, a resolution (the
        // one others may be waiting for), a confirmation (so theirs do
        // not go stale and probe on their own).
        let changed = now_known == Some(Some(mac))
            && (known != now_known || !out.is_empty() || how == Learn::Reachable);
        if self.sharing && changed {
            if self.facts.len() >= MAX_FACTS {
                self.facts.pop_front();
            }
            self.facts.push_back(Fact {
                ifindex,
                ip,
                mac,
                how,
            });
        }
        out
    }

    fn learn_inner(
        &mut self,
        ifindex: u32,
        ip: IpAddr,
        mac: MacAddr,
        how: Learn,
        create: bool,
        now: u64,
    ) -> Vec<P> {
        let key = (ifindex, ip);
        let reach = now.saturating_add(self.reachable_ns(ip));
        let fresh = match how {
            Learn::Reachable => State::Reachable {
                mac,
                until_ns: reach,
            },
            Learn::Stale => State::Stale { mac, since_ns: now },
        };
        let Some(e) = self.entries.get_mut(&key) else {
            if create {
                self.make_room(now);
                self.entries.insert(
                    key,
                    Entry {
                        state: fresh,
                        touched_ns: now,
                    },
                );
            }
            return Vec::new();
        };
        if let State::Static { .. } = e.state {
            return Vec::new();
        }
        let old = std::mem::replace(&mut e.state, State::Failed { until_ns: 0 });
        let (new, released) = match old {
            State::Incomplete { queue, .. } => {
                self.held = self.held.saturating_sub(queue.len());
                (fresh, Vec::from(queue))
            }
            // Hearsay about a neighbour we already know at this address
            // changes nothing (RFC 4861 7.2.3: same address, no change).
            State::Reachable { mac: m, until_ns } if how == Learn::Stale && m == mac => {
                (State::Reachable { mac: m, until_ns }, Vec::new())
            }
            State::Delay { mac: m, probe_ns } if how == Learn::Stale && m == mac => {
                (State::Delay { mac: m, probe_ns }, Vec::new())
            }
            State::Probe {
                mac: m,
                tries,
                next_ns,
            } if how == Learn::Stale && m == mac => (
                State::Probe {
                    mac: m,
                    tries,
                    next_ns,
                },
                Vec::new(),
            ),
            _ => (fresh, Vec::new()),
        };
        e.state = new;
        e.touched_ns = now;
        released
    }

    /// Mark a known neighbour STALE without changing its address (an
    /// NA without override that disagrees with the cache).
    pub fn mark_stale(&mut self, ifindex: u32, ip: IpAddr, now: u64) {
        if let Some(e) = self.entries.get_mut(&(ifindex, ip)) {
            if let State::Reachable { mac, .. } = e.state {
                e.state = State::Stale { mac, since_ns: now };
            }
        }
    }

    /// A permanent entry; frames waiting for `ip` are returned to be
    /// sent to `mac`. A full cache makes room as for a learned entry.
    pub fn add_static(&mut self, ifindex: u32, ip: IpAddr, mac: MacAddr, now: u64) -> Vec<P> {
        let key = (ifindex, ip);
        let old = self.entries.remove(&key);
        if old.is_none() {
            self.make_room(now);
        }
        self.entries.insert(
            key,
            Entry {
                state: State::Static { mac },
                touched_ns: now,
            },
        );
        match old {
            Some(Entry {
                state: State::Incomplete { queue, .. },
                ..
            }) => {
                self.held = self.held.saturating_sub(queue.len());
                Vec::from(queue)
            }
            _ => Vec::new(),
        }
    }

    /// Keep only the entries `keep(ifindex, ip)` accepts (after a
    /// reconfiguration); frames waiting in dropped ones are counted.
    pub fn retain(&mut self, mut keep: impl FnMut(u32, IpAddr) -> bool) {
        let mut expired = 0usize;
        self.entries.retain(|k, e| {
            let k2 = keep(k.0, k.1);
            if !k2 {
                if let State::Incomplete { queue, .. } = &e.state {
                    expired += queue.len();
                }
            }
            k2
        });
        self.drops.expired += expired as u64;
        self.held = self.held.saturating_sub(expired);
    }

    /// Whether resolution of `ip` failed and is in its hold-down.
    pub fn is_failed(&self, ifindex: u32, ip: IpAddr, now: u64) -> bool {
        matches!(self.state(ifindex, ip), Some(State::Failed { until_ns }) if now < *until_ns)
    }

    pub fn remove(&mut self, ifindex: u32, ip: IpAddr) -> bool {
        self.entries.remove(&(ifindex, ip)).is_some()
    }

    /// Run the timers: retransmit solicitations, give up on silent
    /// neighbours, age REACHABLE to STALE, forget old STALE entries.
    pub fn poll(&mut self, now: u64) {
        let cfg = self.cfg;
        let mut gone = Vec::new();
        for (k, e) in self.entries.iter_mut() {
            let tries_max = tries_for(&cfg, k.1);
            match &mut e.state {
                State::Incomplete {
                    tries,
                    next_ns,
                    queue,
                } if now >= *next_ns => {
                    if *tries >= tries_max {
                        self.drops.expired += queue.len() as u64;
                        self.held = self.held.saturating_sub(queue.len());
                        e.state = State::Failed {
                            until_ns: now.saturating_add(cfg.hold_down_ns),
                        };
                    } else if self.limiter.allow(now, cfg.solicits_per_sec) {
                        *tries += 1;
                        *next_ns = now.saturating_add(cfg.retrans_ns);
                        self.out.push(Solicit {
                            ifindex: k.0,
                            target: k.1,
                            unicast: None,
                        });
                    } else {
                        self.drops.deferred += 1;
                        *next_ns = next_window(now);
                    }
                }
                State::Reachable { mac, until_ns } if now >= *until_ns => {
                    e.state = State::Stale {
                        mac: *mac,
                        since_ns: *until_ns,
                    };
                }
                State::Stale { since_ns, .. } if now >= since_ns.saturating_add(cfg.stale_ns) => {
                    gone.push(*k);
                }
                State::Delay { mac, probe_ns } if now >= *probe_ns => {
                    let mac = *mac;
                    e.state = State::Probe {
                        mac,
                        tries: 1,
                        next_ns: now.saturating_add(cfg.retrans_ns),
                    };
                    self.out.push(Solicit {
                        ifindex: k.0,
                        target: k.1,
                        unicast: Some(mac),
                    });
                }
                State::Probe {
                    mac,
                    tries,
                    next_ns,
                } if now >= *next_ns => {
                    if *tries >= cfg.unicast_probes {
                        gone.push(*k);
                    } else {
                        *tries += 1;
                        *next_ns = now.saturating_add(cfg.retrans_ns);
                        self.out.push(Solicit {
                            ifindex: k.0,
                            target: k.1,
                            unicast: Some(*mac),
                        });
                    }
                }
                State::Failed { until_ns } if now >= *until_ns => gone.push(*k),
                _ => {}
            }
        }
        for k in gone {
            self.entries.remove(&k);
        }
    }

    /// The earliest time [`NeighborCache::poll`] has work to do.
    pub fn poll_timeout(&self) -> Option<u64> {
        let stale = self.cfg.stale_ns;
        self.entries
            .values()
            .filter_map(|e| match &e.state {
                State::Incomplete { next_ns, .. } | State::Probe { next_ns, .. } => Some(*next_ns),
                State::Reachable { until_ns, .. } | State::Failed { until_ns } => Some(*until_ns),
                State::Stale { since_ns, .. } => Some(since_ns.saturating_add(stale)),
                State::Delay { probe_ns, .. } => Some(*probe_ns),
                State::Static { .. } => None,
            })
            .min()
    }
}

#[cfg(test)]
#[path = "neighbor_tests.rs"]
mod tests;
