//! pfctl's printer: rules, tables and queues exactly as `pfctl -nv`
//! prints them, and the loaded ruleset in load order.

use crate::addr::{AddrWrap, Af};
use crate::hostenv::HostEnv;
use crate::icmp;
use crate::parse::Parsed;
use crate::print_addr::print_addr;
use crate::rule::*;
use crate::ruleset::{Bandwidth, QueueSpec, ServiceCurve, TableDef, TableInit};
use std::collections::HashSet;
use std::fmt::Write;

const NAT_PORT_LOW: u16 = 50001;
const NAT_PORT_HIGH: u16 = 65535;
const TCP_FLAGS: &[u8; 8] = b"FSRPAUEW";

/// `table <name> [const] ... { ... }` line, as pfctl -v echoes it.
pub fn tabledef(t: &TableDef) -> String {
    let mut s = format!("table <{}>", t.name);
    if t.flags.constant {
        s.push_str(" const");
    }
    if t.flags.persist {
        s.push_str(" persist");
    }
    if t.flags.counters {
        s.push_str(" counters");
    }
    let mut i = 0;
    while i < t.init.len() {
        match &t.init[i] {
            TableInit::File(f) => {
                let _ = write!(s, " file \"{f}\"");
                i += 1;
            }
            TableInit::Hosts(_) => {
                s.push_str(" {");
                // Consecutive host lists print as one.
                while let Some(TableInit::Hosts(hosts)) = t.init.get(i) {
                    for h in hosts {
                        s.push_str(if h.not { " !" } else { " " });
                        print_addr(&mut s, &h.addr, h.af, false);
                        if let Some(ifn) = &h.ifname {
                            let _ = write!(s, "@{ifn}");
                        }
                    }
                    i += 1;
                }
                s.push_str(" }");
            }
        }
    }
    if t.init_addr && t.init.is_empty() {
        s.push_str(" { }");
    }
    s.push('\n');
    s
}

fn bwspec(s: &mut String, prefix: &str, bw: &Bandwidth) {
    if bw.percent != 0 {
        let _ = write!(s, "{prefix}{}%", bw.percent);
    } else if bw.absolute != 0 {
        let mut rate = bw.absolute;
        let units = [' ', 'K', 'M', 'G'];
        let mut i = 0;
        while rate >= 1000 && i <= 3 && rate.is_multiple_of(1000) {
            rate /= 1000;
            i += 1;
        }
        let u = units.get(i).copied().unwrap_or(' ');
        let _ = write!(
            s,
            "{prefix}{rate}{}",
            if u == ' ' {
                String::new()
            } else {
                u.to_string()
            }
        );
    }
}

fn scspec(s: &mut String, prefix: &str, sc: &ServiceCurve) {
    bwspec(s, prefix, &sc.m2);
    if sc.d != 0 {
        s.push_str(" burst ");
        bwspec(s, "", &sc.m1);
        let _ = write!(s, " for {}ms", sc.d);
    }
}

/// `queue ...` line.
pub fn queuespec(q: &QueueSpec) -> String {
    let mut s = format!("queue {}", q.name);
    if !q.parent.is_empty() {
        let _ = write!(s, " parent {}", q.parent);
    } else if !q.ifname.is_empty() {
        let _ = write!(s, " on {}", q.ifname);
    }
    if q.flowqueue {
        let _ = write!(s, " flows {}", q.flows);
        if q.quantum > 0 {
            let _ = write!(s, " quantum {}", q.quantum);
        }
    }
    if q.linkshare.m1.absolute != 0 || q.linkshare.m2.absolute != 0 {
        scspec(&mut s, " bandwidth ", &q.linkshare);
        scspec(&mut s, ", min ", &q.realtime);
        scspec(&mut s, ", max ", &q.upperlimit);
    }
    if q.default {
        s.push_str(" default");
    }
    if q.qlimit != 0 {
        let _ = write!(s, " qlimit {}", q.qlimit);
    }
    s.push('\n');
    s
}

fn op_text(s: &mut String, op: Op, a1: &str, a2: &str) {
    let _ = match op {
        Op::Irg => write!(s, " {a1} >< {a2}"),
        Op::Xrg => write!(s, " {a1} <> {a2}"),
        Op::Eq => write!(s, " = {a1}"),
        Op::Ne => write!(s, " != {a1}"),
        Op::Lt => write!(s, " < {a1}"),
        Op::Le => write!(s, " <= {a1}"),
        Op::Gt => write!(s, " > {a1}"),
        Op::Ge => write!(s, " >= {a1}"),
        Op::Rrg => write!(s, " {a1}:{a2}"),
        Op::None => Ok(()),
    };
}

fn port(s: &mut String, p: &PortRange) {
    s.push_str(" port");
    op_text(s, p.op, &p.a.to_string(), &p.b.to_string());
}

fn ugid(s: &mut String, u: &IdRange, what: &str) {
    let _ = write!(s, " {what}");
    let a1 = if u.a == ID_UNKNOWN && matches!(u.op, Op::Eq | Op::Ne) {
        "unknown".to_string()
    } else {
        u.a.to_string()
    };
    op_text(s, u.op, &a1, &u.b.to_string());
}

fn flags(s: &mut String, f: u8) {
    for (i, c) in TCP_FLAGS.iter().enumerate() {
        if f & (1 << i) != 0 {
            s.push(*c as char);
        }
    }
}

fn is_any(a: &AddrWrap) -> bool {
    match a {
        AddrWrap::Any => true,
        AddrWrap::AddrMask { addr, prefix } => *prefix == 0 && addr.is_unspecified(),
        _ => false,
    }
}

fn fromto(s: &mut String, r: &Rule) {
    if is_any(&r.src.addr)
        && is_any(&r.dst.addr)
        && !r.src.neg
        && !r.dst.neg
        && r.src.port.op == Op::None
        && r.dst.port.op == Op::None
        && r.os.is_none()
    {
        s.push_str(" all");
        return;
    }
    s.push_str(" from ");
    if r.src.neg {
        s.push_str("! ");
    }
    print_addr(s, &r.src.addr, r.af, false);
    if r.src.port.op != Op::None {
        port(s, &r.src.port);
    }
    if let Some(os) = &r.os {
        let _ = write!(s, " os \"{os}\"");
    }
    s.push_str(" to ");
    if r.dst.neg {
        s.push_str("! ");
    }
    print_addr(s, &r.dst.addr, r.af, false);
    if r.dst.port.op != Op::None {
        port(s, &r.dst.port);
    }
}

#[derive(PartialEq)]
enum PoolId {
    Route,
    Nat,
    Rdr,
}

fn pool(s: &mut String, p: &Pool, af: Option<Af>, id: PoolId) {
    let addr = p.addr.clone().unwrap_or(AddrWrap::Any);
    if let Some(ifn) = &p.ifname {
        if !is_any(&addr) {
            print_addr(s, &addr, af, false);
            s.push('@');
        }
        s.push_str(ifn);
    } else {
        print_addr(s, &addr, af, false);
    }
    let [p1, p2] = p.proxy_port;
    match id {
        PoolId::Nat => {
            if (p1 != NAT_PORT_LOW || p2 != NAT_PORT_HIGH) && (p1 != 0 || p2 != 0) {
                if p1 == p2 {
                    let _ = write!(s, " port {p1}");
                } else {
                    let _ = write!(s, " port {p1}:{p2}");
                }
            }
        }
        PoolId::Rdr => {
            if p1 != 0 {
                let _ = write!(s, " port {p1}");
                if p2 != 0 && p2 != p1 {
                    let _ = write!(s, ":{p2}");
                }
            }
        }
        PoolId::Route => {}
    }
    match p.kind {
        PoolType::None => {}
        PoolType::Bitmask => s.push_str(" bitmask"),
        PoolType::Random => s.push_str(" random"),
        PoolType::SourceHash => {
            let k = p.key;
            let _ = write!(
                s,
                " source-hash 0x{:08x}{:08x}{:08x}{:08x}",
                k[0], k[1], k[2], k[3]
            );
        }
        PoolType::RoundRobin => s.push_str(" round-robin"),
        PoolType::LeastStates => s.push_str(" least-states"),
    }
    if p.sticky {
        s.push_str(" sticky-address");
    }
    if id == PoolId::Nat && p1 == 0 && p2 == 0 {
        s.push_str(" static-port");
    }
}

/// `probability` as pfctl prints it: `%f` with trailing zeros removed.
fn probability(prob: u32) -> String {
    let v = f64::from(prob) * 100.0 / (f64::from(u32::MAX) + 1.0);
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0');
    s.trim_end_matches('.').to_string()
}

fn icmp_names(t: u16, af: Option<Af>) -> (u8, Option<&'static str>) {
    let ty = (t - 1) as u8;
    (ty, icmp::type_name(ty, af))
}

/// One rule without the trailing newline (pfctl's `print_rule`).
pub fn rule(r: &Rule, anchor_call: &str, env: &dyn HostEnv) -> String {
    let mut s = String::new();
    if !anchor_call.is_empty() {
        let unnamed = match anchor_call.rfind('/') {
            Some(i) => anchor_call[i + 1..].starts_with('_'),
            None => anchor_call.starts_with('_'),
        };
        if unnamed {
            s.push_str("anchor");
        } else {
            let _ = write!(s, "anchor \"{anchor_call}\"");
        }
    } else {
        s.push_str(match r.action {
            Action::Pass => "pass",
            Action::Block => "block",
            Action::Match => "match",
        });
    }
    if r.action == Action::Block {
        match r.block {
            BlockReturn::Return { .. } => s.push_str(" return"),
            BlockReturn::ReturnRst { ttl } => {
                if ttl == 0 {
                    s.push_str(" return-rst");
                } else {
                    let _ = write!(s, " return-rst(ttl {ttl})");
                }
            }
            BlockReturn::ReturnIcmp {
                icmp: i4,
                icmp6: i6,
            } => {
                let ic = icmp::code_name((i4 >> 8) as u8, (i4 & 255) as u8, Some(Af::Inet));
                let ic6 = icmp::code_name((i6 >> 8) as u8, (i6 & 255) as u8, Some(Af::Inet6));
                let n4 = ic
                    .map(str::to_string)
                    .unwrap_or_else(|| (i4 & 255).to_string());
                let n6 = ic6
                    .map(str::to_string)
                    .unwrap_or_else(|| (i6 & 255).to_string());
                let _ = match r.af {
                    Some(Af::Inet) => write!(s, " return-icmp({n4})"),
                    Some(Af::Inet6) => write!(s, " return-icmp6({n6})"),
                    None => write!(s, " return-icmp({n4}, {n6})"),
                };
            }
            BlockReturn::Drop => s.push_str(" drop"),
        }
    }
    match r.direction {
        Direction::In => s.push_str(" in"),
        Direction::Out => s.push_str(" out"),
        Direction::InOut => {}
    }
    if r.log.enabled {
        s.push_str(" log");
        if r.log.all || r.log.matches || r.log.user || r.log.logif != 0 {
            let mut parts: Vec<String> = Vec::new();
            if r.log.all {
                parts.push("all".into());
            }
            if r.log.matches {
                parts.push("matches".into());
            }
            if r.log.user {
                parts.push("user".into());
            }
            if r.log.logif != 0 {
                parts.push(format!("to pflog{}", r.log.logif));
            }
            let _ = write!(s, " ({})", parts.join(", "));
        }
    }
    if r.quick {
        s.push_str(" quick");
    }
    if let Some(ifn) = &r.ifname {
        let _ = write!(s, " on {}{ifn}", if r.ifnot { "! " } else { "" });
    }
    if let Some(d) = r.onrdomain {
        let _ = write!(s, " on {}rdomain {d}", if r.ifnot { "! " } else { "" });
    }
    if let Some(af) = r.af {
        let _ = write!(s, " {af}");
    }
    if r.proto != 0 {
        match env.protocol_name(r.proto) {
            Some(n) => {
                let _ = write!(s, " proto {n}");
            }
            None => {
                let _ = write!(s, " proto {}", r.proto);
            }
        }
    }
    fromto(&mut s, r);
    if let Some((ifn, not)) = &r.received_on {
        let _ = write!(s, " {}received-on {ifn}", if *not { "!" } else { "" });
    }
    if r.uid.op != Op::None {
        ugid(&mut s, &r.uid, "user");
    }
    if r.gid.op != Op::None {
        ugid(&mut s, &r.gid, "group");
    }
    if r.flags != 0 || r.flagset != 0 {
        s.push_str(" flags ");
        flags(&mut s, r.flags);
        s.push('/');
        flags(&mut s, r.flagset);
    } else if matches!(r.action, Action::Pass | Action::Match)
        && (r.proto == 0 || r.proto == 6)
        && !r.fragment
        && anchor_call.is_empty()
        && r.keep_state != KeepState::None
    {
        s.push_str(" flags any");
    }
    if r.icmp_type != 0 {
        let (ty, name) = icmp_names(r.icmp_type, r.af);
        s.push_str(if r.af != Some(Af::Inet6) {
            " icmp-type"
        } else {
            " icmp6-type"
        });
        match name {
            Some(n) => {
                let _ = write!(s, " {n}");
            }
            None => {
                let _ = write!(s, " {ty}");
            }
        }
        if r.icmp_code != 0 {
            let c = (r.icmp_code - 1) as u8;
            match icmp::code_name(ty, c, r.af) {
                Some(n) => {
                    let _ = write!(s, " code {n}");
                }
                None => {
                    let _ = write!(s, " code {c}");
                }
            }
        }
    }
    if let Some(t) = r.tos {
        if t != 0 {
            let _ = write!(s, " tos 0x{t:02x}");
        }
    }
    if let Some(p) = r.prio {
        let _ = write!(s, " prio {p}");
    }
    if r.max_pkt_rate.0 != 0 {
        let _ = write!(s, " max-pkt-rate {}/{}", r.max_pkt_rate.0, r.max_pkt_rate.1);
    }
    let set = &r.set;
    if set.prio.is_some() || set.queue.is_some() || set.tos.is_some() || set.delay.is_some() {
        let mut parts: Vec<String> = Vec::new();
        if let Some((a, b)) = set.prio {
            parts.push(if a == b {
                format!("prio {a}")
            } else {
                format!("prio({a}, {b})")
            });
        }
        if let Some((q, pq)) = &set.queue {
            parts.push(match pq {
                Some(pq) => format!("queue({q}, {pq})"),
                None => format!("queue {q}"),
            });
        }
        if let Some(t) = set.tos {
            parts.push(format!("tos 0x{t:02x}"));
        }
        if let Some(d) = set.delay {
            parts.push(format!("delay {d}"));
        }
        let _ = write!(s, " set ({})", parts.join(", "));
    }
    let st = &r.state;
    let ropts = st.max_states != 0
        || st.max_src_nodes != 0
        || st.max_src_states != 0
        || st.no_sync
        || st.src_track != SrcTrack::None
        || st.if_bound
        || st.sloppy
        || st.pflow
        || st.timeouts.iter().any(|&t| t != 0);
    if r.keep_state == KeepState::None && r.action == Action::Pass && anchor_call.is_empty() {
        s.push_str(" no state");
    } else if r.keep_state == KeepState::Keep && ropts {
        s.push_str(" keep state");
    } else if r.keep_state == KeepState::Modulate {
        s.push_str(" modulate state");
    } else if r.keep_state == KeepState::Synproxy {
        s.push_str(" synproxy state");
    }
    if r.prob != 0 {
        let _ = write!(s, " probability {}%", probability(r.prob));
    }
    if ropts {
        let mut parts: Vec<String> = Vec::new();
        if st.max_states != 0 {
            parts.push(format!("max {}", st.max_states));
        }
        if st.no_sync {
            parts.push("no-sync".into());
        }
        match st.src_track {
            SrcTrack::Rule => parts.push("source-track rule".into()),
            SrcTrack::Global => parts.push("source-track global".into()),
            SrcTrack::None => {}
        }
        if st.max_src_states != 0 {
            parts.push(format!("max-src-states {}", st.max_src_states));
        }
        if st.max_src_conn != 0 {
            parts.push(format!("max-src-conn {}", st.max_src_conn));
        }
        if st.max_src_conn_rate.0 != 0 {
            parts.push(format!(
                "max-src-conn-rate {}/{}",
                st.max_src_conn_rate.0, st.max_src_conn_rate.1
            ));
        }
        if st.max_src_nodes != 0 {
            parts.push(format!("max-src-nodes {}", st.max_src_nodes));
        }
        if let Some(t) = &st.overload_table {
            let mut o = format!("overload <{t}>");
            if st.flush {
                o.push_str(" flush");
            }
            if st.flush_global {
                o.push_str(" global");
            }
            parts.push(o);
        }
        if st.if_bound {
            parts.push("if-bound".into());
        }
        if st.sloppy {
            parts.push("sloppy".into());
        }
        if st.pflow {
            parts.push("pflow".into());
        }
        for (i, &t) in st.timeouts.iter().enumerate() {
            if t != 0 {
                parts.push(format!("{} {t}", TIMEOUT_NAMES[i]));
            }
        }
        let _ = write!(s, " ({})", parts.join(", "));
    }
    if r.fragment {
        s.push_str(" fragment");
    }
    let sc = &r.scrub;
    if sc.no_df || sc.random_id || sc.reassemble_tcp || sc.min_ttl != 0 || sc.max_mss != 0 {
        let mut parts: Vec<String> = Vec::new();
        if sc.no_df {
            parts.push("no-df".into());
        }
        if sc.random_id {
            parts.push("random-id".into());
        }
        if sc.min_ttl != 0 {
            parts.push(format!("min-ttl {}", sc.min_ttl));
        }
        if sc.reassemble_tcp {
            parts.push("reassemble tcp".into());
        }
        if sc.max_mss != 0 {
            parts.push(format!("max-mss {}", sc.max_mss));
        }
        let _ = write!(s, " scrub ({})", parts.join(" "));
    }
    if r.allow_opts {
        s.push_str(" allow-opts");
    }
    if !r.label.is_empty() {
        let _ = write!(s, " label \"{}\"", r.label);
    }
    if r.once {
        s.push_str(" once");
    }
    if !r.tag.is_empty() {
        let _ = write!(s, " tag {}", r.tag);
    }
    if !r.tagged.is_empty() {
        if r.tagged_not {
            s.push_str(" !");
        }
        let _ = write!(s, " tagged {}", r.tagged);
    }
    if let Some(t) = r.rtable {
        let _ = write!(s, " rtable {t}");
    }
    match &r.divert {
        Divert::None => {}
        Divert::To { addr, port } => {
            s.push_str(" divert-to ");
            crate::print_addr::write_ip(&mut s, *addr);
            let _ = write!(s, " port {port}");
        }
        Divert::Reply => s.push_str(" divert-reply"),
        Divert::Packet { port } => {
            let _ = write!(s, " divert-packet port {port}");
        }
    }
    if anchor_call.is_empty() {
        if r.nat.addr.is_some() && r.afto {
            let naf = r.naf.or(r.af);
            let _ = write!(
                s,
                " af-to {} from ",
                if r.naf == Some(Af::Inet) {
                    "inet"
                } else {
                    "inet6"
                }
            );
            pool(&mut s, &r.nat, naf, PoolId::Nat);
            if r.rdr.addr.is_some() {
                s.push_str(" to ");
                pool(&mut s, &r.rdr, naf, PoolId::Rdr);
            }
        } else if r.nat.addr.is_some() {
            s.push_str(" nat-to ");
            pool(&mut s, &r.nat, r.naf.or(r.af), PoolId::Nat);
        } else if r.rdr.addr.is_some() {
            s.push_str(" rdr-to ");
            pool(&mut s, &r.rdr, r.af, PoolId::Rdr);
        }
    }
    if r.route_kind != RouteKind::None {
        s.push_str(match r.route_kind {
            RouteKind::RouteTo => " route-to",
            RouteKind::ReplyTo => " reply-to",
            _ => " dup-to",
        });
        s.push(' ');
        pool(&mut s, &r.route, r.af, PoolId::Route);
    }
    s
}

/// What pfctl -nv prints after a successful parse: queues, then the rules
/// with inline anchors nested in braces.
pub fn loaded(p: &Parsed, env: &dyn HostEnv) -> String {
    let mut out = String::new();
    fn queue_tree(out: &mut String, q: &QueueSpec) {
        out.push_str(&queuespec(q));
        for c in &q.children {
            queue_tree(out, c);
        }
    }
    for q in &p.ruleset.queues {
        queue_tree(&mut out, q);
    }
    let mut printed = HashSet::new();
    ruleset_rules(&mut out, &p.ruleset.rules, p, env, 0, &mut printed);
    out
}

fn ruleset_rules(
    out: &mut String,
    rules: &[Rule],
    p: &Parsed,
    env: &dyn HostEnv,
    depth: usize,
    printed: &mut HashSet<String>,
) {
    for r in rules {
        for _ in 0..depth {
            out.push_str("  ");
        }
        let call = match &r.anchor {
            Some(a) if a.inline_rules => a.name.clone(),
            Some(a) => a.path.clone(),
            None => String::new(),
        };
        out.push_str(&rule(r, &call, env));
        match &r.anchor {
            Some(a) => {
                // pfctl consumes an anchor's rules when it loads them, so
                // only the first rule calling it shows them.
                let body = p
                    .anchors
                    .get(&a.path)
                    .filter(|v| !v.is_empty() && !printed.contains(&a.path));
                match body {
                    Some(inner) => {
                        printed.insert(a.path.clone());
                        out.push_str(" {\n");
                        ruleset_rules(out, inner, p, env, depth + 1, printed);
                        for _ in 0..depth {
                            out.push_str("  ");
                        }
                        out.push_str("}\n");
                    }
                    None => out.push('\n'),
                }
            }
            None => out.push('\n'),
        }
    }
}
