//! Numeric address and number parsing exactly as OpenBSD's libc does it,
//! because pfctl's answers depend on its quirks: `inet_pton` takes
//! leading zeros (`010.1.1.1`), `inet_net_pton` takes `10` and `10.1`,
//! `strtonum` reports "invalid" / "too small" / "too large".

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::hostenv::HostEnv;

/// `strtonum(3)` failures, worded as its `errstr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumError {
    Invalid,
    TooSmall,
    TooLarge,
}

impl std::fmt::Display for NumError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NumError::Invalid => "invalid",
            NumError::TooSmall => "too small",
            NumError::TooLarge => "too large",
        })
    }
}

/// `strtonum(s, min, max)`: base 10 through `strtoll`, so leading white
/// space and a sign are allowed, trailing garbage is not, and overflow
/// saturates into "too small" / "too large".
pub(crate) fn strtonum(s: &str, min: i64, max: i64) -> Result<i64, NumError> {
    let t = s.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '\u{b}');
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumError::Invalid);
    }
    let mut v: i128 = 0;
    for b in digits.bytes() {
        // Saturate well past the i64 range; only the sign matters then.
        v = (v * 10 + i128::from(b - b'0')).min(i128::from(i64::MAX) + 1);
    }
    let v = if neg { -v } else { v };
    if v < i128::from(min) {
        Err(NumError::TooSmall)
    } else if v > i128::from(max) {
        Err(NumError::TooLarge)
    } else {
        Ok(v as i64)
    }
}

/// OpenBSD `inet_pton(AF_INET)`: exactly four decimal parts, each at
/// most 255; leading zeros are allowed and stay decimal.
pub(crate) fn inet_pton4(s: &str) -> Option<Ipv4Addr> {
    let mut out = [0u8; 4];
    let mut octets = 0usize;
    let mut cur: u32 = 0;
    let mut saw_digit = false;
    for b in s.bytes() {
        if b.is_ascii_digit() {
            cur = cur * 10 + u32::from(b - b'0');
            if cur > 255 {
                return None;
            }
            if !saw_digit {
                octets += 1;
                if octets > 4 {
                    return None;
                }
                saw_digit = true;
            }
            out[octets - 1] = cur as u8;
        } else if b == b'.' && saw_digit {
            if octets == 4 {
                return None;
            }
            cur = 0;
            saw_digit = false;
        } else {
            return None;
        }
    }
    (octets == 4 && saw_digit).then(|| Ipv4Addr::from(out))
}

/// OpenBSD `inet_pton(AF_INET6)`: groups of hex digits worth at most
/// 0xffff (so `00001` passes), one `::`, optional dotted quad at the end.
pub(crate) fn inet_pton6(s: &str) -> Option<Ipv6Addr> {
    let bytes = s.as_bytes();
    let mut out = [0u8; 16];
    let mut tp = 0usize;
    let mut colonp: Option<usize> = None;
    let mut i = 0usize;
    if bytes.first() == Some(&b':') {
        if bytes.get(1) != Some(&b':') {
            return None;
        }
        i = 1;
    }
    let mut curtok = i;
    let mut saw_xdigit = false;
    let mut val: u32 = 0;
    while i < bytes.len() {
        let ch = bytes[i];
        i += 1;
        if let Some(d) = (ch as char).to_digit(16) {
            val = (val << 4) | d;
            if val > 0xffff {
                return None;
            }
            saw_xdigit = true;
            continue;
        }
        if ch == b':' {
            curtok = i;
            if !saw_xdigit {
                if colonp.is_some() {
                    return None;
                }
                colonp = Some(tp);
                continue;
            } else if i == bytes.len() {
                return None;
            }
            if tp + 2 > 16 {
                return None;
            }
            out[tp..tp + 2].copy_from_slice(&(val as u16).to_be_bytes());
            tp += 2;
            saw_xdigit = false;
            val = 0;
            continue;
        }
        if ch == b'.' && tp + 4 <= 16 {
            if let Some(v4) = inet_pton4(&s[curtok..]) {
                out[tp..tp + 4].copy_from_slice(&v4.octets());
                tp += 4;
                saw_xdigit = false;
                break;
            }
        }
        return None;
    }
    if saw_xdigit {
        if tp + 2 > 16 {
            return None;
        }
        out[tp..tp + 2].copy_from_slice(&(val as u16).to_be_bytes());
        tp += 2;
    }
    if let Some(c) = colonp {
        // Move what followed `::` to the end; the gap is zeros.
        let n = tp - c;
        let tail: Vec<u8> = out[c..tp].to_vec();
        out[c..].fill(0);
        out[16 - n..].copy_from_slice(&tail);
        tp = 16;
    }
    (tp == 16).then(|| Ipv6Addr::from(out))
}

/// `getaddrinfo(s, AI_NUMERICHOST)` as OpenBSD's resolver does it:
/// `inet_pton` for IPv4, `inet_pton` plus an optional `%scope` for IPv6.
/// The scope of a link-local (or link/interface-local multicast) address
/// may name an interface; otherwise it must be a number.
pub(crate) fn numeric_host(s: &str, env: &dyn HostEnv) -> Option<(std::net::IpAddr, u32)> {
    if let Some(v4) = inet_pton4(s) {
        return Some((v4.into(), 0));
    }
    let (addr, scope) = match s.split_once('%') {
        Some((a, sc)) => (a, Some(sc)),
        None => (s, None),
    };
    let v6 = inet_pton6(addr)?;
    let Some(scope) = scope else {
        return Some((v6.into(), 0));
    };
    let o = v6.octets();
    let link_local = o[0] == 0xfe && o[1] & 0xc0 == 0x80;
    let mc_local = o[0] == 0xff && matches!(o[1] & 0x0f, 0x01 | 0x02);
    if link_local || mc_local {
        if let Some(i) = env.interface(scope).filter(|i| i.index != 0) {
            return Some((v6.into(), i.index));
        }
    }
    let id = strtonum(scope, 0, i64::from(u32::MAX)).ok()?;
    Some((v6.into(), id as u32))
}

/// OpenBSD `inet_net_pton(AF_INET, s, dst, 4)`, only for the address it
/// leaves in `dst` (pfctl ignores the width it returns): decimal
/// `a[.b[.c[.d]]]` or hex `0x...`; missing octets are zero.
pub(crate) fn inet_net_pton4(s: &str) -> Option<Ipv4Addr> {
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(4);
    if b.len() >= 3 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') && b[2].is_ascii_hexdigit() {
        let mut nibbles = 0usize;
        let mut tmp: u32 = 0;
        let mut rest = &b[2..];
        while let Some((&c, r)) = rest.split_first() {
            let Some(n) = (c as char).to_digit(16) else {
                break;
            };
            rest = r;
            tmp = (tmp << 4) | n;
            nibbles += 1;
            if nibbles == 2 {
                if out.len() == 4 {
                    return None;
                }
                out.push(tmp as u8);
                nibbles = 0;
                tmp = 0;
            }
        }
        if nibbles == 1 {
            if out.len() == 4 {
                return None;
            }
            out.push((tmp << 4) as u8);
        }
        if !rest.is_empty() {
            return None;
        }
    } else if b.first().is_some_and(u8::is_ascii_digit) {
        for part in s.split('.') {
            if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let mut v: u32 = 0;
            for c in part.bytes() {
                v = v * 10 + u32::from(c - b'0');
                if v > 255 {
                    return None;
                }
            }
            if out.len() == 4 {
                return None;
            }
            out.push(v as u8);
        }
    } else {
        return None;
    }
    if out.is_empty() {
        return None;
    }
    let mut a = [0u8; 4];
    a[..out.len()].copy_from_slice(&out);
    Some(Ipv4Addr::from(a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hostenv::RegressHost;

    #[test]
    fn strtonum_errstr() {
        assert_eq!(strtonum("24", 0, 128), Ok(24));
        assert_eq!(strtonum(" +8", 0, 128), Ok(8));
        assert_eq!(strtonum("129", 0, 128), Err(NumError::TooLarge));
        assert_eq!(strtonum("-1", 0, 128), Err(NumError::TooSmall));
        assert_eq!(strtonum("", 0, 128), Err(NumError::Invalid));
        assert_eq!(strtonum("8a", 0, 128), Err(NumError::Invalid));
        assert_eq!(
            strtonum("99999999999999999999999", 0, 128),
            Err(NumError::TooLarge)
        );
        assert_eq!(
            strtonum("-99999999999999999999999", 0, 128),
            Err(NumError::TooSmall)
        );
    }

    #[test]
    fn pton4() {
        assert_eq!(inet_pton4("10.1.2.3"), Some(Ipv4Addr::new(10, 1, 2, 3)));
        assert_eq!(inet_pton4("010.001.2.3"), Some(Ipv4Addr::new(10, 1, 2, 3)));
        for bad in [
            "10.0.0.0.1",
            "256.0.0.1",
            "10",
            "10.1",
            "1.2.3.",
            ".1.2.3",
            "1..2.3",
            "a.b.c.d",
            "",
        ] {
            assert_eq!(inet_pton4(bad), None, "{bad}");
        }
    }

    #[test]
    fn pton6() {
        let p = |s: &str| inet_pton6(s).map(|a| a.to_string());
        assert_eq!(p("::1").as_deref(), Some("::1"));
        assert_eq!(p("fe80::1").as_deref(), Some("fe80::1"));
        assert_eq!(p("::").as_deref(), Some("::"));
        assert_eq!(p("2002::").as_deref(), Some("2002::"));
        assert_eq!(p("::ffff:1.2.3.4").as_deref(), Some("::ffff:1.2.3.4"));
        assert_eq!(p("00001::").as_deref(), Some("1::"));
        assert_eq!(p("1:2:3:4:5:6:7:8").as_deref(), Some("1:2:3:4:5:6:7:8"));
        for bad in [
            "2000:0:0:0:0:0:0:0:0:1",
            ":1",
            "1:",
            "1:::2",
            "1::2::3",
            "10000::",
            "g::",
            ":80",
            "",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }

    #[test]
    fn numeric_with_scope() {
        let env = RegressHost::new();
        let ip = |s: &str| numeric_host(s, &env).map(|(a, sc)| (a.to_string(), sc));
        assert_eq!(ip("fe80::1%lo0"), Some(("fe80::1".into(), 3)));
        assert_eq!(ip("fe80::1%7"), Some(("fe80::1".into(), 7)));
        assert_eq!(ip("2001::1%5"), Some(("2001::1".into(), 5)));
        assert_eq!(ip("2001::1%lo0"), None);
        assert_eq!(ip("fe80::1%em0"), None);
        assert_eq!(ip("1.2.3.4%lo0"), None);
    }

    #[test]
    fn net_pton4() {
        let n = |s: &str| inet_net_pton4(s).map(|a| a.to_string());
        assert_eq!(n("10").as_deref(), Some("10.0.0.0"));
        assert_eq!(n("10.1").as_deref(), Some("10.1.0.0"));
        assert_eq!(n("192.168.1.2").as_deref(), Some("192.168.1.2"));
        assert_eq!(n("0x0a01").as_deref(), Some("10.1.0.0"));
        assert_eq!(n("0xa").as_deref(), Some("160.0.0.0"));
        for bad in [
            "",
            "10.",
            "1.2.3.4.5",
            "256",
            "0x0102030405",
            "0x",
            "a",
            "10.0.0.0:network",
        ] {
            assert_eq!(n(bad), None, "{bad}");
        }
    }
}
