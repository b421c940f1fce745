//! The poll-mode worker loop: bursts in from every port, one callback
//! per frame (the daemon's: engine, then routing), bursts out.
//!
//! One worker per core, each with its own [`Port`] per interface (the
//! kernel's fanout spreads flows across them). While frames flow the
//! worker never sleeps; when they stop it spins for `busy_poll_us`, then
//! blocks in poll(2) for growing intervals up to `idle_backoff`, so an
//! idle firewall on a two-core box gives its CPUs back.
//!
//! How a daemon runs it: one thread per worker, each opening its own
//! port on every interface (same fanout group per interface), sharing
//! one engine.
//!
//! ```no_run
//! use std::sync::atomic::AtomicBool;
//! use dataplane::engine::{Action, Engine, Packet};
//! use dataplane::pdesc::Dir;
//! use dataplane::port::{AfPacketCfg, AfPacketPort};
//! use dataplane::worker::{run, Fate, FrameCtx, WorkerCfg};
//!
//! fn serve(engine: &Engine, stop: &AtomicBool, workers: usize) {
//!     std::thread::scope(|s| {
//!         for core in 0..workers {
//!             s.spawn(move || {
//!                 let port = |name, group| {
//!                     let cfg = AfPacketCfg { fanout_group: Some(group), ..Default::default() };
//!                     AfPacketPort::open(name, &cfg).expect("open")
//!                 };
//!                 let mut ports = [port("eth0", 1), port("eth1", 2)];
//!                 let mut w = engine.worker();
//!                 let on_frame = |ctx: &mut FrameCtx<'_>| {
//!                     let mut pkt = Packet { frame: &mut *ctx.frame, ifindex: ctx.port, dir: Dir::In };
//!                     match engine.process(&mut w, ctx.now_ns, &mut pkt).action {
//!                         Action::Pass => Fate::Forward(1 - ctx.port),
//!                         _ => Fate::Drop,
//!                     }
//!                 };
//!                 let cfg = WorkerCfg { pin_core: Some(core), ..WorkerCfg::default() };
//!                 run(&mut ports, on_frame, &cfg, stop).expect("worker");
//!             });
//!         }
//!     });
//! }
//! ```

mod backoff;
mod live;

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::port::afpacket::sys;
use crate::port::{Port, RxBatch, TxBatch};
use backoff::{Backoff, Idle};
pub use live::LiveStats;

/// How often counters are published to [`LiveStats`].
const PUBLISH_NS: u64 = 1_000_000;
/// How often ports re-read counters that cost a system call.
const REFRESH_NS: u64 = 1_000_000_000;

/// How a worker runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerCfg {
    /// How long to keep spinning after the last frame before sleeping.
    pub busy_poll_us: u64,
    /// The longest single sleep when idle (also how late a stop request
    /// can be noticed). Zero: never sleep.
    pub idle_backoff: Duration,
    /// Pin the worker's thread to this CPU.
    pub pin_core: Option<usize>,
    /// Frames read from one port per burst.
    pub burst: usize,
    /// Frames waiting per output port before new ones are dropped.
    pub tx_queue: usize,
    /// Initial capacity of each frame buffer (frames larger grow it).
    pub frame_cap: usize,
}

impl Default for WorkerCfg {
    fn default() -> Self {
        WorkerCfg {
            busy_poll_us: 50,
            idle_backoff: Duration::from_millis(50),
            pin_core: None,
            burst: 64,
            tx_queue: 256,
            frame_cap: 2048,
        }
    }
}

/// What becomes of a received frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Dropped (blocked, held for reassembly, consumed); the callback
    /// has counted why.
    Drop,
    /// Sent out of the port with this index in the worker's port slice
    /// (possibly rewritten in place).
    Forward(usize),
}

/// One received frame as the callback sees it.
pub struct FrameCtx<'a> {
    /// Index of the port it arrived on.
    pub port: usize,
    /// The burst's time: CLOCK_MONOTONIC, read once per loop, the same
    /// clock in every worker so a shared engine's timeouts agree.
    /// Wall-clock stamps (pflog records) are the daemon's to add.
    pub now_ns: u64,
    /// The frame, for the engine to rewrite or replace.
    pub frame: &'a mut Vec<u8>,
    out: &'a mut [TxBatch],
    emit_full: &'a mut u64,
}

impl FrameCtx<'_> {
    /// Queue `frame` on `port` if its queue has room; a refusal is not
    /// counted (the caller keeps the frame for later). A port that does
    /// not exist takes the frame and counts it as `tx_full`.
    pub fn try_emit(&mut self, port: usize, frame: &[u8]) -> bool {
        match self.out.get_mut(port) {
            Some(q) => q.push(frame),
            None => {
                *self.emit_full += 1;
                true
            }
        }
    }

    /// Queue a generated frame (a RST, an ICMP error, a synproxy
    /// handshake) on port `port`. False if that port's queue is full or
    /// there is no such port (counted in [`WorkerStats::tx_full`]).
    pub fn emit(&mut self, port: usize, frame: &[u8]) -> bool {
        let ok = self.out.get_mut(port).is_some_and(|q| q.push(frame));
        if !ok {
            *self.emit_full += 1;
        }
        ok
    }
}

/// What one worker did, returned when it stops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkerStats {
    pub rx: u64,
    /// Frames taken by the ports for sending (forwarded and emitted).
    pub tx: u64,
    /// Frames the callback dropped.
    pub dropped: u64,
    /// Frames dropped because their output queue was full.
    pub tx_full: u64,
    /// Frames the callback sent to a port index that does not exist.
    pub bad_port: u64,
    /// Errors from a port (an interface gone down); the worker goes on.
    pub port_errors: u64,
    /// Times the worker slept in poll(2).
    pub sleeps: u64,
}

/// Run until `stop` is set: read a burst from each port, call
/// `on_frame` for each frame, send what it forwards. Fails only if the
/// thread cannot be pinned or poll(2) itself fails.
pub fn run<P, F>(
    ports: &mut [P],
    on_frame: F,
    cfg: &WorkerCfg,
    stop: &AtomicBool,
) -> io::Result<WorkerStats>
where
    P: Port,
    F: FnMut(&mut FrameCtx<'_>) -> Fate,
{
    run_live(ports, on_frame, cfg, stop, &LiveStats::new(ports.len()))
}

/// [`run`], publishing the worker's and its ports' counters to `live`
/// while it runs (and once more when it stops).
pub fn run_live<P, F>(
    ports: &mut [P],
    mut on_frame: F,
    cfg: &WorkerCfg,
    stop: &AtomicBool,
    live: &LiveStats,
) -> io::Result<WorkerStats>
where
    P: Port,
    F: FnMut(&mut FrameCtx<'_>) -> Fate,
{
    if let Some(core) = cfg.pin_core {
        sys::pin_current_thread(core)?;
    }
    let fds: Vec<RawFd> = ports.iter().filter_map(|p| p.poll_fd()).collect();
    let mut poller = sys::Poller::new(&fds);
    let mut rx = RxBatch::new(cfg.burst, cfg.frame_cap);
    let mut txq: Vec<TxBatch> = ports
        .iter()
        .map(|_| TxBatch::new(cfg.tx_queue, cfg.frame_cap))
        .collect();
    let mut st = WorkerStats::default();
    let mut backoff = Backoff::new(
        cfg.busy_poll_us.saturating_mul(1_000),
        cfg.idle_backoff,
        sys::monotonic_ns(),
    );
    let (mut published, mut refreshed) = (0u64, sys::monotonic_ns());
    while !stop.load(Ordering::Relaxed) {
        let now_ns = sys::monotonic_ns();
        if now_ns.wrapping_sub(published) >= PUBLISH_NS {
            if now_ns.wrapping_sub(refreshed) >= REFRESH_NS {
                refreshed = now_ns;
                for p in ports.iter_mut() {
                    if p.refresh_stats().is_err() {
                        st.port_errors += 1;
                    }
                }
            }
            publish(live, &st, ports);
            published = now_ns;
        }
        let mut moved = 0usize;
        for (i, port) in ports.iter_mut().enumerate() {
            rx.clear();
            if port.rx_burst(&mut rx).is_err() {
                st.port_errors += 1;
            }
            moved += rx.len();
            st.rx += rx.len() as u64;
            for frame in rx.frames_mut() {
                let fate = {
                    let mut ctx = FrameCtx {
                        port: i,
                        now_ns,
                        frame,
                        out: &mut txq,
                        emit_full: &mut st.tx_full,
                    };
                    on_frame(&mut ctx)
                };
                match fate {
                    Fate::Drop => st.dropped += 1,
                    Fate::Forward(j) => match txq.get_mut(j) {
                        Some(q) => {
                            if !q.push_swap(frame) {
                                st.tx_full += 1;
                            }
                        }
                        None => st.bad_port += 1,
                    },
                }
            }
        }
        for (port, q) in ports.iter_mut().zip(txq.iter_mut()) {
            if q.is_empty() {
                continue;
            }
            match port.tx_burst(q) {
                Ok(n) => {
                    st.tx += n as u64;
                    moved += n;
                }
                Err(_) => {
                    // The interface is gone or down: what was queued for
                    // it will not leave.
                    st.port_errors += 1;
                    q.clear();
                }
            }
        }
        // Frames stuck behind a full TX ring do not count as work: a
        // link that stopped draining must not keep the core spinning.
        if moved > 0 {
            backoff.work(now_ns);
        } else {
            match backoff.idle(now_ns) {
                Idle::Spin => std::hint::spin_loop(),
                Idle::Sleep(d) => {
                    st.sleeps += 1;
                    poller.wait(d)?;
                }
            }
        }
    }
    for p in ports.iter_mut() {
        if p.refresh_stats().is_err() {
            st.port_errors += 1;
        }
    }
    publish(live, &st, ports);
    Ok(st)
}

fn publish<P: Port>(live: &LiveStats, st: &WorkerStats, ports: &[P]) {
    live.publish_worker(st);
    for (i, p) in ports.iter().enumerate() {
        live.publish_port(i, &p.stats());
    }
}

#[cfg(test)]
mod tests;
