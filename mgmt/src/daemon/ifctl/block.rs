//! One interface as `ifconfig IF` prints it on OpenBSD (`status()` and
//! `in_status`/`in6_alias` in sbin/ifconfig/ifconfig.c): the flags
//! line, lladdr, description, index/priority/llprio, the carp lines,
//! groups, link status, then the addresses.

use serde_json::{json, Value};
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// OpenBSD's interface flag bits (sys/net/if.h) ifctl can show.
pub mod iff {
    pub const UP: u32 = 0x1;
    pub const BROADCAST: u32 = 0x2;
    pub const RUNNING: u32 = 0x40;
    pub const PROMISC: u32 = 0x100;
    pub const SIMPLEX: u32 = 0x800;
    pub const MULTICAST: u32 = 0x8000;
}

/// The names of [`iff`]'s bits in bit order (ifconfig's `IFFBITS`).
const BITS: [(u32, &str); 6] = [
    (iff::UP, "UP"),
    (iff::BROADCAST, "BROADCAST"),
    (iff::RUNNING, "RUNNING"),
    (iff::PROMISC, "PROMISC"),
    (iff::SIMPLEX, "SIMPLEX"),
    (iff::MULTICAST, "MULTICAST"),
];

/// `printb("flags", ...)`: the value in hex, then the set bits' names.
pub fn flags_text(flags: u32) -> String {
    let names: Vec<&str> = BITS
        .iter()
        .filter(|(b, _)| flags & b != 0)
        .map(|(_, n)| *n)
        .collect();
    format!("flags={flags:x}<{}>", names.join(","))
}

pub fn mac_text(m: [u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

fn netmask(prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p => u32::MAX << (32 - u32::from(p.min(32))),
    }
}

/// An IPv4 address with its prefix and broadcast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct V4 {
    pub addr: Ipv4Addr,
    pub prefix: u8,
    pub broadcast: Option<Ipv4Addr>,
}

/// An IPv6 address with its prefix; link-local ones carry the
/// interface index as their scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct V6 {
    pub addr: Ipv6Addr,
    pub prefix: u8,
    pub scope: Option<u32>,
}

/// Everything one block shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Block {
    pub name: String,
    /// OpenBSD flag bits ([`iff`]).
    pub flags: u32,
    pub mtu: Option<u32>,
    pub lladdr: Option<[u8; 6]>,
    pub description: Option<String>,
    pub index: u32,
    pub priority: u8,
    /// carp_status()'s lines, without their leading tab.
    pub carp: Vec<String>,
    /// Without `all`, as getifgroups() prints them.
    pub groups: Vec<String>,
    /// `status: ...` (`active`, `no carrier`; carp: `master`, `backup`,
    /// `invalid`).
    pub status: Option<String>,
    pub inet: Vec<V4>,
    pub inet6: Vec<V6>,
    /// One more JSON member, named: what an interface counts that
    /// ifconfig does not print (pfsync0's deferrals, kstats on OpenBSD).
    pub extra: Option<(&'static str, Value)>,
}

/// `llprio`: OpenBSD's default link-layer priority.
pub const LLPRIO: u8 = 3;

impl Block {
    pub fn text(&self) -> String {
        let mut t = String::new();
        let _ = write!(t, "{}: {}", self.name, flags_text(self.flags));
        if let Some(m) = self.mtu {
            let _ = write!(t, " mtu {m}");
        }
        t.push('\n');
        if let Some(m) = self.lladdr {
            let _ = writeln!(t, "\tlladdr {}", mac_text(m));
        }
        if let Some(d) = self.description.as_deref().filter(|d| !d.is_empty()) {
            let _ = writeln!(t, "\tdescription: {d}");
        }
        let _ = writeln!(
            t,
            "\tindex {} priority {} llprio {LLPRIO}",
            self.index, self.priority
        );
        for l in &self.carp {
            let _ = writeln!(t, "\t{l}");
        }
        let groups: Vec<&str> = self
            .groups
            .iter()
            .map(String::as_str)
            .filter(|g| *g != "all")
            .collect();
        if !groups.is_empty() {
            let _ = writeln!(t, "\tgroups: {}", groups.join(" "));
        }
        if let Some(s) = &self.status {
            let _ = writeln!(t, "\tstatus: {s}");
        }
        for a in &self.inet {
            let _ = write!(t, "\tinet {} netmask 0x{:x}", a.addr, netmask(a.prefix));
            if let Some(b) = a.broadcast {
                let _ = write!(t, " broadcast {b}");
            }
            t.push('\n');
        }
        for a in &self.inet6 {
            match a.scope {
                Some(s) => {
                    let _ = writeln!(
                        t,
                        "\tinet6 {}%{} prefixlen {} scopeid 0x{s:x}",
                        a.addr, self.name, a.prefix
                    );
                }
                None => {
                    let _ = writeln!(t, "\tinet6 {} prefixlen {}", a.addr, a.prefix);
                }
            }
        }
        t
    }

    pub fn json(&self) -> Value {
        let flags: Vec<&str> = BITS
            .iter()
            .filter(|(b, _)| self.flags & b != 0)
            .map(|(_, n)| *n)
            .collect();
        let mut j = json!({
            "name": self.name,
            "flags": flags,
            "mtu": self.mtu,
            "lladdr": self.lladdr.map(mac_text),
            "description": self.description,
            "index": self.index,
            "priority": self.priority,
            "llprio": LLPRIO,
            "carp": self.carp,
            "groups": self.groups.iter().filter(|g| *g != "all").collect::<Vec<_>>(),
            "status": self.status,
            "inet": self.inet.iter().map(|a| json!({
                "addr": a.addr.to_string(),
                "prefixlen": a.prefix,
                "broadcast": a.broadcast.map(|b| b.to_string()),
            })).collect::<Vec<_>>(),
            "inet6": self.inet6.iter().map(|a| json!({
                "addr": a.addr.to_string(),
                "prefixlen": a.prefix,
                "scopeid": a.scope,
            })).collect::<Vec<_>>(),
        });
        if let (Some((name, v)), Some(m)) = (&self.extra, j.as_object_mut()) {
            m.insert((*name).to_string(), v.clone());
        }
        j
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The OpenBSD FAQ's carp1 (www.openbsd.org/faq/pf/carp.html), as
    /// current ifconfig prints it.
    #[test]
    fn faq_carp_block() {
        let b = Block {
            name: "carp1".into(),
            flags: iff::UP | iff::BROADCAST | iff::RUNNING | iff::SIMPLEX | iff::MULTICAST,
            mtu: Some(1500),
            lladdr: Some([0, 0, 0x5e, 0, 1, 1]),
            index: 7,
            priority: 15,
            carp: vec!["carp: MASTER carpdev em0 vhid 1 advbase 1 advskew 0".into()],
            groups: vec!["carp".into()],
            status: Some("master".into()),
            inet: vec![V4 {
                addr: Ipv4Addr::new(172, 16, 0, 100),
                prefix: 24,
                broadcast: Some(Ipv4Addr::new(172, 16, 0, 255)),
            }],
            ..Block::default()
        };
        assert_eq!(
            b.text(),
            "carp1: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n\
             \tlladdr 00:00:5e:00:01:01\n\
             \tindex 7 priority 15 llprio 3\n\
             \tcarp: MASTER carpdev em0 vhid 1 advbase 1 advskew 0\n\
             \tgroups: carp\n\
             \tstatus: master\n\
             \tinet 172.16.0.100 netmask 0xffffff00 broadcast 172.16.0.255\n"
        );
        assert_eq!(b.json()["flags"][2], "RUNNING");
        assert_eq!(b.json()["inet"][0]["prefixlen"], 24);
    }

    #[test]
    fn down_interface_and_v6_scope() {
        let b = Block {
            name: "em0".into(),
            flags: iff::BROADCAST | iff::SIMPLEX | iff::MULTICAST,
            description: Some("uplink".into()),
            index: 2,
            groups: vec!["all".into(), "em".into(), "egress".into()],
            status: Some("no carrier".into()),
            inet: vec![V4 {
                addr: Ipv4Addr::new(10, 0, 0, 1),
                prefix: 32,
                broadcast: None,
            }],
            inet6: vec![
                V6 {
                    addr: "fe80::1".parse().unwrap(),
                    prefix: 64,
                    scope: Some(2),
                },
                V6 {
                    addr: "2001:db8::1".parse().unwrap(),
                    prefix: 64,
                    scope: None,
                },
            ],
            ..Block::default()
        };
        assert_eq!(
            b.text(),
            "em0: flags=8802<BROADCAST,SIMPLEX,MULTICAST>\n\
             \tdescription: uplink\n\
             \tindex 2 priority 0 llprio 3\n\
             \tgroups: em egress\n\
             \tstatus: no carrier\n\
             \tinet 10.0.0.1 netmask 0xffffffff\n\
             \tinet6 fe80::1%em0 prefixlen 64 scopeid 0x2\n\
             \tinet6 2001:db8::1 prefixlen 64\n"
        );
    }
}
