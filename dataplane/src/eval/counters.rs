//! Per-rule counters (pf's `evaluations`, `packets[2]`, `bytes[2]`,
//! `states_tot`). Each worker keeps its own; whoever reads them sums the
//! workers' copies, so the hot path writes only its own cache lines.

use crate::pdesc::Dir;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RuleCounters {
    /// Times the rule was tested (pf counts what its skip steps reach;
    /// pfd counts what its classifier reaches).
    pub evaluations: u64,
    /// Packets and bytes, `[in, out]`.
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    /// States this rule created.
    pub states_created: u64,
}

impl RuleCounters {
    /// Add another worker's counters.
    pub fn add(&mut self, o: &RuleCounters) {
        self.evaluations = self.evaluations.wrapping_add(o.evaluations);
        for i in 0..2 {
            self.packets[i] = self.packets[i].wrapping_add(o.packets[i]);
            self.bytes[i] = self.bytes[i].wrapping_add(o.bytes[i]);
        }
        self.states_created = self.states_created.wrapping_add(o.states_created);
    }

    pub(super) fn count(&mut self, dir: Dir, bytes: u64) {
        let i = usize::from(dir == Dir::Out);
        self.packets[i] = self.packets[i].wrapping_add(1);
        self.bytes[i] = self.bytes[i].wrapping_add(bytes);
    }
}
