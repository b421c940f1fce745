//! The compiled ruleset the packet engine evaluates: one flat rule array
//! per ruleset (main and each anchor) with pf's skip steps, names turned
//! into integer ids, tables built into lookup structures, and every
//! feature pfd will not enforce refused with its line.
//!
//! Lines in errors are `Rule.line`; the parser does not keep a file name
//! per rule, so errors carry lines only and [`CompileErrors::render`] /
//! [`CompileError::in_file`] take the file name from the caller.
//!
//! The main ruleset is always path "" (a file parsed into an anchor with
//! `ParseConfig.anchor` compiles as if it were the main ruleset).

mod anchors;
pub mod crule;
mod intern;
pub mod skip;
mod tables;
#[cfg(test)]
mod tests;
pub mod unsupported;

pub use crule::*;
pub use tables::TableKey;
pub use unsupported::{CompileError, CompileErrors, Feature};

use crate::addr::{AddrWrap, Af};
use crate::parse::Parsed;
use crate::rule::{Pool, Rule, RuleAddr, StateOpts};
use crate::ruleset::Options;
use crate::table::TableRadix;
use intern::Interner;
use std::collections::{BTreeMap, BTreeSet};
use tables::Tables;

/// One ruleset: the main one or an anchor's.
#[derive(Clone, Debug, Default)]
pub struct CompiledRuleset {
    /// Anchor path, "" for the main ruleset.
    pub path: String,
    /// False for an anchor only called (to be filled later, e.g. by
    /// `load anchor`) or only a parent of one: it starts empty.
    pub defined: bool,
    pub rules: Vec<CRule>,
    /// Direct child anchors, by path order: what a wildcard call runs.
    pub children: Vec<RulesetId>,
}

/// A whole compiled configuration.
#[derive(Clone, Debug, Default)]
pub struct Compiled {
    pub options: Options,
    /// `rulesets[0]` is the main ruleset; the rest are anchors by path.
    pub rulesets: Vec<CompiledRuleset>,
    pub ruleset_index: BTreeMap<String, RulesetId>,
    /// Indexed by [`TableId`].
    pub tables: Vec<TableRadix>,
    /// Name of each table, parallel to `tables`.
    pub table_keys: Vec<TableKey>,
    pub table_index: BTreeMap<TableKey, TableId>,
    /// Indexed by [`IfId`]: interface and interface group names.
    pub ifnames: Vec<String>,
    /// Indexed by [`TagId`].
    pub tags: Vec<String>,
    /// Indexed by [`LabelId`].
    pub labels: Vec<String>,
}

impl Compiled {
    pub fn ruleset(&self, path: &str) -> Option<&CompiledRuleset> {
        let id = self.ruleset_index.get(path)?;
        self.rulesets.get(id.0 as usize)
    }

    /// The table `<name>` as a rule in `anchor` sees it.
    pub fn table(&self, anchor: &str, name: &str) -> Option<TableId> {
        let key = |a: &str| TableKey {
            anchor: a.to_string(),
            name: name.to_string(),
        };
        self.table_index
            .get(&key(anchor))
            .or_else(|| self.table_index.get(&key("")))
            .copied()
    }

    pub fn if_id(&self, name: &str) -> Option<IfId> {
        let i = self.ifnames.iter().position(|n| n == name)?;
        Some(IfId(u32::try_from(i).ok()?))
    }

    pub fn tag_id(&self, name: &str) -> Option<TagId> {
        let i = self.tags.iter().position(|n| n == name)?;
        Some(TagId(u32::try_from(i).ok()?))
    }
}

/// Compile a parsed pf.conf. Every refused feature and unbuildable
/// table is reported, in ruleset order; nothing is returned then.
pub fn compile(p: &Parsed) -> Result<Compiled, CompileErrors> {
    let mut errors = Vec::new();
    for feature in unsupported::global_features(&p.ruleset) {
        errors.push(CompileError::Unsupported {
            anchor: String::new(),
            line: 0,
            feature,
        });
    }
    let mut c = Compiler {
        tables: Tables::from_defs(&p.ruleset.tables, &mut errors),
        ifnames: Interner::default(),
        tags: Interner::default(),
        labels: Interner::default(),
        index: ruleset_paths(p),
    };

    let mut rulesets: Vec<CompiledRuleset> = c
        .index
        .keys()
        .map(|path| CompiledRuleset {
            path: path.clone(),
            defined: path.is_empty() || p.anchors.contains_key(path),
            ..CompiledRuleset::default()
        })
        .collect();
    for (i, rs) in rulesets.iter_mut().enumerate() {
        let src: &[Rule] = if rs.path.is_empty() {
            &p.ruleset.rules
        } else {
            p.anchors.get(&rs.path).map_or(&[], Vec::as_slice)
        };
        for r in src {
            for feature in unsupported::rule_features(r) {
                errors.push(CompileError::Unsupported {
                    anchor: rs.path.clone(),
                    line: r.line,
                    feature,
                });
            }
            rs.rules.push(c.rule(&rs.path, r, p));
        }
        skip::calc_skip_steps(&mut rs.rules);
        debug_assert_eq!(c.index.get(&rs.path).map(|r| r.0 as usize), Some(i));
    }
    // Children from paths: every path's parent is in the index.
    for i in 1..rulesets.len() {
        let parent = anchors::parent(&rulesets[i].path).unwrap_or("");
        if let Some(pid) = c.index.get(parent) {
            let id = RulesetId(u32::try_from(i).unwrap_or(u32::MAX));
            rulesets[pid.0 as usize].children.push(id);
        }
    }

    if !errors.is_empty() {
        return Err(CompileErrors(errors));
    }
    Ok(Compiled {
        options: p.ruleset.options.clone(),
        rulesets,
        ruleset_index: c.index,
        tables: c.tables.radix,
        table_keys: c.tables.keys,
        table_index: c.tables.index,
        ifnames: c.ifnames.into_names(),
        tags: c.tags.into_names(),
        labels: c.labels.into_names(),
    })
}

/// Every ruleset path: main, inline anchors, call targets, and all their
/// parents (pf creates the whole path), numbered with main first and the
/// rest in path order.
fn ruleset_paths(p: &Parsed) -> BTreeMap<String, RulesetId> {
    fn add(path: String, paths: &mut BTreeSet<String>) {
        let mut cur = path;
        loop {
            let up = anchors::parent(&cur).map(str::to_string);
            paths.insert(cur);
            match up {
                Some(u) => cur = u,
                None => break,
            }
        }
    }
    let mut paths = BTreeSet::new();
    add(String::new(), &mut paths);
    let all = std::iter::once(("", &p.ruleset.rules))
        .chain(p.anchors.iter().map(|(k, v)| (k.as_str(), v)));
    for (path, rules) in all {
        add(path.to_string(), &mut paths);
        for r in rules {
            if let Some(call) = &r.anchor {
                add(anchors::target(path, call, &p.anchors).0, &mut paths);
            }
        }
    }
    // "" sorts first in a BTreeSet, so the main ruleset gets id 0.
    paths
        .into_iter()
        .enumerate()
        .map(|(i, path)| (path, RulesetId(u32::try_from(i).unwrap_or(u32::MAX))))
        .collect()
}

struct Compiler {
    tables: Tables,
    ifnames: Interner,
    tags: Interner,
    labels: Interner,
    index: BTreeMap<String, RulesetId>,
}

impl Compiler {
    fn rule(&mut self, anchor: &str, r: &Rule, p: &Parsed) -> CRule {
        let af = r.af;
        let tag = |s: &str, t: &mut Interner| (!s.is_empty()).then(|| TagId(t.id(s)));
        let actions = CRuleActions {
            block: r.block,
            state: self.state(anchor, &r.state),
            scrub: r.scrub.clone(),
            set_tos: r.set.tos,
            nat: self.pool(anchor, af, &r.nat),
            rdr: self.pool(anchor, af, &r.rdr),
            route: self.pool(anchor, af, &r.route),
            route_kind: r.route_kind,
            label: (!r.label.is_empty()).then(|| LabelId(self.labels.id(&r.label))),
        };
        CRule {
            skip: [0; SKIP_COUNT],
            if_id: r.ifname.as_deref().map(|n| IfId(self.ifnames.id(n))),
            ifnot: r.ifnot,
            direction: r.direction,
            onrdomain: r.onrdomain,
            af,
            proto: r.proto,
            src: self.endpoint(anchor, af, &r.src),
            dst: self.endpoint(anchor, af, &r.dst),
            uid: r.uid,
            gid: r.gid,
            flags: r.flags,
            flagset: r.flagset,
            icmp_type: plus_one(r.icmp_type),
            icmp_code: plus_one(r.icmp_code),
            tos: r.tos,
            prob: r.prob,
            tagged: tag(&r.tagged, &mut self.tags),
            tagged_not: r.tagged_not,
            fragment: r.fragment,
            allow_opts: r.allow_opts,
            action: r.action,
            quick: r.quick,
            log: r.log,
            keep_state: r.keep_state,
            once: r.once,
            tag: tag(&r.tag, &mut self.tags),
            anchor: r.anchor.as_ref().map(|call| {
                let (path, wildcard) = anchors::target(anchor, call, &p.anchors);
                AnchorRef {
                    // ruleset_paths added every target.
                    ruleset: self.index.get(&path).copied().unwrap_or(RulesetId(0)),
                    wildcard,
                }
            }),
            nr: r.nr,
            line: r.line,
            actions: Box::new(actions),
        }
    }

    fn endpoint(&mut self, anchor: &str, af: Option<Af>, a: &RuleAddr) -> CEndpoint {
        CEndpoint {
            addr: self.addr(anchor, af, &a.addr),
            neg: a.neg,
            port: a.port,
        }
    }

    fn addr(&mut self, anchor: &str, af: Option<Af>, a: &AddrWrap) -> CAddr {
        match a {
            AddrWrap::Any => CAddr::Any,
            AddrWrap::AddrMask { addr, prefix } => {
                let mask = prefix_mask(*prefix);
                if mask == 0 {
                    CAddr::Any
                } else {
                    CAddr::Net {
                        addr: addr_key(*addr) & mask,
                        mask,
                    }
                }
            }
            AddrWrap::Range { from, to } => CAddr::Range {
                from: addr_key(*from),
                to: addr_key(*to),
            },
            AddrWrap::DynIf {
                ifname,
                flags,
                prefix,
            } => {
                // pf names the dynamic table after the prefix and treats
                // a full-length prefix of the rule's family as none.
                let full = af.map_or(128, Af::bits);
                CAddr::DynIf {
                    if_id: IfId(self.ifnames.id(ifname)),
                    flags: *flags,
                    prefix: if *prefix >= full { 128 } else { *prefix },
                }
            }
            AddrWrap::Table { name } => CAddr::Table(self.tables.resolve(anchor, name)),
            AddrWrap::NoRoute => CAddr::NoRoute,
            AddrWrap::UrpfFailed => CAddr::UrpfFailed,
            // Refused by `unsupported`; the placeholder is never returned.
            AddrWrap::RouteLabel(_) => CAddr::NoRoute,
        }
    }

    fn pool(&mut self, anchor: &str, af: Option<Af>, p: &Pool) -> Option<CPool> {
        if p.addr.is_none() && p.ifname.is_none() {
            return None;
        }
        Some(CPool {
            addr: p
                .addr
                .as_ref()
                .map_or(CAddr::Any, |a| self.addr(anchor, af, a)),
            if_id: p.ifname.as_deref().map(|n| IfId(self.ifnames.id(n))),
            proxy_port: p.proxy_port,
            port_op: p.port_op,
            kind: p.kind,
            sticky: p.sticky,
            key: p.key,
        })
    }

    fn state(&mut self, anchor: &str, s: &StateOpts) -> CStateOpts {
        CStateOpts {
            max_states: s.max_states,
            max_src_nodes: s.max_src_nodes,
            max_src_states: s.max_src_states,
            max_src_conn: s.max_src_conn,
            max_src_conn_rate: s.max_src_conn_rate,
            overload: s
                .overload_table
                .as_deref()
                .map(|t| self.tables.resolve(anchor, t)),
            flush: s.flush,
            flush_global: s.flush_global,
            src_track: s.src_track,
            no_sync: s.no_sync,
            if_bound: s.if_bound,
            sloppy: s.sloppy,
            timeouts: s.timeouts,
        }
    }
}

/// pf's "value + 1, 0 for none" encoding as an `Option`.
fn plus_one(v: u16) -> Option<u8> {
    v.checked_sub(1).and_then(|x| u8::try_from(x).ok())
}
