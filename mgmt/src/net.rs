//! Addresses and networks as the command lines write them
//! (`192.0.2.0/24`, `2001:db8::1`).

use std::net::IpAddr;

/// `ADDR` or `ADDR/PREFIX`; a bare address is a host.
pub fn parse_net(s: &str) -> Result<(IpAddr, u8), String> {
    let (a, p) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let ip: IpAddr = a.parse().map_err(|_| format!("{s}: not an address"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = match p {
        None => max,
        Some(p) => p
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(|| format!("{s}: bad prefix length"))?,
    };
    Ok((ip, prefix))
}

/// Whether `ip` is in `net` (never across families).
pub fn in_net(ip: IpAddr, net: &(IpAddr, u8)) -> bool {
    match (ip, net.0) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let m = u32::MAX.checked_shl(32 - u32::from(net.1)).unwrap_or(0);
            u32::from(a) & m == u32::from(n) & m
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let m = u128::MAX.checked_shl(128 - u32::from(net.1)).unwrap_or(0);
            u128::from(a) & m == u128::from(n) & m
        }
        _ => false,
    }
}
