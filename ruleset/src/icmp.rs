//! ICMP and ICMPv6 type and code names as pf.conf spells them.

use crate::addr::Af;

const ICMP_TYPES: &[(&str, u8)] = &[
    ("echoreq", 8),
    ("echorep", 0),
    ("unreach", 3),
    ("squench", 4),
    ("redir", 5),
    ("althost", 6),
    ("routeradv", 9),
    ("routersol", 10),
    ("timex", 11),
    ("paramprob", 12),
    ("timereq", 13),
    ("timerep", 14),
    ("inforeq", 15),
    ("inforep", 16),
    ("maskreq", 17),
    ("maskrep", 18),
    ("trace", 30),
    ("dataconv", 31),
    ("mobredir", 32),
    ("ipv6-where", 33),
    ("ipv6-here", 34),
    ("mobregreq", 35),
    ("mobregrep", 36),
    ("skip", 39),
    ("photuris", 40),
];

const ICMP6_TYPES: &[(&str, u8)] = &[
    ("unreach", 1),
    ("toobig", 2),
    ("timex", 3),
    ("paramprob", 4),
    ("echoreq", 128),
    ("echorep", 129),
    ("groupqry", 130),
    ("listqry", 130),
    ("grouprep", 131),
    ("listenrep", 131),
    ("groupterm", 132),
    ("listendone", 132),
    ("routersol", 133),
    ("routeradv", 134),
    ("neighbrsol", 135),
    ("neighbradv", 136),
    ("redir", 137),
    ("routrrenum", 138),
    ("wrureq", 139),
    ("wrurep", 140),
    ("fqdnreq", 139),
    ("fqdnrep", 140),
    ("niqry", 139),
    ("nirep", 140),
    ("mtraceresp", 200),
    ("mtrace", 201),
    ("listenrepv2", 143),
];

/// (name, type, code)
const ICMP_CODES: &[(&str, u8, u8)] = &[
    ("net-unr", 3, 0),
    ("host-unr", 3, 1),
    ("proto-unr", 3, 2),
    ("port-unr", 3, 3),
    ("needfrag", 3, 4),
    ("srcfail", 3, 5),
    ("net-unk", 3, 6),
    ("host-unk", 3, 7),
    ("isolate", 3, 8),
    ("net-prohib", 3, 9),
    ("host-prohib", 3, 10),
    ("net-tos", 3, 11),
    ("host-tos", 3, 12),
    ("filter-prohib", 3, 13),
    ("host-preced", 3, 14),
    ("cutoff-preced", 3, 15),
    ("redir-net", 5, 0),
    ("redir-host", 5, 1),
    ("redir-tos-net", 5, 2),
    ("redir-tos-host", 5, 3),
    ("normal-adv", 9, 0),
    ("common-adv", 9, 16),
    ("transit", 11, 0),
    ("reassemb", 11, 1),
    ("badhead", 12, 0),
    ("optmiss", 12, 1),
    ("badlen", 12, 2),
    ("unknown-ind", 40, 1),
    ("auth-fail", 40, 2),
    ("decrypt-fail", 40, 3),
];

const ICMP6_CODES: &[(&str, u8, u8)] = &[
    ("admin-unr", 1, 1),
    ("noroute-unr", 1, 0),
    ("beyond-unr", 1, 2),
    ("addr-unr", 1, 3),
    ("port-unr", 1, 4),
    ("transit", 3, 0),
    ("reassemb", 3, 1),
    ("badhead", 4, 0),
    ("nxthdr", 4, 1),
    ("redironlink", 137, 0),
    ("redirrouter", 137, 1),
];

fn types(af: Option<Af>) -> &'static [(&'static str, u8)] {
    if af == Some(Af::Inet6) {
        ICMP6_TYPES
    } else {
        ICMP_TYPES
    }
}

fn codes(af: Option<Af>) -> &'static [(&'static str, u8, u8)] {
    if af == Some(Af::Inet6) {
        ICMP6_CODES
    } else {
        ICMP_CODES
    }
}

pub fn type_by_name(name: &str, af: Option<Af>) -> Option<u8> {
    types(af).iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

pub fn type_name(t: u8, af: Option<Af>) -> Option<&'static str> {
    types(af).iter().find(|(_, x)| *x == t).map(|(n, _)| *n)
}

pub fn code_by_name(t: u8, name: &str, af: Option<Af>) -> Option<u8> {
    codes(af)
        .iter()
        .find(|(n, ty, _)| *ty == t && *n == name)
        .map(|(_, _, c)| *c)
}

pub fn code_name(t: u8, c: u8, af: Option<Af>) -> Option<&'static str> {
    codes(af)
        .iter()
        .find(|(_, ty, co)| *ty == t && *co == c)
        .map(|(n, _, _)| *n)
}

/// Default `return-icmp` codes: port unreachable for each family.
pub const RETURN_ICMP_DEFAULT: u16 = (3 << 8) | 3;
pub const RETURN_ICMP6_DEFAULT: u16 = (1 << 8) | 4;
