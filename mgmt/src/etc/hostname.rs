//! One `hostname.<if>` file: netstart's packed `inet`/`inet6` lines and
//! the ifconfig options pfd can carry out, run in order as netstart runs
//! them. Everything else is refused by name, never skipped.

use super::addr::{default_broadcast, parse_mac, parse_netmask, parse_num};
use super::carp::{CarpDraft, CarpWord};
use super::config::{IfaceConfig, Inet4, Inet6};
use super::error::EtcErrors;
use super::words::split;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// OpenBSD creates `carpN` by cloning; pfd provides them itself, so the
/// name alone says the interface is a CARP virtual host.
pub fn is_carp_name(name: &str) -> bool {
    name.strip_prefix("carp")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// OpenBSD puts every interface in its driver's (or cloner's) group:
/// the name without its unit number.
fn driver_group(name: &str) -> Option<String> {
    let driver = name.trim_end_matches(|c: char| c.is_ascii_digit());
    (!driver.is_empty() && driver != name).then(|| driver.to_string())
}

/// The interface and its carp options, still to be checked against the
/// other files.
pub struct Parsed {
    pub iface: IfaceConfig,
    pub carp: Option<CarpDraft>,
}

const SUPPORTED: &str =
    "pfd supports inet, inet6, up, down, mtu, description, group, lladdr and, on carpN, the carp options";

pub fn parse(name: &str, file: &Path, text: &str, errs: &mut EtcErrors) -> Parsed {
    let carp_if = is_carp_name(name);
    let mut p = Parsed {
        iface: IfaceConfig {
            name: name.to_string(),
            file: file.to_path_buf(),
            inet: Vec::new(),
            inet6: Vec::new(),
            mtu: None,
            up: false,
            description: None,
            groups: driver_group(name).into_iter().collect(),
            lladdr: None,
            carp: None,
        },
        carp: carp_if.then(CarpDraft::default),
    };
    let before = errs.len();
    for (idx, raw) in text.lines().enumerate() {
        let line = idx + 1;
        let t = raw.trim_matches([' ', '\t']);
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if t.starts_with('!') {
            errs.at(
                file,
                line,
                "!command lines are not supported: pfd runs no commands from hostname.if",
            );
            continue;
        }
        let words = match split(t) {
            Ok(w) => w,
            Err(e) => {
                errs.at(file, line, e);
                continue;
            }
        };
        if let Err(e) = line_words(&mut p, &words, line) {
            errs.at(file, line, e);
        }
    }
    // A line already refused may be the one that held the vhid or the
    // address: saying it is missing too would only repeat that error.
    if let Some(c) = p.carp.as_ref().filter(|_| errs.len() == before) {
        if c.vhid.is_none() {
            errs.push(file, None, format!("{name} needs a vhid (vhid 1..255)"));
        }
        if p.iface.inet.is_empty() && p.iface.inet6.is_empty() {
            errs.push(file, None, format!("{name} has no address"));
        }
    }
    p
}

fn line_words(p: &mut Parsed, w: &[String], line: usize) -> Result<(), String> {
    let first = w.first().map(String::as_str).unwrap_or("");
    let rest = match first {
        "inet" => inet(p, w, line)?,
        "inet6" => inet6(p, w, line)?,
        "dhcp" => {
            return Err("dhcp is not supported: give a static address (inet ADDR NETMASK)".into())
        }
        "dest" => return Err("point-to-point destinations (dest) are not supported".into()),
        _ => 0,
    };
    options(p, w.get(rest..).unwrap_or(&[]), line)
}

/// `inet [alias] ADDR NETMASK [BROADCAST|NONE] [options]`, or with
/// `ADDR/LEN` in place of the netmask. Returns the index of the first
/// option word.
fn inet(p: &mut Parsed, w: &[String], line: usize) -> Result<usize, String> {
    let mut i = 1;
    let alias = w.get(i).is_some_and(|s| s == "alias");
    if alias {
        i += 1;
    }
    let a = w
        .get(i)
        .ok_or("inet needs an address (inet ADDR NETMASK)")?;
    if a == "autoconf" {
        return Err(
            "inet autoconf (DHCP) is not supported: give a static address (inet ADDR NETMASK)"
                .into(),
        );
    }
    i += 1;
    let (addr, prefix) = if let Some((a, len)) = a.split_once('/') {
        let addr = parse_v4(a)?;
        let prefix = parse_num(len, 0, 32).ok_or(format!("invalid prefix length \"/{len}\""))?;
        (addr, prefix as u8)
    } else {
        let addr = parse_v4(a)?;
        let m = w.get(i).ok_or(format!(
            "inet {addr} needs a netmask (e.g. 255.255.255.0 or 0xffffff00)"
        ))?;
        i += 1;
        (addr, parse_netmask(m)?)
    };
    if addr.is_unspecified() || addr.is_multicast() || addr.is_broadcast() {
        return Err(format!("{addr} cannot be an interface address"));
    }
    let mut broadcast = default_broadcast(addr, prefix);
    if broadcast == Some(addr) {
        return Err(format!(
            "{addr} is the broadcast address of {addr}/{prefix}"
        ));
    }
    // netstart takes the word after the netmask as the broadcast address;
    // an option keyword there is read as an option instead, which is what
    // the author meant.
    match w.get(i).map(String::as_str) {
        Some("NONE") => {
            broadcast = None;
            i += 1;
        }
        Some(b) if b.parse::<Ipv4Addr>().is_ok() || b.contains('.') => {
            let b = parse_v4(b)?;
            if !super::addr::contains(addr.into(), prefix, b.into()) {
                return Err(format!("broadcast address {b} is not on {addr}/{prefix}"));
            }
            broadcast = Some(b);
            i += 1;
        }
        _ => {}
    }
    if !alias {
        if let Some(old) = p.iface.inet.first() {
            return Err(format!(
                "a second inet line without alias would replace {} (set at line {}): write inet alias",
                old.addr, old.line
            ));
        }
    }
    if let Some(dup) = p.iface.inet.iter().find(|x| x.addr == addr) {
        return Err(format!("{addr} is already set at line {}", dup.line));
    }
    p.iface.inet.push(Inet4 {
        addr,
        prefix,
        broadcast,
        line,
    });
    p.iface.up = true;
    Ok(i)
}

/// `inet6 [alias] ADDR PREFIXLEN [options]` or `inet6 ADDR/LEN`.
/// IPv6 addresses are always added (ifconfig never replaces one), so
/// `alias` changes nothing.
fn inet6(p: &mut Parsed, w: &[String], line: usize) -> Result<usize, String> {
    let mut i = 1;
    if w.get(i).is_some_and(|s| s == "alias") {
        i += 1;
    }
    let a = w
        .get(i)
        .ok_or("inet6 needs an address (inet6 ADDR PREFIXLEN)")?;
    match a.as_str() {
        "autoconf" | "eui64" => {
            return Err(format!(
                "inet6 {a} is not supported: give a static address (inet6 ADDR PREFIXLEN)"
            ))
        }
        _ => {}
    }
    i += 1;
    let (addr, prefix) = if let Some((a, len)) = a.split_once('/') {
        let prefix = parse_num(len, 0, 128).ok_or(format!("invalid prefix length \"/{len}\""))?;
        (parse_v6(a)?, prefix as u8)
    } else {
        let addr = parse_v6(a)?;
        let len = w.get(i).ok_or(format!(
            "inet6 {addr} needs a prefix length (inet6 ADDR PREFIXLEN)"
        ))?;
        i += 1;
        let prefix = parse_num(len, 0, 128).ok_or(format!("invalid prefix length \"{len}\""))?;
        (addr, prefix as u8)
    };
    if addr.is_unspecified() || addr.is_multicast() || addr.is_loopback() {
        return Err(format!("{addr} cannot be an interface address"));
    }
    if let Some(dup) = p.iface.inet6.iter().find(|x| x.addr == addr) {
        return Err(format!("{addr} is already set at line {}", dup.line));
    }
    p.iface.inet6.push(Inet6 { addr, prefix, line });
    p.iface.up = true;
    Ok(i)
}

fn parse_v4(s: &str) -> Result<Ipv4Addr, String> {
    s.parse()
        .map_err(|_| format!("invalid IPv4 address \"{s}\""))
}

fn parse_v6(s: &str) -> Result<Ipv6Addr, String> {
    if s.contains('%') {
        return Err(format!(
            "scoped address \"{s}\": the interface is the file's"
        ));
    }
    s.parse()
        .map_err(|_| format!("invalid IPv6 address \"{s}\""))
}

/// The ifconfig options, each possibly with one argument, left to right;
/// a later one overrides an earlier one as it would on OpenBSD.
fn options(p: &mut Parsed, w: &[String], line: usize) -> Result<(), String> {
    let mut it = w.iter();
    while let Some(word) = it.next() {
        let mut arg = |what: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{word} needs {what}"))
        };
        match word.as_str() {
            "up" => p.iface.up = true,
            "down" => p.iface.up = false,
            "mtu" => {
                let v = arg("a value")?;
                let mtu =
                    parse_num(&v, 68, 65535).ok_or(format!("invalid mtu \"{v}\" (68..65535)"))?;
                p.iface.mtu = Some(mtu);
            }
            "description" | "descr" => p.iface.description = Some(arg("a text")?),
            "group" => {
                let g = arg("a group name")?;
                check_group(&g)?;
                if !p.iface.groups.contains(&g) {
                    p.iface.groups.push(g);
                }
            }
            "lladdr" => {
                let v = arg("an address")?;
                if p.carp.is_some() {
                    return Err(format!(
                        "{} takes its link-layer address from its vhid (00:00:5e:00:01:VHID): lladdr cannot be set",
                        p.iface.name
                    ));
                }
                if v == "random" {
                    return Err("lladdr random is not supported: give the address".into());
                }
                let mac = parse_mac(&v).ok_or(format!("invalid lladdr \"{v}\""))?;
                if mac[0] & 1 != 0 {
                    return Err(format!("lladdr {v} is a multicast address"));
                }
                p.iface.lladdr = Some(mac);
            }
            other => match CarpWord::from_word(other) {
                Some(cw) => {
                    let Some(c) = p.carp.as_mut() else {
                        return Err(format!(
                            "{other} is a carp option: only hostname.carpN files take it"
                        ));
                    };
                    let v = if cw.takes_arg() {
                        Some(arg(cw.arg_name())?)
                    } else {
                        None
                    };
                    c.apply(cw, v.as_deref(), line)?;
                }
                None if other.starts_with('#') => {
                    return Err(
                        "a comment must start its own line: netstart would pass it to ifconfig"
                            .into(),
                    );
                }
                None => {
                    return Err(format!("\"{other}\" is not supported ({SUPPORTED})"));
                }
            },
        }
    }
    Ok(())
}

/// ifconfig's own rules for group names: they share the interface name
/// space and may not end in a digit, or `on GROUP` could not be told from
/// an interface.
fn check_group(g: &str) -> Result<(), String> {
    if g.is_empty() || g.len() > 15 {
        return Err(format!("invalid group name \"{g}\" (1..15 characters)"));
    }
    if g.bytes().last().is_some_and(|b| b.is_ascii_digit()) {
        return Err(format!("group name \"{g}\" may not end in a digit"));
    }
    if g.bytes()
        .any(|b| b.is_ascii_whitespace() || b == b'/' || b == b':')
    {
        return Err(format!("invalid group name \"{g}\""));
    }
    Ok(())
}
