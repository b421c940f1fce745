//! `netstat -s -p carp` (`carp_stats` in usr.bin/netstat/inet.c): the
//! same lines, in the same order, with netstat's plurals; `-ss` leaves
//! out the counters at zero.

use carp::CarpStats;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;

/// How a line is printed: `Plural` fills netstat's `%s` with "s" unless
/// the count is 1; `Bare` prints the number only (netstat's `p2`).
enum Form {
    Plural(&'static str, &'static str),
    Bare(&'static str),
}

fn lines(s: &CarpStats) -> [(u64, Form); 15] {
    use Form::{Bare, Plural};
    [
        (s.ipackets, Plural("\t", " packet%s received (IPv4)")),
        (s.ipackets6, Plural("\t", " packet%s received (IPv6)")),
        (
            s.badif,
            Plural("\t\t", " packet%s discarded for bad interface"),
        ),
        (
            s.badttl,
            Plural("\t\t", " packet%s discarded for wrong TTL"),
        ),
        (s.hdrops, Plural("\t\t", " packet%s shorter than header")),
        (s.badsum, Plural("\t\t", " discarded for bad checksum%s")),
        (
            s.badver,
            Plural("\t\t", " discarded packet%s with a bad version"),
        ),
        (s.badlen, Bare("\t\t%u discarded because packet too short")),
        (s.badauth, Bare("\t\t%u discarded for bad authentication")),
        (s.badvhid, Bare("\t\t%u discarded for unknown vhid")),
        (
            s.badaddrs,
            Bare("\t\t%u discarded because of a bad address list"),
        ),
        (s.opackets, Plural("\t", " packet%s sent (IPv4)")),
        (s.opackets6, Plural("\t", " packet%s sent (IPv6)")),
        (
            s.onomem,
            Bare("\t\t%u send failed due to mbuf memory error"),
        ),
        (s.preempt, Plural("\t", " transition%s to master")),
    ]
}

/// The text netstat prints, `carp:` first.
pub fn text(s: &CarpStats, hide_zero: bool) -> String {
    let mut t = String::from("carp:\n");
    for (v, form) in lines(s) {
        if hide_zero && v == 0 {
            continue;
        }
        let _ = match form {
            Form::Plural(indent, rest) => {
                let plural = if v == 1 { "" } else { "s" };
                writeln!(t, "{indent}{v}{}", rest.replace("%s", plural))
            }
            Form::Bare(fmt) => writeln!(t, "{}", fmt.replace("%u", &v.to_string())),
        };
    }
    t
}

/// Every counter by its `struct carpstats` name (without `carps_`),
/// and the adverts pfd dropped before CARP saw them (its queue full).
pub fn json(s: &CarpStats, queue_drops: u64) -> Value {
    let mut m: Map<String, Value> = carp::stats::NAMES
        .iter()
        .zip(s.to_array())
        .map(|(n, v)| (n.to_string(), json!(v)))
        .collect();
    m.insert("queue_drops".into(), json!(queue_drops));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netstat_lines_and_plurals() {
        let s = CarpStats {
            ipackets: 1,
            badttl: 2,
            badsum: 1,
            badvhid: 3,
            opackets: 12,
            preempt: 1,
            ..CarpStats::default()
        };
        assert_eq!(
            text(&s, false),
            "carp:\n\
             \t1 packet received (IPv4)\n\
             \t0 packets received (IPv6)\n\
             \t\t0 packets discarded for bad interface\n\
             \t\t2 packets discarded for wrong TTL\n\
             \t\t0 packets shorter than header\n\
             \t\t1 discarded for bad checksum\n\
             \t\t0 discarded packets with a bad version\n\
             \t\t0 discarded because packet too short\n\
             \t\t0 discarded for bad authentication\n\
             \t\t3 discarded for unknown vhid\n\
             \t\t0 discarded because of a bad address list\n\
             \t12 packets sent (IPv4)\n\
             \t0 packets sent (IPv6)\n\
             \t\t0 send failed due to mbuf memory error\n\
             \t1 transition to master\n"
        );
        assert_eq!(
            text(&s, true),
            "carp:\n\
             \t1 packet received (IPv4)\n\
             \t\t2 packets discarded for wrong TTL\n\
             \t\t1 discarded for bad checksum\n\
             \t\t3 discarded for unknown vhid\n\
             \t12 packets sent (IPv4)\n\
             \t1 transition to master\n"
        );
        let j = json(&s, 4);
        assert_eq!(j["badvhid"], 3);
        assert_eq!(j["preempt"], 1);
        assert_eq!(j["queue_drops"], 4);
    }
}
