//! What the engine decided about one packet.

use crate::pdesc::AddrKey;
use crate::reason::Reason;
use ruleset::addr::Af;

/// The verdict's action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Forward the (possibly rewritten) frame.
    Pass,
    /// Drop it; `Verdict::reason` says why.
    Block,
    /// A fragment held for reassembly: nothing to forward yet. The packet
    /// that completes the datagram carries the verdict of the whole.
    Held,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Pass => "pass",
            Action::Block => "block",
            Action::Held => "held",
        }
    }
}

/// Whether a state decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateOutcome {
    /// The rules passed the packet and created a state.
    New,
    /// The packet matched an existing state; the rules were not run.
    Match,
    /// No state involved.
    None,
}

impl StateOutcome {
    pub fn name(self) -> &'static str {
        match self {
            StateOutcome::New => "new",
            StateOutcome::Match => "match",
            StateOutcome::None => "none",
        }
    }
}

/// The rule that decided, as pf numbers it (`@nr` in its ruleset).
/// `Copy` and small: the anchor's name is looked up only when printed
/// (`Compiled::rulesets[ruleset].path`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleNr {
    pub ruleset: ruleset::compile::RulesetId,
    pub nr: u32,
}

/// One address and port of a translated packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub af: Af,
    pub addr: AddrKey,
    pub port: u16,
}

impl Endpoint {
    pub fn ip(&self) -> std::net::IpAddr {
        crate::pdesc::key_to_ip(self.af, self.addr)
    }
}

/// The addresses a translated packet leaves with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NatInfo {
    pub src: Endpoint,
    pub dst: Endpoint,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub action: Action,
    /// `Reason::Match` when a rule or state decided; the drop reason of
    /// a blocked packet otherwise.
    pub reason: Reason,
    /// The rule that decided (the state's creating rule on a state
    /// match); `None` for the default pass or a drop before the rules.
    pub rule: Option<RuleNr>,
    pub state: StateOutcome,
    pub nat: Option<NatInfo>,
    /// The pflog record, when a `log` rule (or a forced log) says so;
    /// boxed so a verdict stays a few words wide on the fast path.
    pub log: Option<Box<super::LogEntry>>,
    /// Frames the engine sends because of this packet, in order: a
    /// `block return` reply, synproxy's handshake segments. Each is a
    /// whole frame of the packet's link type.
    pub emit: Vec<Emitted>,
    /// `route-to`/`reply-to`/`dup-to` of the packet's state, when it
    /// applies to this packet: send it (or, dup-to, a copy of it) to
    /// this next hop instead of by the routing table.
    pub route: Option<super::route::RouteTo>,
    /// The pfsync identity of the state this packet created, unless the
    /// state is `no-sync`: pfsync's `defer` may hold the packet until
    /// the peer has that state (pf_test's `pfsync_defer`).
    pub created: Option<crate::state::SyncId>,
    /// A passed IPv6 packet pf reassembled: it leaves as fragments again
    /// (pf's `pf_refragment6`), cut by
    /// [`refragment6`](crate::frag::refragment6) where it is sent.
    pub refrag: Option<crate::frag::Refrag>,
}

/// Where an emitted frame goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Toward {
    /// Back to the packet's sender, out of the interface the packet was
    /// seen on (as a `block return` reply goes).
    Sender,
    /// On toward the packet's destination, as the packet would have gone
    /// had it passed.
    Onward,
}

impl Toward {
    pub fn name(self) -> &'static str {
        match self {
            Toward::Sender => "sender",
            Toward::Onward => "onward",
        }
    }
}

/// A frame the engine sends itself (pf's `pf_send_tcp`, `pf_send_icmp`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Emitted {
    pub frame: Vec<u8>,
    pub toward: Toward,
    /// pf marks the frame `PF_TAG_GENERATED`: no ruleset sees it on its
    /// way out. `false`: pf sends it through the ruleset of the
    /// interface it leaves by like any outbound packet (synproxy's SYN
    /// and ACK to the server), so a caller with several interfaces runs
    /// it through [`Engine::process`](super::Engine::process) outbound
    /// there.
    pub generated: bool,
}

impl Verdict {
    pub fn drop(reason: Reason) -> Self {
        Verdict {
            action: Action::Block,
            reason,
            rule: None,
            state: StateOutcome::None,
            nat: None,
            log: None,
            emit: Vec::new(),
            route: None,
            created: None,
            refrag: None,
        }
    }

    /// The frames going back to the packet's sender.
    pub fn replies(&self) -> impl Iterator<Item = &[u8]> {
        self.emit
            .iter()
            .filter(|e| e.toward == Toward::Sender)
            .map(|e| e.frame.as_slice())
    }
}
