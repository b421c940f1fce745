//! Address arithmetic for the boot configuration: netmasks in the forms
//! ifconfig takes, and "is this address on that network".

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A netmask as ifconfig(8) takes it: dotted quad or `0x` hex, which
/// must be contiguous ones (OpenBSD refuses others). Returns the prefix
/// length.
pub fn parse_netmask(s: &str) -> Result<u8, String> {
    let bits = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if hex.is_empty() || hex.len() > 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("invalid netmask \"{s}\""));
        }
        u32::from_str_radix(hex, 16).map_err(|_| format!("invalid netmask \"{s}\""))?
    } else {
        u32::from(
            s.parse::<Ipv4Addr>()
                .map_err(|_| format!("invalid netmask \"{s}\""))?,
        )
    };
    let ones = bits.leading_ones();
    if bits.checked_shl(ones).unwrap_or(0) != 0 {
        return Err(format!("netmask {s} is not contiguous"));
    }
    // leading_ones is at most 32.
    Ok(ones as u8)
}

/// A decimal number as strtonum(3) reads it: digits only, in range.
pub fn parse_num(s: &str, min: u32, max: u32) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: u32 = s.parse().ok()?;
    (min..=max).contains(&v).then_some(v)
}

pub fn mask4(prefix: u8) -> u32 {
    u32::MAX
        .checked_shl(32u32.saturating_sub(u32::from(prefix)))
        .unwrap_or(0)
}

pub fn mask6(prefix: u8) -> u128 {
    u128::MAX
        .checked_shl(128u32.saturating_sub(u32::from(prefix)))
        .unwrap_or(0)
}

/// The directed broadcast address ifconfig derives when none is given;
/// /31 and /32 have none.
pub fn default_broadcast(addr: Ipv4Addr, prefix: u8) -> Option<Ipv4Addr> {
    (prefix < 31).then(|| Ipv4Addr::from(u32::from(addr) | !mask4(prefix)))
}

pub fn contains(net: IpAddr, prefix: u8, a: IpAddr) -> bool {
    match (net, a) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let m = mask4(prefix);
            u32::from(n) & m == u32::from(a) & m
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let m = mask6(prefix);
            u128::from(n) & m == u128::from(a) & m
        }
        _ => false,
    }
}

pub fn is_link_local6(a: Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

/// `xx:xx:xx:xx:xx:xx`, as ifconfig's `lladdr` takes it.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut n = 0;
    for part in s.split(':') {
        let slot = out.get_mut(n)?;
        if part.is_empty() || part.len() > 2 {
            return None;
        }
        *slot = u8::from_str_radix(part, 16).ok()?;
        n += 1;
    }
    (n == 6).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmasks() {
        assert_eq!(parse_netmask("255.255.255.0"), Ok(24));
        assert_eq!(parse_netmask("0xffffff00"), Ok(24));
        assert_eq!(parse_netmask("0xfffffff8"), Ok(29));
        assert_eq!(parse_netmask("255.255.255.255"), Ok(32));
        assert_eq!(parse_netmask("0.0.0.0"), Ok(0));
        assert_eq!(
            parse_netmask("255.0.255.0"),
            Err("netmask 255.0.255.0 is not contiguous".into())
        );
        assert!(parse_netmask("0x1ffffff00").is_err());
        assert!(parse_netmask("24").is_err());
    }

    #[test]
    fn arithmetic() {
        let a: Ipv4Addr = "192.0.2.2".parse().unwrap();
        assert_eq!(
            default_broadcast(a, 24),
            Some("192.0.2.255".parse().unwrap())
        );
        assert_eq!(default_broadcast(a, 31), None);
        assert!(contains(
            "192.0.2.0".parse().unwrap(),
            24,
            "192.0.2.9".parse().unwrap()
        ));
        assert!(!contains(
            "192.0.2.0".parse().unwrap(),
            24,
            "192.0.3.9".parse().unwrap()
        ));
        assert!(contains(
            "2001:db8:1::".parse().unwrap(),
            64,
            "2001:db8:1::9".parse().unwrap()
        ));
        assert!(contains(
            "0.0.0.0".parse().unwrap(),
            0,
            "203.0.113.1".parse().unwrap()
        ));
        assert_eq!(
            parse_mac("00:00:5e:00:53:af"),
            Some([0, 0, 0x5e, 0, 0x53, 0xaf])
        );
        assert_eq!(parse_mac("00:00:5e:00:53"), None);
        assert_eq!(parse_mac("00:00:5e:00:53:af:01"), None);
        assert_eq!(parse_num("254", 0, 254), Some(254));
        assert_eq!(parse_num("255", 0, 254), None);
        assert_eq!(parse_num("+1", 0, 254), None);
    }
}
