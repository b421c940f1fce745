//! The control protocol's `ifctl` requests: ifconfig(8) on pfd's
//! interfaces and `netstat -s -p carp`. The values are checked by the
//! CLI as ifconfig checks them (`advskew 300: too large`); what the
//! kernel would refuse (a vhid in use, a demotion outside 0..=255) the
//! daemon refuses.

use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// One `ifctl` request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum IfctlOp {
    /// `ifctl [NAME]`: ifconfig's block of every interface, of one, or
    /// of every member of a group.
    Status {
        #[serde(default)]
        name: Option<String>,
    },
    /// `ifctl carpN PARAM...`: applied in order, as ifconfig issues one
    /// ioctl per parameter; the first refused one stops the rest.
    SetCarp {
        name: String,
        changes: Vec<CarpChange>,
    },
    /// `ifctl -g GROUP`: `GROUP: carp demote count N`.
    GroupShow { group: String },
    /// `ifctl -g GROUP carpdemote [N]` (`delta` N, default 1) or
    /// `-carpdemote [N]` (`delta` -N).
    GroupDemote { group: String, delta: i32 },
    /// `ifctl -s carp`: `netstat -s -p carp`; `hide_zero` is netstat's
    /// `-ss` (counters at zero left out).
    CarpStats {
        #[serde(default)]
        hide_zero: bool,
    },
}

/// One carp parameter of `ifctl carpN ...`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum CarpChange {
    Vhid(u8),
    Advbase(u8),
    Advskew(u8),
    /// The passphrase (the first 19 bytes count, as in OpenBSD).
    Pass(String),
    Carppeer(Ipv4Addr),
    /// `-carppeer`: back to multicast adverts.
    NoCarppeer,
    State(CarpStateArg),
    Carpdev(String),
    Up,
    Down,
}

/// `state master|backup|init`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CarpStateArg {
    Init,
    Backup,
    Master,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_round_trips() {
        let op = IfctlOp::SetCarp {
            name: "carp1".into(),
            changes: vec![
                CarpChange::Advskew(100),
                CarpChange::State(CarpStateArg::Backup),
                CarpChange::NoCarppeer,
                CarpChange::Carppeer(Ipv4Addr::new(192, 0, 2, 9)),
                CarpChange::Down,
            ],
        };
        let s = serde_json::to_string(&op).unwrap();
        assert_eq!(
            s,
            r#"{"op":"set_carp","name":"carp1","changes":[{"advskew":100},{"state":"backup"},"no_carppeer",{"carppeer":"192.0.2.9"},"down"]}"#
        );
        assert_eq!(serde_json::from_str::<IfctlOp>(&s).unwrap(), op);
        let g: IfctlOp = serde_json::from_str(r#"{"op":"carp_stats"}"#).unwrap();
        assert_eq!(g, IfctlOp::CarpStats { hide_zero: false });
        assert!(serde_json::from_str::<IfctlOp>(r#"{"op":"status","bogus":1}"#).is_err());
    }
}
