//! Deferral (spec §7): the first packet of a new state is held until the
//! peer acknowledges the insert, an update for the state arrives, 20 ms
//! pass, or too many packets are held.

use crate::state::StateId;
use std::collections::VecDeque;

/// `PFSYNC_DEFER_NSEC`.
pub const DEFER_NS: u64 = 20_000_000;
/// `PFSYNC_DEFER_LIMIT`: at most this many packets are held.
pub const DEFER_LIMIT: usize = 128;

/// OpenBSD's per-slice deferral kstats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeferStats {
    /// Packets taken for holding.
    pub add: u64,
    /// Released early by INS_ACK or an update from the peer.
    pub ack: u64,
    /// Released because their 20 ms ran out.
    pub run: u64,
    /// Released early because too many were held.
    pub over: u64,
}

#[derive(Debug)]
struct Held {
    id: StateId,
    deadline: u64,
    packet: Vec<u8>,
}

/// Held packets, oldest first (deadlines are in the same order, as every
/// hold lasts the same time).
#[derive(Debug, Default)]
pub struct Deferrals {
    held: VecDeque<Held>,
    pub stats: DeferStats,
}

impl Deferrals {
    pub fn is_held(&self, id: StateId) -> bool {
        self.held.iter().any(|h| h.id == id)
    }

    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// Hold `packet`; returns what had to be released to stay within the
    /// limit. As in OpenBSD, a hold that finds the limit already reached
    /// releases the oldest packets until fewer than the limit remain (so
    /// the 129th hold leaves 127).
    pub fn hold(&mut self, now: u64, id: StateId, packet: Vec<u8>) -> Vec<(StateId, Vec<u8>)> {
        self.stats.add += 1;
        let over = self.held.len() >= DEFER_LIMIT;
        self.held.push_back(Held {
            id,
            deadline: now.saturating_add(DEFER_NS),
            packet,
        });
        let mut out = Vec::new();
        if over {
            self.stats.over += 1;
            while self.held.len() >= DEFER_LIMIT {
                if let Some(h) = self.held.pop_front() {
                    out.push((h.id, h.packet));
                }
            }
        }
        out
    }

    /// The peer has the state: release its packet.
    pub fn acked(&mut self, id: StateId) -> Option<Vec<u8>> {
        let at = self.held.iter().position(|h| h.id == id)?;
        self.stats.ack += 1;
        self.held.remove(at).map(|h| h.packet)
    }

    /// Release every packet whose time is up.
    pub fn expire(&mut self, now: u64) -> Vec<(StateId, Vec<u8>)> {
        let mut out = Vec::new();
        while self.held.front().is_some_and(|h| h.deadline <= now) {
            if let Some(h) = self.held.pop_front() {
                self.stats.run += 1;
                out.push((h.id, h.packet));
            }
        }
        out
    }

    /// Release everything (pfsync going down).
    pub fn drain(&mut self) -> Vec<(StateId, Vec<u8>)> {
        self.held.drain(..).map(|h| (h.id, h.packet)).collect()
    }

    pub fn next_deadline(&self) -> Option<u64> {
        self.held.front().map(|h| h.deadline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> StateId {
        StateId::new(n, 7)
    }

    #[test]
    fn ack_timeout_and_limit() {
        let mut d = Deferrals::default();
        assert!(d.hold(0, id(1), vec![1]).is_empty());
        assert!(d.hold(5, id(2), vec![2]).is_empty());
        assert_eq!(d.next_deadline(), Some(DEFER_NS));
        assert_eq!(d.acked(id(2)), Some(vec![2]));
        assert_eq!(d.acked(id(2)), None);
        assert!(d.expire(DEFER_NS - 1).is_empty());
        assert_eq!(d.expire(DEFER_NS), vec![(id(1), vec![1])]);
        for n in 0..DEFER_LIMIT as u64 {
            assert!(d.hold(100, id(n), vec![]).is_empty());
        }
        assert_eq!(d.len(), DEFER_LIMIT, "128 may be held");
        let over = d.hold(101, id(999), vec![9]);
        assert_eq!(over, vec![(id(0), vec![]), (id(1), vec![])]);
        assert_eq!(d.len(), DEFER_LIMIT - 1);
        assert_eq!(
            d.stats,
            DeferStats {
                add: 2 + DEFER_LIMIT as u64 + 1,
                ack: 1,
                run: 1,
                over: 1
            }
        );
        assert_eq!(d.drain().len(), DEFER_LIMIT - 1);
        assert_eq!(d.len(), 0);
    }
}
