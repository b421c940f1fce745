#!/usr/bin/python3
# Generates ../golden.rs: frames before and after translation, both built
# by scapy (which computes every checksum, quoted ones included, from
# scratch), so the incremental rewrite must reproduce scapy's bytes.
# Run: /usr/bin/python3 dataplane/src/nat/testdata/golden.py > dataplane/src/nat/golden.rs
from scapy.all import Ether, IP, IPv6, TCP, UDP, ICMP, ICMPv6EchoRequest, \
    ICMPv6EchoReply, ICMPv6DestUnreach, Raw, raw

E = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
IN4, EXT4, NAT4, SRV4, RTR4 = "10.0.0.5", "93.184.216.34", "192.0.2.1", "10.0.0.80", "198.51.100.1"
IN6, EXT6, NAT6, SRV6, RTR6 = "fd00::5", "2001:db8:ffff::34", "2001:db8::1", "fd00::80", "2001:db8:aaaa::1"
PAY = b"hello, world!"

def v4(s, d):
    return Ether(**E) / IP(src=s, dst=d, id=7, ttl=64)
def v6(s, d):
    return Ether(**E) / IPv6(src=s, dst=d, hlim=64)

def tcp(sp, dp):
    return TCP(sport=sp, dport=dp, flags="S", seq=1000, window=65535,
               options=[("MSS", 1460)]) / Raw(PAY)
def udp(sp, dp, **kw):
    return UDP(sport=sp, dport=dp, **kw) / Raw(PAY)

cases = {}
# nat-to outbound: source address and port change.
cases["V4_TCP"] = (v4(IN4, EXT4) / tcp(40000, 80), v4(NAT4, EXT4) / tcp(50123, 80))
# rdr-to inbound: destination address and port change.
cases["V4_UDP"] = (v4(EXT4, NAT4) / udp(5353, 53), v4(EXT4, SRV4) / udp(5353, 5300))
cases["V4_UDP_NOCK"] = (v4(IN4, EXT4) / udp(40000, 53, chksum=0),
                        v4(NAT4, EXT4) / udp(50123, 53, chksum=0))
cases["V4_ECHO"] = (v4(IN4, EXT4) / ICMP(type=8, id=0x1234, seq=1) / Raw(PAY),
                    v4(NAT4, EXT4) / ICMP(type=8, id=0xabcd, seq=1) / Raw(PAY))
cases["V4_ECHOREPLY"] = (v4(EXT4, NAT4) / ICMP(type=0, id=0xabcd, seq=1) / Raw(PAY),
                         v4(EXT4, IN4) / ICMP(type=0, id=0x1234, seq=1) / Raw(PAY))
cases["V6_TCP"] = (v6(IN6, EXT6) / tcp(40000, 443), v6(NAT6, EXT6) / tcp(61000, 443))
cases["V6_UDP"] = (v6(EXT6, NAT6) / udp(5353, 53), v6(EXT6, SRV6) / udp(5353, 5300))
cases["V6_ECHO"] = (v6(IN6, EXT6) / ICMPv6EchoRequest(id=0x1234, seq=1, data=PAY),
                    v6(NAT6, EXT6) / ICMPv6EchoRequest(id=0xabcd, seq=1, data=PAY))

# ICMP errors about a nat-to connection, coming back from the outside:
# outer dst and quoted src go back to the inside host.
def err4(outer_dst, inner):
    return v4(RTR4, outer_dst) / ICMP(type=3, code=3) / inner
cases["V4_ERR_UDP"] = (err4(NAT4, IP(src=NAT4, dst=EXT4, id=9, ttl=63) / udp(50123, 53)),
                       err4(IN4, IP(src=IN4, dst=EXT4, id=9, ttl=63) / udp(40000, 53)))
cases["V4_ERR_TCP"] = (err4(NAT4, IP(src=NAT4, dst=EXT4, id=9, ttl=63) / tcp(50123, 80)),
                       err4(IN4, IP(src=IN4, dst=EXT4, id=9, ttl=63) / tcp(40000, 80)))
# A quote cut after 8 bytes of TCP: no quoted TCP checksum to keep.
t_cut = raw(IP(src=NAT4, dst=EXT4, id=9, ttl=63) / tcp(50123, 80))[:28]
t_cut2 = raw(IP(src=IN4, dst=EXT4, id=9, ttl=63) / tcp(40000, 80))[:28]
cases["V4_ERR_TCP_CUT"] = (v4(RTR4, NAT4) / ICMP(type=11, code=0) / Raw(t_cut),
                           v4(RTR4, IN4) / ICMP(type=11, code=0) / Raw(t_cut2))
cases["V4_ERR_ECHO"] = (err4(NAT4, IP(src=NAT4, dst=EXT4, id=9, ttl=1) / ICMP(type=8, id=0xabcd, seq=3) / Raw(PAY)),
                        err4(IN4, IP(src=IN4, dst=EXT4, id=9, ttl=1) / ICMP(type=8, id=0x1234, seq=3) / Raw(PAY)))
def err6(outer_dst, inner):
    return v6(RTR6, outer_dst) / ICMPv6DestUnreach(code=4) / inner
cases["V6_ERR_UDP"] = (err6(NAT6, IPv6(src=NAT6, dst=EXT6, hlim=63) / udp(50123, 53)),
                       err6(IN6, IPv6(src=IN6, dst=EXT6, hlim=63) / udp(40000, 53)))
cases["V6_ERR_TCP"] = (err6(NAT6, IPv6(src=NAT6, dst=EXT6, hlim=63) / tcp(61000, 443)),
                      err6(IN6, IPv6(src=IN6, dst=EXT6, hlim=63) / tcp(40000, 443)))
cases["V6_ERR_ECHO"] = (err6(NAT6, IPv6(src=NAT6, dst=EXT6, hlim=1) / ICMPv6EchoRequest(id=0xabcd, seq=3, data=PAY)),
                       err6(IN6, IPv6(src=IN6, dst=EXT6, hlim=1) / ICMPv6EchoRequest(id=0x1234, seq=3, data=PAY)))
# An error about an rdr-to connection, from the inside server: it quotes
# the packet it got (outside -> server), whose destination returns to the
# public address and port, as does the outer source.
cases["V4_ERR_RDR"] = (v4(SRV4, EXT4) / ICMP(type=3, code=3) / IP(src=EXT4, dst=SRV4, id=9, ttl=60) / udp(5353, 5300),
                       v4(NAT4, EXT4) / ICMP(type=3, code=3) / IP(src=EXT4, dst=NAT4, id=9, ttl=60) / udp(5353, 53))
# The quoted segment of a modulated connection: its seq goes back by the
# modulator.
cases["V4_ERR_SEQ"] = (err4(IN4, IP(src=IN4, dst=EXT4, id=9, ttl=63) / TCP(sport=40000, dport=80, flags="A", seq=0x10000001 + 1000)),
                       err4(IN4, IP(src=IN4, dst=EXT4, id=9, ttl=63) / TCP(sport=40000, dport=80, flags="A", seq=1000)))

# modulate state: seq + 0x10000001, ack - 0x100, SACK edges (at odd
# offsets after one NOP) move with ack.
def seg(seq, ack, l, r):
    return v4(IN4, EXT4) / TCP(sport=40000, dport=80, flags="A", seq=seq, ack=ack,
                               options=[("NOP", None), ("SAck", (l, r))]) / Raw(PAY)
cases["V4_SACK"] = (seg(1000, 5000, 6000, 7000),
                    seg(1000 + 0x10000001, 5000 - 0x100, 6000 - 0x100, 7000 - 0x100))

print("//! Golden frames for the rewrite tests, generated by")
print("//! `testdata/golden.py` with scapy: each pair is a frame before")
print("//! translation and the same packet built afresh with the translated")
print("//! fields, every checksum (quoted ones too) computed by scapy.")
print()
for name, (a, b) in cases.items():
    for suffix, p in (("", a), ("_NAT", b)):
        data = raw(p)
        print(f"pub const {name}{suffix}: [u8; {len(data)}] = [")
        for i in range(0, len(data), 16):
            print("    " + ", ".join(f"0x{x:02x}" for x in data[i:i+16]) + ",")
        print("];")
