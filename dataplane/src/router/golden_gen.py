# Generates router/golden.rs: each frame built by scapy 2.5 (Debian
# python3-scapy), run with /usr/bin/python3. The router's tests compare
# what it builds with these bytes exactly.
from scapy.all import Ether, ARP, IP, IPv6, UDP, TCP, ICMP, Raw, fragment, fragment6, IPv6ExtHdrFragment
from scapy.layers.inet6 import (ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6NDOptSrcLLAddr,
                                ICMPv6NDOptDstLLAddr, ICMPv6EchoRequest,
                                ICMPv6EchoReply, ICMPv6PacketTooBig,
                                ICMPv6TimeExceeded, ICMPv6DestUnreach,
                                IPv6ExtHdrHopByHop, RouterAlert, PadN,
                                ICMPv6MLReport2, ICMPv6MLDMultAddrRec,
                                ICMPv6MLQuery2, ICMPv6MLQuery)

R0 = '52:54:00:00:00:01'   # em0: 192.0.2.1/24, 2001:db8:1::1/64, mtu 1500
R1 = '52:54:00:00:00:02'   # em1: 198.51.100.1/24, 2001:db8:2::1/64, mtu 1400
HA = '02:00:00:00:00:0a'   # host 192.0.2.10 / 2001:db8:1::10 on em0
HB = '02:00:00:00:00:0b'   # host 198.51.100.20 / 2001:db8:2::20 on em1

out = {}

def emit(name, pkt, expr):
    out[name] = (bytes(pkt), expr)

def e(name, expr):
    emit(name, eval(expr), expr)

e('ARP_REQ_FOR_R0', "Ether(dst='ff:ff:ff:ff:ff:ff', src=HA)/ARP(op=1, hwsrc=HA, psrc='192.0.2.10', pdst='192.0.2.1')")
e('ARP_REPLY_FROM_R0', "Ether(dst=HA, src=R0)/ARP(op=2, hwsrc=R0, psrc='192.0.2.1', hwdst=HA, pdst='192.0.2.10')")
e('ARP_REQ_FROM_R1', "Ether(dst='ff:ff:ff:ff:ff:ff', src=R1)/ARP(op=1, hwsrc=R1, psrc='198.51.100.1', hwdst='00:00:00:00:00:00', pdst='198.51.100.20')")
e('ARP_REPLY_HB', "Ether(dst=R1, src=HB)/ARP(op=2, hwsrc=HB, psrc='198.51.100.20', hwdst=R1, pdst='198.51.100.1')")
e('GARP_R0', "Ether(dst='ff:ff:ff:ff:ff:ff', src=R0)/ARP(op=1, hwsrc=R0, psrc='192.0.2.1', hwdst='00:00:00:00:00:00', pdst='192.0.2.1')")
e('NS_FOR_R0', "Ether(dst='33:33:ff:00:00:01', src=HA)/IPv6(src='2001:db8:1::10', dst='ff02::1:ff00:1', hlim=255)/ICMPv6ND_NS(tgt='2001:db8:1::1')/ICMPv6NDOptSrcLLAddr(lladdr=HA)")
e('NA_FROM_R0', "Ether(dst=HA, src=R0)/IPv6(src='2001:db8:1::1', dst='2001:db8:1::10', hlim=255)/ICMPv6ND_NA(R=1, S=1, O=1, tgt='2001:db8:1::1')/ICMPv6NDOptDstLLAddr(lladdr=R0)")
e('NS_DAD_R0', "Ether(dst='33:33:ff:00:00:01', src=HA)/IPv6(src='::', dst='ff02::1:ff00:1', hlim=255)/ICMPv6ND_NS(tgt='2001:db8:1::1')")
e('NA_DAD_REPLY', "Ether(dst='33:33:00:00:00:01', src=R0)/IPv6(src='2001:db8:1::1', dst='ff02::1', hlim=255)/ICMPv6ND_NA(R=1, S=0, O=1, tgt='2001:db8:1::1')/ICMPv6NDOptDstLLAddr(lladdr=R0)")
e('NS_FROM_R1', "Ether(dst='33:33:ff:00:00:20', src=R1)/IPv6(src='2001:db8:2::1', dst='ff02::1:ff00:20', hlim=255)/ICMPv6ND_NS(tgt='2001:db8:2::20')/ICMPv6NDOptSrcLLAddr(lladdr=R1)")
e('NA_FROM_HB', "Ether(dst=R1, src=HB)/IPv6(src='2001:db8:2::20', dst='2001:db8:2::1', hlim=255)/ICMPv6ND_NA(R=0, S=1, O=1, tgt='2001:db8:2::20')/ICMPv6NDOptDstLLAddr(lladdr=HB)")
e('ECHO4_TO_R0', "Ether(dst=R0, src=HA)/IP(src='192.0.2.10', dst='192.0.2.1', id=7, flags=2, ttl=64)/ICMP(type=8, id=0x1234, seq=1)/Raw(b'pingdata')")
e('ECHO4_REPLY', "Ether(dst=HA, src=R0)/IP(src='192.0.2.1', dst='192.0.2.10', id=1, ttl=255)/ICMP(type=0, id=0x1234, seq=1)/Raw(b'pingdata')")
e('ECHO6_TO_R0', "Ether(dst=R0, src=HA)/IPv6(src='2001:db8:1::10', dst='2001:db8:1::1', hlim=64)/ICMPv6EchoRequest(id=0x77, seq=3, data=b'hello6')")
e('ECHO6_REPLY', "Ether(dst=HA, src=R0)/IPv6(src='2001:db8:1::1', dst='2001:db8:1::10', hlim=64)/ICMPv6EchoReply(id=0x77, seq=3, data=b'hello6')")

udp_ttl1 = IP(src='192.0.2.10', dst='203.0.113.5', id=99, ttl=1)/UDP(sport=5000, dport=33434)/Raw(b'x'*12)
e('UDP_TTL1', "Ether(dst=R0, src=HA)/IP(src='192.0.2.10', dst='203.0.113.5', id=99, ttl=1)/UDP(sport=5000, dport=33434)/Raw(b'x'*12)")
emit('TIMXCEED_REPLY', Ether(dst=HA, src=R0)/IP(src='192.0.2.1', dst='192.0.2.10', id=1, ttl=255)/ICMP(type=11, code=0)/Raw(bytes(udp_ttl1)[:28]),
     "Ether(dst=HA, src=R0)/IP(src='192.0.2.1', dst='192.0.2.10', id=1, ttl=255)/ICMP(type=11, code=0)/Raw(bytes(UDP_TTL1 IP)[:28])")

big_df = IP(src='192.0.2.10', dst='198.51.100.20', id=5, flags=2, ttl=64)/UDP(sport=5000, dport=9)/Raw(b'y'*1422)
e('UDP_BIG_DF', "Ether(dst=R0, src=HA)/IP(src='192.0.2.10', dst='198.51.100.20', id=5, flags=2, ttl=64)/UDP(sport=5000, dport=9)/Raw(b'y'*1422)")
emit('NEEDFRAG_REPLY', Ether(dst=HA, src=R0)/IP(src='192.0.2.1', dst='192.0.2.10', id=1, ttl=255)/ICMP(type=3, code=4, nexthopmtu=1400)/Raw(bytes(big_df)[:28]),
     "Ether(dst=HA, src=R0)/IP(src='192.0.2.1', dst='192.0.2.10', id=1, ttl=255)/ICMP(type=3, code=4, nexthopmtu=1400)/Raw(bytes(UDP_BIG_DF IP)[:28])")

big = IP(src='192.0.2.10', dst='198.51.100.20', id=6, flags=0, ttl=64)/UDP(sport=5000, dport=9)/Raw(bytes(range(256))*6)
e('UDP_BIG', "Ether(dst=R0, src=HA)/IP(src='192.0.2.10', dst='198.51.100.20', id=6, flags=0, ttl=64)/UDP(sport=5000, dport=9)/Raw(bytes(range(256))*6)")
fwd = big.copy(); fwd.ttl = 63; del fwd.chksum
frags = fragment(IP(bytes(fwd)), fragsize=1376)
for i, f in enumerate(frags):
    emit('UDP_BIG_FRAG%d' % i, Ether(dst=HB, src=R1)/f, "Ether(dst=HB, src=R1)/fragment(UDP_BIG with ttl=63, fragsize=1376)[%d]" % i)

e('UDP_FWD_IN', "Ether(dst=R0, src=HA)/IP(src='192.0.2.10', dst='198.51.100.20', id=8, ttl=64)/UDP(sport=1234, dport=53)/Raw(b'query')")
e('UDP_FWD_OUT', "Ether(dst=HB, src=R1)/IP(src='192.0.2.10', dst='198.51.100.20', id=8, ttl=63)/UDP(sport=1234, dport=53)/Raw(b'query')")
e('UDP6_FWD_IN', "Ether(dst=R0, src=HA)/IPv6(src='2001:db8:1::10', dst='2001:db8:2::20', hlim=64)/UDP(sport=1234, dport=53)/Raw(b'query6')")
e('UDP6_FWD_OUT', "Ether(dst=HB, src=R1)/IPv6(src='2001:db8:1::10', dst='2001:db8:2::20', hlim=63)/UDP(sport=1234, dport=53)/Raw(b'query6')")

big6 = IPv6(src='2001:db8:1::10', dst='2001:db8:2::20', hlim=64)/UDP(sport=5000, dport=9)/Raw(b'z'*1400)
e('UDP6_BIG', "Ether(dst=R0, src=HA)/IPv6(src='2001:db8:1::10', dst='2001:db8:2::20', hlim=64)/UDP(sport=5000, dport=9)/Raw(b'z'*1400)")
emit('TOOBIG_REPLY', Ether(dst=HA, src=R0)/IPv6(src='2001:db8:1::1', dst='2001:db8:1::10', hlim=64)/ICMPv6PacketTooBig(mtu=1400)/Raw(bytes(big6)[:1232]),
     "Ether(dst=HA, src=R0)/IPv6(src='2001:db8:1::1', dst='2001:db8:1::10', hlim=64)/ICMPv6PacketTooBig(mtu=1400)/Raw(bytes(UDP6_BIG IPv6)[:1232])")
hl1 = IPv6(src='2001:db8:1::10', dst='2001:db8:9::1', hlim=1)/UDP(sport=5000, dport=33434)/Raw(b'q'*4)
e('UDP6_HLIM1', "Ether(dst=R0, src=HA)/IPv6(src='2001:db8:1::10', dst='2001:db8:9::1', hlim=1)/UDP(sport=5000, dport=33434)/Raw(b'q'*4)")
emit('TIMXCEED6_REPLY', Ether(dst=HA, src=R0)/IPv6(src='2001:db8:1::1', dst='2001:db8:1::10', hlim=64)/ICMPv6TimeExceeded(code=0)/Raw(bytes(hl1)),
     "Ether(dst=HA, src=R0)/IPv6(src='2001:db8:1::1', dst='2001:db8:1::10', hlim=64)/ICMPv6TimeExceeded(code=0)/Raw(bytes(UDP6_HLIM1 IPv6))")

# CARP: virtual 192.0.2.254/24 and 2001:db8:1::fe/64 on em0, MAC VMAC
VMAC = '00:00:5e:00:01:01'
e('ARP_REQ_FOR_VIP', "Ether(dst='ff:ff:ff:ff:ff:ff', src=HA)/ARP(op=1, hwsrc=HA, psrc='192.0.2.10', pdst='192.0.2.254')")
e('ARP_REPLY_FROM_VIP', "Ether(dst=HA, src=VMAC)/ARP(op=2, hwsrc=VMAC, psrc='192.0.2.254', hwdst=HA, pdst='192.0.2.10')")
e('GARP_VIP', "Ether(dst='ff:ff:ff:ff:ff:ff', src=VMAC)/ARP(op=1, hwsrc=VMAC, psrc='192.0.2.254', hwdst='00:00:00:00:00:00', pdst='192.0.2.254')")
e('NS_FOR_VIP', "Ether(dst='33:33:ff:00:00:fe', src=HA)/IPv6(src='2001:db8:1::10', dst='ff02::1:ff00:fe', hlim=255)/ICMPv6ND_NS(tgt='2001:db8:1::fe')/ICMPv6NDOptSrcLLAddr(lladdr=HA)")
e('NA_FROM_VIP', "Ether(dst=HA, src=VMAC)/IPv6(src='2001:db8:1::fe', dst='2001:db8:1::10', hlim=255)/ICMPv6ND_NA(R=1, S=1, O=1, tgt='2001:db8:1::fe')/ICMPv6NDOptDstLLAddr(lladdr=VMAC)")
e('UNSOL_NA_VIP', "Ether(dst='33:33:00:00:00:01', src=VMAC)/IPv6(src='2001:db8:1::fe', dst='ff02::1', hlim=255)/ICMPv6ND_NA(R=1, S=0, O=1, tgt='2001:db8:1::fe')/ICMPv6NDOptDstLLAddr(lladdr=VMAC)")
e('ECHO4_TO_VIP', "Ether(dst=VMAC, src=HA)/IP(src='192.0.2.10', dst='192.0.2.254', id=7, ttl=64)/ICMP(type=8, id=0x1234, seq=2)/Raw(b'vip')")
e('ECHO4_REPLY_VIP', "Ether(dst=HA, src=VMAC)/IP(src='192.0.2.254', dst='192.0.2.10', id=1, ttl=255)/ICMP(type=0, id=0x1234, seq=2)/Raw(b'vip')")

# a hairpin: HA to 10.5.0.1, routed via 192.0.2.2 (HC) back out em0
HC = '02:00:00:00:00:0c'
hp = IP(src='192.0.2.10', dst='10.5.0.1', id=11, ttl=64)/UDP(sport=7, dport=7)/Raw(b'hairpin')
e('HAIRPIN_IN', "Ether(dst=R0, src=HA)/IP(src='192.0.2.10', dst='10.5.0.1', id=11, ttl=64)/UDP(sport=7, dport=7)/Raw(b'hairpin')")
e('HAIRPIN_OUT', "Ether(dst=HC, src=R0)/IP(src='192.0.2.10', dst='10.5.0.1', id=11, ttl=63)/UDP(sport=7, dport=7)/Raw(b'hairpin')")
emit('REDIRECT_REPLY', Ether(dst=HA, src=R0)/IP(src='192.0.2.1', dst='192.0.2.10', id=1, ttl=255)/ICMP(type=5, code=1, gw='192.0.2.2')/Raw(bytes(hp)[:28]),
     "Ether(dst=HA, src=R0)/IP(src='192.0.2.1', dst='192.0.2.10', id=1, ttl=255)/ICMP(type=5, code=1, gw='192.0.2.2')/Raw(bytes(HAIRPIN_IN IP)[:28])")

# link-local echo: R0's EUI-64 address
e('ECHO6_LL', "Ether(dst=R0, src=HA)/IPv6(src='fe80::a', dst='fe80::5054:ff:fe00:1', hlim=64)/ICMPv6EchoRequest(id=1, seq=1, data=b'll')")
e('ECHO6_LL_REPLY', "Ether(dst=HA, src=R0)/IPv6(src='fe80::5054:ff:fe00:1', dst='fe80::a', hlim=64)/ICMPv6EchoReply(id=1, seq=1, data=b'll')")
# unsolicited NA from HB with a new MAC, override set / clear
e('NA_HB_MOVED_O', "Ether(dst='33:33:00:00:00:01', src='02:00:00:00:00:bb')/IPv6(src='2001:db8:2::20', dst='ff02::1', hlim=255)/ICMPv6ND_NA(R=0, S=0, O=1, tgt='2001:db8:2::20')/ICMPv6NDOptDstLLAddr(lladdr='02:00:00:00:00:bb')")
e('NA_HB_MOVED_NO_O', "Ether(dst='33:33:00:00:00:01', src='02:00:00:00:00:bb')/IPv6(src='2001:db8:2::20', dst='ff02::1', hlim=255)/ICMPv6ND_NA(R=0, S=0, O=0, tgt='2001:db8:2::20')/ICMPv6NDOptDstLLAddr(lladdr='02:00:00:00:00:bb')")
e('GARP_HB_MOVED', "Ether(dst='ff:ff:ff:ff:ff:ff', src='02:00:00:00:00:bb')/ARP(op=1, hwsrc='02:00:00:00:00:bb', psrc='198.51.100.20', pdst='198.51.100.20')")

# unicast reachability probes of HB
e('NS_PROBE_HB', "Ether(dst=HB, src=R1)/IPv6(src='2001:db8:2::1', dst='2001:db8:2::20', hlim=255)/ICMPv6ND_NS(tgt='2001:db8:2::20')/ICMPv6NDOptSrcLLAddr(lladdr=R1)")
e('ARP_PROBE_HB', "Ether(dst=HB, src=R1)/ARP(op=1, hwsrc=R1, psrc='198.51.100.1', hwdst='00:00:00:00:00:00', pdst='198.51.100.20')")

# closed ports on the router's own addresses
u = IP(src='192.0.2.10', dst='192.0.2.1', id=21, ttl=1)/UDP(sport=40001, dport=33434)/Raw(b'trace')
e('UDP_TO_R0', "Ether(dst=R0, src=HA)/IP(src='192.0.2.10', dst='192.0.2.1', id=21, ttl=1)/UDP(sport=40001, dport=33434)/Raw(b'trace')")
emit('PORT_UNREACH_R0', Ether(dst=HA, src=R0)/IP(src='192.0.2.1', dst='192.0.2.10', id=1, ttl=255)/ICMP(type=3, code=3)/Raw(bytes(u)[:28]),
     "Ether(dst=HA, src=R0)/IP(src='192.0.2.1', dst='192.0.2.10', id=1, ttl=255)/ICMP(type=3, code=3)/Raw(bytes(UDP_TO_R0 IP)[:28])")
u6 = IPv6(src='2001:db8:1::10', dst='2001:db8:1::1', hlim=64)/UDP(sport=40001, dport=33434)/Raw(b'trace6')
e('UDP6_TO_R0', "Ether(dst=R0, src=HA)/IPv6(src='2001:db8:1::10', dst='2001:db8:1::1', hlim=64)/UDP(sport=40001, dport=33434)/Raw(b'trace6')")
emit('PORT_UNREACH6_R0', Ether(dst=HA, src=R0)/IPv6(src='2001:db8:1::1', dst='2001:db8:1::10', hlim=64)/ICMPv6DestUnreach(code=4)/Raw(bytes(u6)),
     "Ether(dst=HA, src=R0)/IPv6(src='2001:db8:1::1', dst='2001:db8:1::10', hlim=64)/ICMPv6DestUnreach(code=4)/Raw(bytes(UDP6_TO_R0 IPv6))")
e('SYN_TO_R0', "Ether(dst=R0, src=HA)/IP(src='192.0.2.10', dst='192.0.2.1', id=22, flags=2, ttl=64)/TCP(sport=40000, dport=22, seq=1000, flags='S', window=64240)")
e('RST_FROM_R0', "Ether(dst=HA, src=R0)/IP(src='192.0.2.1', dst='192.0.2.10', id=0, flags=2, ttl=64, tos=0x10)/TCP(sport=22, dport=40000, seq=0, ack=1001, flags='RA', window=0)")
g = IP(src='192.0.2.10', dst='192.0.2.1', id=23, ttl=64, proto=47)/Raw(b'\x00\x00\x08\x00gre!')
e('GRE_TO_R0', "Ether(dst=R0, src=HA)/IP(src='192.0.2.10', dst='192.0.2.1', id=23, ttl=64, proto=47)/Raw(b'\\x00\\x00\\x08\\x00gre!')")
emit('PROTO_UNREACH_R0', Ether(dst=HA, src=R0)/IP(src='192.0.2.1', dst='192.0.2.10', id=2, ttl=255)/ICMP(type=3, code=2)/Raw(bytes(g)[:28]),
     "Ether(dst=HA, src=R0)/IP(src='192.0.2.1', dst='192.0.2.10', id=2, ttl=255)/ICMP(type=3, code=2)/Raw(bytes(GRE_TO_R0 IP)[:28])")

# MLDv2: R0 (fe80::5054:ff:fe00:1) is in ff02::2 and ff02::1:ff00:1
# (the solicited-node group of both fe80::5054:ff:fe00:1 and 2001:db8:1::1)
MLD_HDR = "Ether(dst='33:33:00:00:00:16', src=R0)/IPv6(src='fe80::5054:ff:fe00:1', dst='ff02::16', hlim=1)/IPv6ExtHdrHopByHop(options=[RouterAlert(value=0), PadN(optdata=b'')])"
e('MLD_JOIN_R0', MLD_HDR + "/ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(rtype=4, dst='ff02::2'), ICMPv6MLDMultAddrRec(rtype=4, dst='ff02::1:ff00:1')])")
e('MLD_QUERY', "Ether(dst='33:33:00:00:00:01', src=HA)/IPv6(src='fe80::a', dst='ff02::1', hlim=1)/IPv6ExtHdrHopByHop(options=[RouterAlert(value=0), PadN(optdata=b'')])/ICMPv6MLQuery2()")
e('MLD_QUERY_REPLY', MLD_HDR + "/ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(rtype=2, dst='ff02::2'), ICMPv6MLDMultAddrRec(rtype=2, dst='ff02::1:ff00:1')])")
e('MLD_QUERY_GROUP', "Ether(dst='33:33:ff:00:00:01', src=HA)/IPv6(src='fe80::a', dst='ff02::1:ff00:1', hlim=1)/IPv6ExtHdrHopByHop(options=[RouterAlert(value=0), PadN(optdata=b'')])/ICMPv6MLQuery2(mladdr='ff02::1:ff00:1')")
e('MLD_QUERY_GROUP_REPLY', MLD_HDR + "/ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(rtype=2, dst='ff02::1:ff00:1')])")
e('MLD_VIP_JOIN', MLD_HDR + "/ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(rtype=4, dst='ff02::1:ff00:fe')])")
e('MLD_VIP_LEAVE', MLD_HDR + "/ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(rtype=3, dst='ff02::1:ff00:fe')])")

# a link-local source may not be forwarded: beyond scope, from R0's link-local
ll = IPv6(src='fe80::a', dst='2001:db8:2::20', hlim=64)/UDP(sport=1, dport=2)/Raw(b'scope')
e('UDP6_LL_SRC', "Ether(dst=R0, src=HA)/IPv6(src='fe80::a', dst='2001:db8:2::20', hlim=64)/UDP(sport=1, dport=2)/Raw(b'scope')")
emit('BEYOND_SCOPE_REPLY', Ether(dst=HA, src=R0)/IPv6(src='fe80::5054:ff:fe00:1', dst='fe80::a', hlim=64)/ICMPv6DestUnreach(code=2)/Raw(bytes(ll)),
     "Ether(dst=HA, src=R0)/IPv6(src='fe80::5054:ff:fe00:1', dst='fe80::a', hlim=64)/ICMPv6DestUnreach(code=2)/Raw(bytes(UDP6_LL_SRC IPv6))")

# an echo reply too big for em1 (MTU 1400) is fragmented by the router
e('ECHO6_BIG_TO_R1', "Ether(dst=R1, src=HB)/IPv6(src='2001:db8:2::20', dst='2001:db8:2::1', hlim=64)/ICMPv6EchoRequest(id=5, seq=9, data=bytes(range(256))*6)")
big_rep = IPv6(src='2001:db8:2::1', dst='2001:db8:2::20', hlim=64)/IPv6ExtHdrFragment(id=1)/ICMPv6EchoReply(id=5, seq=9, data=bytes(range(256))*6)
for i, f in enumerate(fragment6(big_rep, 1400)):
    emit('ECHO6_BIG_REPLY_FRAG%d' % i, Ether(dst=HB, src=R1)/f, "Ether(dst=HB, src=R1)/fragment6(IPv6(src='2001:db8:2::1', dst='2001:db8:2::20', hlim=64)/IPv6ExtHdrFragment(id=1)/ICMPv6EchoReply(id=5, seq=9, data=bytes(range(256))*6), 1400)[%d]" % i)

print("//! Golden frames for the router's tests, built by scapy 2.5 with")
print("//! `golden_gen.py` (run under /usr/bin/python3). Each constant's")
print("//! comment is the scapy expression that produced it.")
print("#![allow(dead_code)]")
for name, (b, expr) in out.items():
    print()
    print("// " + expr)
    print("pub(crate) const %s: [u8; %d] = [" % (name, len(b)))
    for i in range(0, len(b), 16):
        print("    " + " ".join("0x%02x," % x for x in b[i:i+16]))
    print("];")
