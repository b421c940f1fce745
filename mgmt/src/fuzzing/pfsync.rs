//! pfsync: the packet decoder, the protocol machine and the merge into
//! the dataplane's state table, as the daemon wires them
//! (`EngineStore`, the table's change events as local changes).
//!
//! Two firewalls, A and B, each an engine on
//! [`RULES`](super::rules::RULES) with its own pfsync machine; what one
//! sends, the other receives. The input plays the network and the
//! operator around A. Each record's flags: bits 0..=2 the event, bits
//! 3..=7 tenths of a second the virtual clock advances first. Events: a
//! pfsync payload into A (as from a peer on syncdev); an IPv4 packet
//! into A (decapsulated, its TTL and interface checked by the machine);
//! a frame through A's engine inbound or outbound, so that A has live
//! states the peer's records collide with; an operator action on A
//! (up, down, link, maxupd, defer, `pfctl -F states`); a payload into B;
//! a frame through B's engine.

use super::records::records;
use super::rules::engine;
use crate::daemon::pfsync::store::{local_change, EngineStore};
use ::pfsync::state::IfName;
use ::pfsync::{Config, Event, LocalChange, Pfsync, Rx, StateId};
use dataplane::engine::{Engine, Packet};
use dataplane::pdesc::Dir;
use dataplane::state::{ClearScope, StateEvent};
use std::sync::Arc;

const TENTH: u64 = 100_000_000;
const SEC: u64 = 1_000_000_000;
/// Exchanges between A and B per record: a bulk update of the (at most
/// 1000) states fits many times over; a ping-pong of requests cannot
/// run forever.
const MAX_ROUNDS: usize = 32;
const MAX_TIMER_ROUNDS: usize = 64;

struct Side {
    engine: Arc<Engine>,
    worker: dataplane::engine::Worker,
    store: EngineStore,
    machine: Pfsync,
    events: crossbeam_channel::Receiver<StateEvent>,
}

impl Side {
    fn new(seed: u64, defer: bool) -> Side {
        let engine = engine(seed);
        let (tx, events) = crossbeam_channel::unbounded();
        engine.states().set_events(Some(tx));
        let mut cfg = Config::new(engine.states().host_id());
        cfg.defer = defer;
        let machine = Pfsync::new(cfg).expect("the fuzz pfsync config");
        Side {
            worker: engine.worker(),
            store: EngineStore::new(Arc::clone(&engine), vec!["em0".into(), "em1".into()]),
            engine,
            machine,
            events,
        }
    }

    /// One frame through the engine; a new state's first packet is
    /// offered to pfsync's deferral as the daemon does.
    fn frame(&mut self, now: u64, bytes: &[u8], dir: Dir, ifindex: usize) {
        let mut frame = bytes.to_vec();
        let v = self.engine.process(
            &mut self.worker,
            now,
            &mut Packet {
                frame: &mut frame,
                ifindex,
                dir,
            },
        );
        self.local(now);
        if let Some(s) = v.created {
            let id = StateId::new(s.id, s.creator);
            let _ = self.machine.defer(
                now,
                &mut self.store,
                id,
                frame,
                bytes.first().is_some_and(|b| b & 1 == 1),
            );
        }
    }

    /// The table's change events, as the daemon hands them on.
    fn local(&mut self, now: u64) {
        for e in self.events.try_iter() {
            self.machine
                .handle_local(now, &mut self.store, local_change(&e));
        }
    }

    fn tick(&mut self, now: u64) {
        self.engine.expire(now);
        self.local(now);
        for _ in 0..MAX_TIMER_ROUNDS {
            match self.machine.poll_timeout() {
                Some(t) if t <= now => self.machine.handle_timeout(now, &mut self.store),
                _ => break,
            }
        }
        while let Some(ev) = self.machine.poll_event() {
            // A released packet would be sent; a demotion goes to CARP.
            if let Event::Release { packet, .. } = ev {
                assert!(!packet.is_empty(), "an empty deferred packet");
            }
        }
    }

    fn receive(&mut self, now: u64, rx: Rx, payload: &[u8]) {
        // A refused packet is counted by the machine; not a finding.
        let _ = self
            .machine
            .handle_packet(now, &mut self.store, rx, payload);
        // Imports do not come back as local changes; whatever the table
        // reported meanwhile (none expected) is handed on.
        self.local(now);
    }

    /// `pfctl -F states` with pfsync (daemon/pfsync/clear.rs).
    fn flush(&mut self, now: u64, scope: ClearScope) {
        let gone = self.engine.states().clear_quiet(scope);
        let ifname = match scope {
            ClearScope::Bound(i) => IfName::new(["em0", "em1"][i as usize % 2]).ok(),
            _ => None,
        };
        self.machine
            .handle_local(now, &mut self.store, LocalChange::Clear { ifname });
        for s in gone {
            let id = StateId::new(s.id, s.creator);
            self.machine
                .handle_local(now, &mut self.store, LocalChange::Forget { id });
        }
    }
}

const SYNCDEV: Rx = Rx {
    on_syncdev: true,
    ttl: 255,
};

/// Carry packets between the two machines until both are quiet.
fn exchange(a: &mut Side, b: &mut Side, now: u64) {
    for _ in 0..MAX_ROUNDS {
        let mut moved = false;
        while let Some(p) = a.machine.poll_transmit() {
            a.machine.transmit_result(true);
            // What A sends must pass its own encapsulation and decoder.
            let ip = ::pfsync::wire::ip::encap(
                &p,
                "192.168.254.1".parse().expect("address"),
                "224.0.0.240".parse().expect("address"),
                1,
            );
            let rx = ::pfsync::wire::ip::decap(&ip).expect("our own packet decapsulates");
            assert_eq!(rx.payload, &p[..], "encapsulation changed the payload");
            b.receive(now, SYNCDEV, &p);
            moved = true;
        }
        while let Some(p) = b.machine.poll_transmit() {
            b.machine.transmit_result(true);
            a.receive(now, SYNCDEV, &p);
            moved = true;
        }
        a.tick(now);
        b.tick(now);
        if !moved {
            break;
        }
    }
}

pub fn pfsync(data: &[u8]) {
    let mut a = Side::new(1, data.first().is_some_and(|b| b & 0x80 != 0));
    let mut b = Side::new(2, false);
    let mut now = SEC;
    a.machine.up(now);
    b.machine.up(now);
    for rec in records(data) {
        now += u64::from(rec.flags >> 3) * TENTH;
        a.tick(now);
        b.tick(now);
        let bytes = rec.bytes;
        let arg = |i: usize| bytes.get(i).copied().unwrap_or(0);
        match rec.flags & 7 {
            0 => a.receive(now, SYNCDEV, bytes),
            1 => {
                if let Ok(ip) = ::pfsync::wire::ip::decap(bytes) {
                    let rx = Rx {
                        on_syncdev: ip.dst.is_multicast(),
                        ttl: ip.ttl,
                    };
                    a.receive(now, rx, ip.payload);
                }
            }
            2 => a.frame(now, bytes, Dir::In, 0),
            3 => a.frame(now, bytes, Dir::Out, usize::from(arg(0) & 1)),
            4 => match arg(0) % 7 {
                0 => a.machine.up(now),
                1 => a.machine.down(now),
                2 => a.machine.link_state(now, arg(1) & 1 == 1),
                3 => a.machine.set_maxupd(arg(1)),
                4 => a.machine.set_defer(arg(1) & 1 == 1),
                5 => {
                    let scope = match arg(1) % 3 {
                        0 => ClearScope::All,
                        1 => ClearScope::Floating,
                        _ => ClearScope::Bound(u32::from(arg(2) & 1)),
                    };
                    a.flush(now, scope);
                }
                // B restarts: down and up asks A for a bulk update.
                _ => {
                    b.machine.down(now);
                    b.machine.up(now);
                }
            },
            5 => b.receive(now, SYNCDEV, bytes),
            6 => b.frame(
                now,
                bytes,
                if arg(0) & 1 == 1 { Dir::In } else { Dir::Out },
                0,
            ),
            _ => {
                // A long quiet spell: states and bulk timeouts expire.
                now += u64::from(arg(0)) * SEC;
            }
        }
        exchange(&mut a, &mut b, now);
    }
}
