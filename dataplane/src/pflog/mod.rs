//! pflog: DLT_PFLOG (117) records of logged packets, byte for byte as
//! OpenBSD's `pflog(4)` interface hands them to bpf, so `tcpdump -e`,
//! `tshark` and `pflogd`'s readers decode pfd's logs like pf's.

mod action;
mod error;
mod header;
mod writer;

pub use action::PfAction;
pub use error::PflogError;
pub use header::{PflogRecord, NO_PID, PFLOG_HDRLEN, UID_NONE};
pub use writer::PflogWriter;
