//! Timeouts: pf's `PFTM_*` indices, the per-rule profile a state points
//! to, and `pf_state_expires` with adaptive scaling.

use super::srcnode::SrcTrack;
use ruleset::rule::{PFTM_ADAPTIVE_END, PFTM_ADAPTIVE_START, PFTM_MAX};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock};

pub const PFTM_TCP_FIRST_PACKET: usize = 0;
pub const PFTM_TCP_OPENING: usize = 1;
pub const PFTM_TCP_ESTABLISHED: usize = 2;
pub const PFTM_TCP_CLOSING: usize = 3;
pub const PFTM_TCP_FIN_WAIT: usize = 4;
pub const PFTM_TCP_CLOSED: usize = 5;
pub const PFTM_UDP_FIRST_PACKET: usize = 6;
pub const PFTM_UDP_SINGLE: usize = 7;
pub const PFTM_UDP_MULTIPLE: usize = 8;
pub const PFTM_ICMP_FIRST_PACKET: usize = 9;
pub const PFTM_ICMP_ERROR_REPLY: usize = 10;
pub const PFTM_OTHER_FIRST_PACKET: usize = 11;
pub const PFTM_OTHER_SINGLE: usize = 12;
pub const PFTM_OTHER_MULTIPLE: usize = 13;
/// A state marked for removal (pf's `PFTM_PURGE`): never matches again.
pub const PFTM_PURGE: usize = PFTM_MAX;

/// What a state needs of the rule that created it, shared by all its
/// states: pf reads these through `st->rule.ptr`.
#[derive(Debug)]
pub(crate) struct Profile {
    pub rule: (u32, u32),
    /// 0 = use the global value.
    pub timeouts: [u32; PFTM_MAX],
    /// pf's `r->states_cur`.
    pub states_cur: AtomicU32,
    pub src: Option<SrcTrack>,
    /// Report removals (see `NewState::release_tag`).
    pub release_tag: u64,
    pub scrub: super::Scrub,
}

type ProfileKey = (
    (u32, u32),
    [u32; PFTM_MAX],
    u32,
    Option<SrcTrack>,
    u64,
    super::Scrub,
);

/// Profiles are only ever added (a reload brings new rule numbers), so a
/// state's profile index stays valid for the table's life.
#[derive(Default)]
pub(crate) struct Registry {
    inner: RwLock<RegistryInner>,
}

#[derive(Default)]
struct RegistryInner {
    list: Vec<Arc<Profile>>,
    by_key: HashMap<ProfileKey, u32>,
}

impl Registry {
    pub(crate) fn resolve(
        &self,
        rule: (u32, u32),
        timeouts: [u32; PFTM_MAX],
        max_states: u32,
        src: Option<SrcTrack>,
        release_tag: u64,
        scrub: super::Scrub,
    ) -> (u32, Arc<Profile>) {
        let key = (rule, timeouts, max_states, src, release_tag, scrub);
        {
            let r = self.inner.read().unwrap_or_else(|e| e.into_inner());
            if let Some(&i) = r.by_key.get(&key) {
                if let Some(p) = r.list.get(i as usize) {
                    return (i, p.clone());
                }
            }
        }
        let mut w = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&i) = w.by_key.get(&key) {
            if let Some(p) = w.list.get(i as usize) {
                return (i, p.clone());
            }
        }
        let p = Arc::new(Profile {
            rule,
            timeouts,
            states_cur: AtomicU32::new(0),
            src,
            release_tag,
            scrub,
        });
        let i = w.list.len() as u32;
        w.list.push(p.clone());
        w.by_key.insert(key, i);
        (i, p)
    }

    /// A copy of the list, for a shard's local cache.
    pub(crate) fn snapshot(&self) -> Vec<Arc<Profile>> {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .list
            .clone()
    }
}

/// pf's `pf_state_expires`: the second at which a state last refreshed at
/// `expire` with timeout `stimeout` is due. Adaptive scaling uses the
/// rule's own `adaptive.start/end` against the rule's state count when the
/// rule sets them, otherwise the global ones against the table's count.
#[inline]
pub(crate) fn expires(
    expire: u32,
    stimeout: usize,
    rule: &Profile,
    global: &[u32; PFTM_MAX],
    states: u32,
) -> u64 {
    if stimeout >= PFTM_MAX {
        return 0;
    }
    let mut timeout = match rule.timeouts[stimeout] {
        0 => global[stimeout],
        t => t,
    };
    let (start, end, states) = match rule.timeouts[PFTM_ADAPTIVE_START] {
        0 => (
            global[PFTM_ADAPTIVE_START],
            global[PFTM_ADAPTIVE_END],
            states,
        ),
        s => (
            s,
            rule.timeouts[PFTM_ADAPTIVE_END],
            rule.states_cur.load(Ordering::Relaxed),
        ),
    };
    if end != 0 && states > start && start < end {
        if states >= end {
            return 0;
        }
        timeout = (u64::from(timeout) * u64::from(end - states) / u64::from(end - start)) as u32;
    }
    u64::from(expire) + u64::from(timeout)
}
