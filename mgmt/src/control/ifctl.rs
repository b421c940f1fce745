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
    /// `ifctl -s pfsync`: `netstat -s -p pfsync` (`hide_zero`: `-ss`).
    PfsyncStats {
        #[serde(default)]
        hide_zero: bool,
    },
    /// `ifctl pfsync0 PARAM...`: applied in order; the first refused
    /// one stops the rest.
    SetPfsync { changes: Vec<PfsyncChange> },
}

/// One pfsync parameter of `ifctl pfsync0 ...`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum PfsyncChange {
    Maxupd(u8),
    Syncpeer(Ipv4Addr),
    /// `-syncpeer`: back to the 224.0.0.240 group.
    NoSyncpeer,
    Defer(bool),
    Syncdev(String),
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

    use proptest::prelude::*;

    fn change() -> impl Strategy<Value = CarpChange> {
        prop_oneof![
            any::<u8>().prop_map(CarpChange::Vhid),
            any::<u8>().prop_map(CarpChange::Advbase),
            any::<u8>().prop_map(CarpChange::Advskew),
            ".{0,24}".prop_map(CarpChange::Pass),
            any::<u32>().prop_map(|a| CarpChange::Carppeer(Ipv4Addr::from(a))),
            Just(CarpChange::NoCarppeer),
            prop_oneof![
                Just(CarpStateArg::Init),
                Just(CarpStateArg::Backup),
                Just(CarpStateArg::Master)
            ]
            .prop_map(CarpChange::State),
            "[a-z]{1,8}[0-9]{0,2}".prop_map(CarpChange::Carpdev),
            Just(CarpChange::Up),
            Just(CarpChange::Down),
        ]
    }

    fn op() -> impl Strategy<Value = IfctlOp> {
        prop_oneof![
            proptest::option::of(".{0,16}").prop_map(|name| IfctlOp::Status { name }),
            (".{0,16}", proptest::collection::vec(change(), 0..8))
                .prop_map(|(name, changes)| IfctlOp::SetCarp { name, changes }),
            ".{0,16}".prop_map(|group| IfctlOp::GroupShow { group }),
            (".{0,16}", any::<i32>())
                .prop_map(|(group, delta)| IfctlOp::GroupDemote { group, delta }),
            any::<bool>().prop_map(|hide_zero| IfctlOp::CarpStats { hide_zero }),
        ]
    }

    proptest! {
        /// A request line decodes to the request that was encoded.
        #[test]
        fn request_lines_round_trip(op in op()) {
            let req = crate::control::Request::Ifctl { op };
            let line = crate::control::encode_request(&req);
            let body = line.strip_suffix(b"\n").unwrap_or(&line);
            prop_assert_eq!(crate::control::decode_request(body), Ok(req));
        }
    }
}
