//! Header rewrite for translation (pf's `pf_translate`, `pf_translate_a`,
//! `pf_translate_icmp`, `pf_change_ap`): addresses, ports and ICMP echo
//! ids are changed in place and every checksum that covers them is fixed
//! incrementally. The packet descriptor is updated to match, so later
//! stages see the packet as it now is.

use super::patch::{get16, get32, write, Ck};
use crate::pdesc::{proto, AddrKey, Pdesc};
use crate::reason::Reason;
use ruleset::addr::Af;

const ICMP_ECHOREPLY: u8 = 0;
const ICMP_ECHO: u8 = 8;
const ICMP6_ECHO_REQUEST: u8 = 128;
const ICMP6_ECHO_REPLY: u8 = 129;

/// Where an IP header's fields sit.
#[derive(Clone, Copy)]
struct IpFields {
    src: usize,
    dst: usize,
    /// IPv4 header checksum.
    hdr_ck: Option<Ck>,
    /// Parity base of the addresses in a pseudo-header.
    base: usize,
}

fn ip_fields(frame: &[u8], af: Af, ip: usize) -> Result<IpFields, Reason> {
    let (hlen, src, dst) = match af {
        Af::Inet => (20, 12, 16),
        Af::Inet6 => (40, 8, 24),
    };
    let end = ip.checked_add(hlen).ok_or(Reason::BadOffset)?;
    if end > frame.len() {
        return Err(Reason::Short);
    }
    Ok(IpFields {
        src: ip + src,
        dst: ip + dst,
        hdr_ck: (af == Af::Inet).then_some(Ck {
            off: ip + 10,
            base: ip,
            udp: false,
        }),
        base: ip,
    })
}

/// Where a transport header's translatable fields sit.
#[derive(Clone, Copy, Default)]
struct L4Fields {
    /// The transport checksum, if it is inside the frame.
    ck: Option<Ck>,
    /// Whether `ck` covers the IP addresses (pseudo-header).
    pseudo: bool,
    /// Source and destination port fields (TCP, UDP).
    ports: Option<(usize, usize)>,
    /// The ICMP echo id field, and whether the message is a request (the
    /// id then goes with the source, as pf's `icmp_dir == PF_IN`).
    echo_id: Option<(usize, bool)>,
}

/// The fields of transport header `proto` at `l4`. `need_ck` refuses a
/// header whose checksum is not in the frame (a packet's own header);
/// a quoted header may be cut short, and its checksum is then left alone.
fn l4_fields(
    frame_end: usize,
    proto: u8,
    l4: usize,
    icmp_type: Option<u8>,
    need_ck: bool,
) -> Result<L4Fields, Reason> {
    let has = |n: usize| l4.checked_add(n).is_some_and(|e| e <= frame_end);
    let ck = |off: usize, udp: bool, n: usize| -> Result<Option<Ck>, Reason> {
        if has(n) {
            Ok(Some(Ck {
                off: l4 + off,
                base: l4,
                udp,
            }))
        } else if need_ck {
            Err(Reason::Short)
        } else {
            Ok(None)
        }
    };
    let ports = |n: usize| -> Result<Option<(usize, usize)>, Reason> {
        if has(n) {
            Ok(Some((l4, l4 + 2)))
        } else {
            Err(Reason::Short)
        }
    };
    Ok(match proto {
        proto::TCP => L4Fields {
            ck: ck(16, false, if need_ck { 20 } else { 18 })?,
            pseudo: true,
            ports: ports(4)?,
            echo_id: None,
        },
        proto::UDP => L4Fields {
            ck: ck(6, true, 8)?,
            pseudo: true,
            ports: ports(4)?,
            echo_id: None,
        },
        proto::ICMP | proto::ICMPV6 => {
            let echo = match (proto, icmp_type) {
                (proto::ICMP, Some(ICMP_ECHO)) | (proto::ICMPV6, Some(ICMP6_ECHO_REQUEST)) => {
                    Some(true)
                }
                (proto::ICMP, Some(ICMP_ECHOREPLY)) | (proto::ICMPV6, Some(ICMP6_ECHO_REPLY)) => {
                    Some(false)
                }
                _ => None,
            };
            let echo_id = match echo {
                Some(req) if has(6) => Some((l4 + 4, req)),
                Some(_) => return Err(Reason::Short),
                None => None,
            };
            L4Fields {
                ck: ck(2, false, 4)?,
                pseudo: proto == proto::ICMPV6,
                ports: None,
                echo_id,
            }
        }
        _ => L4Fields::default(),
    })
}

fn addr_bytes(af: Af, a: AddrKey) -> ([u8; 16], usize) {
    let b = a.to_be_bytes();
    match af {
        Af::Inet => (b, 4),
        Af::Inet6 => (b, 16),
    }
}

fn write_addr(
    frame: &mut [u8],
    af: Af,
    off: usize,
    a: AddrKey,
    direct: &[Ck],
    cover: Option<Ck>,
) -> Result<(), Reason> {
    let (b, n) = addr_bytes(af, a);
    write(frame, off, &b[..n], direct, cover)
}

/// The checksums an IP address change must fix: the IPv4 header's and a
/// transport checksum with a pseudo-header (whose words are counted from
/// the address, hence the IP header's parity).
fn addr_cks(ip: &IpFields, l4: &L4Fields) -> ([Ck; 2], usize) {
    let mut cks = [Ck {
        off: 0,
        base: 0,
        udp: false,
    }; 2];
    let mut n = 0;
    if let Some(c) = ip.hdr_ck {
        cks[n] = c;
        n += 1;
    }
    if let (Some(c), true) = (l4.ck, l4.pseudo) {
        cks[n] = Ck { base: ip.base, ..c };
        n += 1;
    }
    (cks, n)
}

/// End of the IP packet in the frame: Ethernet padding after it is not
/// covered by any checksum.
fn packet_end(frame: &[u8], pd: &Pdesc) -> usize {
    usize::from(pd.l3_off)
        .saturating_add(usize::from(pd.ip_len))
        .min(frame.len())
}

/// Translate a packet: set its source and/or destination address and port
/// (for an ICMP/ICMPv6 echo, the id: the source's "port" on a request,
/// the destination's on a reply, as pf's virtual ports). Checksums are
/// fixed incrementally; a UDP checksum of zero stays zero. `pd` is
/// updated. Ports are ignored where pf has none to change (other
/// protocols, other ICMP types, fragments without their transport header).
pub fn rewrite(
    frame: &mut [u8],
    pd: &mut Pdesc,
    src: Option<(AddrKey, u16)>,
    dst: Option<(AddrKey, u16)>,
) -> Result<(), Reason> {
    if pd.af == Af::Inet && !pd.fragment && matches!(pd.proto, proto::TCP | proto::UDP) {
        return rewrite_v4_ports(frame, pd, src, dst);
    }
    rewrite_fields(frame, pd, src, dst)
}

/// [`rewrite`] field by field, for every family and protocol.
fn rewrite_fields(
    frame: &mut [u8],
    pd: &mut Pdesc,
    src: Option<(AddrKey, u16)>,
    dst: Option<(AddrKey, u16)>,
) -> Result<(), Reason> {
    let end = packet_end(frame, pd);
    let frame_ip = frame.get_mut(..end).ok_or(Reason::Short)?;
    let ip = ip_fields(frame_ip, pd.af, usize::from(pd.l3_off))?;
    let l4 = if pd.fragment {
        L4Fields::default()
    } else {
        l4_fields(end, pd.proto, usize::from(pd.l4_off), pd.icmp_type, true)?
    };
    let (cks, n) = addr_cks(&ip, &l4);
    let cks = &cks[..n];
    let l4ck: &[Ck] = match &l4.ck {
        Some(c) => std::slice::from_ref(c),
        None => &[],
    };

    if let Some((a, _)) = src {
        write_addr(frame_ip, pd.af, ip.src, a, cks, None)?;
        pd.src = a;
    }
    if let Some((a, _)) = dst {
        write_addr(frame_ip, pd.af, ip.dst, a, cks, None)?;
        pd.dst = a;
    }
    if let Some((sp, dp)) = l4.ports {
        if let Some((_, p)) = src {
            write(frame_ip, sp, &p.to_be_bytes(), l4ck, None)?;
            pd.sport = p;
        }
        if let Some((_, p)) = dst {
            write(frame_ip, dp, &p.to_be_bytes(), l4ck, None)?;
            pd.dport = p;
        }
    }
    if let Some((off, request)) = l4.echo_id {
        let id = if request { src } else { dst }.map(|(_, p)| p);
        if let Some(id) = id {
            write(frame_ip, off, &id.to_be_bytes(), l4ck, None)?;
            pd.sport = id;
            pd.dport = id;
        }
    }
    Ok(())
}

/// RFC 1624 terms for a 32-bit field going from `old` to `new`:
/// `~m + m'` for each of its 16-bit words.
#[inline]
fn delta32(old: u32, new: u32) -> u64 {
    delta16((old >> 16) as u16, (new >> 16) as u16) + delta16(old as u16, new as u16)
}

#[inline]
fn delta16(old: u16, new: u16) -> u64 {
    u64::from(!old) + u64::from(new)
}

/// Checksum `c` after changes whose [`delta16`] terms sum to `acc`
/// (at least one field changed). Equal bit for bit to updating field by
/// field: a change leaves the running sum a positive ones'-complement
/// value, so "negative zero" (0xffff) is kept rather than 0.
#[inline]
fn updated(c: u16, acc: u64) -> u16 {
    let mut a = u64::from(!c) + acc;
    while a > 0xffff {
        a = (a & 0xffff) + (a >> 16);
    }
    let folded = if a == 0 { 0xffff } else { a as u16 };
    !folded
}

fn put16(frame: &mut [u8], off: usize, v: u16) -> Result<(), Reason> {
    frame
        .get_mut(off..off.wrapping_add(2))
        .ok_or(Reason::Short)?
        .copy_from_slice(&v.to_be_bytes());
    Ok(())
}

/// [`rewrite`] for IPv4 TCP and UDP, the established path under NAT:
/// every change is summed once and each checksum (the header's over the
/// addresses, the transport's over addresses and ports) updated once.
/// The bytes written are those of the field-by-field path.
fn rewrite_v4_ports(
    frame: &mut [u8],
    pd: &mut Pdesc,
    src: Option<(AddrKey, u16)>,
    dst: Option<(AddrKey, u16)>,
) -> Result<(), Reason> {
    let end = packet_end(frame, pd);
    let f = frame.get_mut(..end).ok_or(Reason::Short)?;
    let ip = usize::from(pd.l3_off);
    let l4 = usize::from(pd.l4_off);
    let (ck_off, udp, l4_len) = if pd.proto == proto::TCP {
        (l4 + 16, false, 20)
    } else {
        (l4 + 6, true, 8)
    };
    if ip + 20 > end || l4 + l4_len > end {
        return Err(Reason::Short);
    }
    let mut ip_acc = 0u64;
    let mut l4_acc = 0u64;
    let (mut ip_changed, mut l4_changed) = (false, false);
    let mut change = |addr_off: usize, port_off: usize, to: Option<(AddrKey, u16)>| {
        let Some((a, p)) = to else {
            return Ok::<_, Reason>(None);
        };
        let (na, oa) = ((a >> 96) as u32, get32(f, addr_off)?);
        if na != oa {
            let d = delta32(oa, na);
            ip_acc += d;
            l4_acc += d;
            ip_changed = true;
            l4_changed = true;
        }
        let op = get16(f, port_off)?;
        if op != p {
            l4_acc += delta16(op, p);
            l4_changed = true;
        }
        Ok(Some((na, p)))
    };
    let s = change(ip + 12, l4, src)?;
    let d = change(ip + 16, l4 + 2, dst)?;
    if ip_changed {
        let c = get16(f, ip + 10)?;
        put16(f, ip + 10, updated(c, ip_acc))?;
    }
    if l4_changed {
        let c = get16(f, ck_off)?;
        // UDP: a zero checksum means none and stays zero
        if !(udp && c == 0) {
            let mut n = updated(c, l4_acc);
            if udp && n == 0 {
                n = 0xffff;
            }
            put16(f, ck_off, n)?;
        }
    }
    if let (Some((a, p)), Some((na, _))) = (src, s) {
        f.get_mut(ip + 12..ip + 16)
            .ok_or(Reason::Short)?
            .copy_from_slice(&na.to_be_bytes());
        put16(f, l4, p)?;
        pd.src = a;
        pd.sport = p;
    }
    if let (Some((a, p)), Some((na, _))) = (dst, d) {
        f.get_mut(ip + 16..ip + 20)
            .ok_or(Reason::Short)?
            .copy_from_slice(&na.to_be_bytes());
        put16(f, l4 + 2, p)?;
        pd.dst = a;
        pd.dport = p;
    }
    Ok(())
}

/// Translate an ICMP/ICMPv6 error about a translated connection (pf's
/// ICMP-error branch of `pf_test_state_icmp` with `pf_translate_icmp`):
/// the quoted packet's addresses and ports (or echo id), the quoted IPv4
/// header checksum and the quoted transport checksum when it is inside
/// the quote, the ICMP checksum over all of them (and, for ICMPv6, over
/// the pseudo-header), and the outer addresses `outer = (src, dst)`.
///
/// pf leaves the quoted IPv4 and TCP checksums stale and zeroes a quoted
/// UDP checksum; here every checksum in the quote stays consistent, as a
/// receiver that checks the quote would expect.
pub fn rewrite_icmp_error(
    frame: &mut [u8],
    pd: &mut Pdesc,
    outer: (Option<AddrKey>, Option<AddrKey>),
    inner_src: Option<(AddrKey, u16)>,
    inner_dst: Option<(AddrKey, u16)>,
) -> Result<(), Reason> {
    let inner = pd.icmp_inner.ok_or(Reason::Normalize)?;
    if !matches!(pd.proto, proto::ICMP | proto::ICMPV6) || pd.fragment {
        return Err(Reason::Normalize);
    }
    let end = packet_end(frame, pd);
    let frame_ip = frame.get_mut(..end).ok_or(Reason::Short)?;
    let oip = ip_fields(frame_ip, pd.af, usize::from(pd.l3_off))?;
    let ol4 = l4_fields(end, pd.proto, usize::from(pd.l4_off), None, true)?;
    let icmp_ck = ol4.ck.ok_or(Reason::Short)?;
    let iip = ip_fields(frame_ip, pd.af, usize::from(inner.ip_off))?;
    let il4 = l4_fields(
        end,
        inner.proto,
        usize::from(inner.l4_off),
        inner.icmp_type,
        false,
    )?;
    let (icks, n) = addr_cks(&iip, &il4);
    let icks = &icks[..n];
    let il4ck: &[Ck] = match &il4.ck {
        Some(c) => std::slice::from_ref(c),
        None => &[],
    };
    let cover = Some(icmp_ck);

    if let Some((a, _)) = inner_src {
        write_addr(frame_ip, pd.af, iip.src, a, icks, cover)?;
    }
    if let Some((a, _)) = inner_dst {
        write_addr(frame_ip, pd.af, iip.dst, a, icks, cover)?;
    }
    let mut sport = inner.sport;
    let mut dport = inner.dport;
    if let Some((sp, dp)) = il4.ports {
        if let Some((_, p)) = inner_src {
            write(frame_ip, sp, &p.to_be_bytes(), il4ck, cover)?;
            sport = p;
        }
        if let Some((_, p)) = inner_dst {
            write(frame_ip, dp, &p.to_be_bytes(), il4ck, cover)?;
            dport = p;
        }
    }
    if let Some((off, request)) = il4.echo_id {
        let id = if request { inner_src } else { inner_dst }.map(|(_, p)| p);
        if let Some(id) = id {
            write(frame_ip, off, &id.to_be_bytes(), il4ck, cover)?;
            sport = id;
            dport = id;
        }
    }

    let (ocks, n) = addr_cks(&oip, &ol4);
    let ocks = &ocks[..n];
    if let Some(a) = outer.0 {
        write_addr(frame_ip, pd.af, oip.src, a, ocks, None)?;
        pd.src = a;
    }
    if let Some(a) = outer.1 {
        write_addr(frame_ip, pd.af, oip.dst, a, ocks, None)?;
        pd.dst = a;
    }
    pd.icmp_inner = Some(crate::pdesc::IcmpInner {
        src: inner_src.map_or(inner.src, |(a, _)| a),
        dst: inner_dst.map_or(inner.dst, |(a, _)| a),
        sport,
        dport,
        ..inner
    });
    Ok(())
}

/// Shift a TCP segment's sequence and acknowledgement numbers (pf's
/// `modulate state`: `seq + src.seqdiff`, `ack - dst.seqdiff`; pass the
/// two's complement to subtract). SACK blocks acknowledge the same
/// sequence space as `ack` and move with it (pf's `pf_modulate_sack`).
/// A zero delta leaves its field alone.
pub fn adjust_seq(
    frame: &mut [u8],
    pd: &mut Pdesc,
    seq_delta: u32,
    ack_delta: u32,
) -> Result<(), Reason> {
    if pd.proto != proto::TCP || pd.fragment {
        return Err(Reason::Normalize);
    }
    let end = packet_end(frame, pd);
    let frame_ip = frame.get_mut(..end).ok_or(Reason::Short)?;
    let l4 = usize::from(pd.l4_off);
    let f = l4_fields(end, proto::TCP, l4, None, true)?;
    let ck = f.ck.ok_or(Reason::Short)?;
    let cks = [ck];
    if seq_delta != 0 {
        let seq = get32(frame_ip, l4 + 4)?.wrapping_add(seq_delta);
        write(frame_ip, l4 + 4, &seq.to_be_bytes(), &cks, None)?;
        if let Some(t) = pd.tcp.as_mut() {
            t.seq = seq;
        }
    }
    if ack_delta != 0 {
        let ack = get32(frame_ip, l4 + 8)?.wrapping_add(ack_delta);
        write(frame_ip, l4 + 8, &ack.to_be_bytes(), &cks, None)?;
        if let Some(t) = pd.tcp.as_mut() {
            t.ack = ack;
        }
        adjust_sack(frame_ip, l4, ack_delta, &cks)?;
    }
    Ok(())
}

/// Shift the sequence number of the TCP segment quoted by an ICMP error
/// (pf demodulates it: `seq - src.seqdiff`; pass the two's complement),
/// keeping the quoted TCP checksum, when quoted, and the ICMP checksum.
pub fn adjust_quoted_seq(frame: &mut [u8], pd: &mut Pdesc, delta: u32) -> Result<(), Reason> {
    let inner = pd.icmp_inner.ok_or(Reason::Normalize)?;
    if inner.proto != proto::TCP || !matches!(pd.proto, proto::ICMP | proto::ICMPV6) {
        return Err(Reason::Normalize);
    }
    if delta == 0 {
        return Ok(());
    }
    let end = packet_end(frame, pd);
    let frame_ip = frame.get_mut(..end).ok_or(Reason::Short)?;
    let icmp_ck = l4_fields(end, pd.proto, usize::from(pd.l4_off), None, true)?
        .ck
        .ok_or(Reason::Short)?;
    let l4 = usize::from(inner.l4_off);
    let il4 = l4_fields(end, proto::TCP, l4, None, false)?;
    let il4ck: &[Ck] = match &il4.ck {
        Some(c) => std::slice::from_ref(c),
        None => &[],
    };
    let seq = get32(frame_ip, l4 + 4)?.wrapping_add(delta);
    write(frame_ip, l4 + 4, &seq.to_be_bytes(), il4ck, Some(icmp_ck))?;
    if let Some(i) = pd.icmp_inner.as_mut() {
        i.seq = Some(seq);
    }
    Ok(())
}

const TCPOPT_EOL: u8 = 0;
const TCPOPT_NOP: u8 = 1;
const TCPOPT_SACK: u8 = 5;

fn adjust_sack(frame: &mut [u8], l4: usize, delta: u32, cks: &[Ck]) -> Result<(), Reason> {
    let off_byte = *frame.get(l4 + 12).ok_or(Reason::Short)?;
    let hlen = usize::from(off_byte >> 4) * 4;
    let opt_end = l4.checked_add(hlen).ok_or(Reason::BadOffset)?;
    if hlen < 20 || opt_end > frame.len() {
        return Err(Reason::BadOffset);
    }
    let mut i = l4 + 20;
    while i < opt_end {
        let kind = frame[i];
        match kind {
            TCPOPT_EOL => break,
            TCPOPT_NOP => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let Some(&len) = frame.get(i + 1).filter(|_| i + 1 < opt_end) else {
            break;
        };
        let len = usize::from(len);
        if len < 2 || i + len > opt_end {
            break;
        }
        if kind == TCPOPT_SACK {
            let mut b = i + 2;
            while b + 8 <= i + len {
                for edge in [b, b + 4] {
                    let v = get32(frame, edge)?.wrapping_add(delta);
                    write(frame, edge, &v.to_be_bytes(), cks, None)?;
                }
                b += 8;
            }
        }
        i += len;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nat::golden as g;
    use crate::nat::testutil::{pdesc, verify};
    use crate::pdesc::addr_key;

    fn a(s: &str) -> AddrKey {
        addr_key(s.parse().unwrap())
    }

    /// Rewrite `before` and require scapy's `after` byte for byte, a
    /// from-scratch checksum check, and a descriptor equal to one read
    /// from the result.
    fn check(
        before: &[u8],
        after: &[u8],
        src: Option<(AddrKey, u16)>,
        dst: Option<(AddrKey, u16)>,
    ) {
        verify(before).unwrap();
        verify(after).unwrap();
        let mut f = before.to_vec();
        let mut pd = pdesc(&f);
        rewrite(&mut f, &mut pd, src, dst).unwrap();
        assert_eq!(f, after);
        verify(&f).unwrap();
        assert_eq!(pd, pdesc(after));
    }

    #[test]
    fn v4_tcp_nat() {
        check(
            &g::V4_TCP,
            &g::V4_TCP_NAT,
            Some((a("192.0.2.1"), 50123)),
            None,
        );
    }

    #[test]
    fn v4_udp_rdr() {
        check(
            &g::V4_UDP,
            &g::V4_UDP_NAT,
            None,
            Some((a("10.0.0.80"), 5300)),
        );
    }

    #[test]
    fn v4_udp_zero_checksum_stays_zero() {
        check(
            &g::V4_UDP_NOCK,
            &g::V4_UDP_NOCK_NAT,
            Some((a("192.0.2.1"), 50123)),
            None,
        );
    }

    #[test]
    fn v4_icmp_echo_id_goes_with_the_source_on_a_request() {
        check(
            &g::V4_ECHO,
            &g::V4_ECHO_NAT,
            Some((a("192.0.2.1"), 0xabcd)),
            None,
        );
    }

    #[test]
    fn v4_icmp_echo_id_goes_with_the_destination_on_a_reply() {
        let ext = a("93.184.216.34");
        check(
            &g::V4_ECHOREPLY,
            &g::V4_ECHOREPLY_NAT,
            Some((ext, 0xabcd)),
            Some((a("10.0.0.5"), 0x1234)),
        );
    }

    #[test]
    fn v6_tcp_nat() {
        check(
            &g::V6_TCP,
            &g::V6_TCP_NAT,
            Some((a("2001:db8::1"), 61000)),
            None,
        );
    }

    #[test]
    fn v6_udp_rdr() {
        check(
            &g::V6_UDP,
            &g::V6_UDP_NAT,
            None,
            Some((a("fd00::80"), 5300)),
        );
    }

    #[test]
    fn v6_icmp_echo_nat() {
        check(
            &g::V6_ECHO,
            &g::V6_ECHO_NAT,
            Some((a("2001:db8::1"), 0xabcd)),
            None,
        );
    }

    #[test]
    fn unchanged_translation_is_a_no_op() {
        let mut f = g::V4_TCP.to_vec();
        let mut pd = pdesc(&f);
        let before = pd;
        let (src, dst) = (Some((pd.src, pd.sport)), Some((pd.dst, pd.dport)));
        rewrite(&mut f, &mut pd, src, dst).unwrap();
        assert_eq!(f, g::V4_TCP);
        assert_eq!(pd, before);
    }

    #[test]
    fn truncated_frames_are_refused_untouched() {
        for cut in [20, 34, 40, 53] {
            let mut f = g::V4_TCP[..cut].to_vec();
            let mut pd = pdesc(&g::V4_TCP);
            let r = rewrite(&mut f, &mut pd, Some((a("192.0.2.1"), 1)), None);
            assert!(r.is_err(), "cut {cut}");
            assert_eq!(f, &g::V4_TCP[..cut]);
        }
        // Offsets past the end never panic.
        let mut f = g::V4_TCP.to_vec();
        let mut pd = pdesc(&f);
        pd.l4_off = u16::MAX;
        assert!(rewrite(&mut f, &mut pd, None, Some((1, 1))).is_err());
        pd.l3_off = u16::MAX - 3;
        assert!(rewrite(&mut f, &mut pd, None, Some((1, 1))).is_err());
    }

    fn check_err(
        before: &[u8],
        after: &[u8],
        outer: (Option<AddrKey>, Option<AddrKey>),
        isrc: Option<(AddrKey, u16)>,
        idst: Option<(AddrKey, u16)>,
    ) {
        verify(before).unwrap();
        verify(after).unwrap();
        let mut f = before.to_vec();
        let mut pd = pdesc(&f);
        rewrite_icmp_error(&mut f, &mut pd, outer, isrc, idst).unwrap();
        assert_eq!(f, after);
        verify(&f).unwrap();
        assert_eq!(pd, pdesc(after));
    }

    #[test]
    fn v4_icmp_error_quoting_udp() {
        let inside = a("10.0.0.5");
        check_err(
            &g::V4_ERR_UDP,
            &g::V4_ERR_UDP_NAT,
            (None, Some(inside)),
            Some((inside, 40000)),
            None,
        );
    }

    #[test]
    fn v4_icmp_error_quoting_tcp() {
        let inside = a("10.0.0.5");
        check_err(
            &g::V4_ERR_TCP,
            &g::V4_ERR_TCP_NAT,
            (None, Some(inside)),
            Some((inside, 40000)),
            None,
        );
    }

    #[test]
    fn v4_icmp_error_quoting_eight_bytes_of_tcp() {
        let inside = a("10.0.0.5");
        check_err(
            &g::V4_ERR_TCP_CUT,
            &g::V4_ERR_TCP_CUT_NAT,
            (None, Some(inside)),
            Some((inside, 40000)),
            None,
        );
    }

    #[test]
    fn v4_icmp_error_quoting_an_echo_request() {
        let inside = a("10.0.0.5");
        check_err(
            &g::V4_ERR_ECHO,
            &g::V4_ERR_ECHO_NAT,
            (None, Some(inside)),
            Some((inside, 0x1234)),
            None,
        );
    }

    #[test]
    fn v6_icmp_error_quoting_udp() {
        let inside = a("fd00::5");
        check_err(
            &g::V6_ERR_UDP,
            &g::V6_ERR_UDP_NAT,
            (None, Some(inside)),
            Some((inside, 40000)),
            None,
        );
    }

    #[test]
    fn v6_icmp_error_quoting_tcp() {
        let inside = a("fd00::5");
        check_err(
            &g::V6_ERR_TCP,
            &g::V6_ERR_TCP_NAT,
            (None, Some(inside)),
            Some((inside, 40000)),
            None,
        );
    }

    #[test]
    fn v6_icmp_error_quoting_an_echo_request() {
        let inside = a("fd00::5");
        check_err(
            &g::V6_ERR_ECHO,
            &g::V6_ERR_ECHO_NAT,
            (None, Some(inside)),
            Some((inside, 0x1234)),
            None,
        );
    }

    #[test]
    fn v4_icmp_error_from_behind_an_rdr() {
        let public = a("192.0.2.1");
        check_err(
            &g::V4_ERR_RDR,
            &g::V4_ERR_RDR_NAT,
            (Some(public), None),
            None,
            Some((public, 53)),
        );
    }

    #[test]
    fn quoted_sequence_number_demodulates() {
        verify(&g::V4_ERR_SEQ).unwrap();
        let mut f = g::V4_ERR_SEQ.to_vec();
        let mut pd = pdesc(&f);
        adjust_quoted_seq(&mut f, &mut pd, 0x1000_0001u32.wrapping_neg()).unwrap();
        assert_eq!(f, g::V4_ERR_SEQ_NAT);
        verify(&f).unwrap();
        assert_eq!(pd.icmp_inner.and_then(|i| i.seq), Some(1000));
        let mut g4 = g::V4_TCP.to_vec();
        let mut pd4 = pdesc(&g4);
        assert_eq!(
            adjust_quoted_seq(&mut g4, &mut pd4, 1),
            Err(Reason::Normalize)
        );
    }

    #[test]
    fn icmp_error_rewrite_needs_a_quote() {
        let mut f = g::V4_ECHO.to_vec();
        let mut pd = pdesc(&f);
        assert_eq!(
            rewrite_icmp_error(&mut f, &mut pd, (None, Some(1)), None, None),
            Err(Reason::Normalize)
        );
        assert_eq!(f, g::V4_ECHO);
    }

    #[test]
    fn modulation_moves_seq_ack_and_sack_edges() {
        verify(&g::V4_SACK).unwrap();
        let mut f = g::V4_SACK.to_vec();
        let mut pd = pdesc(&f);
        adjust_seq(&mut f, &mut pd, 0x1000_0001, 0x100u32.wrapping_neg()).unwrap();
        assert_eq!(f, g::V4_SACK_NAT);
        verify(&f).unwrap();
        assert_eq!(pd, pdesc(&g::V4_SACK_NAT));
        // And back.
        adjust_seq(&mut f, &mut pd, 0x1000_0001u32.wrapping_neg(), 0x100).unwrap();
        assert_eq!(f, g::V4_SACK);
    }

    proptest::proptest! {
        /// Any translation of any golden packet verifies from scratch and
        /// reads back as the descriptor says.
        #[test]
        fn any_translation_verifies(
            which in 0usize..8,
            sa in proptest::prelude::any::<u128>(),
            da in proptest::prelude::any::<u128>(),
            sp in proptest::prelude::any::<u16>(),
            dp in proptest::prelude::any::<u16>(),
            ws in proptest::prelude::any::<bool>(),
            wd in proptest::prelude::any::<bool>(),
        ) {
            let frames: [&[u8]; 8] = [
                &g::V4_TCP, &g::V4_UDP, &g::V4_ECHO, &g::V4_ECHOREPLY,
                &g::V6_TCP, &g::V6_UDP, &g::V6_ECHO, &g::V4_UDP_NOCK,
            ];
            let mut f = frames[which].to_vec();
            let mut pd = pdesc(&f);
            let fix = |x: u128| match pd.af {
                Af::Inet => x << 96,
                Af::Inet6 => x,
            };
            let src = ws.then_some((fix(sa), sp));
            let dst = wd.then_some((fix(da), dp));
            rewrite(&mut f, &mut pd, src, dst).unwrap();
            proptest::prop_assert!(verify(&f).is_ok());
            proptest::prop_assert_eq!(pd, pdesc(&f));
        }

        /// The one-pass IPv4 TCP/UDP rewrite writes the bytes the
        /// field-by-field one does, whatever the checksum held before
        /// (0 and 0xffff included) and whichever fields stay the same.
        #[test]
        fn v4_one_pass_rewrite_equals_field_by_field(
            which in 0usize..3,
            ck in proptest::prelude::prop_oneof![
                proptest::prelude::Just(0u16),
                proptest::prelude::Just(0xffffu16),
                proptest::prelude::Just(1u16),
                proptest::prelude::any::<u16>()
            ],
            sa in proptest::prelude::any::<u32>(),
            da in proptest::prelude::any::<u32>(),
            sp in proptest::prelude::any::<u16>(),
            dp in proptest::prelude::any::<u16>(),
            keep in 0u8..16,
            ws in proptest::prelude::any::<bool>(),
            wd in proptest::prelude::any::<bool>(),
        ) {
            let frames: [&[u8]; 3] = [&g::V4_TCP, &g::V4_UDP, &g::V4_UDP_NOCK];
            let mut f = frames[which].to_vec();
            let pd0 = pdesc(&f);
            let ck_off = usize::from(pd0.l4_off) + if pd0.proto == proto::TCP { 16 } else { 6 };
            f[ck_off..ck_off + 2].copy_from_slice(&ck.to_be_bytes());
            // keep some fields as they are, or make them all-ones/zero
            let pick = |bit: u8, old: u32, new: u32| if keep & bit != 0 { old } else { new };
            let old_s = (pd0.src >> 96) as u32;
            let old_d = (pd0.dst >> 96) as u32;
            let src = ws.then_some((u128::from(pick(1, old_s, sa)) << 96,
                pick(2, u32::from(pd0.sport), u32::from(sp)) as u16));
            let dst = wd.then_some((u128::from(pick(4, old_d, da)) << 96,
                pick(8, u32::from(pd0.dport), u32::from(dp)) as u16));
            let (mut f1, mut pd1) = (f.clone(), pd0);
            let (mut f2, mut pd2) = (f.clone(), pd0);
            let r1 = rewrite_v4_ports(&mut f1, &mut pd1, src, dst);
            let r2 = rewrite_fields(&mut f2, &mut pd2, src, dst);
            proptest::prop_assert_eq!(r1, r2);
            proptest::prop_assert_eq!(f1, f2);
            proptest::prop_assert_eq!(pd1, pd2);
        }

        /// ICMP errors: any inner/outer rewrite keeps every checksum.
        #[test]
        fn any_icmp_error_translation_verifies(
            which in 0usize..6,
            a1 in proptest::prelude::any::<u128>(),
            a2 in proptest::prelude::any::<u128>(),
            a3 in proptest::prelude::any::<u128>(),
            p1 in proptest::prelude::any::<u16>(),
            p2 in proptest::prelude::any::<u16>(),
            mask in 0u8..16,
        ) {
            let frames: [&[u8]; 6] = [
                &g::V4_ERR_UDP, &g::V4_ERR_TCP, &g::V4_ERR_TCP_CUT,
                &g::V4_ERR_ECHO, &g::V6_ERR_UDP, &g::V6_ERR_TCP,
            ];
            let mut f = frames[which].to_vec();
            let mut pd = pdesc(&f);
            let fix = |x: u128| match pd.af {
                Af::Inet => x << 96,
                Af::Inet6 => x,
            };
            let outer = (
                (mask & 1 != 0).then_some(fix(a1)),
                (mask & 2 != 0).then_some(fix(a2)),
            );
            let isrc = (mask & 4 != 0).then_some((fix(a3), p1));
            let idst = (mask & 8 != 0).then_some((fix(a1), p2));
            rewrite_icmp_error(&mut f, &mut pd, outer, isrc, idst).unwrap();
            proptest::prop_assert!(verify(&f).is_ok(), "{:?}", verify(&f));
            proptest::prop_assert_eq!(pd, pdesc(&f));
        }
    }

    #[test]
    fn modulation_is_tcp_only() {
        let mut f = g::V4_UDP.to_vec();
        let mut pd = pdesc(&f);
        assert_eq!(adjust_seq(&mut f, &mut pd, 1, 1), Err(Reason::Normalize));
    }
}
