//! What can be wrong with a capture file.

use std::fmt;
use std::io;

/// Why a capture file could not be read. Every variant names the fault
/// in the file (or the I/O below it); nothing is guessed or skipped.
#[derive(Debug)]
#[non_exhaustive]
pub enum PcapError {
    /// The reader below failed.
    Io(io::Error),
    /// The first four bytes are not a classic pcap magic number (this is
    /// also what a pcapng file gives).
    BadMagic(u32),
    /// The file ends inside the global header or a record (`what` says
    /// which part), after `got` of `need` bytes.
    Truncated {
        what: &'static str,
        need: usize,
        got: usize,
    },
    /// A record claims more captured bytes than the file's snapshot length
    /// or than [`super::MAX_RECORD_LEN`].
    CapLenTooLarge { caplen: u32, limit: u32 },
    /// A record captured more bytes than the packet had on the wire.
    CapLenOverOrigLen { caplen: u32, orig_len: u32 },
    /// The sub-second part of a timestamp is not below one second.
    BadTimestamp { frac: u32, nanosecond: bool },
    /// The timestamp does not fit in `u64` nanoseconds.
    TimestampOverflow { secs: u32 },
}

impl fmt::Display for PcapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PcapError::Io(e) => write!(f, "pcap: read error: {e}"),
            PcapError::BadMagic(m) => {
                write!(f, "pcap: not a classic pcap file (magic {m:#010x})")
            }
            PcapError::Truncated { what, need, got } => {
                write!(f, "pcap: truncated {what}: {got} of {need} bytes")
            }
            PcapError::CapLenTooLarge { caplen, limit } => {
                write!(f, "pcap: record of {caplen} bytes exceeds limit {limit}")
            }
            PcapError::CapLenOverOrigLen { caplen, orig_len } => write!(
                f,
                "pcap: record captured {caplen} bytes of a {orig_len}-byte packet"
            ),
            PcapError::BadTimestamp { frac, nanosecond } => write!(
                f,
                "pcap: timestamp fraction {frac} out of range ({})",
                if *nanosecond { "ns" } else { "us" }
            ),
            PcapError::TimestampOverflow { secs } => {
                write!(f, "pcap: timestamp {secs} s does not fit in u64 ns")
            }
        }
    }
}

impl std::error::Error for PcapError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PcapError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for PcapError {
    fn from(e: io::Error) -> Self {
        PcapError::Io(e)
    }
}
