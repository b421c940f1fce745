//! In-memory ports for tests and benches: frames go in and come out of
//! shared queues, so a test thread can feed a worker running on another.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixDatagram;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{Port, PortStats, RxBatch, TxBatch};

type Queue = Arc<Mutex<VecDeque<Vec<u8>>>>;

fn lock(q: &Queue) -> MutexGuard<'_, VecDeque<Vec<u8>>> {
    // A test thread that panicked while holding the lock must not hide
    // the frames from the others.
    q.lock().unwrap_or_else(|e| e.into_inner())
}

/// A port whose wire is a pair of queues.
#[derive(Debug)]
pub struct LoopbackPort {
    name: String,
    mac: [u8; 6],
    rx: Queue,
    tx: Queue,
    /// The most frames the TX queue holds, as a full TX ring would.
    tx_room: usize,
    stats: PortStats,
    /// The readable end of the wake-up socket (see [`LoopbackPort::waking`]).
    wake: Option<UnixDatagram>,
}

/// The other end of a [`LoopbackPort`]'s queues.
#[derive(Clone, Debug)]
pub struct LoopbackHandle {
    rx: Queue,
    tx: Queue,
    wake: Option<Arc<UnixDatagram>>,
}

impl LoopbackHandle {
    /// Make `frame` arrive at the port (and wake a worker sleeping in
    /// poll(2) on a [`LoopbackPort::waking`] port).
    pub fn inject(&self, frame: &[u8]) {
        lock(&self.rx).push_back(frame.to_vec());
        if let Some(w) = &self.wake {
            // A full socket buffer is already readable: nothing lost.
            let _ = w.send(&[1]);
        }
    }

    /// Take every frame the port has sent so far.
    pub fn take_sent(&self) -> Vec<Vec<u8>> {
        lock(&self.tx).drain(..).collect()
    }

    /// Frames injected but not yet received by the port.
    pub fn pending_rx(&self) -> usize {
        lock(&self.rx).len()
    }
}

impl LoopbackPort {
    /// A port with its own queues, and the handle that feeds and drains
    /// them. The TX queue holds at most `tx_room` frames.
    pub fn new(name: &str, mac: [u8; 6], tx_room: usize) -> (LoopbackPort, LoopbackHandle) {
        let rx = Queue::default();
        let tx = Queue::default();
        let h = LoopbackHandle {
            rx: rx.clone(),
            tx: tx.clone(),
            wake: None,
        };
        (
            LoopbackPort {
                name: name.to_owned(),
                mac,
                rx,
                tx,
                tx_room,
                stats: PortStats::default(),
                wake: None,
            },
            h,
        )
    }

    /// [`LoopbackPort::new`] with a file descriptor that becomes readable
    /// when a frame is injected, so a worker idling in poll(2) wakes at
    /// once: a daemon's mailbox to its workers.
    pub fn waking(
        name: &str,
        mac: [u8; 6],
        tx_room: usize,
    ) -> io::Result<(LoopbackPort, LoopbackHandle)> {
        let (r, w) = UnixDatagram::pair()?;
        r.set_nonblocking(true)?;
        w.set_nonblocking(true)?;
        let (mut port, mut h) = LoopbackPort::new(name, mac, tx_room);
        port.wake = Some(r);
        h.wake = Some(Arc::new(w));
        Ok((port, h))
    }

    /// Two ports joined by a virtual cable: what one sends, the other
    /// receives (a veth pair without the kernel).
    pub fn pair(
        names: [&str; 2],
        macs: [[u8; 6]; 2],
        tx_room: usize,
    ) -> (LoopbackPort, LoopbackPort) {
        let a_to_b = Queue::default();
        let b_to_a = Queue::default();
        let mk = |i: usize, rx: &Queue, tx: &Queue| LoopbackPort {
            name: names[i].to_owned(),
            mac: macs[i],
            rx: rx.clone(),
            tx: tx.clone(),
            tx_room,
            stats: PortStats::default(),
            wake: None,
        };
        (mk(0, &b_to_a, &a_to_b), mk(1, &a_to_b, &b_to_a))
    }
}

impl Port for LoopbackPort {
    fn rx_burst(&mut self, out: &mut RxBatch) -> io::Result<usize> {
        if let Some(w) = &self.wake {
            // Drain the wake-ups first: a frame injected after this is
            // either seen below or leaves the socket readable again.
            let mut buf = [0u8; 64];
            while w.recv(&mut buf).is_ok() {}
        }
        let mut q = lock(&self.rx);
        let mut n = 0;
        while !out.is_full() {
            let Some(f) = q.pop_front() else { break };
            self.stats.rx_frames += 1;
            self.stats.rx_bytes += f.len() as u64;
            out.push(&f);
            n += 1;
        }
        Ok(n)
    }

    fn tx_burst(&mut self, frames: &mut TxBatch) -> io::Result<usize> {
        let mut q = lock(&self.tx);
        let room = self.tx_room.saturating_sub(q.len());
        let n = room.min(frames.len());
        for f in &frames.frames()[..n] {
            self.stats.tx_frames += 1;
            self.stats.tx_bytes += f.len() as u64;
            q.push_back(f.clone());
        }
        drop(q);
        frames.consume(n);
        Ok(n)
    }

    fn poll_fd(&self) -> Option<RawFd> {
        self.wake.as_ref().map(AsRawFd::as_raw_fd)
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn mac(&self) -> [u8; 6] {
        self.mac
    }

    fn stats(&self) -> PortStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::afpacket::sys::Poller;
    use std::time::Duration;

    #[test]
    fn a_waking_port_is_readable_exactly_while_frames_wait() {
        let (plain, _) = LoopbackPort::new("lo0", [2, 0, 0, 0, 0, 1], 8);
        assert_eq!(plain.poll_fd(), None);
        let (mut p, h) = LoopbackPort::waking("mail", [2, 0, 0, 0, 0, 2], 8).unwrap();
        let mut poll = Poller::new(&[p.poll_fd().unwrap()]);
        assert_eq!(poll.wait(Duration::ZERO).unwrap(), 0, "nothing injected");
        for i in 0..100u8 {
            h.inject(&[i]);
        }
        assert_eq!(poll.wait(Duration::ZERO).unwrap(), 1, "injected: readable");
        let mut b = RxBatch::new(128, 64);
        assert_eq!(p.rx_burst(&mut b).unwrap(), 100);
        assert_eq!(
            poll.wait(Duration::ZERO).unwrap(),
            0,
            "all taken: quiet again"
        );
        h.inject(&[1]);
        assert_eq!(poll.wait(Duration::ZERO).unwrap(), 1);
    }

    #[test]
    fn injected_frames_arrive_in_order_up_to_the_burst() {
        let (mut p, h) = LoopbackPort::new("lo0", [2, 0, 0, 0, 0, 1], 8);
        for i in 0..3u8 {
            h.inject(&[i; 20]);
        }
        let mut b = RxBatch::new(2, 64);
        assert_eq!(p.rx_burst(&mut b).unwrap(), 2);
        assert_eq!(b.frames(), &[vec![0; 20], vec![1; 20]]);
        assert_eq!(h.pending_rx(), 1);
        b.clear();
        assert_eq!(p.rx_burst(&mut b).unwrap(), 1);
        assert_eq!(b.frames(), &[vec![2; 20]]);
        assert_eq!(p.rx_burst(&mut b).unwrap(), 0);
        assert_eq!(p.stats().rx_frames, 3);
        assert_eq!(p.stats().rx_bytes, 60);
    }

    #[test]
    fn a_full_tx_queue_leaves_frames_in_the_batch() {
        let (mut p, h) = LoopbackPort::new("lo0", [2, 0, 0, 0, 0, 1], 2);
        let mut t = TxBatch::new(4, 64);
        for i in 0..3u8 {
            t.push(&[i]);
        }
        assert_eq!(p.tx_burst(&mut t).unwrap(), 2);
        assert_eq!(t.frames(), &[vec![2]]);
        assert_eq!(h.take_sent(), vec![vec![0], vec![1]]);
        assert_eq!(p.tx_burst(&mut t).unwrap(), 1);
        assert!(t.is_empty());
        assert_eq!(h.take_sent(), vec![vec![2]]);
        assert_eq!(p.stats().tx_frames, 3);
    }

    #[test]
    fn a_pair_crosses_its_queues() {
        let (mut a, mut b) = LoopbackPort::pair(["a", "b"], [[2; 6], [4; 6]], 16);
        let mut t = TxBatch::new(4, 64);
        t.push(&[0xaa]);
        a.tx_burst(&mut t).unwrap();
        let mut r = RxBatch::new(4, 64);
        assert_eq!(a.rx_burst(&mut r).unwrap(), 0);
        assert_eq!(b.rx_burst(&mut r).unwrap(), 1);
        assert_eq!(r.frames(), &[vec![0xaa]]);
        assert_eq!(b.mac(), [4; 6]);
        assert_eq!(a.name(), "a");
    }
}
