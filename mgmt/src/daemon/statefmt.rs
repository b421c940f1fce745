//! States as `pfctl -ss [-v[v]]` prints them (pf_print_state.c's
//! `print_state`).

use dataplane::pdesc::{key_to_ip, Dir};
use dataplane::state::{tcps, Peer, StateInfo, WSCALE_MASK};
use std::fmt::Write as _;
use std::net::IpAddr;

fn host(ip: IpAddr, port: u16) -> String {
    // pfctl's print_host: the port when there is one (ICMP's id too).
    match (ip, port) {
        (a, 0) => a.to_string(),
        (IpAddr::V4(a), p) => format!("{a}:{p}"),
        (IpAddr::V6(a), p) => format!("{a}[{p}]"),
    }
}

fn proto_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        58 => "ipv6-icmp".into(),
        n => n.to_string(),
    }
}

/// The two peers' states as pfctl prints them: TCP's by name, UDP's and
/// other protocols' by pf's names for them, ICMP's as numbers (it has
/// no state levels).
fn peer_states(proto: u8, src: u8, dst: u8) -> String {
    const TCP: [&str; 11] = [
        "CLOSED",
        "LISTEN",
        "SYN_SENT",
        "SYN_RCVD",
        "ESTABLISHED",
        "CLOSE_WAIT",
        "FIN_WAIT_1",
        "CLOSING",
        "LAST_ACK",
        "FIN_WAIT_2",
        "TIME_WAIT",
    ];
    const OTHER: [&str; 3] = ["NO_TRAFFIC", "SINGLE", "MULTIPLE"];
    if proto == 6 && (src == tcps::PROXY_SRC || dst == tcps::PROXY_SRC) {
        return "PROXY:SRC".into();
    }
    if proto == 6 && (src == tcps::PROXY_DST || dst == tcps::PROXY_DST) {
        return "PROXY:DST".into();
    }
    let names: &[&str] = match proto {
        6 => &TCP,
        1 | 58 => &[],
        _ => &OTHER,
    };
    match (names.get(usize::from(src)), names.get(usize::from(dst))) {
        (Some(a), Some(b)) => format!("{a}:{b}"),
        _ => format!("{src}:{dst}"),
    }
}

/// One state as `pfctl -ss` prints it: the stack-side key, with the
/// wire side in parentheses where translation made them differ, `->`
/// for an outbound state, `<-` for an inbound one.
pub fn state_line(s: &StateInfo) -> String {
    state_line_on(s, "all")
}

/// [`state_line`] for a state on `ifname`: `all` for a floating one,
/// the interface for one bound to it (pf's `s->kif`).
pub fn state_line_on(s: &StateInfo, ifname: &str) -> String {
    let (sk, nk, src, dst) = if s.dir == Dir::Out {
        (&s.stack, &s.wire, &s.src, &s.dst)
    } else {
        (&s.wire, &s.stack, &s.dst, &s.src)
    };
    let p = nk.proto;
    let side = |i: usize| {
        let n = host(key_to_ip(nk.af, nk.addr[i]), nk.port[i]);
        let w = host(key_to_ip(sk.af, sk.addr[i]), sk.port[i]);
        if n == w {
            n
        } else {
            format!("{n} ({w})")
        }
    };
    let arrow = if s.dir == Dir::Out { "->" } else { "<-" };
    format!(
        "{ifname} {} {} {arrow} {}       {}",
        proto_name(p),
        side(1),
        side(0),
        peer_states(p, src.state, dst.state)
    )
}

/// What `-v` adds to a state besides its line: who made it and when.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateExtra {
    /// The interface the state is bound to, or `all`.
    pub ifname: String,
    /// Now, in seconds on the clock the state table runs on.
    pub now: u64,
    /// The number of the rule that created it, if that rule is loaded.
    pub rule: Option<u32>,
}

fn hms(secs: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

fn seq(p: &Peer) -> String {
    let win = p.seqhi.wrapping_sub(p.seqlo);
    if p.seqdiff != 0 {
        format!("[{} + {win}](+{})", p.seqlo, p.seqdiff)
    } else {
        format!("[{} + {win}]", p.seqlo)
    }
}

/// One state as `pfctl -ss` prints it, with `-v` the sequence windows
/// (TCP) and the age, expiry, counters and rule line, with `-vv` the id
/// line; every line ends in a newline.
pub fn state_text(s: &StateInfo, verbose: u8, x: &StateExtra) -> String {
    let mut out = state_line_on(s, &x.ifname);
    out.push('\n');
    if verbose == 0 {
        return out;
    }
    let (src, dst) = if s.dir == Dir::Out {
        (&s.src, &s.dst)
    } else {
        (&s.dst, &s.src)
    };
    if s.wire.proto == 6 {
        let scaled = src.wscale != 0 && dst.wscale != 0;
        let ws = |p: &Peer| {
            if scaled {
                format!(" wscale {}", p.wscale & WSCALE_MASK)
            } else {
                String::new()
            }
        };
        let _ = writeln!(out, "   {}{}  {}{}", seq(src), ws(src), seq(dst), ws(dst));
    }
    let age = x.now.saturating_sub(u64::from(s.creation));
    let left = s.expires_at.saturating_sub(x.now);
    let _ = write!(
        out,
        "   age {}, expires in {}, {}:{} pkts, {}:{} bytes",
        hms(age),
        hms(left),
        s.packets[0],
        s.packets[1],
        s.bytes[0],
        s.bytes[1]
    );
    if let Some(nr) = x.rule {
        let _ = write!(out, ", rule {nr}");
    }
    if s.sloppy {
        out.push_str(", sloppy");
    }
    out.push('\n');
    if verbose >= 2 {
        let _ = writeln!(
            out,
            "   id: {:016x} creatorid: {:08x}",
            s.sync.id, s.sync.creator
        );
    }
    out
}
