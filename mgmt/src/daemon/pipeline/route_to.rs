//! pf's `pf_route`: a packet whose state says `route-to` or `reply-to`
//! leaves toward the state's next hop instead of by the routing table;
//! with `dup-to` a copy goes there and the packet goes on.
//!
//! The next hop is an address (OpenBSD since 6.9): the interface is the
//! one the routing table reaches it by, and a next hop beyond a gateway
//! is reached through that gateway. A packet routed this way inbound
//! meets pf outbound on its new interface first, as pf_route runs
//! pf_test(PF_OUT) on it; what that run says about routing is not
//! followed again (pf's guard against route-to loops). Forwarding's
//! TTL decrement and ICMP errors (time exceeded, need-frag) apply, no
//! redirect is sent; copies get neither, as pf sends no error for
//! dup-to. A next hop with no route is refused with host unreachable
//! (inbound; an outbound one is dropped and counted as unsent).

use super::{output, Pipeline};
use crate::daemon::counters::Published;
use crate::daemon::topology::{port_of, router_index};
use dataplane::engine::{Action, RouteKind, RouteTo};
use dataplane::frag::Refrag;
use dataplane::pdesc::{Dir, Pdesc};
use dataplane::router::{InPlace, NextHop, RoutedInPlace};
use dataplane::state::SyncId;
use dataplane::wire::build::ethernet_wrap;
use dataplane::wire::ethernet::EthernetFrame;
use dataplane::worker::Fate;
use std::net::IpAddr;

/// What became of a packet pf passed with a route.
pub(super) enum Routing {
    /// Sent or dropped by the route: this is its fate.
    Done(Fate),
    /// Not rerouted (dup-to, whose copy is gone): it goes on as routed.
    Continue,
}

impl Pipeline {
    /// The hop toward `next_hop`: out of the interface the routing table
    /// reaches it by, handed to it (or to the gateway it lies behind).
    fn hop_toward(&self, next_hop: IpAddr) -> Option<NextHop> {
        let h = self.router.routes.lookup_ip(next_hop)?;
        Some(NextHop {
            ifindex: h.ifindex,
            gateway: Some(h.gateway.unwrap_or(next_hop)),
        })
    }

    /// The verdict of pf inbound on `port` routed the packet (`pd`
    /// describes `frame` as pf passed it; `inbound` is what else that
    /// verdict said: the synced state it created, the fragments a
    /// reassembled packet leaves as, which pf_route6 refragments too).
    pub(super) fn route_inbound(
        &mut self,
        port: usize,
        now: u64,
        frame: &mut Vec<u8>,
        pd: &Pdesc,
        r: RouteTo,
        inbound: (Option<SyncId>, Option<Refrag>),
    ) -> Routing {
        let (created, refrag) = inbound;
        if r.kind == RouteKind::DupTo {
            self.send_copy(frame, r.next_hop, true, refrag, now);
            return Routing::Continue;
        }
        let rif = router_index(port);
        let Some(via) = self.hop_toward(r.next_hop) else {
            self.router
                .refuse_unroutable(frame, pd, rif, now, &mut self.tx);
            return Routing::Done(Fate::Drop);
        };
        let Ok(mut routed) =
            self.router
                .route_in_place_refrag(frame, rif, pd, Some(via), refrag, now, &mut self.tx)
        else {
            return Routing::Done(Fate::Drop);
        };
        let Some(oport) = port_of(via.ifindex) else {
            return Routing::Done(Fate::Drop);
        };
        let Some(&oif) = self.engine_if.get(oport) else {
            return Routing::Done(Fate::Drop);
        };
        let out = self.pf(oport, oif, Dir::Out, now, frame);
        // routed once: not again, whatever this run says
        self.last_route = None;
        if out != Action::Pass {
            return Routing::Done(Fate::Drop);
        }
        let created = self.last_created.take().or(created);
        routed.refrag = routed.refrag.or(self.last_refrag.take());
        Routing::Done(self.transmit(frame, routed, now, created))
    }

    /// The verdict of pf outbound on the egress interface routed the
    /// packet (`routed`, its forwarding so far): pf_route on an outbound
    /// packet runs no pf again.
    pub(super) fn route_outbound(
        &mut self,
        now: u64,
        frame: &mut Vec<u8>,
        mut routed: RoutedInPlace,
        r: RouteTo,
        created: Option<SyncId>,
    ) -> Routing {
        if r.kind == RouteKind::DupTo {
            self.send_copy(frame, r.next_hop, false, routed.refrag, now);
            return Routing::Continue;
        }
        let Some(via) = self.hop_toward(r.next_hop) else {
            Published::bump(&self.published.unsent);
            return Routing::Done(Fate::Drop);
        };
        routed.hop = via;
        Routing::Done(self.transmit(frame, routed, now, created))
    }

    /// Send the routed packet; one that created the synced state
    /// `created` may be held for pfsync's peer instead (`defer`).
    pub(super) fn transmit(
        &mut self,
        frame: &mut Vec<u8>,
        routed: RoutedInPlace,
        now: u64,
        created: Option<SyncId>,
    ) -> Fate {
        match self
            .router
            .transmit_in_place(frame, routed, now, &mut self.tx)
        {
            InPlace::Send { ifindex } => match port_of(ifindex) {
                Some(port) if self.deferred(port, frame, created) => Fate::Drop,
                Some(port) => Fate::Forward(port),
                None => Fate::Drop,
            },
            InPlace::Consumed(_) => Fate::Drop,
        }
    }

    /// dup-to: a copy of `frame` toward `next_hop`, through pf outbound
    /// on its interface when the original was seen inbound; a copy of a
    /// reassembled IPv6 packet (`refrag`) leaves as fragments, as
    /// pf_route6 refragments it. A copy that cannot go (no route, too
    /// big for the link, refused by pf, next hop not answering) is
    /// dropped and counted as unsent.
    fn send_copy(
        &mut self,
        frame: &[u8],
        next_hop: IpAddr,
        pf_out: bool,
        refrag: Option<Refrag>,
        now: u64,
    ) {
        if !self.sent_toward(frame, next_hop, pf_out, refrag, now) {
            Published::bump(&self.published.unsent);
        }
    }

    /// A frame the firewall sends itself (an echo reply, pf's own
    /// segments) that pf outbound passed with a route: route-to and
    /// reply-to send it toward the next hop instead (true: it is gone),
    /// dup-to a copy (false: send the frame as routed).
    pub(super) fn route_own(&mut self, frame: &[u8], now: u64) -> bool {
        let Some(r) = self.last_route.take() else {
            return false;
        };
        if r.kind == RouteKind::DupTo {
            self.send_copy(frame, r.next_hop, false, None, now);
            return false;
        }
        if !self.sent_toward(frame, r.next_hop, false, None, now) {
            Published::bump(&self.published.unsent);
        }
        true
    }

    /// Send `frame`'s packet toward `next_hop` (see [`Pipeline::hop_toward`]),
    /// through pf outbound there first if `pf_out`, as fragments if
    /// `refrag`: false when it cannot go (no route, too big for the
    /// link, refused by pf).
    fn sent_toward(
        &mut self,
        frame: &[u8],
        next_hop: IpAddr,
        pf_out: bool,
        refrag: Option<Refrag>,
        now: u64,
    ) -> bool {
        let Some(hop) = self.hop_toward(next_hop) else {
            return false;
        };
        let Some(ifc) = self.router.iface(hop.ifindex) else {
            return false;
        };
        let Some(ip) = EthernetFrame::new_checked(frame)
            .ok()
            .and_then(|e| frame.get(e.header_len()..))
        else {
            return false;
        };
        let size = refrag.map_or(ip.len(), |t| t.largest_fragment(ip.len()));
        if size > usize::from(ifc.mtu) {
            return false;
        }
        let mut copy = ethernet_wrap(ip, ifc.mac, [0; 6], ifc.vlan);
        let Some(oport) = port_of(hop.ifindex) else {
            return false;
        };
        if pf_out {
            let Some(&oif) = self.engine_if.get(oport) else {
                return false;
            };
            let out = self.pf(oport, oif, Dir::Out, now, &mut copy);
            self.last_route = None;
            if out != Action::Pass {
                return false;
            }
        }
        let frames = match refrag {
            None => vec![copy],
            Some(tag) => {
                let Some(hl) = EthernetFrame::new_checked(&copy[..])
                    .ok()
                    .map(|e| e.header_len())
                else {
                    return false;
                };
                match dataplane::frag::refragment_frame(&copy, hl, &tag) {
                    Ok(v) => v,
                    Err(_) => return false,
                }
            }
        };
        for frame in frames {
            let own = output::Own {
                hop,
                dst: next_hop,
                frame,
            };
            if let Some(f) = output::address(&mut self.router, own, now, &mut self.tx) {
                self.out.push((oport, f));
            }
        }
        true
    }
}
