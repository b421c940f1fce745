//! pf's debug level on the running pfd (`set debug`, `pfctl -x`): a
//! syslog level that gates the daemon's own messages about what the
//! control socket changed, shown by `pfctl -si` as `Debug: err`.

use std::sync::atomic::{AtomicU8, Ordering};

/// syslog's levels, by number (LOG_EMERG = 0 .. LOG_DEBUG = 7).
pub const LOG_ERR: u8 = 3;
pub const LOG_NOTICE: u8 = 5;
pub const LOG_INFO: u8 = 6;

/// The level in force: `pfctl -x` or the last ruleset's `set debug`,
/// else pf's default, `err`.
#[derive(Debug, Default)]
pub struct Debug {
    /// The level plus one; 0: never set.
    raw: AtomicU8,
}

impl Debug {
    pub fn level(&self) -> u8 {
        match self.raw.load(Ordering::Relaxed) {
            0 => LOG_ERR,
            n => n - 1,
        }
    }

    pub fn set(&self, level: u8) {
        self.raw.store(level.min(7) + 1, Ordering::Relaxed);
    }

    /// Whether a message of `level` is logged.
    pub fn enabled(&self, level: u8) -> bool {
        level <= self.level()
    }

    /// Log `msg` (target `pfd::control`) if `level` is enabled; the
    /// log's own filter (`pfd run --log`) applies after.
    pub fn log(&self, level: u8, msg: &str) {
        if self.enabled(level) {
            crate::log_at!(crate::logging::level_of_priority(level), target: "pfd::control", "{msg}");
        }
    }
}

/// syslog's name for a level, as pfctl's `loglevel_to_string` finds it
/// first in `prioritynames` (`warn` before `warning`).
pub fn level_name(level: u8) -> &'static str {
    match level {
        0 => "emerg",
        1 => "alert",
        2 => "crit",
        3 => "err",
        4 => "warn",
        5 => "notice",
        6 => "info",
        7 => "debug",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn err_until_set_then_what_was_set() {
        let d = Debug::default();
        assert_eq!(d.level(), LOG_ERR);
        assert!(d.enabled(LOG_ERR) && !d.enabled(LOG_NOTICE));
        d.set(7);
        assert!(d.enabled(LOG_INFO));
        assert_eq!(level_name(d.level()), "debug");
        d.set(0);
        assert_eq!(level_name(d.level()), "emerg");
        assert!(!d.enabled(LOG_ERR));
        assert_eq!(level_name(4), "warn");
    }
}
