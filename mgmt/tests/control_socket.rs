//! The control socket end to end over a real Unix socket in a temporary
//! directory: every request kind through a fake engine, and everything a
//! client can do wrong, after which the server must still answer.

use mgmt::control::{
    channel, control_path, Client, ClientError, DebugLevel, Define, ErrorKind, FlushWhat, Handler,
    KillBy, OptimizerLevel, Request, Response, RuleSource, Server, ServerConfig, ServerError,
    ShowWhat, SrcNodeFilter, StateFilter, TableOp,
};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "pfd-ctl-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn sock(&self) -> PathBuf {
        self.0.join("pfd.sock")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Records what it is asked and echoes it back as JSON; a load whose text
/// holds "error" fails as pfctl would report it.
#[derive(Clone, Default)]
struct Fake {
    seen: Arc<Mutex<Vec<Request>>>,
}

const LOAD_ERRORS: &str = "pf.conf:3: syntax error\npf.conf:7: macro 'ext_if' not defined";

impl Handler for Fake {
    fn handle(&mut self, req: Request) -> Response {
        self.seen.lock().unwrap().push(req.clone());
        match &req {
            Request::LoadRules {
                source: RuleSource::Text { text, .. },
                ..
            } if text.contains("error") => Response::error(ErrorKind::Failed, LOAD_ERRORS),
            Request::Show {
                what: ShowWhat::Memory,
                ..
            } => Response::error(ErrorKind::NotSupported, "pfctl -s memory: not supported"),
            Request::SetDebug {
                level: DebugLevel::Emerg,
            } => panic!("engine bug"),
            _ => Response::Ok {
                text: Some(format!("{req:?}")),
                json: Some(serde_json::to_value(&req).unwrap()),
            },
        }
    }
}

fn start(dir: &TempDir, cfg: ServerConfig) -> (Server, Fake) {
    let fake = Fake::default();
    let server = Server::start(dir.sock(), cfg, fake.clone()).unwrap();
    (server, fake)
}

fn every_request() -> Vec<Request> {
    let addrs = || {
        vec![
            "10.0.0.0/8".to_string(),
            "!192.0.2.1".to_string(),
            "2001:db8::/32".to_string(),
        ]
    };
    let mut v = vec![
        Request::Enable,
        Request::Disable,
        Request::LoadRules {
            source: RuleSource::Text {
                name: "stdin".into(),
                text: "pass all\nblock in on \"em0\" \\\n  label \"x\"\n".into(),
            },
            anchor: None,
            defines: vec![],
            optimizer: None,
        },
        Request::LoadRules {
            source: RuleSource::Path {
                path: "/etc/pf.conf".into(),
            },
            anchor: Some("ftp-proxy/*".into()),
            defines: vec![
                Define {
                    name: "ext_if".into(),
                    value: "em0".into(),
                },
                Define {
                    name: "ports".into(),
                    value: "{ 22 80 }".into(),
                },
            ],
            optimizer: Some(OptimizerLevel::Profile),
        },
        Request::ZeroCounters,
    ];
    for what in [
        ShowWhat::Rules,
        ShowWhat::Anchors,
        ShowWhat::States,
        ShowWhat::Sources,
        ShowWhat::Info,
        ShowWhat::Labels,
        ShowWhat::Tables,
        ShowWhat::Timeouts,
        ShowWhat::Interfaces,
        ShowWhat::Osfp,
        ShowWhat::Queue,
        ShowWhat::All,
    ] {
        v.push(Request::Show {
            what,
            verbose: 2,
            anchor: Some("a/b".into()),
            rule: Some(7),
            interface: Some("egress".into()),
        });
    }
    for op in [
        TableOp::Add { addrs: addrs() },
        TableOp::Delete { addrs: addrs() },
        TableOp::Replace { addrs: vec![] },
        TableOp::Show,
        TableOp::Flush,
        TableOp::Test { addrs: addrs() },
        TableOp::Zero { addrs: Vec::new() },
        TableOp::Zero {
            addrs: vec!["192.0.2.1".into()],
        },
        TableOp::Kill,
        TableOp::Expire { secs: 86_400 },
    ] {
        v.push(Request::Table {
            name: "bruteforce".into(),
            anchor: None,
            op,
            verbose: 1,
        });
    }
    for by in [
        KillBy::Hosts {
            src: "10.0.0.1".into(),
            dst: Some("0.0.0.0/0".into()),
        },
        KillBy::Hosts {
            src: "::1".into(),
            dst: None,
        },
        KillBy::Label {
            label: "ssh".into(),
        },
        KillBy::Id {
            id: u64::MAX,
            creator: Some(0xdead_beef),
        },
        KillBy::Key {
            key: "10.0.0.1:22 <- 10.0.0.2:5555".into(),
        },
        KillBy::Gateway {
            addr: "192.0.2.254".into(),
        },
    ] {
        v.push(Request::KillStates {
            filters: StateFilter {
                interface: Some("em0".into()),
                by,
            },
        });
    }
    v.push(Request::KillSrcNodes {
        filters: SrcNodeFilter {
            src: "10.0.0.1".into(),
            dst: Some("10.0.0.2".into()),
        },
    });
    for what in [
        FlushWhat::Rules,
        FlushWhat::States,
        FlushWhat::Sources,
        FlushWhat::Info,
        FlushWhat::Tables,
        FlushWhat::Osfp,
        FlushWhat::Reset,
        FlushWhat::All,
    ] {
        v.push(Request::Flush { what, anchor: None });
    }
    for level in [
        DebugLevel::Alert,
        DebugLevel::Crit,
        DebugLevel::Err,
        DebugLevel::Warning,
        DebugLevel::Notice,
        DebugLevel::Info,
        DebugLevel::Debug,
    ] {
        v.push(Request::SetDebug { level });
    }
    v
}

/// Reads one response line from a raw connection.
fn read_response(r: &mut BufReader<UnixStream>) -> Response {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert!(line.ends_with('\n'), "no full line: {line:?}");
    mgmt::control::decode_response(line.trim_end().as_bytes()).unwrap()
}

fn raw(path: &Path) -> (UnixStream, BufReader<UnixStream>) {
    let s = UnixStream::connect(path).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let r = BufReader::new(s.try_clone().unwrap());
    (s, r)
}

fn error_kind(r: &Response) -> Option<ErrorKind> {
    match r {
        Response::Error { kind, .. } => Some(*kind),
        _ => None,
    }
}

fn message(r: &Response) -> &str {
    match r {
        Response::Error { message, .. } => message,
        other => panic!("not an error: {other:?}"),
    }
}

fn assert_serves(path: &Path) {
    let mut c = Client::connect(path).unwrap();
    assert!(matches!(
        c.call(&Request::Enable).unwrap(),
        Response::Ok { .. }
    ));
}

fn wait_until(what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "timed out waiting for {what}"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn every_request_kind_round_trips() {
    let dir = TempDir::new();
    let (_server, fake) = start(&dir, ServerConfig::default());
    let mut c = Client::connect(dir.sock()).unwrap();
    let reqs = every_request();
    for req in &reqs {
        match c.call(req).unwrap() {
            Response::Ok { text, json } => {
                assert_eq!(text, Some(format!("{req:?}")));
                let back: Request = serde_json::from_value(json.unwrap()).unwrap();
                assert_eq!(&back, req);
            }
            other => panic!("{req:?}: {other:?}"),
        }
    }
    assert_eq!(*fake.seen.lock().unwrap(), reqs);
}

#[test]
fn errors_reach_the_client_verbatim() {
    let dir = TempDir::new();
    let (_server, _fake) = start(&dir, ServerConfig::default());
    let mut c = Client::connect(dir.sock()).unwrap();
    let load = Request::LoadRules {
        source: RuleSource::Text {
            name: "pf.conf".into(),
            text: "error here".into(),
        },
        anchor: None,
        defines: vec![],
        optimizer: None,
    };
    assert_eq!(
        c.call(&load).unwrap(),
        Response::error(ErrorKind::Failed, LOAD_ERRORS)
    );
    let show = Request::Show {
        what: ShowWhat::Memory,
        verbose: 0,
        anchor: None,
        rule: None,
        interface: None,
    };
    assert_eq!(
        error_kind(&c.call(&show).unwrap()),
        Some(ErrorKind::NotSupported)
    );
}

#[test]
fn a_panicking_engine_is_an_error_not_a_dead_server() {
    let dir = TempDir::new();
    let (_server, _fake) = start(&dir, ServerConfig::default());
    let mut c = Client::connect(dir.sock()).unwrap();
    let r = c
        .call(&Request::SetDebug {
            level: DebugLevel::Emerg,
        })
        .unwrap();
    assert_eq!(error_kind(&r), Some(ErrorKind::Failed));
    assert!(message(&r).contains("engine bug"), "{r:?}");
    // Same connection, and a new one, still served.
    assert!(matches!(
        c.call(&Request::Disable).unwrap(),
        Response::Ok { .. }
    ));
    assert_serves(&dir.sock());
}

#[test]
fn bad_requests_get_errors_and_the_connection_goes_on() {
    let dir = TempDir::new();
    let (_server, fake) = start(&dir, ServerConfig::default());
    let (mut w, mut r) = raw(&dir.sock());
    let cases: &[(&[u8], ErrorKind, &str)] = &[
        (b"{not json\n", ErrorKind::BadRequest, "malformed JSON"),
        (b"\xff\xfe\x00\n", ErrorKind::BadRequest, "malformed JSON"),
        (b"42\n", ErrorKind::BadRequest, "JSON object"),
        (br#"{"version":1,"request":{"kind":"reboot"}}"#, ErrorKind::BadRequest, "unknown request kind \"reboot\""),
        (br#"{"version":2,"request":{"kind":"enable"}}"#, ErrorKind::NotSupported, "version 2"),
        (br#"{"request":{"kind":"enable"}}"#, ErrorKind::BadRequest, "missing \"version\""),
        (br#"{"version":1,"request":{"kind":"show","what":"everything"}}"#, ErrorKind::BadRequest, "everything"),
        (br#"{"version":1,"request":{"kind":"enable","now":true}}"#, ErrorKind::BadRequest, "unknown field \"now\""),
        (br#"{"version":1,"request":{"kind":"table","name":"t","op":{"op":"expire","secs":-1}}}"#, ErrorKind::BadRequest, "table"),
    ];
    for (line, kind, needle) in cases {
        w.write_all(line).unwrap();
        if !line.ends_with(b"\n") {
            w.write_all(b"\n").unwrap();
        }
        let resp = read_response(&mut r);
        assert_eq!(error_kind(&resp), Some(*kind), "{resp:?}");
        assert!(message(&resp).contains(needle), "{needle}: {resp:?}");
    }
    assert!(
        fake.seen.lock().unwrap().is_empty(),
        "a bad request reached the engine"
    );
    w.write_all(&mgmt::control::encode_request(&Request::Enable))
        .unwrap();
    assert!(matches!(read_response(&mut r), Response::Ok { .. }));
    assert_eq!(*fake.seen.lock().unwrap(), vec![Request::Enable]);
}

#[test]
fn a_two_mib_line_is_refused_and_closes_only_its_connection() {
    let dir = TempDir::new();
    let (_server, fake) = start(&dir, ServerConfig::default());
    // Through the client: a load of 2 MiB of text.
    let mut c = Client::connect(dir.sock()).unwrap();
    let big = Request::LoadRules {
        source: RuleSource::Text {
            name: "stdin".into(),
            text: "#".repeat(2 << 20),
        },
        anchor: None,
        defines: vec![],
        optimizer: None,
    };
    let resp = c.call(&big).unwrap();
    assert_eq!(error_kind(&resp), Some(ErrorKind::BadRequest), "{resp:?}");
    assert!(
        message(&resp).contains("longer than 1048576 bytes"),
        "{resp:?}"
    );
    assert!(
        c.call(&Request::Enable).is_err(),
        "the connection should be closed"
    );

    // Raw: 2 MiB with no newline at all; the answer comes without one.
    let (mut w, mut r) = raw(&dir.sock());
    let writer = thread::spawn(move || {
        let _ = w.write_all(&vec![b'x'; 2 << 20]);
    });
    let resp = read_response(&mut r);
    assert_eq!(error_kind(&resp), Some(ErrorKind::BadRequest));
    let mut rest = Vec::new();
    let _ = r.read_to_end(&mut rest);
    assert!(rest.is_empty());
    writer.join().unwrap();

    assert!(fake.seen.lock().unwrap().is_empty());
    assert_serves(&dir.sock());
}

#[test]
fn a_client_that_hangs_up_mid_line_costs_nothing() {
    let dir = TempDir::new();
    let (server, fake) = start(&dir, ServerConfig::default());
    for _ in 0..5 {
        let mut s = UnixStream::connect(dir.sock()).unwrap();
        s.write_all(br#"{"version":1,"request":{"ki"#).unwrap();
    }
    wait_until("the connections to close", || server.connections() == 0);
    assert!(fake.seen.lock().unwrap().is_empty());
    assert_serves(&dir.sock());
}

#[test]
fn a_client_that_stalls_mid_line_is_told_and_dropped() {
    let dir = TempDir::new();
    let cfg = ServerConfig {
        read_timeout: Duration::from_millis(200),
        ..ServerConfig::default()
    };
    let (server, _fake) = start(&dir, cfg);
    let (mut w, mut r) = raw(&dir.sock());
    w.write_all(br#"{"version":1,"#).unwrap();
    let resp = read_response(&mut r);
    assert_eq!(error_kind(&resp), Some(ErrorKind::BadRequest));
    assert!(message(&resp).contains("not finished"), "{resp:?}");
    // An idle connection is just closed.
    let (_w2, mut r2) = raw(&dir.sock());
    let mut rest = Vec::new();
    let _ = r2.read_to_end(&mut rest);
    assert!(rest.is_empty());
    wait_until("the connections to close", || server.connections() == 0);
    assert_serves(&dir.sock());
}

#[test]
fn a_line_dribbled_a_byte_at_a_time_still_meets_the_deadline() {
    let dir = TempDir::new();
    let cfg = ServerConfig {
        read_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    };
    let (_server, fake) = start(&dir, cfg);
    let (mut w, mut r) = raw(&dir.sock());
    let start = Instant::now();
    let writer = thread::spawn(move || {
        for b in mgmt::control::encode_request(&Request::Enable) {
            if w.write_all(&[b]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(40));
        }
    });
    let resp = read_response(&mut r);
    assert!(message(&resp).contains("not finished"), "{resp:?}");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    writer.join().unwrap();
    assert!(fake.seen.lock().unwrap().is_empty());
}

#[test]
fn a_connection_with_requests_in_time_lives_past_the_deadline() {
    let dir = TempDir::new();
    let cfg = ServerConfig {
        read_timeout: Duration::from_millis(600),
        ..ServerConfig::default()
    };
    let (_server, _fake) = start(&dir, cfg);
    let mut c = Client::connect(dir.sock()).unwrap();
    for _ in 0..5 {
        thread::sleep(Duration::from_millis(250));
        assert!(matches!(
            c.call(&Request::Enable).unwrap(),
            Response::Ok { .. }
        ));
    }
}

#[test]
fn a_client_that_never_reads_is_dropped_after_the_write_timeout() {
    let dir = TempDir::new();
    let cfg = ServerConfig {
        write_timeout: Duration::from_millis(200),
        ..ServerConfig::default()
    };
    let big = "x".repeat(1 << 20);
    let server = Server::start(dir.sock(), cfg, move |_req: Request| {
        Response::text(big.clone())
    })
    .unwrap();
    let mut s = UnixStream::connect(dir.sock()).unwrap();
    for _ in 0..8 {
        if s.write_all(&mgmt::control::encode_request(&Request::Enable))
            .is_err()
        {
            break;
        }
    }
    wait_until("the stuck connection to be dropped", || {
        server.connections() == 0
    });
    let mut c = Client::connect(dir.sock()).unwrap();
    match c.call(&Request::Enable).unwrap() {
        Response::Ok { text, .. } => assert_eq!(text.map(|t| t.len()), Some(1 << 20)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_engine_is_never_called_twice_at_once() {
    let dir = TempDir::new();
    let busy = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let overlaps = Arc::new(AtomicUsize::new(0));
    let (b, o) = (Arc::clone(&busy), Arc::clone(&overlaps));
    let _server = Server::start(dir.sock(), ServerConfig::default(), move |_req: Request| {
        if b.swap(true, Ordering::SeqCst) {
            o.fetch_add(1, Ordering::SeqCst);
        }
        thread::sleep(Duration::from_micros(200));
        b.store(false, Ordering::SeqCst);
        Response::ok()
    })
    .unwrap();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let path = dir.sock();
            thread::spawn(move || {
                let mut c = Client::connect(&path).unwrap();
                for _ in 0..20 {
                    assert_eq!(c.call(&Request::Enable).unwrap(), Response::ok());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(overlaps.load(Ordering::SeqCst), 0);
}

#[test]
fn twenty_concurrent_clients() {
    let dir = TempDir::new();
    let (_server, fake) = start(&dir, ServerConfig::default());
    let go = Arc::new(Barrier::new(20));
    let threads: Vec<_> = (0..20u64)
        .map(|i| {
            let path = dir.sock();
            let go = Arc::clone(&go);
            thread::spawn(move || {
                let mut c = Client::connect(&path).unwrap();
                go.wait();
                for j in 0..10u64 {
                    let req = Request::KillStates {
                        filters: StateFilter {
                            interface: None,
                            by: KillBy::Id {
                                id: i * 100 + j,
                                creator: None,
                            },
                        },
                    };
                    match c.call(&req).unwrap() {
                        Response::Ok { json, .. } => {
                            let back: Request = serde_json::from_value(json.unwrap()).unwrap();
                            assert_eq!(back, req, "a response went to the wrong client");
                        }
                        other => panic!("{other:?}"),
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(fake.seen.lock().unwrap().len(), 200);
}

#[test]
fn connections_past_the_limit_are_told_so() {
    let dir = TempDir::new();
    let cfg = ServerConfig {
        max_connections: 2,
        ..ServerConfig::default()
    };
    let (server, _fake) = start(&dir, cfg);
    let mut a = Client::connect(dir.sock()).unwrap();
    let mut b = Client::connect(dir.sock()).unwrap();
    a.call(&Request::Enable).unwrap();
    b.call(&Request::Enable).unwrap();
    let mut c = Client::connect(dir.sock()).unwrap();
    let resp = c.call(&Request::Enable).unwrap();
    assert_eq!(error_kind(&resp), Some(ErrorKind::Failed));
    assert!(message(&resp).contains("too many"), "{resp:?}");
    drop(a);
    wait_until("a slot to free", || server.connections() < 2);
    assert_serves(&dir.sock());
}

#[test]
fn the_socket_is_root_only() {
    let dir = TempDir::new();
    let (_server, _fake) = start(&dir, ServerConfig::default());
    let md = std::fs::symlink_metadata(dir.sock()).unwrap();
    assert!(md.file_type().is_socket());
    assert_eq!(md.permissions().mode() & 0o7777, 0o600);
    // No temporary name left beside it.
    let names: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("pfd.sock")]);
}

#[test]
fn a_path_at_the_sun_path_limit_still_binds_root_only() {
    use std::os::unix::ffi::OsStrExt;
    let dir = TempDir::new();
    // 107 bytes: sun_path's 108 less the NUL. The private name used while
    // binding would not fit beside a one-letter file name.
    let base = dir.0.as_os_str().as_bytes().len();
    let pad = "p".repeat(107 - base - 3);
    let sub = dir.0.join(pad);
    std::fs::create_dir(&sub).unwrap();
    let path = sub.join("s");
    assert_eq!(path.as_os_str().as_bytes().len(), 107);
    let server = Server::start(&path, ServerConfig::default(), Fake::default()).unwrap();
    let md = std::fs::symlink_metadata(&path).unwrap();
    assert_eq!(md.permissions().mode() & 0o7777, 0o600);
    assert_serves(&path);
    drop(server);
    assert!(!path.exists());
}

#[test]
fn a_stale_socket_file_is_replaced() {
    let dir = TempDir::new();
    drop(UnixListener::bind(dir.sock()).unwrap());
    assert!(std::fs::symlink_metadata(dir.sock())
        .unwrap()
        .file_type()
        .is_socket());
    let (_server, _fake) = start(&dir, ServerConfig::default());
    assert_serves(&dir.sock());
}

#[test]
fn a_live_socket_is_refused() {
    let dir = TempDir::new();
    let (_server, fake) = start(&dir, ServerConfig::default());
    match Server::start(dir.sock(), ServerConfig::default(), Fake::default()) {
        Err(e @ ServerError::InUse { .. }) => assert!(e.to_string().contains("pfd.sock")),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a second server took a live socket"),
    }
    assert_serves(&dir.sock());
    assert_eq!(
        fake.seen.lock().unwrap().len(),
        1,
        "the first server lost its requests"
    );
}

#[test]
fn zero_limits_are_refused_before_binding() {
    let dir = TempDir::new();
    let cfg = ServerConfig {
        read_timeout: Duration::ZERO,
        ..ServerConfig::default()
    };
    match Server::start(dir.sock(), cfg, Fake::default()) {
        Err(e @ ServerError::ZeroLimit(_)) => assert!(e.to_string().contains("read_timeout")),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("started with a zero read timeout"),
    }
    assert!(!dir.sock().exists());
}

#[test]
fn another_file_is_never_replaced() {
    let dir = TempDir::new();
    std::fs::write(dir.sock(), "precious").unwrap();
    let r = Server::start(dir.sock(), ServerConfig::default(), Fake::default());
    assert!(matches!(r, Err(ServerError::NotASocket { .. })));
    assert_eq!(std::fs::read_to_string(dir.sock()).unwrap(), "precious");
}

#[test]
fn the_file_is_removed_on_drop() {
    let dir = TempDir::new();
    let (server, _fake) = start(&dir, ServerConfig::default());
    let mut idle = Client::connect(dir.sock()).unwrap();
    drop(server);
    assert!(!dir.sock().exists());
    assert!(
        idle.call(&Request::Enable).is_err(),
        "an open connection outlived the server"
    );
    assert!(matches!(
        Client::connect(dir.sock()),
        Err(ClientError::Connect { .. })
    ));
}

#[test]
fn drop_leaves_a_successors_socket_alone() {
    let dir = TempDir::new();
    let (old, _fake) = start(&dir, ServerConfig::default());
    std::fs::remove_file(dir.sock()).unwrap();
    let (_new, fake) = start(&dir, ServerConfig::default());
    // Its listener thread must still end promptly (stop() gives up on it
    // after 2 s): no wake-up through the path can reach it now.
    let t = Instant::now();
    drop(old);
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert_serves(&dir.sock());
    assert_eq!(fake.seen.lock().unwrap().len(), 1);
}

#[test]
fn the_shutdown_handle_ends_wait() {
    let dir = TempDir::new();
    let (server, _fake) = start(&dir, ServerConfig::default());
    let handle = server.shutdown_handle();
    let waiter = thread::spawn(move || server.wait());
    assert_serves(&dir.sock());
    handle.shutdown();
    handle.shutdown();
    waiter.join().unwrap();
    assert!(handle.is_shut_down());
    assert!(!dir.sock().exists());
}

#[test]
fn a_closure_is_a_handler() {
    let dir = TempDir::new();
    let mut n = 0u32;
    let _server = Server::start(dir.sock(), ServerConfig::default(), move |_req: Request| {
        n += 1;
        Response::text(n.to_string())
    })
    .unwrap();
    let mut c = Client::connect(dir.sock()).unwrap();
    c.call(&Request::Enable).unwrap();
    assert_eq!(c.call(&Request::Enable).unwrap(), Response::text("2"));
}

#[test]
fn requests_reach_the_engine_thread_through_the_inbox() {
    let dir = TempDir::new();
    let (handler, inbox) = channel(Duration::from_secs(10));
    let _server = Server::start(dir.sock(), ServerConfig::default(), handler).unwrap();
    let engine = thread::spawn(move || {
        let mut enabled = false;
        let mut answered = 0;
        while answered < 3 {
            let Some(p) = inbox.next_timeout(Duration::from_secs(10)) else {
                break;
            };
            let resp = match p.request() {
                Request::Enable => {
                    enabled = true;
                    Response::ok()
                }
                Request::Show { .. } => Response::text(format!(
                    "Status: {}",
                    if enabled { "Enabled" } else { "Disabled" }
                )),
                _ => Response::error(ErrorKind::NotSupported, "not yet"),
            };
            p.respond(resp);
            answered += 1;
        }
    });
    let mut c = Client::connect(dir.sock()).unwrap();
    let show = Request::Show {
        what: ShowWhat::Info,
        verbose: 0,
        anchor: None,
        rule: None,
        interface: None,
    };
    assert_eq!(c.call(&Request::Enable).unwrap(), Response::ok());
    assert_eq!(c.call(&show).unwrap(), Response::text("Status: Enabled"));
    assert_eq!(
        error_kind(&c.call(&Request::Disable).unwrap()),
        Some(ErrorKind::NotSupported)
    );
    engine.join().unwrap();
    // The engine is gone: told so, not hung.
    let r = c.call(&Request::Enable).unwrap();
    assert!(message(&r).contains("not running"), "{r:?}");
}

#[test]
fn a_request_the_engine_is_late_for_is_abandoned_not_run() {
    let dir = TempDir::new();
    let (handler, inbox) = channel(Duration::from_millis(100));
    let _server = Server::start(dir.sock(), ServerConfig::default(), handler).unwrap();
    let mut c = Client::connect(dir.sock()).unwrap();
    let r = c.call(&Request::Enable).unwrap();
    assert!(message(&r).contains("did not answer"), "{r:?}");
    // The engine wakes up later: the abandoned request is skipped, the
    // next one is served.
    let engine = thread::spawn(move || {
        let p = inbox.next_timeout(Duration::from_secs(10)).unwrap();
        let seen = p.request().clone();
        p.respond(Response::ok());
        seen
    });
    assert_eq!(c.call(&Request::Disable).unwrap(), Response::ok());
    assert_eq!(engine.join().unwrap(), Request::Disable);
}

#[test]
fn connecting_to_nothing_says_where() {
    let dir = TempDir::new();
    let e = Client::connect(dir.sock()).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("pfd.sock") && msg.contains("No such file"),
        "{msg}"
    );
}

#[test]
fn the_path_comes_from_the_flag_first() {
    // The environment is the process's; only the flag is tested here, the
    // environment and default by control_path_from's unit test.
    assert_eq!(control_path(Some("/x/y.sock")), PathBuf::from("/x/y.sock"));
}
