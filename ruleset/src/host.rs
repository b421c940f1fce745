//! pfctl's `host()`: turn one address word of pf.conf (or of a table
//! file) into the addresses it names. In order it tries an interface or
//! group name with modifiers, a numeric address, then DNS; the first that
//! yields anything wins.

mod iflookup;
mod numeric;

use std::fmt;

use crate::addr::{mask_addr, AddrWrap, Af, IfAddrFlags, NodeHost};
use crate::hostenv::HostEnv;

pub use iflookup::{ifa_exists, ifa_lookup};
pub(crate) use numeric::strtonum;
pub use numeric::NumError;

/// A diagnostic pfctl prints while trying a word as an interface name,
/// before going on to the other interpretations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IfSpecNote {
    /// More than one of `:network`, `:broadcast`, `:peer`.
    IllegalCombination,
    /// `:network` or `:broadcast` together with `/mask`.
    MaskWithNetworkOrBroadcast,
}

impl fmt::Display for IfSpecNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IfSpecNote::IllegalCombination => "illegal combination of interface modifiers",
            IfSpecNote::MaskWithNetworkOrBroadcast => {
                "network or broadcast lookup, but extra netmask given"
            }
        })
    }
}

/// Why a host specification names no address. `Display` is what pfctl
/// writes to stderr (one line, or the interface notes first, one per
/// line); the grammar then reports `could not parse host specification`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// `/mask` is not a number in 0..=128. `text` is from the `/` on.
    #[error("netmask is {reason}: {text}")]
    Netmask { reason: NumError, text: String },
    /// Nothing matched `spec` (the word as written).
    #[error("{}", no_address_text(spec, notes))]
    NoAddress {
        spec: String,
        notes: Vec<IfSpecNote>,
    },
}

fn no_address_text(spec: &str, notes: &[IfSpecNote]) -> String {
    let mut s = String::new();
    for n in notes {
        s.push_str(&n.to_string());
        s.push('\n');
    }
    s.push_str("no IP address found for ");
    s.push_str(spec);
    s
}

impl HostError {
    /// The stderr lines pfctl prints for this error, in order.
    pub fn lines(&self) -> Vec<String> {
        self.to_string().lines().map(str::to_string).collect()
    }
}

/// Resolve `s` (`name[/mask][@ifname]`) the way pfctl's `host()` does.
/// Every result is an address/mask with the address masked; an IPv4
/// result may carry a prefix above 32, which the grammar rejects with
/// "netmask N invalid for IPv4 address".
pub fn host(s: &str, env: &dyn HostEnv) -> Result<Vec<NodeHost>, HostError> {
    let (spec, ifname) = match s.rfind('@') {
        Some(i) => (&s[..i], Some(&s[i + 1..]).filter(|n| !n.is_empty())),
        None => (s, None),
    };
    let (name, mask) = match spec.find('/') {
        Some(i) => {
            let m =
                numeric::strtonum(&spec[i + 1..], 0, 128).map_err(|reason| HostError::Netmask {
                    reason,
                    text: spec[i..].to_string(),
                })?;
            (&spec[..i], Some(m as u8))
        }
        None => (spec, None),
    };
    let mut notes = Vec::new();
    let mut found = host_if(name, mask, env, &mut notes);
    if found.is_empty() {
        found = host_ip(name, mask, env);
    }
    if found.is_empty() {
        found = host_dns(name, mask, env);
    }
    if found.is_empty() {
        return Err(HostError::NoAddress {
            spec: s.to_string(),
            notes,
        });
    }
    for n in &mut found {
        n.ifname = ifname.map(str::to_string);
    }
    Ok(found)
}

/// pfctl's `set_ipmask`: `prefix` (or the family's full length) becomes
/// the mask and the address is cut to it.
fn with_mask(mut n: NodeHost, mask: Option<u8>) -> NodeHost {
    if let (AddrWrap::AddrMask { addr, prefix }, Some(af)) = (&mut n.addr, n.af) {
        *prefix = mask.unwrap_or(af.bits());
        *addr = mask_addr(*addr, *prefix);
    }
    n
}

fn host_if(
    s: &str,
    mask: Option<u8>,
    env: &dyn HostEnv,
    notes: &mut Vec<IfSpecNote>,
) -> Vec<NodeHost> {
    let mut name = s;
    let mut flags = IfAddrFlags::default();
    while let Some(i) = name.rfind(':') {
        match &name[i + 1..] {
            "network" => flags.network = true,
            "broadcast" => flags.broadcast = true,
            "peer" => flags.peer = true,
            "0" => flags.noalias = true,
            _ => return Vec::new(),
        }
        name = &name[..i];
    }
    let modes = [flags.network, flags.broadcast, flags.peer]
        .iter()
        .filter(|m| **m)
        .count();
    if modes > 1 {
        notes.push(IfSpecNote::IllegalCombination);
        return Vec::new();
    }
    if (flags.network || flags.broadcast) && mask.is_some() {
        notes.push(IfSpecNote::MaskWithNetworkOrBroadcast);
        return Vec::new();
    }
    if !(ifa_exists(name, env) || name == "self") {
        return Vec::new();
    }
    let found = ifa_lookup(name, flags, env);
    match mask {
        Some(_) => found.into_iter().map(|n| with_mask(n, mask)).collect(),
        None => found,
    }
}

fn host_ip(s: &str, mask: Option<u8>, env: &dyn HostEnv) -> Vec<NodeHost> {
    let (addr, scope_id) = match numeric::numeric_host(s, env) {
        Some(a) => a,
        // Short IPv4 networks (`10/8`, `10.1/16`) only with a mask.
        None => match mask.and_then(|_| numeric::inet_net_pton4(s)) {
            Some(a) => (a.into(), 0),
            None => return Vec::new(),
        },
    };
    let mut n = NodeHost::new(AddrWrap::AddrMask { addr, prefix: 0 }, Some(Af::of(&addr)));
    n.scope_id = scope_id;
    vec![with_mask(n, mask)]
}

fn host_dns(s: &str, mask: Option<u8>, env: &dyn HostEnv) -> Vec<NodeHost> {
    // `name:0`: first address of each family only.
    let (name, noalias) = match s.rfind(':') {
        Some(i) if &s[i..] == ":0" => (&s[..i], true),
        _ => (s, false),
    };
    let (mut got4, mut got6) = (false, false);
    let mut out = Vec::new();
    for addr in env.resolve(name) {
        let af = Af::of(&addr);
        if noalias {
            let got = if af == Af::Inet { &mut got4 } else { &mut got6 };
            if *got {
                continue;
            }
            *got = true;
        }
        out.push(with_mask(
            NodeHost::new(AddrWrap::AddrMask { addr, prefix: 0 }, Some(af)),
            mask,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hostenv::RegressHost;

    fn h(s: &str) -> Result<Vec<String>, String> {
        let env = RegressHost::new();
        host(s, &env)
            .map(|v| {
                v.iter()
                    .map(|n| match &n.addr {
                        AddrWrap::AddrMask { addr, prefix } => {
                            let mut t = format!("{addr}/{prefix}");
                            if n.scope_id != 0 {
                                t.push_str(&format!("%{}", n.scope_id));
                            }
                            if let Some(i) = &n.ifname {
                                t.push_str(&format!("@{i}"));
                            }
                            t
                        }
                        other => format!("{other:?}"),
                    })
                    .collect()
            })
            .map_err(|e| e.to_string())
    }

    #[test]
    fn numeric() {
        assert_eq!(h("10.0.0.1"), Ok(vec!["10.0.0.1/32".into()]));
        assert_eq!(h("10.1.2.3/8"), Ok(vec!["10.0.0.0/8".into()]));
        assert_eq!(h("10/8"), Ok(vec!["10.0.0.0/8".into()]));
        assert_eq!(h("10.1/16"), Ok(vec!["10.1.0.0/16".into()]));
        assert_eq!(h("::1"), Ok(vec!["::1/128".into()]));
        assert_eq!(h("fe80::1%lo0"), Ok(vec!["fe80::1/128%3".into()]));
        assert_eq!(h("2001:db8::1/32"), Ok(vec!["2001:db8::/32".into()]));
        // Kept for the grammar's "netmask 64 invalid for IPv4 address".
        assert_eq!(h("1.2.3.4/64"), Ok(vec!["1.2.3.4/64".into()]));
        assert_eq!(h("1.2.3.4/0"), Ok(vec!["0.0.0.0/0".into()]));
    }

    #[test]
    fn interfaces() {
        assert_eq!(
            h("lo0"),
            Ok(vec![
                "::1/128".into(),
                "fe80::1/128%3".into(),
                "127.0.0.1/32".into()
            ])
        );
        assert_eq!(
            h("lo0/8"),
            Ok(vec![
                "::/8".into(),
                "fe00::/8%3".into(),
                "127.0.0.0/8".into()
            ])
        );
        assert_eq!(
            h("lo0:network"),
            Ok(vec!["::1/128".into(), "127.0.0.0/8".into()])
        );
        assert_eq!(
            h("lo0:0"),
            Ok(vec!["::1/128".into(), "127.0.0.1/32".into()])
        );
        assert_eq!(h("lo"), h("lo0"));
        assert_eq!(h("self"), h("lo0"));
        assert_eq!(
            h("lo0@tun1000000").map(|v| v[2].clone()),
            Ok("127.0.0.1/32@tun1000000".into())
        );
    }

    #[test]
    fn dns() {
        assert_eq!(
            h("localhost"),
            Ok(vec!["127.0.0.1/32".into(), "::1/128".into()])
        );
        assert_eq!(
            h("localhost/24"),
            Ok(vec!["127.0.0.0/24".into(), "::/24".into()])
        );
        assert_eq!(h("localhost:0"), h("localhost"));
    }

    #[test]
    fn pfctl_error_lines() {
        for bad in [
            "10.0.0.0.1",
            ":80",
            "2000:0:0:0:0:0:0:0:0:1",
            "256.0.0.1",
            "10.0.0.0:network",
            "1.1.1.1.1",
        ] {
            assert_eq!(h(bad), Err(format!("no IP address found for {bad}")));
        }
        assert_eq!(
            h("lo1000000"),
            Err("no IP address found for lo1000000".into())
        );
        assert_eq!(
            h("lo0:broadcast"),
            Err("no IP address found for lo0:broadcast".into())
        );
        assert_eq!(
            h("nonexistent.example"),
            Err("no IP address found for nonexistent.example".into())
        );
        assert_eq!(h("10.0.0.1/129"), Err("netmask is too large: /129".into()));
        assert_eq!(h("10.0.0.1/-1"), Err("netmask is too small: /-1".into()));
        assert_eq!(h("10.0.0.1/x"), Err("netmask is invalid: /x".into()));
        assert_eq!(h("10.0.0.1/"), Err("netmask is invalid: /".into()));
        assert_eq!(
            h("lo0:network:peer"),
            Err("illegal combination of interface modifiers\nno IP address found for lo0:network:peer".into())
        );
        assert_eq!(
            h("lo0:network/24"),
            Err("network or broadcast lookup, but extra netmask given\nno IP address found for lo0:network/24"
                .into())
        );
        let e = host("lo0:broadcast:peer", &RegressHost::new()).unwrap_err();
        assert_eq!(e.lines().len(), 2);
    }
}
