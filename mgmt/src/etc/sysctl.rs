//! `sysctl.conf`: `name=value` lines rc(8) feeds to sysctl(8). pfd acts
//! on the few keys below; any other key is refused, since it would be
//! set on OpenBSD and is not here. Blanks around `=` are allowed (sysctl
//! itself would refuse them), and `#` starts a comment anywhere, as
//! rc's stripcom has it.

use super::config::Sysctl;
use super::error::EtcErrors;
use super::stripcom::stripcom;
use std::path::Path;

/// The keys pfd implements, for the error message.
pub const KEYS: &[&str] = &[
    "net.inet.ip.forwarding",
    "net.inet6.ip6.forwarding",
    "net.inet.carp.allow",
    "net.inet.carp.preempt",
    "net.inet.carp.log",
];

pub fn parse(file: &Path, text: &str, errs: &mut EtcErrors) -> Sysctl {
    let mut s = Sysctl::default();
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for (line, t) in stripcom(text) {
        let Some((k, v)) = t.split_once('=') else {
            errs.at(file, line, format!("expected name=value, not \"{t}\""));
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == k) {
            errs.at(file, line, format!("{k} is already set at line {first}"));
            continue;
        }
        seen.push((k, line));
        if let Err(e) = set(&mut s, k, v) {
            errs.at(file, line, e);
        }
    }
    s
}

fn set(s: &mut Sysctl, k: &str, v: &str) -> Result<(), String> {
    let flag = |v: &str| match v {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err(format!("{k}={v}: the value must be 0 or 1")),
    };
    match k {
        "net.inet.ip.forwarding" => {
            if v == "2" {
                return Err(format!(
                    "{k}=2 (forward IPsec traffic only) is not supported: use 0 or 1"
                ));
            }
            s.ip_forwarding = flag(v)?;
        }
        "net.inet6.ip6.forwarding" => s.ip6_forwarding = flag(v)?,
        "net.inet.carp.allow" => s.carp_allow = flag(v)?,
        "net.inet.carp.preempt" => s.carp_preempt = flag(v)?,
        "net.inet.carp.log" => {
            s.carp_log = super::addr::parse_num(v, 0, 7)
                .ok_or(format!("{k}={v}: the value must be 0..7"))? as u8;
        }
        _ => {
            return Err(format!(
                "{k} is not supported (pfd supports {})",
                KEYS.join(", ")
            ))
        }
    }
    Ok(())
}
