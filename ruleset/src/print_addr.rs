//! pfctl's `print_addr()`: one address operand as `pfctl -nv` prints it.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv6Addr};

use crate::addr::{AddrWrap, Af};

/// Append `a` as pfctl prints it for a rule of family `af` (`None` when
/// the rule has none). `verbose` is pfctl's `-vv`, which adds the
/// run-time counts; before loading they are unknown (`:*`) for dynamic
/// interfaces and zero for tables, as in a rule pfctl has not loaded.
///
/// An address/mask is printed in its own family; `af` only decides how
/// long a prefix is "full" and so left out.
pub fn print_addr(out: &mut String, a: &AddrWrap, af: Option<Af>, verbose: bool) {
    match a {
        AddrWrap::Any => out.push_str("any"),
        AddrWrap::AddrMask { addr, prefix } => {
            if addr.is_unspecified() && *prefix == 0 {
                out.push_str("any");
                return;
            }
            write_ip(out, *addr);
            let bits = af.unwrap_or(Af::of(addr)).bits();
            if *prefix < bits {
                let _ = write!(out, "/{prefix}");
            }
        }
        AddrWrap::Range { from, to } => {
            write_ip(out, *from);
            out.push_str(" - ");
            write_ip(out, *to);
        }
        AddrWrap::DynIf {
            ifname,
            flags,
            prefix,
        } => {
            out.push('(');
            out.push_str(ifname);
            for (on, text) in [
                (flags.network, ":network"),
                (flags.broadcast, ":broadcast"),
                (flags.peer, ":peer"),
                (flags.noalias, ":0"),
            ] {
                if on {
                    out.push_str(text);
                }
            }
            if verbose {
                out.push_str(":*");
            }
            out.push(')');
            // gen_dynnode() cuts an inet rule's mask to 32 bits; a family
            // left open compares against 128.
            let bits = af.map_or(128, Af::bits);
            let prefix = if af == Some(Af::Inet) {
                (*prefix).min(32)
            } else {
                *prefix
            };
            if prefix != 0 && prefix < bits {
                let _ = write!(out, "/{prefix}");
            }
        }
        AddrWrap::Table { name } => {
            let _ = if verbose {
                write!(out, "<{name}:0>")
            } else {
                write!(out, "<{name}>")
            };
        }
        AddrWrap::NoRoute => out.push_str("no-route"),
        AddrWrap::UrpfFailed => out.push_str("urpf-failed"),
        AddrWrap::RouteLabel(label) => {
            let _ = write!(out, "route \"{label}\"");
        }
    }
}

/// An address as OpenBSD's `inet_ntop` writes it (no scope).
pub fn write_ip(out: &mut String, addr: IpAddr) {
    match addr {
        IpAddr::V4(a) => {
            let _ = write!(out, "{a}");
        }
        IpAddr::V6(a) => write_ipv6(out, a),
    }
}

/// RFC 5952 text (lowercase, longest zero run of two or more groups as
/// `::`, the first on a tie), with inet_ntop's dotted tail for IPv4-mapped
/// `::ffff:a.b.c.d` and IPv4-compatible `::a.b.c.d` addresses.
fn write_ipv6(out: &mut String, a: Ipv6Addr) {
    let w = a.segments();
    let (mut best, mut best_len) = (None::<usize>, 0usize);
    let mut i = 0;
    while i < 8 {
        if w[i] == 0 {
            let start = i;
            while i < 8 && w[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best = Some(start);
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best = None;
    }
    let mut i = 0;
    while i < 8 {
        if best == Some(i) {
            out.push(':');
            i += best_len;
            if i == 8 {
                out.push(':');
            }
            continue;
        }
        if i != 0 {
            out.push(':');
        }
        if i == 6 && best == Some(0) && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)) {
            let o = a.octets();
            let _ = write!(out, "{}.{}.{}.{}", o[12], o[13], o[14], o[15]);
            return;
        }
        let _ = write!(out, "{:x}", w[i]);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::IfAddrFlags;

    fn p(a: AddrWrap, af: Option<Af>) -> String {
        let mut s = String::new();
        print_addr(&mut s, &a, af, false);
        s
    }

    fn am(s: &str, prefix: u8) -> AddrWrap {
        AddrWrap::AddrMask {
            addr: s.parse().expect("addr"),
            prefix,
        }
    }

    fn dynif(flags: IfAddrFlags, prefix: u8) -> AddrWrap {
        AddrWrap::DynIf {
            ifname: "lo0".into(),
            flags,
            prefix,
        }
    }

    #[test]
    fn corpus_forms() {
        let v4 = Some(Af::Inet);
        let v6 = Some(Af::Inet6);
        assert_eq!(p(am("10.0.0.0", 8), v4), "10.0.0.0/8");
        assert_eq!(p(am("1.2.3.4", 32), v4), "1.2.3.4");
        assert_eq!(p(am("1.2.3.4", 64), v4), "1.2.3.4");
        assert_eq!(p(am("::", 8), v6), "::/8");
        assert_eq!(p(am("fe80::1", 128), v6), "fe80::1");
        assert_eq!(p(am("0.0.0.0", 0), v4), "any");
        assert_eq!(p(am("::", 0), v6), "any");
        assert_eq!(p(am("0.0.0.0", 8), v4), "0.0.0.0/8");
        assert_eq!(p(AddrWrap::Any, None), "any");
        assert_eq!(
            p(
                AddrWrap::Range {
                    from: "1.2.3.4".parse().unwrap(),
                    to: "1.2.3.5".parse().unwrap()
                },
                v4
            ),
            "1.2.3.4 - 1.2.3.5"
        );
        assert_eq!(
            p(
                AddrWrap::Table {
                    name: "regress".into()
                },
                None
            ),
            "<regress>"
        );
        assert_eq!(p(AddrWrap::NoRoute, None), "no-route");
        assert_eq!(p(AddrWrap::UrpfFailed, None), "urpf-failed");
        assert_eq!(p(AddrWrap::RouteLabel("foo".into()), None), "route \"foo\"");
    }

    #[test]
    fn dynamic_interfaces() {
        let none = IfAddrFlags::default();
        let noalias = IfAddrFlags {
            noalias: true,
            ..none
        };
        let peer0 = IfAddrFlags {
            peer: true,
            noalias: true,
            ..none
        };
        let bc0 = IfAddrFlags {
            broadcast: true,
            noalias: true,
            ..none
        };
        assert_eq!(p(dynif(none, 128), None), "(lo0)");
        assert_eq!(p(dynif(none, 128), Some(Af::Inet)), "(lo0)");
        assert_eq!(p(dynif(none, 24), Some(Af::Inet)), "(lo0)/24");
        assert_eq!(p(dynif(none, 100), Some(Af::Inet)), "(lo0)");
        assert_eq!(p(dynif(none, 100), Some(Af::Inet6)), "(lo0)/100");
        assert_eq!(p(dynif(noalias, 100), None), "(lo0:0)/100");
        assert_eq!(p(dynif(peer0, 100), None), "(lo0:peer:0)/100");
        assert_eq!(p(dynif(bc0, 128), None), "(lo0:broadcast:0)");
        assert_eq!(
            p(
                dynif(
                    IfAddrFlags {
                        network: true,
                        ..none
                    },
                    128
                ),
                None
            ),
            "(lo0:network)"
        );
        assert_eq!(p(dynif(none, 0), None), "(lo0)");
        let mut s = String::new();
        print_addr(&mut s, &dynif(none, 128), None, true);
        assert_eq!(s, "(lo0:*)");
    }

    #[test]
    fn ipv6_text() {
        let t = |s: &str| {
            let mut o = String::new();
            write_ip(&mut o, s.parse().expect("v6"));
            o
        };
        assert_eq!(t("::"), "::");
        assert_eq!(t("::1"), "::1");
        assert_eq!(t("2002::"), "2002::");
        assert_eq!(t("2001:6f8:1098:0:0:0:0:5"), "2001:6f8:1098::5");
        assert_eq!(t("1:0:0:1:0:0:0:1"), "1:0:0:1::1");
        assert_eq!(t("1:0:0:2:0:0:3:4"), "1::2:0:0:3:4");
        assert_eq!(t("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7");
        assert_eq!(t("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(t("::1.2.3.4"), "::1.2.3.4");
        assert_eq!(t("FE80::ABCD"), "fe80::abcd");
    }
}
