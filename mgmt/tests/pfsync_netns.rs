//! pfd's own hostname.pfsync0 words with `pfd run` in namespaces.
//! `authkey` between two firewalls, pfsync over their shared LAN (a
//! bridge; a client pings fw1, whose ICMP state goes to fw2): with the
//! same key file fw2 takes fw1's states; fw2 restarted with another key
//! takes none of them, and both count the other's packets as without a
//! valid HMAC. `mirror`: the TUN interface is made under its name and
//! goes with pfd; a name already in use stops the boot with its message.
//! Needs root; skipped with a message otherwise, and failed when CI is
//! set.

mod live;
#[path = "../../dataplane/tests/netns/mod.rs"]
mod netns;

use live::{lan, ping, show, Etc, Pfd};
use mgmt::control::ShowWhat;
use netns::Ns;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

const KEY: &[u8] = b"the pair's pfsync key, 32 bytes.";

fn etc(tag: &str, me: &str, key: &[u8]) -> Etc {
    let e = Etc::with(
        tag,
        &[
            ("hostname.veth0", &format!("inet {me} 255.255.255.0\nup\n")),
            ("hostname.pfsync0", "up syncdev veth0 authkey pfsync.key\n"),
            (
                "pf.conf",
                "pass quick on veth0 proto pfsync keep state (no-sync)\npass\n",
            ),
        ],
    );
    set_key(&e, key);
    e
}

fn set_key(e: &Etc, key: &[u8]) {
    let p = e.0.join("pfsync.key");
    std::fs::write(&p, key).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn log(n: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("pfd-auth-{n}-{}.log", std::process::id()))
}

/// `ifctl --control SOCK ARGS...`: (status, stdout and stderr).
fn ifctl(sock: &Path, args: &[&str]) -> (bool, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_ifctl"))
        .arg("--control")
        .arg(sock)
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
    )
}

/// The JSON of `ifctl -s pfsync`.
fn pfsync_stats(sock: &Path) -> serde_json::Value {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_ifctl"))
        .arg("--control")
        .arg(sock)
        .args(["--json", "-s", "pfsync"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// States of the client's pings (192.0.2.10) in `sock`'s table.
fn client_states(sock: &Path) -> usize {
    show(sock, ShowWhat::States)
        .0
        .lines()
        .filter(|l| l.contains("192.0.2.10"))
        .count()
}

fn wait_for(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while t.elapsed() < within {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}

#[test]
fn a_pair_with_one_key_syncs_and_another_key_is_refused() {
    if !netns::can_run("a_pair_with_one_key_syncs_and_another_key_is_refused") {
        return;
    }
    let l = lan("au");
    let (e1, e2) = (
        etc("auth1", "192.0.2.2", KEY),
        etc("auth2", "192.0.2.3", KEY),
    );
    let (s1, s2) = (e1.0.join("pfd.sock"), e2.0.join("pfd.sock"));
    let fw1 = Pfd::start(&l.fw1, &e1.0, &s1, log("1"));
    let mut fw2 = Pfd::start(&l.fw2, &e2.0, &s2, log("2"));

    let (ok, out) = ifctl(&s1, &["pfsync0"]);
    assert!(
        ok && out.contains("\tpfd: authkey: on bulkburst: 1 mirror: pfsync0\n"),
        "{out}"
    );
    assert!(!out.contains("pair's"), "the key is never shown: {out}");

    // same key: fw1's state reaches fw2
    assert!(ping(&l.client, "192.0.2.2"), "{}", fw1.stderr());
    assert!(client_states(&s1) >= 1, "fw1 keeps the ping's state");
    assert!(
        wait_for(Duration::from_secs(5), || client_states(&s2) >= 1),
        "fw2 takes it\nfw1: {}\nfw2: {}",
        fw1.stderr(),
        fw2.stderr()
    );
    let st = pfsync_stats(&s2);
    assert_eq!(st["badauth"], 0, "{st}");
    assert_eq!(st["auth"]["unauthenticated"], 0, "{st}");

    // fw2 with another key: its table stays without fw1's states, and
    // each side counts the other's packets
    assert!(fw2.terminate().success());
    set_key(&e2, b"not the pair's key, 32 bytes....");
    let fw2 = Pfd::start(&l.fw2, &e2.0, &s2, log("2b"));
    let before = pfsync_stats(&s1)["auth"]["unauthenticated"]
        .as_u64()
        .unwrap();
    assert!(ping(&l.client, "192.0.2.2"), "{}", fw1.stderr());
    assert!(
        wait_for(Duration::from_secs(5), || {
            pfsync_stats(&s2)["auth"]["unauthenticated"]
                .as_u64()
                .unwrap()
                > 0
                && pfsync_stats(&s1)["auth"]["unauthenticated"]
                    .as_u64()
                    .unwrap()
                    > before
        }),
        "both drop the other's packets: fw1 {}\nfw2 {}",
        pfsync_stats(&s1),
        pfsync_stats(&s2)
    );
    // fw1 batches for a second: past it, fw2 still has nothing
    std::thread::sleep(Duration::from_millis(2500));
    assert!(client_states(&s1) >= 1);
    assert_eq!(
        client_states(&s2),
        0,
        "fw2 imported nothing: {}",
        fw2.stderr()
    );
    let st = pfsync_stats(&s2);
    assert_eq!(st["badauth"], st["auth"]["unauthenticated"], "{st}");
    assert_eq!(st["auth"]["replayed"], 0, "{st}");
    let (ok, out) = ifctl(&s2, &["-s", "pfsync"]);
    assert!(
        ok && out.contains("pfd authkey:\n\t") && out.contains("without a valid HMAC"),
        "{out}"
    );
}

/// `pfd run` on `etc` in `ns`, expected to stop at boot: its exit code
/// and stderr (killed by its PID if it runs past 20 s).
fn boot_refused(ns: &Ns, etc: &Path) -> (Option<i32>, String) {
    let log = log("refused");
    let mut child = std::process::Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(env!("CARGO_BIN_EXE_pfd"))
        .args(["run", "--etc"])
        .arg(etc)
        .arg("--control")
        .arg(etc.join("pfd.sock"))
        .env("PFD_HOST_PROFILE", "system")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let t = Instant::now();
    let st = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "pfd did not stop: {}",
                std::fs::read_to_string(&log).unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let err = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    (st.code(), err)
}

fn links(ns: &Ns) -> String {
    let o = std::process::Command::new("ip")
        .args(["-n", &ns.name, "-d", "-o", "link", "show"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_mirror_is_made_under_its_name_and_a_taken_name_stops_the_boot() {
    if !netns::can_run("the_mirror_is_made_under_its_name_and_a_taken_name_stops_the_boot") {
        return;
    }
    let ns = Ns::new("mir");
    ns.veth("veth0", "peer0");
    let files = |pfsync: &str| {
        Etc::with(
            "mirror",
            &[
                ("hostname.veth0", "inet 192.0.2.2 255.255.255.0\nup\n"),
                ("hostname.pfsync0", pfsync),
                ("pf.conf", "pass\n"),
            ],
        )
    };
    // a name in use: refused with the mirror's message, not taken over
    ns.veth("pfsync0", "peer9");
    let e = files("up syncdev veth0\n");
    let (code, err) = boot_refused(&ns, &e.0);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("pfsync0: mirror pfsync0: an interface named pfsync0 exists already (another name with `mirror NAME` in hostname.pfsync0, or none with `-mirror`)"),
        "{err}"
    );
    let l = links(&ns);
    assert!(
        l.lines()
            .any(|l| l.contains(" pfsync0@peer9:") && l.contains("veth")),
        "the veth stays as it was: {l}"
    );
    drop(e);

    // another name: a TUN interface of that name while pfd runs
    let e = files("up syncdev veth0 mirror pfsyncmon\n");
    let sock = e.0.join("pfd.sock");
    let mut pfd = Pfd::start(&ns, &e.0, &sock, log("mirror"));
    let l = links(&ns);
    let mon = l.lines().find(|l| l.contains(" pfsyncmon:")).unwrap_or("");
    assert!(
        mon.contains(",UP") && mon.contains("tun type tun"),
        "{l}\n{}",
        pfd.stderr()
    );
    let (ok, out) = ifctl(&sock, &["pfsync0"]);
    assert!(ok && out.contains("mirror: pfsyncmon\n"), "{out}");
    assert!(pfd.terminate().success());
    assert!(!links(&ns).contains("pfsyncmon"), "gone with pfd");
}
