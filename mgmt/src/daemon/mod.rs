//! `pfd run --etc DIR`: the firewall on live interfaces. Boots as
//! `pfd check --interfaces` checks, opens an AF_PACKET port per
//! physical interface (carpN and pfsyncN are pfd's own), builds the
//! router from the hostname.if files and mygate, and runs the packet
//! pipeline on ONE worker thread (fanout across several workers, each
//! with its own ports, comes later; the router's neighbour cache would
//! then have to be shared). The control socket answers pfctl from its
//! own thread (`show.rs` and the files beside it); the worker publishes
//! its counters for it at each tick (`counters.rs`).

mod all;
mod anchors;
mod counters;
mod debug;
mod feedback;
mod flush;
mod killby;
mod listing;
mod output;
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

pub use counters::{Published, RuleSnapshot};
pub use listing::{Listed, Listing, RuleStats};
pub use pipeline::{Forwarding, Pipeline, TICK_NS};
pub use show::{wall_now, View};
pub use slot::EngineSlot;
pub use statefmt::{state_line, state_line_on, state_text, StateExtra};
pub use tabletimes::TableTimes;
pub use topology::{is_physical, kernel_mtu, port_of, ports, router, router_index, PortPlan};

use crate::check::check_seeded;
use crate::control::{Server, ServerConfig};
use dataplane::port::{AfPacketCfg, AfPacketPort, LoopbackPort, Port};
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
}

/// A booted daemon: ports open, control socket listening, not yet
/// forwarding.
pub struct Daemon {
    ports: Vec<Box<dyn Port>>,
    names: Vec<String>,
    pipe: Pipeline,
    server: Server,
    live: Arc<LiveStats>,
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
    let mut open: Vec<Box<dyn Port>> = Vec::with_capacity(plan.len() + 1);
    for p in &plan {
        let port =
            AfPacketPort::open(&p.name, &AfPacketCfg::default()).map_err(|e| e.to_string())?;
        open.push(Box::new(port));
    }
    let macs: Vec<[u8; 6]> = open.iter().map(|p| p.mac()).collect();
    let mtus: Vec<Option<u16>> = plan.iter().map(|p| kernel_mtu(&p.name)).collect();
    let router = router(cfg, &plan, &macs, &mtus)?;
    let engine = Arc::new(EngineSlot::new(Arc::new(checked.engine)));
    let published = Arc::new(Published::default());
    // The tick port (see `serve`) is the last: it has a cell, unshown.
    let live = Arc::new(LiveStats::new(open.len() + 1));
    let view = View {
        engine: Arc::clone(&engine),
        etc: Some(Arc::new(cfg.clone())),
        rules: std::sync::Mutex::new(rules_text(cfg, env)),
        published: Arc::clone(&published),
        started: Instant::now(),
        ports: plan.iter().map(|p| p.name.clone()).collect(),
        live: Some(Arc::clone(&live)),
        debug: Default::default(),
        table_times: std::sync::Mutex::new(TableTimes::new(wall_now())),
    };
    if let Some(l) = engine.get().compiled().options.debug {
        view.debug.set(u8::try_from(l).unwrap_or(7));
    }
    let server = Server::start(&args.control, ServerConfig::default(), move |req| {
        view.handle(req)
    })
    .map_err(|e| e.to_string())?;
    let engine_if = plan.iter().map(|p| p.engine_if).collect();
    let forwarding = Forwarding {
        inet: cfg.sysctl.ip_forwarding,
        inet6: cfg.sysctl.ip6_forwarding,
    };
    let mut pipe = Pipeline::new(engine, router, engine_if, published, forwarding);
    // Gratuitous ARP: they leave with the first burst the worker sends.
    pipe.announce();
    Ok(Daemon {
        ports: open,
        names: plan.into_iter().map(|p| p.name).collect(),
        pipe,
        server,
        live,
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

    /// Filter and route until `stop` is set; the control socket is
    /// removed on the way out.
    pub fn serve(self, stop: &AtomicBool) -> Result<WorkerStats, String> {
        let Daemon {
            ports: mut open,
            mut pipe,
            server,
            live,
            ..
        } = self;
        // The worker calls back only per frame: a port of its own that a
        // ticker feeds one empty frame per tick keeps the timers and the
        // published counters going while the links are idle. Its frames
        // are taken back out of the worker's rx and dropped counts.
        let tick_port = open.len();
        let (port, ticks) = LoopbackPort::new("tick", [2, 0, 0, 0, 0, 1], 1);
        open.push(Box::new(port));
        let done = AtomicBool::new(false);
        let mut ticked = 0u64;
        let res = std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) && !done.load(Ordering::Relaxed) {
                    if ticks.pending_rx() == 0 {
                        ticks.inject(&[]);
                    }
                    std::thread::sleep(Duration::from_nanos(TICK_NS));
                }
            });
            let res = worker::run_live(
                &mut open,
                |ctx| {
                    let fate = if ctx.port == tick_port {
                        ticked += 1;
                        pipe.housekeep(ctx.now_ns);
                        Fate::Drop
                    } else {
                        pipe.frame(ctx.port, ctx.now_ns, ctx.frame)
                    };
                    pipe.drain_out(|p, f| {
                        ctx.emit(p, f);
                    });
                    fate
                },
                &WorkerCfg::default(),
                stop,
                &live,
            );
            done.store(true, Ordering::Relaxed);
            res
        });
        server.shutdown();
        let mut st = res.map_err(|e| format!("worker: {e}"))?;
        st.rx = st.rx.saturating_sub(ticked);
        st.dropped = st.dropped.saturating_sub(ticked);
        Ok(st)
    }
}
