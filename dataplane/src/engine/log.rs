//! pflog records for logged packets (pf's `pflog_packet`): the engine
//! builds them, the caller writes them where it logs.

use super::ifaces::Iface;
use super::{Engine, Packet};
use crate::pdesc::{key_to_ip, Pdesc};
use crate::pflog::{PfAction, PflogRecord, NO_PID, UID_NONE};
use crate::reason::Reason;
use ruleset::compile::CRule;

/// One logged packet: the pflog header and the IP packet as it was seen
/// (before translation, as pf logs it with `rewritten` unset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    pub record: PflogRecord,
    pub packet: Vec<u8>,
}

fn record(pkt: &Packet<'_>, pd: &Pdesc, ifp: &Iface, reason: Reason, pass: bool) -> PflogRecord {
    PflogRecord {
        af: pd.af,
        action: if pass { PfAction::Pass } else { PfAction::Drop },
        reason,
        ifname: ifp.name.clone(),
        ruleset: String::new(),
        rulenr: u32::MAX,
        subrulenr: u32::MAX,
        uid: UID_NONE,
        pid: NO_PID,
        rule_uid: 0,
        rule_pid: 0,
        dir: pkt.dir,
        rewritten: false,
        naf: pd.af,
        saddr: key_to_ip(pd.af, pd.src),
        daddr: key_to_ip(pd.af, pd.dst),
        sport: pd.sport,
        dport: pd.dport,
    }
}

fn ip_bytes(pkt: &Packet<'_>, pd: &Pdesc) -> Vec<u8> {
    let start = usize::from(pd.l3_off);
    let end = start
        .saturating_add(usize::from(pd.ip_len))
        .min(pkt.frame.len());
    pkt.frame.get(start..end).unwrap_or_default().to_vec()
}

/// The entry for a packet decided by `rule` (ruleset, index).
#[allow(clippy::too_many_arguments)]
pub(super) fn entry(
    eng: &Engine,
    pkt: &Packet<'_>,
    pd: &Pdesc,
    ifp: &Iface,
    rule: &CRule,
    at: (u32, u32),
    reason: Reason,
    pass: bool,
) -> LogEntry {
    let mut rec = record(pkt, pd, ifp, reason, pass);
    match eng.compiled().rulesets.get(at.0 as usize) {
        Some(rs) if !rs.path.is_empty() => {
            // pf names the anchor and numbers the rule inside it; the
            // main ruleset's number would be the anchor call's.
            rec.ruleset = rs.path.clone();
            rec.subrulenr = rule.nr;
        }
        _ => rec.rulenr = rule.nr,
    }
    LogEntry {
        record: rec,
        packet: ip_bytes(pkt, pd),
    }
}

/// The entry for a packet no rule decided (pf's default rule, -1).
pub(super) fn default_entry(
    pkt: &Packet<'_>,
    pd: &Pdesc,
    ifp: &Iface,
    reason: Reason,
    pass: bool,
) -> LogEntry {
    LogEntry {
        record: record(pkt, pd, ifp, reason, pass),
        packet: ip_bytes(pkt, pd),
    }
}
