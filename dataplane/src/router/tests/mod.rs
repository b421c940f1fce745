//! The router end to end on golden frames from scapy (`golden.rs`),
//! by topic: what it answers itself, what it forwards, CARP, properties
//! and the cost measurement.

use super::golden::*;
use super::*;
use crate::pdesc::Pdesc;
use crate::wire::frame::{parse_frame, Link, Parsed};
use std::net::IpAddr;

mod carp;
mod cost;
mod forward;
mod local;
mod netsim;
mod prop;
mod refrag;

const R0: [u8; 6] = [0x52, 0x54, 0, 0, 0, 1];
const R1: [u8; 6] = [0x52, 0x54, 0, 0, 0, 2];
const HA: [u8; 6] = [2, 0, 0, 0, 0, 0x0a];
const HB: [u8; 6] = [2, 0, 0, 0, 0, 0x0b];

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// em0 (1): 192.0.2.1/24, 2001:db8:1::1/64, MTU 1500; em1 (2):
/// 198.51.100.1/24, 2001:db8:2::1/64, MTU 1400; no default route.
pub(crate) fn router() -> Router {
    let mut ifs = Interfaces::new();
    ifs.add(Interface::new("em0", 1, R0, 1500).unwrap())
        .unwrap();
    ifs.add(Interface::new("em1", 2, R1, 1400).unwrap())
        .unwrap();
    ifs.add_addr(1, ip("192.0.2.1"), 24).unwrap();
    ifs.add_addr(1, ip("2001:db8:1::1"), 64).unwrap();
    ifs.add_addr(2, ip("198.51.100.1"), 24).unwrap();
    ifs.add_addr(2, ip("2001:db8:2::1"), 64).unwrap();
    Router::new(ifs, RouterConfig::default())
}

fn pd(frame: &[u8]) -> Pdesc {
    match parse_frame(frame, Link::Ethernet).unwrap() {
        Parsed::Ip(pd) => pd,
        Parsed::NonIp { .. } => panic!("not IP"),
    }
}

fn frames(tx: &[Tx]) -> Vec<(u32, &[u8])> {
    tx.iter().map(|t| (t.ifindex, &t.frame[..])).collect()
}

/// Both hosts known, as after ARP and ND.
fn learned(r: &mut Router) {
    for (i, a, m) in [
        (1, "192.0.2.10", HA),
        (1, "2001:db8:1::10", HA),
        (2, "198.51.100.20", HB),
        (2, "2001:db8:2::20", HB),
    ] {
        r.neighbors.learn(i, ip(a), m, Learn::Reachable, true, 0);
    }
}
