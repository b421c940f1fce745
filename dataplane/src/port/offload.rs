//! Frames a local stack sent with checksum offload reach a packet
//! socket before any NIC filled in their TCP/UDP checksum (the kernel
//! flags them `TP_STATUS_CSUMNOTREADY`): on veth and tap links to
//! containers and VMs, every such frame. Forwarded as they are, the
//! receiver drops them; so the port completes the checksum, as the NIC
//! would have, before the engine sees the frame.

use crate::wire::checksum;

const TCP: u8 = 6;
const UDP: u8 = 17;

/// Write the full TCP or UDP checksum into `frame` (Ethernet, at most
/// one VLAN tag, IPv4 or IPv6 without extension headers, unfragmented).
/// Returns false, leaving the frame alone, for anything else or when
/// the lengths do not add up.
pub(crate) fn complete_l4_checksum(frame: &mut [u8]) -> bool {
    let Some((l3, ethertype)) = l3_start(frame) else {
        return false;
    };
    let parsed = match ethertype {
        0x0800 => v4(frame, l3),
        0x86dd => v6(frame, l3),
        _ => None,
    };
    let Some((l4_start, l4_end, proto, pseudo)) = parsed else {
        return false;
    };
    let field = match proto {
        TCP => 16,
        UDP => 6,
        _ => return false,
    };
    let Some(l4) = frame.get_mut(l4_start..l4_end) else {
        return false;
    };
    let Some(c) = l4.get_mut(field..field + 2) else {
        return false;
    };
    c.copy_from_slice(&[0, 0]);
    let mut sum = checksum::finish(checksum::combine(&[pseudo, checksum::sum(l4)]));
    if proto == UDP && sum == 0 {
        // Zero means "no checksum" in UDP over IPv4 (RFC 768).
        sum = 0xffff;
    }
    l4[field..field + 2].copy_from_slice(&sum.to_be_bytes());
    true
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn l3_start(frame: &[u8]) -> Option<(usize, u16)> {
    let et = be16(frame, 12)?;
    if et == 0x8100 || et == 0x88a8 {
        return Some((18, be16(frame, 16)?));
    }
    Some((14, et))
}

/// IPv4: L4 bounds, protocol and pseudo-header sum.
fn v4(f: &[u8], l3: usize) -> Option<(usize, usize, u8, u16)> {
    let vihl = *f.get(l3)?;
    let ihl = usize::from(vihl & 0x0f) * 4;
    if vihl >> 4 != 4 || ihl < 20 {
        return None;
    }
    let total = usize::from(be16(f, l3 + 2)?);
    // More-fragments or an offset: the checksum spans other frames.
    if be16(f, l3 + 6)? & 0x3fff != 0 || total < ihl {
        return None;
    }
    let proto = *f.get(l3 + 9)?;
    let src: [u8; 4] = f.get(l3 + 12..l3 + 16)?.try_into().ok()?;
    let dst: [u8; 4] = f.get(l3 + 16..l3 + 20)?.try_into().ok()?;
    let l4_len = u16::try_from(total - ihl).ok()?;
    let end = l3.checked_add(total)?;
    (end <= f.len()).then_some((
        l3 + ihl,
        end,
        proto,
        checksum::pseudo_v4(src, dst, proto, l4_len),
    ))
}

/// IPv6 with TCP or UDP as the first next header.
fn v6(f: &[u8], l3: usize) -> Option<(usize, usize, u8, u16)> {
    if *f.get(l3)? >> 4 != 6 {
        return None;
    }
    let plen = usize::from(be16(f, l3 + 4)?);
    let proto = *f.get(l3 + 6)?;
    let src: [u8; 16] = f.get(l3 + 8..l3 + 24)?.try_into().ok()?;
    let dst: [u8; 16] = f.get(l3 + 24..l3 + 40)?.try_into().ok()?;
    let start = l3 + 40;
    let end = start.checked_add(plen)?;
    (end <= f.len()).then_some((
        start,
        end,
        proto,
        checksum::pseudo_v6(src, dst, proto, plen as u32),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IPv4 UDP 192.0.2.1:1234 -> 192.0.2.2:7777 "hi!", with the
    /// checksum (0xcf37) summed independently by a Python one-liner, in
    /// an untagged Ethernet frame.
    fn udp4() -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
        f.extend_from_slice(&[
            0x45, 0, 0, 31, 0, 1, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2, // IPv4
            0x04, 0xd2, 0x1e, 0x61, 0, 11, 0xcf, 0x37, b'h', b'i', b'!', // UDP
        ]);
        f
    }

    #[test]
    fn fills_a_partial_udp_checksum() {
        let good = udp4();
        let mut f = good.clone();
        // What the stack leaves with offload: the pseudo-header sum.
        f[40..42].copy_from_slice(&[0x12, 0x34]);
        assert!(complete_l4_checksum(&mut f));
        assert_eq!(f, good);
    }

    #[test]
    fn vlan_tagged_and_tcp_v6_agree_with_a_from_scratch_sum() {
        let mut f = vec![
            2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0, 5, 0x86, 0xdd,
        ];
        let mut ip = vec![0x60, 0, 0, 0, 0, 20, TCP, 64];
        ip.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8].repeat(4));
        ip.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb9].repeat(4));
        f.extend_from_slice(&ip);
        let mut tcp = [0u8; 20];
        tcp[12] = 0x50;
        tcp[13] = 0x02;
        f.extend_from_slice(&tcp);
        assert!(complete_l4_checksum(&mut f));
        // A correct checksum sums, with the pseudo-header, to 0xffff.
        let src: [u8; 16] = f[26..42].try_into().unwrap();
        let dst: [u8; 16] = f[42..58].try_into().unwrap();
        let s = checksum::combine(&[
            checksum::pseudo_v6(src, dst, TCP, 20),
            checksum::sum(&f[58..]),
        ]);
        assert_eq!(s, 0xffff);
    }

    #[test]
    fn leaves_fragments_short_frames_and_other_protocols_alone() {
        let mut frag = udp4();
        frag[20] = 0x20; // more fragments
        let before = frag.clone();
        assert!(!complete_l4_checksum(&mut frag));
        assert_eq!(frag, before);
        let mut short = udp4();
        short.truncate(40);
        assert!(!complete_l4_checksum(&mut short));
        let mut icmp = udp4();
        icmp[23] = 1;
        assert!(!complete_l4_checksum(&mut icmp));
        for n in 0..udp4().len() {
            let mut cut = udp4()[..n].to_vec();
            complete_l4_checksum(&mut cut);
        }
    }
}
