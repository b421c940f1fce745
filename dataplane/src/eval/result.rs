//! What one evaluation decides: pf's `rm`/`am`, the `match` rules met on
//! the way, and the actions they accumulated (`pf_rule_actions`).

use crate::reason::Reason;
use ruleset::compile::{CRule, TagId};
use ruleset::rule::Action;

use super::env::Flow;
use super::RuleRef;

/// Most `match` rules one packet can meet. pf keeps an unbounded list
/// whose allocation can fail (`PFRES_MEMORY`); pfd keeps a fixed array
/// and fails the same way past it, so the hot path never allocates.
pub const MAX_MATCHES: usize = 32;

/// The `match` rules that matched, in evaluation order.
#[derive(Clone, Copy)]
pub struct Matches {
    len: u8,
    rules: [RuleRef; MAX_MATCHES],
}

impl PartialEq for Matches {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Matches {}

impl std::fmt::Debug for Matches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl Default for Matches {
    fn default() -> Self {
        Matches {
            len: 0,
            rules: [RuleRef::MAIN_FIRST; MAX_MATCHES],
        }
    }
}

impl Matches {
    pub fn as_slice(&self) -> &[RuleRef] {
        self.rules.get(..usize::from(self.len)).unwrap_or(&[])
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// False when full.
    pub(super) fn push(&mut self, r: RuleRef) -> bool {
        match self.rules.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = r;
                self.len += 1;
                true
            }
            None => false,
        }
    }
}

/// Actions accumulated from every matching `match` rule and then the
/// deciding rule, later ones overriding (pf's `pf_rule_to_actions`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Actions {
    /// `set tos`
    pub set_tos: Option<u8>,
    /// `scrub (min-ttl N)`: last non-zero wins.
    pub min_ttl: u8,
    /// `scrub (max-mss N)`: last non-zero wins.
    pub max_mss: u16,
    /// `scrub (no-df)`, `scrub (random-id)`, `scrub (reassemble tcp)`:
    /// once set, set.
    pub no_df: bool,
    pub random_id: bool,
    pub reassemble_tcp: bool,
    /// `log` flags of every matching rule, or-ed.
    pub log: bool,
    pub log_all: bool,
    pub log_matches: bool,
    pub log_user: bool,
}

impl Actions {
    pub(super) fn apply(&mut self, r: &CRule) {
        let a = &r.actions;
        if a.set_tos.is_some() {
            self.set_tos = a.set_tos;
        }
        if a.scrub.min_ttl != 0 {
            self.min_ttl = a.scrub.min_ttl;
        }
        if a.scrub.max_mss != 0 {
            self.max_mss = a.scrub.max_mss;
        }
        self.no_df |= a.scrub.no_df;
        self.random_id |= a.scrub.random_id;
        self.reassemble_tcp |= a.scrub.reassemble_tcp;
        self.log |= r.log.enabled;
        self.log_all |= r.log.all;
        self.log_matches |= r.log.matches;
        self.log_user |= r.log.user;
    }
}

/// The outcome of evaluating the ruleset for one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvalResult {
    /// `Pass` or `Block`; never `Match`.
    pub action: Action,
    /// The last matching `pass`/`block` rule (or the first `quick` one);
    /// `None` is pf's default rule: pass, no state, no log.
    pub rule: Option<RuleRef>,
    /// pf's `am`: the anchor rule evaluation had most recently stepped
    /// into when `rule` matched. Like pf, this is not reset on leaving an
    /// anchor, so a main-ruleset rule after an anchor call reports that
    /// anchor.
    pub anchor: Option<RuleRef>,
    pub matches: Matches,
    /// Any matching rule (a `match` rule or `rule`) has `log`.
    pub log: bool,
    /// The packet's tag after evaluation (`tag` of the last matching
    /// rule that sets one, else the tag it came with).
    pub tag: Option<TagId>,
    /// Evaluation stopped at a `quick` rule (or a quick anchor).
    pub quick: bool,
    /// The last matching rule with `nat-to` (a `match` rule or `rule`).
    pub nat: Option<RuleRef>,
    /// The last matching rule with `rdr-to`.
    pub rdr: Option<RuleRef>,
    pub actions: Actions,
    /// Addresses and ports after every translation on the way (see
    /// [`super::EvalEnv::translate`]); the packet's own if none.
    pub flow: Flow,
    /// Why the packet is dropped regardless of `rule`: `IpOption` (IP
    /// options without `allow-opts` on the deciding rule), `Translate`
    /// (no translation address), `Memory` (more than [`MAX_MATCHES`]
    /// match rules), `Match` (anchors nested deeper than pf's 64, where
    /// pf sets no reason). `action` is `Block` whenever this is set.
    pub fail: Option<Reason>,
}
