//! Whether a data interface's link is up, as the kernel reports it in
//! sysfs. CARP (its carpdevs) and pfsync (its syncdev) poll it: OpenBSD
//! hears link changes as interrupts, pfd reads `operstate` a few times a
//! second.

/// How often the CARP and pfsync threads look. Both the CARP demotion of
/// a dead carpdev and pfsync's of a dead syncdev must reach the peer
/// within a fraction of the advertisement interval: on a healed sync
/// cable the two boxes change their demotion when each sees it, and until
/// the second one has, the first may preempt the other (an OpenBSD pair
/// has the same race, over microseconds). At 500 ms a healed cable moved
/// the gateways to the backup, which still lacked the states made during
/// the cut, about one time in three (ha_sync_cut); 50 ms keeps the window
/// under a tenth of the 1 s advertisement interval for a sysfs read 20
/// times a second.
pub const LINK_CHECK_NS: u64 = 50_000_000;

/// Whether `dev`'s link is up, from sysfs (`None`: cannot tell).
/// `unknown` is what drivers without carrier reporting (tun, some
/// virtual devices) say while up.
pub fn operstate_up(dev: &str) -> Option<bool> {
    let p = std::path::Path::new("/sys/class/net")
        .join(dev)
        .join("operstate");
    let s = std::fs::read_to_string(p).ok()?;
    Some(matches!(s.trim(), "up" | "unknown"))
}
