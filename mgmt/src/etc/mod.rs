//! Booting from an etc directory, as OpenBSD's netstart and rc do. The
//! daemon (`pfd --etc DIR`) calls [`load_etc`], which reads
//!
//! * `hostname.<if>`: one per interface, named for the Linux interface
//!   (`hostname.eth0`, `hostname.ens3`); `hostname.carpN` for a CARP
//!   virtual host. Lines are ifconfig arguments, in netstart's packed
//!   forms: `inet [alias] ADDR NETMASK [BROADCAST|NONE]` (netmask dotted
//!   or `0x` hex, or `ADDR/LEN`), `inet6 [alias] ADDR PREFIXLEN`, and the
//!   options `up`, `down`, `mtu N`, `description "text"`, `group NAME`,
//!   `lladdr MAC`, and on carpN `vhid`, `advbase`, `advskew`, `carpdev`,
//!   `pass`, `carppeer`, `state`; options may follow an address on the
//!   same line. `#` at the start of a line is a comment (netstart does
//!   not strip one later in the line, so that is an error); arguments
//!   with blanks or `'` are double quoted, and shell syntax is refused.
//! * `hostname.pfsync0`: `up`, `down`, `syncdev IF`, `syncpeer ADDR`,
//!   `maxupd N`, `defer`, and pfd's own `bulkburst N`, `authkey FILE`
//!   (a private file of 16 to 1024 bytes, read here) and `mirror NAME`
//!   / `-mirror` (the interface tcpdump watches pfsync on).
//! * `mygate`: the default IPv4 and/or IPv6 gateway.
//! * `sysctl.conf`: the keys in [`sysctl::KEYS`].
//! * `pf.conf`: the ruleset, which must exist; [`EtcConfig::load_pf`]
//!   compiles it against the interfaces configured here.
//!
//! What pfd cannot do is refused by name with `FILE:LINE: message`, never
//! skipped: `dhcp`, `inet autoconf`, `inet6 autoconf`, `!command` lines,
//! `dest`, and any other ifconfig option or sysctl. Every error of the
//! run is reported, and no configuration is returned if there is one, so
//! pfd never starts half-configured.
//!
//! Choices where OpenBSD would behave otherwise, made so that what the
//! file says is what runs:
//! * a second `inet` without `alias` would replace the first address on
//!   OpenBSD; here it is an error asking for `inet alias`;
//! * a second gateway of one family in `mygate` would be ignored on
//!   OpenBSD; here it is an error;
//! * a gateway on none of the configured networks is an error, as
//!   OpenBSD's `route add` fails with "Network is unreachable" for it; a
//!   link-local IPv6 gateway must name its interface (`fe80::1%eth0`);
//! * each interface is in its driver's group (`eth0` in `eth`, `carp1` in
//!   `carp`: the name without its unit number), as on OpenBSD and as
//!   pfd's view of a running Linux host has it;
//! * the interface holding a gateway's network joins group `egress`, as
//!   OpenBSD's kernel does for the default route's interface (the first
//!   such physical interface by name; a carp one only if no physical one
//!   holds it);
//! * a carpN interface's `carpdev` must have its own hostname file (pfd
//!   only runs on interfaces configured here); without `carpdev`, the
//!   interface whose network holds the carp address is used, as OpenBSD
//!   does;
//! * whether each named interface exists is checked separately, by
//!   [`EtcConfig::check_interfaces`], at daemon start.

mod addr;
mod carp;
mod config;
mod error;
mod hostenv;
mod hostname;
mod keyfile;
mod mygate;
#[cfg(test)]
mod noise;
mod pfsync;
mod stripcom;
pub mod sysctl;
mod validate;
mod words;

pub use carp::MAX_PASS;
pub use config::{
    AuthKey, CarpConfig, CarpState, EtcConfig, Gateway6, Gateways, IfaceConfig, Inet4, Inet6,
    PfsyncConfig, Sysctl,
};
pub use error::{EtcError, EtcErrors};
pub use hostenv::EtcHost;
pub use hostname::is_carp_name;

use std::path::{Path, PathBuf};

/// Read and check every boot file in `dir`. `Err` holds every error found.
pub fn load_etc(dir: &Path) -> Result<EtcConfig, EtcErrors> {
    let mut errs = EtcErrors::default();
    let mut parsed = Vec::new();
    let mut pfsync_parsed = None;
    match hostname_files(dir) {
        Ok(files) => {
            if files.is_empty() {
                errs.push(
                    dir,
                    None,
                    "no hostname.<if> files: pfd would start with no interfaces",
                );
            }
            for (name, path) in files {
                if let Err(e) = check_if_name(&name) {
                    errs.push(&path, None, e);
                    continue;
                }
                if name == "pfsync0" {
                    if let Some(text) = read(&path, &mut errs) {
                        pfsync_parsed = Some(pfsync::parse(&path, &text, &mut errs));
                    }
                    continue;
                }
                if let Some(text) = read(&path, &mut errs) {
                    parsed.push(hostname::parse(&name, &path, &text, &mut errs));
                }
            }
        }
        Err(e) => errs.push(dir, None, e),
    }

    let gate_path = dir.join("mygate");
    let gates = match read_optional(&gate_path, &mut errs) {
        Some(text) => mygate::parse(&gate_path, &text, &mut errs),
        None => mygate::Parsed::default(),
    };
    let sysctl_path = dir.join("sysctl.conf");
    let sysctl = match read_optional(&sysctl_path, &mut errs) {
        Some(text) => sysctl::parse(&sysctl_path, &text, &mut errs),
        None => Sysctl::default(),
    };
    let pf_conf = dir.join("pf.conf");
    if !pf_conf.is_file() {
        errs.push(&pf_conf, None, "missing: pfd needs a ruleset to start");
    }

    let physical: Vec<String> = parsed
        .iter()
        .filter(|p| p.carp.is_none())
        .map(|p| p.iface.name.clone())
        .collect();
    let physical: Vec<&str> = physical.iter().map(String::as_str).collect();
    let pfsync = pfsync_parsed.and_then(|p| pfsync::finish(p, &physical, &mut errs));
    let interfaces = validate::cross_check(parsed, &gate_path, &gates, &mut errs);
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(EtcConfig {
        interfaces,
        gateways: gates.gw,
        sysctl,
        pf_conf,
        pfsync,
    })
}

impl EtcConfig {
    /// At daemon start: every interface named by a hostname file must
    /// exist (`exists` asks the system). carpN interfaces are pfd's own
    /// and are not looked up; their carpdev has its own file and is.
    pub fn check_interfaces(&self, exists: &dyn Fn(&str) -> bool) -> Result<(), EtcErrors> {
        let mut errs = EtcErrors::default();
        for i in &self.interfaces {
            if i.carp.is_none() && !exists(&i.name) {
                errs.push(&i.file, None, format!("no such interface {}", i.name));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }
}

/// `hostname.*` in `dir`, sorted by interface name (netstart's order is
/// by kind; ours only matters for the order of diagnostics).
fn hostname_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("cannot read directory: {e}"))?;
    let mut out = Vec::new();
    for ent in rd {
        let ent = ent.map_err(|e| format!("cannot read directory: {e}"))?;
        let fname = ent.file_name();
        let lossy = fname.to_string_lossy();
        if let Some(name) = lossy.strip_prefix("hostname.") {
            // A name that is not UTF-8 keeps its U+FFFD here and so fails
            // the name check with an error, rather than being skipped.
            out.push((name.to_string(), ent.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Linux's rules for an interface name (dev_valid_name): 1..15 bytes,
/// not `.` or `..`, no `/`, `:` or blank.
fn check_if_name(name: &str) -> Result<(), String> {
    if name.len() == 17 && name.bytes().filter(|&b| b == b':').count() == 5 {
        return Err(
            "naming an interface by its link-layer address is not supported: use its name".into(),
        );
    }
    if name.starts_with("pfsync") && name != "pfsync0" {
        return Err("there is one pfsync interface, pfsync0".into());
    }
    let bad = name.is_empty()
        || name.len() > 15
        || name == "."
        || name == ".."
        || name
            .bytes()
            .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace() || !b.is_ascii_graphic());
    if bad {
        return Err(format!("\"{name}\" is not a valid interface name"));
    }
    Ok(())
}

fn read(path: &Path, errs: &mut EtcErrors) -> Option<String> {
    match std::fs::read(path) {
        Ok(b) => match String::from_utf8(b) {
            Ok(s) => Some(s),
            Err(_) => {
                errs.push(path, None, "not valid UTF-8 text");
                None
            }
        },
        Err(e) => {
            errs.push(
                path,
                None,
                format!("cannot read: {}", ruleset::io_error_text(&e)),
            );
            None
        }
    }
}

/// `mygate` and `sysctl.conf` may be absent, as on OpenBSD.
fn read_optional(path: &Path, errs: &mut EtcErrors) -> Option<String> {
    if path.exists() {
        read(path, errs)
    } else {
        None
    }
}
