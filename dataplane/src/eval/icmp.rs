//! How pf sorts ICMP messages for rule matching (`pf_icmp_mapping`): a
//! query may create state, a reply or an error may not, and an error
//! (or an IPv6 neighbour advertisement) never matches a stateful rule
//! because it belongs to another connection's state.

use ruleset::addr::Af;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct IcmpClass {
    /// pf's `state_icmp`: the message refers to another connection.
    pub error: bool,
    /// pf's `icmp_dir == PF_IN`: a query, or a type with its own state.
    pub query: bool,
}

pub(super) const ND_NEIGHBOR_ADVERT: u8 = 136;

pub(super) fn classify(af: Af, icmp_type: u8) -> IcmpClass {
    let (error, query) = match af {
        Af::Inet => match icmp_type {
            // echo, timestamp, info, mask, where-are-you, mobile
            // registration, router solicitation requests.
            8 | 13 | 15 | 17 | 33 | 35 | 10 => (false, true),
            // Their replies.
            0 | 14 | 16 | 18 | 34 | 36 | 9 => (false, false),
            // unreach, source quench, redirect, time exceeded, param prob.
            3 | 4 | 5 | 11 | 12 => (true, true),
            _ => (false, true),
        },
        Af::Inet6 => match icmp_type {
            // echo request, MLD query and report, who-are-you, mtrace,
            // neighbour solicitation.
            128 | 130 | 131 | 139 | 201 | 135 => (false, true),
            // echo reply, who-are-you reply, mtrace response.
            129 | 140 | 200 => (false, false),
            ND_NEIGHBOR_ADVERT => (true, false),
            // dst unreach, packet too big, time exceeded, param prob.
            1..=4 => (true, true),
            _ => (false, true),
        },
    };
    IcmpClass { error, query }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_request_is_a_query_and_reply_is_not() {
        assert_eq!(
            classify(Af::Inet, 8),
            IcmpClass {
                error: false,
                query: true
            }
        );
        assert!(!classify(Af::Inet, 0).query);
        assert!(classify(Af::Inet, 3).error);
        assert!(classify(Af::Inet6, 128).query);
        assert!(!classify(Af::Inet6, 129).query);
        assert!(classify(Af::Inet6, ND_NEIGHBOR_ADVERT).error);
        assert!(classify(Af::Inet6, 2).error);
    }
}
