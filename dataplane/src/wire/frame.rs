//! From a received frame to pf's packet descriptor: what pf's
//! `pf_setup_pdesc` (with `pf_walk_header`, `pf_walk_header6` and their
//! option walkers) does, plus the quoted packet of ICMP errors that
//! pf's `pf_test_state_icmp` reads. Drop reasons are pf's.

use super::ethernet::{ethertype, EthernetFrame};
use super::icmp_map::icmp_mapping;
use super::ipv6::{ext_len, nh, OptionError};
use super::{be16, be32, byte, icmp, icmpv6, ipv4, ipv6, l4_sum, tcp};
use crate::pdesc::{proto, AddrKey, IcmpInner, Pdesc, TcpInfo};
use crate::reason::Reason;
use ruleset::addr::Af;
use std::net::IpAddr;

/// What a frame starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Ethernet II, optionally with one 802.1Q tag.
    Ethernet,
    /// A bare IPv4 or IPv6 packet (pflog, tun, DLT_RAW captures).
    RawIp,
}

/// The outcome of parsing a frame pf would look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    Ip(Pdesc),
    /// Not IP (ARP, LLDP, ...): pf never sees it, the engine passes it.
    NonIp {
        ethertype: u16,
    },
}

/// pf's `pf_hdr_limit`: extension headers walked before giving up.
const HDR_LIMIT: usize = 20;
const IPPROTO_IGMP: u8 = 2;
/// 224.0.0.1
const INADDR_ALLHOSTS_GROUP: u32 = 0xe000_0001;

/// Parse `frame` as pf would set up its descriptor. Errors are pf's drop
/// reasons: `Short` for anything cut off or whose lengths do not add up,
/// `IpOption` for malformed options or extension-header chains,
/// `Fragment` for impossible IPv6 fragment headers, `Normalize` for a
/// wrong IP version, an IPv6 jumbogram, neighbour discovery with a hop
/// limit other than 255 or ICMP of the other family; `BadOffset` for an
/// offset that does not fit the descriptor (IPv6 packets over 65535
/// bytes).
///
/// Every fragment (more-fragments set or a non-zero offset; for IPv6 a
/// fragment header that is not atomic) comes back with `fragment` set
/// and no transport fields, as pf's `PF_VPROTO_FRAGMENT`: pf reads the
/// transport header only of whole (or reassembled) packets.
pub fn parse_frame(frame: &[u8], link: Link) -> Result<Parsed, Reason> {
    let mut pd = empty_pdesc(Af::Inet);
    Ok(match parse_frame_into(frame, link, &mut pd)? {
        Frame::Ip => Parsed::Ip(pd),
        Frame::NonIp { ethertype } => Parsed::NonIp { ethertype },
    })
}

/// What [`parse_frame_into`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// `pd` now describes the packet.
    Ip,
    /// Not IP: `pd` is left as it was.
    NonIp { ethertype: u16 },
}

/// [`parse_frame`] into a caller's descriptor, for the per-packet path:
/// the descriptor is some 180 bytes, and returning it by value through
/// `Result<Parsed, _>` costs copies on every packet. On `Ok(Frame::Ip)`
/// every field of `pd` is set; on an error `pd` holds whatever part of
/// the packet was read and must not be used.
#[inline]
pub fn parse_frame_into(frame: &[u8], link: Link, pd: &mut Pdesc) -> Result<Frame, Reason> {
    let (l3, vlan, af) = match link {
        Link::Ethernet => {
            let f = EthernetFrame::new_checked(frame).map_err(|_| Reason::Short)?;
            let af = match f.ethertype() {
                ethertype::IPV4 => Af::Inet,
                ethertype::IPV6 => Af::Inet6,
                e => return Ok(Frame::NonIp { ethertype: e }),
            };
            (f.header_len(), f.vlan_id(), af)
        }
        Link::RawIp => {
            let af = match frame.first().map(|b| b >> 4) {
                None => return Err(Reason::Short),
                Some(4) => Af::Inet,
                Some(6) => Af::Inet6,
                Some(_) => return Err(Reason::Normalize),
            };
            (0, None, af)
        }
    };
    let ip = frame.get(l3..).unwrap_or(&[]);
    match af {
        Af::Inet => setup_v4(ip, pd)?,
        Af::Inet6 => setup_v6(ip, pd)?,
    }
    pd.vlan = vlan;
    let l3u = u16::try_from(l3).map_err(|_| Reason::BadOffset)?;
    pd.l3_off = l3u;
    pd.l4_off = pd.l4_off.checked_add(l3u).ok_or(Reason::BadOffset)?;
    if let Some(inner) = pd.icmp_inner.as_mut() {
        inner.ip_off = inner.ip_off.checked_add(l3u).ok_or(Reason::BadOffset)?;
        inner.l4_off = inner.l4_off.checked_add(l3u).ok_or(Reason::BadOffset)?;
    }
    Ok(Frame::Ip)
}

fn pull(pkt: &[u8], off: usize, len: usize) -> Result<&[u8], Reason> {
    pkt.get(off..off.checked_add(len).ok_or(Reason::Short)?)
        .ok_or(Reason::Short)
}

fn off16(v: usize) -> Result<u16, Reason> {
    u16::try_from(v).map_err(|_| Reason::BadOffset)
}

fn key_v4(b: &[u8], off: usize) -> AddrKey {
    u128::from(be32(b, off)) << 96
}

fn key_v6(b: &[u8], off: usize) -> AddrKey {
    u128::from_be_bytes(super::array(b, off))
}

/// Result of walking the IP header and what pf steps over after it.
#[derive(Debug, Clone, Copy, Default)]
struct Walk {
    /// Offset of the transport header (pf's `pd->off`).
    off: usize,
    proto: u8,
    router_alert: bool,
    other_opts: bool,
    jumbo: bool,
    jumbo_len: u32,
    /// IPv6: offset of the fragment header of a real fragment (pf's
    /// `pd->fragoff`), 0 if none.
    fragoff: usize,
}

impl Walk {
    fn badopts(&self) -> bool {
        self.router_alert || self.other_opts || self.jumbo
    }
}

/// pf's `pf_walk_header`: the IPv4 header at `start` of `pkt` (`pkt`
/// ends where the outermost IP packet ends).
#[inline]
fn walk_v4(pkt: &[u8], start: usize) -> Result<Walk, Reason> {
    let h = pull(pkt, start, ipv4::HEADER_LEN)?;
    let hlen = usize::from(h[0] & 0x0f) * 4;
    let ip_len = usize::from(be16(h, 2));
    if hlen < ipv4::HEADER_LEN || hlen > ip_len {
        return Err(Reason::Short);
    }
    let mut w = Walk::default();
    if hlen != ipv4::HEADER_LEN {
        let opts = pull(pkt, start + ipv4::HEADER_LEN, hlen - ipv4::HEADER_LEN)?;
        let k = ipv4::walk_options(opts).map_err(|_| Reason::IpOption)?;
        w.router_alert = k.router_alert;
        // options made of padding alone are fishy
        w.other_opts = k.other || !k.router_alert;
    }
    let end = start + ip_len;
    w.off = start + hlen;
    w.proto = h[9];
    if w.proto == IPPROTO_IGMP {
        // RFC 1112: IGMP to all-hosts has TTL 1; IGMP carries router
        // alert legitimately.
        if h[8] != 1 && be32(h, 16) == INADDR_ALLHOSTS_GROUP {
            return Err(Reason::IpOption);
        }
        w.router_alert = false;
    }
    let frag = be16(h, 6);
    if frag & ipv4::OFFMASK != 0 {
        return Ok(w);
    }
    for _ in 0..HDR_LIMIT {
        if w.proto != nh::AH {
            return Ok(w);
        }
        if frag & (ipv4::MF | ipv4::OFFMASK) != 0 && end < w.off + 2 {
            return Ok(w);
        }
        let e = pull(pkt, w.off, 2)?;
        w.off += ext_len(nh::AH, e[1]);
        w.proto = e[0];
    }
    Err(Reason::IpOption)
}

/// pf's `pf_walk_header6` for the IPv6 header at `start` of `pkt`.
fn walk_v6(pkt: &[u8], start: usize) -> Result<Walk, Reason> {
    let h = pull(pkt, start, ipv6::HEADER_LEN)?;
    let plen = be16(h, 4);
    let hlim = h[7];
    let mut w = Walk {
        off: start + ipv6::HEADER_LEN,
        proto: h[6],
        ..Walk::default()
    };
    let end = w.off + usize::from(plen);
    let (mut frag_cnt, mut rt_cnt) = (0, 0);
    let short_frag = |w: &mut Walk| {
        w.off = w.fragoff;
        w.proto = nh::FRAGMENT;
    };
    for hdr_cnt in 0..HDR_LIMIT {
        match w.proto {
            nh::ROUTING | nh::DSTOPTS => w.other_opts = true,
            nh::HOPOPTS => {
                let e = pull(pkt, w.off, 2)?;
                let hend = usize::from(e[1]).saturating_add(1) * 8 - 2;
                let avail = pkt.get(w.off + 2..).unwrap_or(&[]);
                let k = ipv6::walk_options(avail, hend, plen).map_err(|e| match e {
                    OptionError::Short => Reason::Short,
                    OptionError::Bad => Reason::IpOption,
                })?;
                w.router_alert |= k.router_alert;
                w.other_opts |= k.other;
                if k.jumbo {
                    w.jumbo = true;
                    w.jumbo_len = k.jumbo_len;
                }
                if !w.badopts() {
                    w.other_opts = true;
                }
            }
            _ => {}
        }
        match w.proto {
            nh::FRAGMENT => {
                frag_cnt += 1;
                if frag_cnt > 1 || w.jumbo_len != 0 {
                    return Err(Reason::Fragment);
                }
                let f = pull(pkt, w.off, ipv6::FRAG_HEADER_LEN)?;
                let offlg = be16(f, 2);
                if offlg & 0xfff8 != 0 {
                    // a later fragment: nothing past this header is known
                    w.fragoff = w.off;
                    return Ok(w);
                }
                // RFC 6946: an atomic fragment is a whole packet
                if offlg & 1 != 0 {
                    w.fragoff = w.off;
                }
                w.off += ipv6::FRAG_HEADER_LEN;
                w.proto = f[0];
            }
            nh::ROUTING | nh::HOPOPTS | nh::AH | nh::DSTOPTS => {
                if w.proto == nh::ROUTING {
                    rt_cnt += 1;
                    if rt_cnt > 1 {
                        return Err(Reason::IpOption);
                    }
                    if w.fragoff != 0 && end < w.off + 4 {
                        short_frag(&mut w);
                        return Ok(w);
                    }
                    let r = pull(pkt, w.off, 4)?;
                    // RFC 5095: type 0 routing headers are deprecated
                    if r[2] == 0 {
                        return Err(Reason::IpOption);
                    }
                }
                if w.proto == nh::HOPOPTS && hdr_cnt > 0 {
                    // RFC 8200 4.1: hop-by-hop only right after the header
                    return Err(Reason::IpOption);
                }
                if w.fragoff != 0 && end < w.off + 2 {
                    short_frag(&mut w);
                    return Ok(w);
                }
                let e = pull(pkt, w.off, 2)?;
                if w.proto == nh::HOPOPTS && w.fragoff == 0 && plen == 0 && w.jumbo_len != 0 {
                    return Err(Reason::IpOption);
                }
                w.off += ext_len(w.proto, e[1]);
                w.proto = e[0];
            }
            proto::ICMPV6 => {
                if w.fragoff != 0 && end < w.off + icmpv6::HEADER_LEN {
                    short_frag(&mut w);
                    return Ok(w);
                }
                let m = pull(pkt, w.off, icmpv6::HEADER_LEN)?;
                use icmpv6::ty::*;
                if matches!(
                    m[0],
                    MLD_LISTENER_QUERY
                        | MLD_LISTENER_REPORT
                        | MLD_LISTENER_DONE
                        | MLDV2_LISTENER_REPORT
                ) {
                    // RFC 2710: MLD is sent with hop limit 1 from a
                    // link-local address, with router alert.
                    let src_ll = byte(h, 8) == 0xfe && byte(h, 9) & 0xc0 == 0x80;
                    if hlim != 1 || !src_ll {
                        return Err(Reason::IpOption);
                    }
                    w.router_alert = false;
                }
                return Ok(w);
            }
            proto::TCP | proto::UDP => {
                let need = if w.proto == proto::TCP {
                    tcp::HEADER_LEN
                } else {
                    super::udp::HEADER_LEN
                };
                if w.fragoff != 0 && end < w.off + need {
                    short_frag(&mut w);
                }
                return Ok(w);
            }
            _ => return Ok(w),
        }
    }
    Err(Reason::IpOption)
}

/// An AH or extension header whose length points past the packet, then
/// names a protocol pf does not read: pf stops walking and leaves its
/// offset outside the packet. We drop it as short instead, so that every
/// descriptor's transport offset lies within its packet.
fn past_end(w: &Walk, tot: usize) -> Result<(), Reason> {
    if w.off > tot {
        return Err(Reason::Short);
    }
    Ok(())
}

/// A descriptor with nothing read yet, for [`parse_frame_into`] to fill.
pub fn empty_pdesc(af: Af) -> Pdesc {
    Pdesc {
        af,
        proto: 0,
        src: 0,
        dst: 0,
        sport: 0,
        dport: 0,
        tos: 0,
        ttl: 0,
        l3_off: 0,
        l4_off: 0,
        ip_len: 0,
        vlan: None,
        fragment: false,
        ip_opts: false,
        icmp_type: None,
        icmp_code: None,
        tcp: None,
        icmp_inner: None,
    }
}

#[inline]
fn setup_v4(ip: &[u8], pd: &mut Pdesc) -> Result<(), Reason> {
    if ip.len() < ipv4::HEADER_LEN {
        return Err(Reason::Short);
    }
    if ip[0] >> 4 != 4 {
        return Err(Reason::Normalize);
    }
    let tot = usize::from(be16(ip, 2));
    // The frame may carry link padding past the IP packet: pf's bounds
    // are the IP length.
    let pkt = ip.get(..tot).ok_or(Reason::Short)?;
    let w = walk_v4(pkt, 0)?;
    past_end(&w, tot)?;
    *pd = empty_pdesc(Af::Inet);
    pd.src = key_v4(pkt, 12);
    pd.dst = key_v4(pkt, 16);
    pd.ip_len = off16(tot)?;
    pd.tos = pkt[1] & !0x03;
    pd.ttl = pkt[8];
    pd.proto = w.proto;
    pd.ip_opts = w.badopts();
    pd.fragment = be16(pkt, 6) & (ipv4::MF | ipv4::OFFMASK) != 0;
    pd.l4_off = off16(w.off)?;
    if !pd.fragment {
        transport(pkt, w.off, pd)?;
    }
    Ok(())
}

fn setup_v6(ip: &[u8], pd: &mut Pdesc) -> Result<(), Reason> {
    if ip.len() < ipv6::HEADER_LEN {
        return Err(Reason::Short);
    }
    if ip[0] >> 4 != 6 {
        return Err(Reason::Normalize);
    }
    let tot = ipv6::HEADER_LEN + usize::from(be16(ip, 4));
    let pkt = ip.get(..tot).ok_or(Reason::Short)?;
    let w = walk_v6(pkt, 0)?;
    past_end(&w, tot)?;
    // pf does not handle jumbograms
    if w.jumbo_len != 0 {
        return Err(Reason::Normalize);
    }
    *pd = empty_pdesc(Af::Inet6);
    pd.src = key_v6(pkt, 8);
    pd.dst = key_v6(pkt, 24);
    pd.ip_len = off16(tot)?;
    pd.tos = ((be32(pkt, 0) & 0x0fc0_0000) >> 20) as u8;
    pd.ttl = pkt[7];
    pd.proto = w.proto;
    pd.ip_opts = w.badopts();
    pd.fragment = w.fragoff != 0;
    pd.l4_off = off16(w.off)?;
    if !pd.fragment {
        transport(pkt, w.off, pd)?;
    }
    Ok(())
}

/// The transport part of `pf_setup_pdesc` for a packet that is not a
/// fragment. `pkt` is the IP packet (bounded by its length), `off` the
/// transport header's offset in it.
#[inline]
fn transport(pkt: &[u8], off: usize, pd: &mut Pdesc) -> Result<(), Reason> {
    let tot = pkt.len();
    match pd.proto {
        proto::TCP => {
            let h = pull(pkt, off, tcp::HEADER_LEN)?;
            let thlen = usize::from(h[12] >> 4) * 4;
            let dport = be16(h, 2);
            if dport == 0 || off + thlen > tot || thlen < tcp::HEADER_LEN {
                return Err(Reason::Short);
            }
            let opts =
                tcp::parse_options(pkt.get(off + tcp::HEADER_LEN..off + thlen).unwrap_or(&[]));
            pd.sport = be16(h, 0);
            pd.dport = dport;
            pd.tcp = Some(TcpInfo {
                seq: be32(h, 4),
                ack: be32(h, 8),
                win: be16(h, 14),
                flags: h[13],
                hdr_len: thlen as u8,
                data_len: off16(tot - off - thlen)?,
                wscale: opts.wscale.map(|w| w.min(tcp::MAX_WSCALE)),
                mss: opts.mss,
                ts: opts.timestamps,
            });
        }
        proto::UDP => {
            let h = pull(pkt, off, super::udp::HEADER_LEN)?;
            let dport = be16(h, 2);
            let ulen = usize::from(be16(h, 4));
            if dport == 0 || off + ulen > tot || ulen < super::udp::HEADER_LEN {
                return Err(Reason::Short);
            }
            pd.sport = be16(h, 0);
            pd.dport = dport;
        }
        proto::ICMP => {
            let h = pull(pkt, off, icmp::HEADER_LEN)?;
            if pd.af != Af::Inet {
                // pf_test: IPv6 carrying ICMPv4
                return Err(Reason::Normalize);
            }
            icmp_common(pkt, off, h, pd);
        }
        proto::ICMPV6 => {
            let h = pull(pkt, off, icmpv6::HEADER_LEN)?;
            use icmpv6::ty::*;
            let need = match h[0] {
                MLD_LISTENER_QUERY | MLD_LISTENER_REPORT => icmpv6::ADDR_BODY_LEN,
                t @ (NEIGHBOR_SOLICIT | NEIGHBOR_ADVERT | ROUTER_SOLICIT | ROUTER_ADVERT
                | REDIRECT) => {
                    // RFC 4861: neighbour discovery never crosses a router
                    if pd.ttl != 255 {
                        return Err(Reason::Normalize);
                    }
                    if matches!(t, NEIGHBOR_SOLICIT | NEIGHBOR_ADVERT) {
                        icmpv6::ADDR_BODY_LEN
                    } else {
                        icmpv6::HEADER_LEN
                    }
                }
                _ => icmpv6::HEADER_LEN,
            };
            let h = pull(pkt, off, need)?;
            if pd.af != Af::Inet6 {
                // pf_test: IPv4 carrying ICMPv6
                return Err(Reason::Normalize);
            }
            icmp_common(pkt, off, h, pd);
        }
        _ => {}
    }
    Ok(())
}

fn icmp_common(pkt: &[u8], off: usize, h: &[u8], pd: &mut Pdesc) {
    pd.icmp_type = Some(h[0]);
    pd.icmp_code = Some(h[1]);
    let msg = pkt.get(off..).unwrap_or(&[]);
    let m = icmp_mapping(pd.af, msg);
    let is_error = match pd.af {
        Af::Inet => icmp::is_error(h[0]),
        Af::Inet6 => icmpv6::is_error(h[0]),
    };
    if is_error {
        pd.icmp_inner = quoted(pkt, off + icmp::HEADER_LEN, pd.af);
    } else {
        pd.sport = m.virtual_id;
        pd.dport = m.virtual_id;
    }
}

/// The packet quoted by an ICMP error, read the way pf's
/// `pf_test_state_icmp` reads it. `None` where pf would give up on the
/// state lookup (and so evaluate the error against the rules instead):
/// a quoted header that is cut off or malformed, a later fragment, ICMP
/// of the other family.
fn quoted(pkt: &[u8], ip_off: usize, af: Af) -> Option<IcmpInner> {
    let (w, src, dst) = match af {
        Af::Inet => {
            let h = pull(pkt, ip_off, ipv4::HEADER_LEN).ok()?;
            // errors are never about later fragments
            if be16(h, 6) & ipv4::OFFMASK != 0 {
                return None;
            }
            (walk_v4(pkt, ip_off).ok()?, key_v4(h, 12), key_v4(h, 16))
        }
        Af::Inet6 => {
            let h = pull(pkt, ip_off, ipv6::HEADER_LEN).ok()?;
            (walk_v6(pkt, ip_off).ok()?, key_v6(h, 8), key_v6(h, 24))
        }
    };
    if w.off > pkt.len() {
        return None;
    }
    let mut inner = IcmpInner {
        proto: w.proto,
        src,
        dst,
        sport: 0,
        dport: 0,
        seq: None,
        icmp_type: None,
        ip_off: u16::try_from(ip_off).ok()?,
        l4_off: u16::try_from(w.off).ok()?,
    };
    match (w.proto, af) {
        // only the first 8 bytes of the transport header are promised
        (proto::TCP, _) => {
            let t = pull(pkt, w.off, 8).ok()?;
            inner.sport = be16(t, 0);
            inner.dport = be16(t, 2);
            inner.seq = Some(be32(t, 4));
        }
        (proto::UDP, _) => {
            let u = pull(pkt, w.off, super::udp::HEADER_LEN).ok()?;
            inner.sport = be16(u, 0);
            inner.dport = be16(u, 2);
        }
        (proto::ICMP, Af::Inet) | (proto::ICMPV6, Af::Inet6) => {
            let m = pull(pkt, w.off, icmp::HEADER_LEN).ok()?;
            let map = icmp_mapping(af, pkt.get(w.off..).unwrap_or(m));
            inner.icmp_type = Some(m[0]);
            inner.sport = map.virtual_id;
            inner.dport = map.virtual_id;
        }
        (proto::ICMP, _) | (proto::ICMPV6, _) => return None,
        _ => {}
    }
    Some(inner)
}

fn ip_of(af: Af, k: AddrKey) -> IpAddr {
    crate::pdesc::key_to_ip(af, k)
}

/// Verify the transport checksum of a parsed packet the way pf's
/// `pf_check_proto_cksum` does: over everything from the transport
/// header to the end of the IP packet. A UDP checksum of zero means "not
/// computed" over IPv4 and passes; over IPv6 it fails. Fragments and
/// protocols without a checksum pf knows pass: there is nothing to check
/// until reassembly.
pub fn verify_l4_checksum(frame: &[u8], pd: &Pdesc) -> bool {
    if pd.fragment {
        return true;
    }
    let end = usize::from(pd.l3_off) + usize::from(pd.ip_len);
    let Some(seg) = frame.get(usize::from(pd.l4_off)..end) else {
        return false;
    };
    let (s, d) = (ip_of(pd.af, pd.src), ip_of(pd.af, pd.dst));
    match pd.proto {
        proto::TCP => l4_sum(seg, s, d, proto::TCP) == 0xffff,
        proto::UDP => {
            if be16(seg, 6) == 0 {
                return pd.af == Af::Inet;
            }
            l4_sum(seg, s, d, proto::UDP) == 0xffff
        }
        proto::ICMP => super::checksum::sum(seg) == 0xffff,
        proto::ICMPV6 => l4_sum(seg, s, d, proto::ICMPV6) == 0xffff,
        _ => true,
    }
}

/// Verify the IPv4 header checksum (true for IPv6, which has none). pf
/// runs after the stack has dropped bad headers; a userspace engine must
/// do that check itself, and this is it.
#[inline]
pub fn verify_ip_checksum(frame: &[u8], pd: &Pdesc) -> bool {
    if pd.af == Af::Inet6 {
        return true;
    }
    let l3 = usize::from(pd.l3_off);
    match frame.get(l3..l3 + usize::from(pd.ip_len)) {
        // the common header without options, summed as five words
        Some(ip) if ip.first().is_some_and(|&b| b & 0x0f == 5) => ip
            .get(..ipv4::HEADER_LEN)
            .is_some_and(|h| header_sum(h) == 0xffff),
        Some(ip) => ipv4::Ipv4Packet::new_unchecked(ip).verify_checksum(),
        None => false,
    }
}

/// `checksum::sum` of a 20-byte IPv4 header, unrolled for the fast path.
#[inline]
fn header_sum(h: &[u8]) -> u16 {
    let mut acc = 0u64;
    for w in h.chunks_exact(4) {
        acc += u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
    }
    // five 32-bit words fit 35 bits: three folds leave 16
    acc = (acc & 0xffff_ffff) + (acc >> 32);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    acc as u16
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;
