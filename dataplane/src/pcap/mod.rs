//! Classic pcap capture files (the libpcap format tcpdump and tshark read
//! and write): a reader for replaying captures through the engine and a
//! writer for pflog and test output. pcapng is not read: it is refused
//! with [`PcapError::BadMagic`].

mod error;
mod reader;
mod writer;

#[cfg(test)]
mod fixture_tcpdump;

pub use error::PcapError;
pub use reader::{PcapReader, Record};
pub use writer::PcapWriter;

/// DLT_EN10MB: Ethernet II frames.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// DLT_RAW as libpcap writes it to files: a bare IPv4 or IPv6 packet.
pub const LINKTYPE_RAW: u32 = 101;
/// DLT_PFLOG: a `struct pfloghdr` followed by the IP packet.
pub const LINKTYPE_PFLOG: u32 = 117;

/// The largest record we read or write. libpcap's own ceiling
/// (`MAXIMUM_SNAPLEN`), so every file tcpdump writes is readable, and a
/// hostile length field cannot make us allocate more than this.
pub const MAX_RECORD_LEN: u32 = 256 * 1024;

pub(crate) const MAGIC_USEC: u32 = 0xa1b2_c3d4;
pub(crate) const MAGIC_NSEC: u32 = 0xa1b2_3c4d;
pub(crate) const GLOBAL_HDR_LEN: usize = 24;
pub(crate) const RECORD_HDR_LEN: usize = 16;
