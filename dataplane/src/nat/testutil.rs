//! Test helpers: a minimal Ethernet/IP/transport reader that fills a
//! [`Pdesc`] (the real parser lives in `wire`), and a from-scratch
//! checksum verifier that shares nothing with the incremental code.

use crate::pdesc::{proto, IcmpInner, Pdesc, TcpInfo};
use crate::wire::checksum::{combine, pseudo_v4, pseudo_v6, sum};
use ruleset::addr::Af;

fn be16(b: &[u8], o: usize) -> u16 {
    u16::from_be_bytes([b[o], b[o + 1]])
}

fn be32(b: &[u8], o: usize) -> u32 {
    u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

/// (af, proto, src, dst, l4 offset, total IP length) of the IP header at `ip`.
fn ip_hdr(f: &[u8], ip: usize) -> (Af, u8, u128, u128, usize, usize) {
    match f[ip] >> 4 {
        4 => {
            let hl = usize::from(f[ip] & 0xf) * 4;
            let s = u128::from(be32(f, ip + 12)) << 96;
            let d = u128::from(be32(f, ip + 16)) << 96;
            (
                Af::Inet,
                f[ip + 9],
                s,
                d,
                ip + hl,
                usize::from(be16(f, ip + 2)),
            )
        }
        6 => {
            let s = u128::from_be_bytes(f[ip + 8..ip + 24].try_into().unwrap());
            let d = u128::from_be_bytes(f[ip + 24..ip + 40].try_into().unwrap());
            (
                Af::Inet6,
                f[ip + 6],
                s,
                d,
                ip + 40,
                40 + usize::from(be16(f, ip + 4)),
            )
        }
        v => panic!("IP version {v}"),
    }
}

fn is_error(p: u8, t: u8) -> bool {
    match p {
        proto::ICMP => matches!(t, 3 | 4 | 5 | 11 | 12),
        proto::ICMPV6 => t < 128,
        _ => false,
    }
}

/// Read an Ethernet frame carrying IPv4 or IPv6 without extension headers.
pub fn pdesc(f: &[u8]) -> Pdesc {
    let l3 = 14;
    let (af, p, src, dst, l4, ip_len) = ip_hdr(f, l3);
    let mut pd = Pdesc {
        af,
        proto: p,
        src,
        dst,
        sport: 0,
        dport: 0,
        tos: 0,
        ttl: 64,
        l3_off: l3 as u16,
        l4_off: l4 as u16,
        ip_len: ip_len as u16,
        vlan: None,
        fragment: false,
        ip_opts: false,
        icmp_type: None,
        icmp_code: None,
        tcp: None,
        icmp_inner: None,
    };
    match p {
        proto::TCP => {
            pd.sport = be16(f, l4);
            pd.dport = be16(f, l4 + 2);
            pd.tcp = Some(TcpInfo {
                seq: be32(f, l4 + 4),
                ack: be32(f, l4 + 8),
                flags: f[l4 + 13],
                hdr_len: (f[l4 + 12] >> 4) * 4,
                ..TcpInfo::default()
            });
        }
        proto::UDP => {
            pd.sport = be16(f, l4);
            pd.dport = be16(f, l4 + 2);
        }
        proto::ICMP | proto::ICMPV6 => {
            let t = f[l4];
            pd.icmp_type = Some(t);
            pd.icmp_code = Some(f[l4 + 1]);
            if is_error(p, t) {
                let ip2 = l4 + 8;
                let (_, p2, s2, d2, l42, _) = ip_hdr(f, ip2);
                let (sp, dp, ty) = match p2 {
                    proto::TCP | proto::UDP => (be16(f, l42), be16(f, l42 + 2), None),
                    _ => (be16(f, l42 + 4), be16(f, l42 + 4), Some(f[l42])),
                };
                pd.icmp_inner = Some(IcmpInner {
                    proto: p2,
                    src: s2,
                    dst: d2,
                    sport: sp,
                    dport: dp,
                    seq: None,
                    icmp_type: ty,
                    ip_off: ip2 as u16,
                    l4_off: l42 as u16,
                });
            } else {
                pd.sport = be16(f, l4 + 4);
                pd.dport = pd.sport;
            }
        }
        _ => {}
    }
    pd
}

fn addr_bytes(af: Af, a: u128) -> Vec<u8> {
    match af {
        Af::Inet => ((a >> 96) as u32).to_be_bytes().to_vec(),
        Af::Inet6 => a.to_be_bytes().to_vec(),
    }
}

/// Whether the IP packet at `ip` (and its transport checksum, when the
/// transport data is complete) sums right; for an ICMP error also the
/// quoted packet, as far as it is quoted.
fn packet_ok(f: &[u8], ip: usize, end: usize, quoted: bool) -> Result<(), String> {
    let (af, p, src, dst, l4, ip_len) = ip_hdr(f, ip);
    if af == Af::Inet && sum(&f[ip..l4]) != 0xffff {
        return Err(format!("IPv4 header checksum at {ip}"));
    }
    let complete = ip + ip_len <= end;
    let l4_end = if complete { ip + ip_len } else { end };
    let data = &f[l4..l4_end];
    let len = data.len();
    let ph = |p: u8| match af {
        Af::Inet => pseudo_v4(
            addr_bytes(af, src).try_into().unwrap(),
            addr_bytes(af, dst).try_into().unwrap(),
            p,
            len as u16,
        ),
        Af::Inet6 => pseudo_v6(
            addr_bytes(af, src).try_into().unwrap(),
            addr_bytes(af, dst).try_into().unwrap(),
            p,
            len as u32,
        ),
    };
    if complete {
        let ok = match p {
            proto::TCP => combine(&[ph(p), sum(data)]) == 0xffff,
            proto::UDP => be16(data, 6) == 0 || combine(&[ph(p), sum(data)]) == 0xffff,
            proto::ICMP => sum(data) == 0xffff,
            proto::ICMPV6 => combine(&[ph(p), sum(data)]) == 0xffff,
            _ => true,
        };
        if !ok {
            return Err(format!("proto {p} checksum at {l4} (quoted: {quoted})"));
        }
    }
    if !quoted && matches!(p, proto::ICMP | proto::ICMPV6) && is_error(p, f[l4]) {
        packet_ok(f, l4 + 8, l4_end, true)?;
    }
    Ok(())
}

/// Verify every checksum of an Ethernet frame from scratch.
pub fn verify(f: &[u8]) -> Result<(), String> {
    let (_, _, _, _, _, ip_len) = ip_hdr(f, 14);
    packet_ok(f, 14, 14 + ip_len, false)
}
