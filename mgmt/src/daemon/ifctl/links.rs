//! What the kernel knows of a physical interface pfd runs on (its
//! index, MAC, MTU and whether it is up and has carrier), read when
//! ifctl asks, as ifconfig asks the kernel each time.

use std::path::Path;

/// Linux's `IFF_UP`, `IFF_BROADCAST`, `IFF_PROMISC`, `IFF_MULTICAST`
/// (`/sys/class/net/IF/flags`; RUNNING is not there, see
/// [`LinkFacts::running`]).
pub mod linux {
    pub const UP: u32 = 0x1;
    pub const BROADCAST: u32 = 0x2;
    pub const PROMISC: u32 = 0x100;
    pub const MULTICAST: u32 = 0x1000;
}

/// One interface as the kernel has it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkFacts {
    pub index: u32,
    pub mac: Option<[u8; 6]>,
    pub mtu: Option<u32>,
    /// Linux interface flags.
    pub flags: u32,
    /// Operationally up (carrier): OpenBSD's RUNNING and `status: active`.
    pub running: bool,
}

/// Where link facts come from: sysfs in the daemon, a table in tests.
pub trait Links: Sync {
    fn facts(&self, name: &str) -> Option<LinkFacts>;
}

/// `/sys/class/net/IF/*`.
pub struct Sysfs;

fn read(dir: &Path, file: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(file))
        .ok()
        .map(|s| s.trim().to_string())
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut out {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

impl Links for Sysfs {
    fn facts(&self, name: &str) -> Option<LinkFacts> {
        // A name with a slash or dots would leave /sys/class/net.
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return None;
        }
        let dir = Path::new("/sys/class/net").join(name);
        let index = read(&dir, "ifindex")?.parse().ok()?;
        let flags = read(&dir, "flags")
            .and_then(|f| u32::from_str_radix(f.trim_start_matches("0x"), 16).ok())
            .unwrap_or(0);
        // operstate "unknown" is what drivers without carrier reporting
        // (and some veths) show while they pass traffic.
        let running = matches!(read(&dir, "operstate").as_deref(), Some("up" | "unknown"))
            && flags & linux::UP != 0;
        Some(LinkFacts {
            index,
            mac: read(&dir, "address").and_then(|a| parse_mac(&a)),
            mtu: read(&dir, "mtu").and_then(|m| m.parse().ok()),
            flags,
            running,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_parse_strictly() {
        assert_eq!(parse_mac("00:00:5e:00:01:01"), Some([0, 0, 0x5e, 0, 1, 1]));
        assert_eq!(parse_mac("00:00:5e:00:01"), None);
        assert_eq!(parse_mac("00:00:5e:00:01:01:02"), None);
        assert_eq!(parse_mac("zz:00:5e:00:01:01"), None);
    }

    #[test]
    fn loopback_is_read_and_escapes_are_refused() {
        let lo = Sysfs.facts("lo").expect("every Linux has lo");
        assert!(lo.index >= 1);
        assert_eq!(Sysfs.facts("../lo"), None);
        assert_eq!(Sysfs.facts("no-such-if0"), None);
    }
}
