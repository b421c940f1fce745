//! `pfd check --etc DIR`: the shipped example directory loads; broken
//! ones are refused with every error as FILE:LINE: message.

use std::path::{Path, PathBuf};
use std::process::Command;

fn pfd_check(dir: &Path) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_pfd"))
        .args(["check", "--etc"])
        .arg(dir)
        .env("PFD_HOST_PROFILE", "system")
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../etc")
}

/// A copy of the shipped directory with `file` replaced.
fn with(name: &str, file: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pfd-check-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(shipped()).unwrap() {
        let e = e.unwrap();
        // etc/fw1 and etc/fw2, the appliance pair, are examples of their own
        if e.file_type().unwrap().is_dir() {
            continue;
        }
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    std::fs::write(dir.join(file), text).unwrap();
    dir
}

#[test]
fn the_shipped_etc_directory_loads() {
    let (ok, out, err) = pfd_check(&shipped());
    assert!(ok, "{err}");
    assert!(
        out.contains("eth0: 198.51.100.2/24 groups eth egress"),
        "{out}"
    );
    assert!(out.contains("default 198.51.100.254"), "{out}");
    assert!(out.contains("rules"), "{out}");
}

#[test]
fn a_pf_conf_error_names_its_line() {
    let dir = with("pf", "pf.conf", "pass in on eth0 proto tcp port\n");
    let (ok, _, err) = pfd_check(&dir);
    assert!(!ok);
    assert!(err.contains("pf.conf:1: syntax error"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_feature_the_engine_does_not_enforce_is_refused() {
    let dir = with(
        "unsup",
        "pf.conf",
        "pass out on eth0 from any to any route-to 192.0.2.8/30 least-states\n",
    );
    let (ok, _, err) = pfd_check(&dir);
    assert!(!ok);
    assert!(
        err.contains("pf.conf:1: not supported: least-states on route-to"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_hostname_file_error_names_its_line() {
    let dir = with(
        "host",
        "hostname.eth1",
        "inet 192.0.2.2 255.255.255.0\ndhcp\n",
    );
    let (ok, _, err) = pfd_check(&dir);
    assert!(!ok);
    assert!(err.contains("hostname.eth1:2:"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
