//! `hostname.pfsync0`: the state-sync interface, as the OpenBSD FAQ's
//! `up syncdev em2`, plus pfd's own words (`bulkburst N`, `authkey
//! FILE`). OpenBSD has exactly one pfsync interface, pfsync0.

use super::addr::parse_num;
use super::config::{AuthKey, PfsyncConfig};
use super::error::EtcErrors;
use super::words::split;
use std::net::Ipv4Addr;
use std::path::Path;

/// The options and the lines that matter for later checks.
pub struct Parsed {
    pub file: std::path::PathBuf,
    pub syncdev: Option<(String, usize)>,
    pub syncpeer: Option<Ipv4Addr>,
    pub maxupd: u8,
    pub defer: bool,
    pub up: bool,
    pub bulk_burst: u16,
    /// `authkey FILE` as written, and its line.
    pub authkey: Option<(String, usize)>,
    /// The mirror interface's name (`None`: `-mirror`), and the line
    /// that named it (0: the default).
    pub mirror: Option<(String, usize)>,
}

/// The mirror interface tcpdump watches unless `mirror` names another.
pub const MIRROR: &str = "pfsync0";

/// The most bulk-update packets pfd sends per 20 ms step: a worker's
/// transmit queue holds 256 frames per port.
pub const MAX_BULK_BURST: u16 = 200;

pub fn parse(file: &Path, text: &str, errs: &mut EtcErrors) -> Parsed {
    let mut p = Parsed {
        file: file.to_path_buf(),
        syncdev: None,
        syncpeer: None,
        maxupd: 128,
        defer: false,
        up: false,
        bulk_burst: 1,
        authkey: None,
        mirror: Some((MIRROR.to_string(), 0)),
    };
    for (idx, raw) in text.lines().enumerate() {
        let line = idx + 1;
        let t = raw.trim_matches([' ', '\t']);
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let words = match split(t) {
            Ok(w) => w,
            Err(e) => {
                errs.at(file, line, e);
                continue;
            }
        };
        if let Err(e) = options(&mut p, &words, line) {
            errs.at(file, line, e);
        }
    }
    p
}

fn options(p: &mut Parsed, w: &[String], line: usize) -> Result<(), String> {
    let mut it = w.iter();
    while let Some(word) = it.next() {
        let mut arg = |what: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{word} needs {what}"))
        };
        match word.as_str() {
            "up" => p.up = true,
            "down" => p.up = false,
            "syncdev" => p.syncdev = Some((arg("an interface")?, line)),
            "-syncdev" => p.syncdev = None,
            "syncpeer" => {
                let v = arg("an address")?;
                let a: Ipv4Addr = v
                    .parse()
                    .map_err(|_| format!("invalid syncpeer \"{v}\" (an IPv4 address)"))?;
                if a.is_multicast() || a.is_unspecified() || a.is_broadcast() {
                    return Err(format!("syncpeer {a} must be a unicast address"));
                }
                p.syncpeer = Some(a);
            }
            "-syncpeer" => p.syncpeer = None,
            "maxupd" => {
                let v = arg("a number")?;
                p.maxupd = parse_num(&v, 0, 255).ok_or(format!("invalid maxupd \"{v}\" (0..255)"))?
                    as u8;
            }
            "defer" => p.defer = true,
            "-defer" => p.defer = false,
            // pfd's own word: OpenBSD's ifconfig has none (its bulk
            // update sends one packet per 20 ms)
            "bulkburst" => {
                let v = arg("a number")?;
                p.bulk_burst = parse_num(&v, 1, u32::from(MAX_BULK_BURST)).ok_or(format!(
                    "invalid bulkburst \"{v}\" (1..{MAX_BULK_BURST} packets per 20 ms)"
                ))? as u16;
            }
            // pfd's own word: OpenBSD's pfsync has no authentication
            // (spec 10); both ends need the same key file
            "authkey" => p.authkey = Some((arg("a key file")?, line)),
            "-authkey" => p.authkey = None,
            // pfd's own: the TUN interface pfsync's packets are copied
            // to for tcpdump (OpenBSD's pfsync0 is one by itself)
            "mirror" => {
                let v = arg("an interface name")?;
                mirror_name(&v)?;
                p.mirror = Some((v, line));
            }
            "-mirror" => p.mirror = None,
            "inet" | "inet6" => return Err("pfsync0 takes no addresses".into()),
            other => {
                return Err(format!(
                    "\"{other}\" is not supported on pfsync0 (pfd supports up, down, syncdev, syncpeer, maxupd, defer, and its own bulkburst, authkey and mirror)"
                ))
            }
        }
    }
    Ok(())
}

/// The syncdev must be an interface configured here, and a pfsync that
/// is up needs one, or it would sync nothing.
pub fn finish(p: Parsed, physical: &[&str], errs: &mut EtcErrors) -> Option<PfsyncConfig> {
    let syncdev = match &p.syncdev {
        Some((dev, _)) if physical.contains(&dev.as_str()) => Some(dev.clone()),
        Some((dev, line)) => {
            errs.at(
                &p.file,
                *line,
                format!("syncdev {dev} has no hostname.{dev} (pfd runs only on interfaces configured here)"),
            );
            None
        }
        None => {
            if p.up {
                errs.push(
                    &p.file,
                    None,
                    "pfsync0 is up with no syncdev: it would sync nothing",
                );
            }
            None
        }
    };
    // a key file relative to the etc directory, as the other files
    let auth = match &p.authkey {
        None => None,
        Some((name, line)) => {
            let dir = p.file.parent().unwrap_or(Path::new("."));
            let path = dir.join(name);
            match super::keyfile::read_key(&path) {
                Ok(key) => Some(AuthKey::new(path, key)),
                Err(e) => {
                    errs.at(&p.file, *line, e);
                    return None;
                }
            }
        }
    };
    if let Some((name, line)) = &p.mirror {
        if physical.contains(&name.as_str()) {
            let msg = format!(
                "mirror {name}: pfd runs on an interface of that name (name another with `mirror NAME`, or none with `-mirror`)"
            );
            match *line {
                0 => errs.push(&p.file, None, msg),
                l => errs.at(&p.file, l, msg),
            }
        }
    }
    let syncdev = syncdev?;
    Some(PfsyncConfig {
        syncdev,
        syncpeer: p.syncpeer,
        maxupd: p.maxupd,
        defer: p.defer,
        up: p.up,
        bulk_burst: p.bulk_burst,
        auth,
        mirror: p.mirror.map(|(name, _)| name),
    })
}

/// A name Linux takes for an interface (dev_valid_name): 1..15 bytes,
/// not `.` or `..`, no `/`, `:`, blank or control byte.
fn mirror_name(name: &str) -> Result<(), String> {
    let bad = name.is_empty()
        || name.len() > 15
        || name == "."
        || name == ".."
        || name
            .bytes()
            .any(|b| b == b'/' || b == b':' || !b.is_ascii_graphic());
    if bad {
        return Err(format!(
            "invalid mirror \"{name}\" (an interface name of 1 to 15 bytes, no / or :)"
        ));
    }
    Ok(())
}
