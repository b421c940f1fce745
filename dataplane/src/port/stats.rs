//! Per-port counters, read by the control plane.

/// What a port has moved and lost since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortStats {
    pub rx_frames: u64,
    pub rx_bytes: u64,
    pub tx_frames: u64,
    pub tx_bytes: u64,
    /// Received frames cut short by the ring (larger than a block):
    /// never handed to the engine, as a firewall must not judge half a
    /// packet.
    pub rx_truncated: u64,
    /// Frames the kernel dropped because the receive ring was full
    /// (`PACKET_STATISTICS`), as of the last time they were read.
    pub rx_ring_drops: u64,
    /// Frames taken for sending but dropped: larger than a TX slot, or
    /// shorter than an Ethernet header.
    pub tx_dropped: u64,
}

impl PortStats {
    /// Add `o`'s counts to these: one interface's figures over the
    /// workers that each have a port on it.
    pub fn add(&mut self, o: &PortStats) {
        self.rx_frames += o.rx_frames;
        self.rx_bytes += o.rx_bytes;
        self.tx_frames += o.tx_frames;
        self.tx_bytes += o.tx_bytes;
        self.rx_truncated += o.rx_truncated;
        self.rx_ring_drops += o.rx_ring_drops;
        self.tx_dropped += o.tx_dropped;
    }
}
