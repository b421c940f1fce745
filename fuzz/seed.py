#!/usr/bin/env python3
"""Seed inputs for the fuzz targets, in each target's record format
(mgmt/src/fuzzing/): fuzz/seed.py OUT_DIR writes OUT_DIR/<target>/seed-*.
fuzz/run.sh uses it when a corpus directory is empty; the committed
corpus started from these, the pf.conf conformance inputs and the golden
vectors of the carp and pfsync crates.

Usage: fuzz/seed.py OUT_DIR ROOT [CONFORMANCE_DIR]"""
import os
import re
import struct
import sys

out, root = sys.argv[1], sys.argv[2]
conformance = sys.argv[3] if len(sys.argv) > 3 else None


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def rec(flags, data):
    return bytes([flags]) + struct.pack(">H", len(data)) + data


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def eth(payload, etype=0x0800, dst=b"\x02\0\0\0\0\x0a", src=b"\x02\0\0\0\0\x0b"):
    return dst + src + struct.pack(">H", etype) + payload


def ipv4(src, dst, proto, payload, ttl=64, ident=1, frag=0x4000):
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, ttl, proto, 0, ip4(src), ip4(dst))
    h = h[:10] + struct.pack(">H", csum(h)) + h[12:]
    return h + payload


def l4sum(src, dst, proto, seg):
    return csum(ip4(src) + ip4(dst) + struct.pack(">BBH", 0, proto, len(seg)) + seg)


def tcp(src, sp, dst, dp, flags, seq=1000, ack=0, opts=b"\x02\x04\x05\xb4"):
    off = (20 + len(opts)) // 4
    seg = struct.pack(">HHIIBBHHH", sp, dp, seq, ack, off << 4, flags, 65535, 0, 0) + opts
    seg = seg[:16] + struct.pack(">H", l4sum(src, dst, 6, seg)) + seg[18:]
    return eth(ipv4(src, dst, 6, seg))


def udp(src, sp, dst, dp, data=b"hello"):
    seg = struct.pack(">HHHH", sp, dp, 8 + len(data), 0) + data
    seg = seg[:6] + struct.pack(">H", l4sum(src, dst, 17, seg) or 0xFFFF) + seg[8:]
    return eth(ipv4(src, dst, 17, seg))


def icmp_echo(src, dst):
    m = struct.pack(">BBHHH", 8, 0, 0, 7, 1) + b"ping"
    m = m[:2] + struct.pack(">H", csum(m)) + m[4:]
    return eth(ipv4(src, dst, 1, m))


SYN, ACK, PSH, FIN, RST = 0x02, 0x10, 0x08, 0x01, 0x04
IN, OUT, EM1 = 1, 0, 2


def pcap_frames(path):
    b = open(path, "rb").read()
    off = 24
    while off + 16 <= len(b):
        cap = struct.unpack("<I", b[off + 8 : off + 12])[0]
        yield b[off + 16 : off + 16 + cap]
        off += 16 + cap


# pipeline: flags bit 0 inbound, bit 1 em1, bits 2..7 seconds.
fixtures = os.path.join(root, "mgmt/tests/fixtures")
for name in sorted(os.listdir(fixtures)):
    if name.endswith(".pcap"):
        recs = b""
        for fr in pcap_frames(os.path.join(fixtures, name)):
            recs += rec(IN if fr[0:6] == bytes.fromhex("02000000000a") else OUT, fr)
        put("pipeline", "seed-" + name, recs)
pipeline = {
    # An inside host's connection, translated by nat-to on em0.
    "nat-tcp": [
        (OUT | 4, tcp("192.0.2.5", 40000, "203.0.113.9", 80, SYN)),
        (IN, tcp("203.0.113.9", 80, "198.51.100.1", 50001, SYN | ACK, 5000, 1001)),
        (OUT, tcp("192.0.2.5", 40000, "203.0.113.9", 80, ACK, 1001, 5001, b"")),
        (OUT | 8, tcp("192.0.2.5", 40000, "203.0.113.9", 80, FIN | ACK, 1001, 5001, b"")),
    ],
    "rdr-tcp": [
        (IN, tcp("203.0.113.9", 1234, "198.51.100.1", 8080, SYN)),
        (OUT, tcp("192.0.2.20", 80, "203.0.113.9", 1234, SYN | ACK, 7000, 1001)),
    ],
    "synproxy": [
        (IN, tcp("203.0.113.9", 1235, "198.51.100.1", 443, SYN)),
        (IN, tcp("203.0.113.9", 1235, "198.51.100.1", 443, ACK, 1001, 1, b"")),
    ],
    "udp-src-track": [
        (IN, udp("192.0.2.9", 5000 + i, "198.51.100.1", 53)) for i in range(4)
    ],
    "ssh-overload": [
        (IN | 4, tcp("203.0.113.7", 2000 + i, "198.51.100.1", 22, SYN)) for i in range(4)
    ],
    "icmp-and-block-return": [
        (IN, icmp_echo("203.0.113.9", "198.51.100.1")),
        (IN, tcp("203.0.113.9", 1236, "198.51.100.1", 23, SYN)),
        (IN, udp("203.0.113.9", 1237, "198.51.100.1", 69)),
    ],
    "fragments": [
        (IN, eth(ipv4("203.0.113.9", "198.51.100.1", 17, struct.pack(">HHHH", 1, 53, 24, 0) + b"A" * 8, frag=0x2000))),
        (IN, eth(ipv4("203.0.113.9", "198.51.100.1", 17, b"B" * 8, frag=0x0002))),
    ],
    "inside-em1": [
        (IN | EM1, udp("192.0.2.5", 1000, "203.0.113.9", 53)),
        (OUT, udp("192.0.2.5", 1000, "203.0.113.9", 53)),
    ],
}
for name, recs in pipeline.items():
    put("pipeline", "seed-" + name, b"".join(rec(f, fr) for f, fr in recs))

# carp: bits 0..2 event, bit 3 interface/carpdev, bits 4..7 quarter seconds.
ucarp = open(os.path.join(root, "carp/tests/fixtures/ucarp-advert-vhid1.bin"), "rb").read()
put("carp", "seed-ucarp-frame", rec(0, ucarp) + rec(0x40, ucarp))
put("carp", "seed-ucarp-payload", rec(1, b"\0" + ucarp[0x22:]))
# The peer becomes master and its adverts reach A, then A preempts.
put(
    "carp",
    "seed-peer-master",
    rec(5, b"\0") + rec(0x42, b"\x64\x00\x01") + rec(0x46, b"\x02") + rec(0xf7, b"\x02\x05") + rec(0x42, b"\x00\x00\x01"),
)
put("carp", "seed-admin", b"".join(rec(3 + (i & 1) | (i & 8), bytes([i, 1, 0xf0])) for i in range(9)) + rec(0xf0, b""))
put("carp", "seed-timers", rec(0xf7, b"\x00") * 6 + rec(0xf7, b"\x02\x07"))

# pfsync: bits 0..2 event, bits 3..7 tenths of a second.
golden = open(os.path.join(root, "pfsync/src/wire/golden.rs")).read()
for m in re.finditer(r'const (V\d): &str = "([^"]*)";', golden):
    b = bytes.fromhex(m.group(2).replace("\n", " ").replace(" ", ""))
    put("pfsync", "seed-golden-" + m.group(1), rec(1, b) + rec(0, b[20:]) + rec(5, b[20:]))
put(
    "pfsync",
    "seed-states-and-flush",
    rec(3, tcp("192.0.2.5", 40000, "203.0.113.9", 80, SYN))
    + rec(2, tcp("203.0.113.9", 80, "198.51.100.1", 50001, SYN | ACK, 5000, 1001))
    + rec(2 | 0x50, tcp("203.0.113.9", 1234, "198.51.100.1", 8080, SYN))
    + rec(4, b"\x05\x00")
    + rec(4, b"\x06")
    + rec(7, b"\x20"),
)
put(
    "pfsync",
    "seed-defer",
    b"\x80\0\0" + rec(4, b"\x04\x01") + rec(3, tcp("192.0.2.6", 40001, "203.0.113.9", 80, SYN)) + rec(0x18, b""),
)

# control: byte 0 the read size, then the byte stream.
lines = [
    b'{"version":1,"request":{"kind":"show","what":"rules","verbose":1}}',
    b'{"version":1,"request":{"kind":"table","name":"bad","op":{"op":"add","addrs":["192.0.2.1"]}}}',
    b'{"version":1,"request":{"kind":"reboot"}}',
    b'{"version":1,"request":{"kind":"enable"}}',
    b'{"version":1,"request":{"kind":"load_rules","source":{"text":"pass all\\n"},"anchor":"a/b","defines":[{"name":"x","value":"1"}]}}',
    b'{"version":1,"request":{"kind":"kill_states","filters":{"hosts":["10.0.0.1"]}}}',
    b'{"version":1,"request":{"kind":"flush","what":"states"}}',
    b'{"version":1,"request":{"kind":"set_debug","level":"misc"}}',
    b'{"version":1,"request":{"kind":"ifctl","op":{"op":"show"}}}',
    b'{"version":2,"request":{"kind":"enable"}}',
    b'{"version":1,"request":{"kind":"enable","extra":1}}',
]
put("control", "seed-lines", b"\x07" + b"\n".join(lines) + b"\n\n")
put("control", "seed-long", b"\x3f" + b'{"version":1,"request":{"kind":"show","what":"' + b"x" * 3000 + b'"}}\n')
for i, l in enumerate(lines):
    put("control", "seed-line-%d" % i, b"\x40" + l + b"\r\n")

# pfconf: the conformance inputs.
if conformance and os.path.isdir(conformance):
    for name in sorted(os.listdir(conformance)):
        if name.endswith(".in"):
            with open(os.path.join(conformance, name), "rb") as f:
                put("pfconf", "conformance-" + name, f.read())
