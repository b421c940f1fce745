//! `net.inet.carp.*` (spec §7.1): the knobs the daemon sets.

/// syslog priorities, the numbers `net.inet.carp.log` is compared with.
pub mod priority {
    pub const CRIT: u8 = 2;
    pub const ERR: u8 = 3;
    pub const WARNING: u8 = 4;
    pub const NOTICE: u8 = 5;
    pub const INFO: u8 = 6;
    pub const DEBUG: u8 = 7;
}

/// `net.inet.carp.allow`, `.preempt` and `.log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sysctl {
    /// Accept incoming adverts (default 1). When off they are counted in
    /// `ipackets`/`ipackets6` and dropped.
    pub allow: bool,
    /// A BACKUP that advertises faster takes over a slower master
    /// (default 0). Demotion-based takeover happens regardless.
    pub preempt: bool,
    /// Log a message when its syslog priority is at most this (default
    /// 2, LOG_CRIT: only MASTER/BACKUP transitions).
    pub log: u8,
}

impl Default for Sysctl {
    fn default() -> Self {
        Sysctl {
            allow: true,
            preempt: false,
            log: priority::CRIT,
        }
    }
}

impl Sysctl {
    /// Does a message of `priority` pass `net.inet.carp.log`?
    pub fn logs(&self, priority: u8) -> bool {
        priority <= self.log
    }
}
