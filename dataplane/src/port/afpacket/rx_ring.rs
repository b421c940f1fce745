//! The TPACKET_V3 receive ring: the kernel fills whole blocks of
//! variable-size frames and hands each block over when it is full or
//! its retire timer expires; we copy the frames out and hand the block
//! straight back.

use std::mem::offset_of;
use std::sync::atomic::Ordering;

use super::sys::RingMap;
use crate::port::{PortStats, RxBatch};

const BLK_HDR: usize = offset_of!(libc::tpacket_block_desc, hdr);
const BLK_STATUS: usize = BLK_HDR + offset_of!(libc::tpacket_hdr_v1, block_status);
const BLK_NUM_PKTS: usize = BLK_HDR + offset_of!(libc::tpacket_hdr_v1, num_pkts);
const BLK_FIRST: usize = BLK_HDR + offset_of!(libc::tpacket_hdr_v1, offset_to_first_pkt);

const P_NEXT: usize = offset_of!(libc::tpacket3_hdr, tp_next_offset);
const P_SNAPLEN: usize = offset_of!(libc::tpacket3_hdr, tp_snaplen);
const P_LEN: usize = offset_of!(libc::tpacket3_hdr, tp_len);
const P_STATUS: usize = offset_of!(libc::tpacket3_hdr, tp_status);
const P_MAC: usize = offset_of!(libc::tpacket3_hdr, tp_mac);
const P_HV1: usize = offset_of!(libc::tpacket3_hdr, hv1);
const P_VLAN_TCI: usize = P_HV1 + offset_of!(libc::tpacket_hdr_variant1, tp_vlan_tci);
const P_VLAN_TPID: usize = P_HV1 + offset_of!(libc::tpacket_hdr_variant1, tp_vlan_tpid);

/// Where we are in the ring.
pub(crate) struct RxRing {
    map: RingMap,
    block_size: usize,
    block_nr: usize,
    block: usize,
    /// Inside a block handed to us: frames left and the next one's offset.
    open: Option<(u32, usize)>,
}

impl RxRing {
    pub(crate) fn new(map: RingMap, block_size: usize, block_nr: usize) -> RxRing {
        RxRing {
            map,
            block_size,
            block_nr,
            block: 0,
            open: None,
        }
    }

    fn block_off(&self) -> usize {
        self.block * self.block_size
    }

    /// Give the current block back to the kernel and move on.
    fn release(&mut self) {
        let off = self.block_off();
        self.map
            .status(off + BLK_STATUS)
            .store(libc::TP_STATUS_KERNEL, Ordering::Release);
        self.block = (self.block + 1) % self.block_nr;
        self.open = None;
    }

    /// Copy frames into `out` until it is full or the ring has none
    /// ready. VLAN tags the kernel stripped into the header are put back
    /// in the frame: the engine sees what was on the wire.
    pub(crate) fn read_burst(&mut self, out: &mut RxBatch, stats: &mut PortStats) -> usize {
        let mut n = 0;
        while !out.is_full() {
            let (left, off) = match self.open {
                Some(o) => o,
                None => {
                    let b = self.block_off();
                    let st = self.map.status(b + BLK_STATUS).load(Ordering::Acquire);
                    if st & libc::TP_STATUS_USER == 0 {
                        break;
                    }
                    let num = self.map.read_u32(b + BLK_NUM_PKTS).unwrap_or(0);
                    let first = self.map.read_u32(b + BLK_FIRST).unwrap_or(0) as usize;
                    (num, b + first)
                }
            };
            if left == 0 {
                self.release();
                continue;
            }
            match self.copy_frame(off, out, stats) {
                Some((next, got)) => {
                    n += usize::from(got);
                    let left = left - 1;
                    if left == 0 || next == 0 {
                        self.release();
                    } else {
                        self.open = Some((left, off + next));
                    }
                }
                // A header pointing outside its block: the kernel never
                // writes one, but we do not follow it.
                None => self.release(),
            }
        }
        n
    }

    /// Copy the frame whose header is at `off`; returns the offset of
    /// the next header and whether a frame was added.
    fn copy_frame(
        &mut self,
        off: usize,
        out: &mut RxBatch,
        stats: &mut PortStats,
    ) -> Option<(usize, bool)> {
        let block_end = self.block_off() + self.block_size;
        let next = self.map.read_u32(off + P_NEXT)? as usize;
        let snap = self.map.read_u32(off + P_SNAPLEN)? as usize;
        let len = self.map.read_u32(off + P_LEN)? as usize;
        let status = self.map.read_u32(off + P_STATUS)?;
        let mac = usize::from(self.map.read_u16(off + P_MAC)?);
        let start = off.checked_add(mac)?;
        if start.checked_add(snap)? > block_end {
            return None;
        }
        let data = self.map.bytes(start, snap)?;
        if snap < len {
            stats.rx_truncated += 1;
            return Some((next, false));
        }
        // The caller checked for room before asking for a frame.
        let buf = out.next_buf()?;
        if status & libc::TP_STATUS_VLAN_VALID != 0 && data.len() >= 12 {
            let tci = self.map.read_u32(off + P_VLAN_TCI)? as u16;
            let tpid = if status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
                self.map.read_u16(off + P_VLAN_TPID)?
            } else {
                0x8100
            };
            buf.extend_from_slice(&data[..12]);
            buf.extend_from_slice(&tpid.to_be_bytes());
            buf.extend_from_slice(&tci.to_be_bytes());
            buf.extend_from_slice(&data[12..]);
        } else {
            buf.extend_from_slice(data);
        }
        if status & libc::TP_STATUS_CSUMNOTREADY != 0 {
            crate::port::offload::complete_l4_checksum(buf);
        }
        stats.rx_frames += 1;
        stats.rx_bytes += buf.len() as u64;
        out.commit();
        Some((next, true))
    }
}
