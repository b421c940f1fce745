//! `ifctl carpN PARAM...` applied to the host in the CARP thread, one
//! parameter after the other as ifconfig issues one SIOCSVH each; the
//! first refused one stops the rest (ifconfig exits there too).

use crate::control::{CarpChange, CarpStateArg};
use carp::auth::Key;
use carp::{CarpHost, Carpnode, ConfigError, State};
use thiserror::Error;

/// Why a parameter was not applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ChangeError {
    /// No carp interface of that name (ENXIO).
    #[error("{0}: SIOCGVH: Device not configured")]
    NoSuchInterface(String),
    /// The kernel would refuse it (EEXIST for a vhid in use, EINVAL
    /// otherwise); `why` is the carp crate's account of it.
    #[error("{name}: SIOCSVH: {errno}: {why}")]
    Refused {
        name: String,
        errno: &'static str,
        why: String,
    },
    /// OpenBSD does it, pfd cannot while running.
    #[error("{name}: not supported: {what}")]
    NotSupported { name: String, what: String },
}

fn refused(name: &str, e: ConfigError) -> ChangeError {
    let errno = match e {
        ConfigError::VhidInUse { .. } => "File exists",
        ConfigError::NoSuchInterface(_) => return ChangeError::NoSuchInterface(name.to_string()),
        _ => "Invalid argument",
    };
    ChangeError::Refused {
        name: name.to_string(),
        errno,
        why: e.to_string(),
    }
}

/// Apply `changes` to carp interface `name` in order.
pub fn apply(
    host: &mut CarpHost,
    now: u64,
    name: &str,
    changes: &[CarpChange],
) -> Result<(), ChangeError> {
    for c in changes {
        let cur = host
            .interface(name)
            .ok_or_else(|| ChangeError::NoSuchInterface(name.to_string()))?;
        let mut cfg = cur.config().clone();
        let not_supported = |what: String| ChangeError::NotSupported {
            name: name.to_string(),
            what,
        };
        match c {
            CarpChange::State(s) => {
                let s = match s {
                    CarpStateArg::Init => State::Init,
                    CarpStateArg::Backup => State::Backup,
                    CarpStateArg::Master => State::Master,
                };
                host.force_state(now, name, s)
                    .map_err(|e| refused(name, e))?;
                continue;
            }
            CarpChange::Up | CarpChange::Down => {
                host.set_interface_up(now, name, *c == CarpChange::Up)
                    .map_err(|e| refused(name, e))?;
                continue;
            }
            CarpChange::Vhid(v) => {
                if cfg.nodes.len() > 1 {
                    return Err(not_supported("vhid on a carpnodes interface".into()));
                }
                // A new vhid is a new virtual MAC (unless lladdr
                // overrides it): the CARP thread tells the routers
                // (`Mail::VipMac`) when it flushes after this call.
                let advskew = cfg.nodes.first().map_or(0, |n| n.advskew);
                cfg.nodes = vec![Carpnode { vhid: *v, advskew }];
            }
            CarpChange::Advbase(b) => cfg.advbase = *b,
            CarpChange::Advskew(s) => {
                for n in cfg.nodes.iter_mut().take(1) {
                    n.advskew = *s;
                }
            }
            CarpChange::Pass(p) => cfg.key = Key::from_passphrase(p.as_bytes()),
            CarpChange::Carppeer(a) => cfg.peer = Some(*a),
            CarpChange::NoCarppeer => cfg.peer = None,
            CarpChange::Carpdev(d) => {
                if *d != cfg.carpdev {
                    return Err(not_supported(format!(
                        "carpdev {d}: moving a carp interface to another carpdev while pfd runs; set it in hostname.{name} and restart pfd"
                    )));
                }
                continue;
            }
            #[allow(unreachable_patterns)]
            other => return Err(not_supported(format!("{other:?}"))),
        }
        host.reconfigure(now, cfg).map_err(|e| refused(name, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use carp::{CarpIfConfig, Sysctl};
    use std::net::Ipv4Addr;

    fn host() -> CarpHost {
        let mut h = CarpHost::new(Sysctl::default(), 7);
        for (name, vhid) in [("carp0", 1), ("carp1", 2)] {
            let mut c = CarpIfConfig::new(
                name,
                "em0",
                [2, 0, 0, 0, 0, 1],
                vhid,
                Key::from_passphrase(b"x"),
            );
            c.v4.push(Ipv4Addr::new(192, 0, 2, vhid));
            h.add_interface(0, c).unwrap();
        }
        h
    }

    #[test]
    fn advskew_state_and_peer_apply_in_order() {
        let mut h = host();
        let changes = [
            CarpChange::Advskew(100),
            CarpChange::Advbase(2),
            CarpChange::State(CarpStateArg::Master),
            CarpChange::Carppeer(Ipv4Addr::new(192, 0, 2, 9)),
        ];
        apply(&mut h, 1, "carp0", &changes).unwrap();
        let i = h.interface("carp0").unwrap();
        assert_eq!(i.state(), State::Master);
        assert_eq!(
            i.status_lines(),
            ["carp: MASTER carpdev em0 vhid 1 advbase 2 advskew 100 carppeer 192.0.2.9"]
        );
        apply(
            &mut h,
            2,
            "carp0",
            &[CarpChange::NoCarppeer, CarpChange::Down],
        )
        .unwrap();
        let i = h.interface("carp0").unwrap();
        assert_eq!(i.state(), State::Init);
        assert!(!i.is_up());
        assert_eq!(i.config().peer, None);
    }

    #[test]
    fn refusals_are_worded_as_ifconfig_and_stop_the_rest() {
        let mut h = host();
        // 255 is the bow-out advskew: the kernel refuses it
        let e = apply(
            &mut h,
            1,
            "carp0",
            &[CarpChange::Advskew(255), CarpChange::Advbase(9)],
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("carp0: SIOCSVH: Invalid argument: "),
            "{e}"
        );
        assert_eq!(h.interface("carp0").unwrap().config().advbase, 1);
        assert_eq!(
            apply(&mut h, 1, "carp9", &[CarpChange::Up]).unwrap_err(),
            ChangeError::NoSuchInterface("carp9".into())
        );
        assert_eq!(
            apply(&mut h, 1, "carp9", &[CarpChange::Up])
                .unwrap_err()
                .to_string(),
            "carp9: SIOCGVH: Device not configured"
        );
    }

    #[test]
    fn a_new_vhid_is_a_new_virtual_mac_and_a_new_carpdev_is_refused() {
        let mut h = host();
        apply(&mut h, 1, "carp0", &[CarpChange::Vhid(3)]).unwrap();
        let i = h.interface("carp0").unwrap();
        assert_eq!(i.lladdr(), [0, 0, 0x5e, 0, 1, 3]);
        assert_eq!(
            i.state(),
            State::Backup,
            "reset to INIT, then runnable again"
        );
        let e = apply(&mut h, 1, "carp0", &[CarpChange::Carpdev("em1".into())]).unwrap_err();
        assert!(matches!(e, ChangeError::NotSupported { .. }), "{e}");
        // naming what it already is changes nothing
        apply(
            &mut h,
            1,
            "carp0",
            &[CarpChange::Vhid(3), CarpChange::Carpdev("em0".into())],
        )
        .unwrap();
    }

    #[test]
    fn a_vhid_in_use_on_the_carpdev_is_refused() {
        let mut h = CarpHost::new(Sysctl::default(), 7);
        for (name, vhid) in [("carp0", 1), ("carp1", 2)] {
            let mut c = CarpIfConfig::new(
                name,
                "em0",
                [2, 0, 0, 0, 0, 1],
                vhid,
                Key::from_passphrase(b"x"),
            );
            c.v4.push(Ipv4Addr::new(192, 0, 2, vhid));
            c.lladdr = Some([2, 0, 0, 0, 0, 0x10 + vhid]);
            h.add_interface(0, c).unwrap();
        }
        let e = apply(&mut h, 1, "carp0", &[CarpChange::Vhid(2)]).unwrap_err();
        assert!(
            e.to_string().starts_with("carp0: SIOCSVH: File exists: "),
            "{e}"
        );
        apply(&mut h, 1, "carp0", &[CarpChange::Vhid(5)]).unwrap();
        assert_eq!(h.interface("carp0").unwrap().vhosts()[0].vhid(), 5);
    }
}
