//! One frame's way through the firewall, as the kernel takes it: pf
//! inbound on the interface it arrived on, then either the router's own
//! stack (ARP, echo to our addresses) or forwarding: route, pf outbound
//! on the egress interface (where `nat-to` translates), then the
//! Ethernet rewrite or a wait for the next hop's address.

mod defer;
mod route_to;

use super::carp::frame::PROTO_CARP;
use super::carp::CarpHandle;
use super::counters::{Published, RuleSnapshot, Zeroed};
use super::mail::{Mail, Mailbox};
use super::output;
use super::slot::EngineSlot;
use super::topology::{port_of, router_index};
use dataplane::engine::{Action, Emitted, Engine, Packet, RouteTo, Toward, Verdict, Worker};
use dataplane::frag::Refrag;
use dataplane::pdesc::Dir;
use dataplane::router::{Router, Tx, TxKind};
use dataplane::state::SyncId;
use dataplane::wire::frame::{parse_frame, Link, Parsed};
use dataplane::worker::Fate;
use ruleset::addr::Af;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// How often the engine's expiry, the router's timers and the published
/// counters are run: at most this often on frame arrival, and on the
/// daemon's tick while no frames come.
pub const TICK_NS: u64 = 100_000_000;

/// The most frames [`Pipeline::drain_out_while`] keeps waiting for room
/// in the transmit queues (16 steps of a 256-frame queue).
pub const OUT_BACKLOG: usize = 4096;

/// Whether packets not for the firewall itself are routed on, per
/// family (sysctl.conf's `net.inet.ip.forwarding` and
/// `net.inet6.ip6.forwarding`; OpenBSD's default is off). When off, pf
/// still sees them inbound, then they are dropped, as ip_input does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forwarding {
    pub inet: bool,
    pub inet6: bool,
}

impl Forwarding {
    fn allows(self, af: Af) -> bool {
        match af {
            Af::Inet => self.inet,
            Af::Inet6 => self.inet6,
        }
    }
}

/// The per-frame work of one worker thread.
pub struct Pipeline {
    engine: Arc<Engine>,
    /// Where a reload puts the next engine, and the generation seen.
    slot: Arc<EngineSlot>,
    seen: u64,
    worker: Worker,
    router: Router,
    /// Port index to the engine's interface index.
    engine_if: Vec<usize>,
    published: Arc<Published>,
    forwarding: Forwarding,
    tx: Vec<Tx>,
    /// Frames to send besides the one the worker forwards: (port, frame).
    out: Vec<(usize, Vec<u8>)>,
    /// Where logged packets go (`--pflog`); without it they are counted
    /// by their rules only, as pf's with no pflog interface up.
    pflog: Option<super::pflog::PflogSink>,
    /// pf's own frames that need routing (see `output`).
    own: Vec<Emitted>,
    next_tick: u64,
    /// This worker's number (where it publishes its counters).
    index: usize,
    /// Letters from and to the other workers and the CARP thread.
    mailbox: Option<Mailbox>,
    /// Where CARP adverts go, when carp interfaces are configured.
    carp: Option<CarpHandle>,
    /// Where pfsync packets go, when pfsync0 is configured.
    pfsync: Option<super::pfsync::driver::PfsyncHandle>,
    /// The clears (`-z`, `-F info`) this worker has carried out.
    zeroed: Zeroed,
    /// The route-to/reply-to/dup-to of the last verdict (see
    /// `route_to`); taken by `decide`, ignored elsewhere.
    last_route: Option<RouteTo>,
    /// The synced state the last verdict created (see `defer`); taken
    /// by `decide`, ignored elsewhere.
    last_created: Option<SyncId>,
    /// The last verdict passed an IPv6 packet pf reassembled: it leaves
    /// as fragments (pf_refragment6). Taken by `decide`.
    last_refrag: Option<Refrag>,
}

impl Pipeline {
    pub fn new(
        slot: Arc<EngineSlot>,
        router: Router,
        engine_if: Vec<usize>,
        published: Arc<Published>,
        forwarding: Forwarding,
    ) -> Pipeline {
        let seen = slot.gen();
        let engine = slot.get();
        let worker = engine.worker();
        Pipeline {
            engine,
            slot,
            seen,
            worker,
            router,
            engine_if,
            published,
            forwarding,
            tx: Vec::new(),
            out: Vec::new(),
            own: Vec::new(),
            next_tick: 0,
            index: 0,
            mailbox: None,
            carp: None,
            pfsync: None,
            zeroed: Zeroed::default(),
            last_route: None,
            last_created: None,
            last_refrag: None,
            pflog: None,
        }
    }

    /// Write what `log` rules log to pflog (`pfd run --pflog`).
    pub fn set_pflog(&mut self, sink: super::pflog::PflogSink) {
        self.pflog = Some(sink);
    }

    /// Hand the pfsync packets pf passes inbound to the pfsync thread.
    pub fn set_pfsync(&mut self, h: super::pfsync::driver::PfsyncHandle) {
        self.pfsync = Some(h);
    }

    /// Hand the adverts pf passes inbound to the CARP thread.
    pub fn set_carp(&mut self, carp: CarpHandle) {
        self.carp = Some(carp);
    }

    /// Make this pipeline worker `index` of several: what its router
    /// learns of neighbours goes to the others through `mailbox`, and
    /// what they learn it applies in [`Pipeline::mail`].
    pub fn join(&mut self, index: usize, mailbox: Mailbox) {
        self.index = index;
        self.router.neighbors.set_sharing(mailbox.peers() > 0);
        self.mailbox = Some(mailbox);
    }

    /// Read the letters from the other workers, then run the timers.
    /// Called when the worker's mail port wakes it (letters or the
    /// daemon's tick).
    pub fn mail(&mut self, now: u64) {
        if let Some(mb) = &self.mailbox {
            for m in mb.read() {
                self.letter(m, now);
            }
            self.flush_tx(now);
            self.send_own(now);
            self.flush_tx(now);
        }
        self.housekeep(now);
    }

    fn letter(&mut self, m: Mail, now: u64) {
        match m {
            Mail::Neighbor(f) => self.router.apply_neighbor_fact(&f, now, &mut self.tx),
            Mail::Send {
                port,
                mut frame,
                unicast,
            } => {
                if unicast {
                    self.own.push(Emitted {
                        frame,
                        toward: Toward::Onward,
                        generated: false,
                    });
                    return;
                }
                let Some(&eif) = self.engine_if.get(port) else {
                    return;
                };
                if self.pf(port, eif, Dir::Out, now, &mut frame) == Action::Pass {
                    self.out.push((port, frame));
                }
            }
            Mail::Release { port, frame } => self.out.push((port, frame)),
            Mail::Vip {
                ifindex,
                addrs,
                master,
            } => {
                for a in addrs {
                    if let Ok((_, mut mld)) = self.router.set_vip_state(ifindex, a, master) {
                        // one worker speaks for the box
                        if self.index == 0 {
                            self.tx.append(&mut mld);
                        }
                    }
                }
            }
            Mail::VipMac {
                ifindex,
                addrs,
                mac,
            } => {
                for a in addrs {
                    // Unknown address or bad MAC: the CARP thread built
                    // this letter from the router's own VIPs, so neither
                    // happens; nothing to undo if it did.
                    let _ = self.router.set_vip_mac(ifindex, a, mac);
                }
            }
            Mail::Announce {
                ifindex,
                mac,
                addrs,
            } => {
                for a in addrs {
                    if let Some(t) = self.router.announce(ifindex, a, mac) {
                        self.tx.push(t);
                    }
                }
            }
        }
    }

    /// Tell the other workers what the router learned.
    fn tell(&mut self) {
        if !self.router.neighbors.has_facts() {
            return;
        }
        let facts = self.router.neighbors.take_facts();
        if let Some(mb) = &self.mailbox {
            let letters: Vec<Mail> = facts.into_iter().map(Mail::Neighbor).collect();
            mb.tell_all(&letters);
        }
    }

    pub fn router(&self) -> &Router {
        &self.router
    }

    /// Gratuitous ARP (and IPv6 announcements) for every port, as at
    /// link up; they go out from the next frame or housekeeping, when
    /// pf outbound sees the IPv6 ones at the real time.
    pub fn announce(&mut self) {
        for port in 0..self.engine_if.len() {
            let idx = router_index(port);
            let mut tx = self.router.announce_all(idx);
            self.tx.append(&mut tx);
        }
    }

    /// After `pfctl -f`: the new engine (same states) and a worker for
    /// its rules.
    fn pick_up_reload(&mut self) {
        let g = self.slot.gen();
        if g != self.seen {
            self.seen = g;
            self.engine = self.slot.get();
            self.worker = self.engine.worker();
        }
    }

    /// Decide on one frame received on `port`. Frames the pipeline sends
    /// itself wait in [`Pipeline::drain_out`].
    pub fn frame(&mut self, port: usize, now: u64, frame: &mut Vec<u8>) -> Fate {
        self.pick_up_reload();
        self.housekeep(now);
        let fate = self.decide(port, now, frame);
        self.flush_tx(now);
        self.send_own(now);
        // The solicitations for what send_own holds.
        self.flush_tx(now);
        self.tell();
        fate
    }

    /// Hand every frame waiting to be sent to `send(port, frame)`.
    pub fn drain_out(&mut self, mut send: impl FnMut(usize, &[u8])) {
        self.drain_out_while(|p, f| {
            send(p, f);
            true
        });
    }

    /// Hand the frames waiting to be sent to `send(port, frame)` until it
    /// answers that a port's queue is full: that port's frames stay, in
    /// order, for the next call (the worker's next frame, letter or
    /// tick). A burst from the mailbox (pfsync's bulk update: up to 200
    /// full-MTU packets per step) then waits for the ring to drain
    /// instead of being lost. At most [`OUT_BACKLOG`] wait; past that the
    /// oldest are dropped and counted as unsent.
    pub fn drain_out_while(&mut self, mut send: impl FnMut(usize, &[u8]) -> bool) {
        if self.out.is_empty() {
            return;
        }
        let mut full = 0u64;
        let bit = |p: usize| if p < 64 { 1u64 << p } else { 0 };
        self.out.retain(|(p, f)| {
            if full & bit(*p) != 0 {
                return true;
            }
            if send(*p, f) {
                false
            } else {
                full |= bit(*p);
                true
            }
        });
        if self.out.len() > OUT_BACKLOG {
            let extra = self.out.len() - OUT_BACKLOG;
            self.out.drain(..extra);
            self.published
                .unsent
                .fetch_add(extra as u64, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Frames waiting in the pipeline for room in a transmit queue.
    pub fn backlog(&self) -> usize {
        self.out.len()
    }

    /// Timers: state expiry, neighbour retries, counters for the
    /// control socket. At most once per [`TICK_NS`]; what it sends waits
    /// in [`Pipeline::drain_out`].
    pub fn housekeep(&mut self, now: u64) {
        if now < self.next_tick {
            return;
        }
        self.next_tick = now.saturating_add(TICK_NS);
        self.engine.expire(now);
        let mut tx = self.router.poll(now);
        self.tx.append(&mut tx);
        self.flush_tx(now);
        self.send_own(now);
        self.flush_tx(now);
        self.tell();
        self.publish(now);
    }

    /// Carry out the clears asked for, then publish the counters for
    /// the control thread. A reload's new worker starts its rule
    /// counters at zero, as pf's new rules do.
    fn publish(&mut self, now: u64) {
        self.published.clock_ns.store(now, Ordering::Relaxed);
        let want = self.published.zero_requests();
        if want.rules != self.zeroed.rules {
            self.worker.eval_mut().clear_counters();
        }
        if want.status != self.zeroed.status {
            self.worker.reasons = Default::default();
        }
        self.zeroed = want;
        self.published.publish(
            self.index,
            &self.worker.reasons,
            &self.router.counters,
            want.status,
        );
        let eval = self.worker.eval();
        self.published.publish_rules(
            self.index,
            RuleSnapshot {
                engine_gen: self.seen,
                zeroed: want.rules,
                rules: eval.all_counters().to_vec(),
                default: eval.default_counters(),
            },
        );
    }

    fn decide(&mut self, port: usize, now: u64, frame: &mut Vec<u8>) -> Fate {
        let Some(&eif) = self.engine_if.get(port) else {
            return Fate::Drop;
        };
        let rif = router_index(port);
        if let Ok(Parsed::NonIp { .. }) = parse_frame(frame, Link::Ethernet) {
            // ARP (pf never sees it) or a protocol nobody here speaks,
            // which the router counts as it refuses.
            let _ = self.router.handle_local_into(frame, rif, now, &mut self.tx);
            return Fate::Drop;
        }
        let v = self.pf(port, eif, Dir::In, now, frame);
        if v != Action::Pass {
            return Fate::Drop;
        }
        let route = self.last_route.take();
        let created_in = self.last_created.take();
        let refrag = self.last_refrag.take();
        // pf may have replaced the frame (a completed reassembly) or
        // changed its destination (rdr-to): look again.
        let pd = match parse_frame(frame, Link::Ethernet) {
            Ok(Parsed::Ip(pd)) => pd,
            _ => return Fate::Drop,
        };
        if let Some(r) = route {
            if let route_to::Routing::Done(f) =
                self.route_inbound(port, now, frame, &pd, r, (created_in, refrag))
            {
                return f;
            }
        }
        if let Some(fate) = self.protocol_input(port, rif, &pd, frame) {
            return fate;
        }
        if self.router.is_local(rif, pd.dst_ip()) {
            let _ = self.router.handle_local_into(frame, rif, now, &mut self.tx);
            return Fate::Drop;
        }
        if !self.forwarding.allows(pd.af) {
            Published::bump(&self.published.cantforward);
            return Fate::Drop;
        }
        let Ok(mut routed) =
            self.router
                .route_in_place_refrag(frame, rif, &pd, None, refrag, now, &mut self.tx)
        else {
            return Fate::Drop;
        };
        let Some(oport) = port_of(routed.hop.ifindex) else {
            return Fate::Drop;
        };
        let Some(&oif) = self.engine_if.get(oport) else {
            return Fate::Drop;
        };
        if self.pf(oport, oif, Dir::Out, now, frame) != Action::Pass {
            return Fate::Drop;
        }
        // pf outbound's state is the one OpenBSD defers on; a packet
        // that made one inbound only is held for that one
        let created = self.last_created.take().or(created_in);
        // reassembled by pf outbound (pf_test on the way out)
        routed.refrag = routed.refrag.or(self.last_refrag.take());
        if let Some(r) = self.last_route.take() {
            if let route_to::Routing::Done(f) = self.route_outbound(now, frame, routed, r, created)
            {
                return f;
            }
        }
        self.transmit(frame, routed, now, created)
    }

    /// CARP adverts and pfsync packets pf passed in, to us or their
    /// group: to their thread (or dropped when that protocol is not
    /// configured). `None` for every other packet.
    fn protocol_input(
        &self,
        port: usize,
        rif: u32,
        pd: &dataplane::pdesc::Pdesc,
        frame: &[u8],
    ) -> Option<Fate> {
        let pfsync = super::pfsync::driver::PROTO_PFSYNC;
        if pd.proto != PROTO_CARP && pd.proto != pfsync {
            return None;
        }
        let dst = pd.dst_ip();
        if !dst.is_multicast() && !self.router.is_local(rif, dst) {
            return None;
        }
        let l3 = usize::from(pd.l3_off);
        let end = l3 + usize::from(pd.ip_len);
        if pd.proto == PROTO_CARP {
            if let (Some(c), Some(payload)) = (&self.carp, frame.get(usize::from(pd.l4_off)..end)) {
                c.advert(port, pd.src_ip(), dst, pd.ttl, payload);
            }
        } else if let (Some(h), Some(ip)) = (&self.pfsync, frame.get(l3..end)) {
            h.packet(port, pd.ttl, ip);
        }
        Some(Fate::Drop)
    }

    /// pf on `frame` in direction `dir` on the engine's interface `eif`
    /// (port `port`); see `count` for where the frames it emits go.
    fn pf(&mut self, port: usize, eif: usize, dir: Dir, now: u64, frame: &mut Vec<u8>) -> Action {
        self.last_route = None;
        self.last_created = None;
        self.last_refrag = None;
        // pfctl -d: routed as if pf were not there
        if !self.slot.enabled() {
            return Action::Pass;
        }
        let v = self.engine.process(
            &mut self.worker,
            now,
            &mut Packet {
                frame,
                ifindex: eif,
                dir,
            },
        );
        self.count(port, dir, v)
    }

    fn count(&mut self, port: usize, dir: Dir, v: Verdict) -> Action {
        let d = usize::from(dir == Dir::Out);
        self.last_route = v.route;
        self.last_created = v.created.filter(|_| v.action == Action::Pass);
        self.last_refrag = v.refrag;
        match v.action {
            Action::Pass => Published::bump(&self.published.passed[d]),
            Action::Block => Published::bump(&self.published.blocked[d]),
            Action::Held => {}
        }
        if let (Some(l), Some(sink)) = (v.log, &self.pflog) {
            if !sink.log(*l) {
                Published::bump(&self.published.pflog_dropped);
            }
        }
        for e in v.emit {
            // A reply to an inbound packet goes back where it came from,
            // its Ethernet header already the packet's turned round;
            // the rest is routed (`send_own`).
            if dir == Dir::In && e.toward == Toward::Sender {
                Published::bump(&self.published.replies);
                self.out.push((port, e.frame));
            } else {
                self.own.push(e);
            }
        }
        v.action
    }

    /// Route pf's own frames: replies to outbound packets, synproxy's
    /// segments. Those pf marks generated leave as built; the others run
    /// through pf outbound on their egress interface first, as pf sends
    /// them through ip_output. What those runs emit in turn is not sent.
    fn send_own(&mut self, now: u64) {
        let own = std::mem::take(&mut self.own);
        for e in own {
            let Some(mut r) = output::route(&self.router, &e.frame) else {
                Published::bump(&self.published.unsent);
                continue;
            };
            let Some(oport) = port_of(r.hop.ifindex) else {
                continue;
            };
            if !e.generated {
                let Some(&eif) = self.engine_if.get(oport) else {
                    continue;
                };
                if self.pf(oport, eif, Dir::Out, now, &mut r.frame) != Action::Pass {
                    continue;
                }
                if self.route_own(&r.frame, now) {
                    continue;
                }
            }
            if e.toward == Toward::Sender {
                Published::bump(&self.published.replies);
            }
            if let Some(f) = output::address(&mut self.router, r, now, &mut self.tx) {
                self.out.push((oport, f));
            }
        }
        for _ in self.own.drain(..) {
            Published::bump(&self.published.unsent);
        }
    }

    /// Send what the router produced; pf outbound sees the packets it
    /// originated (echo replies, ICMP errors) first, as ip_output runs
    /// pf on them.
    fn flush_tx(&mut self, now: u64) {
        let tx = std::mem::take(&mut self.tx);
        for mut t in tx {
            let Some(port) = port_of(t.ifindex) else {
                continue;
            };
            if t.kind == TxKind::Originated {
                let Some(&eif) = self.engine_if.get(port) else {
                    continue;
                };
                if self.pf(port, eif, Dir::Out, now, &mut t.frame) != Action::Pass {
                    continue;
                }
                if self.route_own(&t.frame, now) {
                    continue;
                }
            }
            self.out.push((port, t.frame));
        }
    }
}
