//! Frames pf sends itself that do not simply go back out of the port
//! the packet came in by: replies to packets pf blocked outbound, and
//! synproxy's segments toward the server. The kernel sends those with
//! ip_output, routed by their destination; so does this: a route
//! lookup, a new Ethernet header for the egress interface, the next
//! hop's address (or a wait for it, in the router's neighbour cache).

use dataplane::router::{NextHop, Resolve, Router, Tx, TxKind};
use dataplane::wire::build::ethernet_wrap;
use dataplane::wire::ethernet::EthernetFrame;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A frame routed, its Ethernet destination not yet known.
pub struct Own {
    pub hop: NextHop,
    pub dst: IpAddr,
    pub frame: Vec<u8>,
}

/// The IP destination of an IPv4 or IPv6 packet.
fn ip_dst(ip: &[u8]) -> Option<IpAddr> {
    match ip.first()? >> 4 {
        4 => {
            let a: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            Some(IpAddr::V4(Ipv4Addr::from(a)))
        }
        6 => {
            let a: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(a)))
        }
        _ => None,
    }
}

/// Route the packet in `frame` (an Ethernet frame as the engine built
/// it) by its destination: `None` when there is no route.
pub fn route(router: &Router, frame: &[u8]) -> Option<Own> {
    let hl = EthernetFrame::new_checked(frame).ok()?.header_len();
    let ip = frame.get(hl..)?;
    let dst = ip_dst(ip)?;
    let hop = router.routes.lookup_ip(dst)?;
    let ifc = router.iface(hop.ifindex)?;
    Some(Own {
        hop,
        dst,
        frame: ethernet_wrap(ip, ifc.mac, [0; 6], ifc.vlan),
    })
}

/// Address a routed frame to its next hop: `Some` to send now; `None`
/// when it waits for the next hop to answer (the solicitation is in
/// `tx`) or the next hop did not answer lately.
pub fn address(router: &mut Router, own: Own, now: u64, tx: &mut Vec<Tx>) -> Option<Vec<u8>> {
    let Own {
        hop,
        dst,
        mut frame,
    } = own;
    let nbr = hop.neighbor(dst);
    match router.neighbors.resolve(hop.ifindex, nbr, now) {
        Resolve::Known(m) => {
            if let Some(d) = frame.get_mut(..6) {
                d.copy_from_slice(&m);
            }
            Some(frame)
        }
        Resolve::Pending => {
            // Released with the next hop's answer; pf has seen it (or
            // must not: it is pf's own).
            let held = Tx {
                ifindex: hop.ifindex,
                frame,
                kind: TxKind::Forwarded,
            };
            router.neighbors.hold(hop.ifindex, nbr, held);
            let mut due = router.poll(now);
            tx.append(&mut due);
            None
        }
        Resolve::Failed => None,
    }
}
