use super::*;
use crate::port::{LoopbackHandle, LoopbackPort};
use std::sync::Arc;
use std::time::Instant;

/// Wait (bounded) until `cond` holds.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn two_ports() -> (Vec<LoopbackPort>, LoopbackHandle, LoopbackHandle) {
    let (a, ha) = LoopbackPort::new("a", [2, 0, 0, 0, 0, 0xa], 1024);
    let (b, hb) = LoopbackPort::new("b", [2, 0, 0, 0, 0, 0xb], 1024);
    (vec![a, b], ha, hb)
}

fn quick() -> WorkerCfg {
    WorkerCfg {
        busy_poll_us: 0,
        idle_backoff: Duration::from_millis(2),
        ..WorkerCfg::default()
    }
}

/// A toy forwarder: frames starting 0xff are dropped, 0xee also emit a
/// copy back out of their own port, the rest cross to the other port
/// with their first byte incremented (an in-place rewrite).
fn toy(ctx: &mut FrameCtx<'_>) -> Fate {
    match ctx.frame.first().copied() {
        Some(0xff) | None => Fate::Drop,
        Some(0xee) => {
            let copy = ctx.frame.clone();
            ctx.emit(ctx.port, &copy);
            Fate::Forward(1 - ctx.port)
        }
        Some(0xdd) => Fate::Forward(7),
        Some(x) => {
            ctx.frame[0] = x.wrapping_add(1);
            Fate::Forward(1 - ctx.port)
        }
    }
}

#[test]
fn forwards_rewrites_drops_and_emits_across_threads() {
    let (mut ports, ha, hb) = two_ports();
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let worker = std::thread::spawn(move || run(&mut ports, toy, &quick(), &s2));
    ha.inject(&[1, 2, 3]);
    ha.inject(&[0xff, 0]);
    hb.inject(&[0x10]);
    ha.inject(&[0xee, 5]);
    ha.inject(&[0xdd]);
    let mut at_b = Vec::new();
    let mut at_a = Vec::new();
    wait_for("forwarded frames", || {
        at_b.extend(hb.take_sent());
        at_a.extend(ha.take_sent());
        at_b.len() >= 2 && at_a.len() >= 2
    });
    stop.store(true, Ordering::Relaxed);
    let st = worker.join().unwrap().unwrap();
    assert_eq!(at_b, vec![vec![2, 2, 3], vec![0xee, 5]]);
    // Whether b's frame came in the same loop as a's is up to timing.
    at_a.sort();
    assert_eq!(at_a, vec![vec![0x11], vec![0xee, 5]]);
    assert_eq!(st.rx, 5);
    assert_eq!(st.tx, 4);
    assert_eq!(st.dropped, 1);
    assert_eq!(st.bad_port, 1);
    assert_eq!(st.tx_full, 0);
}

#[test]
fn a_full_output_queue_drops_and_counts() {
    // The output port takes one frame per burst and the worker queues
    // at most two: a burst of six leaves some with nowhere to go.
    let (a, ha) = LoopbackPort::new("a", [2; 6], 1024);
    let (b, hb) = LoopbackPort::new("b", [4; 6], 1);
    let mut ports = vec![a, b];
    for i in 0..6u8 {
        ha.inject(&[i]);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let cfg = WorkerCfg {
        tx_queue: 2,
        burst: 8,
        ..quick()
    };
    let worker = std::thread::spawn(move || {
        run(
            &mut ports,
            |_: &mut FrameCtx<'_>| Fate::Forward(1),
            &cfg,
            &s2,
        )
    });
    wait_for("a frame at b", || !hb.take_sent().is_empty());
    stop.store(true, Ordering::Relaxed);
    let st = worker.join().unwrap().unwrap();
    assert_eq!(st.rx, 6);
    assert_eq!(st.tx_full, 4, "{st:?}");
    // The second queued frame leaves once the test drained the first.
    assert!((1..=2).contains(&st.tx), "{st:?}");
}

#[test]
fn idle_worker_sleeps_and_stops_promptly() {
    let (mut ports, _ha, _hb) = two_ports();
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let worker = std::thread::spawn(move || run(&mut ports, toy, &quick(), &s2));
    std::thread::sleep(Duration::from_millis(30));
    let t = Instant::now();
    stop.store(true, Ordering::Relaxed);
    let st = worker.join().unwrap().unwrap();
    assert!(t.elapsed() < Duration::from_secs(1));
    assert!(st.sleeps > 0, "{st:?}");
    assert_eq!(st.rx, 0);
}

#[test]
fn pins_to_an_existing_core_and_refuses_a_missing_one() {
    let (mut ports, _ha, _hb) = two_ports();
    let stop = AtomicBool::new(true);
    let cfg = WorkerCfg {
        pin_core: Some(0),
        ..quick()
    };
    let t = std::thread::spawn(move || run(&mut ports, toy, &cfg, &stop).map(|_| ()));
    t.join().unwrap().unwrap();
    let (mut ports, _ha, _hb) = two_ports();
    let stop = AtomicBool::new(true);
    let cfg = WorkerCfg {
        pin_core: Some(1 << 20),
        ..quick()
    };
    assert!(run(&mut ports, toy, &cfg, &stop).is_err());
}

#[test]
fn live_counters_follow_a_running_worker() {
    let (mut ports, ha, hb) = two_ports();
    let live = Arc::new(LiveStats::new(2));
    let stop = Arc::new(AtomicBool::new(false));
    let (s2, l2) = (stop.clone(), live.clone());
    let worker = std::thread::spawn(move || run_live(&mut ports, toy, &quick(), &s2, &l2));
    for i in 0..3u8 {
        ha.inject(&[i, 0, 0, 0]);
    }
    wait_for("published counters", || {
        live.worker().rx == 3 && live.port(1).is_some_and(|p| p.tx_frames == 3)
    });
    assert_eq!(live.port(0).unwrap().rx_bytes, 12);
    assert_eq!(hb.take_sent().len(), 3);
    stop.store(true, Ordering::Relaxed);
    let st = worker.join().unwrap().unwrap();
    assert_eq!(live.worker(), st, "the final figures are published on exit");
}
