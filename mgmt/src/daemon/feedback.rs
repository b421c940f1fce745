//! `pfctl -t T -T add|delete|replace|test|zero|expire -v[v]`: pfctl's
//! per-address feedback (`print_addrx`: `A`dded, `D`eleted, `C`hanged,
//! `M`atched, `Z`eroed, duplicate `X`), one line per address, which
//! pfctl prints on stdout after its count. With -v only the addresses
//! something happened to; with -vv all of them.

use super::show::View;
use crate::control::{ErrorKind, Response, TableOp};
use crate::net::parse_net;
use dataplane::engine::TableEntry;
use ruleset::compile::TableId;
use std::collections::HashSet;
use std::net::IpAddr;

/// A network with its host bits cleared, as the table keeps it.
fn masked(ip: IpAddr, p: u8) -> (IpAddr, u8) {
    match ip {
        IpAddr::V4(a) => {
            let m = u32::MAX.checked_shl(32 - u32::from(p.min(32))).unwrap_or(0);
            (IpAddr::from(std::net::Ipv4Addr::from(u32::from(a) & m)), p)
        }
        IpAddr::V6(a) => {
            let m = u128::MAX
                .checked_shl(128 - u32::from(p.min(128)))
                .unwrap_or(0);
            (IpAddr::from(std::net::Ipv6Addr::from(u128::from(a) & m)), p)
        }
    }
}

/// One print_addrx line.
fn line(fb: char, (ip, p, neg): TableEntry) -> String {
    let full = if ip.is_ipv4() { 32 } else { 128 };
    let net = if p < full {
        format!("/{p}")
    } else {
        String::new()
    };
    format!("{fb} {}{ip}{net}", if neg { '!' } else { ' ' })
}

fn parse(addrs: &[String]) -> Option<Vec<TableEntry>> {
    addrs
        .iter()
        .map(|a| {
            let (neg, body) = match a.strip_prefix('!') {
                Some(b) => (true, b),
                None => (false, a.as_str()),
            };
            parse_net(body).ok().map(|(ip, p)| (ip, p, neg))
        })
        .collect()
}

impl View {
    /// The table `-a ANCHOR -t NAME` names, exactly.
    pub(super) fn table_ref(&self, anchor: &str, name: &str) -> Option<TableId> {
        let key = ruleset::compile::TableKey {
            anchor: anchor.to_string(),
            name: name.to_string(),
        };
        self.engine.get().compiled().table_index.get(&key).copied()
    }

    /// A table command with -v[v]: the command, then its feedback lines
    /// in the JSON's `feedback` for the CLI to print.
    pub(super) fn table_verbose(&self, anchor: &str, name: &str, op: TableOp, v: u8) -> Response {
        let refuse = |what: &str| {
            Response::error(
                ErrorKind::NotSupported,
                format!("not supported: {what} (pfd keeps no per-address counters)"),
            )
        };
        match &op {
            TableOp::Show => return refuse("-T show -v"),
            TableOp::Test { .. } if v >= 2 => return refuse("-T test -vv"),
            _ => {}
        }
        let Some(t) = self.table_ref(anchor, name) else {
            return self.table(anchor, name, op);
        };
        let engine = self.engine.get();
        let before: Vec<TableEntry> = engine.table_entries(t);
        let has = |e: &TableEntry| {
            let k = masked(e.0, e.1);
            before.iter().find(|b| (b.0, b.1) == k).copied()
        };
        let given = match &op {
            TableOp::Add { addrs }
            | TableOp::Delete { addrs }
            | TableOp::Replace { addrs }
            | TableOp::Zero { addrs } => parse(addrs),
            _ => Some(Vec::new()),
        };
        let tests: Vec<IpAddr> = match &op {
            TableOp::Test { addrs } => addrs.iter().filter_map(|a| a.parse().ok()).collect(),
            _ => Vec::new(),
        };
        let kind = op.clone();
        let r = self.table(anchor, name, op);
        let (Response::Ok { text, json }, Some(given)) = (r.clone(), given) else {
            return r;
        };
        let mut seen = HashSet::new();
        let mut fb: Vec<(char, TableEntry)> = Vec::new();
        for e in &given {
            let dup = !seen.insert(masked(e.0, e.1));
            let c = match (&kind, has(e)) {
                (_, _) if dup => 'X',
                (TableOp::Add { .. }, None) => 'A',
                (TableOp::Delete { .. }, Some(_)) => 'D',
                (TableOp::Replace { .. }, None) => 'A',
                (TableOp::Replace { .. }, Some(b)) if b.2 != e.2 => 'C',
                (TableOp::Zero { .. }, Some(_)) => 'Z',
                _ => ' ',
            };
            fb.push((c, *e));
        }
        match &kind {
            TableOp::Replace { .. } => {
                for b in &before {
                    if !seen.contains(&(b.0, b.1)) {
                        fb.push(('D', *b));
                    }
                }
            }
            TableOp::Expire { .. } => {
                let after = engine.table_entries(t);
                for b in &before {
                    if !after.iter().any(|a| (a.0, a.1) == (b.0, b.1)) {
                        fb.push(('D', *b));
                    }
                }
            }
            TableOp::Test { .. } => {
                let hits = engine.table_test(t, &tests);
                for (ip, hit) in tests.iter().zip(hits) {
                    let full = if ip.is_ipv4() { 32 } else { 128 };
                    fb.push((if hit { 'M' } else { ' ' }, (*ip, full, false)));
                }
            }
            _ => {}
        }
        let lines: Vec<String> = fb
            .into_iter()
            .filter(|(c, _)| v >= 2 || *c != ' ')
            .map(|(c, e)| line(c, e))
            .collect();
        let mut json = json.unwrap_or_else(|| serde_json::json!({}));
        json["feedback"] = serde_json::json!(lines);
        Response::Ok {
            text,
            json: Some(json),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn print_addrx_lines() {
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(line('A', (a, 32, false)), "A  192.0.2.1");
        assert_eq!(line('D', (a, 24, true)), "D !192.0.2.1/24");
        assert_eq!(masked(a, 24), ("192.0.2.0".parse().unwrap(), 24));
    }
}
