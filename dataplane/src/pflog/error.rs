//! What can be wrong with a pflog header.

use std::fmt;

/// Why a pflog header could not be read or written.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PflogError {
    /// Fewer bytes than the header.
    Short {
        len: usize,
    },
    /// The header's length byte is not OpenBSD's current
    /// `PFLOG_REAL_HDRLEN` (older or other systems' layouts are not read).
    BadLength(u8),
    /// An address family other than OpenBSD's AF_INET (2) / AF_INET6 (24).
    BadAf(u8),
    BadAction(u8),
    BadReason(u8),
    /// A direction other than in (1) or out (2).
    BadDir(u8),
    /// The interface or ruleset name is not NUL-terminated UTF-8.
    BadName,
    /// An interface name longer than `IFNAMSIZ - 1` bytes.
    IfnameTooLong(usize),
    /// An address of the wrong family for `af`/`naf`.
    AddrFamily,
    /// The output buffer is smaller than the header.
    BufferTooSmall {
        need: usize,
        got: usize,
    },
}

impl fmt::Display for PflogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PflogError::Short { len } => write!(f, "pflog: {len} bytes, header needs 100"),
            PflogError::BadLength(l) => write!(f, "pflog: header length {l}, expected 100"),
            PflogError::BadAf(a) => write!(f, "pflog: unknown address family {a}"),
            PflogError::BadAction(a) => write!(f, "pflog: unknown action {a}"),
            PflogError::BadReason(r) => write!(f, "pflog: unknown reason {r}"),
            PflogError::BadDir(d) => write!(f, "pflog: direction {d} is neither in nor out"),
            PflogError::BadName => f.write_str("pflog: interface or ruleset name is not UTF-8"),
            PflogError::IfnameTooLong(n) => {
                write!(f, "pflog: interface name of {n} bytes exceeds 15")
            }
            PflogError::AddrFamily => f.write_str("pflog: address does not match its family"),
            PflogError::BufferTooSmall { need, got } => {
                write!(f, "pflog: buffer of {got} bytes, header needs {need}")
            }
        }
    }
}

impl std::error::Error for PflogError {}
