//! Writing classic pcap files. Microsecond timestamps in little-endian
//! order: the one variant every pcap reader, however old, accepts.

use std::io::{self, Write};

use super::{MAGIC_USEC, MAX_RECORD_LEN};

/// A pcap file being written.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    inner: W,
}

impl<W: Write> PcapWriter<W> {
    /// Write the global header for link type `link_type` (`LINKTYPE_*`).
    pub fn new(mut inner: W, link_type: u32) -> io::Result<Self> {
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&MAGIC_USEC.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes());
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs stay zero, as every modern writer leaves them.
        h[16..20].copy_from_slice(&MAX_RECORD_LEN.to_le_bytes());
        h[20..24].copy_from_slice(&link_type.to_le_bytes());
        inner.write_all(&h)?;
        Ok(PcapWriter { inner })
    }

    /// Append records to a stream that already holds a global header
    /// (a pflog file pfd wrote before, of the same link type).
    pub fn appending(inner: W) -> Self {
        PcapWriter { inner }
    }

    /// Append one packet captured at `ts_ns` (nanoseconds since the
    /// epoch; truncated to microseconds). A packet longer than the
    /// snapshot length, or a time past 2106, is refused rather than
    /// silently cut.
    pub fn write(&mut self, ts_ns: u64, data: &[u8]) -> io::Result<()> {
        let len = u32::try_from(data.len())
            .ok()
            .filter(|&l| l <= MAX_RECORD_LEN)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("pcap: packet of {} bytes exceeds snaplen", data.len()),
                )
            })?;
        let secs = u32::try_from(ts_ns / 1_000_000_000).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "pcap: timestamp does not fit in 32-bit seconds",
            )
        })?;
        // Below 1_000_000 by construction.
        let usecs = ((ts_ns % 1_000_000_000) / 1_000) as u32;
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&secs.to_le_bytes());
        h[4..8].copy_from_slice(&usecs.to_le_bytes());
        h[8..12].copy_from_slice(&len.to_le_bytes());
        h[12..16].copy_from_slice(&len.to_le_bytes());
        self.inner.write_all(&h)?;
        self.inner.write_all(data)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    /// Give back the writer (not flushed: call [`Self::flush`] first if it
    /// buffers).
    pub fn into_inner(self) -> W {
        self.inner
    }
}
