//! Reassembly tests: packets built here, cut into fragments the way a
//! sender would, fed in various orders.

use proptest::prelude::*;

use super::*;
use crate::pdesc::Dir;
use crate::reason::Reason;
use crate::wire::checksum;

const SEC: u64 = 1_000_000_000;
pub(super) const ETH: usize = 14;

/// An IPv4 UDP packet with valid checksums and `n` payload bytes.
fn v4_udp(id: u16, n: usize) -> Vec<u8> {
    let src = [192, 0, 2, 1];
    let dst = [198, 51, 100, 2];
    let ulen = 8 + n;
    let total = 20 + ulen;
    let mut p = vec![0x45, 0, (total >> 8) as u8, total as u8];
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&[0, 0, 64, 17, 0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    let c = checksum::finish(checksum::sum(&p));
    p[10..12].copy_from_slice(&c.to_be_bytes());
    let mut u = vec![0x30, 0x39, 0x00, 0x35, (ulen >> 8) as u8, ulen as u8, 0, 0];
    u.extend((0..n).map(|i| (i * 7 + 3) as u8));
    let c = checksum::finish(checksum::combine(&[
        checksum::pseudo_v4(src, dst, 17, ulen as u16),
        checksum::sum(&u),
    ]));
    u[6..8].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(&u);
    p
}

/// The IPv4 fragment of `pkt` (no options) carrying payload bytes
/// `off..off+len`, behind a dummy Ethernet header.
fn v4_frag(pkt: &[u8], off: usize, len: usize, mf: bool) -> Vec<u8> {
    let payload = &pkt[20..];
    let data = &payload[off..off + len];
    let mut h = pkt[..20].to_vec();
    let total = 20 + len;
    h[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    let off_field = (off / 8) as u16 | if mf { 0x2000 } else { 0 };
    h[6..8].copy_from_slice(&off_field.to_be_bytes());
    h[10..12].copy_from_slice(&[0, 0]);
    let c = checksum::finish(checksum::sum(&h));
    h[10..12].copy_from_slice(&c.to_be_bytes());
    let mut f = vec![0u8; ETH];
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&h);
    f.extend_from_slice(data);
    f
}

/// Cut `pkt`'s payload into `size`-byte IPv4 fragments (size % 8 == 0).
fn v4_split(pkt: &[u8], size: usize) -> Vec<Vec<u8>> {
    let n = pkt.len() - 20;
    (0..n)
        .step_by(size)
        .map(|off| {
            let len = size.min(n - off);
            v4_frag(pkt, off, len, off + len < n)
        })
        .collect()
}

pub(super) fn push(r: &mut Reassembler, f: &[u8], now: u64) -> Result<FragResult, Reason> {
    r.push(f, ETH, Dir::In, now)
}

pub(super) fn complete(res: Result<FragResult, Reason>) -> Reassembled {
    match res {
        Ok(FragResult::Complete(c)) => c,
        other => panic!("expected a complete packet, got {other:?}"),
    }
}

fn assert_v4_checksums(p: &[u8]) {
    assert_eq!(checksum::sum(&p[..20]), 0xffff, "IPv4 header checksum");
    let src: [u8; 4] = p[12..16].try_into().unwrap();
    let dst: [u8; 4] = p[16..20].try_into().unwrap();
    let l4 = &p[20..];
    let s = checksum::combine(&[
        checksum::pseudo_v4(src, dst, p[9], l4.len() as u16),
        checksum::sum(l4),
    ]);
    assert_eq!(s, 0xffff, "UDP checksum");
}

#[test]
fn defaults_are_the_rulesets() {
    assert_eq!(ruleset::ruleset::LIMIT_NAMES[LIMIT_FRAGS], "frags");
    assert_eq!(ruleset::rule::TIMEOUT_NAMES[PFTM_FRAG], "frag");
    assert_eq!((DEFAULT_LIMIT, DEFAULT_TIMEOUT_S), (65_536, 60));
}

#[test]
fn ipv4_options_come_from_the_first_fragment() {
    // The first fragment carries a 4-byte option (three NOPs and EOL);
    // the second none, as senders copy only "copied" options.
    let pkt = v4_udp(80, 64);
    let mut first = v4_frag(&pkt, 0, 32, true);
    first[ETH] = 0x46;
    first.splice(ETH + 20..ETH + 20, [1, 1, 1, 0]);
    let tl = u16::from_be_bytes([first[ETH + 2], first[ETH + 3]]) + 4;
    first[ETH + 2..ETH + 4].copy_from_slice(&tl.to_be_bytes());
    let mut r = Reassembler::default();
    assert_eq!(push(&mut r, &first, 0), Ok(FragResult::Held));
    let c = complete(push(&mut r, &v4_frag(&pkt, 32, 40, false), 0));
    assert_eq!(c.hdr_len, 24);
    assert_eq!(c.packet.len(), pkt.len() + 4);
    assert_eq!(&c.packet[20..24], &[1, 1, 1, 0]);
    assert_eq!(&c.packet[24..], &pkt[20..]);
    assert_eq!(
        u16::from_be_bytes([c.packet[2], c.packet[3]]) as usize,
        pkt.len() + 4
    );
    assert_eq!(checksum::sum(&c.packet[..24]), 0xffff);
}

#[test]
fn in_order_v4() {
    let pkt = v4_udp(0x1234, 3000);
    let frags = v4_split(&pkt, 1480);
    assert_eq!(frags.len(), 3);
    let mut r = Reassembler::new(DEFAULT_LIMIT, DEFAULT_TIMEOUT_S);
    assert_eq!(push(&mut r, &frags[0], 0), Ok(FragResult::Held));
    assert_eq!(push(&mut r, &frags[1], 1), Ok(FragResult::Held));
    assert_eq!(r.stats().fragments, 2);
    assert_eq!(r.stats().bytes, 20 + 1480 + 1480);
    let c = complete(push(&mut r, &frags[2], 2));
    assert_eq!(c.packet, pkt);
    assert_eq!(c.max_frag_len, 1480);
    assert_eq!(c.hdr_len, 20);
    assert_eq!(c.ext_off, None);
    assert_v4_checksums(&c.packet);
    let s = r.stats();
    assert_eq!((s.fragments, s.packets, s.held, s.completed), (0, 0, 2, 1));
    assert_eq!(s.bytes, 0);
    assert_eq!(r.next_deadline(), None);
}

#[test]
fn out_of_order_v4() {
    let pkt = v4_udp(7, 4000);
    let frags = v4_split(&pkt, 1024);
    let mut r = Reassembler::new(DEFAULT_LIMIT, DEFAULT_TIMEOUT_S);
    for i in [3, 1, 0] {
        assert_eq!(push(&mut r, &frags[i], 0), Ok(FragResult::Held));
    }
    let c = complete(push(&mut r, &frags[2], 0));
    assert_eq!(c.packet, pkt);
    assert_v4_checksums(&c.packet);
}

#[test]
fn non_fragments_pass_untouched() {
    let pkt = v4_udp(1, 100);
    let mut frame = vec![0u8; ETH];
    frame.extend_from_slice(&pkt);
    let mut r = Reassembler::new(DEFAULT_LIMIT, DEFAULT_TIMEOUT_S);
    assert_eq!(push(&mut r, &frame, 0), Ok(FragResult::NotFragment));
    assert_eq!(r.stats(), FragStats::default());
}

#[test]
fn duplicate_v4_is_dropped_without_reason() {
    let pkt = v4_udp(9, 2000);
    let frags = v4_split(&pkt, 1000);
    let mut r = Reassembler::new(DEFAULT_LIMIT, DEFAULT_TIMEOUT_S);
    assert_eq!(push(&mut r, &frags[0], 0), Ok(FragResult::Held));
    assert_eq!(push(&mut r, &frags[0], 0), Ok(FragResult::Duplicate));
    assert_eq!(r.stats().fragments, 1);
    assert_eq!(r.stats().dropped_overlap, 1);
    let c = complete(push(&mut r, &frags[2], 0).and_then(|_| push(&mut r, &frags[1], 0)));
    assert_eq!(c.packet, pkt);
}

#[test]
fn overlapping_v4_new_head_is_trimmed() {
    // Held: 0..16 (MF). New: 8..40 (last). The held bytes win where they
    // overlap: pf cuts the new fragment's head.
    let pkt = v4_udp(11, 32);
    let mut fake = pkt.clone();
    // The new fragment carries different bytes in the overlap, so the
    // test sees whose bytes are kept.
    for b in &mut fake[20 + 8..20 + 16] {
        *b ^= 0xff;
    }
    let mut r = Reassembler::new(DEFAULT_LIMIT, DEFAULT_TIMEOUT_S);
    assert_eq!(
        push(&mut r, &v4_frag(&pkt, 0, 16, true), 0),
        Ok(FragResult::Held)
    );
    let c = complete(push(&mut r, &v4_frag(&fake, 8, 32, false), 0));
    assert_eq!(c.packet, pkt);
    assert_eq!(c.max_frag_len, 32);
}

#[test]
fn overlapping_v4_old_head_is_trimmed() {
    // Held: 8..40 (last). New: 0..16 (MF). The new fragment's tail
    // overlaps the held one's head, and pf cuts the *held* one: here
    // the new bytes win.
    let pkt = v4_udp(12, 32);
    let mut old = pkt.clone();
    for b in &mut old[20 + 8..20 + 16] {
        *b ^= 0xff;
    }
    let mut r = Reassembler::new(DEFAULT_LIMIT, DEFAULT_TIMEOUT_S);
    assert_eq!(
        push(&mut r, &v4_frag(&old, 8, 32, false), 0),
        Ok(FragResult::Held)
    );
    let c = complete(push(&mut r, &v4_frag(&pkt, 0, 16, true), 0));
    assert_eq!(c.packet, pkt);
}

#[test]
fn overlapping_v4_covered_fragments_are_lost() {
    // Held: 8..16 and 16..24; new 0..32 covers both: they are freed.
    let pkt = v4_udp(13, 32);
    let mut r = Reassembler::new(DEFAULT_LIMIT, DEFAULT_TIMEOUT_S);
    assert_eq!(
        push(&mut r, &v4_frag(&pkt, 8, 8, true), 0),
        Ok(FragResult::Held)
    );
    assert_eq!(
        push(&mut r, &v4_frag(&pkt, 16, 8, true), 0),
        Ok(FragResult::Held)
    );
    assert_eq!(
        push(&mut r, &v4_frag(&pkt, 0, 32, true), 0),
        Ok(FragResult::Held)
    );
    assert_eq!(r.stats().fragments, 1);
    let c = complete(push(&mut r, &v4_frag(&pkt, 32, 8, false), 0));
    assert_eq!(c.packet, pkt);
}

#[test]
fn bad_fragments() {
    let pkt = v4_udp(20, 64);
    let mut r = Reassembler::new(DEFAULT_LIMIT, DEFAULT_TIMEOUT_S);
    // Not a multiple of 8 with MF set.
    assert_eq!(
        push(&mut r, &v4_frag(&pkt, 0, 12, true), 0),
        Err(Reason::Fragment)
    );
    // Empty.
    assert_eq!(
        push(&mut r, &v4_frag(&pkt, 8, 0, true), 0),
        Err(Reason::Fragment)
    );
    // DF on a fragment, unless no-df.
    let mut df = v4_frag(&pkt, 0, 16, true);
    df[ETH + 6] |= 0x40;
    assert_eq!(push(&mut r, &df, 0), Err(Reason::Fragment));
    assert_eq!(r.stats().fragments, 0);
    assert_eq!(r.stats().dropped_bad, 2);
    r.set_no_df(true);
    assert_eq!(push(&mut r, &df, 0), Ok(FragResult::Held));
    let c = complete(push(&mut r, &v4_frag(&pkt, 16, 56, false), 0));
    assert_eq!(c.packet, pkt, "DF cleared, checksum recomputed");
    assert_v4_checksums(&c.packet);
}

#[test]
fn inconsistent_end_v4_drops_only_the_fragment() {
    let pkt = v4_udp(21, 64);
    let mut r = Reassembler::new(DEFAULT_LIMIT, DEFAULT_TIMEOUT_S);
    assert_eq!(
        push(&mut r, &v4_frag(&pkt, 40, 32, false), 0),
        Ok(FragResult::Held)
    );
    // Claims data past the known end.
    let mut big = v4_udp(21, 96);
    big[20 + 72..].fill(0);
    assert_eq!(
        push(&mut r, &v4_frag(&big, 72, 16, true), 0),
        Err(Reason::Fragment)
    );
    // Claims to be last but ends before the known end.
    assert_eq!(
        push(&mut r, &v4_frag(&pkt, 8, 16, false), 0),
        Err(Reason::Fragment)
    );
    assert_eq!(r.stats().packets, 1);
    assert_eq!(
        push(&mut r, &v4_frag(&pkt, 0, 40, true), 0).map(|_| ()),
        Ok(())
    );
}

#[test]
fn too_large() {
    let mut r = Reassembler::new(DEFAULT_LIMIT, DEFAULT_TIMEOUT_S);
    // A fragment past 65535 is refused outright.
    let pkt = v4_udp(30, 65_400);
    let mut f = v4_frag(&pkt, 65_400, 8, false);
    // Offset 65528 + 16 bytes > 65535.
    f[ETH + 6..ETH + 8].copy_from_slice(&(65_528u16 / 8).to_be_bytes());
    let data_len: u16 = 20 + 16;
    f[ETH + 2..ETH + 4].copy_from_slice(&data_len.to_be_bytes());
    f.extend_from_slice(&[0; 8]);
    assert_eq!(push(&mut r, &f, 0), Err(Reason::Fragment));

    // Every fragment fits, but header plus data does not: pf drops the
    // reassembled packet as short.
    let mut pkt = vec![0u8; 20 + 65_528];
    pkt[..20].copy_from_slice(&v4_udp(31, 0)[..20]);
    let frags = v4_split(&pkt, 1480);
    let mut res = Ok(FragResult::Held);
    for f in &frags {
        res = push(&mut r, f, 0);
    }
    assert_eq!(res, Err(Reason::Short));
    assert_eq!(r.stats().too_big, 1);
    assert_eq!(r.stats().fragments, 0);
}

#[test]
fn timeout_expiry() {
    let pkt = v4_udp(40, 2000);
    let frags = v4_split(&pkt, 1000);
    let mut r = Reassembler::new(DEFAULT_LIMIT, 60);
    assert_eq!(push(&mut r, &frags[0], 5 * SEC), Ok(FragResult::Held));
    assert_eq!(r.next_deadline(), Some(65 * SEC));
    // Later fragments do not extend the deadline (pf keeps the creation
    // time).
    assert_eq!(push(&mut r, &frags[1], 30 * SEC), Ok(FragResult::Held));
    r.purge(65 * SEC - 1);
    assert_eq!(r.stats().packets, 1);
    r.purge(65 * SEC);
    let s = r.stats();
    assert_eq!((s.packets, s.fragments, s.timed_out), (0, 0, 1));
    assert_eq!(r.next_deadline(), None);
    // The last fragment alone starts over.
    assert_eq!(push(&mut r, &frags[2], 66 * SEC), Ok(FragResult::Held));
}

#[test]
fn limit_reached_flushes_least_recently_used() {
    let pkts: Vec<Vec<u8>> = (0..6).map(|i| v4_udp(100 + i, 100)).collect();
    let head = |i: usize| v4_frag(&pkts[i], 0, 64, true);
    let tail = |i: usize| v4_frag(&pkts[i], 64, 44, false);
    let mut r = Reassembler::new(5, 60);
    for i in 0..4 {
        assert_eq!(push(&mut r, &head(i), 0), Ok(FragResult::Held));
    }
    // Touch packet 0 so that packet 1 is the least recently used.
    assert_eq!(push(&mut r, &head(0), 0), Ok(FragResult::Duplicate));
    assert_eq!(push(&mut r, &head(4), 0), Ok(FragResult::Held));
    assert_eq!(r.stats().fragments, 5);
    // The next fragment finds the limit reached: 5 * 9 / 10 = 4, so one
    // packet, the least recently used, is flushed first.
    assert_eq!(push(&mut r, &head(5), 0), Ok(FragResult::Held));
    let s = r.stats();
    assert_eq!((s.fragments, s.packets, s.flushed_limit), (5, 5, 1));
    // The flush happens before the fragment is even looked at, so a
    // fragment of a held packet can flush others too: here packet 1's
    // tail flushes packet 2 and then starts over itself.
    assert_eq!(push(&mut r, &tail(1), 0), Ok(FragResult::Held));
    assert_eq!(r.stats().flushed_limit, 2);
    assert!(matches!(
        push(&mut r, &tail(0), 0),
        Ok(FragResult::Complete(_))
    ));
    assert_eq!(push(&mut r, &tail(2), 0), Ok(FragResult::Held));

    // Only a limit of 0 refuses outright.
    let mut r = Reassembler::new(0, 60);
    assert_eq!(
        push(&mut r, &v4_frag(&pkts[0], 0, 64, true), 0),
        Err(Reason::Memory)
    );
    assert_eq!(r.stats().dropped_memory, 1);
}

#[test]
fn per_region_entry_limit() {
    // 65 fragments of 8 bytes in the first 4 KiB: the 65th is one too
    // many and the whole packet goes.
    let pkt = v4_udp(50, 2000);
    let mut r = Reassembler::new(DEFAULT_LIMIT, 60);
    for i in 0..64 {
        assert_eq!(
            push(&mut r, &v4_frag(&pkt, i * 16, 8, true), 0),
            Ok(FragResult::Held)
        );
    }
    assert_eq!(
        push(&mut r, &v4_frag(&pkt, 64 * 16, 8, true), 0),
        Err(Reason::Fragment)
    );
    assert_eq!(r.stats().packets, 0);
    assert_eq!(r.stats().fragments, 0);
}

#[test]
fn direction_and_protocol_separate_reassemblies() {
    let pkt = v4_udp(60, 200);
    let frags = v4_split(&pkt, 104);
    let mut r = Reassembler::new(DEFAULT_LIMIT, 60);
    assert_eq!(r.push(&frags[0], ETH, Dir::In, 0), Ok(FragResult::Held));
    assert_eq!(r.push(&frags[1], ETH, Dir::Out, 0), Ok(FragResult::Held));
    assert_eq!(r.stats().packets, 2);
    assert!(matches!(
        r.push(&frags[1], ETH, Dir::In, 0),
        Ok(FragResult::Complete(_))
    ));
}

#[test]
fn stale_packets_are_dropped_after_200_generations_per_second() {
    let mut r = Reassembler::new(DEFAULT_LIMIT, 1);
    let first = v4_udp(0, 100);
    assert_eq!(
        push(&mut r, &v4_frag(&first, 0, 64, true), 0),
        Ok(FragResult::Held)
    );
    for id in 1..200u16 {
        let p = v4_udp(id, 100);
        assert_eq!(
            push(&mut r, &v4_frag(&p, 0, 64, true), 0),
            Ok(FragResult::Held)
        );
    }
    // 200 newer packets of the same source, destination and protocol:
    // the first is stale, its tail starts over.
    assert_eq!(
        push(&mut r, &v4_frag(&first, 64, 44, false), 0),
        Ok(FragResult::Held)
    );
    assert_eq!(r.stats().stale, 1);
}

// ---- IPv6 ----

pub(super) const HOPOPTS: u8 = 0;
pub(super) const DSTOPTS: u8 = 60;
pub(super) const FRAGMENT: u8 = 44;
pub(super) const UDP: u8 = 17;

/// An IPv6 packet: header, then a hop-by-hop and a destination options
/// header (8 bytes each), then UDP with `n` payload bytes.
pub(super) fn v6_udp(n: usize) -> Vec<u8> {
    let src: [u8; 16] = "2001:db8::1"
        .parse::<std::net::Ipv6Addr>()
        .unwrap()
        .octets();
    let dst: [u8; 16] = "2001:db8::2"
        .parse::<std::net::Ipv6Addr>()
        .unwrap()
        .octets();
    let ulen = 8 + n;
    let plen = 16 + ulen;
    let mut p = vec![0x60, 0, 0, 0, (plen >> 8) as u8, plen as u8, HOPOPTS, 64];
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    // Hop-by-hop: next = dstopts, len 0, PadN of 4.
    p.extend_from_slice(&[DSTOPTS, 0, 1, 4, 0, 0, 0, 0]);
    // Destination options: next = UDP.
    p.extend_from_slice(&[UDP, 0, 1, 4, 0, 0, 0, 0]);
    let mut u = vec![0x30, 0x39, 0x00, 0x35, (ulen >> 8) as u8, ulen as u8, 0, 0];
    u.extend((0..n).map(|i| (i * 5 + 1) as u8));
    let c = checksum::finish(checksum::combine(&[
        checksum::pseudo_v6(src, dst, UDP, ulen as u32),
        checksum::sum(&u),
    ]));
    u[6..8].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(&u);
    p
}

/// The fragment of `pkt` (from [`v6_udp`]) carrying bytes `off..off+len`
/// of the fragmentable part (destination options onwards), with the
/// fragment header after the hop-by-hop header.
pub(super) fn v6_frag(pkt: &[u8], id: u32, off: usize, len: usize, mf: bool) -> Vec<u8> {
    let unfrag = 48;
    let data = &pkt[unfrag + off..unfrag + off + len];
    let mut h = pkt[..unfrag].to_vec();
    let plen = 8 + 8 + len;
    h[4..6].copy_from_slice(&(plen as u16).to_be_bytes());
    // Hop-by-hop's next header becomes the fragment header.
    h[40] = FRAGMENT;
    h.push(DSTOPTS);
    h.push(0);
    h.extend_from_slice(&((off as u16) | u16::from(mf)).to_be_bytes());
    h.extend_from_slice(&id.to_be_bytes());
    let mut f = vec![0u8; ETH];
    f[12..14].copy_from_slice(&[0x86, 0xdd]);
    f.extend_from_slice(&h);
    f.extend_from_slice(data);
    f
}

pub(super) fn assert_v6_udp_checksum(p: &[u8]) {
    let src: [u8; 16] = p[8..24].try_into().unwrap();
    let dst: [u8; 16] = p[24..40].try_into().unwrap();
    let l4 = &p[56..];
    let s = checksum::combine(&[
        checksum::pseudo_v6(src, dst, UDP, l4.len() as u32),
        checksum::sum(l4),
    ]);
    assert_eq!(s, 0xffff);
}

#[test]
fn ipv6_with_extension_headers_before_the_fragment_header() {
    let pkt = v6_udp(3000);
    let n = pkt.len() - 48;
    let mut r = Reassembler::new(DEFAULT_LIMIT, 60);
    assert_eq!(
        push(&mut r, &v6_frag(&pkt, 0xdead_beef, 1232, 1232, true), 0),
        Ok(FragResult::Held)
    );
    assert_eq!(
        push(&mut r, &v6_frag(&pkt, 0xdead_beef, 0, 1232, true), 0),
        Ok(FragResult::Held)
    );
    let c = complete(push(
        &mut r,
        &v6_frag(&pkt, 0xdead_beef, 2464, n - 2464, false),
        0,
    ));
    assert_eq!(c.packet, pkt);
    assert_eq!(c.hdr_len, 48);
    assert_eq!(c.ext_off, Some(40));
    assert_eq!(c.max_frag_len, 1232);
    assert_v6_udp_checksum(&c.packet);
}

#[test]
fn ipv6_fragment_header_first() {
    // No extension header before the fragment header: the protocol goes
    // back into the IPv6 header.
    let pkt = v6_udp(100);
    let n = pkt.len() - 48;
    let strip = |f: Vec<u8>| {
        // Remove the hop-by-hop header from a v6_frag frame.
        let mut g = f[..ETH + 40].to_vec();
        g[ETH + 6] = FRAGMENT;
        let plen = u16::from_be_bytes([g[ETH + 4], g[ETH + 5]]) - 8;
        g[ETH + 4..ETH + 6].copy_from_slice(&plen.to_be_bytes());
        g.extend_from_slice(&f[ETH + 48..]);
        g
    };
    let mut want = pkt[..40].to_vec();
    want.extend_from_slice(&pkt[48..]);
    want[6] = DSTOPTS;
    let plen = (want.len() - 40) as u16;
    want[4..6].copy_from_slice(&plen.to_be_bytes());
    let mut r = Reassembler::new(DEFAULT_LIMIT, 60);
    assert_eq!(
        push(&mut r, &strip(v6_frag(&pkt, 1, 0, 64, true)), 0),
        Ok(FragResult::Held)
    );
    let c = complete(push(&mut r, &strip(v6_frag(&pkt, 1, 64, n - 64, false)), 0));
    assert_eq!(c.packet, want);
    assert_eq!((c.hdr_len, c.ext_off), (40, None));
}

#[test]
fn ipv6_overlap_discards_the_datagram() {
    let pkt = v6_udp(200);
    let n = pkt.len() - 48;
    let mut r = Reassembler::new(DEFAULT_LIMIT, 60);
    assert_eq!(
        push(&mut r, &v6_frag(&pkt, 5, 0, 64, true), 0),
        Ok(FragResult::Held)
    );
    assert_eq!(
        push(&mut r, &v6_frag(&pkt, 5, 128, n - 128, false), 0),
        Ok(FragResult::Held)
    );
    // 56..120 overlaps the first fragment by 8 bytes.
    assert_eq!(
        push(&mut r, &v6_frag(&pkt, 5, 56, 64, true), 0),
        Err(Reason::Fragment)
    );
    let s = r.stats();
    assert_eq!((s.packets, s.fragments, s.dropped_overlap), (0, 0, 1));
    // Even an exact duplicate discards it.
    assert_eq!(
        push(&mut r, &v6_frag(&pkt, 6, 0, 64, true), 0),
        Ok(FragResult::Held)
    );
    assert_eq!(
        push(&mut r, &v6_frag(&pkt, 6, 0, 64, true), 0),
        Err(Reason::Fragment)
    );
    assert_eq!(r.stats().packets, 0);
}

#[test]
fn ipv6_atomic_fragment_is_not_reassembled() {
    let pkt = v6_udp(40);
    let n = pkt.len() - 48;
    let f = v6_frag(&pkt, 9, 0, n, false);
    let mut r = Reassembler::new(DEFAULT_LIMIT, 60);
    assert_eq!(push(&mut r, &f, 0), Ok(FragResult::NotFragment));
}

#[test]
fn ipv6_inconsistent_end_discards_the_datagram() {
    let pkt = v6_udp(200);
    let mut r = Reassembler::new(DEFAULT_LIMIT, 60);
    assert_eq!(
        push(&mut r, &v6_frag(&pkt, 7, 64, 64, false), 0),
        Ok(FragResult::Held)
    );
    assert_eq!(
        push(&mut r, &v6_frag(&pkt, 7, 128, 64, true), 0),
        Err(Reason::Fragment)
    );
    assert_eq!(r.stats().packets, 0);
}

#[test]
fn truncated_headers_are_short() {
    let pkt = v4_udp(70, 64);
    let f = v4_frag(&pkt, 0, 32, true);
    let mut r = Reassembler::new(DEFAULT_LIMIT, 60);
    for cut in ETH..f.len() {
        assert_eq!(push(&mut r, &f[..cut], 0), Err(Reason::Short), "cut {cut}");
    }
    assert_eq!(r.push(&f, f.len() + 1, Dir::In, 0), Err(Reason::Short));
    let g = v6_frag(&v6_udp(64), 1, 0, 32, true);
    for cut in ETH..g.len() {
        assert_eq!(push(&mut r, &g[..cut], 0), Err(Reason::Short), "cut {cut}");
    }
    assert_eq!(r.stats().fragments, 0);
}

proptest! {
    /// Any 8-aligned cut of a packet, sent in any order with repeats,
    /// reassembles to the packet itself.
    #[test]
    fn any_order_reassembles(
        n in 1usize..3000,
        cuts in proptest::collection::vec(1usize..64, 1..40),
        order in proptest::collection::vec(any::<proptest::sample::Index>(), 1..80),
        v6 in any::<bool>(),
    ) {
        let (pkt, hdr) = if v6 { (v6_udp(n), 48) } else { (v4_udp(77, n), 20) };
        let len = pkt.len() - hdr;
        let mut bounds = vec![0usize];
        for c in cuts {
            let next = bounds.last().unwrap() + c * 8;
            if next >= len { break; }
            bounds.push(next);
        }
        bounds.push(len);
        let frags: Vec<Vec<u8>> = bounds.windows(2).map(|w| {
            let mf = w[1] < len;
            if v6 { v6_frag(&pkt, 3, w[0], w[1] - w[0], mf) } else { v4_frag(&pkt, w[0], w[1] - w[0], mf) }
        }).collect();
        if frags.len() == 1 {
            // A single unfragmented piece is not a fragment at all.
            let mut r = Reassembler::new(DEFAULT_LIMIT, 60);
            prop_assert_eq!(push(&mut r, &frags[0], 0), Ok(FragResult::NotFragment));
            return Ok(());
        }
        // Send in the given order (IPv6 without repeats: a repeat is an
        // overlap there), then whatever is still missing.
        let mut seq: Vec<usize> = order.iter().map(|i| i.index(frags.len())).collect();
        if v6 {
            let mut seen = std::collections::HashSet::new();
            seq.retain(|i| seen.insert(*i));
        }
        seq.extend(0..frags.len());
        let mut r = Reassembler::new(DEFAULT_LIMIT, 60);
        let mut sent = std::collections::HashSet::new();
        let mut done = None;
        for i in seq {
            if v6 && !sent.insert(i) { continue; }
            match push(&mut r, &frags[i], 0) {
                Ok(FragResult::Complete(c)) => { done = Some(c); break; }
                Ok(FragResult::Held) | Ok(FragResult::Duplicate) => {}
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
        let c = done.expect("all fragments sent");
        r.check_invariants();
        prop_assert_eq!(c.packet, pkt);
        prop_assert_eq!(r.stats().fragments, 0);
    }

    /// Arbitrary, overlapping, contradicting fragments of a few packets
    /// in both families and directions: nothing panics, and the counts
    /// and queues stay consistent.
    #[test]
    fn fragment_soup_keeps_books(
        ops in proptest::collection::vec(
            (0u8..3, 0usize..40, 0usize..24, any::<bool>(), any::<bool>(), any::<bool>(), 0u64..100),
            1..300,
        ),
        limit in 0u32..40,
    ) {
        let v4 = v4_udp(1, 400);
        let v6 = v6_udp(400);
        let mut r = Reassembler::new(limit, 10);
        for (id, off8, len8, mf, six, out, t) in ops {
            let off = off8 * 8;
            let len = (len8 * 8).min(400 - off).max(1);
            let mut f = if six {
                v6_frag(&v6, u32::from(id), off, len, mf)
            } else {
                v4_frag(&v4, off, len, mf)
            };
            if !six {
                f[ETH + 5] = id;
            }
            let dir = if out { Dir::Out } else { Dir::In };
            let _ = r.push(&f, ETH, dir, t * SEC);
            r.check_invariants();
            if t % 7 == 0 {
                r.purge(t * SEC);
                r.check_invariants();
            }
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), off in 0usize..20) {
        let mut r = Reassembler::new(16, 60);
        let mut b = bytes.clone();
        if let Some(x) = b.get_mut(off) { *x = (*x & 0x0f) | 0x40; }
        let _ = r.push(&b, off, Dir::In, 0);
        if let Some(x) = b.get_mut(off) { *x = (*x & 0x0f) | 0x60; }
        let _ = r.push(&b, off, Dir::Out, 0);
        r.purge(u64::MAX);
        prop_assert_eq!(r.stats().fragments, 0);
    }
}

#[test]
fn ipv6_header_walk_errors() {
    let base = |nxt: u8, rest: &[u8]| {
        let mut f = vec![0u8; ETH];
        let mut h = vec![0x60, 0, 0, 0, 0, rest.len() as u8, nxt, 64];
        h.extend_from_slice(&[0x20; 32]);
        f.extend_from_slice(&h);
        f.extend_from_slice(rest);
        f
    };
    let mut r = Reassembler::default();
    // A first fragment followed by a second fragment header.
    let two = base(
        FRAGMENT,
        &[
            FRAGMENT, 0, 0, 1, 0, 0, 0, 9, // off 0, M
            UDP, 0, 0, 0, 0, 0, 0, 9, // the second one
            0, 0, 0, 0, 0, 0, 0, 0,
        ],
    );
    assert_eq!(push(&mut r, &two, 0), Err(Reason::Fragment));
    // An atomic fragment followed by another fragment header.
    let atomic_then = base(
        FRAGMENT,
        &[
            FRAGMENT, 0, 0, 0, 0, 0, 0, 9, // off 0, no M: atomic
            UDP, 0, 0, 9, 0, 0, 0, 9, // a real fragment after it
            0, 0, 0, 0, 0, 0, 0, 0,
        ],
    );
    assert_eq!(push(&mut r, &atomic_then, 0), Err(Reason::Fragment));
    // More than 20 extension headers: pf's nested header limit.
    let mut chain = Vec::new();
    for _ in 0..21 {
        chain.extend_from_slice(&[DSTOPTS, 0, 1, 4, 0, 0, 0, 0]);
    }
    assert_eq!(
        push(&mut r, &base(DSTOPTS, &chain), 0),
        Err(Reason::IpOption)
    );
    // Not IP.
    assert_eq!(push(&mut r, &[0u8; ETH + 40], 0), Err(Reason::Normalize));
    assert_eq!(r.stats().fragments, 0);
}
