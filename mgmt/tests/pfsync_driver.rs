//! The pfsync thread of `pfd run` without a kernel: hostname.pfsync0
//! booted as the daemon boots it (`daemon::pfsync::boot`), states made
//! by the engine as the workers make them, pfctl's requests answered by
//! the daemon's `View`, and the pfsync packets the thread hands worker 0
//! taken from worker 0's mailbox and decoded.

mod support;

use dataplane::engine::{Action, Packet};
use dataplane::pdesc::Dir;
use dataplane::port::afpacket::sys::monotonic_ns;
use mgmt::control::{FlushWhat, KillBy, Request, Response, StateFilter};
use mgmt::daemon::pfsync::driver::PfsyncHandle;
use mgmt::daemon::{mailboxes, EngineSlot, Mail, Mailbox, Published, View};
use pfsync::wire::{PacketRepr, Section};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{eth, ip4, udp};

/// The syncdev: a name no test machine has, so its MTU and link are
/// unknown (1500; the bulk request waits for a link that never comes,
/// which leaves the sends of interest alone on the wire).
const SYNCDEV: &str = "pfdsync9";

struct Lab {
    view: View,
    engine: Arc<EngineSlot>,
    mail: Mailbox,
    pfsync: PfsyncHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    dir: PathBuf,
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.pfsync.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn lab(tag: &str) -> Lab {
    lab_with(tag, "", None)
}

/// `extra` on hostname.pfsync0's line; `key`: the file pfsync.key.
fn lab_with(tag: &str, extra: &str, key: Option<&[u8]>) -> Lab {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("pfd-syncdrv-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let w = |f: &str, t: &str| std::fs::write(dir.join(f), t).unwrap();
    w(
        &format!("hostname.{SYNCDEV}"),
        "inet 203.0.113.2 255.255.255.0\nup\n",
    );
    // no mirror interface: this runs in the test machine's namespace
    w(
        "hostname.pfsync0",
        &format!("up syncdev {SYNCDEV} -mirror {extra}\n"),
    );
    w("pf.conf", "pass\n");
    if let Some(k) = key {
        let p = dir.join("pfsync.key");
        std::fs::write(&p, k).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let env = ruleset::hostenv::from_env().unwrap();
    let checked = mgmt::check::check(&dir, None, env.as_ref()).unwrap();
    let cfg = checked.config;
    let plan = mgmt::daemon::ports(&cfg).unwrap();
    let names: Vec<String> = plan.iter().map(|p| p.name.clone()).collect();
    let engine = Arc::new(EngineSlot::new(Arc::new(checked.engine)));
    let (mut boxes, addrs) = mailboxes(1).unwrap();
    let (mail, _wake) = boxes.remove(0);
    let (driver, pfsync) = mgmt::daemon::pfsync::boot(
        cfg.pfsync.as_ref().unwrap(),
        &cfg,
        &names,
        &[[2, 0, 0, 0, 0, 2]],
        &engine,
        addrs,
        None,
    )
    .unwrap();
    let thread = std::thread::spawn(move || driver.run());
    let view = View {
        engine: Arc::clone(&engine),
        etc: Some(Arc::new(cfg.clone())),
        rules: Default::default(),
        published: Arc::new(Published::default()),
        started: Instant::now(),
        ports: names,
        live: None,
        carp: None,
        pfsync: Some(pfsync.clone()),
        debug: Default::default(),
        table_times: std::sync::Mutex::new(mgmt::daemon::TableTimes::new(mgmt::daemon::wall_now())),
    };
    Lab {
        view,
        engine,
        mail,
        pfsync,
        thread: Some(thread),
        dir,
    }
}

impl Lab {
    /// `n` UDP states, made as worker 0 makes them (inbound on the
    /// syncdev, the only interface here), from source port `base` on.
    fn states(&self, base: u16, n: u16) {
        let engine = self.engine.get();
        let mut w = engine.worker();
        for p in base..base + n {
            let mut frame = eth(&ip4("203.0.113.9", "198.51.100.10", &udp(p, 53, 8)), true);
            let v = engine.process(
                &mut w,
                monotonic_ns(),
                &mut Packet {
                    frame: &mut frame,
                    ifindex: 0,
                    dir: Dir::In,
                },
            );
            assert_eq!(v.action, Action::Pass, "{v:?}");
        }
    }

    /// The sections of every pfsync packet sent, until `done` holds of
    /// them all or `within` is over.
    fn sent_until(&self, within: Duration, done: impl Fn(&[Section]) -> bool) -> Vec<Section> {
        let mut all = Vec::new();
        self.packets_until(within, |ip| {
            let ip = pfsync::wire::ip::decap(ip).unwrap();
            all.extend(PacketRepr::parse(ip.payload).unwrap().sections);
            done(&all)
        });
        all
    }

    /// Hand each pfsync packet sent (from its IPv4 header on) to `f`
    /// until it returns true or `within` is over.
    fn packets_until(&self, within: Duration, mut f: impl FnMut(&[u8]) -> bool) {
        let t = Instant::now();
        loop {
            for m in self.mail.read() {
                if let Mail::Send { frame, .. } = m {
                    if f(&frame[14..]) {
                        return;
                    }
                }
            }
            if t.elapsed() >= within {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn ok(&self, req: Request) -> String {
        match self.view.handle(req) {
            Response::Ok { text, .. } => text.unwrap_or_default(),
            other => panic!("{other:?}"),
        }
    }
}

fn inserted(s: &[Section]) -> usize {
    s.iter()
        .map(|s| match s {
            Section::Ins(v) => v.len(),
            _ => 0,
        })
        .sum()
}

/// Each section as its action and record count, for messages.
fn summary(s: &[Section]) -> Vec<(u8, usize)> {
    s.iter()
        .map(|s| {
            let n = match s {
                Section::Clr(v) => v.len(),
                Section::Ins(v) | Section::Upd(v) | Section::Del(v) => v.len(),
                Section::DelC(v) | Section::UpdReq(v) | Section::InsAck(v) => v.len(),
                Section::UpdC(v) => v.len(),
                _ => 0,
            };
            (s.action().0, n)
        })
        .collect()
}

/// (CLR records, DEL_C records) among `s`.
fn clears_and_deletes(s: &[Section]) -> (Vec<pfsync::wire::clr::Clr>, usize) {
    let mut clr = Vec::new();
    let mut del = 0;
    for s in s {
        match s {
            Section::Clr(v) => clr.extend(v.iter().cloned()),
            Section::DelC(v) => del += v.len(),
            Section::Del(v) => del += v.len(),
            _ => {}
        }
    }
    (clr, del)
}

const N: u16 = 300;

#[test]
fn flushing_states_sends_one_clr_and_no_delete_per_state() {
    let l = lab("flush");
    l.states(10000, N);
    let ins = l.sent_until(Duration::from_secs(5), |s| inserted(s) >= N.into());
    assert_eq!(
        inserted(&ins),
        usize::from(N),
        "the peer heard of each state"
    );

    let host = l.engine.get().states().host_id();
    let text = l.ok(Request::Flush {
        what: FlushWhat::States,
        anchor: None,
    });
    assert_eq!(text, format!("{N} states cleared\n"));
    assert_eq!(l.engine.get().states().len(), 0);
    // the CLR leaves at once; wait out a batch (1 s) for any DEL_C
    let t = Instant::now();
    let after = l.sent_until(Duration::from_millis(2500), |_| false);
    let (clr, del) = clears_and_deletes(&after);
    let sum = summary(&after);
    assert_eq!(del, 0, "no delete per state: (action, records) {sum:?}");
    assert_eq!(clr.len(), 1, "one CLR: {sum:?}");
    assert_eq!(clr[0].creator, host, "of the states made here");
    assert!(clr[0].ifname.is_empty(), "on every interface");
    assert_eq!(after.len(), 1, "and nothing else: {sum:?}");
    assert!(t.elapsed() >= Duration::from_millis(2500));
}

#[test]
fn killing_states_stays_a_delete_per_state() {
    let l = lab("kill");
    l.states(20000, 40);
    let ins = l.sent_until(Duration::from_secs(5), |s| inserted(s) >= 40);
    assert_eq!(inserted(&ins), 40);
    // pfctl -k 203.0.113.9: every one of them, one DEL_C each
    let text = l.ok(Request::KillStates {
        filters: StateFilter {
            interface: None,
            by: KillBy::Hosts {
                src: "203.0.113.9".into(),
                dst: None,
            },
        },
    });
    assert_eq!(text, "killed 40 states from 1 sources and 0 destinations\n");
    let after = l.sent_until(Duration::from_secs(5), |s| clears_and_deletes(s).1 >= 40);
    let (clr, del) = clears_and_deletes(&after);
    assert_eq!((clr.len(), del), (0, 40), "{:?}", summary(&after));
}

const KEY: &[u8] = b"the pair's pfsync key, 32 bytes.";

/// `payload` as a peer with hostid `sender` sends it, sealed with `key`
/// (none: a plain OpenBSD packet), from 203.0.113.3 with TTL 255.
fn from_peer(payload: &[u8], key: Option<&[u8]>, sender: u32, seq: u64) -> Vec<u8> {
    let mut p = payload.to_vec();
    if let Some(k) = key {
        let cfg = pfsync::auth::AuthConfig::new(k, seq).unwrap();
        pfsync::auth::Auth::new(&cfg, sender).seal(&mut p);
    }
    pfsync::wire::ip::encap(
        &p,
        "203.0.113.3".parse().unwrap(),
        pfsync::wire::ip::GROUP,
        7,
    )
}

#[test]
fn authkey_seals_what_is_sent_and_drops_what_is_not_sealed_with_it() {
    let l = lab_with("auth", "authkey pfsync.key", Some(KEY));
    let host = l.engine.get().states().host_id();
    l.states(30000, 3);
    // every packet sent carries the trailer, and it opens with the key
    let mut opener =
        pfsync::auth::Auth::new(&pfsync::auth::AuthConfig::new(KEY, 0).unwrap(), 0x5eed);
    let mut ins = Vec::new();
    l.packets_until(Duration::from_secs(5), |ip| {
        let r = pfsync::wire::ip::decap(ip).unwrap();
        let payload = opener.open(r.payload).expect("sealed with the key");
        for s in PacketRepr::parse(payload).unwrap().sections {
            if let Section::Ins(v) = s {
                ins.extend(v);
            }
        }
        ins.len() >= 3
    });
    assert_eq!(ins.len(), 3);
    assert!(ins.iter().all(|r| r.id.creator == host));

    // the peer's copies of them come back as its own (another creator),
    // once the table is empty; only the sealed ones are taken
    l.ok(Request::Flush {
        what: FlushWhat::States,
        anchor: None,
    });
    let peer = host ^ 0x0101_0101;
    let as_peer = |n: usize| {
        let mut r = ins[n];
        r.id = pfsync::StateId::new(r.id.id, peer);
        PacketRepr {
            sections: vec![Section::Ins(vec![r])],
        }
        .emit()
    };
    let other_key = b"not the pair's key, 32 bytes....";
    l.pfsync
        .packet(0, 255, &from_peer(&as_peer(0), None, peer, 1));
    l.pfsync
        .packet(0, 255, &from_peer(&as_peer(1), Some(other_key), peer, 1));
    let genuine = from_peer(&as_peer(2), Some(KEY), peer, 1);
    l.pfsync.packet(0, 255, &genuine);
    // a replay of the genuine one, after the state went again
    let (stats, auth) = l
        .pfsync
        .call(|m, _, _, _| (*m.stats(), m.auth_stats()))
        .unwrap();
    let len = l.engine.get().states().len();
    assert_eq!(len, 1, "only the state sealed with the key: {stats:?}");
    l.ok(Request::Flush {
        what: FlushWhat::States,
        anchor: None,
    });
    l.pfsync.packet(0, 255, &genuine);
    let (stats, auth2) = l
        .pfsync
        .call(|m, _, _, _| (*m.stats(), m.auth_stats()))
        .unwrap();
    assert_eq!(l.engine.get().states().len(), 0, "the replay is not taken");
    let (a, a2) = (auth.unwrap(), auth2.unwrap());
    assert_eq!((a.unauthenticated, a.replayed), (2, 0));
    assert_eq!((a2.unauthenticated, a2.replayed), (2, 1));
    assert_eq!(stats.badauth, 3);

    // what ifctl shows: on, never the key
    let r = l.view.handle(Request::Ifctl {
        op: mgmt::control::IfctlOp::Status {
            name: Some("pfsync0".into()),
        },
    });
    let Response::Ok { text: Some(t), .. } = r else {
        panic!("{r:?}")
    };
    assert!(
        t.contains("\tpfd: authkey: on bulkburst: 1 mirror: off\n"),
        "{t}"
    );
    assert!(!t.contains("pair's"), "{t}");
    let r = l.view.handle(Request::Ifctl {
        op: mgmt::control::IfctlOp::PfsyncStats { hide_zero: true },
    });
    let Response::Ok {
        text: Some(t),
        json: Some(j),
    } = r
    else {
        panic!("{r:?}")
    };
    assert!(t.contains("\t\t3 packets discarded for bad HMAC\n"), "{t}");
    assert!(
        t.contains("pfd authkey:\n\t2 packets without a valid HMAC (no key or another key)\n\t1 packet replayed\n"),
        "{t}"
    );
    assert_eq!(j["badauth"], 3);
    assert_eq!(j["auth"]["unauthenticated"], 2);
    assert_eq!(j["auth"]["replayed"], 1);
}

#[test]
fn without_authkey_plain_packets_are_taken_and_nothing_is_sealed() {
    let l = lab("plain");
    let host = l.engine.get().states().host_id();
    l.states(31000, 1);
    let ins = l.sent_until(Duration::from_secs(5), |s| inserted(s) >= 1);
    let Some(Section::Ins(v)) = ins.iter().find(|s| matches!(s, Section::Ins(_))) else {
        panic!("{:?}", summary(&ins))
    };
    let mut r = v[0];
    l.ok(Request::Flush {
        what: FlushWhat::States,
        anchor: None,
    });
    r.id = pfsync::StateId::new(r.id.id, host ^ 1);
    let plain = PacketRepr {
        sections: vec![Section::Ins(vec![r])],
    }
    .emit();
    l.pfsync
        .packet(0, 255, &from_peer(&plain, None, host ^ 1, 1));
    let (stats, auth) = l
        .pfsync
        .call(|m, _, _, _| (*m.stats(), m.auth_stats()))
        .unwrap();
    assert_eq!(l.engine.get().states().len(), 1, "{stats:?}");
    assert_eq!((stats.badauth, auth), (0, None));
}
