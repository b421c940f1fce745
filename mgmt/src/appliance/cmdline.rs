//! `pfd.etc=NAME` on the kernel command line: which of the image's etc
//! directories (`/etc/pfd/NAME`) this machine boots from, so that one
//! image serves both firewalls of a pair.

use std::path::{Path, PathBuf};

/// The kernel parameter naming the etc directory.
pub const ETC_PARAM: &str = "pfd.etc";

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EtcChoice {
    /// `pfd.etc=NAME`: `/etc/pfd/NAME`.
    Named(String),
    /// No `pfd.etc=`: `/etc/pfd` itself must be an etc directory.
    Default,
}

/// The last `pfd.etc=` word of `cmdline` (the kernel's rule: a later
/// parameter overrides an earlier one). A name with a `/`, or `.` or
/// `..`, is refused: it must name a directory of the image.
pub fn parse(cmdline: &str) -> Result<EtcChoice, String> {
    let prefix = format!("{ETC_PARAM}=");
    match cmdline
        .split_whitespace()
        .rev()
        .find_map(|w| w.strip_prefix(prefix.as_str()))
    {
        None => Ok(EtcChoice::Default),
        Some(n) if n.is_empty() || n == "." || n == ".." || n.contains('/') => {
            Err(format!("{ETC_PARAM}={n}: not the name of an etc directory"))
        }
        Some(n) => Ok(EtcChoice::Named(n.to_string())),
    }
}

/// The etc directory under `root` (the image's `/etc/pfd`) that
/// `cmdline` picks; `available` lists the directories the image holds,
/// for the error.
pub fn etc_dir(root: &Path, cmdline: &str, available: &[String]) -> Result<PathBuf, String> {
    let dir = match parse(cmdline)? {
        EtcChoice::Named(n) if available.contains(&n) => return Ok(root.join(&n)),
        EtcChoice::Named(n) => format!("{ETC_PARAM}={n}: no {}", root.join(&n).display()),
        EtcChoice::Default if root.join("pf.conf").is_file() => return Ok(root.to_path_buf()),
        EtcChoice::Default => format!("no {ETC_PARAM}= on the kernel command line"),
    };
    Err(format!(
        "{dir}; this image holds: {}",
        if available.is_empty() {
            "no etc directory".to_string()
        } else {
            available.join(" ")
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_pfd_etc_word_wins() {
        assert_eq!(
            parse("BOOT_IMAGE=/vmlinuz console=ttyS0 pfd.etc=fw1 quiet pfd.etc=fw2\n"),
            Ok(EtcChoice::Named("fw2".into()))
        );
        assert_eq!(parse("console=ttyS0 xpfd.etc=fw1"), Ok(EtcChoice::Default));
    }

    #[test]
    fn a_path_is_not_a_name() {
        for bad in ["pfd.etc=../x", "pfd.etc=..", "pfd.etc=", "pfd.etc=a/b"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_unknown_name_lists_what_the_image_holds() {
        let avail = vec!["fw1".to_string(), "fw2".to_string()];
        let root = Path::new("/nonexistent/etc/pfd");
        assert_eq!(etc_dir(root, "pfd.etc=fw2", &avail), Ok(root.join("fw2")));
        assert_eq!(
            etc_dir(root, "pfd.etc=fw3", &avail),
            Err("pfd.etc=fw3: no /nonexistent/etc/pfd/fw3; this image holds: fw1 fw2".into())
        );
        assert_eq!(
            etc_dir(root, "quiet", &avail),
            Err("no pfd.etc= on the kernel command line; this image holds: fw1 fw2".into())
        );
    }
}
