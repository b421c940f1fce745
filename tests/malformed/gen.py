#!/usr/bin/python3
"""Generate pfd's malformed-traffic corpus (issue 8).

Run with Debian's python3 (scapy 2.5):  /usr/bin/python3 tests/malformed/gen.py

Writes, beside this file, one pcap per case group (classic pcap,
Ethernet, microsecond timestamps) and cases.json: for every packet the
verdict and drop reason pf gives it under the corpus ruleset (RULES), and
why. mgmt/tests/malformed_replay.rs replays each pcap through `pfd replay`
and holds every verdict line and the final drop-reason counters to the
manifest; mgmt/tests/malformed_netns.rs injects the same frames into a
running pfd and holds `pfctl -si` to it.

Packet sides: "client" frames come from 192.0.2.20 / 2001:db8:1::20
towards the firewall's MAC (inbound on em0 in the replay, on veth0 in the
lab); "server" frames come from 198.51.100.20 / 2001:db8:2::20, the far
side (outbound on em0 in the replay, since the firewall sends them on to
the client; inbound on veth1 then outbound on veth0 in the lab). Neither
host exists in the lab, so no stack answers the corpus.

The output is deterministic: running this again rewrites the same bytes.
"""

import json
import os
import struct

from scapy.all import (
    ICMP, IP, IPOption, IPOption_RR, IPOption_Router_Alert, IPv6,
    IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting, ICMPv6DestUnreach, ICMPv6EchoRequest, TCP, UDP,
    Dot1Q, Ether, Raw, PadN, ICMPv6ND_NS, ICMPv6MLReport2, RouterAlert,
)
from scapy.layers.inet6 import IPv6ExtHdrSegmentRouting  # noqa: F401 (scapy registers layers)

HERE = os.path.dirname(os.path.abspath(__file__))

FW_MAC = "02:00:00:00:00:fe"
PEER_MAC = "02:00:00:00:00:01"
CL4, SV4 = "192.0.2.20", "198.51.100.20"
CL6, SV6 = "2001:db8:1::20", "2001:db8:2::20"

RULES = """\
# The malformed-traffic corpus's ruleset (tests/malformed/gen.py).
set limit frags 100
block all
pass out
pass in proto tcp to port 80
pass in proto udp to port 53
pass in inet proto icmp icmp-type echoreq
pass in inet6 proto icmp6 icmp6-type echoreq
"""

# datagrams in the fragment flood: more first halves than `set limit frags`
FLOOD = 120

# TCP flag bits
F, S, R, P, A, U = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20


class Group:
    def __init__(self, name, title, sport):
        self.name = name
        self.title = title
        self.sport = sport  # source ports of this group start here
        self.packets = []

    def add(self, frame, case, side, verdict, reason, why, live=True,
            live_note=None, pfd=None, state=None, not_ip=False):
        """One frame. `verdict`/`reason` are pf's; `pfd` is what pfd does
        instead, when it differs (a known difference, explained in
        `why`). `live=False` (with `live_note`) keeps a frame out of the
        namespace lab, where the kernel cannot carry it. `not_ip`: not IP
        at the link layer, so pf never sees it and counts it nowhere (the
        replay reports it passed untouched)."""
        if isinstance(frame, bytes):
            raw = frame
        else:
            raw = bytes(frame)
        assert verdict in ("pass", "block", "held"), verdict
        # pf blocks a few packets without setting a reason (a wholly
        # covered IPv4 fragment); every other block has one
        assert verdict == "block" or reason is None, (case, verdict, reason)
        p = {
            "index": len(self.packets) + 1,
            "case": case,
            "side": side,
            "verdict": verdict,
            "reason": reason,
            "why": why,
            "live": live,
        }
        if state is not None:
            p["state"] = state
        if not_ip:
            p["not_ip"] = True
        if live_note:
            p["live_note"] = live_note
        if pfd is not None:
            p["known_difference"] = pfd
        self.packets.append((raw, p))

    def pcap(self):
        out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, (raw, _) in enumerate(self.packets):
            # one millisecond apart, from t = 1000 s
            usec = 1_000_000_000 + i * 1000
            out += struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000,
                               len(raw), len(raw))
            out += raw
        return bytes(out)

    def counters(self):
        c = {"packets": 0, "pass": 0, "block": 0, "held": 0, "reasons": {}}
        for _, p in self.packets:
            v, r = p["verdict"], p["reason"]
            if "known_difference" in p:
                v = p["known_difference"]["verdict"]
                r = p["known_difference"]["reason"]
            c["packets"] += 1
            c[v] += 1
            if r is not None:
                c["reasons"][r] = c["reasons"].get(r, 0) + 1
        return c


def cl(ip):
    """A client-side frame: to the firewall's MAC."""
    return Ether(dst=FW_MAC, src=PEER_MAC) / ip


def sv(ip):
    """A server-side frame: from the firewall's MAC, on to the client."""
    return Ether(dst=PEER_MAC, src=FW_MAC) / ip


def eth_hdr(side, ethertype):
    d, s = (FW_MAC, PEER_MAC) if side == "client" else (PEER_MAC, FW_MAC)
    mac = lambda m: bytes(int(x, 16) for x in m.split(":"))
    return mac(d) + mac(s) + struct.pack("!H", ethertype)


def raw4(ip_bytes, side="client"):
    return eth_hdr(side, 0x0800) + ip_bytes


def raw6(ip_bytes, side="client"):
    return eth_hdr(side, 0x86DD) + ip_bytes


def fix_ip_cksum(b):
    """Recompute the IPv4 header checksum of bytes `b` (an IP packet)."""
    b = bytearray(b)
    hl = min((b[0] & 0x0F) * 4, len(b) & ~1)
    b[10:12] = b"\0\0"
    s = 0
    for i in range(0, hl, 2):
        s += (b[i] << 8) | b[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    b[10:12] = struct.pack("!H", ~s & 0xFFFF)
    return bytes(b)


def frags4(pkt, size, first_id):
    """IPv4 fragments of `pkt` (an IP layer), `size` payload bytes each."""
    whole = bytes(pkt)
    hl = (whole[0] & 0x0F) * 4
    payload = whole[hl:]
    out = []
    off = 0
    while off < len(payload):
        chunk = payload[off:off + size]
        mf = 0x2000 if off + size < len(payload) else 0
        h = bytearray(whole[:hl])
        h[2:4] = struct.pack("!H", hl + len(chunk))
        h[4:6] = struct.pack("!H", first_id)
        h[6:8] = struct.pack("!H", mf | (off // 8))
        out.append(fix_ip_cksum(bytes(h) + chunk))
        off += size
    return out


def frag4(src, dst, ident, off, mf, payload, proto=17, df=False):
    """One IPv4 fragment by hand: offset `off` in bytes."""
    flags = (0x2000 if mf else 0) | (0x4000 if df else 0)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                    flags | (off // 8), 64, proto, 0,
                    bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    return fix_ip_cksum(h + payload)


def ip4raw(src, dst, proto, payload, opts=b""):
    """An IPv4 packet by hand (options as given, however malformed)."""
    hl = 20 + len(opts)
    assert hl % 4 == 0
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, 0, hl + len(payload), 1, 0,
                    64, proto, 0, bytes(map(int, src.split("."))),
                    bytes(map(int, dst.split("."))))
    return fix_ip_cksum(h + opts + payload)


def ah(nh, payload, icv_len=12, plen=None):
    """An AH header (RFC 4302) with a zero ICV of `icv_len` bytes before
    `payload`; `plen` overrides its length field."""
    n = (12 + icv_len) // 4 - 2 if plen is None else plen
    return struct.pack("!BBHII", nh, n, 0, 0x1000, 1) + b"\0" * icv_len + payload


def udp_bytes(src, dst, sport, dport, data, v6=False):
    ipl = IPv6(src=src, dst=dst) if v6 else IP(src=src, dst=dst)
    whole = bytes(ipl / UDP(sport=sport, dport=dport) / Raw(data))
    return whole[40:] if v6 else whole[20:]


def tcp4(sport, dport, flags, seq=1000, ack=0, data=b"", src=CL4, dst=SV4, **kw):
    return IP(src=src, dst=dst, id=kw.pop("ipid", 1)) / TCP(
        sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=65535, **kw) / (
        Raw(data) if data else b"")


# ---------------------------------------------------------------- groups

def truncated():
    g = Group("truncated", "truncated headers at every layer", 41000)
    sp = g.sport
    g.add(eth_hdr("client", 0x0800)[:10], "eth-runt", "client", "block", "short",
          "10 bytes: not even an Ethernet header. OpenBSD's ether_input drops it "
          "before pf; pfd reads the link header itself and counts it as pf's short.",
          live=False, live_note="the kernel does not carry a frame shorter than "
          "an Ethernet header")
    good = bytes(IP(src=CL4, dst=SV4) / UDP(sport=sp, dport=53) / Raw(b"q" * 12))
    g.add(raw4(good[:12]), "ipv4-runt", "client", "block", "short",
          "12 bytes of IPv4: shorter than the 20-byte header (ip_input's "
          "ips_toosmall before pf; pf_setup_pdesc's PFRES_SHORT)")
    b = bytearray(good)
    b[0] = 0x44
    g.add(raw4(fix_ip_cksum(bytes(b))), "ipv4-ihl-4", "client", "block", "short",
          "header length 16 < 20 (ip_input's ips_badhlen; pf_walk_header: "
          "hlen < sizeof(struct ip) is PFRES_SHORT)")
    b = bytearray(good)
    b[2:4] = struct.pack("!H", len(good) + 40)
    g.add(raw4(fix_ip_cksum(bytes(b))), "ipv4-len-past-frame", "client", "block",
          "short", "ip_len says 40 bytes more than the frame holds (ip_input's "
          "ips_tooshort; pf's PFRES_SHORT)")
    b = bytearray(bytes(IP(src=CL4, dst=SV4, options=[IPOption(b"\x01" * 40)]) /
                        UDP(sport=sp + 1, dport=53)))
    b[2:4] = struct.pack("!H", 40)
    g.add(raw4(fix_ip_cksum(bytes(b[:40]))), "ipv4-ihl-past-len", "client", "block",
          "short", "header length 60 > ip_len 40 (pf_walk_header: hlen > "
          "ip_len is PFRES_SHORT)")
    t = bytes(tcp4(sp + 2, 80, S))
    b = bytearray(t[:30])
    b[2:4] = struct.pack("!H", 30)
    g.add(raw4(fix_ip_cksum(bytes(b))), "tcp-header-cut", "client", "block", "short",
          "10 of the 20 bytes of a TCP header (pf_pull_hdr: PFRES_SHORT)")
    b = bytearray(t)
    b[32] = 0x40
    g.add(raw4(bytes(b)), "tcp-doff-4", "client", "block", "short",
          "TCP data offset 16 bytes < 20 (pf_setup_pdesc: PFRES_SHORT)")
    b = bytearray(t)
    b[32] = 0xF0
    g.add(raw4(bytes(b)), "tcp-doff-past-end", "client", "block", "short",
          "TCP data offset 60 bytes, packet has 20 (pf_setup_pdesc: PFRES_SHORT)")
    g.add(cl(tcp4(sp + 3, 0, S)), "tcp-dport-0", "client", "block", "short",
          "TCP to port 0 (pf_setup_pdesc treats th_dport == 0 as PFRES_SHORT)")
    u = bytes(IP(src=CL4, dst=SV4) / UDP(sport=sp + 4, dport=53) / Raw(b"q" * 8))
    b = bytearray(u[:24])
    b[2:4] = struct.pack("!H", 24)
    g.add(raw4(fix_ip_cksum(bytes(b))), "udp-header-cut", "client", "block", "short",
          "4 of the 8 bytes of a UDP header (pf_pull_hdr: PFRES_SHORT)")
    b = bytearray(u)
    b[24:26] = struct.pack("!H", 200)
    g.add(raw4(bytes(b)), "udp-len-past-ip", "client", "block", "short",
          "UDP length 200 in a 36-byte packet (pf_setup_pdesc: PFRES_SHORT)")
    b = bytearray(u)
    b[24:26] = struct.pack("!H", 4)
    g.add(raw4(bytes(b)), "udp-len-4", "client", "block", "short",
          "UDP length 4 < 8 (pf_setup_pdesc: PFRES_SHORT)")
    g.add(cl(IP(src=CL4, dst=SV4) / UDP(sport=sp + 5, dport=0)), "udp-dport-0",
          "client", "block", "short",
          "UDP to port 0 (pf_setup_pdesc: PFRES_SHORT)")
    i = bytes(IP(src=CL4, dst=SV4) / ICMP(type=8, id=sp, seq=1))
    b = bytearray(i[:24])
    b[2:4] = struct.pack("!H", 24)
    g.add(raw4(fix_ip_cksum(bytes(b))), "icmp-header-cut", "client", "block", "short",
          "4 bytes of ICMP, ICMP_MINLEN is 8 (pf_pull_hdr: PFRES_SHORT)")
    six = bytes(IPv6(src=CL6, dst=SV6) / UDP(sport=sp + 6, dport=53) / Raw(b"q" * 8))
    g.add(raw6(six[:30]), "ipv6-runt", "client", "block", "short",
          "30 bytes of a 40-byte IPv6 header (PFRES_SHORT)")
    b = bytearray(six)
    b[4:6] = struct.pack("!H", 100)
    g.add(raw6(bytes(b)), "ipv6-plen-past-frame", "client", "block", "short",
          "payload length 100, 16 bytes present (ip6_input's ip6s_tooshort; "
          "PFRES_SHORT)")
    t6 = bytes(IPv6(src=CL6, dst=SV6) / TCP(sport=sp + 7, dport=80, flags="S"))
    b = bytearray(t6[:52])
    b[4:6] = struct.pack("!H", 12)
    g.add(raw6(bytes(b)), "ipv6-tcp-cut", "client", "block", "short",
          "IPv6 with 12 of a TCP header's 20 bytes (pf_pull_hdr: PFRES_SHORT)")
    i6 = bytes(IPv6(src=CL6, dst=SV6) / ICMPv6EchoRequest(id=sp, seq=1))
    b = bytearray(i6[:42])
    b[4:6] = struct.pack("!H", 2)
    g.add(raw6(bytes(b)), "icmp6-header-cut", "client", "block", "short",
          "2 bytes of ICMPv6, the header is 4 (pf_pull_hdr: PFRES_SHORT)")
    b = bytearray(good)
    b[0] = 0x55
    g.add(raw4(fix_ip_cksum(bytes(b))), "ipv4-version-5", "client", "block",
          "normalize", "EtherType IPv4 but version 5 (ip_input's ips_badvers "
          "before pf; pfd counts it as pf's normalize)")
    # positive control: link padding after ip_len is ignored
    small = bytes(IP(src=CL4, dst=SV4) / UDP(sport=sp + 8, dport=53) / Raw(b"ok"))
    g.add(raw4(small + b"\xee" * 30), "ipv4-link-padding", "client", "pass", None,
          "30 bytes of padding after ip_len: pf bounds the packet by ip_len and "
          "the rule passes UDP to port 53", state="new")
    return g


def checksum():
    g = Group("checksum", "bad checksums", 42000)
    sp = g.sport
    b = bytearray(bytes(tcp4(sp, 80, S)))
    b[10] ^= 0x55
    g.add(raw4(bytes(b)), "ipv4-header-cksum", "client", "block", "proto-cksum",
          "bad IPv4 header checksum: OpenBSD's ip_input drops it (ips_badsum) "
          "before pf; pfd checks it in pf's place and counts it as proto-cksum")
    g.add(cl(tcp4(sp + 1, 80, S, chksum=0x1234)), "tcp-cksum", "client", "pass", None,
          "bad TCP checksum on a forwarded SYN: pf_normalize_tcp only records the "
          "checksum status (used for return-rst and synproxy); the end host "
          "drops it. The rule passes it and creates a state", state="new")
    g.add(cl(IP(src=CL4, dst=SV4) / UDP(sport=sp + 2, dport=53, chksum=0x1234) /
             Raw(b"query")), "udp-cksum", "client", "pass", None,
          "bad UDP checksum: pf does not check transport checksums of passing "
          "packets", state="new")
    g.add(cl(IP(src=CL4, dst=SV4) / UDP(sport=sp + 3, dport=53, chksum=0) /
             Raw(b"query")), "udp-cksum-zero", "client", "pass", None,
          "IPv4 UDP checksum 0 means none computed", state="new")
    g.add(cl(IP(src=CL4, dst=SV4) / ICMP(type=8, id=sp + 4, seq=1, chksum=0x4321) /
             Raw(b"ping")), "icmp-cksum", "client", "pass", None,
          "bad ICMP checksum on an echo request: not pf's to check", state="new")
    g.add(cl(IPv6(src=CL6, dst=SV6) / UDP(sport=sp + 5, dport=53, chksum=0x1234) /
             Raw(b"query")), "udp6-cksum", "client", "pass", None,
          "bad UDP checksum over IPv6: not checked by pf either", state="new")
    return g


def ipopts():
    g = Group("ipopts", "IPv4 options", 43000)
    sp = g.sport
    g.add(cl(IP(src=CL4, dst=SV4, options=[IPOption_RR(routers=["0.0.0.0"] * 2)]) /
             TCP(sport=sp, dport=80, flags="S")), "ipv4-opt-rr", "client", "block",
          "ip-option", "record-route option on a SYN the rule passes: no "
          "allow-opts, so pf_test_rule drops it with PFRES_IPOPTIONS")
    g.add(cl(IP(src=CL4, dst=SV4, options=[IPOption_Router_Alert()]) /
             UDP(sport=sp + 1, dport=53)), "ipv4-opt-router-alert", "client", "block",
          "ip-option", "router alert on UDP (not IGMP): pf_walk_option flags "
          "it and the rule has no allow-opts")
    g.add(raw4(ip4raw(CL4, SV4, 17, udp_bytes(CL4, SV4, sp + 2, 53, b""),
                     b"\x01\x01\x01\x00")), "ipv4-opt-nop-only", "client", "block",
          "ip-option", "options made of padding alone: pf counts them as "
          "PF_OPT_OTHER (\"fishy\") and drops without allow-opts")
    g.add(raw4(ip4raw(CL4, SV4, 17, udp_bytes(CL4, SV4, sp + 3, 53, b""),
                     b"\x07\x00\x00\x00")), "ipv4-opt-len-0", "client", "block",
          "ip-option", "an option of length 0: pf_walk_option refuses it "
          "(PFRES_IPOPTIONS)")
    g.add(raw4(ip4raw(CL4, SV4, 17, udp_bytes(CL4, SV4, sp + 4, 53, b""),
                     b"\x07\x27\x04\x00")), "ipv4-opt-overrun", "client", "block",
          "ip-option", "an option of length 39 in a 4-byte option area: "
          "pf_walk_option refuses it (PFRES_IPOPTIONS)")
    g.add(raw4(ip4raw(CL4, SV4, 51, ah(17, udp_bytes(CL4, SV4, sp + 6, 53,
                                                     b"query")))),
          "ipv4-ah-udp", "client", "pass", None,
          "an AH header is no option: pf_walk_header steps over it to the UDP "
          "header, which the rule passes", state="new")
    g.add(raw4(ip4raw(CL4, SV4, 51, ah(17, udp_bytes(CL4, SV4, sp + 7, 53, b"q"),
                                       plen=40))),
          "ipv4-ah-past-end", "client", "block", "short",
          "an AH length of 168 bytes in a 45-byte payload: the transport "
          "header after it cannot be read (PFRES_SHORT)")
    g.add(cl(IP(src=CL4, dst=SV4, options=[IPOption_RR(routers=["0.0.0.0"])]) /
             TCP(sport=sp + 5, dport=22, flags="S")), "ipv4-opt-blocked-anyway",
          "client", "block", "match",
          "options on a packet the rules block anyway: the block rule decides "
          "(PFRES_MATCH)")
    return g


def frag():
    g = Group("frag", "fragments: zero-length, overlapping, tiny, floods", 44000)
    sp = g.sport
    whole = IP(src=CL4, dst=SV4, id=0x4401) / UDP(sport=sp, dport=53) / Raw(b"x" * 40)
    fs = frags4(whole, 16, 0x4401)
    g.add(raw4(fs[0]), "frag-ok-1", "client", "held", None,
          "first of three fragments: pf's reassembly queue keeps it")
    g.add(raw4(fs[1]), "frag-ok-2", "client", "held", None, "second fragment: held")
    g.add(raw4(fs[2]), "frag-ok-3", "client", "pass", None,
          "last fragment completes the datagram; the reassembled UDP is passed "
          "by the rule", state="new")
    data = udp_bytes(CL4, SV4, sp + 1, 53, b"y" * 24)
    g.add(raw4(frag4(CL4, SV4, 0x4402, 0, True, b"")), "frag-zero-length", "client",
          "block", "fragment", "a fragment with no payload (pf_fillup_fragment: "
          "\"bad fragment: len 0\", PFRES_FRAG)")
    g.add(raw4(frag4(CL4, SV4, 0x4403, 0, True, data[:12])), "frag-unaligned",
          "client", "block", "fragment",
          "more-fragments set and 12 bytes, not a multiple of 8 (PFRES_FRAG)")
    g.add(raw4(frag4(CL4, SV4, 0x4404, 65528, False, data[:16])), "frag-past-64k",
          "client", "block", "fragment",
          "offset 65528 + 16 bytes > IP_MAXPACKET (PFRES_FRAG)")
    g.add(raw4(frag4(CL4, SV4, 0x4405, 0, True, data[:16], df=True)), "frag-df",
          "client", "block", "fragment",
          "a fragment with DF set (pf_normalize_ip: \"bad fragment: IP_DF\", "
          "PFRES_FRAG; no `set reassemble yes no-df`)")
    # IPv4 overlap: pf trims the overlap (the data held wins)
    data = udp_bytes(CL4, SV4, sp + 2, 53, b"z" * 24)  # 32 bytes
    g.add(raw4(frag4(CL4, SV4, 0x4406, 0, True, data[:16])), "overlap4-1", "client",
          "held", None, "first 16 bytes: held")
    g.add(raw4(frag4(CL4, SV4, 0x4406, 8, True, b"\xaa" * 16)), "overlap4-2",
          "client", "held", None,
          "bytes 8..24, overlapping the first by 8: IPv4 overlaps are trimmed, "
          "the data held wins (pf_fillup_fragment's precut), so the rest is held")
    g.add(raw4(frag4(CL4, SV4, 0x4406, 0, True, data[:8])), "overlap4-dup",
          "client", "block", None,
          "bytes 0..8 again, wholly covered: pf_fillup_fragment drops it with no "
          "reason set (counted as blocked, no reason counter)",
          pfd={"verdict": "held", "reason": None,
               "note": "pfd holds a wholly covered IPv4 fragment back (counted "
                       "nowhere) instead of counting it as a blocked packet; no "
                       "reason counter either way"})
    g.add(raw4(frag4(CL4, SV4, 0x4406, 24, False, data[24:])), "overlap4-3",
          "client", "pass", None,
          "the last 8 bytes complete the datagram from the trimmed pieces; the "
          "rule passes it", state="new")
    # tiny fragments: 8 bytes each, the first splits the TCP header
    t = IP(src=CL4, dst=SV4, id=0x4407) / TCP(sport=sp + 3, dport=80, flags="S",
                                              seq=1, window=65535)
    tiny = frags4(t, 8, 0x4407)
    for n, f in enumerate(tiny):
        last = n == len(tiny) - 1
        g.add(raw4(f), "tiny-%d" % (n + 1), "client", "pass" if last else "held", None,
              "8-byte fragments splitting the TCP header: pf reassembles before it "
              "filters, so the rule sees the whole SYN" if last else
              "tiny fragment of a SYN: held", state="new" if last else None)
    # a packet in more pieces than pf's entry limit (64 per 4 KiB region)
    pay = udp_bytes(CL4, SV4, sp + 4, 53, b"f" * (70 * 8 - 8))
    for n in range(70):
        chunk = pay[n * 8:(n + 1) * 8]
        last = n == 69
        if n < 64:
            v, r, why = "held", None, "piece %d of 70: held" % (n + 1)
        elif n == 64:
            v, r, why = ("block", "fragment",
                         "the 65th piece in the first 4 KiB of offsets: over "
                         "PF_FRAG_ENTRY_LIMIT, the whole datagram is dropped "
                         "(PFRES_FRAG)")
        else:
            v, r, why = ("held", None, "a later piece starts a new queue, which "
                         "never completes: held")
        g.add(raw4(frag4(CL4, SV4, 0x4408, n * 8, not last, chunk)),
              "entry-flood-%d" % (n + 1), "client", v, r, why)
    # more fragments than `set limit frags 100`: the oldest queues go
    firsts = {}
    for n in range(FLOOD):
        ident = 0x4500 + n
        d = udp_bytes(CL4, SV4, sp + 10 + n, 53, b"L" * 16)
        firsts[n] = d
        g.add(raw4(frag4(CL4, SV4, ident, 0, True, d[:16])), "limit-flood-%d" % (n + 1),
              "client", "held", None,
              "first half of datagram %d of %d with `set limit frags 100`: held; "
              "at the limit pf_flush_fragments frees the least recently used "
              "down to 90%%" % (n + 1, FLOOD))
    g.add(raw4(frag4(CL4, SV4, 0x4500, 16, False, firsts[0][16:])), "limit-flood-old",
          "client", "held", None,
          "second half of datagram 1: its first half was flushed, so this starts "
          "a queue of its own and waits")
    g.add(raw4(frag4(CL4, SV4, 0x4500 + FLOOD - 1, 16, False, firsts[FLOOD - 1][16:])),
          "limit-flood-new", "client", "pass", None,
          "second half of the last datagram, kept through the flush: completes and "
          "passes", state="new")
    # IPv6
    u6 = IPv6(src=CL6, dst=SV6) / UDP(sport=sp + 5, dport=53) / Raw(b"v" * 40)
    for n, f in enumerate([IPv6(src=CL6, dst=SV6) / IPv6ExtHdrFragment(
            nh=17, offset=0, m=1, id=0x4409) / Raw(bytes(u6)[40:64]),
            IPv6(src=CL6, dst=SV6) / IPv6ExtHdrFragment(
            nh=17, offset=3, m=0, id=0x4409) / Raw(bytes(u6)[64:])]):
        g.add(cl(f), "frag6-ok-%d" % (n + 1), "client", "held" if n == 0 else "pass",
              None, "IPv6 fragment held" if n == 0 else
              "last IPv6 fragment completes the datagram; the rule passes it",
              state=None if n == 0 else "new")
    u6b = bytes(IPv6(src=CL6, dst=SV6) / UDP(sport=sp + 6, dport=53) / Raw(b"w" * 40))[40:]
    g.add(cl(IPv6(src=CL6, dst=SV6) / IPv6ExtHdrFragment(nh=17, offset=0, m=1,
             id=0x440A) / Raw(u6b[:24])), "overlap6-1", "client", "held", None,
          "first IPv6 fragment: held")
    g.add(cl(IPv6(src=CL6, dst=SV6) / IPv6ExtHdrFragment(nh=17, offset=2, m=1,
             id=0x440A) / Raw(u6b[16:32])), "overlap6-2", "client", "block", "fragment",
          "overlaps the first: RFC 5722, the whole datagram is discarded "
          "(pf_fillup_fragment's free_fragment, PFRES_FRAG)")
    g.add(cl(IPv6(src=CL6, dst=SV6) / IPv6ExtHdrFragment(nh=17, offset=4, m=0,
             id=0x440A) / Raw(u6b[32:])), "overlap6-3", "client", "held", None,
          "the rest arrives after the discard: a new queue, never complete")
    g.add(cl(IPv6(src=CL6, dst=SV6) / IPv6ExtHdrFragment(nh=17, offset=0, m=0,
             id=0x440B) / UDP(sport=sp + 7, dport=53) / Raw(b"atomic")),
          "frag6-atomic", "client", "pass", None,
          "an atomic fragment (offset 0, M clear): RFC 6946, a whole packet, "
          "filtered without reassembly", state="new")
    g.add(cl(IPv6(src=CL6, dst=SV6) / IPv6ExtHdrFragment(nh=17, offset=0, m=1,
             id=0x440C) / Raw(b"")), "frag6-zero-length", "client", "block",
          "fragment", "an IPv6 fragment with no payload (PFRES_FRAG)")
    return g


def tcpflags():
    g = Group("tcpflags", "TCP flag abuse", 45000)
    sp = g.sport
    norm = ("pf_test runs pf_normalize_tcp on every TCP packet before the state "
            "lookup; it drops ")
    g.add(cl(tcp4(sp, 80, 0)), "null", "client", "block", "normalize",
          norm + "a segment with neither SYN, ACK nor RST (null scan): PFRES_NORM")
    g.add(cl(tcp4(sp + 1, 80, F | P | U)), "xmas", "client", "block", "normalize",
          norm + "FIN|PSH|URG without ACK (xmas scan): PFRES_NORM")
    g.add(cl(tcp4(sp + 2, 80, S | R)), "syn-rst", "client", "block", "normalize",
          norm + "SYN with RST: PFRES_NORM")
    g.add(cl(tcp4(sp + 3, 80, F)), "fin-only", "client", "block", "normalize",
          norm + "FIN without ACK (FIN scan): PFRES_NORM")
    g.add(cl(tcp4(sp + 4, 80, U)), "urg-only", "client", "block", "normalize",
          norm + "URG without ACK: PFRES_NORM")
    g.add(cl(tcp4(sp + 5, 80, S | P)), "syn-psh", "client", "block", "normalize",
          norm + "PSH without ACK: PFRES_NORM")
    g.add(cl(tcp4(sp + 6, 80, S | F)), "syn-fin", "client", "pass", None,
          "SYN|FIN: pf_normalize_tcp clears FIN (\"why clear instead of drop?\") "
          "and the SYN passes the rule, creating a state", state="new")
    g.add(cl(tcp4(sp + 7, 80, S | F | P | U | A)), "syn-fin-ack-psh-urg",
          "client", "block", "match",
          "SYN|FIN|PSH|URG|ACK: FIN cleared, then SYN|ACK matches no state and "
          "fails the rule's flags S/SA: the block rule decides")
    g.add(cl(tcp4(sp + 8, 80, R)), "rst-no-state", "client", "block", "match",
          "a lone RST with no state: normal flags, no state, fails flags S/SA: "
          "the block rule decides")
    g.add(cl(tcp4(sp + 9, 80, F | P | U | A)), "fin-psh-urg-ack", "client", "block",
          "match", "FIN|PSH|URG|ACK is legal; no state and not a SYN: blocked by "
          "rule")
    t = bytearray(bytes(tcp4(sp + 10, 80, S)))
    t[32] |= 0x0E  # reserved bits
    t[38:40] = b"\x12\x34"  # urgent pointer without URG
    g.add(raw4(bytes(TCP_fix(t))), "syn-reserved-urp", "client", "pass", None,
          "reserved bits and an urgent pointer without URG on a SYN: "
          "pf_normalize_tcp clears both and it passes", state="new")
    g.add(cl(IPv6(src=CL6, dst=SV6) / TCP(sport=sp + 11, dport=80, flags=0)),
          "null6", "client", "block", "normalize",
          norm + "the null scan over IPv6 too: PFRES_NORM")
    g.add(cl(IPv6(src=CL6, dst=SV6) / TCP(sport=sp + 12, dport=80, flags="SF")),
          "syn-fin6", "client", "pass", None,
          "SYN|FIN over IPv6: FIN cleared, passed, state created", state="new")
    return g


def TCP_fix(b):
    """Recompute the TCP checksum of an IPv4 packet given as bytes."""
    p = IP(bytes(b))
    del p[TCP].chksum
    return bytes(p)


def tcpstate():
    g = Group("tcpstate", "out-of-window data and blind RSTs", 46000)
    sp = g.sport
    c = lambda fl, seq, ack, data=b"": cl(tcp4(sp, 80, fl, seq, ack, data))
    s = lambda fl, seq, ack, data=b"": sv(tcp4(80, sp, fl, seq, ack, data,
                                             src=SV4, dst=CL4))
    g.add(c(S, 1000, 0), "syn", "client", "pass", None,
          "the client's SYN to port 80 creates a state", state="new")
    g.add(s(S | A, 5000, 1001), "syn-ack", "server", "pass", None,
          "the server's SYN|ACK matches it", state="match")
    g.add(c(A, 1001, 5001), "ack", "client", "pass", None, "handshake done",
          state="match")
    g.add(c(A | P, 1001, 5001, b"GET / HTTP/1.0\r\n\r\n"), "data", "client", "pass",
          None, "data in the window", state="match")
    g.add(c(A | P, 1001 + 50_000_000, 5001, b"far"), "data-past-window", "client",
          "block", "state-mismatch",
          "data 50 MB past the window: pf_tcp_track_full's sequence checks fail "
          "(PFRES_BADSTATE)", state="match")
    g.add(c(A, 1019, 5001 + 40_000_000), "ack-past-window", "client", "block",
          "state-mismatch", "acknowledges 40 MB the server never sent "
          "(ackskew check, PFRES_BADSTATE)", state="match")
    g.add(s(R, 0x7A69_0000, 0), "blind-rst-server", "server", "block",
          "state-mismatch", "a blind RST with a guessed sequence number from the "
          "server side: outside the window (PFRES_BADSTATE)", state="match")
    g.add(c(R, 0x1234_5678, 0), "blind-rst-client", "client", "block",
          "state-mismatch", "a blind RST with a guessed sequence number from the "
          "client side (PFRES_BADSTATE)", state="match")
    g.add(s(A | P, 5001, 1019, b"HTTP/1.0 200 OK\r\n"), "reply", "server", "pass",
          None, "the connection still works after the attacks", state="match")
    g.add(c(A, 1019, 5018), "ack-reply", "client", "pass", None,
          "acknowledges the reply", state="match")
    g.add(c(R, 1019 + 1000, 0), "rst-in-window-inexact", "client", "block",
          "state-mismatch", "an RST inside the window but 1000 bytes past the "
          "next sequence number: pf_tcp_track_full wants resets at the exact "
          "sequence number (or one off) (PFRES_BADSTATE)", state="match")
    g.add(c(R, 1019, 0), "rst-in-window", "client", "pass", None,
          "an RST at the exact next sequence number closes the connection",
          state="match")
    return g


def icmp():
    g = Group("icmp", "ICMP errors with bogus inner packets", 47000)
    sp = g.sport
    udp_out = IP(src=CL4, dst=SV4) / UDP(sport=sp, dport=53) / Raw(b"query")
    g.add(cl(udp_out), "udp-flow", "client", "pass", None,
          "a UDP flow to port 53 creates a state", state="new")
    tcp_out = tcp4(sp + 1, 80, S, 7000, 0)
    g.add(cl(tcp_out), "tcp-flow", "client", "pass", None,
          "a TCP flow to port 80 creates a state", state="new")
    quote = lambda p, n=28: bytes(p)[:n]
    g.add(sv(IP(src=SV4, dst=CL4) / ICMP(type=3, code=3) / Raw(quote(udp_out))),
          "unreach-udp", "server", "pass", None,
          "port unreachable quoting the UDP flow: pf_test_state_icmp finds its "
          "state", state="match")
    g.add(sv(IP(src=SV4, dst=CL4) / ICMP(type=3, code=4, nexthopmtu=1280) /
             Raw(quote(tcp_out))), "unreach-tcp", "server", "pass", None,
          "fragmentation needed quoting the TCP flow, sequence in the window",
          state="match")
    bad_seq = tcp4(sp + 1, 80, S, 7000 + 0x4000_0000, 0)
    g.add(sv(IP(src=SV4, dst=CL4) / ICMP(type=3, code=4) / Raw(quote(bad_seq))),
          "unreach-tcp-bad-seq", "server", "block", "state-mismatch",
          "quotes the TCP flow with a sequence number 1 GB off: pf_test_state_icmp "
          "drops it as PFRES_BADSTATE", state="match")
    g.add(sv(IP(src=SV4, dst=CL4) / ICMP(type=3, code=3) / Raw(quote(udp_out, 10))),
          "unreach-inner-cut", "server", "block", "match",
          "only 10 bytes of the quoted IP header: no state lookup is possible, "
          "so the rules decide; an ICMP error never matches a keep-state rule "
          "(pf_match_rule: \"icmp packet must match existing state\"), so "
          "`pass out` is skipped and `block all` drops it")
    frag_inner = bytearray(quote(udp_out))
    frag_inner[6:8] = struct.pack("!H", 0x0003)
    g.add(sv(IP(src=SV4, dst=CL4) / ICMP(type=11, code=0) / Raw(bytes(frag_inner))),
          "timxceed-inner-later-fragment", "server", "block", "match",
          "quotes a later fragment: errors never refer to one, so no state "
          "lookup; the keep-state `pass out` cannot match an error: blocked")
    g.add(cl(IP(src=CL4, dst=SV4) / ICMP(type=3, code=3) /
             Raw(quote(IP(src=SV4, dst=CL4) / UDP(sport=53, dport=sp + 9)))),
          "unreach-no-state", "client", "block", "match",
          "an inbound error quoting a flow no state knows: the rules decide, and "
          "only echo requests pass in")
    g.add(cl(IP(src=CL4, dst=SV4) / ICMP(type=3, code=3) /
             Raw(b"\x45\x00\x00\x1c\x00\x01")), "unreach-inner-garbage", "client",
          "block", "match", "6 bytes of quoted header: rules decide, blocked")
    inner = bytearray(quote(IP(src=SV4, dst=CL4) / UDP(sport=53, dport=sp)))
    inner[0] = 0x4F
    g.add(cl(IP(src=CL4, dst=SV4) / ICMP(type=3, code=3) / Raw(bytes(inner))),
          "unreach-inner-ihl-past-end", "client", "block", "match",
          "quoted header claims 60 bytes, 28 present: no state lookup, the rules "
          "block it")
    g.add(cl(IP(src=CL4, dst=SV4) / ICMP(type=3, code=3) /
             Raw(quote(IP(src=SV4, dst=CL4) / UDP(sport=53, dport=sp)))),
          "unreach-reverse-flow", "client", "pass", None,
          "an inbound error about the server's reply on the UDP flow: the state "
          "matches", state="match")
    g.add(cl(IP(src=CL4, dst=SV4, proto=58) / ICMPv6EchoRequest()),
          "icmp6-in-ipv4", "client", "block", "normalize",
          "ICMPv6 carried by IPv4: pf_test drops it (PFRES_NORM)")
    g.add(cl(IPv6(src=CL6, dst=SV6, nh=1) / ICMP(type=8)), "icmp4-in-ipv6",
          "client", "block", "normalize",
          "ICMPv4 carried by IPv6: pf_test drops it (PFRES_NORM)")
    inner6 = bytes(IPv6(src=SV6, dst=CL6, nh=60) / Raw(b"\x11\x20" + b"\0" * 6))
    g.add(cl(IPv6(src=CL6, dst=SV6) / ICMPv6DestUnreach(code=4) / Raw(inner6)),
          "icmp6-unreach-inner-bad-ext", "client", "block", "match",
          "an ICMPv6 error whose quoted packet's destination-options header "
          "runs past its end: no state lookup, the rules block it")
    g.add(cl(IPv6(src=CL6, dst=SV6) / ICMPv6EchoRequest(id=sp, seq=1)),
          "echo6", "client", "pass", None, "an ICMPv6 echo request passes",
          state="new")
    return g


def ipv6ext():
    g = Group("ipv6ext", "IPv6 extension-header chains", 48000)
    sp = g.sport
    u = lambda n: UDP(sport=sp + n, dport=53) / Raw(b"query")
    v6 = lambda: IPv6(src=CL6, dst=SV6)
    g.add(cl(v6() / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0" * 4)]) / u(0)),
          "hbh-padding-only", "client", "block", "ip-option",
          "hop-by-hop with padding alone is fishy (PF_OPT_OTHER); no allow-opts: "
          "PFRES_IPOPTIONS")
    g.add(cl(v6() / IPv6ExtHdrDestOpt() / u(1)), "dstopts", "client", "block",
          "ip-option", "a destination-options header is an IPv6 option for pf "
          "(PF_OPT_OTHER); no allow-opts")
    g.add(cl(v6() / IPv6ExtHdrDestOpt() / IPv6ExtHdrHopByHop() / u(2)),
          "hbh-not-first", "client", "block", "ip-option",
          "hop-by-hop after another header (RFC 8200 4.1): pf_walk_header6 drops "
          "it, PFRES_IPOPTIONS")
    g.add(cl(v6() / IPv6ExtHdrRouting(type=0, addresses=[SV6]) / u(3)),
          "rh0", "client", "block", "ip-option",
          "type 0 routing header (RFC 5095): PFRES_IPOPTIONS")
    g.add(cl(v6() / IPv6ExtHdrRouting(type=2, addresses=[SV6]) /
             IPv6ExtHdrRouting(type=2, addresses=[SV6]) / u(4)),
          "two-routing-headers", "client", "block", "ip-option",
          "a second routing header: PFRES_IPOPTIONS")
    chain = v6()
    for _ in range(21):
        chain = chain / IPv6ExtHdrDestOpt()
    g.add(cl(chain / u(5)), "chain-21-headers", "client", "block", "ip-option",
          "21 extension headers: past pf_hdr_limit (20), PFRES_IPOPTIONS")
    b = bytearray(bytes(v6() / IPv6ExtHdrDestOpt() / u(6)))
    b[41] = 20  # header length 168 bytes
    g.add(raw6(bytes(b)), "dstopts-past-end", "client", "block", "short",
          "a destination-options header whose length runs past the packet, "
          "followed by what would be its next header: PFRES_SHORT")
    g.add(cl(v6() / IPv6ExtHdrFragment(nh=44, offset=0, m=1, id=1) /
             IPv6ExtHdrFragment(nh=17, offset=0, m=1, id=1) / u(7)),
          "two-fragment-headers", "client", "block", "fragment",
          "two fragment headers in one packet: PFRES_FRAG")
    g.add(cl(v6() / IPv6ExtHdrHopByHop(options=[IPv6Opt_raw(0xC2, b"\0\0\x10\0")]) /
             u(8)), "hbh-jumbo-nonzero-plen", "client", "block", "ip-option",
          "a jumbo payload option with a payload length set: pf_walk_option6 "
          "refuses it (PFRES_IPOPTIONS)")
    g.add(cl(IPv6(src=CL6, dst=SV6, nh=59) / Raw(b"")), "no-next-header", "client",
          "block", "match", "no next header (59): nothing to pass it, the block "
          "rule decides")
    g.add(cl(v6() / IPv6ExtHdrRouting(type=4, segleft=0, addresses=[SV6]) / u(9)),
          "srh-segleft-0", "client", "block", "ip-option",
          "a segment-routing header (type 4): still a routing header, "
          "PF_OPT_OTHER, no allow-opts")
    g.add(cl(IPv6(src=CL6, dst=SV6, hlim=64) / ICMPv6ND_NS(tgt=SV6)),
          "nd-hoplimit-64", "client", "block", "normalize",
          "a neighbour solicitation with hop limit 64: neighbour discovery "
          "never crosses a router (RFC 4861), pf drops it (PFRES_NORM)")
    g.add(cl(IPv6(src=CL6, dst="ff02::16", hlim=1) / IPv6ExtHdrHopByHop(
             options=[RouterAlert()]) / ICMPv6MLReport2()),
          "mld-not-link-local", "client", "block", "ip-option",
          "an MLD report from a global address: RFC 2710 wants link-local "
          "sources, pf_walk_header6 drops it (PFRES_IPOPTIONS)")
    ah6 = bytes(IPv6(src=CL6, dst=SV6, nh=51) /
                Raw(ah(17, udp_bytes(CL6, SV6, sp + 11, 53, b"query", v6=True))))
    g.add(raw6(ah6), "ah-udp6", "client", "pass", None,
          "AH in the chain is no option either: pf_walk_header6 steps over it "
          "and the rule passes the UDP", state="new")
    g.add(cl(v6() / u(10)), "plain-udp6", "client", "pass", None,
          "control: the same UDP without extension headers passes", state="new")
    return g


def IPv6Opt_raw(otype, data):
    """A hop-by-hop option given as type and raw data."""
    from scapy.layers.inet6 import HBHOptUnknown
    return HBHOptUnknown(otype=otype, optlen=len(data), optdata=data)


def vlan():
    g = Group("vlan", "VLAN stacking", 49000)
    sp = g.sport
    ip = IP(src=CL4, dst=SV4) / UDP(sport=sp, dport=53) / Raw(b"query")
    g.add(Ether(dst=FW_MAC, src=PEER_MAC) / Dot1Q(vlan=7) / ip, "dot1q", "client",
          "pass", None, "one 802.1Q tag: pf sees the IPv4 packet inside and the "
          "rule passes it", state="new")
    g.add(Ether(dst=FW_MAC, src=PEER_MAC, type=0x88A8) / Dot1Q(vlan=100, type=0x8100) /
          Dot1Q(vlan=7) / ip, "qinq-88a8", "client", "pass", None,
          "802.1ad outer tag: not IP at the link layer, pf never sees it (no "
          "pf counter; OpenBSD would need svlan(4) and vlan(4) to carry it)",
          state="none", not_ip=True)
    g.add(Ether(dst=FW_MAC, src=PEER_MAC) / Dot1Q(vlan=100) / Dot1Q(vlan=7) / ip,
          "double-dot1q", "client", "pass", None,
          "two stacked 802.1Q tags: the inner EtherType is 0x8100, not IP: pf "
          "never sees it", state="none", not_ip=True)
    g.add(eth_hdr("client", 0x8100) + b"\x00", "dot1q-cut", "client", "block", "short",
          "an 802.1Q EtherType with a 1-byte tag: the link header is cut "
          "(counted as short; OpenBSD's ether_input drops it before pf)",
          live=False, live_note="the receiving kernel drops a cut VLAN tag "
          "before AF_PACKET sees it")
    g.add(Ether(dst=FW_MAC, src=PEER_MAC) / Dot1Q(vlan=0, prio=5) /
          IP(src=CL4, dst=SV4) / UDP(sport=sp + 1, dport=53) / Raw(b"query"),
          "priority-tag", "client", "pass", None,
          "a priority tag (VLAN 0): the IPv4 packet inside passes", state="new")
    return g


def oversized():
    g = Group("oversized", "oversized frames", 50000)
    sp = g.sport
    g.add(cl(IP(src=CL4, dst=SV4, flags="DF") / UDP(sport=sp, dport=53) /
             Raw(b"J" * 8972)), "jumbo-9000", "client", "pass", None,
          "a 9014-byte frame (9000-byte IP packet): pf has no MTU check, the "
          "rule passes it (the receiving link's MTU is not pf's concern)",
          state="new")
    b = bytearray(bytes(IP(src=CL4, dst=SV4) / UDP(sport=sp + 1, dport=53) /
                        Raw(b"J" * 1472)))
    b[2:4] = struct.pack("!H", 65535)
    g.add(raw4(fix_ip_cksum(bytes(b))), "ip-len-65535", "client", "block", "short",
          "ip_len 65535 in a 1500-byte packet: PFRES_SHORT")
    g.add(cl(IPv6(src=CL6, dst=SV6) / UDP(sport=sp + 2, dport=53) / Raw(b"J" * 1452)),
          "ipv6-1500", "client", "pass", None, "a full-size IPv6 packet passes",
          state="new")
    small = bytes(IP(src=CL4, dst=SV4) / UDP(sport=sp + 3, dport=53) / Raw(b"ok"))
    g.add(raw4(small + b"\x00" * 1400), "trailing-1400", "client", "pass", None,
          "1400 bytes of trailing garbage after a 30-byte packet: pf bounds it "
          "by ip_len", state="new")
    g.add(cl(IP(src=CL4, dst=SV4) / UDP(sport=sp + 4, dport=53) / Raw(b"J" * 1472)),
          "ipv4-1500", "client", "pass", None, "a full-size IPv4 packet passes",
          state="new")
    return g


GROUPS = [truncated, checksum, ipopts, frag, tcpflags, tcpstate, icmp, ipv6ext,
          vlan, oversized]


def main():
    manifest = {
        "about": "pfd's malformed-traffic corpus: per packet, pf's verdict and "
                 "drop reason under `rules`, and why. Generated by gen.py; do "
                 "not edit by hand.",
        "rules": RULES,
        "fw_mac": FW_MAC,
        "peer_mac": PEER_MAC,
        "groups": [],
    }
    for make in GROUPS:
        g = make()
        with open(os.path.join(HERE, g.name + ".pcap"), "wb") as f:
            f.write(g.pcap())
        manifest["groups"].append({
            "name": g.name,
            "title": g.title,
            "pcap": g.name + ".pcap",
            "counters": g.counters(),
            "packets": [p for _, p in g.packets],
        })
    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
