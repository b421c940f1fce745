//! pf's `pf_icmp_mapping`: which ICMP messages are queries and replies
//! of a virtual connection (keyed by an id, like ports), and which are
//! errors that belong to the connection of the packet they quote.

use super::{icmp, icmpv6};
use ruleset::addr::Af;

/// What pf derives from an ICMP or ICMPv6 type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpMapping {
    /// pf's `icmp_dir == PF_IN`: a query (or a type that only ever
    /// matches its own state); false for a reply to such a query.
    pub query: bool,
    /// The query type both a query and its reply are keyed under
    /// (`ICMP_ECHO` for echo request and echo reply alike).
    pub virtual_type: u8,
    /// The id pf keys the virtual connection on (0 where there is
    /// nothing sane to key on; a hash of the address for MLD and
    /// neighbour discovery).
    pub virtual_id: u16,
    /// pf's return value: the message is matched against another
    /// connection's state (errors) or must not create state (unsolicited
    /// neighbour advertisements).
    pub state_icmp: bool,
}

/// Map the ICMP message `msg` (header first) of family `af`. Fields the
/// message is too short to hold read as zero.
pub fn icmp_mapping(af: Af, msg: &[u8]) -> IcmpMapping {
    let t = msg.first().copied().unwrap_or(0);
    let id = super::be16(msg, 4);
    let m = |query, virtual_type, virtual_id| IcmpMapping {
        query,
        virtual_type,
        virtual_id,
        state_icmp: false,
    };
    match af {
        Af::Inet => {
            use icmp::ty::*;
            match t {
                ECHO | ECHOREPLY => m(t == ECHO, ECHO, id),
                TSTAMP | TSTAMPREPLY => m(t == TSTAMP, TSTAMP, id),
                IREQ | IREQREPLY => m(t == IREQ, IREQ, id),
                MASKREQ | MASKREPLY => m(t == MASKREQ, MASKREQ, id),
                IPV6_WHEREAREYOU | IPV6_IAMHERE => m(t == IPV6_WHEREAREYOU, IPV6_WHEREAREYOU, 0),
                MOBILE_REGREQUEST | MOBILE_REGREPLY => {
                    m(t == MOBILE_REGREQUEST, MOBILE_REGREQUEST, 0)
                }
                ROUTERSOLICIT | ROUTERADVERT => m(t == ROUTERSOLICIT, ROUTERSOLICIT, 0),
                _ if icmp::is_error(t) => IcmpMapping {
                    state_icmp: true,
                    ..m(true, t, 0)
                },
                _ => m(true, t, 0),
            }
        }
        Af::Inet6 => {
            use icmpv6::ty::*;
            match t {
                ECHO_REQUEST | ECHO_REPLY => m(t == ECHO_REQUEST, ECHO_REQUEST, id),
                // A report need not follow a query, and answers it from
                // another address: both are keyed as queries.
                MLD_LISTENER_QUERY | MLD_LISTENER_REPORT => {
                    m(true, MLD_LISTENER_QUERY, addr_hash(msg))
                }
                WRUREQUEST | WRUREPLY => m(t == WRUREQUEST, WRUREQUEST, 0),
                MLD_MTRACE | MLD_MTRACE_RESP => m(t == MLD_MTRACE, MLD_MTRACE, 0),
                NEIGHBOR_SOLICIT => m(true, NEIGHBOR_SOLICIT, addr_hash(msg)),
                // An advertisement may be unsolicited: pf lets it match a
                // solicitation's state but never create one.
                NEIGHBOR_ADVERT => IcmpMapping {
                    state_icmp: true,
                    ..m(false, NEIGHBOR_SOLICIT, addr_hash(msg))
                },
                _ if icmpv6::is_error(t) => IcmpMapping {
                    state_icmp: true,
                    ..m(true, t, 0)
                },
                _ => m(true, t, 0),
            }
        }
    }
}

/// pf's fake id for MLD and neighbour discovery: the 128-bit address
/// after the header folded to 16 bits. pf folds the words in host order
/// and stores the result in a network-order port field; byte by byte
/// that is the same on either endianness, which is what this computes.
fn addr_hash(msg: &[u8]) -> u16 {
    let a: [u8; 16] = super::array(msg, 8);
    let x = |i: usize| a[i] ^ a[i + 4] ^ a[i + 8] ^ a[i + 12];
    u16::from_be_bytes([x(0) ^ x(2), x(1) ^ x(3)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::fixtures::{ICMP6_NS, ICMP_ECHO};

    #[test]
    fn echo_and_reply_share_a_key() {
        let q = icmp_mapping(Af::Inet, &ICMP_ECHO[20..]);
        assert_eq!(
            q,
            IcmpMapping {
                query: true,
                virtual_type: 8,
                virtual_id: 0x4242,
                state_icmp: false
            }
        );
        let mut reply = ICMP_ECHO[20..].to_vec();
        reply[0] = icmp::ty::ECHOREPLY;
        let r = icmp_mapping(Af::Inet, &reply);
        assert_eq!((r.query, r.virtual_type, r.virtual_id), (false, 8, 0x4242));
    }

    #[test]
    fn errors_map_elsewhere() {
        for t in [3, 4, 5, 11, 12] {
            let m = icmp_mapping(Af::Inet, &[t, 0, 0, 0, 1, 2, 3, 4]);
            assert!(m.state_icmp && m.virtual_id == 0, "type {t}");
        }
        for t in [1, 2, 3, 4] {
            assert!(icmp_mapping(Af::Inet6, &[t, 0, 0, 0, 1, 2, 3, 4]).state_icmp);
        }
        // ICMPv4 type 1 is unassigned: its own state, not an error
        assert!(!icmp_mapping(Af::Inet, &[1, 0, 0, 0, 0, 0, 0, 0]).state_icmp);
    }

    #[test]
    fn neighbour_discovery_keys_on_the_target() {
        let ns = icmp_mapping(Af::Inet6, &ICMP6_NS[40..]);
        // target 2001:db8::2: words 20010db8 0 0 2 -> 2001 ^ 0db8 ^ ... folded
        let words = [0x2001_0db8u32, 0, 0, 2];
        let h = words.iter().fold(0, |a, w| a ^ w);
        assert_eq!(ns.virtual_id, ((h >> 16) ^ (h & 0xffff)) as u16);
        assert!(ns.query && !ns.state_icmp);
        let mut na = ICMP6_NS[40..].to_vec();
        na[0] = icmpv6::ty::NEIGHBOR_ADVERT;
        let a = icmp_mapping(Af::Inet6, &na);
        assert_eq!(
            (a.query, a.virtual_type, a.virtual_id),
            (false, 135, ns.virtual_id)
        );
        assert!(a.state_icmp);
    }
}
