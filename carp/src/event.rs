//! What the state machine hands the daemon: frames to send
//! ([`Transmit`]) and things to do or log ([`Event`]).

use crate::wire::HEADER_LEN;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// 224.0.0.18, the IPv4 CARP group.
pub const GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// ff02::12, the IPv6 CARP group (plain wire form; the kernel's scope
/// embedding is the sending socket's business).
pub const GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

/// Address family of an advert or a master-down timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    V4,
    V6,
}

/// A vhost's state (§5.1), numbered as OpenBSD's `carpr_states`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    Init = 0,
    Backup = 1,
    Master = 2,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Init => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
        })
    }
}

/// Why a vhost changed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The interface became runnable (up, addressed, carpdev up): INIT
    /// goes to BACKUP at once.
    Runnable,
    /// No longer runnable: interface down, no address, carpdev down.
    NotRunnable,
    /// A configuration change reset the vhost to INIT (§5.1).
    Reconfigured,
    /// The master-down timer of this family expired.
    MasterDown(Family),
    /// `net.inet.carp.preempt` and the master advertises slower.
    Preempt,
    /// The master is more demoted than we are.
    PeerDemoted,
    /// The master advertises so slowly it is certain to time out; this
    /// is how a bow-out advert (255/255) is honoured.
    PeerWillTimeOut,
    /// A master at least as preferred advertised: step down.
    PreferredMaster,
    /// `ifconfig carpN state master|backup`.
    Forced,
}

/// The carp interface's link state (current OpenBSD: UP if any vhost is
/// MASTER, DOWN if none is but some is BACKUP, INVALID otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Invalid,
    Down,
    Up,
}

/// One log line in OpenBSD's words (§7.3), already filtered by
/// `net.inet.carp.log`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// syslog priority (see [`crate::sysctl::priority`]).
    pub priority: u8,
    /// The carp interface the line is about; `None` prints as `carp: `.
    pub ifname: Option<String>,
    pub text: String,
}

impl fmt::Display for LogLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.ifname {
            Some(n) => write!(f, "{n}: {}", self.text),
            None => write!(f, "carp: {}", self.text),
        }
    }
}

/// Something the daemon must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A vhost changed state. On `to == Master` for the leader (and any
    /// vhost in a balancing mode) the daemon starts answering ARP/ND for
    /// the interface's addresses with [`crate::CarpInterface::lladdr`] and
    /// accepting frames to it; on leaving MASTER it stops. Run hooks here.
    StateChanged {
        ifname: String,
        vhid: u8,
        leader: bool,
        from: State,
        to: State,
        reason: Reason,
    },
    /// The carp interface's link state changed (`ifconfig` shows
    /// `status: master` / `backup` / `invalid`; routing daemons watch it).
    LinkState { ifname: String, state: LinkState },
    /// Send a gratuitous ARP request on `carpdev` for every address:
    /// Ethernet source and sender MAC `mac`, sender IP = target IP = the
    /// address, target MAC zero, to broadcast (§4.3).
    GratuitousArp {
        ifname: String,
        carpdev: String,
        mac: [u8; 6],
        addrs: Vec<Ipv4Addr>,
    },
    /// Send an unsolicited Neighbour Advertisement to ff02::1 for every
    /// address, Override flag set, Router flag if forwarding (§4.3).
    UnsolicitedNa {
        ifname: String,
        carpdev: String,
        mac: [u8; 6],
        addrs: Vec<Ipv6Addr>,
    },
    /// Log this line to syslog at its priority.
    Log(LogLine),
}

/// One advert to put on the wire: the daemon adds the IP header (source:
/// an address of `carpdev`, TTL/hop limit [`Transmit::ttl`], IPv4 TOS
/// 0x10, DF, random ID, protocol 112) and the Ethernet header (source
/// `src_mac`), then reports the outcome with
/// [`crate::CarpHost::report_send`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub ifname: String,
    pub carpdev: String,
    pub vhid: u8,
    pub family: Family,
    pub src_mac: [u8; 6],
    /// 224.0.0.18, the `carppeer` address, or ff02::12.
    pub dst: IpAddr,
    pub ttl: u8,
    /// The CARP header, checksummed and authenticated.
    pub payload: [u8; HEADER_LEN],
}
