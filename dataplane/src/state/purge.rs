//! Expiry off the hot path: pf's `pf_purge_expired_states`, an
//! incremental walk that resumes where the last one stopped.

use super::table::{secs, StateTable};
use super::tracked::StateId;

impl StateTable {
    /// Slots in every shard, live or free: what one walk of
    /// [`Self::purge`] covers.
    pub fn slot_count(&self) -> usize {
        (0..self.shards.len())
            .map(|i| self.lock(i).slots.len())
            .sum()
    }

    /// Examine at most `budget` slots from where the previous call
    /// stopped and remove the states that are due (or doomed). Returns
    /// how many were removed. Call it often enough to walk the table
    /// once per `interval` (pf: `states / interval` per second).
    ///
    /// As in pf, the walk first collects and then removes, so adaptive
    /// timeouts are judged against the count before this call's removals.
    pub fn purge(&self, now_ns: u64, budget: usize) -> usize {
        let now = secs(now_ns);
        self.tick(now);
        self.src_nodes().purge(now);
        let n = self.shards.len();
        let mut cur = self.purge_cursor.lock().unwrap_or_else(|e| e.into_inner());
        let (mut scanned, mut shards_done) = (0, 0);
        let mut due = Vec::new();
        while scanned < budget && shards_done < n {
            let (si, start) = *cur;
            let g = self.lock(si);
            let mut i = start;
            while i < g.slots.len() && scanned < budget {
                scanned += 1;
                let Some(st) = g.slots.get(i) else { break };
                if st.live() && !self.alive(&g, st, now) {
                    due.push(StateId {
                        shard: si as u32,
                        idx: i as u32,
                        serial: st.serial,
                    });
                }
                i += 1;
            }
            if i >= g.slots.len() {
                *cur = ((si + 1) % n, 0);
                shards_done += 1;
            } else {
                *cur = (si, i);
            }
        }
        drop(cur);
        due.into_iter().filter(|&id| self.remove(id)).count()
    }
}
