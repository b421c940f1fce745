//! What the table is built with, and what a new state is made of.

use super::srcnode::SrcTrack;
use crate::key::StateKey;
use crate::pdesc::{Dir, Pdesc};
use ruleset::rule::PFTM_MAX;

#[derive(Clone, Debug)]
pub struct StateConfig {
    /// `set limit states`.
    pub limit: u32,
    /// `set timeout`, seconds, in `PFTM_*` order (adaptive.start/end are
    /// state counts).
    pub timeouts: [u32; PFTM_MAX],
    /// Number of lock shards (rounded up to 1).
    pub shards: usize,
    /// Secret for `modulate state` sequence modulators; the daemon fills
    /// it from the OS's random source (the library reads none itself).
    pub seed: u64,
}

impl Default for StateConfig {
    /// pf's defaults: 100000 states, the default timeouts.
    fn default() -> Self {
        StateConfig {
            limit: 100_000,
            timeouts: ruleset::ruleset::DEFAULT_TIMEOUTS,
            shards: 64,
            seed: 0x5eed_5eed_5eed_5eed,
        }
    }
}

/// Everything pf's `pf_create_state` takes from the rule and the packet.
#[derive(Clone, Debug)]
pub struct NewState {
    /// The key as the packet is on the wire of this interface.
    pub wire: StateKey,
    /// The key as the host behind the firewall sees it; equal to `wire`
    /// unless the rule translates.
    pub stack: StateKey,
    /// Direction of the creating packet.
    pub dir: Dir,
    /// (ruleset, rule number) of the creating rule.
    pub rule: (u32, u32),
    /// Per-rule timeouts, 0 = the global value.
    pub timeouts: [u32; PFTM_MAX],
    /// The rule's `max` (0 = none).
    pub max_states_rule: u32,
    /// Interface index for `if-bound` states, `None` for floating.
    pub if_bound: Option<u32>,
    pub sloppy: bool,
    /// `modulate state`: give the creating peer a sequence modulator.
    /// Read it back with [`StateTable::info`](super::StateTable::info)
    /// to rewrite the creating SYN.
    pub modulate: bool,
    /// The rule translated the creating packet (the keys then differ,
    /// except for a no-op translation).
    pub translated: bool,
    /// Source tracking (`source-track`, `max-src-*`), if the rule asks.
    pub src_track: Option<SrcTrack>,
    /// Non-zero: report this state's removal, with this tag, through
    /// [`StateTable::drain_released`](super::StateTable::drain_released)
    /// (the engine's `sticky-address` nodes live while states use them).
    pub release_tag: u64,
    /// Scrub settings every packet of the state gets.
    pub scrub: super::Scrub,
    /// The rule's `no-sync`: pfsync never sends the state.
    pub no_sync: bool,
    /// The rule's `allow-opts`: packets with IP options may pass on the
    /// state (pf's `PFSTATE_ALLOWOPTS`).
    pub allow_opts: bool,
    /// The creating packet: TCP sequence and window state start from it,
    /// and it is counted (by `pd.ip_len`) on the new state.
    pub pd: Pdesc,
}
