//! Which interfaces carry a default route, from Linux's
//! `/proc/net/route` and `/proc/net/ipv6_route`. OpenBSD puts those
//! interfaces in the `egress` group; we derive the same group.

const RTF_UP: u32 = 0x0001;
/// `unreachable`/`prohibit` defaults (Linux adds one on `lo` for IPv6)
/// do not make an interface an egress interface.
const RTF_REJECT: u32 = 0x0200;

fn usable(flags: u32) -> bool {
    flags & RTF_UP != 0 && flags & RTF_REJECT == 0
}

/// Interfaces with an IPv4 default route, from `/proc/net/route` text.
pub(crate) fn ipv4_default_ifaces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    // Columns: Iface Destination Gateway Flags RefCnt Use Metric Mask ...
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 {
            continue;
        }
        let hex = |s: &str| u32::from_str_radix(s, 16).ok();
        if let (Some(0), Some(flags), Some(0)) = (hex(f[1]), hex(f[3]), hex(f[7])) {
            if usable(flags) && !out.iter().any(|n| n == f[0]) {
                out.push(f[0].to_string());
            }
        }
    }
    out
}

/// Interfaces with an IPv6 default route, from `/proc/net/ipv6_route`.
pub(crate) fn ipv6_default_ifaces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    // Columns: dest plen src splen nexthop metric refcnt use flags iface
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 {
            continue;
        }
        let zero_dest = f[0].len() == 32 && f[0].bytes().all(|b| b == b'0');
        let plen = u8::from_str_radix(f[1], 16).ok();
        let flags = u32::from_str_radix(f[8], 16).ok();
        if let (true, Some(0), Some(flags)) = (zero_dest, plen, flags) {
            if usable(flags) && !out.iter().any(|n| n == f[9]) {
                out.push(f[9].to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_default() {
        let t =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                 eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
                 eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
                 wg0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n";
        assert_eq!(ipv4_default_ifaces(t), ["eth0", "wg0"]);
        assert!(ipv4_default_ifaces("header only\n").is_empty());
    }

    #[test]
    fn ipv6_default_skips_reject() {
        let t = "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n\
                 00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0\n\
                 00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n";
        assert_eq!(ipv6_default_ifaces(t), ["eth0"]);
    }
}
