//! `pfd run --metrics`: pfd between a client and a server namespace
//! serves Prometheus's `GET /metrics` on the fw namespace's loopback;
//! after some traffic a scrape agrees with what pfctl shows (-si,
//! -vsr, -sl) and, for a carp interface with no peer, with `ifctl -s
//! carp`; garbage gets 400 and the server keeps serving. pfd runs with
//! `--log-format json`: every line of its stderr is a JSON object.
//! Needs root; skipped with a message otherwise, failed when CI is set.

mod live;
#[path = "../../dataplane/tests/netns/mod.rs"]
mod netns;

use live::{ping, spawn_in, Etc, Pfd};
use netns::Ns;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const METRICS: &str = "127.0.0.1:9100";

const PF_CONF: &str = "\
block all
pass out
pass in on veth0 proto tcp to port 8080 label \"web\"
pass in on veth0 proto icmp label \"ping\"
pass in on veth0 proto icmp to 192.0.2.1 label \"ping\"
";

/// A sample's labels, sorted.
type Labels = Vec<(String, String)>;

/// The exposition's samples by name; checks each family has HELP and
/// TYPE before its samples, and no family comes twice.
fn parse(text: &str) -> BTreeMap<String, Vec<(Labels, u64)>> {
    let mut out: BTreeMap<String, Vec<(Labels, u64)>> = BTreeMap::new();
    let mut typed = None::<String>;
    let mut families = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(families.insert(name.to_string()), "{name} twice");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(families.contains(name), "TYPE before HELP: {line}");
            assert!(kind == "counter" || kind == "gauge", "{line}");
            assert_eq!(
                kind == "counter",
                name.ends_with("_total"),
                "counters and only counters end in _total: {line}"
            );
            typed = Some(name.to_string());
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect(line);
        let (name, labels) = match series.split_once('{') {
            Some((n, l)) => (n, l.strip_suffix('}').expect(line)),
            None => (series, ""),
        };
        assert_eq!(
            typed.as_deref(),
            Some(name),
            "sample outside its family: {line}"
        );
        let mut ls = Vec::new();
        let mut rest = labels;
        while !rest.is_empty() {
            let (k, v) = rest.split_once("=\"").expect(line);
            let mut val = String::new();
            let mut chars = v.char_indices();
            let end = loop {
                match chars.next().expect(line) {
                    (_, '\\') => match chars.next().expect(line).1 {
                        'n' => val.push('\n'),
                        c => val.push(c),
                    },
                    (i, '"') => break i,
                    (_, c) => val.push(c),
                }
            };
            ls.push((k.to_string(), val));
            rest = v[end + 1..].strip_prefix(',').unwrap_or(&v[end + 1..]);
        }
        ls.sort();
        out.entry(name.to_string())
            .or_default()
            .push((ls, value.parse().expect(line)));
    }
    out
}

/// The sample of `name` with exactly `labels`.
fn get(m: &BTreeMap<String, Vec<(Labels, u64)>>, name: &str, labels: &[(&str, &str)]) -> u64 {
    let mut want: Labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    want.sort();
    m.get(name)
        .and_then(|v| v.iter().find(|(l, _)| *l == want).map(|(_, n)| *n))
        .unwrap_or_else(|| panic!("no {name}{labels:?} in {:?}", m.get(name)))
}

/// One HTTP exchange on the fw namespace's loopback: the raw answer.
fn http(fw: &Ns, request: &'static [u8]) -> String {
    fw.run(|| {
        let to: SocketAddr = METRICS.parse().unwrap();
        let mut s = TcpStream::connect_timeout(&to, Duration::from_secs(5)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(request).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    })
}

fn scrape(fw: &Ns) -> String {
    let r = http(fw, b"GET /metrics HTTP/1.1\r\nHost: fw\r\n\r\n");
    let (head, body) = r.split_once("\r\n\r\n").expect(&r);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8"),
        "{head}"
    );
    assert!(head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())));
    body.to_string()
}

/// The real pfctl against `sock`: stdout.
fn pfctl(sock: &Path, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_pfctl"))
        .arg("--control")
        .arg(sock)
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "pfctl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// pfctl -si's `  NAME   N` line.
fn si_line(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| {
            l.trim_start()
                .strip_prefix(name)
                .filter(|r| r.starts_with(' '))
                .and_then(|r| r.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

#[test]
fn pfd_serves_metrics_that_agree_with_pfctl() {
    if !netns::can_run("pfd_serves_metrics_that_agree_with_pfctl") {
        return;
    }
    let client = Ns::new("mc");
    let fw = Ns::new("mf");
    let server = Ns::new("ms");
    fw.veth("veth0", "cl0");
    fw.give("cl0", &client);
    fw.veth("veth1", "sv0");
    fw.give("sv0", &server);
    client.ip(&["addr", "add", "192.0.2.10/24", "dev", "cl0"]);
    client.ip(&["route", "add", "default", "via", "192.0.2.1"]);
    server.ip(&["addr", "add", "198.51.100.10/24", "dev", "sv0"]);
    server.ip(&["route", "add", "default", "via", "198.51.100.1"]);

    let etc = Etc::new("metrics", PF_CONF);
    // A CARP address with no peer: master after three adverts' time.
    std::fs::write(
        etc.0.join("hostname.carp0"),
        "inet 192.0.2.254 255.255.255.0 192.0.2.255 vhid 7 carpdev veth0 pass metrics\n",
    )
    .unwrap();
    let sock = etc.0.join("pfd.sock");
    let log = std::env::temp_dir().join(format!("pfd-metrics-{}.log", std::process::id()));
    let mut pfd = Pfd::start_with(
        &fw,
        &etc.0,
        &sock,
        log,
        &["--metrics", METRICS, "--log-format", "json"],
    );

    assert!(ping(&client, "198.51.100.10"), "ping: {}", pfd.stderr());
    assert!(ping(&client, "192.0.2.1"), "ping fw: {}", pfd.stderr());
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let srv = spawn_in(&server, move || {
        let l = TcpListener::bind("198.51.100.10:8080").unwrap();
        ready_tx.send(()).unwrap();
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).unwrap();
        s.write_all(&buf).unwrap();
    });
    ready_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("listener up");
    let echoed = spawn_in(&client, || {
        let to: SocketAddr = "198.51.100.10:8080".parse().unwrap();
        let mut s = TcpStream::connect_timeout(&to, Duration::from_secs(5)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"hello").unwrap();
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).unwrap();
        buf
    })
    .join()
    .unwrap();
    assert_eq!(&echoed, b"hello");
    srv.join().unwrap();

    // Garbage first: 400, 404, 405, and the server still answers.
    let r = http(&fw, b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{r}");
    let r = http(&fw, b"GET /../etc/passwd HTTP/1.1\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 404 Not Found\r\n"), "{r}");
    let r = http(&fw, b"DELETE /metrics HTTP/1.1\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 405 "), "{r}");

    // The workers publish their counters at each tick (100 ms): the
    // exchange shows in pfctl -sl within a few.
    let web_packets = || {
        pfctl(&sock, &["-sl"])
            .lines()
            .find_map(|l| {
                l.strip_prefix("web ")?
                    .split(' ')
                    .nth(1)?
                    .parse::<u64>()
                    .ok()
            })
            .unwrap_or(0)
    };
    let t = std::time::Instant::now();
    while web_packets() < 5 {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{}",
            pfctl(&sock, &["-vsr"])
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // The workers publish at each tick and the kernels around keep
    // talking (neighbour discovery): compare a scrape with pfctl's
    // figures taken between it and an identical second scrape.
    let mut agreed = false;
    for _ in 0..40 {
        let before = scrape(&fw);
        let si = pfctl(&sock, &["-si"]);
        let info: Value = serde_json::from_str(&pfctl(&sock, &["--json", "-v", "-si"])).unwrap();
        let rules: Value = serde_json::from_str(&pfctl(&sock, &["--json", "-v", "-sr"])).unwrap();
        let labels = pfctl(&sock, &["-sl"]);
        let after = scrape(&fw);
        if before != after {
            std::thread::sleep(Duration::from_millis(150));
            continue;
        }
        let m = parse(&after);
        // pfctl -si
        assert_eq!(get(&m, "pfd_states", &[]), si_line(&si, "current entries"));
        assert_eq!(
            get(&m, "pfd_state_inserts_total", &[]),
            si_line(&si, "inserts")
        );
        assert_eq!(
            get(&m, "pfd_state_removals_total", &[]),
            si_line(&si, "removals")
        );
        assert_eq!(
            get(&m, "pfd_state_searches_total", &[]),
            si_line(&si, "searches")
        );
        for reason in ["match", "state-mismatch", "short", "memory"] {
            assert_eq!(
                get(&m, "pfd_reason_packets_total", &[("reason", reason)]),
                si_line(&si, reason),
                "{reason}"
            );
        }
        for (action, key) in [("pass", "passed"), ("block", "blocked")] {
            for dir in ["in", "out"] {
                assert_eq!(
                    get(
                        &m,
                        "pfd_packets_total",
                        &[("action", action), ("direction", dir)]
                    ),
                    info[key][dir].as_u64().unwrap(),
                    "{action} {dir}"
                );
            }
        }
        for (ifname, c) in info["interfaces"].as_object().unwrap() {
            for (dir, frames, bytes) in [
                ("in", "rx_frames", "rx_bytes"),
                ("out", "tx_frames", "tx_bytes"),
            ] {
                let l = [("interface", ifname.as_str()), ("direction", dir)];
                assert_eq!(
                    get(&m, "pfd_interface_frames_total", &l),
                    c[frames].as_u64().unwrap()
                );
                assert_eq!(
                    get(&m, "pfd_interface_bytes_total", &l),
                    c[bytes].as_u64().unwrap()
                );
            }
        }
        assert!(
            get(
                &m,
                "pfd_interface_frames_total",
                &[("interface", "veth0"), ("direction", "in")]
            ) > 0
        );
        assert!(si_line(&si, "inserts") > 0, "{si}");
        // pfctl -vsr, rule by rule
        let mut labelled = 0;
        for r in rules.as_array().unwrap() {
            let nr = r["nr"].as_u64().unwrap().to_string();
            let label = match r["rule"].as_str().unwrap().split_once("label \"") {
                Some((_, rest)) => rest.split('"').next().unwrap().to_string(),
                None => String::new(),
            };
            labelled += usize::from(!label.is_empty());
            let c = &r["counters"];
            let mut id = vec![("rule", nr.as_str())];
            if !label.is_empty() {
                id.push(("label", label.as_str()));
            }
            assert_eq!(
                get(&m, "pfd_rule_evaluations_total", &id),
                c["evaluations"].as_u64().unwrap()
            );
            assert_eq!(
                get(&m, "pfd_rule_states", &id),
                c["states"].as_u64().unwrap()
            );
            assert_eq!(
                get(&m, "pfd_rule_state_creations_total", &id),
                c["state_creations"].as_u64().unwrap()
            );
            for dir in ["in", "out"] {
                let mut l = id.clone();
                l.push(("direction", dir));
                assert_eq!(
                    get(&m, "pfd_rule_packets_total", &l),
                    c["packets"][dir].as_u64().unwrap()
                );
                assert_eq!(
                    get(&m, "pfd_rule_bytes_total", &l),
                    c["bytes"][dir].as_u64().unwrap()
                );
            }
        }
        assert_eq!(labelled, 3, "{rules}");
        // pfctl -sl: two rules share label ping, summed
        let mut sums: BTreeMap<&str, [u64; 8]> = BTreeMap::new();
        for l in labels.lines() {
            let mut f = l.split(' ');
            let name = f.next().unwrap();
            let s = sums.entry(name).or_default();
            for (i, v) in f.enumerate() {
                s[i] += v.parse::<u64>().unwrap();
            }
        }
        assert_eq!(sums.len(), 2, "{labels}");
        for (name, s) in &sums {
            let l = [("label", *name)];
            assert_eq!(get(&m, "pfd_label_evaluations_total", &l), s[0]);
            assert_eq!(
                get(
                    &m,
                    "pfd_label_packets_total",
                    &[("label", name), ("direction", "in")]
                ),
                s[3]
            );
            assert_eq!(
                get(
                    &m,
                    "pfd_label_bytes_total",
                    &[("label", name), ("direction", "in")]
                ),
                s[4]
            );
            assert_eq!(
                get(
                    &m,
                    "pfd_label_packets_total",
                    &[("label", name), ("direction", "out")]
                ),
                s[5]
            );
            assert_eq!(
                get(
                    &m,
                    "pfd_label_bytes_total",
                    &[("label", name), ("direction", "out")]
                ),
                s[6]
            );
            assert_eq!(get(&m, "pfd_label_state_creations_total", &l), s[7]);
        }
        assert!(sums["web"][1] >= 5, "the TCP exchange counted: {labels}");
        assert!(sums["ping"][1] >= 6, "the pings counted: {labels}");
        // no pfsync configured: no such series
        assert!(!m.contains_key("pfd_pfsync_up"));
        agreed = true;
        break;
    }
    assert!(agreed, "metrics never held still long enough to compare");

    // CARP: the vhost's state, and netstat -s -p carp's counters, which
    // move with each advert: ifctl's figure lies between two scrapes.
    let carp = [("interface", "carp0"), ("carpdev", "veth0"), ("vhid", "7")];
    let t = std::time::Instant::now();
    while get(&parse(&scrape(&fw)), "pfd_carp_state", &carp) != 2 {
        assert!(t.elapsed() < Duration::from_secs(10), "carp0 never master");
        std::thread::sleep(Duration::from_millis(200));
    }
    let before = parse(&scrape(&fw));
    let o = Command::new(env!("CARGO_BIN_EXE_ifctl"))
        .arg("--control")
        .arg(&sock)
        .args(["--json", "-s", "carp"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let ifctl: Value = serde_json::from_slice(&o.stdout).unwrap();
    let after = parse(&scrape(&fw));
    for (name, v) in ifctl.as_object().unwrap() {
        let metric = format!("pfd_carp_{name}_total");
        let v = v.as_u64().unwrap();
        let (lo, hi) = (get(&before, &metric, &[]), get(&after, &metric, &[]));
        assert!(lo <= v && v <= hi, "{metric}: {lo} <= {v} <= {hi}");
    }
    assert!(get(&after, "pfd_carp_opackets_total", &[]) >= 1);
    assert!(get(&after, "pfd_carp_preempt_total", &[]) >= 1);
    assert_eq!(get(&after, "pfd_carp_demote", &[("interface", "carp0")]), 0);

    let st = pfd.terminate();
    let log = pfd.stderr();
    assert!(st.success(), "pfd exit {st}: {log}");
    // --log-format json: one object per line, level, target, message
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    assert!(lines
        .iter()
        .all(|j| j["level"].is_string() && j["target"].is_string()));
    let msgs: Vec<&str> = lines.iter().filter_map(|j| j["message"].as_str()).collect();
    assert!(
        msgs.iter().any(|m| m.starts_with("running on veth0 veth1")),
        "{log}"
    );
    assert!(
        msgs.contains(&"metrics on http://127.0.0.1:9100/metrics"),
        "{log}"
    );
    assert!(msgs.iter().any(|m| m.starts_with("stopped: ")), "{log}");
    // and the endpoint went with it
    assert!(fw.run(|| TcpStream::connect(METRICS)).is_err());
}

/// pfsync with `defer` and no peer: every new state's first packet is
/// held for the 20 ms timeout, and the deferral counters the scrape
/// shows are ifctl pfsync0's. The pflog writer's loss counter is there
/// (0: no --pflog).
#[test]
fn pfsync_deferrals_reach_the_metrics() {
    if !netns::can_run("pfsync_deferrals_reach_the_metrics") {
        return;
    }
    let client = Ns::new("mdc");
    let fw = Ns::new("mdf");
    let server = Ns::new("mds");
    fw.veth("veth0", "cl0");
    fw.give("cl0", &client);
    fw.veth("veth1", "sv0");
    fw.give("sv0", &server);
    client.ip(&["addr", "add", "192.0.2.10/24", "dev", "cl0"]);
    client.ip(&["route", "add", "default", "via", "192.0.2.1"]);
    server.ip(&["addr", "add", "198.51.100.10/24", "dev", "sv0"]);
    server.ip(&["route", "add", "default", "via", "198.51.100.1"]);
    let etc = Etc::new("mdefer", "pass\n");
    std::fs::write(
        etc.0.join("hostname.pfsync0"),
        "up syncdev veth1 defer -mirror\n",
    )
    .unwrap();
    let sock = etc.0.join("pfd.sock");
    let log = std::env::temp_dir().join(format!("pfd-mdefer-{}.log", std::process::id()));
    let pfd = Pfd::start_with(&fw, &etc.0, &sock, log, &["--metrics", METRICS]);

    // The first ping's state waits for the server's address, and a
    // packet waiting for a next hop is not held (pfd's departure from
    // OpenBSD, see ha_defer); the second ping (another id, another
    // state) is.
    assert!(ping(&client, "198.51.100.10"), "ping: {}", pfd.stderr());
    assert!(ping(&client, "198.51.100.10"), "ping: {}", pfd.stderr());
    let deferrals = || {
        let o = Command::new(env!("CARGO_BIN_EXE_ifctl"))
            .arg("--control")
            .arg(&sock)
            .args(["--json", "pfsync0"])
            .output()
            .unwrap();
        assert!(o.status.success());
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v[0]["deferrals"].clone()
    };
    // The kernels around keep talking (neighbour discovery makes no
    // state, but a late echo might): compare between identical scrapes.
    let mut agreed = false;
    for _ in 0..20 {
        let before = parse(&scrape(&fw));
        let d = deferrals();
        let after = parse(&scrape(&fw));
        if before != after {
            continue;
        }
        let m = after;
        assert_eq!(get(&m, "pfd_pfsync_up", &[]), 1);
        for event in ["add", "ack", "run", "over"] {
            assert_eq!(
                get(&m, "pfd_pfsync_deferrals_total", &[("event", event)]),
                d[event].as_u64().unwrap(),
                "{event}: {d}"
            );
        }
        assert!(
            d["add"].as_u64().unwrap() >= 1,
            "the ping's state was deferred: {d}"
        );
        assert_eq!(d["run"], d["add"], "no peer: released by the timeout: {d}");
        assert_eq!(
            get(&m, "pfd_pfsync_deferred", &[]),
            d["held"].as_u64().unwrap()
        );
        for why in ["queue_full", "declined", "unsent"] {
            assert_eq!(
                get(&m, "pfd_pfsync_defer_not_held_total", &[("why", why)]),
                d[why].as_u64().unwrap(),
                "{why}: {d}"
            );
        }
        assert_eq!(get(&m, "pfd_pflog_dropped_total", &[]), 0);
        agreed = true;
        break;
    }
    assert!(agreed, "metrics never held still long enough to compare");
    drop(pfd);
}
