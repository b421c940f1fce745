//! ifctl's command line after the interface or group name, read as
//! ifconfig(8) reads it: `carp1 advskew 100 state backup`, `-g carp
//! -carpdemote 50`, with ifconfig's messages for bad values
//! (`advskew 300: too large`, `'vhid' requires argument`).

use crate::control::{CarpChange, CarpStateArg, IfctlOp, PfsyncChange};
use std::net::IpAddr;
use thiserror::Error;

/// A command line ifconfig would refuse, or one pfd does not do.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ArgError {
    #[error("'{0}' requires argument")]
    RequiresArgument(String),
    /// strtonum's verdict: `invalid`, `too small`, `too large`.
    #[error("{param} {value}: {why}")]
    Number {
        param: String,
        value: String,
        why: &'static str,
    },
    #[error("{group}: invalid carp demotion: {why}")]
    Demotion { group: String, why: &'static str },
    #[error("only IPv4 addresses supported for the carppeer")]
    PeerNotV4,
    #[error("error in parsing address string: {0}: not a numeric IPv4 address")]
    BadAddress(String),
    #[error("state {0}: unknown carp state (init, backup or master)")]
    BadState(String),
    /// An ifconfig parameter pfd does not change live.
    #[error("not supported: {0} (ifctl changes vhid, advbase, advskew, pass, carppeer, -carppeer, state, carpdev, up and down)")]
    NotSupported(String),
    #[error("-g takes only carpdemote N or -carpdemote N after the group")]
    GroupUsage,
    /// A pfsync0 parameter pfd does not take.
    #[error("not supported: {0} (ifctl changes pfsync0's maxupd, syncpeer, -syncpeer, defer, -defer and syncdev)")]
    NotPfsync(String),
}

/// `ifctl pfsync0 PARAM...`: the pfsync changes, in order
/// (`syncif` is ifconfig's other name for `syncdev`).
pub fn pfsync_changes(args: &[String]) -> Result<Vec<PfsyncChange>, ArgError> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(p) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .ok_or_else(|| ArgError::RequiresArgument(name.to_string()))
        };
        let c = match p.as_str() {
            "maxupd" => PfsyncChange::Maxupd(number("maxupd", value("maxupd")?, 0, 255)?),
            "syncpeer" => {
                let v = value("syncpeer")?;
                match v.parse::<IpAddr>() {
                    Ok(IpAddr::V4(a)) => PfsyncChange::Syncpeer(a),
                    _ => return Err(ArgError::BadAddress(v.clone())),
                }
            }
            "-syncpeer" => PfsyncChange::NoSyncpeer,
            "defer" => PfsyncChange::Defer(true),
            "-defer" => PfsyncChange::Defer(false),
            "syncdev" | "syncif" => PfsyncChange::Syncdev(value(p)?.clone()),
            other => return Err(ArgError::NotPfsync(other.to_string())),
        };
        out.push(c);
    }
    Ok(out)
}

/// OpenBSD's strtonum: a decimal in `min..=max`, or why not.
pub fn strtonum(s: &str, min: i64, max: i64) -> Result<i64, &'static str> {
    let v: i64 = s
        .parse()
        .map_err(|e: std::num::ParseIntError| match e.kind() {
            std::num::IntErrorKind::PosOverflow => "too large",
            std::num::IntErrorKind::NegOverflow => "too small",
            _ => "invalid",
        })?;
    if v < min {
        Err("too small")
    } else if v > max {
        Err("too large")
    } else {
        Ok(v)
    }
}

fn number(param: &str, value: &str, min: i64, max: i64) -> Result<u8, ArgError> {
    strtonum(value, min, max)
        .map(|v| v as u8)
        .map_err(|why| ArgError::Number {
            param: param.to_string(),
            value: value.to_string(),
            why,
        })
}

/// `ifctl NAME PARAM...`: the carp changes, in order.
pub fn carp_changes(args: &[String]) -> Result<Vec<CarpChange>, ArgError> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(p) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .ok_or_else(|| ArgError::RequiresArgument(name.to_string()))
        };
        let c = match p.as_str() {
            "vhid" => CarpChange::Vhid(number("vhid", value("vhid")?, 1, 255)?),
            "advbase" => CarpChange::Advbase(number("advbase", value("advbase")?, 0, 255)?),
            "advskew" => CarpChange::Advskew(number("advskew", value("advskew")?, 0, 255)?),
            "pass" => CarpChange::Pass(value("pass")?.clone()),
            "carppeer" => {
                let v = value("carppeer")?;
                match v.parse::<IpAddr>() {
                    Ok(IpAddr::V4(a)) => CarpChange::Carppeer(a),
                    Ok(IpAddr::V6(_)) => return Err(ArgError::PeerNotV4),
                    Err(_) => return Err(ArgError::BadAddress(v.clone())),
                }
            }
            "-carppeer" => CarpChange::NoCarppeer,
            "state" => {
                let v = value("state")?;
                // ifconfig compares without case (MASTER, master)
                CarpChange::State(match v.to_ascii_lowercase().as_str() {
                    "init" => CarpStateArg::Init,
                    "backup" => CarpStateArg::Backup,
                    "master" => CarpStateArg::Master,
                    _ => return Err(ArgError::BadState(v.clone())),
                })
            }
            "carpdev" => CarpChange::Carpdev(value("carpdev")?.clone()),
            "up" => CarpChange::Up,
            "down" => CarpChange::Down,
            // inet, lladdr, mtu, group, carpnodes, balancing, ...: set
            // in hostname.if, applied at boot
            other => return Err(ArgError::NotSupported(other.to_string())),
        };
        out.push(c);
    }
    Ok(out)
}

/// `ifctl -g GROUP [[-]carpdemote [N]]`: `setgroupattribs` (N is
/// 0..=128, default 1).
pub fn group(group: &str, args: &[String]) -> Result<IfctlOp, ArgError> {
    let Some(word) = args.first() else {
        return Ok(IfctlOp::GroupShow {
            group: group.to_string(),
        });
    };
    if args.len() > 2 {
        return Err(ArgError::GroupUsage);
    }
    let n = match args.get(1) {
        Some(v) => strtonum(v, 0, 128).map_err(|why| ArgError::Demotion {
            group: group.to_string(),
            why,
        })? as i32,
        None => 1,
    };
    let delta = match word.as_str() {
        "carpdemote" => n,
        "-carpdemote" => -n,
        _ => return Err(ArgError::GroupUsage),
    };
    Ok(IfctlOp::GroupDemote {
        group: group.to_string(),
        delta,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn v(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn faq_parameters_in_order() {
        assert_eq!(
            carp_changes(&v(&[
                "advskew",
                "100",
                "state",
                "BACKUP",
                "-carppeer",
                "carppeer",
                "10.0.0.2",
                "pass",
                "lanpasswd",
                "vhid",
                "1",
                "advbase",
                "0",
                "carpdev",
                "em0",
                "down",
                "up"
            ])),
            Ok(vec![
                CarpChange::Advskew(100),
                CarpChange::State(CarpStateArg::Backup),
                CarpChange::NoCarppeer,
                CarpChange::Carppeer(Ipv4Addr::new(10, 0, 0, 2)),
                CarpChange::Pass("lanpasswd".into()),
                CarpChange::Vhid(1),
                CarpChange::Advbase(0),
                CarpChange::Carpdev("em0".into()),
                CarpChange::Down,
                CarpChange::Up,
            ])
        );
    }

    #[test]
    fn ifconfig_messages() {
        let e = |w: &[&str]| carp_changes(&v(w)).unwrap_err().to_string();
        assert_eq!(e(&["advskew", "300"]), "advskew 300: too large");
        assert_eq!(e(&["vhid", "0"]), "vhid 0: too small");
        assert_eq!(e(&["advbase", "x"]), "advbase x: invalid");
        assert_eq!(
            e(&["advskew", "99999999999999999999"]),
            "advskew 99999999999999999999: too large"
        );
        assert_eq!(e(&["vhid"]), "'vhid' requires argument");
        assert_eq!(
            e(&["carppeer", "2001:db8::1"]),
            "only IPv4 addresses supported for the carppeer"
        );
        assert!(e(&["carppeer", "peer.example"]).starts_with("error in parsing address string"));
        assert!(e(&["state", "leader"]).starts_with("state leader: unknown carp state"));
        assert!(e(&["balancing", "ip"]).starts_with("not supported: balancing"));
        assert!(e(&["inet", "10.0.0.1"]).starts_with("not supported: inet"));
    }

    #[test]
    fn group_demotion_words() {
        assert_eq!(
            group("carp", &[]),
            Ok(IfctlOp::GroupShow {
                group: "carp".into()
            })
        );
        assert_eq!(
            group("carp", &v(&["carpdemote"])),
            Ok(IfctlOp::GroupDemote {
                group: "carp".into(),
                delta: 1
            })
        );
        assert_eq!(
            group("internal", &v(&["-carpdemote", "50"])),
            Ok(IfctlOp::GroupDemote {
                group: "internal".into(),
                delta: -50
            })
        );
        assert_eq!(
            group("carp", &v(&["carpdemote", "129"]))
                .unwrap_err()
                .to_string(),
            "carp: invalid carp demotion: too large"
        );
        assert_eq!(group("carp", &v(&["demote"])), Err(ArgError::GroupUsage));
    }
}
