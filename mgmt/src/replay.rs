//! `pfd replay`: run the packet engine over a capture taken on one
//! interface, with the capture's timestamps as the engine's clock, and
//! write what it decided for each packet. This is how an operator tries a
//! ruleset on real traffic before deploying it, and how the tests drive
//! the engine end to end.

use dataplane::engine::{Engine, EngineConfig, IfConfig, Packet, Toward, Verdict};
use dataplane::pcap::{PcapReader, PcapWriter, LINKTYPE_ETHERNET, LINKTYPE_RAW};
use dataplane::pdesc::Dir;
use dataplane::pflog::PflogWriter;
use dataplane::wire::frame::Link;
use serde_json::{json, Value};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::net::IpAddr;

/// How the replay tells inbound packets from outbound ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inbound {
    /// Source address in one of these networks.
    From(Vec<(IpAddr, u8)>),
    /// Ethernet destination is the firewall's own MAC (or broadcast /
    /// multicast not sent by it).
    Mac([u8; 6]),
}

pub struct ReplayArgs {
    pub rules: String,
    pub pcap: String,
    pub ifname: String,
    pub if_addrs: Vec<(IpAddr, u8)>,
    /// Interface groups beyond the driver's (`egress`, `group NAME`).
    pub groups: Vec<String>,
    pub out: Option<String>,
    pub verdicts: String,
    pub pflog: Option<String>,
    pub replies: Option<String>,
    /// Write rule, state and drop-reason counters as JSON at the end.
    pub summary: Option<String>,
    pub inbound: Inbound,
    pub seed: u64,
}

/// What a replay did, for the summary line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub packets: u64,
    pub passed: u64,
    pub blocked: u64,
    pub held: u64,
    pub states: usize,
    /// Reassembled IPv6 packets pf passed that could not be cut back
    /// into fragments (not written to `--out`).
    pub refrag_failed: u64,
}

use crate::net::in_net;
pub use crate::net::parse_net;

pub fn parse_mac(s: &str) -> Result<[u8; 6], String> {
    let mut mac = [0u8; 6];
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return Err(format!("{s}: not a MAC address"));
    }
    for (m, p) in mac.iter_mut().zip(parts) {
        *m = u8::from_str_radix(p, 16).map_err(|_| format!("{s}: not a MAC address"))?;
    }
    Ok(mac)
}

/// The source address of an IPv4/IPv6 packet in `frame`, if any.
fn frame_src(frame: &[u8], link: Link) -> Option<IpAddr> {
    let mut off = 0usize;
    if link == Link::Ethernet {
        let mut et = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
        off = 14;
        while et == 0x8100 || et == 0x88a8 {
            et = u16::from_be_bytes([*frame.get(off + 2)?, *frame.get(off + 3)?]);
            off += 4;
        }
        if et != 0x0800 && et != 0x86dd {
            return None;
        }
    }
    let ip = frame.get(off..)?;
    match ip.first()? >> 4 {
        4 => {
            let b: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            Some(IpAddr::from(b))
        }
        6 => {
            let b: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            Some(IpAddr::from(b))
        }
        _ => None,
    }
}

fn direction(inbound: &Inbound, frame: &[u8], link: Link) -> Dir {
    match inbound {
        Inbound::From(nets) => match frame_src(frame, link) {
            Some(ip) if nets.iter().any(|n| in_net(ip, n)) => Dir::In,
            _ => Dir::Out,
        },
        Inbound::Mac(mac) => {
            let dst = frame.get(0..6);
            let src = frame.get(6..12);
            let to_us = dst == Some(&mac[..]);
            let group = dst.is_some_and(|d| d[0] & 1 == 1) && src != Some(&mac[..]);
            if to_us || group {
                Dir::In
            } else {
                Dir::Out
            }
        }
    }
}

/// One line of the verdicts file.
pub fn verdict_json(engine: &Engine, index: u64, ts_ns: u64, dir: Dir, v: &Verdict) -> Value {
    let nat = v.nat.map(|n| {
        json!({
            "src": n.src.ip().to_string(),
            "sport": n.src.port,
            "dst": n.dst.ip().to_string(),
            "dport": n.dst.port,
        })
    });
    let mut o = json!({
        "index": index,
        "ts": format!("{}.{:09}", ts_ns / 1_000_000_000, ts_ns % 1_000_000_000),
        "dir": if dir == Dir::In { "in" } else { "out" },
        "action": v.action.name(),
        "rule": v.rule.as_ref().map(|r| r.nr),
        "state": v.state.name(),
        "reason": (v.action == dataplane::engine::Action::Block).then(|| v.reason.name()),
        "nat": nat,
        "log": v.log.is_some(),
    });
    if let (Some(r), Some(map)) = (&v.rule, o.as_object_mut()) {
        let path = engine
            .compiled()
            .rulesets
            .get(r.ruleset.0 as usize)
            .map_or("", |rs| rs.path.as_str());
        if !path.is_empty() {
            map.insert("anchor".into(), json!(path));
        }
    }
    if let Some(map) = o.as_object_mut() {
        if v.replies().next().is_some() {
            map.insert("reply".into(), json!(true));
        }
        if !v.emit.is_empty() {
            let to: Vec<&str> = v.emit.iter().map(|e| e.toward.name()).collect();
            map.insert("emit".into(), json!(to));
        }
        // The interface is the one the routing table reaches the next
        // hop by (OpenBSD since 6.9); the replay has none, so it
        // reports where the packet would be sent, not by which port.
        if let Some(r) = &v.route {
            map.insert(
                "route".into(),
                json!({ "kind": r.kind_name(), "next_hop": r.next_hop.to_string() }),
            );
        }
    }
    o
}

/// Run the replay. `Err` is a message for the operator.
pub fn run(args: &ReplayArgs, env: &dyn ruleset::hostenv::HostEnv) -> Result<Summary, String> {
    let compiled = crate::load::load_ruleset(&args.rules, env)?;
    let f = File::open(&args.pcap).map_err(|e| format!("{}: {e}", args.pcap))?;
    let mut reader =
        PcapReader::new(BufReader::new(f)).map_err(|e| format!("{}: {e}", args.pcap))?;
    let (link, link_type) = match reader.link_type() {
        LINKTYPE_ETHERNET => (Link::Ethernet, LINKTYPE_ETHERNET),
        LINKTYPE_RAW => (Link::RawIp, LINKTYPE_RAW),
        t => {
            return Err(format!(
                "{}: link type {t} not supported (Ethernet or raw IP)",
                args.pcap
            ))
        }
    };
    let cfg = EngineConfig {
        interfaces: vec![IfConfig {
            name: args.ifname.clone(),
            addrs: args.if_addrs.clone(),
            groups: args.groups.clone(),
        }],
        link,
        seed: args.seed,
    };
    let engine = Engine::new(compiled, cfg).map_err(|e| e.render(&args.rules))?;
    let mut worker = engine.worker();

    let create = |p: &str| {
        File::create(p)
            .map(BufWriter::new)
            .map_err(|e| format!("{p}: {e}"))
    };
    let mut verdicts = create(&args.verdicts)?;
    let mut out = match &args.out {
        Some(p) => Some(PcapWriter::new(create(p)?, link_type).map_err(|e| format!("{p}: {e}"))?),
        None => None,
    };
    let mut replies = match &args.replies {
        Some(p) => Some(PcapWriter::new(create(p)?, link_type).map_err(|e| format!("{p}: {e}"))?),
        None => None,
    };
    let mut pflog = match &args.pflog {
        Some(p) => Some(PflogWriter::new(create(p)?).map_err(|e| format!("{p}: {e}"))?),
        None => None,
    };

    let mut sum = Summary::default();
    let mut index = 0u64;
    while let Some(rec) = reader
        .next_record()
        .map_err(|e| format!("{}: {e}", args.pcap))?
    {
        index += 1;
        let dir = direction(&args.inbound, &rec.data, link);
        let mut frame = rec.data;
        engine.expire(rec.ts_ns);
        let v = engine.process(
            &mut worker,
            rec.ts_ns,
            &mut Packet {
                frame: &mut frame,
                ifindex: 0,
                dir,
            },
        );
        sum.packets += 1;
        let mut line = verdict_json(&engine, index, rec.ts_ns, dir, &v);
        match v.action {
            dataplane::engine::Action::Pass => {
                sum.passed += 1;
                // what leaves: the packet, or the fragments pf cuts a
                // reassembled IPv6 packet back into (pf_refragment6)
                let leaving = match v.refrag {
                    None => Ok(vec![frame]),
                    Some(tag) => refragment(&frame, link, &tag),
                };
                let map = line.as_object_mut();
                match leaving {
                    Ok(frames) => {
                        if let (Some(map), Some(_)) = (map, v.refrag) {
                            map.insert("fragments".into(), json!(frames.len()));
                        }
                        if let Some(w) = out.as_mut() {
                            for f in &frames {
                                w.write(rec.ts_ns, f).map_err(|e| format!("--out: {e}"))?;
                            }
                        }
                    }
                    Err(e) => {
                        sum.refrag_failed += 1;
                        if let Some(map) = map {
                            map.insert("refragment_error".into(), json!(e.to_string()));
                        }
                    }
                }
            }
            dataplane::engine::Action::Block => sum.blocked += 1,
            dataplane::engine::Action::Held => sum.held += 1,
        }
        for e in &v.emit {
            let (w, what) = match e.toward {
                Toward::Sender => (replies.as_mut(), "--replies"),
                Toward::Onward => (out.as_mut(), "--out"),
            };
            if let Some(w) = w {
                w.write(rec.ts_ns, &e.frame)
                    .map_err(|err| format!("{what}: {err}"))?;
            }
        }
        if let (Some(l), Some(w)) = (&v.log, pflog.as_mut()) {
            w.log(rec.ts_ns, &l.record, &l.packet)
                .map_err(|e| format!("--pflog: {e}"))?;
        }
        writeln!(verdicts, "{line}").map_err(|e| format!("{}: {e}", args.verdicts))?;
    }
    verdicts
        .flush()
        .map_err(|e| format!("{}: {e}", args.verdicts))?;
    sum.states = engine.state_count();
    if let Some(p) = &args.summary {
        let text = summary_json(&engine, &worker, &sum).to_string();
        std::fs::write(p, text + "\n").map_err(|e| format!("{p}: {e}"))?;
    }
    Ok(sum)
}

/// The fragments of the reassembled IPv6 packet in `frame`.
fn refragment(
    frame: &[u8],
    link: Link,
    tag: &dataplane::frag::Refrag,
) -> Result<Vec<Vec<u8>>, dataplane::frag::RefragError> {
    match dataplane::wire::frame::parse_frame(frame, link) {
        Ok(dataplane::wire::frame::Parsed::Ip(pd)) => {
            dataplane::frag::refragment_frame(frame, usize::from(pd.l3_off), tag)
        }
        _ => Err(dataplane::frag::RefragError::Malformed),
    }
}

fn key_json(k: &dataplane::key::StateKey) -> Value {
    let ip = |a| dataplane::pdesc::key_to_ip(k.af, a).to_string();
    json!({
        "proto": k.proto,
        "addr": [ip(k.addr[0]), ip(k.addr[1])],
        "port": k.port,
    })
}

/// What `pfctl -si`, `-vsr` and `-vss` would show after the replay.
pub fn summary_json(engine: &Engine, w: &dataplane::engine::Worker, sum: &Summary) -> Value {
    use dataplane::eval::RuleRef;
    use ruleset::compile::RulesetId;
    let c = engine.compiled();
    let mut rules = Vec::new();
    for (ri, rs) in c.rulesets.iter().enumerate() {
        for (i, r) in rs.rules.iter().enumerate() {
            let rr = RuleRef {
                ruleset: RulesetId(ri as u32),
                index: i as u32,
            };
            let k = w.eval().counters(rr);
            rules.push(json!({
                "anchor": rs.path,
                "nr": r.nr,
                "line": r.line,
                "evaluations": k.evaluations,
                "packets": {"in": k.packets[0], "out": k.packets[1]},
                "bytes": {"in": k.bytes[0], "out": k.bytes[1]},
                "states": k.states_created,
            }));
        }
    }
    let states: Vec<Value> = engine
        .states()
        .states()
        .iter()
        .map(|s| {
            json!({
                "wire": key_json(&s.wire),
                "stack": key_json(&s.stack),
                "dir": if s.dir == Dir::In { "in" } else { "out" },
                "rule": engine.state_ref(s.rule)
                    .and_then(|r| engine.rules().get(r)).map(|r| r.nr),
                "packets": s.packets,
                "bytes": s.bytes,
                "src_state": s.src.state,
                "dst_state": s.dst.state,
            })
        })
        .collect();
    let reasons: serde_json::Map<String, Value> = dataplane::reason::Reason::ALL
        .iter()
        .filter(|r| w.reasons.get(**r) > 0)
        .map(|r| (r.name().to_string(), json!(w.reasons.get(*r))))
        .collect();
    let sc = engine.states().counters();
    let src_nodes: Vec<Value> = engine
        .states()
        .src_node_info()
        .iter()
        .map(|n| {
            json!({
                "addr": dataplane::pdesc::key_to_ip(n.af, n.addr).to_string(),
                "rule": engine.state_ref(n.rule)
                    .and_then(|r| engine.rules().get(r)).map(|r| r.nr),
                "states": n.states,
                "conn": n.conn,
                "expire": n.expire,
            })
        })
        .collect();
    let snc = engine.states().src_node_counters();
    let cookies = engine.syncookies().status();
    let mut added = serde_json::Map::new();
    for (i, key) in c.table_keys.iter().enumerate() {
        let hosts = engine.table_added(ruleset::compile::TableId(i as u32));
        if !hosts.is_empty() {
            let hosts: Vec<String> = hosts
                .iter()
                .map(|(af, a)| dataplane::pdesc::key_to_ip(*af, *a).to_string())
                .collect();
            added.insert(key.name.clone(), json!(hosts));
        }
    }
    json!({
        "packets": sum.packets,
        "passed": sum.passed,
        "blocked": sum.blocked,
        "held": sum.held,
        "refrag_failed": sum.refrag_failed,
        "reasons": reasons,
        "rules": rules,
        "states": states,
        "state_counters": {
            "inserts": sc.inserts,
            "removals": sc.removals,
            "limit": sc.limit,
            "collisions": sc.collisions,
        },
        "src_nodes": src_nodes,
        "syncookies": {
            "active": cookies.active,
            "inflight": cookies.inflight,
            "synfloods": cookies.counters.synfloods,
            "sent": cookies.counters.sent,
            "valid": cookies.counters.valid,
            "start": cookies.hiwat,
            "end": cookies.lowat,
        },
        "src_node_counters": {
            "inserts": snc.inserts,
            "removals": snc.removals,
            "limit_nodes": snc.limit_nodes,
            "limit_states": snc.limit_states,
            "limit_conn": snc.limit_conn,
            "limit_conn_rate": snc.limit_conn_rate,
            "overload_table": snc.overload_table,
            "overload_flush": snc.overload_flush,
        },
        "tables_added": added,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nets_and_macs_parse() {
        assert_eq!(parse_net("192.0.2.0/24").unwrap().1, 24);
        assert_eq!(parse_net("2001:db8::1").unwrap().1, 128);
        assert!(parse_net("192.0.2.0/33").is_err());
        assert!(parse_net("x").is_err());
        assert_eq!(parse_mac("02:00:00:00:00:0a").unwrap()[5], 10);
        assert!(parse_mac("02:00:00:00:00").is_err());
    }

    #[test]
    fn inbound_by_network() {
        let mut f = vec![0u8; 14 + 20];
        f[12] = 0x08;
        f[14] = 0x45;
        f[26..30].copy_from_slice(&[192, 0, 2, 7]);
        let nets = Inbound::From(vec![parse_net("192.0.2.0/24").unwrap()]);
        assert_eq!(direction(&nets, &f, Link::Ethernet), Dir::In);
        f[26] = 198;
        assert_eq!(direction(&nets, &f, Link::Ethernet), Dir::Out);
    }
}
