//! The ifctl handler against a CARP host running on its own thread, as
//! the daemon's driver runs it (its letters to the routers land in a
//! worker mailbox the tests read).

use super::*;
use crate::control::{CarpChange, CarpStateArg};
use crate::daemon::carp::config::CarpPlan;
use crate::daemon::carp::frame::Sources;
use crate::daemon::carp::{self as dcarp, Carpdev};
use crate::daemon::mailboxes;
use carp::auth::Key;
use carp::{CarpIfConfig, Sysctl};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

/// A fixed kernel: em0 index 2 (up, carrier), em1 index 3 (down).
struct FakeLinks(HashMap<&'static str, LinkFacts>);

impl Links for FakeLinks {
    fn facts(&self, name: &str) -> Option<LinkFacts> {
        self.0.get(name).cloned()
    }
}

fn links() -> FakeLinks {
    use links::linux;
    let mut m = HashMap::new();
    m.insert(
        "em0",
        LinkFacts {
            index: 2,
            mac: Some([0, 0x0c, 0x29, 1, 2, 3]),
            mtu: Some(1500),
            flags: linux::UP | linux::BROADCAST | linux::MULTICAST,
            running: true,
        },
    );
    m.insert(
        "em1",
        LinkFacts {
            index: 3,
            mac: Some([0, 0x0c, 0x29, 1, 2, 4]),
            mtu: Some(9000),
            flags: linux::BROADCAST | linux::MULTICAST,
            running: false,
        },
    );
    FakeLinks(m)
}

/// The CARP thread with carp1 (FAQ: 172.16.0.100/24 vhid 1 on em0) and
/// carp2 (vhid 2 on em0, group `internal`); the handle and the thread.
struct Running {
    handle: CarpHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    // Worker 0's mailbox: the driver's posts land here.
    mail: Vec<crate::daemon::mail::WorkerMail>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.handle.shutdown();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn plan(name: &str, vhid: u8, addr: Ipv4Addr, groups: &[&str]) -> CarpPlan {
    let mut cfg = CarpIfConfig::new(
        name,
        "em0",
        [0, 0x0c, 0x29, 1, 2, 3],
        vhid,
        Key::from_passphrase(b"lanpasswd"),
    );
    cfg.v4.push(addr);
    // master-down is 3 x advbase: 300 s keeps a BACKUP one whatever
    // the load on the machine running the test
    cfg.advbase = 100;
    cfg.groups = groups.iter().map(|g| g.to_string()).collect();
    CarpPlan {
        cfg: cfg.normalized().unwrap(),
        port: 0,
        addrs: vec![(IpAddr::V4(addr), 24)],
        forced: None,
    }
}

fn running() -> Running {
    let (mail, addrs) = mailboxes(1).unwrap();
    let plans = [
        plan("carp1", 1, Ipv4Addr::new(172, 16, 0, 100), &[]),
        plan("carp2", 2, Ipv4Addr::new(172, 16, 0, 101), &["internal"]),
    ];
    let carpdevs = vec![Some(Carpdev {
        name: "em0".into(),
        sources: Sources {
            v4: Some(Ipv4Addr::new(172, 16, 0, 1)),
            v6: "fe80::20c:29ff:fe01:203".parse().unwrap(),
        },
    })];
    let (driver, handle) = dcarp::start(Sysctl::default(), 42, &plans, carpdevs, addrs).unwrap();
    let thread = std::thread::spawn(move || driver.run());
    Running {
        handle,
        thread: Some(thread),
        mail,
    }
}

fn ports() -> Vec<String> {
    vec!["em0".to_string(), "em1".to_string()]
}

fn ok_text(r: Response) -> String {
    match r {
        Response::Ok { text, .. } => text.unwrap_or_default(),
        other => panic!("{other:?}"),
    }
}

fn err(r: Response) -> (ErrorKind, String) {
    match r {
        Response::Error { kind, message } => (kind, message),
        other => panic!("expected an error: {other:?}"),
    }
}

macro_rules! ctx {
    ($run:expr, $ports:expr, $links:expr) => {
        Ctx {
            etc: None,
            ports: &$ports,
            carp: Some(&$run.handle),
            pfsync: None,
            links: &$links,
        }
    };
}

fn set(ctx: &Ctx<'_>, name: &str, changes: Vec<CarpChange>) -> Response {
    handle(
        ctx,
        IfctlOp::SetCarp {
            name: name.into(),
            changes,
        },
    )
}

fn status(ctx: &Ctx<'_>, name: &str) -> Response {
    handle(
        ctx,
        IfctlOp::Status {
            name: Some(name.into()),
        },
    )
}

#[test]
fn carp_block_follows_the_live_state() {
    let run = running();
    let (p, l) = (ports(), links());
    let ctx = ctx!(run, p, l);
    // fresh: BACKUP, waiting out master-down
    let t = ok_text(status(&ctx, "carp1"));
    assert!(
        t.starts_with("carp1: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n\tlladdr 00:00:5e:00:01:01\n\tindex 4 priority 15 llprio 3\n"),
        "{t}"
    );
    assert!(
        t.contains("\tcarp: BACKUP carpdev em0 vhid 1 advbase 100 advskew 0\n\tgroups: carp\n\tstatus: backup\n"),
        "{t}"
    );
    let r = set(
        &ctx,
        "carp1",
        vec![
            CarpChange::State(CarpStateArg::Master),
            CarpChange::Advskew(100),
        ],
    );
    assert_eq!(r, Response::ok());
    let t = ok_text(status(&ctx, "carp1"));
    assert!(
        t.contains("\tcarp: MASTER carpdev em0 vhid 1 advbase 100 advskew 100\n"),
        "{t}"
    );
    assert!(t.contains("\tstatus: master\n"), "{t}");
    // down: not up, not running, INIT
    assert_eq!(set(&ctx, "carp1", vec![CarpChange::Down]), Response::ok());
    let t = ok_text(status(&ctx, "carp1"));
    assert!(
        t.starts_with("carp1: flags=8802<BROADCAST,SIMPLEX,MULTICAST>"),
        "{t}"
    );
    assert!(t.contains("\tcarp: INIT carpdev em0"), "{t}");
    assert!(t.contains("\tstatus: invalid\n"), "{t}");
    // its JSON has the same facts
    match status(&ctx, "carp2") {
        Response::Ok { json: Some(j), .. } => {
            assert_eq!(j[0]["name"], "carp2");
            assert_eq!(j[0]["lladdr"], "00:00:5e:00:01:02");
            assert_eq!(j[0]["groups"], serde_json::json!(["carp", "internal"]));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn all_interfaces_and_groups_list_their_members() {
    let run = running();
    let (p, l) = (ports(), links());
    let ctx = ctx!(run, p, l);
    let all = ok_text(handle(&ctx, IfctlOp::Status { name: None }));
    let heads: Vec<&str> = all
        .lines()
        .filter(|l| !l.starts_with('\t'))
        .map(|l| l.split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(heads, ["em0", "em1", "carp1", "carp2"]);
    assert!(all.contains(
        "em1: flags=8802<BROADCAST,SIMPLEX,MULTICAST> mtu 9000\n\tlladdr 00:0c:29:01:02:04\n\tindex 3 priority 0 llprio 3\n\tgroups: em\n\tstatus: no carrier\n"
    ), "{all}");
    let internal = ok_text(status(&ctx, "internal"));
    assert!(internal.starts_with("carp2: "), "{internal}");
    assert!(!internal.contains("carp1:"), "{internal}");
    assert_eq!(
        err(status(&ctx, "carp9")),
        (ErrorKind::Failed, "carp9: no such interface".into())
    );
}

#[test]
fn group_demotion_as_the_faq_forces_a_failover() {
    let run = running();
    let (p, l) = (ports(), links());
    let ctx = ctx!(run, p, l);
    let show = |g: &str| handle(&ctx, IfctlOp::GroupShow { group: g.into() });
    let demote = |g: &str, d: i32| {
        handle(
            &ctx,
            IfctlOp::GroupDemote {
                group: g.into(),
                delta: d,
            },
        )
    };
    assert_eq!(ok_text(show("carp")), "carp: carp demote count 0\n");
    assert_eq!(
        set(&ctx, "carp1", vec![CarpChange::State(CarpStateArg::Master)]),
        Response::ok()
    );
    let before = run.handle.call(|h, _| h.stats().opackets).unwrap();
    assert!(matches!(demote("carp", 50), Response::Ok { .. }));
    assert_eq!(ok_text(show("carp")), "carp: carp demote count 50\n");
    assert_eq!(ok_text(show("internal")), "internal: carp demote count 0\n");
    // the master advertised the new demotion at once (0 -> 50)
    let after = run.handle.call(|h, _| h.stats().opackets).unwrap();
    assert!(after > before, "{before} -> {after}");
    let d = run.handle.call(|h, _| h.demote_count("carp1")).unwrap();
    assert_eq!(d, Some(50));
    // the kernel's range is 0..=255
    let (k, m) = err(demote("carp", 250));
    assert_eq!(k, ErrorKind::Failed);
    assert!(m.starts_with("carp: SIOCSIFGATTR: Invalid argument"), "{m}");
    assert!(matches!(demote("carp", -50), Response::Ok { .. }));
    assert_eq!(ok_text(show("carp")), "carp: carp demote count 0\n");
    assert_eq!(
        err(show("nosuch")).1,
        "nosuch: SIOCGIFGATTR: No such file or directory"
    );
    assert_eq!(
        err(demote("nosuch", 1)).1,
        "nosuch: SIOCSIFGATTR: No such file or directory"
    );
}

#[test]
fn carp_parameters_on_other_interfaces_are_refused_as_ifconfig_does() {
    let run = running();
    let (p, l) = (ports(), links());
    let ctx = ctx!(run, p, l);
    assert_eq!(
        err(set(&ctx, "em0", vec![CarpChange::Advskew(1)])).1,
        "em0: SIOCGVH: Inappropriate ioctl for device"
    );
    assert_eq!(
        err(set(&ctx, "carp7", vec![CarpChange::Advskew(1)])).1,
        "carp7: SIOCGVH: Device not configured"
    );
    let (k, m) = err(set(&ctx, "carp1", vec![CarpChange::Carpdev("em1".into())]));
    assert_eq!(k, ErrorKind::NotSupported);
    assert!(m.contains("not supported"), "{m}");
    let (k, m) = err(set(&ctx, "carp1", vec![CarpChange::Vhid(2)]));
    assert_eq!(k, ErrorKind::Failed);
    assert!(m.starts_with("carp1: SIOCSVH: File exists: "), "{m}");
}

#[test]
fn statistics_count_what_the_host_sent() {
    let run = running();
    let (p, l) = (ports(), links());
    let ctx = ctx!(run, p, l);
    assert_eq!(
        set(&ctx, "carp1", vec![CarpChange::State(CarpStateArg::Master)]),
        Response::ok()
    );
    match handle(&ctx, IfctlOp::CarpStats { hide_zero: true }) {
        Response::Ok {
            text: Some(t),
            json: Some(j),
        } => {
            assert!(t.starts_with("carp:\n"), "{t}");
            assert!(t.contains("\t1 transition to master\n"), "{t}");
            assert!(!t.contains("received"), "zeros hidden: {t}");
            assert_eq!(j["preempt"], 1);
            assert!(j["opackets"].as_u64().unwrap() >= 1);
            assert_eq!(j["queue_drops"], 0);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn without_carp_the_physical_interfaces_still_show() {
    let (p, l) = (ports(), links());
    let ctx = Ctx {
        etc: None,
        ports: &p,
        carp: None,
        pfsync: None,
        links: &l,
    };
    let t = ok_text(status(&ctx, "em0"));
    assert_eq!(
        t,
        "em0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n\tlladdr 00:0c:29:01:02:03\n\tindex 2 priority 0 llprio 3\n\tgroups: em\n\tstatus: active\n"
    );
    assert_eq!(
        err(set(&ctx, "carp1", vec![CarpChange::Up])).1,
        "carp1: no such interface"
    );
    let t = ok_text(handle(&ctx, IfctlOp::CarpStats { hide_zero: false }));
    assert!(t.contains("\t0 transitions to master\n"), "{t}");
}

#[test]
fn a_new_vhid_tells_every_router_its_new_virtual_mac() {
    let run = running();
    let (p, l) = (ports(), links());
    let ctx = ctx!(run, p, l);
    assert_eq!(
        set(&ctx, "carp1", vec![CarpChange::Vhid(7)]),
        Response::ok()
    );
    // the thread flushes after each call: once a second call has run,
    // the first one's letters are posted
    run.handle.call(|_, _| ()).unwrap();
    let letters = run.mail[0].0.read();
    let want = crate::daemon::Mail::VipMac {
        ifindex: crate::daemon::router_index(0),
        addrs: vec![IpAddr::V4(Ipv4Addr::new(172, 16, 0, 100))],
        mac: [0, 0, 0x5e, 0, 1, 7],
    };
    assert!(letters.contains(&want), "{letters:?}");
    let t = ok_text(status(&ctx, "carp1"));
    assert!(t.contains("\tlladdr 00:00:5e:00:01:07\n"), "{t}");
    assert!(t.contains(" vhid 7 "), "{t}");
}
