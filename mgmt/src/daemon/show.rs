//! The control socket's answers from the running daemon: the request
//! dispatch (`View::handle`), and the answers small enough to live
//! here (`-ss`, `-st`, `-sm`, `-e`/`-d`, `-f`, `-k HOST`, `-t -T`); the
//! others are in the files beside it, one concern each. What pfd does
//! not do is refused as not supported, never pretended.

use super::counters::Published;
use super::slot::EngineSlot;
use crate::control::{DebugLevel, ErrorKind, Request, Response, ShowWhat};
use crate::control::{KillBy, RuleSource, StateFilter, TableOp};
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
use super::debug::{level_name, LOG_INFO, LOG_NOTICE};
use super::statefmt::{state_line_on, state_text, StateExtra};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

/// What the handler reads: the engine (shared with the worker) and the
/// worker's published counters.
pub struct View {
    pub engine: Arc<EngineSlot>,
    /// The etc directory's configuration: a reloaded pf.conf compiles
    /// against its interfaces and groups (`None`: reloads refused).
    pub etc: Option<Arc<crate::etc::EtcConfig>>,
    /// The loaded rules as `pfctl -sr` lists them (replaced by reloads).
    pub rules: std::sync::Mutex<super::Listing>,
    pub published: Arc<Published>,
    pub started: Instant,
    /// The ports' names, in port order, and their counters as the
    /// worker publishes them (`None` before it runs: tests).
    pub ports: Vec<String>,
    pub live: Option<Arc<super::LiveSet>>,
    /// The CARP thread, when carp interfaces are configured (ifctl).
    pub carp: Option<super::CarpHandle>,
    /// pf's debug level (`set debug`, `pfctl -x`).
    pub debug: super::debug::Debug,
    /// When each table entry was last cleared (`-T zero`, `-T expire`).
    pub table_times: std::sync::Mutex<super::tabletimes::TableTimes>,
}

impl View {
    /// Answer one request; what changed pf is logged at `notice`, what
    /// was refused at `info` (`pfctl -x` sets the level).
    pub fn handle(&self, req: Request) -> Response {
        let what = describe(&req);
        let changes = !matches!(
            req,
            Request::Show { .. }
                | Request::Table {
                    op: TableOp::Show | TableOp::Test { .. },
                    ..
                }
        );
        let r = self.answer(req);
        match &r {
            Response::Ok { text, .. } if changes => {
                let t = text.as_deref().unwrap_or("").trim_end().replace('\n', "; ");
                self.debug.log(LOG_NOTICE, &format!("{what}: {t}"));
            }
            Response::Error { message, .. } => {
                let m = message.trim_end().replace('\n', "; ");
                self.debug.log(LOG_INFO, &format!("{what} refused: {m}"));
            }
            _ => {}
        }
        r
    }

    pub(super) fn answer(&self, req: Request) -> Response {
        match req {
            Request::SetDebug { level } => self.set_debug(level),
            Request::Show {
                what: ShowWhat::All,
                verbose,
                anchor,
                rule: None,
                interface: None,
            } => self.show_all(verbose, anchor),
            Request::Show {
                what: ShowWhat::Anchors,
                verbose,
                anchor,
                ..
            } => match self.anchor_path(anchor.as_deref()) {
                Ok(p) => self.show_anchors(&p, verbose),
                Err(r) => r,
            },
            // pfd loads no OS fingerprints: there are none to list
            Request::Show {
                what: ShowWhat::Osfp,
                ..
            } => Response::Ok {
                text: Some(String::new()),
                json: Some(json!([])),
            },
            Request::Show {
                what: ShowWhat::Info,
                verbose,
                ..
            } => self.info(verbose),
            // as pfctl, -a does not narrow states
            Request::Show {
                what: ShowWhat::States,
                verbose,
                rule,
                interface,
                ..
            } => self.states(verbose, rule, interface.as_deref()),
            Request::Show {
                what: ShowWhat::Rules,
                verbose,
                anchor,
                rule,
                ..
            } => self.show_rules(verbose, anchor.as_deref(), rule),
            Request::Show {
                what: ShowWhat::Labels,
                anchor,
                rule,
                ..
            } => self.show_labels(anchor.as_deref(), rule),
            Request::ZeroCounters => self.zero_rule_counters(),
            Request::Show {
                what: ShowWhat::Tables,
                anchor,
                verbose,
                ..
            } => self.show_tables(anchor.as_deref(), verbose),
            Request::Show {
                what: ShowWhat::Interfaces,
                interface: None,
                verbose,
                ..
            } => self.show_interfaces(verbose),
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
                anchor,
                op,
                verbose,
            } => match self.anchor_path(anchor.as_deref()) {
                Ok(p) if verbose > 0 => self.table_verbose(&p, &name, op, verbose),
                Ok(p) => self.table(&p, &name, op),
                Err(r) => r,
            },
            Request::Flush { what, anchor: None } => self.flush(what),
            Request::KillSrcNodes { filters } => self.kill_src_nodes(&filters),
            Request::Show {
                what: ShowWhat::Sources,
                verbose,
                ..
            } => self.show_sources(verbose),
            Request::Flush {
                anchor: Some(_), ..
            } => Response::error(
                ErrorKind::NotSupported,
                "not supported: -F in an anchor (pfd loads and flushes the whole ruleset)",
            ),
            Request::KillStates {
                filters:
                    StateFilter {
                        interface,
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
                let engine = self.engine.get();
                let n = self.kill(|st| {
                    let (from, to) = endpoints(st);
                    in_net(from, &s)
                        && d.as_ref().is_none_or(|d| in_net(to, d))
                        && interface
                            .as_deref()
                            .is_none_or(|i| self.state_ifname(&engine, st) == i)
                });
                // pfctl_net_kill_states: one source (and destination)
                // per address given, as pfd resolves no names
                Response::Ok {
                    text: Some(format!(
                        "killed {n} states from 1 sources and {} destinations\n",
                        usize::from(d.is_some())
                    )),
                    json: Some(serde_json::json!({ "killed": n })),
                }
            }
            Request::KillStates {
                filters: StateFilter { interface, by },
            } => self.kill_by(interface.as_deref(), by),
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
                (p.clone(), crate::load::load_ruleset_listed(&p, &host))
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
        let debug = compiled.options.debug;
        match self.engine.replace(|cur| cur.reload(compiled)) {
            Ok(()) => {
                // pfctl loads `set debug` with the ruleset
                if let Some(l) = debug {
                    self.debug.set(u8::try_from(l).unwrap_or(7));
                }
                *self.rules.lock().unwrap_or_else(|e| e.into_inner()) = text;
                self.times().reloaded(wall_now());
                Response::ok()
            }
            Err(e) => Response::error(ErrorKind::Failed, e.render(&name)),
        }
    }

    /// `pfctl -x LEVEL`, with pfctl's message.
    fn set_debug(&self, level: DebugLevel) -> Response {
        let n = match level {
            DebugLevel::Emerg => 0,
            DebugLevel::Alert => 1,
            DebugLevel::Crit => 2,
            DebugLevel::Err => 3,
            DebugLevel::Warning => 4,
            DebugLevel::Notice => 5,
            DebugLevel::Info => 6,
            DebugLevel::Debug => 7,
            #[allow(unreachable_patterns)]
            _ => {
                return Response::error(ErrorKind::NotSupported, "not supported: this debug level")
            }
        };
        self.debug.set(n);
        Response::Ok {
            text: Some(format!("debug level set to '{}'\n", level_name(n))),
            json: Some(json!({ "debug": level_name(n) })),
        }
    }

    /// `pfctl -t NAME -T OP`, with pfctl's messages.
    pub(super) fn table(&self, anchor: &str, table: &str, op: TableOp) -> Response {
        let engine = self.engine.get();
        // table times are kept per table: an anchor's by its path
        let key = if anchor.is_empty() {
            table.to_string()
        } else {
            format!("{anchor}/<{table}>")
        };
        let name = key.as_str();
        // exactly this anchor's table, as pfctl -a A -t T names it
        let Some(t) = self.table_ref(anchor, table) else {
            return Response::error(ErrorKind::Failed, "Table does not exist");
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
                Ok(e) => {
                    let before = nets(&engine.table_entries(t));
                    let r = done("added", engine.table_add(t, &e));
                    let after = nets(&engine.table_entries(t));
                    let new = after.into_iter().filter(|n| !before.contains(n));
                    self.times().set(name, new, wall_now());
                    r
                }
                Err(r) => r,
            },
            TableOp::Delete { addrs } => match parse(&addrs) {
                Ok(e) => {
                    let r = done("deleted", engine.table_delete(t, &e));
                    self.times().forget(name, nets(&e));
                    r
                }
                Err(r) => r,
            },
            TableOp::Replace { addrs } => match parse(&addrs) {
                Ok(e) => self.table_replace(name, t, &e),
                Err(r) => r,
            },
            TableOp::Zero { addrs } => match parse(&addrs) {
                Ok(e) => self.table_zero(name, t, &e),
                Err(r) => r,
            },
            TableOp::Expire { secs } => self.table_expire(name, t, secs),
            TableOp::Kill => Response::error(
                ErrorKind::NotSupported,
                "not supported: -T kill (pfd's tables belong to the loaded ruleset; -T flush empties one)",
            ),
            TableOp::Flush => match engine.table_flush(t) {
                Ok(n) => Response::Ok {
                    text: Some({
                        let all = nets(&engine.table_entries(t));
                        self.times().forget(name, all);
                        format!("{n} addresses deleted.\n")
                    }),
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
        }
    }

    /// Remove every state `which` picks (pfctl -F states, -k).
    pub(super) fn kill(&self, which: impl Fn(&dataplane::state::StateInfo) -> bool) -> u64 {
        let engine = self.engine.get();
        let mut n = 0u64;
        for st in engine.states().states() {
            if which(&st) && engine.states().remove(st.id) {
                n += 1;
            }
        }
        n
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

    /// `pfctl -ss [-v[v]] [-R nr] [-i IF]`.
    fn states(&self, verbose: u8, only_rule: Option<u32>, only_if: Option<&str>) -> Response {
        let engine = self.engine.get();
        let list = engine.states().states();
        let now = Published::get(&self.published.clock_ns) / 1_000_000_000;
        let mut t = String::new();
        let mut j = Vec::new();
        for s in &list {
            let ifname = self.state_ifname(&engine, s);
            // pfctl compares the state's interface name: `-i` shows
            // only states bound to that interface
            if only_if.is_some_and(|i| i != ifname) {
                continue;
            }
            let rule = engine
                .state_ref(s.rule)
                .and_then(|r| engine.rules().get(r).map(|c| c.nr));
            if only_rule.is_some() && rule != only_rule {
                continue;
            }
            let line = state_line_on(s, &ifname);
            let x = StateExtra { ifname, now, rule };
            t.push_str(&state_text(s, verbose, &x));
            if verbose == 0 {
                j.push(json!(line));
            } else {
                j.push(json!({
                    "state": line,
                    "id": format!("{:016x}", s.sync.id),
                    "creatorid": format!("{:08x}", s.sync.creator),
                    "age": now.saturating_sub(u64::from(s.creation)),
                    "expires_in": s.expires_at.saturating_sub(now),
                    "packets": s.packets,
                    "bytes": s.bytes,
                    "rule": rule,
                }));
            }
        }
        Response::Ok {
            text: Some(t),
            json: Some(Value::Array(j)),
        }
    }
}

impl View {
    /// The interface a state is bound to, or `all` for a floating one.
    pub(super) fn state_ifname(
        &self,
        engine: &dataplane::engine::Engine,
        s: &dataplane::state::StateInfo,
    ) -> String {
        s.if_bound
            .and_then(|i| engine.interface_name(i as usize))
            .unwrap_or("all")
            .to_string()
    }
}

/// Wall-clock seconds, as pfctl's table times are.
pub fn wall_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The networks of table entries.
pub(super) fn nets(e: &[(std::net::IpAddr, u8, bool)]) -> Vec<super::tabletimes::Net> {
    e.iter().map(|(a, p, _)| (*a, *p)).collect()
}

fn describe(req: &Request) -> String {
    match req {
        Request::Show { what, .. } => format!("show {what:?}").to_lowercase(),
        other => other.kind().to_string(),
    }
}
