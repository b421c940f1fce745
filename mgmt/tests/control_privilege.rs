//! The control socket refuses an unprivileged user (issue 8, security),
//! through the real `pfctl` run as `nobody`: first by the socket file's
//! mode (0600, as /dev/pf), then, with the file opened to everyone by
//! mistake, by the server checking the peer's credentials. Root is
//! served throughout. Needs root to run a child as another user; a
//! non-root run skips with a message, a CI run fails instead.

use mgmt::control::{Handler, Request, Response, Server, ServerConfig};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Debian's `nobody`.
const NOBODY: u32 = 65534;

struct Engine(Arc<AtomicUsize>);

impl Handler for Engine {
    fn handle(&mut self, _req: Request) -> Response {
        self.0.fetch_add(1, Ordering::SeqCst);
        Response::Ok {
            text: Some("Status: Enabled\n".into()),
            json: None,
        }
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

fn pfctl(sock: &Path, uid: Option<u32>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pfctl"));
    c.arg("--control").arg(sock).arg("-s").arg("info");
    if let Some(u) = uid {
        c.uid(u).gid(u);
    }
    c.output().expect("run pfctl")
}

#[test]
fn an_unprivileged_user_is_refused() {
    if !is_root() {
        let msg = "SKIP an_unprivileged_user_is_refused: needs root to run pfctl as nobody";
        assert!(std::env::var_os("CI").is_none(), "{msg}, and CI is set");
        eprintln!("{msg}");
        return;
    }
    // A directory nobody may enter, so that only the socket's own mode
    // stands in the way.
    let dir = TempDir(std::env::temp_dir().join(format!("pfd-priv-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir(&dir.0).unwrap();
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o755)).unwrap();
    let sock = dir.0.join("pfd.sock");
    let calls = Arc::new(AtomicUsize::new(0));
    let server = Server::start(&sock, ServerConfig::default(), Engine(calls.clone())).unwrap();

    let root = pfctl(&sock, None);
    assert!(root.status.success(), "{root:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // The file's mode: connect(2) itself fails.
    let out = pfctl(&sock, Some(NOBODY));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{out:?}");
    assert!(err.contains("Permission denied"), "{err}");
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the engine heard nobody");
    assert_eq!(server.refused_peers(), 0);

    // Opened to everyone by mistake: the server refuses by credentials.
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = pfctl(&sock, Some(NOBODY));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        err.contains("permission denied") && err.contains(&format!("uid {NOBODY}")),
        "{err}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the engine heard nobody");
    assert_eq!(server.refused_peers(), 1);

    // And root still is served.
    let root = pfctl(&sock, None);
    assert!(root.status.success(), "{root:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}
