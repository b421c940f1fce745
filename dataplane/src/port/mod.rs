//! Ports: where frames enter and leave the appliance.
//!
//! The per-packet engine is a pure function; everything that waits on
//! or talks to the kernel lives behind [`Port`]. [`AfPacketPort`] is the
//! production port (TPACKET_V3 receive ring, TPACKET_V2 transmit ring,
//! fanout across workers); [`LoopbackPort`] and [`PcapPort`] run the same
//! worker loop in tests and benches without a NIC.

pub mod afpacket;
mod batch;
mod loopback;
mod offload;
mod pcap_port;
mod stats;
pub mod tun;

use std::io;
use std::os::fd::RawFd;

pub use afpacket::{AfPacketCfg, AfPacketPort, OpenError};
pub use batch::{RxBatch, TxBatch};
pub use loopback::{LoopbackHandle, LoopbackPort};
pub use pcap_port::PcapPort;
pub use stats::PortStats;
pub use tun::TunMirror;

/// One interface as one worker sees it (with fanout, each worker has its
/// own `Port` on the same interface).
pub trait Port: Send {
    /// Append up to `out`'s free room of received frames to `out`;
    /// returns how many were added. Never blocks.
    fn rx_burst(&mut self, out: &mut RxBatch) -> io::Result<usize>;

    /// Hand the frames at the front of `frames` to the wire, in order,
    /// removing those taken. Returns how many were taken; a frame the
    /// port cannot send at all (too big for its slot) is taken and
    /// counted in [`PortStats::tx_dropped`]. Frames left in the batch
    /// found no room (ring full): the caller retries or drops them.
    /// Never blocks.
    fn tx_burst(&mut self, frames: &mut TxBatch) -> io::Result<usize>;

    /// A descriptor that polls readable when frames are waiting, for
    /// the worker's idle sleep; `None` when the port cannot be waited
    /// on (in-memory ports), and the worker then sleeps on a timer.
    fn poll_fd(&self) -> Option<RawFd>;

    fn name(&self) -> &str;

    /// The interface's Ethernet address (source of generated frames).
    fn mac(&self) -> [u8; 6];

    fn stats(&self) -> PortStats;

    /// Re-read counters that cost a system call (the worker calls this
    /// about once a second, not per burst).
    fn refresh_stats(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<P: Port + ?Sized> Port for Box<P> {
    fn rx_burst(&mut self, out: &mut RxBatch) -> io::Result<usize> {
        (**self).rx_burst(out)
    }
    fn tx_burst(&mut self, frames: &mut TxBatch) -> io::Result<usize> {
        (**self).tx_burst(frames)
    }
    fn poll_fd(&self) -> Option<RawFd> {
        (**self).poll_fd()
    }
    fn name(&self) -> &str {
        (**self).name()
    }
    fn mac(&self) -> [u8; 6] {
        (**self).mac()
    }
    fn stats(&self) -> PortStats {
        (**self).stats()
    }
    fn refresh_stats(&mut self) -> io::Result<()> {
        (**self).refresh_stats()
    }
}
