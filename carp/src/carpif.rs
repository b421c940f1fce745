//! One carp interface (OpenBSD's `carp_softc`): its vhosts (carpnodes),
//! the address list and key they share, and the per-interface halves of
//! the state machine (§4.3, §5, §6.1): `setrun`, master-down, sending
//! adverts, bow-out, forced state, carpdev suppression.

use crate::auth::{Authenticator, MessageInput};
use crate::config::{Balancing, CarpIfConfig};
use crate::event::{Event, Family, LinkState, LogLine, Reason, State, Transmit, GROUP_V6};
use crate::stats::CarpStats;
use crate::sysctl::{priority, Sysctl};
use crate::timing::{advert_interval_ns, master_down_ns};
use crate::vhost::{decide, Compare, Decision, Vhost};
use crate::wire::{CarpRepr, AUTHLEN, TTL, TYPE_ADVERTISEMENT, VERSION};
use std::collections::VecDeque;
use std::net::IpAddr;

/// The advskew a demoted interface shows ucarp in compat mode: ucarp has
/// no demote byte and reads only advskew (§5.6, ucarp's own 240).
pub const UCARP_DEMOTED_ADVSKEW: u8 = 240;

/// What the daemon reports about a transmitted advert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendResult {
    Sent,
    /// ENOBUFS: counted in `onomem`, not logged.
    NoBufs,
    /// EHOSTDOWN: towards a unicast `carppeer` not counted as an error.
    HostDown,
    /// Any other errno: logged as `ip_output failed: N`.
    Failed(i32),
}

/// Queued output of the whole host.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    pub transmits: VecDeque<Transmit>,
    pub events: VecDeque<Event>,
}

/// What interface methods need from the host for one call.
pub(crate) struct Ctx<'a> {
    pub now: u64,
    pub sysctl: Sysctl,
    pub stats: &'a mut CarpStats,
    pub out: &'a mut Outbox,
    /// This interface's demote count (§5.6) at the time of the call.
    pub demote: u8,
}

impl Ctx<'_> {
    pub fn log(&mut self, prio: u8, ifname: Option<&str>, text: String) {
        if self.sysctl.logs(prio) {
            self.out.events.push_back(Event::Log(LogLine {
                priority: prio,
                ifname: ifname.map(str::to_string),
                text,
            }));
        }
    }
}

/// A carp interface and its vhosts.
#[derive(Debug, Clone)]
pub struct CarpInterface {
    pub(crate) cfg: CarpIfConfig,
    pub(crate) vhosts: Vec<Vhost>,
    /// IFF_UP: administratively up.
    pub(crate) up: bool,
    /// IFF_RUNNING: up, addressed, carpdev up.
    pub(crate) running: bool,
    /// The carpdev is down (`sc_suppress`).
    pub(crate) suppressed: bool,
    /// Private demote count (`sc_demote_cnt`).
    pub(crate) demote_private: u32,
    lladdr: [u8; 6],
    /// Delayed gratuitous ARP countdown, -1 when idle.
    delayed_arp: i32,
    sendad_errors: u32,
    sendad_success: u32,
    link: LinkState,
}

fn virtual_mac(vhid: u8, multicast: bool) -> [u8; 6] {
    [u8::from(multicast), 0x00, 0x5e, 0x00, 0x01, vhid]
}

impl CarpInterface {
    /// Build from a normalized config; `cookie` draws one random counter
    /// cookie per vhost. Starts INIT and down unless it has an address
    /// (OpenBSD sets IFF_UP when an address is added).
    pub(crate) fn new(cfg: CarpIfConfig, cookie: &mut dyn FnMut() -> [u8; 8]) -> Self {
        let mut i = CarpInterface {
            up: !(cfg.v4.is_empty() && cfg.v6.is_empty()),
            cfg,
            vhosts: Vec::new(),
            running: false,
            suppressed: false,
            demote_private: 0,
            lladdr: [0; 6],
            delayed_arp: -1,
            sendad_errors: 0,
            sendad_success: 0,
            link: LinkState::Invalid,
        };
        i.rebuild_vhosts(cookie);
        i
    }

    /// (Re)create the vhosts from the config, keeping each surviving
    /// vhid's cookie, all in INIT with no timers.
    pub(crate) fn rebuild_vhosts(&mut self, cookie: &mut dyn FnMut() -> [u8; 8]) {
        let old = std::mem::take(&mut self.vhosts);
        let ip_bal = self.cfg.balancing == Balancing::Ip;
        for (n, node) in self.cfg.nodes.iter().enumerate() {
            let leader = n == 0;
            let kept = old.iter().find(|v| v.vhid == node.vhid).map(|v| v.cookie);
            self.vhosts.push(Vhost {
                vhid: node.vhid,
                advskew: node.advskew,
                leader,
                state: State::Init,
                ad_at: None,
                md4_at: None,
                md6_at: None,
                cookie: kept.unwrap_or_else(&mut *cookie),
                // Filled in by rebuild_auth below.
                auth: Authenticator::new(
                    &self.cfg.key,
                    &MessageInput {
                        vhid: node.vhid,
                        hashed_lladdr: None,
                        v4: &[],
                        v6: &[],
                    },
                ),
                mac: virtual_mac(node.vhid, leader && ip_bal),
            });
        }
        self.compute_lladdr();
        self.rebuild_auth();
        self.delayed_arp = -1;
    }

    /// `carp_set_enaddr`: the administrator's lladdr, unless unset or
    /// equal in its static bytes to the leader's virtual MAC.
    fn compute_lladdr(&mut self) {
        let leader = self.vhosts[0].mac;
        self.lladdr = match self.cfg.lladdr {
            Some(m) if m[1..5] != leader[1..5] && m != [0; 6] => m,
            _ => leader,
        };
    }

    /// The lladdr the leader hashes: only an override that is neither
    /// the leader's virtual MAC nor the carpdev's own ("realmac").
    fn hashed_lladdr(&self) -> Option<[u8; 6]> {
        let realmac = self.lladdr == self.cfg.carpdev_mac;
        (!realmac && self.lladdr != self.vhosts[0].mac).then_some(self.lladdr)
    }

    /// `carp_hmac_prepare`: both contexts for every vhost.
    pub(crate) fn rebuild_auth(&mut self) {
        let hashed = self.hashed_lladdr();
        for v in &mut self.vhosts {
            let input = MessageInput {
                vhid: v.vhid,
                hashed_lladdr: if v.leader { hashed } else { None },
                v4: &self.cfg.v4,
                v6: &self.cfg.v6,
            };
            v.auth = Authenticator::new(&self.cfg.key, &input);
        }
    }

    pub fn name(&self) -> &str {
        &self.cfg.name
    }
    pub fn config(&self) -> &CarpIfConfig {
        &self.cfg
    }
    pub fn carpdev(&self) -> &str {
        &self.cfg.carpdev
    }
    pub fn vhosts(&self) -> &[Vhost] {
        &self.vhosts
    }
    pub fn vhost(&self, vhid: u8) -> Option<&Vhost> {
        self.vhosts.iter().find(|v| v.vhid == vhid)
    }
    /// The MAC the interface answers ARP/ND with and sends from.
    pub fn lladdr(&self) -> [u8; 6] {
        self.lladdr
    }
    pub fn is_up(&self) -> bool {
        self.up
    }
    pub fn is_running(&self) -> bool {
        self.running
    }
    pub fn link_state(&self) -> LinkState {
        self.link
    }
    /// The leader's state: what `ifconfig` shows for a one-node interface.
    pub fn state(&self) -> State {
        self.vhosts[0].state
    }
    /// Should the daemon answer ARP/ND for the carp addresses and accept
    /// frames to [`Self::lladdr`]? In balancing none, only while the
    /// leader is MASTER (§4.2); in the IP balancing modes always, with
    /// [`Self::ls_accept`] filtering per packet.
    pub fn answers_arp(&self) -> bool {
        self.cfg.balancing != Balancing::None || self.vhosts[0].state == State::Master
    }

    pub(crate) fn leader_vhid(&self) -> u8 {
        self.vhosts[0].vhid
    }
    pub(crate) fn is_multicast_peer(&self) -> bool {
        self.cfg.peer_or_group().is_multicast()
    }
    fn has(&self, f: Family) -> bool {
        match f {
            Family::V4 => !self.cfg.v4.is_empty(),
            Family::V6 => !self.cfg.v6.is_empty(),
        }
    }

    /// The advskew vhost `i` advertises and compares with: its own, or
    /// in ucarp compat mode at least 240 while demoted.
    fn effective_advskew(&self, i: usize, demote: u8) -> u8 {
        let s = self.vhosts[i].advskew;
        if self.cfg.ucarp_compat && demote > 0 {
            s.max(UCARP_DEMOTED_ADVSKEW)
        } else {
            s
        }
    }

    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.vhosts.iter().filter_map(Vhost::next_deadline).min()
    }

    fn runnable(&self) -> bool {
        self.up && (self.has(Family::V4) || self.has(Family::V6)) && !self.suppressed
    }

    /// `carp_setrun`: with `af` set, restart only that family's
    /// master-down timer; with `None`, arm those of every family that has
    /// addresses (§5.7).
    pub(crate) fn setrun(&mut self, i: usize, af: Option<Family>, ctx: &mut Ctx<'_>) {
        if !self.runnable() {
            self.running = false;
            return;
        }
        self.running = true;
        match self.vhosts[i].state {
            State::Init => {
                self.set_state(i, State::Backup, Reason::Runnable, ctx);
                self.setrun(i, None, ctx);
            }
            State::Backup => {
                let md = master_down_ns(self.cfg.advbase, self.effective_advskew(i, ctx.demote));
                if self.vhosts[i].leader {
                    self.delayed_arp = -1;
                }
                let has4 = self.has(Family::V4);
                let has6 = self.has(Family::V6);
                let v = &mut self.vhosts[i];
                v.ad_at = None;
                let at = ctx.now.saturating_add(md);
                match af {
                    Some(f) => *v.md_at(f) = Some(at),
                    None => {
                        if has4 {
                            v.md4_at = Some(at);
                        }
                        if has6 {
                            v.md6_at = Some(at);
                        }
                    }
                }
            }
            State::Master => {
                let t = advert_interval_ns(self.cfg.advbase, self.effective_advskew(i, ctx.demote));
                self.vhosts[i].ad_at = Some(ctx.now.saturating_add(t));
            }
        }
    }

    pub(crate) fn setrun_all(&mut self, ctx: &mut Ctx<'_>) {
        for i in 0..self.vhosts.len() {
            self.setrun(i, None, ctx);
        }
    }

    /// `carp_set_state`: log, emit, and update the link state. Timers a
    /// state does not use are cleared here (OpenBSD leaves a stale
    /// master-down pending, which then fires as a no-op).
    pub(crate) fn set_state(&mut self, i: usize, to: State, reason: Reason, ctx: &mut Ctx<'_>) {
        let from = self.vhosts[i].state;
        if from == to {
            return;
        }
        let prio = if from == State::Init || to == State::Init {
            priority::WARNING
        } else {
            priority::CRIT
        };
        let vhid = self.vhosts[i].vhid;
        let text = if self.vhosts.len() > 1 {
            format!("state transition (vhid {vhid}): {from} -> {to}")
        } else {
            format!("state transition: {from} -> {to}")
        };
        ctx.log(prio, Some(&self.cfg.name), text);
        let v = &mut self.vhosts[i];
        v.state = to;
        match to {
            State::Init => v.clear_timers(),
            State::Backup => v.ad_at = None,
            State::Master => {
                v.md4_at = None;
                v.md6_at = None;
            }
        }
        if to != State::Master && v.leader {
            self.delayed_arp = -1;
        }
        ctx.out.events.push_back(Event::StateChanged {
            ifname: self.cfg.name.clone(),
            vhid,
            leader: self.vhosts[i].leader,
            from,
            to,
            reason,
        });
        if self.cfg.balancing != Balancing::None {
            ctx.log(
                priority::DEBUG,
                Some(&self.cfg.name),
                format!("carp_update_lsmask: {:x}", self.lsmask()),
            );
        }
        let link = if self.vhosts.iter().any(|v| v.state == State::Master) {
            LinkState::Up
        } else if self.vhosts.iter().any(|v| v.state == State::Backup) {
            LinkState::Down
        } else {
            LinkState::Invalid
        };
        if link != self.link {
            self.link = link;
            ctx.out.events.push_back(Event::LinkState {
                ifname: self.cfg.name.clone(),
                state: link,
            });
        }
    }

    pub(crate) fn set_state_all(&mut self, to: State, reason: Reason, ctx: &mut Ctx<'_>) {
        for i in 0..self.vhosts.len() {
            self.set_state(i, to, reason, ctx);
        }
    }

    /// `carp_master_down`: a BACKUP becomes MASTER, advertises at once,
    /// and (leader, balancing none) announces its addresses.
    pub(crate) fn master_down(&mut self, i: usize, reason: Reason, ctx: &mut Ctx<'_>) {
        if self.vhosts[i].state != State::Backup {
            // INIT cannot get here: its timers are cleared. MASTER: no-op.
            return;
        }
        self.set_state(i, State::Master, reason, ctx);
        self.send_ad(i, false, ctx);
        if self.cfg.balancing == Balancing::None && self.vhosts[i].leader {
            self.send_arp(ctx);
            self.delayed_arp = 2;
            self.send_na(ctx);
        }
        self.setrun(i, None, ctx);
        ctx.stats.preempt += 1;
    }

    fn send_arp(&self, ctx: &mut Ctx<'_>) {
        if self.cfg.v4.is_empty() {
            return;
        }
        ctx.out.events.push_back(Event::GratuitousArp {
            ifname: self.cfg.name.clone(),
            carpdev: self.cfg.carpdev.clone(),
            mac: self.lladdr,
            addrs: self.cfg.v4.clone(),
        });
    }

    fn send_na(&self, ctx: &mut Ctx<'_>) {
        if self.cfg.v6.is_empty() {
            return;
        }
        ctx.out.events.push_back(Event::UnsolicitedNa {
            ifname: self.cfg.name.clone(),
            carpdev: self.cfg.carpdev.clone(),
            mac: self.lladdr,
            addrs: self.cfg.v6.clone(),
        });
    }

    /// The Ethernet source of adverts: the interface lladdr for every
    /// vhost (current OpenBSD's `carp_transmit`). In balancing ip that
    /// lladdr is the multicast `01:00:5e:00:01:<vhid>`, which is no valid
    /// source; its group bit is cleared here ([unverified] against
    /// OpenBSD, spec §10).
    fn advert_src_mac(&self) -> [u8; 6] {
        let mut mac = self.lladdr;
        mac[0] &= !1;
        mac
    }

    /// `carp_send_ad`: one advert per family with addresses, the same
    /// header and HMAC in both; then re-arm the advert timer unless this
    /// is the bow-out.
    pub(crate) fn send_ad(&mut self, i: usize, bow_out: bool, ctx: &mut Ctx<'_>) {
        let (advbase, advskew) = if bow_out {
            (255, 255)
        } else {
            (self.cfg.advbase, self.effective_advskew(i, ctx.demote))
        };
        let v = &self.vhosts[i];
        let repr = CarpRepr {
            version: VERSION,
            type_: TYPE_ADVERTISEMENT,
            vhid: v.vhid,
            advskew,
            authlen: AUTHLEN,
            demote: ctx.demote,
            advbase,
            counter: u64::from_be_bytes(v.cookie),
            md: v.auth.generate(&v.cookie),
        };
        let payload = repr.to_bytes();
        let src_mac = self.advert_src_mac();
        let mk = |family, dst: IpAddr| Transmit {
            ifname: self.cfg.name.clone(),
            carpdev: self.cfg.carpdev.clone(),
            vhid: repr.vhid,
            family,
            src_mac,
            dst,
            ttl: TTL,
            payload,
        };
        if self.has(Family::V4) {
            ctx.stats.opackets += 1;
            ctx.out
                .transmits
                .push_back(mk(Family::V4, IpAddr::V4(self.cfg.peer_or_group())));
            if self.vhosts[i].leader {
                if self.delayed_arp > 0 {
                    self.delayed_arp -= 1;
                }
                if self.delayed_arp == 0 {
                    self.send_arp(ctx);
                    self.delayed_arp = -1;
                }
            }
        }
        if self.has(Family::V6) {
            ctx.stats.opackets6 += 1;
            ctx.out
                .transmits
                .push_back(mk(Family::V6, IpAddr::V6(GROUP_V6)));
        }
        if !bow_out {
            let t = advert_interval_ns(advbase, advskew);
            self.vhosts[i].ad_at = Some(ctx.now.saturating_add(t));
        }
    }

    /// `carp_vhe_send_ad_all`: every MASTER vhost advertises now.
    pub(crate) fn send_ad_all_masters(&mut self, ctx: &mut Ctx<'_>) {
        for i in 0..self.vhosts.len() {
            if self.vhosts[i].state == State::Master {
                self.send_ad(i, false, ctx);
            }
        }
    }

    /// Steps 8-11 of §3 for vhost `i` (found by vhid): version, HMAC,
    /// own cookie, then the state machine.
    pub(crate) fn input(&mut self, i: usize, af: Family, ch: &CarpRepr, ctx: &mut Ctx<'_>) {
        if ch.version != VERSION {
            ctx.stats.badver += 1;
            ctx.log(
                priority::NOTICE,
                Some(&self.cfg.name),
                format!("invalid version {} != {VERSION}", ch.version),
            );
            return;
        }
        let counter = ch.counter.to_be_bytes();
        if !self.vhosts[i].auth.verify(&counter, &ch.md) {
            ctx.stats.badauth += 1;
            ctx.log(
                priority::INFO,
                Some(&self.cfg.name),
                "incorrect hash".into(),
            );
            return;
        }
        if counter == self.vhosts[i].cookie {
            // Ethernet carpdevs are SIMPLEX, so OpenBSD counts and logs.
            ctx.stats.badauth += 1;
            ctx.log(
                priority::WARNING,
                Some(&self.cfg.name),
                "replay or network loop detected".into(),
            );
            return;
        }
        let d = decide(&Compare {
            state: self.vhosts[i].state,
            own_advbase: self.cfg.advbase,
            own_advskew: self.effective_advskew(i, ctx.demote),
            peer_advbase: ch.advbase,
            peer_advskew: ch.advskew,
            own_demote: ctx.demote,
            peer_demote: ch.demote,
            preempt: ctx.sysctl.preempt,
        });
        match d {
            Decision::Ignore => {}
            Decision::StepDown => {
                self.vhosts[i].ad_at = None;
                self.set_state(i, State::Backup, Reason::PreferredMaster, ctx);
                self.setrun(i, None, ctx);
            }
            Decision::TakeOver(r) => self.master_down(i, r, ctx),
            Decision::RestartTimer => self.setrun(i, Some(af), ctx),
        }
    }

    /// Fire every expired timer.
    pub(crate) fn timeout(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        for i in 0..self.vhosts.len() {
            if self.vhosts[i].ad_at.is_some_and(|t| t <= now) {
                self.vhosts[i].ad_at = None;
                self.send_ad(i, false, ctx);
            }
            for f in [Family::V4, Family::V6] {
                if self.vhosts[i].md_at(f).is_some_and(|t| t <= now) {
                    *self.vhosts[i].md_at(f) = None;
                    self.master_down(i, Reason::MasterDown(f), ctx);
                }
            }
        }
    }

    /// `ifconfig carpN up|down` (SIOCSIFFLAGS): going down from a
    /// non-INIT state sends the bow-out advert (advbase 255, advskew 255)
    /// for every MASTER vhost, then goes to INIT (§5.8).
    pub(crate) fn set_up(&mut self, up: bool, ctx: &mut Ctx<'_>) {
        let leader_state = self.vhosts[0].state;
        if !up && leader_state != State::Init {
            for v in &mut self.vhosts {
                v.clear_timers();
            }
            for i in 0..self.vhosts.len() {
                if self.vhosts[i].state == State::Master {
                    self.send_ad(i, true, ctx);
                }
            }
            self.up = false;
            self.set_state_all(State::Init, Reason::NotRunnable, ctx);
            self.setrun_all(ctx);
        } else if up && leader_state == State::Init {
            self.up = true;
            self.setrun_all(ctx);
        } else {
            self.up = up;
        }
    }

    /// `ifconfig carpN state backup|master`; ignored while INIT, as in
    /// OpenBSD.
    pub(crate) fn force_state(&mut self, to: State, ctx: &mut Ctx<'_>) {
        if self.vhosts[0].state == State::Init || self.vhosts[0].state == to {
            return;
        }
        match to {
            State::Backup => {
                for i in 0..self.vhosts.len() {
                    self.set_state(i, State::Backup, Reason::Forced, ctx);
                }
                self.setrun_all(ctx);
            }
            State::Master => {
                for i in 0..self.vhosts.len() {
                    self.master_down(i, Reason::Forced, ctx);
                }
            }
            State::Init => {}
        }
    }

    /// `carp_carpdev_state`: returns the demotion to apply ("carpdev"):
    /// +1 when newly suppressed, -1 when released, 0 otherwise.
    pub(crate) fn carpdev_link(&mut self, up: bool, ctx: &mut Ctx<'_>) -> i32 {
        let was = self.suppressed;
        if !up {
            self.running = false;
            for v in &mut self.vhosts {
                v.clear_timers();
            }
            self.set_state_all(State::Init, Reason::NotRunnable, ctx);
            self.suppressed = true;
            self.setrun_all(ctx);
            if was {
                0
            } else {
                1
            }
        } else if was {
            self.set_state_all(State::Init, Reason::NotRunnable, ctx);
            self.suppressed = false;
            self.setrun_all(ctx);
            -1
        } else {
            0
        }
    }

    /// Account one send outcome (`carp_send_ad`'s error bookkeeping):
    /// returns +1 when consecutive failures reach 3 × vhosts, -1 when as
    /// many successes follow, else 0.
    pub(crate) fn note_send(&mut self, family: Family, r: SendResult, ctx: &mut Ctx<'_>) -> i32 {
        let limit = 3 * self.vhosts.len() as u32;
        let failed = match r {
            SendResult::Sent => false,
            // "When unicast, the peer's down is not our fault."
            SendResult::HostDown if !self.is_multicast_peer() => false,
            SendResult::NoBufs => {
                ctx.stats.onomem += 1;
                true
            }
            SendResult::HostDown => {
                ctx.log(
                    priority::WARNING,
                    Some(&self.cfg.name),
                    self.output_failed(family, 64),
                );
                true
            }
            SendResult::Failed(e) => {
                ctx.log(
                    priority::WARNING,
                    Some(&self.cfg.name),
                    self.output_failed(family, e),
                );
                true
            }
        };
        if failed {
            self.sendad_errors = self.sendad_errors.saturating_add(1);
            self.sendad_success = 0;
            if self.sendad_errors == limit {
                return 1;
            }
        } else if self.sendad_errors >= limit {
            self.sendad_success += 1;
            if self.sendad_success >= limit {
                self.sendad_errors = 0;
                return -1;
            }
        } else {
            self.sendad_errors = 0;
        }
        0
    }

    fn output_failed(&self, family: Family, errno: i32) -> String {
        match family {
            Family::V4 => format!("ip_output failed: {errno}"),
            Family::V6 => format!("ip6_output failed: {errno}"),
        }
    }

    /// Bit n set when the n-th vhost (in vhid order) is MASTER.
    pub fn lsmask(&self) -> u32 {
        self.vhosts
            .iter()
            .enumerate()
            .filter(|(_, v)| v.state == State::Master)
            .fold(0, |m, (n, _)| m | (1 << n))
    }

    /// IP balancing (`carp_lsdrop`): should this node keep a unicast
    /// packet from `src` to `dst`? Always true outside the IP balancing
    /// modes; the daemon passes multicast and broadcast through itself.
    pub fn ls_accept(&self, src: IpAddr, dst: IpAddr) -> bool {
        if matches!(self.cfg.balancing, Balancing::None) {
            return true;
        }
        let fold = match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => u32::from(s) ^ u32::from(d),
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                let (s, d) = (s.octets(), d.octets());
                (0..4).fold(0u32, |acc, w| {
                    let r = w * 4..w * 4 + 4;
                    acc ^ u32::from_be_bytes(s[r.clone()].try_into().unwrap_or_default())
                        ^ u32::from_be_bytes(d[r].try_into().unwrap_or_default())
                })
            }
            _ => return false,
        };
        let n = self.vhosts.len() as u32;
        (1u32 << (fold % n)) & self.lsmask() != 0
    }

    /// What `ifconfig carpN` prints for carp (§6.1), without the tab.
    pub fn status_lines(&self) -> Vec<String> {
        let peer = match self.cfg.peer {
            Some(p) if p != crate::event::GROUP_V4 => format!(" carppeer {p}"),
            _ => String::new(),
        };
        if self.vhosts.len() == 1 {
            let v = &self.vhosts[0];
            vec![format!(
                "carp: {} carpdev {} vhid {} advbase {} advskew {}{peer}",
                v.state, self.cfg.carpdev, v.vhid, self.cfg.advbase, v.advskew
            )]
        } else {
            let mut out = vec![format!(
                "carp: carpdev {} advbase {} balancing {}{peer}",
                self.cfg.carpdev,
                self.cfg.advbase,
                self.cfg.balancing.name()
            )];
            for v in &self.vhosts {
                out.push(format!(
                    "\tstate {} vhid {} advskew {}",
                    v.state, v.vhid, v.advskew
                ));
            }
            out
        }
    }
}
