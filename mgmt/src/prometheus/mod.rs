//! Prometheus's side of `pfd run --metrics`: the text exposition
//! format (`text`) and the small HTTP/1.1 server that hands it out on
//! `GET /metrics` (`http`). Neither knows pf: the daemon renders its
//! figures with `text` and gives the server the function that does it.

pub mod http;
pub mod text;

pub use http::MetricsServer;
pub use text::{Exposition, Kind};
