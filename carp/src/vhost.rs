//! One vhost (one vhid, a carpnode): its state, timers, counter cookie and
//! HMAC contexts, and the pure decision OpenBSD takes on a valid advert
//! (spec §5.4).

use crate::auth::Authenticator;
use crate::event::{Family, Reason, State};
use crate::timing::AdvInterval;

/// One vhost's mutable state. Timers are absolute deadlines on the
/// caller's monotonic clock, `None` when not armed.
#[derive(Debug, Clone)]
pub struct Vhost {
    pub(crate) vhid: u8,
    pub(crate) advskew: u8,
    pub(crate) leader: bool,
    pub(crate) state: State,
    /// The advertisement timer (`ad_tmo`), armed only in MASTER.
    pub(crate) ad_at: Option<u64>,
    /// The IPv4 master-down timer (`md_tmo`), armed only in BACKUP.
    pub(crate) md4_at: Option<u64>,
    /// The IPv6 master-down timer (`md6_tmo`), armed only in BACKUP.
    pub(crate) md6_at: Option<u64>,
    /// OpenBSD's replay cookie: random, chosen once, never changed
    /// (§2.5); an advert carrying it is our own looped back.
    pub(crate) cookie: [u8; 8],
    pub(crate) auth: Authenticator,
    /// The virtual MAC `00:00:5e:00:01:<vhid>` (`01:…` for the leader in
    /// balancing ip).
    pub(crate) mac: [u8; 6],
}

impl Vhost {
    pub fn vhid(&self) -> u8 {
        self.vhid
    }
    pub fn advskew(&self) -> u8 {
        self.advskew
    }
    pub fn state(&self) -> State {
        self.state
    }
    pub fn is_leader(&self) -> bool {
        self.leader
    }
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }
    pub fn cookie(&self) -> u64 {
        u64::from_be_bytes(self.cookie)
    }

    pub(crate) fn clear_timers(&mut self) {
        self.ad_at = None;
        self.md4_at = None;
        self.md6_at = None;
    }

    pub(crate) fn md_at(&mut self, f: Family) -> &mut Option<u64> {
        match f {
            Family::V4 => &mut self.md4_at,
            Family::V6 => &mut self.md6_at,
        }
    }

    /// The earliest armed deadline.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        [self.ad_at, self.md4_at, self.md6_at]
            .into_iter()
            .flatten()
            .min()
    }
}

/// What a valid advert makes a vhost do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// INIT, or a MASTER hearing a less preferred master: nothing.
    Ignore,
    /// MASTER hearing a master at least as preferred: stop advertising,
    /// go to BACKUP, arm the master-down timers of all families.
    StepDown,
    /// BACKUP: run master-down now, for this reason.
    TakeOver(Reason),
    /// BACKUP: restart the master-down timer of the advert's family.
    RestartTimer,
}

/// The inputs of OpenBSD's comparison.
#[derive(Debug, Clone, Copy)]
pub struct Compare {
    pub state: State,
    /// Our advbase and (effective) advskew.
    pub own_advbase: u8,
    pub own_advskew: u8,
    pub peer_advbase: u8,
    pub peer_advskew: u8,
    /// `D`: our demote count.
    pub own_demote: u8,
    /// `d`: the advert's demote byte.
    pub peer_demote: u8,
    /// `net.inet.carp.preempt`.
    pub preempt: bool,
}

/// OpenBSD's table (§5.4). There is no IP-address tie-break: equal
/// intervals and demotion make a master step down, and a backup never
/// preempts an equal interval.
pub fn decide(c: &Compare) -> Decision {
    let own = AdvInterval::new(c.own_advbase, c.own_advskew);
    let peer = AdvInterval::new(c.peer_advbase, c.peer_advskew);
    let (d_own, d_peer) = (c.own_demote, c.peer_demote);
    match c.state {
        State::Init => Decision::Ignore,
        State::Master => {
            if (own >= peer && d_peer <= d_own) || d_peer < d_own {
                Decision::StepDown
            } else {
                Decision::Ignore
            }
        }
        State::Backup => {
            if c.preempt && own < peer && d_peer >= d_own {
                Decision::TakeOver(Reason::Preempt)
            } else if d_peer > d_own {
                Decision::TakeOver(Reason::PeerDemoted)
            } else if c.own_advbase != 0 && own.times_three_seconds() < peer {
                Decision::TakeOver(Reason::PeerWillTimeOut)
            } else {
                Decision::RestartTimer
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(state: State, own: (u8, u8, u8), peer: (u8, u8, u8), preempt: bool) -> Decision {
        decide(&Compare {
            state,
            own_advbase: own.0,
            own_advskew: own.1,
            own_demote: own.2,
            peer_advbase: peer.0,
            peer_advskew: peer.1,
            peer_demote: peer.2,
            preempt,
        })
    }

    #[test]
    fn init_ignores_everything() {
        assert_eq!(
            cmp(State::Init, (1, 0, 0), (1, 100, 200), true),
            Decision::Ignore
        );
    }

    #[test]
    fn master_steps_down_for_faster_or_equal_and_not_more_demoted() {
        assert_eq!(
            cmp(State::Master, (1, 100, 0), (1, 0, 0), false),
            Decision::StepDown
        );
        // Equal: no tie-break, step down.
        assert_eq!(
            cmp(State::Master, (1, 0, 0), (1, 0, 0), false),
            Decision::StepDown
        );
        // Slower peer: keep advertising.
        assert_eq!(
            cmp(State::Master, (1, 0, 0), (1, 100, 0), false),
            Decision::Ignore
        );
        // Faster but more demoted: keep.
        assert_eq!(
            cmp(State::Master, (1, 100, 0), (1, 0, 1), false),
            Decision::Ignore
        );
        // Slower but less demoted than we are: step down.
        assert_eq!(
            cmp(State::Master, (1, 0, 5), (1, 100, 0), false),
            Decision::StepDown
        );
    }

    #[test]
    fn backup_preempts_only_with_sysctl_and_not_less_demoted() {
        assert_eq!(
            cmp(State::Backup, (1, 0, 0), (1, 100, 0), true),
            Decision::TakeOver(Reason::Preempt)
        );
        assert_eq!(
            cmp(State::Backup, (1, 0, 0), (1, 100, 0), false),
            Decision::RestartTimer
        );
        // Equal intervals never preempt.
        assert_eq!(
            cmp(State::Backup, (1, 0, 0), (1, 0, 0), true),
            Decision::RestartTimer
        );
        // The peer less demoted than us: no preemption.
        assert_eq!(
            cmp(State::Backup, (1, 0, 1), (1, 100, 0), true),
            Decision::RestartTimer
        );
    }

    #[test]
    fn backup_takes_over_a_more_demoted_master_without_preempt() {
        assert_eq!(
            cmp(State::Backup, (1, 100, 0), (1, 0, 1), false),
            Decision::TakeOver(Reason::PeerDemoted)
        );
    }

    #[test]
    fn bow_out_and_very_slow_masters_are_taken_over() {
        assert_eq!(
            cmp(State::Backup, (1, 100, 0), (255, 255, 0), false),
            Decision::TakeOver(Reason::PeerWillTimeOut)
        );
        // 3 s + 100/256 < 4 s.
        assert_eq!(
            cmp(State::Backup, (1, 100, 0), (4, 0, 0), false),
            Decision::TakeOver(Reason::PeerWillTimeOut)
        );
        assert_eq!(
            cmp(State::Backup, (1, 100, 0), (3, 100, 0), false),
            Decision::RestartTimer
        );
        // advbase 0 disables the rule (OpenBSD's `sc_advbase &&`).
        assert_eq!(
            cmp(State::Backup, (0, 100, 0), (255, 255, 0), false),
            Decision::RestartTimer
        );
    }
}
