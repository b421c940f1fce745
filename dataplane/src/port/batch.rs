//! Bursts of frames moving between a port and the worker.
//!
//! Frames live in owned, reused `Vec<u8>` buffers rather than as borrows
//! of the kernel's ring. The engine rewrites frames in place and may
//! replace one with a whole reassembled datagram (`Packet::frame` is a
//! `&mut Vec<u8>`), and a forwarded frame leaves through another port's
//! TX ring some time later: a borrow of a TPACKET_V3 block would pin the
//! block (and every frame after it) until then, starving the kernel of
//! blocks under load. One copy out of the ring per frame (into a buffer
//! that already has the capacity: no allocation in steady state) buys
//! the immediate return of each block; from there on, frames move
//! between RX and TX batches by swapping buffers, never by copying.

/// A burst of received frames, filled by [`super::Port::rx_burst`].
#[derive(Debug)]
pub struct RxBatch {
    bufs: Vec<Vec<u8>>,
    len: usize,
}

impl RxBatch {
    /// Room for `burst` frames, each buffer pre-sized for `frame_cap`
    /// bytes (larger frames grow their buffer once, then keep it).
    pub fn new(burst: usize, frame_cap: usize) -> RxBatch {
        RxBatch {
            bufs: (0..burst.max(1))
                .map(|_| Vec::with_capacity(frame_cap))
                .collect(),
            len: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.bufs.len()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_full(&self) -> bool {
        self.len >= self.bufs.len()
    }

    /// Forget the frames (their buffers are kept for the next burst).
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// The frames received, mutable so the engine can rewrite them.
    pub fn frames_mut(&mut self) -> &mut [Vec<u8>] {
        &mut self.bufs[..self.len]
    }

    pub fn frames(&self) -> &[Vec<u8>] {
        &self.bufs[..self.len]
    }

    /// The next free buffer, emptied, for a port to fill; `None` when
    /// the batch is full. The frame counts only once [`Self::commit`]
    /// is called, so a port can give up on a frame half-way.
    pub fn next_buf(&mut self) -> Option<&mut Vec<u8>> {
        let b = self.bufs.get_mut(self.len)?;
        b.clear();
        Some(b)
    }

    /// Count the buffer [`Self::next_buf`] gave as a received frame.
    pub fn commit(&mut self) {
        if self.len < self.bufs.len() {
            self.len += 1;
        }
    }

    /// Copy `data` in as the next frame; false when full.
    pub fn push(&mut self, data: &[u8]) -> bool {
        match self.next_buf() {
            Some(b) => {
                b.extend_from_slice(data);
                self.commit();
                true
            }
            None => false,
        }
    }
}

/// Frames waiting to be sent by [`super::Port::tx_burst`], in order.
#[derive(Debug)]
pub struct TxBatch {
    bufs: Vec<Vec<u8>>,
    len: usize,
}

impl TxBatch {
    /// Room for `cap` frames, buffers pre-sized for `frame_cap` bytes.
    pub fn new(cap: usize, frame_cap: usize) -> TxBatch {
        TxBatch {
            bufs: (0..cap.max(1))
                .map(|_| Vec::with_capacity(frame_cap))
                .collect(),
            len: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.bufs.len()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_full(&self) -> bool {
        self.len >= self.bufs.len()
    }

    pub fn frames(&self) -> &[Vec<u8>] {
        &self.bufs[..self.len]
    }

    /// Queue `frame` without copying: its buffer moves into the batch
    /// and `frame` gets an empty spare buffer back (with capacity, for
    /// the next receive). False, leaving `frame` alone, when full.
    pub fn push_swap(&mut self, frame: &mut Vec<u8>) -> bool {
        let Some(slot) = self.bufs.get_mut(self.len) else {
            return false;
        };
        std::mem::swap(slot, frame);
        frame.clear();
        self.len += 1;
        true
    }

    /// Queue a copy of `data` (for frames the engine generates: RSTs,
    /// ICMP errors, synproxy handshakes); false when full.
    pub fn push(&mut self, data: &[u8]) -> bool {
        let Some(slot) = self.bufs.get_mut(self.len) else {
            return false;
        };
        slot.clear();
        slot.extend_from_slice(data);
        self.len += 1;
        true
    }

    /// Remove the first `n` frames (sent or dropped by the port),
    /// keeping the rest in order at the front.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.bufs[..self.len].rotate_left(n);
        self.len -= n;
    }

    /// Drop every queued frame.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rx_push_until_full_then_refuse() {
        let mut b = RxBatch::new(2, 64);
        assert!(b.push(&[1]));
        assert!(b.push(&[2, 2]));
        assert!(b.is_full());
        assert!(!b.push(&[3]));
        assert_eq!(b.frames(), &[vec![1], vec![2, 2]]);
        b.clear();
        assert!(b.is_empty());
        assert!(b.push(&[4]));
        assert_eq!(b.frames(), &[vec![4]]);
    }

    #[test]
    fn rx_next_buf_without_commit_is_not_a_frame() {
        let mut b = RxBatch::new(2, 64);
        b.next_buf().unwrap().extend_from_slice(&[9, 9]);
        assert_eq!(b.len(), 0);
        // The abandoned bytes do not leak into the next frame.
        b.next_buf().unwrap().push(7);
        b.commit();
        assert_eq!(b.frames(), &[vec![7]]);
    }

    #[test]
    fn swap_moves_buffers_not_bytes() {
        let mut rx = RxBatch::new(1, 64);
        let mut tx = TxBatch::new(1, 64);
        rx.push(&[1, 2, 3]);
        let ptr = rx.frames()[0].as_ptr();
        assert!(tx.push_swap(&mut rx.frames_mut()[0]));
        assert_eq!(tx.frames()[0].as_ptr(), ptr);
        assert_eq!(tx.frames(), &[vec![1, 2, 3]]);
        assert!(rx.frames()[0].is_empty());
        assert!(rx.frames()[0].capacity() >= 64);
        let mut again = vec![4];
        assert!(!tx.push_swap(&mut again));
        assert_eq!(again, vec![4]);
    }

    #[test]
    fn consume_keeps_the_rest_in_order() {
        let mut tx = TxBatch::new(4, 8);
        for i in 0..4u8 {
            assert!(tx.push(&[i]));
        }
        tx.consume(3);
        assert_eq!(tx.frames(), &[vec![3]]);
        assert!(tx.push(&[4]));
        assert_eq!(tx.frames(), &[vec![3], vec![4]]);
        tx.consume(10);
        assert!(tx.is_empty());
    }
}
