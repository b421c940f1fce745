//! The TPACKET_V2 transmit ring: fixed-size slots we fill and mark
//! `SEND_REQUEST`; one zero-length `send` per burst makes the kernel
//! transmit every marked slot.

use std::mem::offset_of;
use std::os::fd::OwnedFd;
use std::sync::atomic::Ordering;

use super::sys::{self, RingMap};
use crate::port::{PortStats, TxBatch};

const S_LEN: usize = offset_of!(libc::tpacket2_hdr, tp_len);
const S_SNAPLEN: usize = offset_of!(libc::tpacket2_hdr, tp_snaplen);
/// Where the kernel reads a V2 TX frame's bytes from (without
/// PACKET_TX_HAS_OFF): the aligned header, as `tpacket_snd` computes it.
pub(crate) const DATA_OFF: usize = libc::TPACKET2_HDRLEN - std::mem::size_of::<libc::sockaddr_ll>();

pub(crate) struct TxRing {
    map: RingMap,
    frame_size: usize,
    frame_nr: usize,
    cur: usize,
}

impl TxRing {
    pub(crate) fn new(map: RingMap, frame_size: usize, frame_nr: usize) -> TxRing {
        TxRing {
            map,
            frame_size,
            frame_nr,
            cur: 0,
        }
    }

    /// Largest frame a slot holds.
    pub(crate) fn max_frame(&self) -> usize {
        self.frame_size - DATA_OFF
    }

    /// Put the batch's frames into free slots, in order, and kick the
    /// kernel once. Returns how many frames were taken.
    pub(crate) fn send_burst(
        &mut self,
        fd: &OwnedFd,
        frames: &mut TxBatch,
        stats: &mut PortStats,
    ) -> std::io::Result<usize> {
        let mut taken = 0;
        let mut queued = 0;
        for f in frames.frames() {
            // The kernel refuses frames shorter than an Ethernet header
            // (and with PACKET_LOSS would drop them unseen): count them here.
            if f.len() > self.max_frame() || f.len() < 14 {
                stats.tx_dropped += 1;
                taken += 1;
                continue;
            }
            let slot = self.cur * self.frame_size;
            // With PACKET_LOSS set the kernel gives malformed frames back
            // as AVAILABLE, so any other status means: still in flight,
            // the ring is full.
            if self.map.status(slot).load(Ordering::Acquire) != libc::TP_STATUS_AVAILABLE {
                break;
            }
            let Some(dst) = self.map.bytes_mut(slot + DATA_OFF, f.len()) else {
                break;
            };
            dst.copy_from_slice(f);
            // Slot and frame length were checked against the mapping
            // when the ring was set up, so these writes cannot miss.
            self.map.write_u32(slot + S_LEN, f.len() as u32);
            self.map.write_u32(slot + S_SNAPLEN, f.len() as u32);
            self.map
                .status(slot)
                .store(libc::TP_STATUS_SEND_REQUEST, Ordering::Release);
            self.cur = (self.cur + 1) % self.frame_nr;
            stats.tx_frames += 1;
            stats.tx_bytes += f.len() as u64;
            taken += 1;
            queued += 1;
        }
        frames.consume(taken);
        if queued > 0 {
            sys::kick_tx(fd)?;
        }
        Ok(taken)
    }
}
