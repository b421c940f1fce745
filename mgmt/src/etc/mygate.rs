//! `mygate`: the default IPv4 and/or IPv6 gateway, one address a line.
//! OpenBSD uses the first of each family that `route add` accepts; pfd
//! takes exactly one of each, so a second one is an error rather than a
//! line that is quietly never used.

use super::config::{Gateway6, Gateways};
use super::error::EtcErrors;
use super::stripcom::stripcom;
use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;

/// The gateways and the line each came from.
#[derive(Default)]
pub struct Parsed {
    pub gw: Gateways,
    pub v4_line: usize,
    pub v6_line: usize,
}

pub fn parse(file: &Path, text: &str, errs: &mut EtcErrors) -> Parsed {
    let mut p = Parsed::default();
    for (line, t) in stripcom(text) {
        if t.split_whitespace().nth(1).is_some() {
            errs.at(
                file,
                line,
                format!("one gateway address a line, not \"{t}\""),
            );
            continue;
        }
        if t == "dhcp" || t.starts_with('!') {
            errs.at(
                file,
                line,
                format!("\"{t}\" is not supported: give the gateway's address"),
            );
            continue;
        }
        let (a, scope) = match t.split_once('%') {
            Some((a, s)) => (a, Some(s)),
            None => (t, None),
        };
        let Ok(addr) = a.parse::<IpAddr>() else {
            errs.at(file, line, format!("invalid gateway address \"{t}\""));
            continue;
        };
        if addr.is_unspecified() || addr.is_multicast() || addr.is_loopback() {
            errs.at(file, line, format!("{addr} cannot be a gateway"));
            continue;
        }
        match addr {
            IpAddr::V4(v4) => {
                if scope.is_some() {
                    errs.at(
                        file,
                        line,
                        format!("IPv4 gateway \"{t}\" cannot have a scope"),
                    );
                } else if p.gw.v4.is_some() {
                    errs.at(
                        file,
                        line,
                        format!("a second IPv4 gateway (the first is at line {})", p.v4_line),
                    );
                } else {
                    p.gw.v4 = Some(v4);
                    p.v4_line = line;
                }
            }
            IpAddr::V6(v6) => {
                if let Err(e) = check_scope(v6, scope) {
                    errs.at(file, line, e);
                } else if p.gw.v6.is_some() {
                    errs.at(
                        file,
                        line,
                        format!("a second IPv6 gateway (the first is at line {})", p.v6_line),
                    );
                } else {
                    p.gw.v6 = Some(Gateway6 {
                        addr: v6,
                        scope: scope.map(str::to_string),
                    });
                    p.v6_line = line;
                }
            }
        }
    }
    p
}

/// A link-local gateway means nothing without its interface
/// (`fe80::1%eth0`); a global one must not carry one.
fn check_scope(a: Ipv6Addr, scope: Option<&str>) -> Result<(), String> {
    match (super::addr::is_link_local6(a), scope) {
        (true, None) => Err(format!(
            "link-local gateway {a} needs its interface ({a}%IF)"
        )),
        (true, Some("")) | (false, Some(_)) => Err(format!(
            "invalid scope on gateway {a}: only a link-local gateway takes %IF"
        )),
        _ => Ok(()),
    }
}
