//! The packet descriptor: everything pf's rules and state table read of a
//! packet, pulled out of the wire headers once (pf's `struct pf_pdesc`).
//! The wire parser fills it; rule evaluation, the state table and
//! translation read it and never parse headers again.

use ruleset::addr::Af;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Which way the packet crosses the interface it is seen on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    In,
    Out,
}

/// An address in pf's `struct pf_addr` layout, as
/// [`ruleset::compile::addr_key`] builds it: an IPv4 address fills the
/// top 32 bits. Rules, tables and state keys all compare this form.
pub type AddrKey = u128;

/// Turn an [`AddrKey`] of family `af` back into an address.
pub fn key_to_ip(af: Af, k: AddrKey) -> IpAddr {
    match af {
        Af::Inet => IpAddr::V4(Ipv4Addr::from((k >> 96) as u32)),
        Af::Inet6 => IpAddr::V6(Ipv6Addr::from(k)),
    }
}

pub use ruleset::compile::addr_key;

/// TCP header fields the state machine reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpInfo {
    pub seq: u32,
    pub ack: u32,
    pub win: u16,
    /// TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PUSH 0x08, ACK 0x10,
    /// URG 0x20, ECE 0x40, CWR 0x80), as pf's `th_flags`.
    pub flags: u8,
    /// Header length in bytes (data offset * 4).
    pub hdr_len: u8,
    /// Payload length in bytes (pf's `pd->p_len`).
    pub data_len: u16,
    /// Window scale option, if present on this segment (pf only honours
    /// it on a SYN).
    pub wscale: Option<u8>,
    /// MSS option, if present.
    pub mss: Option<u16>,
    /// Timestamp option (TSval, TSecr), if present.
    pub ts: Option<(u32, u32)>,
}

/// The embedded (quoted) packet of an ICMP or ICMPv6 error: the header
/// fields pf needs to find the state of the connection the error is
/// about. Addresses and ports are as written in the quoted packet, i.e.
/// seen from the *other* direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpInner {
    pub proto: u8,
    pub src: AddrKey,
    pub dst: AddrKey,
    /// Ports for TCP/UDP; ICMP id in both for an echo.
    pub sport: u16,
    pub dport: u16,
    /// TCP sequence number of the quoted segment (pf checks it against
    /// the state's window).
    pub seq: Option<u32>,
    /// ICMP type of a quoted ICMP message.
    pub icmp_type: Option<u8>,
    /// Offset of the quoted IP header in the frame.
    pub ip_off: u16,
    /// Offset of the quoted transport header in the frame.
    pub l4_off: u16,
}

/// pf's view of one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pdesc {
    pub af: Af,
    /// Upper-layer protocol after the IPv6 extension-header chain.
    pub proto: u8,
    pub src: AddrKey,
    pub dst: AddrKey,
    /// TCP/UDP ports. For ICMP/ICMPv6 queries and replies pf uses the
    /// query id as both "ports" (`pd->osport = pd->odport = id`); 0 for
    /// other protocols.
    pub sport: u16,
    pub dport: u16,
    /// IPv4 TOS or IPv6 traffic class.
    pub tos: u8,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// Offset of the IP header in the frame (after Ethernet/802.1Q).
    pub l3_off: u16,
    /// Offset of the transport header in the frame.
    pub l4_off: u16,
    /// Total length of the IP packet (header + payload), as the IP header
    /// says; the frame may carry Ethernet padding beyond it.
    pub ip_len: u16,
    /// 802.1Q VLAN id, if the frame was tagged.
    pub vlan: Option<u16>,
    /// A fragment that was not reassembled: ports and flags are unknown
    /// (pf's `PF_FRAG` handling; only rules without ports match it, and
    /// `fragment` rules).
    pub fragment: bool,
    /// IPv4 options or IPv6 hop-by-hop/destination options, routing
    /// header: pf blocks these unless the rule says `allow-opts`.
    pub ip_opts: bool,
    /// ICMP/ICMPv6 type and code.
    pub icmp_type: Option<u8>,
    pub icmp_code: Option<u8>,
    pub tcp: Option<TcpInfo>,
    /// The quoted packet of an ICMP/ICMPv6 error message.
    pub icmp_inner: Option<IcmpInner>,
}

impl Pdesc {
    pub fn src_ip(&self) -> IpAddr {
        key_to_ip(self.af, self.src)
    }

    pub fn dst_ip(&self) -> IpAddr {
        key_to_ip(self.af, self.dst)
    }

    /// TCP flags, 0 for other protocols.
    pub fn tcp_flags(&self) -> u8 {
        self.tcp.map_or(0, |t| t.flags)
    }
}

/// TCP flag bits.
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PUSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// IP protocol numbers pf treats specially.
pub mod proto {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ICMPV6: u8 = 58;
}
