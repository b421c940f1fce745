//! `pfd run --etc DIR`: the firewall on live interfaces. Boots as
//! `pfd check --interfaces` checks, builds the router from the
//! hostname.if files and mygate, and runs the packet pipeline on N
//! worker threads. Each worker has its own AF_PACKET port on every
//! physical interface (carpN and pfsyncN are pfd's own), joined in one
//! `PACKET_FANOUT_HASH` group per interface so a flow's packets reach
//! one worker; the workers share the engine (its state table is
//! sharded under locks, see `dataplane::state`), and each routes with
//! a router of its own whose neighbour cache the others keep up to date
//! through mailboxes (`mail`). The control socket answers pfctl from
//! its own thread (`show.rs` and the files beside it); the workers
//! publish their counters for it at each tick (`counters.rs`).

mod all;
mod anchors;
pub mod carp;
mod counters;
mod debug;
mod feedback;
mod flush;
pub mod ifctl;
mod killby;
mod linkstate;
mod listing;
mod live;
mod mail;
mod metrics;
mod output;
mod pflog;
pub mod pfsync;
mod pipeline;
mod rulestats;
mod show;
mod slot;
mod statefmt;
mod status;
mod tableops;
mod tables_show;
mod tabletimes;
mod topology;

pub use self::carp::CarpHandle;
pub use counters::{Published, RuleSnapshot};
pub use listing::{Listed, Listing, RuleStats};
pub use live::LiveSet;
pub use mail::{mailboxes, Address, Mail, Mailbox};
pub use pipeline::{Forwarding, Pipeline, TICK_NS};
pub use show::{wall_now, View};
pub use slot::EngineSlot;
pub use statefmt::{state_line, state_line_on, state_text, StateExtra};
pub use tabletimes::TableTimes;
pub use topology::{is_physical, kernel_mtu, port_of, ports, router, router_index, PortPlan};

use crate::check::check_seeded;
use crate::control::{Server, ServerConfig};
use dataplane::port::{AfPacketCfg, AfPacketPort, Port};
use dataplane::worker::{self, Fate, LiveStats, WorkerCfg, WorkerStats};
use ruleset::hostenv::HostEnv;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub struct RunArgs {
    pub etc: PathBuf,
    /// The control socket to listen on.
    pub control: PathBuf,
    pub workers: Workers,
    /// Serve Prometheus's `GET /metrics` here (`--metrics`).
    pub metrics: Option<std::net::SocketAddr>,
    /// Write logged packets here (`--pflog`): a file or a FIFO.
    pub pflog: Option<PathBuf>,
}

/// How many workers, where they run and how they idle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workers {
    /// Worker threads (at least 1).
    pub count: usize,
    /// Pin worker `i` to CPU `cpus[i]`; workers past the list float.
    pub cpus: Vec<usize>,
    /// Spin this long after the last frame before sleeping in poll(2).
    pub busy_poll_us: u64,
    /// The longest sleep when idle.
    pub idle_max: Duration,
}

impl Default for Workers {
    fn default() -> Self {
        let d = WorkerCfg::default();
        Workers {
            count: 1,
            cpus: Vec::new(),
            busy_poll_us: d.busy_poll_us,
            idle_max: d.idle_backoff,
        }
    }
}

/// One worker as booted: its ports (the last its mailbox), its pipeline.
struct WorkerPlan {
    ports: Vec<Box<dyn Port>>,
    pipe: Pipeline,
    live: Arc<LiveStats>,
    cfg: WorkerCfg,
}

/// A booted daemon: ports open, control socket listening, not yet
/// forwarding.
pub struct Daemon {
    workers: Vec<WorkerPlan>,
    /// The CARP thread to run, and the way to it.
    carp: Option<(self::carp::CarpDriver, CarpHandle)>,
    /// The pfsync thread to run, and the way to it.
    sync: Option<(
        self::pfsync::driver::PfsyncDriver,
        self::pfsync::driver::PfsyncHandle,
    )>,
    /// Every worker's mailbox, for the ticker.
    addrs: Vec<Address>,
    names: Vec<String>,
    server: Server,
    metrics: Option<crate::prometheus::MetricsServer>,
}

/// Boot from `args.etc`. Errors are the check's report, a port that
/// will not open, the router's configuration or the control socket.
/// The booted ruleset as `pfctl -sr` lists it.
pub fn rules_text(cfg: &crate::etc::EtcConfig, env: &dyn HostEnv) -> Listing {
    let host = cfg.host_env(env);
    let path = cfg.pf_conf.to_string_lossy().into_owned();
    crate::load::load_ruleset_listed(&path, &host)
        .map(|(_, l)| l)
        .unwrap_or_default()
}

pub fn boot(args: &RunArgs, env: &dyn HostEnv) -> Result<Daemon, String> {
    let exists = |name: &str| std::path::Path::new("/sys/class/net").join(name).exists();
    // Translation ports and ISN modulation must not be predictable.
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id()).rotate_left(32);
    let checked = check_seeded(&args.etc, Some(&exists), env, seed)?;
    let cfg = &checked.config;
    let plan = ports(cfg)?;
    if plan.is_empty() {
        return Err(format!(
            "{}: no hostname.<if> file names an interface to run on",
            args.etc.display()
        ));
    }
    let n = args.workers.count.max(1);
    // One fanout group per interface, the same for every worker's port
    // on it, unlikely to be another process's.
    let group_base = (std::process::id() as u16).wrapping_mul(64);
    let mut open: Vec<Vec<Box<dyn Port>>> = Vec::with_capacity(n);
    for _ in 0..n {
        let mut ports: Vec<Box<dyn Port>> = Vec::with_capacity(plan.len() + 1);
        for (i, p) in plan.iter().enumerate() {
            let pcfg = AfPacketCfg {
                fanout_group: (n > 1).then(|| group_base.wrapping_add(i as u16)),
                ..AfPacketCfg::default()
            };
            let port = AfPacketPort::open(&p.name, &pcfg).map_err(|e| e.to_string())?;
            ports.push(Box::new(port));
        }
        open.push(ports);
    }
    let macs: Vec<[u8; 6]> = open[0].iter().map(|p| p.mac()).collect();
    let names: Vec<String> = plan.iter().map(|p| p.name.clone()).collect();
    let carp_plans = self::carp::config::plans(cfg, &names, &macs)?;
    let mtus: Vec<Option<u16>> = plan.iter().map(|p| kernel_mtu(&p.name)).collect();
    let engine = Arc::new(EngineSlot::new(Arc::new(checked.engine)));
    let published = Arc::new(Published::default());
    // Each worker's mail port (see `serve`) is its last: it has a
    // cell, unshown.
    let lives: Vec<Arc<LiveStats>> = (0..n)
        .map(|_| Arc::new(LiveStats::new(plan.len() + 1)))
        .collect();
    let (boxes, addrs) = mailboxes(n).map_err(|e| format!("worker mailboxes: {e}"))?;
    let carp = if carp_plans.is_empty() {
        None
    } else {
        let carpdevs = (0..plan.len())
            .map(|port| {
                carp_plans.iter().any(|c| c.port == port).then(|| {
                    let conf = cfg.interface(&names[port]);
                    self::carp::Carpdev {
                        name: names[port].clone(),
                        sources: self::carp::frame::Sources {
                            v4: conf.and_then(|c| c.inet.first()).map(|a| a.addr),
                            v6: dataplane::router::iface::link_local_of(macs[port]),
                        },
                    }
                })
            })
            .collect();
        Some(self::carp::start(
            self::carp::config::sysctl(cfg),
            seed.rotate_left(17),
            &carp_plans,
            carpdevs,
            addrs.clone(),
        )?)
    };
    let sync = match &cfg.pfsync {
        None => None,
        Some(p) => Some(self::pfsync::boot(
            p,
            cfg,
            &names,
            &macs,
            &engine,
            addrs.clone(),
            carp.as_ref().map(|(_, h)| h.clone()),
        )?),
    };
    let pflog = args.pflog.as_deref().map(self::pflog::start).transpose()?;
    let view = View {
        engine: Arc::clone(&engine),
        etc: Some(Arc::new(cfg.clone())),
        rules: std::sync::Mutex::new(rules_text(cfg, env)),
        published: Arc::clone(&published),
        started: Instant::now(),
        ports: plan.iter().map(|p| p.name.clone()).collect(),
        live: Some(Arc::new(LiveSet::new(lives.clone()))),
        carp: carp.as_ref().map(|(_, h)| h.clone()),
        pfsync: sync.as_ref().map(|(_, h)| h.clone()),
        debug: Default::default(),
        table_times: std::sync::Mutex::new(TableTimes::new(wall_now())),
    };
    if let Some(l) = engine.get().compiled().options.debug {
        view.debug.set(u8::try_from(l).unwrap_or(7));
    }
    // The control socket's thread and the metrics endpoint's read the
    // same view.
    let view = Arc::new(view);
    let metrics = match args.metrics {
        Some(addr) => {
            let v = Arc::clone(&view);
            let m = crate::prometheus::MetricsServer::start(addr, move || v.metrics())
                .map_err(|e| format!("--metrics {addr}: {e}"))?;
            Some(m)
        }
        None => None,
    };
    let server = Server::start(&args.control, ServerConfig::default(), move |req| {
        view.handle(req)
    })
    .map_err(|e| e.to_string())?;
    let engine_if: Vec<usize> = plan.iter().map(|p| p.engine_if).collect();
    let forwarding = Forwarding {
        inet: cfg.sysctl.ip_forwarding,
        inet6: cfg.sysctl.ip6_forwarding,
    };
    let mut workers = Vec::with_capacity(n);
    for (w, ((mailbox, mail_port), (mut ports, live))) in boxes
        .into_iter()
        .zip(open.into_iter().zip(lives))
        .enumerate()
    {
        let mut router = router(cfg, &plan, &macs, &mtus)?;
        for c in &carp_plans {
            let mac = carp.as_ref().and_then(|(d, _)| d.lladdr(&c.cfg.name));
            let mac = mac.ok_or_else(|| format!("{}: no virtual MAC", c.cfg.name))?;
            for &(a, prefix) in &c.addrs {
                router
                    .add_vip(router_index(c.port), a, prefix, mac)
                    .map_err(|e| format!("{}: {a}/{prefix}: {e}", c.cfg.name))?;
            }
        }
        let mut pipe = Pipeline::new(
            Arc::clone(&engine),
            router,
            engine_if.clone(),
            Arc::clone(&published),
            forwarding,
        );
        pipe.join(w, mailbox);
        if let Some((_, h)) = &carp {
            pipe.set_carp(h.clone());
        }
        if let Some((_, h)) = &sync {
            pipe.set_pfsync(h.clone());
        }
        if let Some(sink) = &pflog {
            pipe.set_pflog(sink.clone());
        }
        if w == 0 {
            // Gratuitous ARP, once: they leave with the first burst the
            // worker sends.
            pipe.announce();
        }
        ports.push(Box::new(mail_port));
        let cfg = WorkerCfg {
            pin_core: args.workers.cpus.get(w).copied(),
            busy_poll_us: args.workers.busy_poll_us,
            idle_backoff: args.workers.idle_max,
            ..WorkerCfg::default()
        };
        workers.push(WorkerPlan {
            ports,
            pipe,
            live,
            cfg,
        });
    }
    Ok(Daemon {
        workers,
        carp,
        sync,
        addrs,
        names: plan.into_iter().map(|p| p.name).collect(),
        server,
        metrics,
    })
}

impl Daemon {
    /// The interfaces it runs on, in port order.
    pub fn interfaces(&self) -> &[String] {
        &self.names
    }

    pub fn control_path(&self) -> &std::path::Path {
        self.server.path()
    }

    /// Where `GET /metrics` is served, if it is.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics.as_ref().map(|m| m.local_addr())
    }

    /// Worker threads it will run.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// Filter and route until `stop` is set; the control socket is
    /// removed on the way out. Returns each worker's counters.
    pub fn serve(self, stop: &AtomicBool) -> Result<Vec<WorkerStats>, String> {
        let Daemon {
            workers,
            carp,
            sync,
            addrs,
            server,
            metrics,
            ..
        } = self;
        let done = AtomicBool::new(false);
        // The workers stop after CARP has bowed out through them.
        let workers_stop = AtomicBool::new(false);
        let (driver, carp) = match carp {
            Some((d, h)) => (Some(d), Some(h)),
            None => (None, None),
        };
        let (sync_driver, sync) = match sync {
            Some((d, h)) => (Some(d), Some(h)),
            None => (None, None),
        };
        let res = std::thread::scope(|s| {
            if let Some(d) = driver {
                std::thread::Builder::new()
                    .name("pfd-carp".into())
                    .spawn_scoped(s, move || d.run())
                    .map_err(|e| format!("CARP thread: {e}"))?;
            }
            // After CARP: its first act may be demoting CARP until the
            // bulk update is in.
            if let Some(d) = sync_driver {
                std::thread::Builder::new()
                    .name("pfd-pfsync".into())
                    .spawn_scoped(s, move || d.run())
                    .map_err(|e| format!("pfsync thread: {e}"))?;
            }
            // The workers call back only per frame: a tick on each
            // worker's mail port keeps its timers and published
            // counters going while the links are idle.
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) && !done.load(Ordering::Relaxed) {
                    for a in &addrs {
                        if a.pending() == 0 {
                            a.tick();
                        }
                    }
                    std::thread::sleep(Duration::from_nanos(TICK_NS));
                }
                if let Some(h) = &sync {
                    h.stop();
                }
                // A clean stop: CARP's bow-out adverts go to worker 0,
                // which must have read them before it is told to stop.
                if let Some(h) = &carp {
                    if h.shutdown() {
                        if let Some(a) = addrs.first() {
                            let t = std::time::Instant::now();
                            while a.pending() > 0 && t.elapsed() < Duration::from_millis(500) {
                                std::thread::sleep(Duration::from_millis(1));
                            }
                            // and sent them with that burst
                            std::thread::sleep(Duration::from_millis(5));
                        }
                    }
                }
                workers_stop.store(true, Ordering::Relaxed);
            });
            let handles: Vec<_> = workers
                .into_iter()
                .enumerate()
                .map(|(w, plan)| {
                    std::thread::Builder::new()
                        .name(format!("pfd-worker{w}"))
                        .spawn_scoped(s, || run_worker(plan, &workers_stop))
                })
                .collect();
            let mut each = Vec::new();
            let mut err = None;
            for h in handles {
                match h.map_err(|e| e.to_string()).and_then(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err("a worker panicked".to_string()))
                }) {
                    Ok(st) => each.push(st),
                    Err(e) => {
                        // One worker down stops the others: a firewall
                        // does not run on with part of its traffic lost.
                        stop_all(stop);
                        err.get_or_insert(e);
                    }
                }
            }
            done.store(true, Ordering::Relaxed);
            err.map_or(Ok(each), Err)
        });
        server.shutdown();
        if let Some(m) = metrics {
            m.shutdown();
        }
        res
    }
}

/// Make `stop` true from a worker's failure (it is the daemon's own
/// flag, shared with the signal handler).
fn stop_all(stop: &AtomicBool) {
    stop.store(true, Ordering::Relaxed);
}

/// The sum of several workers' counters.
pub fn total(each: &[WorkerStats]) -> WorkerStats {
    let mut t = WorkerStats::default();
    for s in each {
        add_stats(&mut t, s);
    }
    t
}

fn add_stats(t: &mut WorkerStats, s: &WorkerStats) {
    t.rx += s.rx;
    t.tx += s.tx;
    t.dropped += s.dropped;
    t.tx_full += s.tx_full;
    t.bad_port += s.bad_port;
    t.port_errors += s.port_errors;
    t.sleeps += s.sleeps;
}

/// One worker's loop; its mail port is the last of its ports, and the
/// empty frames that come on it (ticks, wake-ups) are not counted as
/// traffic.
fn run_worker(plan: WorkerPlan, stop: &AtomicBool) -> Result<WorkerStats, String> {
    let WorkerPlan {
        mut ports,
        mut pipe,
        live,
        cfg,
    } = plan;
    let mail_port = ports.len() - 1;
    let mut mail = 0u64;
    let res = worker::run_live(
        &mut ports,
        |ctx| {
            let fate = if ctx.port == mail_port {
                mail += 1;
                pipe.mail(ctx.now_ns);
                Fate::Drop
            } else {
                pipe.frame(ctx.port, ctx.now_ns, ctx.frame)
            };
            pipe.drain_out_while(|p, f| ctx.try_emit(p, f));
            fate
        },
        &cfg,
        stop,
        &live,
    );
    let mut st = res.map_err(|e| format!("worker: {e}"))?;
    st.rx = st.rx.saturating_sub(mail);
    st.dropped = st.dropped.saturating_sub(mail);
    Ok(st)
}
