//! Counters a running worker publishes for the control plane to read
//! from another thread: its own totals and its ports'. Published at
//! most once a millisecond (relaxed stores, no locks), so readers see
//! figures a millisecond old at worst and the hot loop pays nothing
//! per frame.

use std::sync::atomic::{AtomicU64, Ordering};

use super::WorkerStats;
use crate::port::PortStats;

type Cells<const N: usize> = [AtomicU64; N];

/// One worker's live counters; share it (e.g. in an `Arc`) between the
/// worker thread and whoever reports.
#[derive(Debug)]
pub struct LiveStats {
    worker: Cells<7>,
    ports: Vec<Cells<7>>,
}

fn load<const N: usize>(c: &Cells<N>) -> [u64; N] {
    std::array::from_fn(|i| c[i].load(Ordering::Relaxed))
}

fn store<const N: usize>(c: &Cells<N>, v: [u64; N]) {
    for (cell, x) in c.iter().zip(v) {
        cell.store(x, Ordering::Relaxed);
    }
}

impl LiveStats {
    /// Counters for a worker with `ports` ports.
    pub fn new(ports: usize) -> LiveStats {
        LiveStats {
            worker: Default::default(),
            ports: (0..ports).map(|_| Default::default()).collect(),
        }
    }

    pub fn worker(&self) -> WorkerStats {
        let [rx, tx, dropped, tx_full, bad_port, port_errors, sleeps] = load(&self.worker);
        WorkerStats {
            rx,
            tx,
            dropped,
            tx_full,
            bad_port,
            port_errors,
            sleeps,
        }
    }

    /// Port `i`'s counters as last published; `None` past the last port.
    pub fn port(&self, i: usize) -> Option<PortStats> {
        let [rx_frames, rx_bytes, tx_frames, tx_bytes, rx_truncated, rx_ring_drops, tx_dropped] =
            load(self.ports.get(i)?);
        Some(PortStats {
            rx_frames,
            rx_bytes,
            tx_frames,
            tx_bytes,
            rx_truncated,
            rx_ring_drops,
            tx_dropped,
        })
    }

    pub(crate) fn publish_worker(&self, s: &WorkerStats) {
        store(
            &self.worker,
            [
                s.rx,
                s.tx,
                s.dropped,
                s.tx_full,
                s.bad_port,
                s.port_errors,
                s.sleeps,
            ],
        );
    }

    pub(crate) fn publish_port(&self, i: usize, p: &PortStats) {
        if let Some(c) = self.ports.get(i) {
            store(
                c,
                [
                    p.rx_frames,
                    p.rx_bytes,
                    p.tx_frames,
                    p.tx_bytes,
                    p.rx_truncated,
                    p.rx_ring_drops,
                    p.tx_dropped,
                ],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_published_reads_back_field_for_field() {
        let live = LiveStats::new(2);
        let w = WorkerStats {
            rx: 1,
            tx: 2,
            dropped: 3,
            tx_full: 4,
            bad_port: 5,
            port_errors: 6,
            sleeps: 7,
        };
        live.publish_worker(&w);
        assert_eq!(live.worker(), w);
        let p = PortStats {
            rx_frames: 11,
            rx_bytes: 12,
            tx_frames: 13,
            tx_bytes: 14,
            rx_truncated: 15,
            rx_ring_drops: 16,
            tx_dropped: 17,
        };
        live.publish_port(1, &p);
        assert_eq!(live.port(1), Some(p));
        assert_eq!(live.port(0), Some(PortStats::default()));
        assert_eq!(live.port(2), None);
        live.publish_port(2, &p);
    }
}
