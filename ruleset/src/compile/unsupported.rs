//! The pf.conf features pfd parses but will not enforce, and the errors
//! that refuse them. A rule that silently lost one of these would let
//! through (or drop) traffic the administrator wrote a rule about, so
//! every one of them fails the whole load instead, pfctl-style: all
//! offenders listed, nothing applied.

use crate::addr::AddrWrap;
use crate::rule::{Divert, Op, Rule};
use crate::ruleset::Ruleset;
use crate::table::RadixError;
use std::fmt;

/// A feature pfd refuses. Each variant says why next to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Feature {
    /// `os "..."`: needs the passive OS fingerprint database and SYN
    /// option parsing that pfd does not carry.
    OsFingerprint,
    /// `set fingerprints`: the same database, loaded globally.
    SetFingerprints,
    /// `divert-to`: hands packets to a local socket; pfd has none.
    DivertTo,
    /// `divert-reply`: matches replies to local sockets; pfd has none.
    DivertReply,
    /// `divert-packet`: needs a divert(4) socket to a userland daemon.
    DivertPacket,
    /// `route "label"`: needs route labels on the host's routing table,
    /// which Linux does not have.
    RouteLabel,
    /// `urpf-failed`: needs a per-packet routing table lookup that pfd's
    /// data plane does not do.
    UrpfFailed,
    /// `user`: pfd forwards; it has no local sockets whose owner to match.
    User,
    /// `group`: as `user`.
    Group,
    /// `received-on`: needs the receiving interface carried in the mbuf
    /// across output, which pfd's pipeline does not keep.
    ReceivedOn,
    /// `rtable N` with N other than 0: pfd has one routing table.
    Rtable,
    /// `on rdomain N` with N other than 0: pfd has one routing domain.
    OnRdomain,
    /// Queue definitions: pfd has no packet scheduler.
    Queues,
    /// `set queue`: as queue definitions.
    SetQueue,
    /// `set delay`: needs a delay line in the data plane.
    SetDelay,
    /// `max-pkt-rate`: per-rule packet rate limiting is not implemented.
    MaxPktRate,
    /// `set prio`: needs the priority queues pfd does not have.
    SetPrio,
    /// `prio N` matching: packets carry no priority in pfd.
    Prio,
    /// `af-to`: NAT64 translation between families is not implemented.
    AfTo,
    /// `pflow` state option: no pflow(4) exporter.
    Pflow,
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Feature::OsFingerprint => "os fingerprints",
            Feature::SetFingerprints => "set fingerprints",
            Feature::DivertTo => "divert-to",
            Feature::DivertReply => "divert-reply",
            Feature::DivertPacket => "divert-packet",
            Feature::RouteLabel => "route labels",
            Feature::UrpfFailed => "urpf-failed",
            Feature::User => "user",
            Feature::Group => "group",
            Feature::ReceivedOn => "received-on",
            Feature::Rtable => "rtable other than 0",
            Feature::OnRdomain => "on rdomain other than 0",
            Feature::Queues => "queues",
            Feature::SetQueue => "set queue",
            Feature::SetDelay => "set delay",
            Feature::MaxPktRate => "max-pkt-rate",
            Feature::SetPrio => "set prio",
            Feature::Prio => "prio",
            Feature::AfTo => "af-to",
            Feature::Pflow => "pflow",
        })
    }
}

/// Why one part of the ruleset cannot be compiled. `line` is the line of
/// the pf.conf statement (`Rule.line`), 0 for ruleset-wide settings that
/// carry no line. The file name is not known here (the parser does not
/// keep it per rule), so [`CompileError::in_file`] adds it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompileError {
    #[error("line {line}: not supported: {feature}")]
    Unsupported {
        /// Anchor path of the rule ("" for the main ruleset).
        anchor: String,
        line: u32,
        feature: Feature,
    },
    #[error("table <{name}>: {source}")]
    Table {
        anchor: String,
        name: String,
        source: RadixError,
    },
}

impl CompileError {
    /// pfctl's `FILE:LINE: message` form.
    pub fn in_file<'a>(&'a self, file: &'a str) -> impl fmt::Display + 'a {
        InFile { err: self, file }
    }
}

struct InFile<'a> {
    err: &'a CompileError,
    file: &'a str,
}

impl fmt::Display for InFile<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.err {
            CompileError::Unsupported {
                line: 0, feature, ..
            } => {
                write!(f, "{}: not supported: {feature}", self.file)
            }
            CompileError::Unsupported { line, feature, .. } => {
                write!(f, "{}:{line}: not supported: {feature}", self.file)
            }
            CompileError::Table { name, source, .. } => {
                write!(f, "{}: table <{name}>: {source}", self.file)
            }
        }
    }
}

/// Every error of one compile, in ruleset order (main ruleset first, then
/// anchors by path).
#[derive(Clone, Debug, PartialEq, Eq, Default, thiserror::Error)]
pub struct CompileErrors(pub Vec<CompileError>);

impl CompileErrors {
    /// One `FILE:LINE: not supported: feature` line per error.
    pub fn render(&self, file: &str) -> String {
        let mut s = String::new();
        for e in &self.0 {
            s.push_str(&e.in_file(file).to_string());
            s.push('\n');
        }
        s
    }
}

impl fmt::Display for CompileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Ruleset-wide settings pfd refuses.
pub(super) fn global_features(rs: &Ruleset) -> Vec<Feature> {
    let mut out = Vec::new();
    if !rs.queues.is_empty() {
        out.push(Feature::Queues);
    }
    if rs.options.fingerprints.is_some() {
        out.push(Feature::SetFingerprints);
    }
    out
}

fn addr_features(a: &AddrWrap, out: &mut Vec<Feature>) {
    match a {
        AddrWrap::RouteLabel(_) => out.push(Feature::RouteLabel),
        AddrWrap::UrpfFailed => out.push(Feature::UrpfFailed),
        _ => {}
    }
}

/// Everything in `r` that pfd refuses, each feature once, in a fixed
/// order.
pub(super) fn rule_features(r: &Rule) -> Vec<Feature> {
    let mut out = Vec::new();
    if r.os.is_some() {
        out.push(Feature::OsFingerprint);
    }
    match r.divert {
        Divert::None => {}
        Divert::To { .. } => out.push(Feature::DivertTo),
        Divert::Reply => out.push(Feature::DivertReply),
        Divert::Packet { .. } => out.push(Feature::DivertPacket),
    }
    addr_features(&r.src.addr, &mut out);
    addr_features(&r.dst.addr, &mut out);
    for p in [&r.nat, &r.rdr, &r.route] {
        if let Some(a) = &p.addr {
            addr_features(a, &mut out);
        }
    }
    if r.uid.op != Op::None {
        out.push(Feature::User);
    }
    if r.gid.op != Op::None {
        out.push(Feature::Group);
    }
    if r.received_on.is_some() {
        out.push(Feature::ReceivedOn);
    }
    if r.rtable.is_some_and(|t| t != 0) {
        out.push(Feature::Rtable);
    }
    if r.onrdomain.is_some_and(|d| d != 0) {
        out.push(Feature::OnRdomain);
    }
    if r.set.queue.is_some() {
        out.push(Feature::SetQueue);
    }
    if r.set.delay.is_some() {
        out.push(Feature::SetDelay);
    }
    if r.max_pkt_rate.0 != 0 {
        out.push(Feature::MaxPktRate);
    }
    if r.set.prio.is_some() {
        out.push(Feature::SetPrio);
    }
    if r.prio.is_some() {
        out.push(Feature::Prio);
    }
    if r.afto {
        out.push(Feature::AfTo);
    }
    if r.state.pflow {
        out.push(Feature::Pflow);
    }
    // Features can repeat across src/dst/pools; report each once.
    let mut seen = Vec::with_capacity(out.len());
    out.retain(|f| {
        let new = !seen.contains(f);
        seen.push(*f);
        new
    });
    out
}
