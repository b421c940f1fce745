//! [`CarpHost`]: all of one machine's CARP (what OpenBSD keeps in
//! globals): the sysctls, carpstats, the demotion groups and every carp
//! interface on every carpdev. It is the sans-IO endpoint the daemon
//! drives: `handle_*` in, `poll_*` out, `now` on every call.

use crate::carpif::{CarpInterface, Ctx, Outbox, SendResult};
use crate::config::{CarpIfConfig, ConfigError};
use crate::demote::{DemoteError, DemoteGroups, GROUP_ALL, GROUP_CARP};
use crate::event::{Event, Family, Reason, State, Transmit};
use crate::stats::CarpStats;
use crate::sysctl::{priority, Sysctl};
use crate::wire::{CarpPacket, CarpRepr, TTL};
use std::net::IpAddr;

/// A received CARP advert as the daemon's socket saw it: the IP header's
/// facts and the IP payload.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// The parent interface it arrived on.
    pub carpdev: &'a str,
    pub src: IpAddr,
    /// 224.0.0.18, ff02::12, or one of our unicast addresses (carppeer).
    /// Its family is the advert's family.
    pub dst: IpAddr,
    /// TTL / hop limit.
    pub ttl: u8,
    /// The bytes after the IP header (and any IPv6 extension headers).
    pub payload: &'a [u8],
}

/// The whole CARP of one host.
#[derive(Debug)]
pub struct CarpHost {
    sysctl: Sysctl,
    stats: CarpStats,
    demote: DemoteGroups,
    /// Ordered by carpdev, then leader vhid: OpenBSD's lookup order.
    ifaces: Vec<CarpInterface>,
    out: Outbox,
    rng: u64,
}

/// splitmix64: cookies only need to differ between hosts and vhosts
/// (they detect our own adverts looping back, §2.5); the seed the daemon
/// passes comes from the OS's random source.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl CarpHost {
    /// `seed`: 64 random bits from the OS, for the counter cookies.
    pub fn new(sysctl: Sysctl, seed: u64) -> Self {
        CarpHost {
            sysctl,
            stats: CarpStats::default(),
            demote: DemoteGroups::default(),
            ifaces: Vec::new(),
            out: Outbox::default(),
            rng: seed,
        }
    }

    pub fn sysctl(&self) -> Sysctl {
        self.sysctl
    }
    /// Takes effect on the next advert or timer; like OpenBSD, nothing is
    /// re-evaluated at once.
    pub fn set_sysctl(&mut self, s: Sysctl) {
        self.sysctl = s;
    }
    pub fn stats(&self) -> &CarpStats {
        &self.stats
    }
    pub fn interfaces(&self) -> &[CarpInterface] {
        &self.ifaces
    }
    pub fn interface(&self, name: &str) -> Option<&CarpInterface> {
        self.ifaces.iter().find(|i| i.name() == name)
    }
    /// The demote count a carp interface advertises (§5.6).
    pub fn demote_count(&self, name: &str) -> Option<u8> {
        let i = self.find(name)?;
        Some(self.demote_of(i))
    }
    /// `ifconfig -g G` prints `G: carp demote count N`.
    pub fn group_demote(&self, group: &str) -> u32 {
        self.demote.get(group)
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.ifaces.iter().position(|i| i.name() == name)
    }

    fn groups_of(i: &CarpInterface) -> impl Iterator<Item = &str> {
        [GROUP_ALL, GROUP_CARP]
            .into_iter()
            .chain(i.cfg.groups.iter().map(String::as_str))
    }

    fn demote_of(&self, i: usize) -> u8 {
        let ifc = &self.ifaces[i];
        self.demote.count(Self::groups_of(ifc), ifc.demote_private)
    }

    /// Run `f` on interface `i` with a context holding its demote count.
    fn with_if<R>(
        &mut self,
        now: u64,
        i: usize,
        f: impl FnOnce(&mut CarpInterface, &mut Ctx<'_>) -> R,
    ) -> R {
        let demote = self.demote_of(i);
        let mut ctx = Ctx {
            now,
            sysctl: self.sysctl,
            stats: &mut self.stats,
            out: &mut self.out,
            demote,
        };
        f(&mut self.ifaces[i], &mut ctx)
    }

    fn log(&mut self, prio: u8, ifname: Option<&str>, text: String) {
        let mut ctx = Ctx {
            now: 0,
            sysctl: self.sysctl,
            stats: &mut self.stats,
            out: &mut self.out,
            demote: 0,
        };
        ctx.log(prio, ifname, text);
    }

    fn check_vhids(&self, cfg: &CarpIfConfig, skip: Option<usize>) -> Result<(), ConfigError> {
        for (n, other) in self.ifaces.iter().enumerate() {
            if Some(n) == skip || other.carpdev() != cfg.carpdev {
                continue;
            }
            for node in &cfg.nodes {
                if other.vhost(node.vhid).is_some() {
                    return Err(ConfigError::VhidInUse {
                        name: cfg.name.clone(),
                        vhid: node.vhid,
                        other: other.name().to_string(),
                        carpdev: cfg.carpdev.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    fn sort(&mut self) {
        self.ifaces
            .sort_by(|a, b| (a.carpdev(), a.leader_vhid()).cmp(&(b.carpdev(), b.leader_vhid())));
    }

    /// Create a carp interface (`ifconfig carpN create` plus its
    /// parameters). With addresses it comes up, goes INIT -> BACKUP and
    /// arms its master-down timers.
    pub fn add_interface(&mut self, now: u64, cfg: CarpIfConfig) -> Result<(), ConfigError> {
        let cfg = cfg.normalized()?;
        if self.find(&cfg.name).is_some() {
            return Err(ConfigError::Exists(cfg.name));
        }
        self.check_vhids(&cfg, None)?;
        let name = cfg.name.clone();
        let rng = &mut self.rng;
        let ifc = CarpInterface::new(cfg, &mut || nonzero_cookie(rng));
        self.ifaces.push(ifc);
        self.sort();
        let i = self.find(&name).ok_or(ConfigError::NoSuchInterface(name))?;
        self.with_if(now, i, |ifc, ctx| ifc.setrun_all(ctx));
        Ok(())
    }

    /// Apply a new configuration to an existing interface. A change of
    /// vhids, addresses, key, lladdr, carpdev or balancing resets its
    /// vhosts to INIT (§5.1); advbase, advskew, carppeer and groups apply
    /// in place.
    pub fn reconfigure(&mut self, now: u64, cfg: CarpIfConfig) -> Result<(), ConfigError> {
        let cfg = cfg.normalized()?;
        let i = self
            .find(&cfg.name)
            .ok_or_else(|| ConfigError::NoSuchInterface(cfg.name.clone()))?;
        self.check_vhids(&cfg, Some(i))?;
        let old = self.ifaces[i].cfg.clone();
        let vhids = |c: &CarpIfConfig| c.nodes.iter().map(|n| n.vhid).collect::<Vec<_>>();
        let reset = vhids(&old) != vhids(&cfg)
            || old.v4 != cfg.v4
            || old.v6 != cfg.v6
            || old.key != cfg.key
            || old.lladdr != cfg.lladdr
            || old.carpdev != cfg.carpdev
            || old.carpdev_mac != cfg.carpdev_mac
            || old.balancing != cfg.balancing;
        // Group membership carries the private demote count along
        // (`carp_ifgroup_ioctl`).
        let private = self.ifaces[i].demote_private;
        if private > 0 {
            let left: Vec<&str> = old
                .groups
                .iter()
                .filter(|g| !cfg.groups.contains(g))
                .map(String::as_str)
                .collect();
            let joined: Vec<&str> = cfg
                .groups
                .iter()
                .filter(|g| !old.groups.contains(g))
                .map(String::as_str)
                .collect();
            self.demote.adjust(left, -(private as i32));
            self.demote.adjust(joined, private as i32);
        }
        let name = cfg.name.clone();
        let had_addr = !(old.v4.is_empty() && old.v6.is_empty());
        let has_addr = !(cfg.v4.is_empty() && cfg.v6.is_empty());
        let demote = self.demote_of(i);
        let rng = &mut self.rng;
        let mut ctx = Ctx {
            now,
            sysctl: self.sysctl,
            stats: &mut self.stats,
            out: &mut self.out,
            demote,
        };
        let ifc = &mut self.ifaces[i];
        if reset {
            ifc.set_state_all(State::Init, Reason::Reconfigured, &mut ctx);
            ifc.cfg = cfg;
            ifc.rebuild_vhosts(&mut || nonzero_cookie(rng));
        } else {
            ifc.cfg = cfg;
            for (v, n) in ifc.vhosts.iter_mut().zip(&ifc.cfg.nodes) {
                v.advskew = n.advskew;
            }
        }
        if !has_addr {
            ifc.up = false;
            ifc.set_state_all(State::Init, Reason::NotRunnable, &mut ctx);
        } else if !had_addr {
            ifc.up = true;
        }
        // A new carpdev starts unsuppressed (the daemon reports its link
        // with set_carpdev_link); the old one's "carpdev" demotion goes.
        let released = old.carpdev != ifc.cfg.carpdev && ifc.suppressed;
        if released {
            ifc.suppressed = false;
        }
        ifc.setrun_all(&mut ctx);
        self.sort();
        if released {
            self.demote_interface(now, &name, -1, "carpdev")?;
        }
        Ok(())
    }

    /// `ifconfig carpN destroy`: brought down first (bow-out), then its
    /// private demotion leaves its groups.
    pub fn remove_interface(&mut self, now: u64, name: &str) -> Result<(), ConfigError> {
        let i = self
            .find(name)
            .ok_or_else(|| ConfigError::NoSuchInterface(name.to_string()))?;
        self.with_if(now, i, |ifc, ctx| ifc.set_up(false, ctx));
        let private = self.ifaces[i].demote_private;
        if private > 0 {
            self.demote_interface(now, name, -(private as i32), "detach")?;
        }
        self.ifaces.remove(i);
        Ok(())
    }

    /// `ifconfig carpN up|down`. Down sends the bow-out advert for each
    /// MASTER vhost (§5.8): the clean-shutdown path.
    pub fn set_interface_up(&mut self, now: u64, name: &str, up: bool) -> Result<(), ConfigError> {
        let i = self
            .find(name)
            .ok_or_else(|| ConfigError::NoSuchInterface(name.to_string()))?;
        self.with_if(now, i, |ifc, ctx| ifc.set_up(up, ctx));
        Ok(())
    }

    /// Clean shutdown of the daemon: every carp interface goes down,
    /// bowing out where MASTER.
    pub fn shutdown(&mut self, now: u64) {
        for i in 0..self.ifaces.len() {
            self.with_if(now, i, |ifc, ctx| ifc.set_up(false, ctx));
        }
    }

    /// `ifconfig carpN state master|backup`.
    pub fn force_state(&mut self, now: u64, name: &str, state: State) -> Result<(), ConfigError> {
        let i = self
            .find(name)
            .ok_or_else(|| ConfigError::NoSuchInterface(name.to_string()))?;
        self.with_if(now, i, |ifc, ctx| ifc.force_state(state, ctx));
        Ok(())
    }

    /// The carpdev's link went down/up (or lost/regained IFF_UP): its
    /// carp interfaces go INIT and are demoted by 1 ("carpdev") while it
    /// is down.
    pub fn set_carpdev_link(&mut self, now: u64, carpdev: &str, up: bool) {
        for i in 0..self.ifaces.len() {
            if self.ifaces[i].carpdev() != carpdev {
                continue;
            }
            let adj = self.with_if(now, i, |ifc, ctx| ifc.carpdev_link(up, ctx));
            if adj != 0 {
                let name = self.ifaces[i].name().to_string();
                let _ = self.demote_interface(now, &name, adj, "carpdev");
            }
        }
    }

    /// `carp_group_demote_adj` on a carp interface: its private count and
    /// every group it is in (but `all`) move by `delta`, never below 0.
    pub fn demote_interface(
        &mut self,
        now: u64,
        name: &str,
        delta: i32,
        reason: &str,
    ) -> Result<(), ConfigError> {
        let i = self
            .find(name)
            .ok_or_else(|| ConfigError::NoSuchInterface(name.to_string()))?;
        let ifc = &mut self.ifaces[i];
        ifc.demote_private = (i64::from(ifc.demote_private) + i64::from(delta)).max(0) as u32;
        let groups: Vec<String> = Self::groups_of(&self.ifaces[i])
            .map(str::to_string)
            .collect();
        self.adjust_groups(now, name, &groups, delta, reason);
        Ok(())
    }

    /// `carp_group_demote_adj` on a non-carp interface (`pfsync0`, which
    /// is in group `carp`: +32 "pfsync start" during a bulk update, -32
    /// when it completes), given the groups it is in.
    pub fn demote_groups(
        &mut self,
        now: u64,
        ifname: &str,
        groups: &[&str],
        delta: i32,
        reason: &str,
    ) {
        let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        self.adjust_groups(now, ifname, &groups, delta, reason);
    }

    fn adjust_groups(
        &mut self,
        now: u64,
        ifname: &str,
        groups: &[String],
        delta: i32,
        reason: &str,
    ) {
        let (adjusted, need_ad) = self.demote.adjust(groups.iter().map(String::as_str), delta);
        for a in adjusted {
            self.log(
                priority::ERR,
                None,
                format!(
                    "{ifname} demoted group {} by {delta} to {} ({reason})",
                    a.group, a.new
                ),
            );
        }
        if need_ad {
            self.send_ad_all(now);
        }
    }

    /// `carp_send_ad_all`: every MASTER vhost of every up and running
    /// carp interface advertises now, so peers see a new demotion.
    fn send_ad_all(&mut self, now: u64) {
        for i in 0..self.ifaces.len() {
            if self.ifaces[i].up && self.ifaces[i].running {
                self.with_if(now, i, |ifc, ctx| ifc.send_ad_all_masters(ctx));
            }
        }
    }

    /// `ifconfig -g GROUP [-]carpdemote N`: refused outside 0..=255;
    /// on a positive change the members that are up and running send
    /// their MASTER adverts at once.
    pub fn set_group_demote(
        &mut self,
        now: u64,
        group: &str,
        delta: i32,
    ) -> Result<u32, DemoteError> {
        let v = self.demote.set_attr(group, delta)?;
        if delta > 0 {
            for i in 0..self.ifaces.len() {
                let member = Self::groups_of(&self.ifaces[i]).any(|g| g == group);
                if member && self.ifaces[i].up && self.ifaces[i].running {
                    self.with_if(now, i, |ifc, ctx| ifc.send_ad_all_masters(ctx));
                }
            }
        }
        Ok(v)
    }

    /// The daemon's report on one [`Transmit`]: after 3 × vhosts
    /// consecutive failures the interface is demoted by 1 ("> snderrors"),
    /// after as many successes the demotion is lifted.
    pub fn report_send(&mut self, now: u64, ifname: &str, family: Family, result: SendResult) {
        let Some(i) = self.find(ifname) else { return };
        let adj = self.with_if(now, i, |ifc, ctx| ifc.note_send(family, result, ctx));
        let reason = match (adj, family) {
            (1, Family::V4) => "> snderrors",
            (1, Family::V6) => "> snd6errors",
            (_, Family::V4) => "< snderrors",
            (_, Family::V6) => "< snd6errors",
        };
        if adj != 0 {
            let _ = self.demote_interface(now, ifname, adj, reason);
        }
    }

    /// One received advert, validated in OpenBSD's order (§3) with every
    /// drop counted, then handed to the state machine.
    pub fn handle_advert(&mut self, now: u64, rx: &Received<'_>) {
        let af = match rx.dst {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        };
        match af {
            Family::V4 => self.stats.ipackets += 1,
            Family::V6 => self.stats.ipackets6 += 1,
        }
        if !self.sysctl.allow {
            return;
        }
        let ismulti = match rx.dst {
            IpAddr::V4(d) => d.is_multicast(),
            IpAddr::V6(d) => d.is_multicast(),
        };
        // Step 3. OpenBSD hands multicast (and all IPv6) adverts to the
        // carp interfaces that are up; unicast ones (carppeer) to the
        // parent, which must have carp interfaces.
        let mut on_dev = self.ifaces.iter().filter(|i| i.carpdev() == rx.carpdev);
        let reachable = if ismulti || af == Family::V6 {
            on_dev.any(|i| i.up)
        } else {
            on_dev.next().is_some()
        };
        if !reachable {
            self.stats.badif += 1;
            self.log(
                priority::INFO,
                None,
                format!("packet received on non-carp interface: {}", rx.carpdev),
            );
            return;
        }
        if rx.ttl != TTL {
            self.stats.badttl += 1;
            self.log(
                priority::NOTICE,
                None,
                format!("received ttl {} != {TTL} on {}", rx.ttl, rx.carpdev),
            );
            return;
        }
        let packet = match CarpPacket::new_checked(rx.payload) {
            Ok(p) => p,
            Err(_) => {
                self.stats.badlen += 1;
                let text = match af {
                    Family::V4 => {
                        format!("packet too short {} on {}", rx.payload.len(), rx.carpdev)
                    }
                    Family::V6 => format!("packet size {} too small", rx.payload.len()),
                };
                self.log(priority::INFO, None, text);
                return;
            }
        };
        let ch = match CarpRepr::parse(&packet) {
            Ok(ch) => ch,
            Err(_) => {
                self.stats.badsum += 1;
                let text = match af {
                    Family::V4 => format!("checksum failed on {}", rx.carpdev),
                    Family::V6 => format!("checksum failed, on {}", rx.carpdev),
                };
                self.log(priority::INFO, None, text);
                return;
            }
        };
        // Step 7: the first carp interface on this carpdev whose
        // unicast/multicast-ness of peer matches (IPv4), holding the vhid.
        let found = self.ifaces.iter().enumerate().find_map(|(n, ifc)| {
            if ifc.carpdev() != rx.carpdev
                || (af == Family::V4 && ismulti != ifc.is_multicast_peer())
            {
                return None;
            }
            ifc.vhosts
                .iter()
                .position(|v| v.vhid == ch.vhid)
                .map(|k| (n, k))
        });
        let Some((n, k)) = found.filter(|(n, _)| self.ifaces[*n].up && self.ifaces[*n].running)
        else {
            self.stats.badvhid += 1;
            return;
        };
        self.with_if(now, n, |ifc, ctx| ifc.input(k, af, &ch, ctx));
    }

    /// Fire every timer due at `now`.
    pub fn handle_timeout(&mut self, now: u64) {
        for i in 0..self.ifaces.len() {
            if self.ifaces[i].next_deadline().is_some_and(|t| t <= now) {
                self.with_if(now, i, |ifc, ctx| ifc.timeout(ctx));
            }
        }
    }

    /// The earliest deadline: call [`Self::handle_timeout`] then.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.ifaces
            .iter()
            .filter_map(CarpInterface::next_deadline)
            .min()
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.out.events.pop_front()
    }
}

fn nonzero_cookie(rng: &mut u64) -> [u8; 8] {
    // OpenBSD draws again while the cookie is zero (`!vhe_replay_cookie`).
    loop {
        let c = splitmix(rng);
        if c != 0 {
            return c.to_be_bytes();
        }
    }
}
