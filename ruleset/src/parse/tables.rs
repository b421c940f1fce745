//! `table` definitions, the automatic tables made for address pools, and
//! `queue` definitions.

use super::{Abort, Parser, R};
use crate::addr::{AddrWrap, Af, NodeHost};
use crate::lexer::Tok;
use crate::print;
use crate::ruleset::{Bandwidth, QueueSpec, ServiceCurve, TableDef, TableFlags, TableInit};
use crate::table::TableAddr;

impl<'a> Parser<'a> {
    pub(super) fn tabledef(&mut self) -> R<()> {
        self.expect_kw("table")?;
        self.expect(b'<')?;
        let name = self.string()?;
        self.expect(b'>')?;
        let mut flags = TableFlags::default();
        let mut init = Vec::new();
        let mut init_addr = false;
        loop {
            match self.peek().clone() {
                Tok::Str(s) => {
                    self.bump();
                    match s.as_str() {
                        "const" => flags.constant = true,
                        "persist" => flags.persist = true,
                        "counters" => flags.counters = true,
                        _ => return self.fail(format!("invalid table option '{s}'")),
                    }
                }
                Tok::Char(b'{') => {
                    self.bump();
                    self.optnl();
                    init_addr = true;
                    if self.eat(b'}') {
                        continue;
                    }
                    let hosts = self.table_host_list()?;
                    for n in &hosts {
                        let msg = match n.addr {
                            AddrWrap::AddrMask { .. } => continue,
                            AddrWrap::Range { .. } => {
                                "address ranges are not permitted inside tables"
                            }
                            AddrWrap::DynIf { .. } => {
                                "dynamic addresses are not permitted inside tables"
                            }
                            AddrWrap::Table { .. } => "tables cannot contain tables",
                            AddrWrap::NoRoute => "\"no-route\" is not permitted inside tables",
                            AddrWrap::UrpfFailed => {
                                "\"urpf-failed\" is not permitted inside tables"
                            }
                            _ => "unknown address type",
                        };
                        return self.fail(msg);
                    }
                    init.push(TableInit::Hosts(hosts));
                }
                Tok::Kw("file") => {
                    self.bump();
                    let f = self.string()?;
                    init.push(TableInit::File(f));
                    init_addr = true;
                }
                _ => break,
            }
        }
        self.at_end()?;
        if name.len() >= 32 {
            return self.fail("table name too long, max 31 chars");
        }
        // Load every source now, as pfctl's process_tabledef.
        let mut entries: Vec<TableAddr> = Vec::new();
        for i in &init {
            match i {
                TableInit::File(f) => {
                    match crate::table::load_table_file(std::path::Path::new(f), self.env) {
                        Ok(v) => entries.extend(v),
                        Err(e) => {
                            for l in e.diagnostics() {
                                self.raw(l);
                            }
                            return self.fail(e.to_string());
                        }
                    }
                }
                TableInit::Hosts(h) => entries.extend(h.iter().filter_map(table_addr)),
            }
        }
        let def = TableDef {
            name: name.clone(),
            anchor: self.current_anchor().to_string(),
            flags,
            init,
            init_addr,
            entries,
        };
        self.echo.push_str(&print::tabledef(&def));
        self.lex
            .warn(format!("skipping duplicate table checks for <{name}>"));
        self.tables.push(def);
        self.end()
    }

    /// `table_host_list`: hosts, `!`-negated, nested `{ }`, with weights.
    fn table_host_list(&mut self) -> R<Vec<NodeHost>> {
        let mut all = Vec::new();
        loop {
            if self.eat(b'{') {
                self.optnl();
                if self.list_depth >= super::LIST_DEPTH_MAX {
                    return Err(Abort::Syntax);
                }
                self.list_depth += 1;
                let inner = self.table_host_list();
                self.list_depth -= 1;
                all.extend(inner?);
            } else {
                let mut h = self.xhost()?;
                let w = self.optweight()?;
                if w > 0 {
                    h.iter_mut().for_each(|x| x.weight = w);
                }
                all.extend(h);
            }
            self.optnl();
            if self.eat(b'}') {
                return Ok(all);
            }
            self.comma();
        }
    }

    /// pfctl's `add_opt_table` + `print_tabledef`: a `const` table named
    /// `__automatic_N` holding a pool's addresses.
    pub(super) fn automatic_table(&mut self, hosts: &[NodeHost]) -> String {
        let name = format!("__automatic_{}", self.auto_tables);
        self.auto_tables += 1;
        let def = TableDef {
            name: name.clone(),
            anchor: self.current_anchor().to_string(),
            flags: TableFlags {
                constant: true,
                ..TableFlags::default()
            },
            init: vec![TableInit::Hosts(hosts.to_vec())],
            init_addr: true,
            entries: hosts.iter().filter_map(table_addr).collect(),
        };
        self.echo.push_str(&print::tabledef(&def));
        self.tables.push(def);
        name
    }

    pub(super) fn queuespec(&mut self) -> R<()> {
        self.expect_kw("queue")?;
        let name = self.string()?;
        let ifs = self.interface()?;
        let mut q = QueueSpec {
            name,
            ..QueueSpec::default()
        };
        let (mut bw, mut parent, mut default, mut qlimit, mut flows, mut quantum) =
            (false, false, false, false, false, false);
        let mut any = false;
        loop {
            match self.peek().clone() {
                Tok::Kw("bandwidth") => {
                    self.bump();
                    let ls = self.scspec()?;
                    let mut rt = ServiceCurve::default();
                    let mut ul = ServiceCurve::default();
                    for _ in 0..2 {
                        let save_comma = self.at(b',');
                        if save_comma {
                            self.bump();
                        }
                        if self.eat_kw("min") {
                            rt = self.scspec()?;
                        } else if self.eat_kw("max") {
                            ul = self.scspec()?;
                        } else if save_comma {
                            return Err(Abort::Syntax);
                        } else {
                            break;
                        }
                    }
                    if bw {
                        return self.fail("bandwidth cannot be respecified");
                    }
                    bw = true;
                    q.linkshare = ls;
                    q.realtime = rt;
                    q.upperlimit = ul;
                }
                Tok::Kw("parent") => {
                    self.bump();
                    let p = self.string()?;
                    if parent {
                        return self.fail("parent cannot be respecified");
                    }
                    parent = true;
                    q.parent = p;
                }
                Tok::Kw("default") => {
                    self.bump();
                    if default {
                        return self.fail("default cannot be respecified");
                    }
                    default = true;
                    q.default = true;
                }
                Tok::Kw("qlimit") => {
                    self.bump();
                    let n = self.number()?;
                    if qlimit {
                        return self.fail("qlimit cannot be respecified");
                    }
                    if !(0..=65535).contains(&n) {
                        return self.fail("qlimit out of range: max 65535");
                    }
                    qlimit = true;
                    q.qlimit = n as u32;
                }
                Tok::Kw("flows") => {
                    self.bump();
                    let n = self.number()?;
                    if flows {
                        return self.fail("number of flows cannot be respecified");
                    }
                    if !(1..=32767).contains(&n) {
                        return self.fail("number of flows out of range: max 32767");
                    }
                    flows = true;
                    q.flowqueue = true;
                    q.flows = n as u32;
                }
                Tok::Kw("quantum") => {
                    self.bump();
                    let n = self.number()?;
                    if quantum {
                        return self.fail("quantum cannot be respecified");
                    }
                    if !(1..=65535).contains(&n) {
                        return self.fail("quantum out of range: max 65535");
                    }
                    quantum = true;
                    q.quantum = n as u32;
                }
                _ => break,
            }
            any = true;
        }
        if !any {
            return Err(Abort::Syntax);
        }
        self.at_end()?;
        if ifs.is_empty() && !parent {
            return self.fail("root queue without interface");
        }
        if let Some(i) = ifs.first() {
            if self.env.interface(&i.ifname).is_none() {
                return self.fail("not an interface");
            }
        }
        if !parent && bw {
            q.rootclass = true;
        }
        if !bw && !flows {
            return self.fail("no bandwidth or flow specification");
        }
        let targets: Vec<String> = if ifs.is_empty() {
            vec![String::new()]
        } else {
            ifs.iter().map(|i| i.ifname.clone()).collect()
        };
        for ifname in targets {
            let mut qs = q.clone();
            qs.ifname = ifname;
            if !self.current_anchor().is_empty() {
                self.raw("must not have queue definitions in an anchor");
                return self.fail("cannot add queue");
            }
            if qs.parent.is_empty() {
                if self.root_queues.iter().any(|r| r.ifname == qs.ifname) {
                    self.raw(format!("A root queue is already defined on {}", qs.ifname));
                    return self.fail("cannot add queue");
                }
                self.root_queues.push(qs);
            } else {
                self.child_queues.push(qs);
            }
        }
        self.end()
    }

    fn scspec(&mut self) -> R<ServiceCurve> {
        let m2 = self.bandwidth()?;
        let mut sc = ServiceCurve {
            m2,
            ..ServiceCurve::default()
        };
        if self.eat_kw("burst") {
            sc.m1 = self.bandwidth()?;
            self.expect_kw("for")?;
            let s = self.string()?;
            let Some(ms) = s.strip_suffix("ms").and_then(|x| x.parse::<u32>().ok()) else {
                return self.fail("time in scspec must be in ms");
            };
            sc.d = ms;
        }
        if sc.m1.percent != 0 || sc.m2.percent != 0 {
            return self.fail("no bandwidth in % yet");
        }
        Ok(sc)
    }

    fn bandwidth(&mut self) -> R<Bandwidth> {
        match self.bump() {
            Tok::Num(n) => {
                if n < 0 {
                    return self.fail("bandwidth number too big");
                }
                Ok(Bandwidth {
                    absolute: n as u64,
                    percent: 0,
                })
            }
            Tok::Str(s) => {
                let split = s
                    .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                    .unwrap_or(s.len());
                let (num, unit) = s.split_at(split);
                let mut bps: f64 = num.parse().unwrap_or(0.0);
                let unit = match unit {
                    u if u.is_ascii()
                        && u.len() > 1
                        && matches!(&u[1..], "Bit" | "B" | "bit" | "b") =>
                    {
                        &u[..1]
                    }
                    u => u,
                };
                match unit {
                    "" | "b" => {}
                    "K" => bps *= 1000.0,
                    "M" => bps *= 1_000_000.0,
                    "G" => bps *= 1_000_000_000.0,
                    "%" => {
                        if !(0.0..=100.0).contains(&bps) {
                            return self.fail("bandwidth spec out of range");
                        }
                        return Ok(Bandwidth {
                            absolute: 0,
                            percent: bps as u32,
                        });
                    }
                    u => return self.fail(format!("unknown unit \"{u}\"")),
                }
                Ok(Bandwidth {
                    absolute: bps as u64,
                    percent: 0,
                })
            }
            _ => Err(Abort::Syntax),
        }
    }

    /// Build the queue tree and check it as pfctl does before loading.
    pub(super) fn check_queues(&mut self) {
        let mut children = std::mem::take(&mut self.child_queues);
        let mut matched = vec![false; children.len()];
        let mut roots = std::mem::take(&mut self.root_queues);
        for root in &mut roots {
            let fl = attach_children(root, &mut children, &mut matched);
            if !root.rootclass && !root.children.is_empty() {
                if root.flowqueue {
                    self.raw(format!(
                        "pfctl: root queue {} doesn't support hierarchy",
                        root.name
                    ));
                } else {
                    self.raw(format!(
                        "pfctl: no bandwidth was specified for root queue {}",
                        root.name
                    ));
                }
                self.lex.nerrors += 1;
            }
            if root.rootclass && !fl {
                self.raw("pfctl: no default queue specified");
                self.lex.nerrors += 1;
            }
        }
        for (i, q) in children.iter().enumerate() {
            if !matched[i] {
                self.raw(format!(
                    "pfctl: queue {}: parent {} not found",
                    q.name, q.parent
                ));
                self.lex.nerrors += 1;
            } else if q.linkshare.m1.absolute == 0 && q.linkshare.m2.absolute == 0 {
                self.raw(format!(
                    "pfctl: queue {}: no bandwidth was specified",
                    q.name
                ));
                self.lex.nerrors += 1;
            }
        }
        self.root_queues = roots;
        self.child_queues = children;
    }
}

/// Attach the queues whose parent is `q`, depth first; returns whether a
/// default queue is in the subtree.
fn attach_children(q: &mut QueueSpec, all: &mut [QueueSpec], matched: &mut [bool]) -> bool {
    let mut has_default = q.default;
    for i in 0..all.len() {
        if all[i].parent == q.name && (all[i].ifname.is_empty() || all[i].ifname == q.ifname) {
            matched[i] = true;
            let mut c = all[i].clone();
            c.ifname = q.ifname.clone();
            has_default |= attach_children(&mut c, all, matched);
            q.children.push(c);
        }
    }
    has_default
}

/// A table entry from a resolved host.
pub(crate) fn table_addr(h: &NodeHost) -> Option<TableAddr> {
    match &h.addr {
        AddrWrap::AddrMask { addr, prefix } => Some(TableAddr {
            addr: *addr,
            prefix: (*prefix).min(h.af.unwrap_or(Af::Inet6).bits()),
            negated: h.not,
            ifname: h.ifname.clone(),
            weight: h.weight,
        }),
        _ => None,
    }
}
