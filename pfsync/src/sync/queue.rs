//! The pending packet (OpenBSD's "slice", spec §5.2): five queues of
//! states waiting to be sent, the length the packet would have, and the
//! one-second timer. Records are written only when the packet is, from
//! the state as it is then, so repeated updates collapse.
//!
//! OpenBSD splits this in two slices by key hash to spread lock
//! contention; the machine here runs on one thread, so it has one.

use crate::state::StateId;
use crate::wire::section::SUBHEADER_LEN;
use crate::wire::{ids, state, upd_c, Action};

/// A state's queue, in the order sections are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Q {
    Iack = 0,
    UpdC = 1,
    Del = 2,
    Ins = 3,
    Upd = 4,
}

impl Q {
    pub const ORDER: [Q; 5] = [Q::Iack, Q::UpdC, Q::Del, Q::Ins, Q::Upd];

    pub fn action(self) -> Action {
        match self {
            Q::Iack => Action::INS_ACK,
            Q::UpdC => Action::UPD_C,
            // Deletes always go compressed.
            Q::Del => Action::DEL_C,
            Q::Ins => Action::INS,
            Q::Upd => Action::UPD,
        }
    }

    pub fn record_len(self) -> usize {
        match self {
            Q::Iack | Q::Del => ids::LEN,
            Q::UpdC => upd_c::LEN,
            Q::Ins | Q::Upd => state::LEN,
        }
    }
}

#[derive(Debug)]
pub struct Slice {
    queues: [Vec<StateId>; 5],
    /// Bytes the packet would have now, IPv4 header (and trailer) included.
    len: usize,
    /// `len` of an empty packet.
    base: usize,
    /// When the one-second timer fires.
    pub deadline: Option<u64>,
}

impl Slice {
    pub fn new(base: usize) -> Self {
        Slice {
            queues: Default::default(),
            len: base,
            base,
            deadline: None,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == self.base
    }

    /// Bytes one more record in `q` costs (a subheader when the queue is
    /// empty).
    pub fn cost(&self, q: Q) -> usize {
        q.record_len()
            + if self.queues[q as usize].is_empty() {
                SUBHEADER_LEN
            } else {
                0
            }
    }

    pub fn fits(&self, q: Q, mtu: usize) -> bool {
        self.len + self.cost(q) <= mtu
    }

    /// Queue a state; the first record arms the timer.
    pub fn push(&mut self, q: Q, id: StateId, now: u64) {
        self.len += self.cost(q);
        self.queues[q as usize].push(id);
        if self.deadline.is_none() {
            self.deadline = Some(now + super::FLUSH_NS);
        }
    }

    /// Take a state out of its queue (queues hold at most one packet's
    /// worth of records, so the scan is short).
    pub fn remove(&mut self, q: Q, id: StateId) -> bool {
        let v = &mut self.queues[q as usize];
        let Some(at) = v.iter().position(|&x| x == id) else {
            return false;
        };
        v.remove(at);
        self.len -= q.record_len();
        if v.is_empty() {
            self.len -= SUBHEADER_LEN;
        }
        true
    }

    /// Empty every queue and disarm the timer, returning what was queued.
    pub fn take(&mut self) -> [Vec<StateId>; 5] {
        self.len = self.base;
        self.deadline = None;
        std::mem::take(&mut self.queues)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_accounting() {
        let mut s = Slice::new(40);
        let a = StateId::new(1, 1);
        let b = StateId::new(2, 1);
        assert_eq!(s.cost(Q::UpdC), 88);
        s.push(Q::UpdC, a, 5);
        assert_eq!(s.deadline, Some(5 + super::super::FLUSH_NS));
        assert_eq!(s.cost(Q::UpdC), 84);
        s.push(Q::UpdC, b, 6);
        assert_eq!(s.len(), 40 + 4 + 2 * 84);
        assert!(s.remove(Q::UpdC, a));
        assert!(!s.remove(Q::UpdC, a));
        assert!(s.remove(Q::UpdC, b));
        assert!(s.is_empty());
        s.push(Q::Ins, a, 0);
        assert!(!s.fits(Q::Ins, 40 + 268 + 263));
        assert!(s.fits(Q::Ins, 40 + 268 + 264));
        let q = s.take();
        assert_eq!(q[Q::Ins as usize], vec![a]);
        assert!(s.is_empty() && s.deadline.is_none());
    }
}
