//! `pfctl -sT [-v] [-a ANCHOR]`: the tables of a ruleset, with -v
//! print_table's flags column (`c`onst, `p`ersist, `a`ctive,
//! `i`nactive, `r`eferenced, referenced by an anc`h`or, `C`ounters);
//! and `pfctl -sI [-v]`: interfaces and groups, with -v `(skip)`.

use super::show::View;
use crate::control::{ErrorKind, Response};
use serde_json::json;

impl View {
    pub(super) fn show_interfaces(&self, verbose: u8) -> Response {
        if verbose >= 2 {
            return Response::error(
                ErrorKind::NotSupported,
                "not supported: -sI -vv (pfd keeps no per-interface pf counters)",
            );
        }
        // interfaces with their groups, the groups, and `all`
        let mut ifs: Vec<(String, Vec<String>)> = Vec::new();
        match &self.etc {
            Some(etc) => {
                for i in &etc.interfaces {
                    ifs.push((i.name.clone(), i.groups.clone()));
                    for g in &i.groups {
                        ifs.push((g.clone(), Vec::new()));
                    }
                }
            }
            None => ifs.extend(self.ports.iter().map(|p| (p.clone(), Vec::new()))),
        }
        ifs.push(("all".into(), Vec::new()));
        ifs.sort();
        ifs.dedup_by(|a, b| a.0 == b.0);
        let skip = self.engine.get().compiled().options.skip.clone();
        let mut text = String::new();
        let mut list = Vec::new();
        for (name, groups) in &ifs {
            let skipped = skip.contains(name) || groups.iter().any(|g| skip.contains(g));
            if verbose > 0 && skipped {
                text.push_str(&format!("{name} (skip)\n"));
            } else {
                text.push_str(&format!("{name}\n"));
            }
            if verbose > 0 {
                list.push(json!({"name": name, "skip": skipped}));
            } else {
                list.push(json!(name));
            }
        }
        Response::Ok {
            text: Some(text),
            json: Some(json!(list)),
        }
    }

    pub(super) fn show_tables(&self, anchor: Option<&str>, verbose: u8) -> Response {
        if verbose >= 2 {
            return Response::error(
                ErrorKind::NotSupported,
                "not supported: -sT -vv (pfd keeps no per-table counters)",
            );
        }
        let path = match self.anchor_path(anchor) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let engine = self.engine.get();
        let mut names: Vec<String> = engine
            .compiled()
            .table_keys
            .iter()
            .filter(|k| k.anchor == path)
            .map(|k| k.name.clone())
            .collect();
        names.sort();
        let listing = self.rules.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let rules = listing.flat();
        let mut text = String::new();
        let mut list = Vec::new();
        for n in &names {
            let def = listing.1.iter().find(|t| t.anchor == path && &t.name == n);
            let flags = def.map(|d| d.flags.clone()).unwrap_or_default();
            let mention = format!("<{n}>");
            let referenced = rules
                .iter()
                .any(|(_, r)| r.anchor == path && r.text.contains(&mention));
            let by_anchor = rules
                .iter()
                .any(|(_, r)| r.anchor != path && r.text.contains(&mention));
            let f = format!(
                "{}{}a-{}{}{}",
                if flags.constant { 'c' } else { '-' },
                if flags.persist { 'p' } else { '-' },
                if referenced { 'r' } else { '-' },
                if by_anchor { 'h' } else { '-' },
                if flags.counters { 'C' } else { '-' },
            );
            if verbose > 0 {
                text.push_str(&format!("{f}\t{n}\n"));
                list.push(json!({"name": n, "flags": f}));
            } else {
                text.push_str(&format!("{n}\n"));
                list.push(json!(n));
            }
        }
        Response::Ok {
            text: Some(text),
            json: Some(json!(list)),
        }
    }
}
