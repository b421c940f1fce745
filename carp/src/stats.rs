//! `struct carpstats` (spec §7.2): sixteen counters in OpenBSD's order,
//! so `netstat -s -p carp`-style output and the sysctl blob line up.

/// OpenBSD's carp statistics. Every received advert that is dropped is
/// counted in exactly one of the `bad*` fields (or nowhere when
/// `net.inet.carp.allow` is 0, as in OpenBSD).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CarpStats {
    /// IPv4 adverts received.
    pub ipackets: u64,
    /// IPv6 adverts received.
    pub ipackets6: u64,
    /// Received on an interface with no carp interface.
    pub badif: u64,
    /// TTL / hop limit other than 255.
    pub badttl: u64,
    /// OpenBSD: pullup failed. Never counted here (the daemon hands us
    /// contiguous bytes); kept so the layout matches.
    pub hdrops: u64,
    /// Checksum failed.
    pub badsum: u64,
    /// Version other than 2.
    pub badver: u64,
    /// Shorter than 36 bytes.
    pub badlen: u64,
    /// HMAC failed in both contexts, or our own cookie looped back.
    pub badauth: u64,
    /// No vhost with that vhid, or its interface not up and running.
    pub badvhid: u64,
    /// Unused by OpenBSD; kept for the layout.
    pub badaddrs: u64,
    /// IPv4 adverts sent.
    pub opackets: u64,
    /// IPv6 adverts sent.
    pub opackets6: u64,
    /// Adverts the daemon could not send for lack of buffers (ENOBUFS).
    pub onomem: u64,
    /// Unused by OpenBSD; kept for the layout.
    pub ostates: u64,
    /// Transitions to MASTER.
    pub preempt: u64,
}

/// Field names in `struct carpstats` order (without the `carps_` prefix).
pub const NAMES: [&str; 16] = [
    "ipackets",
    "ipackets6",
    "badif",
    "badttl",
    "hdrops",
    "badsum",
    "badver",
    "badlen",
    "badauth",
    "badvhid",
    "badaddrs",
    "opackets",
    "opackets6",
    "onomem",
    "ostates",
    "preempt",
];

impl CarpStats {
    /// The counters in `struct carpstats` order.
    pub fn to_array(&self) -> [u64; 16] {
        [
            self.ipackets,
            self.ipackets6,
            self.badif,
            self.badttl,
            self.hdrops,
            self.badsum,
            self.badver,
            self.badlen,
            self.badauth,
            self.badvhid,
            self.badaddrs,
            self.opackets,
            self.opackets6,
            self.onomem,
            self.ostates,
            self.preempt,
        ]
    }

    /// OpenBSD's sysctl blob: sixteen native-endian u64s.
    pub fn to_ne_bytes(&self) -> [u8; 128] {
        let mut out = [0u8; 128];
        for (chunk, v) in out.chunks_exact_mut(8).zip(self.to_array()) {
            chunk.copy_from_slice(&v.to_ne_bytes());
        }
        out
    }

    /// Sum of the drop counters: every received advert not handed to the
    /// state machine.
    pub fn dropped(&self) -> u64 {
        self.badif
            + self.badttl
            + self.hdrops
            + self.badsum
            + self.badver
            + self.badlen
            + self.badauth
            + self.badvhid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_follows_struct_carpstats_order() {
        let s = CarpStats {
            ipackets: 1,
            badlen: 8,
            preempt: 16,
            ..Default::default()
        };
        let a = s.to_array();
        assert_eq!(a[0], 1);
        assert_eq!(a[NAMES.iter().position(|n| *n == "badlen").unwrap()], 8);
        assert_eq!(a[15], 16);
        assert_eq!(&s.to_ne_bytes()[120..128], &16u64.to_ne_bytes());
    }
}
