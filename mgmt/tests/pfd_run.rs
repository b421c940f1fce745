//! `pfd run`'s refusals at boot, before it touches any interface (no
//! root needed): the etc directory is checked as `pfd check
//! --interfaces` checks it.

use std::process::Command;

#[test]
fn a_missing_interface_stops_the_boot_with_the_checks_message() {
    let dir = std::env::temp_dir().join(format!("pfd-run-boot-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("hostname.nosuch0"),
        "inet 192.0.2.1 255.255.255.0\n",
    )
    .unwrap();
    std::fs::write(dir.join("pf.conf"), "pass\n").unwrap();
    let sock = dir.join("pfd.sock");
    let o = Command::new(env!("CARGO_BIN_EXE_pfd"))
        .args(["run", "--etc"])
        .arg(&dir)
        .arg("--control")
        .arg(&sock)
        .env("PFD_HOST_PROFILE", "system")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("nosuch0"), "{err}");
    assert!(!sock.exists(), "no control socket before the boot succeeds");
}

#[test]
fn a_bad_log_filter_is_refused_before_the_boot() {
    let o = Command::new(env!("CARGO_BIN_EXE_pfd"))
        .args(["run", "--etc", "/nonexistent", "--log", "info,pfd=loud"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.starts_with("pfd: --log info,pfd=loud: "), "{err}");
    let o = Command::new(env!("CARGO_BIN_EXE_pfd"))
        .args(["run", "--etc", "/nonexistent", "--log-format", "xml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "clap refuses an unknown format");
}
