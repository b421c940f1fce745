//! `struct pfsyncstats` (spec §8): sixteen u64 counters in OpenBSD's
//! order, and `netstat -s -p pfsync`'s rendering of them.

use std::fmt::Write;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub ipackets: u64,
    /// Never counted: pfsync runs over IPv4 only, as in OpenBSD.
    pub ipackets6: u64,
    pub badif: u64,
    pub badttl: u64,
    pub hdrops: u64,
    pub badver: u64,
    pub badact: u64,
    pub badlen: u64,
    /// pfd's authenticated mode only (OpenBSD never counts it).
    pub badauth: u64,
    pub stale: u64,
    pub badval: u64,
    pub badstate: u64,
    pub opackets: u64,
    pub opackets6: u64,
    pub onomem: u64,
    pub oerrors: u64,
}

/// Which counter a dropped packet or record goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropReason {
    BadIf,
    BadTtl,
    HdrOps,
    BadVer,
    BadAct,
    BadLen,
    BadAuth,
    BadVal,
    BadState,
}

impl Stats {
    /// The counters in `struct pfsyncstats` order, as the sysctl returns
    /// them.
    pub fn to_array(&self) -> [u64; 16] {
        [
            self.ipackets,
            self.ipackets6,
            self.badif,
            self.badttl,
            self.hdrops,
            self.badver,
            self.badact,
            self.badlen,
            self.badauth,
            self.stale,
            self.badval,
            self.badstate,
            self.opackets,
            self.opackets6,
            self.onomem,
            self.oerrors,
        ]
    }

    pub fn count(&mut self, d: DropReason) {
        let c = match d {
            DropReason::BadIf => &mut self.badif,
            DropReason::BadTtl => &mut self.badttl,
            DropReason::HdrOps => &mut self.hdrops,
            DropReason::BadVer => &mut self.badver,
            DropReason::BadAct => &mut self.badact,
            DropReason::BadLen => &mut self.badlen,
            DropReason::BadAuth => &mut self.badauth,
            DropReason::BadVal => &mut self.badval,
            DropReason::BadState => &mut self.badstate,
        };
        *c += 1;
    }

    /// `netstat -s -p pfsync` (`sflag` 1) or `-s -s` (`sflag` 2: zero
    /// counters left out), header line included.
    pub fn netstat(&self, sflag: u8) -> String {
        let mut out = String::from("pfsync:\n");
        let plural = |n: u64| if n == 1 { "" } else { "s" };
        let lines: [(u64, &str, &str, bool); 16] = [
            (self.ipackets, "\t", "packet%s received (IPv4)", true),
            (self.ipackets6, "\t", "packet%s received (IPv6)", true),
            (
                self.badif,
                "\t\t",
                "packet%s discarded for bad interface",
                true,
            ),
            (self.badttl, "\t\t", "packet%s discarded for bad ttl", true),
            (self.hdrops, "\t\t", "packet%s shorter than header", true),
            (
                self.badver,
                "\t\t",
                "packet%s discarded for bad version",
                true,
            ),
            (
                self.badauth,
                "\t\t",
                "packet%s discarded for bad HMAC",
                true,
            ),
            (
                self.badact,
                "\t\t",
                "packet%s discarded for bad action",
                true,
            ),
            (
                self.badlen,
                "\t\t",
                "packet%s discarded for short packet",
                true,
            ),
            (
                self.badval,
                "\t\t",
                "state%s discarded for bad values",
                true,
            ),
            (self.stale, "\t\t", "stale state%s", true),
            (self.badstate, "\t\t", "failed state lookup/insert%s", true),
            (self.opackets, "\t", "packet%s sent (IPv4)", true),
            (self.opackets6, "\t", "packet%s sent (IPv6)", true),
            (
                self.onomem,
                "\t\t",
                "send failed due to mbuf memory error",
                false,
            ),
            (self.oerrors, "\t\t", "send error", false),
        ];
        for (n, indent, text, has_plural) in lines {
            if n == 0 && sflag > 1 {
                continue;
            }
            let text = if has_plural {
                text.replace("%s", plural(n))
            } else {
                text.to_string()
            };
            let _ = writeln!(out, "{indent}{n} {text}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_openbsds() {
        let s = Stats {
            ipackets: 1,
            badauth: 9,
            stale: 10,
            oerrors: 16,
            ..Stats::default()
        };
        let a = s.to_array();
        assert_eq!((a[0], a[8], a[9], a[15]), (1, 9, 10, 16));
    }

    #[test]
    fn netstat_text() {
        let s = Stats {
            ipackets: 1,
            badttl: 2,
            opackets: 3,
            ..Stats::default()
        };
        let all = s.netstat(1);
        assert!(
            all.starts_with("pfsync:\n\t1 packet received (IPv4)\n\t0 packets received (IPv6)\n")
        );
        assert!(all.contains("\t\t2 packets discarded for bad ttl\n"));
        assert!(all.ends_with("\t\t0 send failed due to mbuf memory error\n\t\t0 send error\n"));
        assert_eq!(all.lines().count(), 17);
        assert_eq!(
            s.netstat(2),
            "pfsync:\n\t1 packet received (IPv4)\n\t\t2 packets discarded for bad ttl\n\t3 packets sent (IPv4)\n"
        );
    }
}
