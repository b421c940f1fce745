//! The pfsync machine's view of the state table: `pfsync::StateStore`
//! over `dataplane::state::StateTable`, and the conversion of pf's state
//! to and from `pfsync_state` records (pf's `pf_state_export` and
//! `pf_state_import`).
//!
//! Keys go over as they are: the table keeps pf's side convention
//! (`addr[0]` is the remote end of an outbound state, the source of an
//! inbound one) and `[wire, stack]` order, so a record's keys are the
//! table's. Times: the table counts seconds on the daemon's monotonic
//! clock; a record carries an age and the seconds left, which the
//! importer turns back into its own clock with the timeout of the
//! record's class (`set timeout`, as pf does, adaptive scaling not
//! undone).

use ::pfsync::state::{
    flags, pf_addr, IfName, Peer as SyncPeer, StateKey as SyncKey, StateRecord, IPPROTO_PFSYNC,
    PF_IN, PF_OUT,
};
use ::pfsync::sync::{ImportError, LocalState, Merge};
use ::pfsync::wire::{AF_INET, AF_INET6};
use ::pfsync::{LocalChange, StateId, StateStore};
use dataplane::engine::Engine;
use dataplane::key::StateKey;
use dataplane::pdesc::Dir;
use dataplane::state::{
    ClearScope, ImportError as TableImportError, ImportState, Peer, Scrub, StateEvent, StateInfo,
    StateTable, SyncId,
};
use ruleset::addr::Af;
use std::sync::Arc;

/// pf's `PFSTATE_*` bits this table keeps (NOSYNC is in `flags`).
const PFSTATE_ALLOWOPTS: u16 = 0x0001;
const PFSTATE_SLOPPY: u16 = 0x0002;
const PFSTATE_NODF: u16 = 0x0020;
const PFSTATE_SETTOS: u16 = 0x0040;
const PFSTATE_RANDOMID: u16 = 0x0080;

/// The interface name a floating state carries (pf's `pfi_all`).
const IF_ALL: &str = "all";

const IPPROTO_ICMP: u8 = 1;
const IPPROTO_ICMPV6: u8 = 58;

const SEC: u64 = 1_000_000_000;

/// The state table as the pfsync machine reaches it.
pub struct EngineStore {
    engine: Arc<Engine>,
    /// The engine's interface index → name (`StateRecord::ifname`).
    ifnames: Vec<String>,
}

impl EngineStore {
    /// `ifnames[i]` is the name of the engine's interface `i` (the
    /// index if-bound states record).
    pub fn new(engine: Arc<Engine>, ifnames: Vec<String>) -> Self {
        EngineStore { engine, ifnames }
    }

    /// After a reload: the new engine shares the state table; rule
    /// numbers in exported records follow the new ruleset.
    pub fn set_engine(&mut self, engine: Arc<Engine>) {
        self.engine = engine;
    }

    fn table(&self) -> &StateTable {
        self.engine.states()
    }

    fn ifname_of(&self, if_bound: Option<u32>) -> IfName {
        let name = match if_bound {
            None => IF_ALL,
            Some(i) => self.ifnames.get(i as usize).map_or("", String::as_str),
        };
        IfName::new(name).unwrap_or_default()
    }

    /// `Ok(None)`: floating; `Err`: no such interface here.
    fn if_bound_of(&self, name: &IfName) -> Result<Option<u32>, ImportError> {
        if name.is_empty() || name.as_bytes() == IF_ALL.as_bytes() {
            return Ok(None);
        }
        let n = name
            .to_str()
            .ok_or(ImportError::Refused("interface name is not text"))?;
        self.ifnames
            .iter()
            .position(|i| i == n)
            .map(|i| Some(i as u32))
            .ok_or(ImportError::Refused("unknown interface"))
    }

    /// The rule number a record carries: the creating rule's `nr` in the
    /// main ruleset, else none (numbers are informative only).
    fn rule_nr(&self, rule: (u32, u32)) -> u32 {
        self.engine
            .state_ref(rule)
            .filter(|r| r.ruleset.0 == 0)
            .and_then(|r| self.engine.rules().get(r))
            .map_or(u32::MAX, |r| r.nr)
    }

    /// The record of `i` as `pf_state_export` writes it, at `now_ns`.
    pub fn record(&self, i: &StateInfo, now_ns: u64) -> StateRecord {
        let now = now_ns / SEC;
        let mut state_flags = state_flags(i);
        if i.wire.proto == IPPROTO_PFSYNC {
            // pfsync_insert_state marks its own protocol's states
            state_flags |= flags::NOSYNC;
        }
        let (rt, rt_addr) = super::route::rt_out(self.engine.state_route(i.id));
        StateRecord {
            id: to_sync(i.sync),
            ifname: self.ifname_of(i.if_bound),
            keys: [key_out(&i.wire), key_out(&i.stack)],
            src: peer_out(&i.src),
            dst: peer_out(&i.dst),
            rt_addr,
            rule: self.rule_nr(i.rule),
            anchor: u32::MAX,
            nat_rule: u32::MAX,
            creation: clamp32(now.saturating_sub(u64::from(i.creation))),
            expire: clamp32(i.expires_at.saturating_sub(now)),
            packets: i.packets,
            bytes: i.bytes,
            rtableid: [-1, -1],
            max_mss: i.scrub.max_mss,
            af: af_out(i.wire.af),
            proto: i.wire.proto,
            direction: match i.dir {
                Dir::In => PF_IN,
                Dir::Out => PF_OUT,
            },
            log: 0,
            rt,
            timeout: i.timeout,
            sync_flags: 0,
            updates: 0,
            min_ttl: i.scrub.min_ttl,
            set_tos: i.scrub.set_tos.unwrap_or(0),
            state_flags,
            set_prio: [0; 2],
        }
    }

    /// The table's import of `rec` at `now_ns` (`pf_state_import`).
    pub fn import_state(&self, rec: &StateRecord, now_ns: u64) -> Result<ImportState, ImportError> {
        let af = af_in(rec.af).ok_or(ImportError::Refused("address family"))?;
        let wire = key_in(&rec.keys[0], af, rec.proto)?;
        let mut stack = key_in(&rec.keys[1], af, rec.proto)?;
        if stack.af != wire.af {
            // af-to: the stack side speaks the other ICMP
            stack.proto = match rec.proto {
                IPPROTO_ICMP => IPPROTO_ICMPV6,
                IPPROTO_ICMPV6 => IPPROTO_ICMP,
                p => p,
            };
        }
        let dir = match rec.direction {
            PF_IN => Dir::In,
            PF_OUT => Dir::Out,
            _ => return Err(ImportError::Refused("direction")),
        };
        let now = (now_ns / SEC) as i64;
        let timeouts = self.table().timeouts();
        let class_secs = timeouts
            .get(usize::from(rec.timeout))
            .copied()
            .ok_or(ImportError::Refused("timeout class"))?;
        // pf: last activity = now - (timeout - seconds left), left alone
        // when the record says 0
        let expire = if rec.expire == 0 {
            now
        } else {
            now - (i64::from(class_secs) - i64::from(rec.expire))
        };
        let f = rec.state_flags;
        Ok(ImportState {
            sync: SyncId {
                id: rec.id.id,
                creator: rec.id.creator,
            },
            wire,
            stack,
            dir,
            src: peer_in(&rec.src),
            dst: peer_in(&rec.dst),
            timeout: rec.timeout,
            creation: clamp_secs(now - i64::from(rec.creation)),
            expire: clamp_secs(expire),
            packets: rec.packets,
            bytes: rec.bytes,
            if_bound: self.if_bound_of(&rec.ifname)?,
            sloppy: f & PFSTATE_SLOPPY != 0,
            no_sync: f & flags::NOSYNC != 0,
            allow_opts: f & PFSTATE_ALLOWOPTS != 0,
            scrub: Scrub {
                no_df: f & PFSTATE_NODF != 0,
                random_id: f & PFSTATE_RANDOMID != 0,
                min_ttl: rec.min_ttl,
                max_mss: rec.max_mss,
                set_tos: (f & PFSTATE_SETTOS != 0).then_some(rec.set_tos),
            },
        })
    }
}

/// What the pfsync machine must hear of a table event.
pub fn local_change(ev: &StateEvent) -> LocalChange {
    match ev {
        StateEvent::Insert(i) => LocalChange::Insert {
            id: to_sync(i.sync),
            proto: i.wire.proto,
            nosync: i.no_sync,
        },
        StateEvent::Update(i) => LocalChange::Update {
            id: to_sync(i.sync),
        },
        StateEvent::Delete(i) => LocalChange::Delete {
            id: to_sync(i.sync),
        },
    }
}

impl StateStore for EngineStore {
    fn lookup(&self, id: StateId) -> Option<LocalState> {
        let i = self.table().export(from_sync(id))?;
        let mut state_flags = state_flags(&i);
        if i.wire.proto == IPPROTO_PFSYNC {
            state_flags |= flags::NOSYNC;
        }
        Some(LocalState {
            proto: i.wire.proto,
            src: peer_out(&i.src),
            dst: peer_out(&i.dst),
            timeout: i.timeout,
            state_flags,
        })
    }

    fn export(&self, id: StateId, now_ns: u64) -> Option<StateRecord> {
        let i = self.table().export(from_sync(id))?;
        Some(self.record(&i, now_ns))
    }

    fn import(&mut self, rec: &StateRecord, now_ns: u64) -> Result<(), ImportError> {
        let st = self.import_state(rec, now_ns)?;
        let route =
            super::route::rt_in(rec.rt, &rec.rt_addr, rec.af).map_err(ImportError::Refused)?;
        match self.table().import(&st, now_ns) {
            Ok(id) => {
                if route.is_some() {
                    self.engine.set_state_route(id, route, now_ns);
                }
                Ok(())
            }
            Err(TableImportError::NoMemory) => Err(ImportError::NoMemory),
            Err(TableImportError::Exists) => Err(ImportError::Exists),
            Err(TableImportError::Refused(why)) => Err(ImportError::Refused(why)),
            Err(_) => Err(ImportError::Refused("refused by the state table")),
        }
    }

    fn merge(&mut self, id: StateId, m: &Merge, now_ns: u64) {
        // no per-peer scrub data is kept here (no timestamp modulation),
        // so the peers' scrub blocks have nowhere to go
        self.table().merge(
            from_sync(id),
            m.src.as_ref().map(peer_in),
            m.dst.as_ref().map(peer_in),
            m.refresh_timeout,
            now_ns,
        );
    }

    fn remove(&mut self, id: StateId) -> bool {
        self.table().remove_sync(from_sync(id))
    }

    fn clear(&mut self, creator: u32, ifname: Option<&str>) -> Vec<StateId> {
        let scope = match ifname {
            None => ClearScope::All,
            Some(IF_ALL) => ClearScope::Floating,
            Some(n) => match self.ifnames.iter().position(|i| i == n) {
                Some(i) => ClearScope::Bound(i as u32),
                None => return Vec::new(),
            },
        };
        self.table()
            .clear_creator(creator, scope)
            .into_iter()
            .map(to_sync)
            .collect()
    }

    fn snapshot(&self) -> Vec<StateId> {
        self.table().sync_ids().into_iter().map(to_sync).collect()
    }
}

pub(super) fn to_sync(s: SyncId) -> StateId {
    StateId::new(s.id, s.creator)
}

fn from_sync(s: StateId) -> SyncId {
    SyncId {
        id: s.id,
        creator: s.creator,
    }
}

fn state_flags(i: &StateInfo) -> u16 {
    let mut f = 0;
    let mut set = |on: bool, bit: u16| {
        if on {
            f |= bit;
        }
    };
    set(i.allow_opts, PFSTATE_ALLOWOPTS);
    set(i.sloppy, PFSTATE_SLOPPY);
    set(i.no_sync, flags::NOSYNC);
    set(i.scrub.no_df, PFSTATE_NODF);
    set(i.scrub.set_tos.is_some(), PFSTATE_SETTOS);
    set(i.scrub.random_id, PFSTATE_RANDOMID);
    f
}

fn af_out(af: Af) -> u8 {
    match af {
        Af::Inet => AF_INET,
        Af::Inet6 => AF_INET6,
    }
}

fn af_in(af: u8) -> Option<Af> {
    match af {
        AF_INET => Some(Af::Inet),
        AF_INET6 => Some(Af::Inet6),
        _ => None,
    }
}

fn key_out(k: &StateKey) -> SyncKey {
    let addr = |a: u128| match k.af {
        Af::Inet => pf_addr(std::net::Ipv4Addr::from((a >> 96) as u32).into()),
        Af::Inet6 => a.to_be_bytes(),
    };
    SyncKey {
        addr: [addr(k.addr[0]), addr(k.addr[1])],
        port: k.port,
        rdomain: k.rdomain,
        af: af_out(k.af),
    }
}

/// A record's key in the table's terms; af 0 means the state's.
fn key_in(k: &SyncKey, state_af: Af, proto: u8) -> Result<StateKey, ImportError> {
    let af = match k.af {
        0 => state_af,
        a => af_in(a).ok_or(ImportError::Refused("key address family"))?,
    };
    let addr = |a: &[u8; 16]| match af {
        // the 12 bytes after an IPv4 address are not part of it
        Af::Inet => u128::from(u32::from_be_bytes([a[0], a[1], a[2], a[3]])) << 96,
        Af::Inet6 => u128::from_be_bytes(*a),
    };
    Ok(StateKey {
        addr: [addr(&k.addr[0]), addr(&k.addr[1])],
        port: k.port,
        rdomain: k.rdomain,
        af,
        proto,
    })
}

fn peer_out(p: &Peer) -> SyncPeer {
    SyncPeer {
        scrub: None,
        seqlo: p.seqlo,
        seqhi: p.seqhi,
        seqdiff: p.seqdiff,
        max_win: p.max_win,
        mss: 0,
        state: p.state,
        wscale: p.wscale,
    }
}

fn peer_in(p: &SyncPeer) -> Peer {
    Peer {
        seqlo: p.seqlo,
        seqhi: p.seqhi,
        seqdiff: p.seqdiff,
        max_win: p.max_win,
        wscale: p.wscale,
        state: p.state,
    }
}

fn clamp32(v: u64) -> u32 {
    v.min(u64::from(u32::MAX)) as u32
}

fn clamp_secs(v: i64) -> u32 {
    v.clamp(0, i64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6key() -> StateKey {
        StateKey {
            addr: [
                0x2001_0db8_0000_0000_0000_0000_0000_0001,
                0x2001_0db8_0001_0000_0000_0000_0000_0002,
            ],
            port: [443, 51000],
            rdomain: 3,
            af: Af::Inet6,
            proto: 6,
        }
    }

    #[test]
    fn keys_convert_both_ways_for_both_families() {
        let k6 = v6key();
        assert_eq!(key_in(&key_out(&k6), Af::Inet, 6), Ok(k6));
        let k4 = StateKey {
            addr: [
                u128::from(0xc000_0250u32) << 96,
                u128::from(0x0a00_0005u32) << 96,
            ],
            port: [80, 40000],
            rdomain: 0,
            af: Af::Inet,
            proto: 17,
        };
        let mut w = key_out(&k4);
        assert_eq!(w.addr[0][..4], [192, 0, 2, 80]);
        assert_eq!(w.af, AF_INET);
        // bytes after an IPv4 address are not part of the key; af 0 is
        // the state's family
        w.addr[1][9] = 0xee;
        w.af = 0;
        assert_eq!(key_in(&w, Af::Inet, 17), Ok(k4));
        w.af = 7;
        assert!(key_in(&w, Af::Inet, 17).is_err());
    }

    #[test]
    fn records_keep_flags_scrub_and_the_af_to_icmp_swap() {
        let engine = Arc::new(
            Engine::new(
                ruleset::compile::compile(&ruleset::parse::parse(
                    "t",
                    b"pass\n".to_vec(),
                    &ruleset::parse::ParseConfig {
                        env: &ruleset::hostenv::RegressHost::new(),
                        files: &ruleset::lexer::FsSource,
                        anchor: String::new(),
                        macros: Vec::new(),
                        queues: Vec::new(),
                    },
                ))
                .unwrap(),
                dataplane::engine::EngineConfig {
                    interfaces: Vec::new(),
                    link: dataplane::wire::frame::Link::Ethernet,
                    seed: 1,
                },
            )
            .unwrap(),
        );
        let store = EngineStore::new(engine, vec!["em0".into()]);
        let wire4 = StateKey {
            addr: [
                u128::from(0xc000_0250u32) << 96,
                u128::from(0x0a00_0005u32) << 96,
            ],
            port: [7, 7],
            rdomain: 0,
            af: Af::Inet,
            proto: IPPROTO_ICMP,
        };
        let rec = StateRecord {
            id: StateId::new(9, 0x77),
            ifname: IfName::new("em0").unwrap(),
            keys: [key_out(&wire4), key_out(&v6key())],
            af: AF_INET,
            proto: IPPROTO_ICMP,
            direction: PF_IN,
            timeout: 9,
            expire: 5,
            creation: 3,
            max_mss: 1400,
            min_ttl: 9,
            set_tos: 0x10,
            state_flags: PFSTATE_ALLOWOPTS
                | PFSTATE_SLOPPY
                | flags::NOSYNC
                | PFSTATE_NODF
                | PFSTATE_SETTOS
                | PFSTATE_RANDOMID,
            ..StateRecord::default()
        };
        let imp = store.import_state(&rec, 100 * SEC).unwrap();
        assert_eq!(imp.stack.proto, IPPROTO_ICMPV6);
        assert_eq!(imp.if_bound, Some(0));
        assert_eq!((imp.creation, imp.dir), (97, Dir::In));
        // icmp.first_packet is 20 s: 5 s left means last seen 15 s ago
        assert_eq!(imp.expire, 85);
        assert!(imp.sloppy && imp.no_sync && imp.allow_opts);
        assert_eq!(
            imp.scrub,
            Scrub {
                no_df: true,
                random_id: true,
                min_ttl: 9,
                max_mss: 1400,
                set_tos: Some(0x10),
            }
        );
        let none = StateRecord {
            direction: 0,
            ..rec
        };
        assert!(store.import_state(&none, 0).is_err());
        let elsewhere = StateRecord {
            ifname: IfName::new("em9").unwrap(),
            ..rec
        };
        assert!(store.import_state(&elsewhere, 0).is_err());
        let floating = StateRecord {
            ifname: IfName::new("all").unwrap(),
            ..rec
        };
        assert_eq!(store.import_state(&floating, 0).unwrap().if_bound, None);
    }
}
