//! What the router did with a frame, counted. Drops are typed so the
//! daemon can show them beside pf's own counters (`pfctl -si` style); the
//! names follow the kernel's `ipstat`/`icmp6stat` where there is one.

use crate::reason::Reason;

/// Why the router did not deliver or forward a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum Drop {
    /// No route to the destination (`ips_noroute`).
    NoRoute = 0,
    /// TTL or hop limit ran out (`ips_cantforward`, time exceeded sent).
    TtlExceeded,
    /// IPv4 with DF larger than the egress MTU (`ips_cantfrag`).
    NeedFrag,
    /// IPv6 larger than the egress MTU (`ip6s_toobig`).
    TooBig,
    /// Too big and cannot be fragmented (MTU smaller than the header
    /// plus 8 bytes, or an IPv4 fragment whose pieces would not fit).
    CantFrag,
    /// Neighbour resolution failed or is in its hold-down.
    HostUnreach,
    /// A frame waiting for resolution was pushed out of its queue.
    PendingOverflow,
    /// Frames still waiting when resolution gave up.
    PendingExpired,
    /// Shorter than its headers say, or a header field out of range.
    Malformed,
    /// Bad IPv4 header or ICMP/ICMPv6 checksum.
    BadChecksum,
    /// ARP or neighbour discovery about an address that is not ours,
    /// or a message the protocol says to ignore.
    NotForUs,
    /// Source or destination that is never forwarded: multicast,
    /// broadcast, unspecified, loopback, link-local.
    Martian,
    /// Addressed to us but nothing here answers it (only echo and
    /// neighbour discovery are handled locally).
    LocalUnhandled,
    /// The egress interface has no address of the family to send from.
    NoSourceAddress,
    /// An interface index nobody configured.
    UnknownInterface,
    /// Someone else claims one of our addresses (ARP or NA).
    DuplicateAddress,
    /// Our own frame came back (sender MAC is ours).
    Looped,
}

impl Drop {
    pub const COUNT: usize = 17;

    pub const ALL: [Drop; Drop::COUNT] = [
        Drop::NoRoute,
        Drop::TtlExceeded,
        Drop::NeedFrag,
        Drop::TooBig,
        Drop::CantFrag,
        Drop::HostUnreach,
        Drop::PendingOverflow,
        Drop::PendingExpired,
        Drop::Malformed,
        Drop::BadChecksum,
        Drop::NotForUs,
        Drop::Martian,
        Drop::LocalUnhandled,
        Drop::NoSourceAddress,
        Drop::UnknownInterface,
        Drop::DuplicateAddress,
        Drop::Looped,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Drop::NoRoute => "no-route",
            Drop::TtlExceeded => "ttl-exceeded",
            Drop::NeedFrag => "need-frag",
            Drop::TooBig => "too-big",
            Drop::CantFrag => "cant-frag",
            Drop::HostUnreach => "host-unreach",
            Drop::PendingOverflow => "pending-overflow",
            Drop::PendingExpired => "pending-expired",
            Drop::Malformed => "malformed",
            Drop::BadChecksum => "bad-checksum",
            Drop::NotForUs => "not-for-us",
            Drop::Martian => "martian",
            Drop::LocalUnhandled => "local-unhandled",
            Drop::NoSourceAddress => "no-source-address",
            Drop::UnknownInterface => "unknown-interface",
            Drop::DuplicateAddress => "duplicate-address",
            Drop::Looped => "looped",
        }
    }

    /// The pf reason the engine records when it must name one (pflog of
    /// a packet pf passed but the router dropped).
    pub fn reason(self) -> Reason {
        match self {
            Drop::NoRoute | Drop::HostUnreach | Drop::NoSourceAddress | Drop::UnknownInterface => {
                Reason::NoRoute
            }
            Drop::CantFrag | Drop::NeedFrag | Drop::TooBig => Reason::Fragment,
            Drop::PendingOverflow | Drop::PendingExpired => Reason::Memory,
            Drop::Malformed => Reason::Short,
            Drop::BadChecksum => Reason::ProtoCksum,
            Drop::TtlExceeded
            | Drop::NotForUs
            | Drop::Martian
            | Drop::LocalUnhandled
            | Drop::DuplicateAddress
            | Drop::Looped => Reason::Normalize,
        }
    }
}

impl std::fmt::Display for Drop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Things the router did, beside drops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum Event {
    Forwarded = 0,
    /// Fragments made from too-big IPv4 packets without DF.
    FragmentsMade,
    EchoReplied,
    ArpReplied,
    ArpRequested,
    NeighborAdvertised,
    NeighborSolicited,
    IcmpErrorSent,
    /// ICMP errors not sent because of the rate limit (the kernel's
    /// `icmperrppslim`).
    IcmpErrorRateLimited,
    /// Frames queued while their next hop was resolved.
    Queued,
    /// Queued frames sent once the next hop answered.
    Released,
    /// Entries pushed out of a full neighbour cache.
    NeighborEvicted,
    /// ICMP host redirects sent (`ips_redirectsent`).
    RedirectSent,
    /// Solicitations put off by the per-second limit.
    SolicitDeferred,
    /// TCP resets for segments to the router's addresses.
    ResetSent,
}

impl Event {
    pub const COUNT: usize = 15;

    pub const ALL: [Event; Event::COUNT] = [
        Event::Forwarded,
        Event::FragmentsMade,
        Event::EchoReplied,
        Event::ArpReplied,
        Event::ArpRequested,
        Event::NeighborAdvertised,
        Event::NeighborSolicited,
        Event::IcmpErrorSent,
        Event::IcmpErrorRateLimited,
        Event::Queued,
        Event::Released,
        Event::NeighborEvicted,
        Event::RedirectSent,
        Event::SolicitDeferred,
        Event::ResetSent,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Event::Forwarded => "forwarded",
            Event::FragmentsMade => "fragments-made",
            Event::EchoReplied => "echo-replied",
            Event::ArpReplied => "arp-replied",
            Event::ArpRequested => "arp-requested",
            Event::NeighborAdvertised => "neighbor-advertised",
            Event::NeighborSolicited => "neighbor-solicited",
            Event::IcmpErrorSent => "icmp-error-sent",
            Event::IcmpErrorRateLimited => "icmp-error-rate-limited",
            Event::Queued => "queued",
            Event::Released => "released",
            Event::NeighborEvicted => "neighbor-evicted",
            Event::RedirectSent => "redirect-sent",
            Event::SolicitDeferred => "solicit-deferred",
            Event::ResetSent => "reset-sent",
        }
    }
}

/// One counter per drop reason and per event. Each worker owns one;
/// the control plane sums them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub drops: [u64; Drop::COUNT],
    pub events: [u64; Event::COUNT],
}

impl Counters {
    /// Add another worker's router counts to these.
    pub fn add(&mut self, o: &Counters) {
        for (a, b) in self.drops.iter_mut().zip(o.drops) {
            *a += b;
        }
        for (a, b) in self.events.iter_mut().zip(o.events) {
            *a += b;
        }
    }

    #[inline]
    pub fn drop(&mut self, d: Drop) {
        let c = &mut self.drops[d as usize];
        *c = c.wrapping_add(1);
    }

    #[inline]
    pub fn event(&mut self, e: Event) {
        self.event_n(e, 1);
    }

    #[inline]
    pub fn event_n(&mut self, e: Event, n: u64) {
        let c = &mut self.events[e as usize];
        *c = c.wrapping_add(n);
    }

    pub fn dropped(&self, d: Drop) -> u64 {
        self.drops[d as usize]
    }

    pub fn count(&self, e: Event) -> u64 {
        self.events[e as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_order() {
        for (i, d) in Drop::ALL.iter().enumerate() {
            assert_eq!(*d as usize, i);
        }
        for (i, e) in Event::ALL.iter().enumerate() {
            assert_eq!(*e as usize, i);
        }
        let mut names: Vec<_> = Event::ALL.iter().map(|e| e.name()).collect();
        names.extend(Drop::ALL.iter().map(|d| d.name()));
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
        assert_eq!(Drop::NoRoute.reason(), Reason::NoRoute);
    }
}
