//! The control socket between `pfd` and its CLIs (`pfctl`, `ifctl`).
//!
//! A Unix stream socket, mode 0600 (root only), at `--control PATH`
//! (default `/run/pfd.sock`). Each side writes one JSON object per line:
//! the CLI a versioned [`Request`], the daemon a [`Response`] to each, in
//! order. The daemon's engine sees only typed requests through
//! [`Handler`]; what a client can get wrong (bad JSON, unknown kind, other
//! version, over-long line, hanging up mid-line) is answered or dropped by
//! [`Session`] and [`Server`] and never reaches it.
//!
//! On the wire (`socat - UNIX:/run/pfd.sock` speaks it):
//!
//! ```text
//! > {"version":1,"request":{"kind":"show","what":"rules","verbose":1}}
//! < {"version":1,"response":{"status":"ok","text":"pass all flags S/SA\n  [ Evaluations: ..."}}
//! > {"version":1,"request":{"kind":"table","name":"bad","op":{"op":"add","addrs":["192.0.2.1"]}}}
//! < {"version":1,"response":{"status":"ok","text":"1/1 addresses added.\n"}}
//! > {"version":1,"request":{"kind":"reboot"}}
//! < {"version":1,"response":{"status":"error","kind":"bad_request","message":"unknown request kind \"reboot\""}}
//! ```
//!
//! Optional fields may be left out; unknown fields are refused, not
//! ignored. A request line may be at most [`ServerConfig::max_request`]
//! bytes (1 MiB by default) and must arrive within its `read_timeout`.

mod channel;
mod client;
mod codec;
mod ifctl;
mod proto;
mod server;
mod session;

pub use channel::{channel, ChannelHandler, Inbox, Pending};
pub use client::{Client, ClientError};
pub use codec::{decode_request, decode_response, encode_request, encode_response};
pub use ifctl::{CarpChange, CarpStateArg, IfctlOp, PfsyncChange};
pub use proto::{
    DebugLevel, Define, ErrorKind, FlushWhat, KillBy, OptimizerLevel, Request, Response,
    RuleSource, ShowWhat, SrcNodeFilter, StateFilter, TableOp, REQUEST_KINDS, VERSION,
};
pub use server::{Handler, Server, ServerConfig, ServerError, ShutdownHandle};
pub use session::{Flow, Session};

use std::ffi::OsString;
use std::path::PathBuf;

/// Where the daemon listens unless told otherwise.
pub const DEFAULT_PATH: &str = "/run/pfd.sock";

/// The environment variable every CLI reads when `--control` is absent.
pub const ENV_VAR: &str = "PFD_CONTROL";

/// The control socket's path: `--control`, else `$PFD_CONTROL`, else
/// `/run/pfd.sock`.
pub fn control_path(cli: Option<&str>) -> PathBuf {
    control_path_from(cli, std::env::var_os(ENV_VAR))
}

/// [`control_path`] with the environment passed in. An empty flag or
/// variable counts as absent, as an unset-by-assignment `PFD_CONTROL=`
/// would be meant.
pub fn control_path_from(cli: Option<&str>, env: Option<OsString>) -> PathBuf {
    if let Some(p) = cli.filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    match env.filter(|p| !p.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(DEFAULT_PATH),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_then_env_then_default() {
        let env = || Some(OsString::from("/tmp/e.sock"));
        assert_eq!(
            control_path_from(Some("/tmp/f.sock"), env()),
            PathBuf::from("/tmp/f.sock")
        );
        assert_eq!(control_path_from(None, env()), PathBuf::from("/tmp/e.sock"));
        assert_eq!(
            control_path_from(Some(""), env()),
            PathBuf::from("/tmp/e.sock")
        );
        assert_eq!(control_path_from(None, None), PathBuf::from(DEFAULT_PATH));
        assert_eq!(
            control_path_from(None, Some(OsString::new())),
            PathBuf::from(DEFAULT_PATH)
        );
    }
}
