//! A state's route-to, reply-to or dup-to in a pfsync record: `rt`
//! (`PF_ROUTETO` 1, `PF_DUPTO` 2, `PF_REPLYTO` 3, 0 none) and `rt_addr`,
//! the next hop. The peer finds the interface by its own routing table,
//! as pf does since the next hop became an address.

use ::pfsync::state::{pf_addr, pf_addr_ip, PfAddr};
use dataplane::engine::{RouteKind, RouteTo};

const PF_NOPFROUTE: u8 = 0;
const PF_ROUTETO: u8 = 1;
const PF_DUPTO: u8 = 2;
const PF_REPLYTO: u8 = 3;

/// `rt` and `rt_addr` for a state's route.
pub(super) fn rt_out(r: Option<RouteTo>) -> (u8, PfAddr) {
    let Some(r) = r else {
        return (PF_NOPFROUTE, [0; 16]);
    };
    let rt = match r.kind {
        RouteKind::RouteTo => PF_ROUTETO,
        RouteKind::DupTo => PF_DUPTO,
        RouteKind::ReplyTo => PF_REPLYTO,
        RouteKind::None => return (PF_NOPFROUTE, [0; 16]),
    };
    (rt, pf_addr(r.next_hop))
}

/// The route a record gives its state; `Err` for an `rt` pf does not
/// send or a next hop of no family (`af` is the record's, OpenBSD's
/// number).
pub(super) fn rt_in(rt: u8, addr: &PfAddr, af: u8) -> Result<Option<RouteTo>, &'static str> {
    let kind = match rt {
        PF_NOPFROUTE => return Ok(None),
        PF_ROUTETO => RouteKind::RouteTo,
        PF_DUPTO => RouteKind::DupTo,
        PF_REPLYTO => RouteKind::ReplyTo,
        _ => return Err("route type"),
    };
    let next_hop = pf_addr_ip(addr, af).ok_or("route address family")?;
    Ok(Some(RouteTo { kind, next_hop }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::pfsync::wire::{AF_INET, AF_INET6};

    #[test]
    fn routes_go_out_and_come_back() {
        for (kind, rt) in [
            (RouteKind::RouteTo, 1),
            (RouteKind::DupTo, 2),
            (RouteKind::ReplyTo, 3),
        ] {
            for (ip, af) in [("192.0.2.254", AF_INET), ("2001:db8::1", AF_INET6)] {
                let r = RouteTo {
                    kind,
                    next_hop: ip.parse().unwrap(),
                };
                let (code, addr) = rt_out(Some(r));
                assert_eq!(code, rt);
                assert_eq!(rt_in(code, &addr, af), Ok(Some(r)));
            }
        }
        let v4 = rt_out(Some(RouteTo {
            kind: RouteKind::RouteTo,
            next_hop: "192.0.2.254".parse().unwrap(),
        }))
        .1;
        assert_eq!(
            &v4[..],
            &[192, 0, 2, 254, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(rt_out(None), (0, [0; 16]));
        assert_eq!(rt_in(0, &[9; 16], AF_INET), Ok(None));
        assert_eq!(rt_in(4, &v4, AF_INET), Err("route type"));
        assert_eq!(rt_in(1, &v4, 7), Err("route address family"));
    }
}
