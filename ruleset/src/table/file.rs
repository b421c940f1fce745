//! Table files (`table <t> file "/path"`), read as pfctl's
//! `pfr_buf_load` + `append_addr` do: white-space separated words, `#`
//! at the start of a word comments out the rest of the line, leading `!`
//! negates, `weight N` sets the weight of the entry before it, and every
//! other word goes through [`host()`](crate::host::host).

use std::net::IpAddr;
use std::path::Path;

use nix::errno::Errno;

use crate::addr::{AddrWrap, Af};
use crate::host::{host, HostError, NumError};
use crate::hostenv::HostEnv;

/// pfctl's token buffer: a word must be shorter than this.
const BUF_SIZE: usize = 256;

/// One entry of a table: pfctl's `pfr_addr`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TableAddr {
    /// The network, masked to `prefix`.
    pub addr: IpAddr,
    pub prefix: u8,
    /// `!addr`: excluded from the table.
    pub negated: bool,
    /// `addr@ifname` (route-to tables).
    pub ifname: Option<String>,
    /// `weight N` after the address; 0 when not given.
    pub weight: u16,
}

/// Why the words of a table file could not be turned into entries.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TableTextError {
    /// A word named no address; `source` has pfctl's stderr text.
    #[error("{source}")]
    Host { word: String, source: HostError },
    /// `weight` followed by something other than 1..=65535.
    #[error("failed to convert weight {word}")]
    BadWeight { word: String, reason: NumError },
    /// `weight` as the last word.
    #[error("weight without a value")]
    WeightMissing,
    /// A word of `len` bytes, longer than pfctl's buffer.
    #[error("word too long ({len} bytes)")]
    WordTooLong { len: usize },
    /// A network longer than its family (`1.2.3.4/64`).
    #[error("prefix /{prefix} too long for {addr}")]
    PrefixTooLong { addr: IpAddr, prefix: u8 },
}

impl TableTextError {
    /// Lines pfctl writes to stderr before its own error line.
    pub fn diagnostics(&self) -> Vec<String> {
        match self {
            TableTextError::Host { source, .. } => source.lines(),
            TableTextError::BadWeight { .. } => vec![self.to_string()],
            _ => Vec::new(),
        }
    }

    /// The `errno` pfctl is left with, which picks between
    /// `cannot load "F": <strerror>` and `file "F" contains bad data`.
    fn errno(&self) -> Option<Errno> {
        match self {
            TableTextError::Host { .. } | TableTextError::WeightMissing => None,
            TableTextError::BadWeight {
                reason: NumError::Invalid,
                ..
            } => Some(Errno::EINVAL),
            TableTextError::BadWeight { .. } => Some(Errno::ERANGE),
            TableTextError::WordTooLong { .. } | TableTextError::PrefixTooLong { .. } => {
                Some(Errno::EINVAL)
            }
        }
    }
}

/// Why a table file could not be loaded. `Display` is the message the
/// grammar reports after `FILE:LINE: `; [`diagnostics`](Self::diagnostics)
/// are the stderr lines pfctl prints before it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TableFileError {
    #[error("cannot load \"{path}\": {}", errno.desc())]
    CannotLoad {
        path: String,
        errno: Errno,
        cause: Option<TableTextError>,
    },
    #[error("file \"{path}\" contains bad data")]
    BadData { path: String, cause: TableTextError },
}

impl TableFileError {
    pub fn diagnostics(&self) -> Vec<String> {
        match self {
            TableFileError::CannotLoad { cause: Some(c), .. }
            | TableFileError::BadData { cause: c, .. } => c.diagnostics(),
            TableFileError::CannotLoad { cause: None, .. } => Vec::new(),
        }
    }
}

/// Load the table file at `path`.
pub fn load_table_file(path: &Path, env: &dyn HostEnv) -> Result<Vec<TableAddr>, TableFileError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| TableFileError::CannotLoad {
        path: shown.clone(),
        errno: e.raw_os_error().map_or(Errno::EIO, Errno::from_raw),
        cause: None,
    })?;
    parse_table_text(&String::from_utf8_lossy(&bytes), env).map_err(|cause| match cause.errno() {
        Some(errno) => TableFileError::CannotLoad {
            path: shown,
            errno,
            cause: Some(cause),
        },
        None => TableFileError::BadData { path: shown, cause },
    })
}

/// The entries named by the words of `text`, in order.
pub fn parse_table_text(text: &str, env: &dyn HostEnv) -> Result<Vec<TableAddr>, TableTextError> {
    let mut out: Vec<TableAddr> = Vec::new();
    let mut expect_weight = false;
    // Entry count after the last address word: `weight` applies from there.
    let mut previous = 0usize;
    for word in words(text) {
        if word.len() >= BUF_SIZE {
            return Err(TableTextError::WordTooLong { len: word.len() });
        }
        if word == "weight" {
            expect_weight = true;
            continue;
        }
        if expect_weight {
            let w = crate::host::strtonum(word, 1, i64::from(u16::MAX)).map_err(|reason| {
                TableTextError::BadWeight {
                    word: word.to_string(),
                    reason,
                }
            })?;
            // pfctl counts entries from 1 and marks those at or after
            // `previous`: the last entry of the previous word.
            for a in out.iter_mut().skip(previous.saturating_sub(1)) {
                a.weight = w as u16;
            }
            expect_weight = false;
            continue;
        }
        let bangs = word.bytes().take_while(|&b| b == b'!').count();
        let negated = bangs % 2 == 1;
        let nodes = host(&word[bangs..], env).map_err(|source| TableTextError::Host {
            word: word.to_string(),
            source,
        })?;
        for n in nodes {
            if let (AddrWrap::AddrMask { addr, prefix }, Some(af)) = (&n.addr, n.af) {
                if *prefix > Af::bits(af) {
                    return Err(TableTextError::PrefixTooLong {
                        addr: *addr,
                        prefix: *prefix,
                    });
                }
                out.push(TableAddr {
                    addr: *addr,
                    prefix: *prefix,
                    negated: negated ^ n.not,
                    ifname: n.ifname.clone(),
                    weight: n.weight,
                });
            }
        }
        previous = out.len();
    }
    if expect_weight {
        return Err(TableTextError::WeightMissing);
    }
    Ok(out)
}

/// pfctl's `pfr_next_token`: words split on C white space; a word that
/// starts with `#` starts a comment that runs to the end of the line (a
/// `#` inside a word is part of it).
fn words(text: &str) -> impl Iterator<Item = &str> {
    let b = text.as_bytes();
    let is_space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r');
    let mut i = 0usize;
    std::iter::from_fn(move || loop {
        while i < b.len() && is_space(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        if b[i] == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        while i < b.len() && !is_space(b[i]) {
            i += 1;
        }
        // Splits fall on ASCII bytes, so both ends are char boundaries.
        return text.get(start..i);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hostenv::RegressHost;

    fn show(v: &[TableAddr]) -> Vec<String> {
        v.iter()
            .map(|a| {
                let mut s = format!(
                    "{}{}/{}",
                    if a.negated { "!" } else { "" },
                    a.addr,
                    a.prefix
                );
                if let Some(i) = &a.ifname {
                    s.push_str(&format!("@{i}"));
                }
                if a.weight != 0 {
                    s.push_str(&format!(" w{}", a.weight));
                }
                s
            })
            .collect()
    }

    #[test]
    fn comments_negation_and_interfaces() {
        let env = RegressHost::new();
        let text = "# leading comment\n10.0.0.0/8 !10.1.0.0/16 # trailing\n\t!!192.168.1.1\n\
                    lo0:network 2001:db8::/32#notacomment\n   #x y z\n!localhost";
        let got = parse_table_text(text, &env);
        // `2001:db8::/32#notacomment` is one word with a bad netmask.
        assert_eq!(
            got.unwrap_err().to_string(),
            "netmask is invalid: /32#notacomment"
        );
        let text = "# leading comment\n10.0.0.0/8 !10.1.0.0/16 # trailing\n\t!!192.168.1.1\n\
                    lo0:network 2001:db8::/32\n   #x y z\n!localhost";
        assert_eq!(
            show(&parse_table_text(text, &env).unwrap()),
            [
                "10.0.0.0/8",
                "!10.1.0.0/16",
                "192.168.1.1/32",
                "::1/128",
                "127.0.0.0/8",
                "2001:db8::/32",
                "!127.0.0.1/32",
                "!::1/128"
            ]
        );
    }

    #[test]
    fn weights_and_ifnames() {
        let env = RegressHost::new();
        let got =
            parse_table_text("1.1.1.1 weight 5 lo0 weight 2 3.3.3.3@tun1000000", &env).unwrap();
        assert_eq!(
            show(&got),
            [
                "1.1.1.1/32 w5",
                "::1/128",
                "fe80::1/128",
                "127.0.0.1/32 w2",
                "3.3.3.3/32@tun1000000"
            ]
        );
        assert_eq!(
            parse_table_text("1.1.1.1 weight", &env),
            Err(TableTextError::WeightMissing)
        );
        let e = parse_table_text("1.1.1.1 weight 0", &env).unwrap_err();
        assert_eq!(e.diagnostics(), ["failed to convert weight 0"]);
    }

    #[test]
    fn bad_words() {
        let env = RegressHost::new();
        let e = parse_table_text("1.2.3.4 10.0.0.0.1", &env).unwrap_err();
        assert_eq!(e.to_string(), "no IP address found for 10.0.0.0.1");
        assert_eq!(e.diagnostics(), ["no IP address found for 10.0.0.0.1"]);
        assert!(matches!(
            parse_table_text("1.2.3.4/64", &env),
            Err(TableTextError::PrefixTooLong { prefix: 64, .. })
        ));
        let long = "a".repeat(256);
        assert_eq!(
            parse_table_text(&long, &env),
            Err(TableTextError::WordTooLong { len: 256 })
        );
        assert_eq!(parse_table_text("  \n# only\n", &env), Ok(Vec::new()));
    }

    #[test]
    fn file_errors_read_like_pfctl() {
        let env = RegressHost::new();
        let e = load_table_file(Path::new("/does/not/exists"), &env).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot load \"/does/not/exists\": No such file or directory"
        );
        assert!(e.diagnostics().is_empty());
        assert_eq!(
            load_table_file(Path::new("/dev/null"), &env).unwrap(),
            Vec::new()
        );

        let dir = std::env::temp_dir().join(format!("pfd-table-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad");
        std::fs::write(&bad, "1.2.3.4\nnosuchhost\n").unwrap();
        let e = load_table_file(&bad, &env).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("file \"{}\" contains bad data", bad.display())
        );
        assert_eq!(e.diagnostics(), ["no IP address found for nosuchhost"]);
        let inval = dir.join("inval");
        std::fs::write(&inval, "1.2.3.4/33\n").unwrap();
        let e = load_table_file(&inval, &env).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("cannot load \"{}\": Invalid argument", inval.display())
        );
        let e = load_table_file(&dir, &env).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("cannot load \"{}\": Is a directory", dir.display())
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hundred_thousand_entries() {
        let env = RegressHost::new();
        let mut text = String::from("# generated\n");
        for i in 0..100_000u32 {
            let a = std::net::Ipv4Addr::from(0x0a00_0000 | (i << 4));
            if i % 10 == 0 {
                text.push_str(&format!("!{a}/28\n"));
            } else if i % 7 == 0 {
                text.push_str(&format!("2001:db8:{:x}:{:x}::/64\n", i >> 16, i & 0xffff));
            } else {
                text.push_str(&format!("{a}\n"));
            }
        }
        let got = parse_table_text(&text, &env).unwrap();
        assert_eq!(got.len(), 100_000);
        assert_eq!(
            got[10],
            TableAddr {
                addr: "10.0.0.160".parse().unwrap(),
                prefix: 28,
                negated: true,
                ifname: None,
                weight: 0
            }
        );
        let t = super::super::build_radix(&got).unwrap();
        assert_eq!(t.len(), 100_000);
        assert!(t.contains("10.0.0.16".parse().unwrap()));
        assert!(!t.contains("10.0.0.17".parse().unwrap()));
        assert!(!t.contains("10.0.0.161".parse().unwrap()));
        assert!(t.contains("2001:db8:0:7::1".parse().unwrap()));
        assert!(!t.contains("2001:db8:0:8::1".parse().unwrap()));
    }
}
