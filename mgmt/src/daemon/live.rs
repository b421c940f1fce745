//! The live counters of all workers, as one: an interface's figures are
//! the sum over the workers that each have a port on it.

use dataplane::port::PortStats;
use dataplane::worker::{LiveStats, WorkerStats};
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct LiveSet {
    workers: Vec<Arc<LiveStats>>,
}

impl LiveSet {
    pub fn new(workers: Vec<Arc<LiveStats>>) -> LiveSet {
        LiveSet { workers }
    }

    /// Interface `i`'s counters over every worker; `None` past the last.
    pub fn port(&self, i: usize) -> Option<PortStats> {
        let mut sum: Option<PortStats> = None;
        for w in &self.workers {
            if let Some(p) = w.port(i) {
                sum.get_or_insert_with(PortStats::default).add(&p);
            }
        }
        sum
    }

    /// One worker's own counters.
    pub fn worker(&self, w: usize) -> Option<WorkerStats> {
        self.workers.get(w).map(|l| l.worker())
    }

    pub fn workers(&self) -> usize {
        self.workers.len()
    }
}
