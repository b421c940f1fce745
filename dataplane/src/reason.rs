//! Why a packet was dropped (or, for `Match`, why a rule decided): pf's
//! `PFRES_*` reasons, in pf's numbering, because pflog carries the number
//! and `tcpdump`/`tshark` print pf's names for it. The hot path returns a
//! `Reason` by value and bumps one counter; nothing is logged.

/// pf's drop reasons (`PFRES_*` in OpenBSD's `pfvar.h`), same numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
#[non_exhaustive]
pub enum Reason {
    /// A rule decided (pass or block).
    Match = 0,
    /// A header field points outside the packet, or a fragment offset is
    /// impossible.
    BadOffset = 1,
    /// A fragment that cannot be handled (overlap, no reassembly, ...).
    Fragment = 2,
    /// The packet is shorter than its headers say.
    Short = 3,
    /// Normalisation refused it: malformed header fields.
    Normalize = 4,
    /// Out of memory for state, fragment or table entries.
    Memory = 5,
    BadTimestamp = 6,
    Congestion = 7,
    /// IP options present and the rule has no `allow-opts`.
    IpOption = 8,
    /// Bad protocol checksum.
    ProtoCksum = 9,
    /// A packet that matches a state's key but not its sequence windows.
    StateMismatch = 10,
    /// Inserting the state failed (key collision).
    StateInsert = 11,
    /// `set limit states` or a rule's `max` reached.
    StateLimit = 12,
    /// A source-tracking limit (`max-src-*`) reached.
    SrcLimit = 13,
    /// A synproxy handshake step dropped the packet.
    Synproxy = 14,
    /// No translation address or port could be found.
    Translate = 15,
    NoRoute = 16,
}

impl Reason {
    pub const COUNT: usize = 17;

    pub const ALL: [Reason; Reason::COUNT] = [
        Reason::Match,
        Reason::BadOffset,
        Reason::Fragment,
        Reason::Short,
        Reason::Normalize,
        Reason::Memory,
        Reason::BadTimestamp,
        Reason::Congestion,
        Reason::IpOption,
        Reason::ProtoCksum,
        Reason::StateMismatch,
        Reason::StateInsert,
        Reason::StateLimit,
        Reason::SrcLimit,
        Reason::Synproxy,
        Reason::Translate,
        Reason::NoRoute,
    ];

    /// pf's name, as `pfctl -si` and tcpdump print it.
    pub fn name(self) -> &'static str {
        match self {
            Reason::Match => "match",
            Reason::BadOffset => "bad-offset",
            Reason::Fragment => "fragment",
            Reason::Short => "short",
            Reason::Normalize => "normalize",
            Reason::Memory => "memory",
            Reason::BadTimestamp => "bad-timestamp",
            Reason::Congestion => "congestion",
            Reason::IpOption => "ip-option",
            Reason::ProtoCksum => "proto-cksum",
            Reason::StateMismatch => "state-mismatch",
            Reason::StateInsert => "state-insert",
            Reason::StateLimit => "state-limit",
            Reason::SrcLimit => "src-limit",
            Reason::Synproxy => "synproxy",
            Reason::Translate => "translate",
            Reason::NoRoute => "no-route",
        }
    }

    pub fn code(self) -> u8 {
        self as u8
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One counter per reason, as `pfctl -si` shows them. Each worker owns
/// one; the control plane sums them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReasonCounters(pub [u64; Reason::COUNT]);

impl ReasonCounters {
    #[inline]
    pub fn bump(&mut self, r: Reason) {
        self.0[r as usize] += 1;
    }

    pub fn get(&self, r: Reason) -> u64 {
        self.0[r as usize]
    }

    pub fn add(&mut self, other: &ReasonCounters) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a += b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_pfs() {
        for (i, r) in Reason::ALL.iter().enumerate() {
            assert_eq!(r.code() as usize, i);
        }
        assert_eq!(Reason::StateMismatch.code(), 10);
        assert_eq!(Reason::NoRoute.name(), "no-route");
    }
}
