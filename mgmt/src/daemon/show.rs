//! The control socket's answers from the running daemon: `pfctl -si`
//! and `pfctl -ss`; every other request is refused as not supported yet.

use super::counters::Published;
use super::slot::EngineSlot;
use crate::control::{ErrorKind, Request, Response, ShowWhat};
use crate::control::{FlushWhat, KillBy, RuleSource, StateFilter, TableOp};
use crate::net::{in_net, parse_net};

/// The source and destination of the packet that created a state, as
/// the host behind the firewall saw them.
fn endpoints(st: &dataplane::state::StateInfo) -> (std::net::IpAddr, std::net::IpAddr) {
    use dataplane::pdesc::{key_to_ip, Dir};
    let k = if st.dir == Dir::Out {
        &st.stack
    } else {
        &st.wire
    };
    let (s, _) = k.src(st.dir);
    let (d, _) = k.dst(st.dir);
    (key_to_ip(k.af, s), key_to_ip(k.af, d))
}
use dataplane::pdesc::{key_to_ip, Dir};
use dataplane::reason::Reason;
use dataplane::router::{Drop, Event};
use dataplane::state::StateInfo;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

/// What the handler reads: the engine (shared with the worker) and the
/// worker's published counters.
pub struct View {
    pub engine: Arc<EngineSlot>,
    /// The etc directory's configuration: a reloaded pf.conf compiles
    /// against its interfaces and groups (`None`: reloads refused).
    pub etc: Option<Arc<crate::etc::EtcConfig>>,
    /// The loaded rules as `pfctl -sr` prints them (replaced by reloads).
    pub rules: std::sync::Mutex<String>,
    pub published: Arc<Published>,
    pub started: Instant,
    /// The ports' names, in port order, and their counters as the
    /// worker publishes them (`None` before it runs: tests).
    pub ports: Vec<String>,
    pub live: Option<Arc<super::LiveSet>>,
    /// The CARP thread, when carp interfaces are configured (ifctl).
    pub carp: Option<super::CarpHandle>,
}

impl View {
    pub fn handle(&self, req: Request) -> Response {
        match req {
            Request::Show {
                what: ShowWhat::Info,
                ..
            } => self.info(),
            Request::Show {
                what: ShowWhat::States,
                ..
            } => self.states(),
            Request::Show {
                what: ShowWhat::Rules,
                ..
            } => {
                let t = self.rules.lock().unwrap_or_else(|e| e.into_inner()).clone();
                Response::Ok {
                    json: Some(serde_json::json!(t.lines().collect::<Vec<_>>())),
                    text: Some(t),
                }
            }
            Request::Show {
                what: ShowWhat::Tables,
                ..
            } => {
                // pfctl -sT: the main ruleset's tables, by name
                let engine = self.engine.get();
                let mut names: Vec<String> = engine
                    .compiled()
                    .table_keys
                    .iter()
                    .filter(|k| k.anchor.is_empty())
                    .map(|k| k.name.clone())
                    .collect();
                names.sort();
                Response::Ok {
                    text: Some(names.iter().map(|n| format!("{n}\n")).collect()),
                    json: Some(serde_json::json!(names)),
                }
            }
            Request::Show {
                what: ShowWhat::Interfaces,
                ..
            } => {
                // pfctl -sI: interfaces and their groups, and `all`
                let mut names: Vec<String> = vec!["all".to_string()];
                match &self.etc {
                    Some(etc) => {
                        for i in &etc.interfaces {
                            names.push(i.name.clone());
                            names.extend(i.groups.iter().cloned());
                        }
                    }
                    None => names.extend(self.ports.iter().cloned()),
                }
                names.sort();
                names.dedup();
                Response::Ok {
                    text: Some(names.iter().map(|n| format!("{n}\n")).collect()),
                    json: Some(serde_json::json!(names)),
                }
            }
            Request::Show {
                what: ShowWhat::Timeouts,
                ..
            } => self.timeouts(),
            Request::Show {
                what: ShowWhat::Memory,
                ..
            } => self.memory(),
            Request::Enable => {
                if self.engine.set_enabled(true) {
                    Response::text("pf enabled\n")
                } else {
                    Response::error(ErrorKind::Failed, "pf already enabled")
                }
            }
            Request::Disable => {
                if self.engine.set_enabled(false) {
                    Response::text("pf disabled\n")
                } else {
                    Response::error(ErrorKind::Failed, "pf not enabled")
                }
            }
            Request::Table {
                name,
                anchor: None,
                op,
                ..
            } => self.table(&name, op),
            Request::Flush {
                what: FlushWhat::States,
                anchor: None,
            } => self.kill(|_| true, "states cleared"),
            Request::KillStates {
                filters:
                    StateFilter {
                        interface: None,
                        by: KillBy::Hosts { src, dst },
                    },
            } => {
                let net = |s: &str| parse_net(s).ok();
                let (Some(s), d) = (net(&src), dst.as_deref().map(net)) else {
                    return Response::error(
                        ErrorKind::BadRequest,
                        format!("{src}: not an address or network"),
                    );
                };
                let d = match d {
                    Some(Some(d)) => Some(d),
                    Some(None) => {
                        return Response::error(
                            ErrorKind::BadRequest,
                            format!("{}: not an address or network", dst.unwrap_or_default()),
                        )
                    }
                    None => None,
                };
                self.kill(
                    |st| {
                        let (from, to) = endpoints(st);
                        in_net(from, &s) && d.as_ref().is_none_or(|d| in_net(to, d))
                    },
                    "states killed",
                )
            }
            Request::LoadRules {
                source,
                anchor: None,
                defines,
                ..
            } if defines.is_empty() => self.load(source),
            Request::Ifctl { op } => super::ifctl::handle(&super::ifctl::Ctx::of(self), op),
            other => Response::error(
                ErrorKind::NotSupported,
                format!("{} is not supported by this pfd yet", describe(&other)),
            ),
        }
    }

    /// `pfctl -f FILE` on the running pfd: compile against the etc
    /// configuration, build the engine over the same states, install
    /// it; on any error the running ruleset and its states stay.
    fn load(&self, source: RuleSource) -> Response {
        let Some(etc) = &self.etc else {
            return Response::error(
                ErrorKind::NotSupported,
                "this pfd was not booted from an etc directory",
            );
        };
        let base = match ruleset::hostenv::from_env() {
            Ok(e) => e,
            Err(e) => return Response::error(ErrorKind::Failed, e.to_string()),
        };
        let host = etc.host_env(base.as_ref());
        let (name, compiled) = match &source {
            RuleSource::Path { path } => {
                let p = path.to_string_lossy().into_owned();
                (p.clone(), crate::load::load_ruleset_with_text(&p, &host))
            }
            RuleSource::Text { name, .. } => (
                name.clone(),
                Err(format!(
                    "{name}: not supported: rules as text; give pfd a file path\n"
                )),
            ),
            #[allow(unreachable_patterns)]
            _ => (
                String::new(),
                Err("not supported: this rule source\n".to_string()),
            ),
        };
        let (compiled, text) = match compiled {
            Ok(c) => c,
            Err(e) => return Response::error(ErrorKind::Failed, e),
        };
        match self.engine.replace(|cur| cur.reload(compiled)) {
            Ok(()) => {
                *self.rules.lock().unwrap_or_else(|e| e.into_inner()) = text;
                Response::ok()
            }
            Err(e) => Response::error(ErrorKind::Failed, e.render(&name)),
        }
    }

    /// `pfctl -t NAME -T OP`, with pfctl's messages.
    fn table(&self, name: &str, op: TableOp) -> Response {
        let engine = self.engine.get();
        let Some(t) = engine.table_id(name) else {
            return Response::error(ErrorKind::Failed, format!("Table does not exist: {name}"));
        };
        let parse = |addrs: &[String]| -> Result<Vec<(std::net::IpAddr, u8, bool)>, Response> {
            addrs
                .iter()
                .map(|a| {
                    let (neg, body) = match a.strip_prefix('!') {
                        Some(b) => (true, b),
                        None => (false, a.as_str()),
                    };
                    parse_net(body)
                        .ok()
                        .map(|n| (n.0, n.1, neg))
                        .ok_or_else(|| {
                            Response::error(
                                ErrorKind::BadRequest,
                                format!("{a}: not an address or network"),
                            )
                        })
                })
                .collect()
        };
        let done = |what: &str, c: Result<dataplane::engine::TableChange, String>| match c {
            Ok(c) => Response::Ok {
                text: Some(format!("{}/{} addresses {what}.\n", c.changed, c.given)),
                json: Some(serde_json::json!({ what: c.changed, "given": c.given })),
            },
            Err(e) => Response::error(ErrorKind::Failed, e),
        };
        match op {
            TableOp::Show => {
                let entries = engine.table_entries(t);
                let mut text = String::new();
                let mut list = Vec::new();
                for (a, p, neg) in entries {
                    let full = if a.is_ipv4() { 32 } else { 128 };
                    let s = if p == full {
                        a.to_string()
                    } else {
                        format!("{a}/{p}")
                    };
                    text.push_str(&format!("  {}{s}\n", if neg { "!" } else { " " }));
                    list.push(if neg { format!("!{s}") } else { s });
                }
                Response::Ok {
                    text: Some(text),
                    json: Some(serde_json::json!(list)),
                }
            }
            TableOp::Add { addrs } => match parse(&addrs) {
                Ok(e) => done("added", engine.table_add(t, &e)),
                Err(r) => r,
            },
            TableOp::Delete { addrs } => match parse(&addrs) {
                Ok(e) => done("deleted", engine.table_delete(t, &e)),
                Err(r) => r,
            },
            TableOp::Replace { addrs } => match parse(&addrs) {
                Ok(e) => done("replaced", engine.table_replace(t, &e)),
                Err(r) => r,
            },
            TableOp::Flush => match engine.table_flush(t) {
                Ok(n) => Response::Ok {
                    text: Some(format!("{n} addresses deleted.\n")),
                    json: Some(serde_json::json!({ "deleted": n })),
                },
                Err(e) => Response::error(ErrorKind::Failed, e),
            },
            TableOp::Test { addrs } => {
                let ips: Result<Vec<std::net::IpAddr>, _> =
                    addrs.iter().map(|a| a.parse()).collect();
                let Ok(ips) = ips else {
                    return Response::error(ErrorKind::BadRequest, "-T test takes addresses");
                };
                let hits = engine.table_test(t, &ips);
                let n = hits.iter().filter(|h| **h).count();
                Response::Ok {
                    text: Some(format!("{n}/{} addresses match.\n", ips.len())),
                    json: Some(serde_json::json!({ "match": n, "given": ips.len() })),
                }
            }
            other => Response::error(
                ErrorKind::NotSupported,
                format!(
                    "{} is not supported by this pfd yet",
                    describe(&Request::Table {
                        name: name.to_string(),
                        anchor: None,
                        op: other,
                        verbose: 0,
                    })
                ),
            ),
        }
    }

    /// Remove every state `which` picks (pfctl -F states, -k).
    fn kill(&self, which: impl Fn(&dataplane::state::StateInfo) -> bool, what: &str) -> Response {
        let engine = self.engine.get();
        let mut n = 0u64;
        for st in engine.states().states() {
            if which(&st) && engine.states().remove(st.id) {
                n += 1;
            }
        }
        Response::Ok {
            text: Some(format!("{n} {what}\n")),
            json: Some(serde_json::json!({ "killed": n })),
        }
    }

    /// `pfctl -st`, in pfctl's order and format.
    fn timeouts(&self) -> Response {
        use ruleset::rule::{timeout_index, PFTM_ADAPTIVE_END, PFTM_ADAPTIVE_START};
        const ORDER: [&str; 20] = [
            "tcp.first",
            "tcp.opening",
            "tcp.established",
            "tcp.closing",
            "tcp.finwait",
            "tcp.closed",
            "tcp.tsdiff",
            "udp.first",
            "udp.single",
            "udp.multiple",
            "icmp.first",
            "icmp.error",
            "other.first",
            "other.single",
            "other.multiple",
            "frag",
            "interval",
            "adaptive.start",
            "adaptive.end",
            "src.track",
        ];
        let t = self.engine.get().states().timeouts();
        let mut text = String::new();
        let mut json = serde_json::Map::new();
        for name in ORDER {
            let Some(i) = timeout_index(name) else {
                continue;
            };
            let unit = if (PFTM_ADAPTIVE_START..=PFTM_ADAPTIVE_END).contains(&i) {
                " states"
            } else {
                "s"
            };
            text.push_str(&format!("{name:<20} {:>10}{unit}\n", t[i]));
            json.insert(name.to_string(), serde_json::json!(t[i]));
        }
        Response::Ok {
            text: Some(text),
            json: Some(serde_json::Value::Object(json)),
        }
    }

    /// `pfctl -sm`: the limits in force.
    fn memory(&self) -> Response {
        use ruleset::ruleset::{DEFAULT_LIMITS, LIMIT_NAMES};
        let engine = self.engine.get();
        let o = &engine.compiled().options;
        let mut text = String::new();
        let mut json = serde_json::Map::new();
        for (i, name) in LIMIT_NAMES.iter().enumerate() {
            let v = if i == 0 {
                engine.states().limit()
            } else if o.limit_set[i] {
                o.limits[i]
            } else {
                DEFAULT_LIMITS[i]
            };
            if v == u32::MAX {
                text.push_str(&format!("{name:<13} unlimited\n"));
            } else {
                text.push_str(&format!("{name:<13} hard limit {v:>8}\n"));
            }
            json.insert(name.to_string(), serde_json::json!(v));
        }
        Response::Ok {
            text: Some(text),
            json: Some(serde_json::Value::Object(json)),
        }
    }

    fn info(&self) -> Response {
        let engine = self.engine.get();
        let p = &self.published;
        let g = Published::get;
        let reasons = p.reasons();
        let router = p.router();
        let states = engine.state_count();
        let sc = engine.states().counters();
        let mut t = String::new();
        let _ = writeln!(
            t,
            "Status: {} for {} s\n",
            if self.engine.enabled() {
                "Enabled"
            } else {
                "Disabled"
            },
            self.started.elapsed().as_secs()
        );
        let _ = writeln!(t, "{:<28}{:>14}{:>14}", "Packets", "In", "Out");
        let _ = writeln!(
            t,
            "  {:<26}{:>14}{:>14}",
            "passed",
            g(&p.passed[0]),
            g(&p.passed[1])
        );
        let _ = writeln!(
            t,
            "  {:<26}{:>14}{:>14}",
            "blocked",
            g(&p.blocked[0]),
            g(&p.blocked[1])
        );
        let _ = writeln!(t, "State Table");
        let _ = writeln!(t, "  {:<26}{:>14}", "current entries", states);
        let _ = writeln!(t, "  {:<26}{:>14}", "inserts", sc.inserts);
        let _ = writeln!(t, "  {:<26}{:>14}", "removals", sc.removals);
        let _ = writeln!(t, "Counters");
        for r in Reason::ALL {
            let _ = writeln!(t, "  {:<26}{:>14}", r.name(), reasons.get(r));
        }
        let _ = writeln!(t, "Router");
        let _ = writeln!(
            t,
            "  {:<26}{:>14}",
            "not forwarded (sysctl)",
            g(&p.cantforward)
        );
        let mut rj = serde_json::Map::new();
        for e in Event::ALL {
            if router.count(e) > 0 {
                let _ = writeln!(t, "  {:<26}{:>14}", e.name(), router.count(e));
                rj.insert(e.name().to_string(), json!(router.count(e)));
            }
        }
        for d in Drop::ALL {
            if router.dropped(d) > 0 {
                let _ = writeln!(t, "  {:<26}{:>14}", d.name(), router.dropped(d));
                rj.insert(d.name().to_string(), json!(router.dropped(d)));
            }
        }
        let mut ifs = serde_json::Map::new();
        if let Some(live) = &self.live {
            let _ = writeln!(t, "Interfaces (frames in/out, bytes in/out, lost)");
            for (i, name) in self.ports.iter().enumerate() {
                let Some(st) = live.port(i) else { continue };
                let lost = st.rx_truncated + st.rx_ring_drops + st.tx_dropped;
                let _ = writeln!(
                    t,
                    "  {name:<10}{:>10}{:>10}{:>14}{:>14}{:>8}",
                    st.rx_frames, st.tx_frames, st.rx_bytes, st.tx_bytes, lost
                );
                ifs.insert(
                    name.clone(),
                    json!({
                        "rx_frames": st.rx_frames,
                        "rx_bytes": st.rx_bytes,
                        "tx_frames": st.tx_frames,
                        "tx_bytes": st.tx_bytes,
                        "rx_truncated": st.rx_truncated,
                        "rx_ring_drops": st.rx_ring_drops,
                        "tx_dropped": st.tx_dropped,
                    }),
                );
            }
        }
        let reasons_json: serde_json::Map<String, Value> = Reason::ALL
            .iter()
            .map(|r| (r.name().to_string(), json!(reasons.get(*r))))
            .collect();
        Response::Ok {
            text: Some(t),
            json: Some(json!({
                "passed": {"in": g(&p.passed[0]), "out": g(&p.passed[1])},
                "blocked": {"in": g(&p.blocked[0]), "out": g(&p.blocked[1])},
                "replies": g(&p.replies),
                "unsent": g(&p.unsent),
                "cantforward": g(&p.cantforward),
                "states": states,
                "reasons": reasons_json,
                "router": rj,
                "interfaces": ifs,
            })),
        }
    }

    fn states(&self) -> Response {
        let list = self.engine.get().states().states();
        let mut t = String::new();
        let mut j = Vec::new();
        for s in &list {
            let line = state_line(s);
            let _ = writeln!(t, "{line}");
            j.push(json!(line));
        }
        Response::Ok {
            text: Some(t),
            json: Some(Value::Array(j)),
        }
    }
}

fn describe(req: &Request) -> String {
    match req {
        Request::Show { what, .. } => format!("show {what:?}").to_lowercase(),
        other => other.kind().to_string(),
    }
}

fn host(ip: IpAddr, port: u16) -> String {
    // pfctl's print_host: the port when there is one (ICMP's id too).
    match (ip, port) {
        (a, 0) => a.to_string(),
        (IpAddr::V4(a), p) => format!("{a}:{p}"),
        (IpAddr::V6(a), p) => format!("{a}[{p}]"),
    }
}

fn proto_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        58 => "ipv6-icmp".into(),
        n => n.to_string(),
    }
}

/// The two peers' states as pfctl prints them: TCP's by name, UDP's and
/// other protocols' by pf's names for them, ICMP's as numbers (it has
/// no state levels).
fn peer_states(proto: u8, src: u8, dst: u8) -> String {
    const TCP: [&str; 11] = [
        "CLOSED",
        "LISTEN",
        "SYN_SENT",
        "SYN_RCVD",
        "ESTABLISHED",
        "CLOSE_WAIT",
        "FIN_WAIT_1",
        "CLOSING",
        "LAST_ACK",
        "FIN_WAIT_2",
        "TIME_WAIT",
    ];
    const OTHER: [&str; 3] = ["NO_TRAFFIC", "SINGLE", "MULTIPLE"];
    let names: &[&str] = match proto {
        6 => &TCP,
        1 | 58 => &[],
        _ => &OTHER,
    };
    match (names.get(usize::from(src)), names.get(usize::from(dst))) {
        (Some(a), Some(b)) => format!("{a}:{b}"),
        _ => format!("{src}:{dst}"),
    }
}

/// One state as `pfctl -ss` prints it: the stack-side key, with the
/// wire side in parentheses where translation made them differ, `->`
/// for an outbound state, `<-` for an inbound one.
pub fn state_line(s: &StateInfo) -> String {
    let (sk, nk, src, dst) = if s.dir == Dir::Out {
        (&s.stack, &s.wire, &s.src, &s.dst)
    } else {
        (&s.wire, &s.stack, &s.dst, &s.src)
    };
    let p = nk.proto;
    let side = |i: usize| {
        let n = host(key_to_ip(nk.af, nk.addr[i]), nk.port[i]);
        let w = host(key_to_ip(sk.af, sk.addr[i]), sk.port[i]);
        if n == w {
            n
        } else {
            format!("{n} ({w})")
        }
    };
    let arrow = if s.dir == Dir::Out { "->" } else { "<-" };
    format!(
        "all {} {} {arrow} {}       {}",
        proto_name(p),
        side(1),
        side(0),
        peer_states(p, src.state, dst.state)
    )
}
