//! `pfctl -t T -T replace|zero|expire` on the running pfd, with
//! pfctl's messages.

use super::show::{nets, wall_now, View};
use super::tabletimes::TableTimes;
use crate::control::{ErrorKind, Response};
use dataplane::engine::TableEntry;
use ruleset::compile::TableId;
use serde_json::json;
use std::sync::MutexGuard;

impl View {
    pub(super) fn times(&self) -> MutexGuard<'_, TableTimes> {
        self.table_times.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `-T replace`: pfctl reports what was added, deleted and changed
    /// (negation flipped), or `no changes`.
    pub(super) fn table_replace(&self, name: &str, t: TableId, e: &[TableEntry]) -> Response {
        let engine = self.engine.get();
        let before = engine.table_entries(t);
        if let Err(err) = engine.table_replace(t, e) {
            return Response::error(ErrorKind::Failed, err);
        }
        let after = engine.table_entries(t);
        let find =
            |v: &[TableEntry], x: &TableEntry| v.iter().find(|y| (y.0, y.1) == (x.0, x.1)).copied();
        let added: Vec<_> = after
            .iter()
            .filter(|x| find(&before, x).is_none())
            .copied()
            .collect();
        let deleted: Vec<_> = before
            .iter()
            .filter(|x| find(&after, x).is_none())
            .copied()
            .collect();
        let changed = after
            .iter()
            .filter(|x| find(&before, x).is_some_and(|y| y.2 != x.2))
            .count();
        let mut times = self.times();
        times.set(name, nets(&added), wall_now());
        times.forget(name, nets(&deleted));
        let mut text = String::new();
        for (n, what) in [
            (added.len(), "added"),
            (deleted.len(), "deleted"),
            (changed, "changed"),
        ] {
            if n > 0 {
                text.push_str(&format!("{n} addresses {what}.\n"));
            }
        }
        if text.is_empty() {
            text.push_str("no changes.\n");
        }
        Response::Ok {
            text: Some(text),
            json: Some(json!({"added": added.len(), "deleted": deleted.len(), "changed": changed})),
        }
    }

    /// `-T zero [ADDR...]`: the statistics cleared now; without
    /// addresses the whole table's (`1 table/stats cleared.`).
    pub(super) fn table_zero(&self, name: &str, t: TableId, e: &[TableEntry]) -> Response {
        let now = wall_now();
        let present = nets(&self.engine.get().table_entries(t));
        if e.is_empty() {
            self.times().set(name, present, now);
            return Response::Ok {
                text: Some("1 table/stats cleared.\n".into()),
                json: Some(json!({"cleared": 1})),
            };
        }
        let hit: Vec<_> = nets(e)
            .into_iter()
            .filter(|n| present.contains(n))
            .collect();
        let n = hit.len();
        self.times().set(name, hit, now);
        Response::Ok {
            text: Some(format!("{n}/{} addresses cleared.\n", e.len())),
            json: Some(json!({"cleared": n, "given": e.len()})),
        }
    }

    /// `-T expire SECS`: remove the entries cleared more than SECS ago.
    pub(super) fn table_expire(&self, name: &str, t: TableId, secs: u64) -> Response {
        let engine = self.engine.get();
        let entries = engine.table_entries(t);
        let old = self
            .times()
            .expired(name, &nets(&entries), secs, wall_now());
        let doomed: Vec<TableEntry> = entries
            .into_iter()
            .filter(|e| old.contains(&(e.0, e.1)))
            .collect();
        match engine.table_delete(t, &doomed) {
            Ok(c) => {
                self.times().forget(name, nets(&doomed));
                Response::Ok {
                    text: Some(format!(
                        "{}/{} addresses expired.\n",
                        c.changed,
                        doomed.len()
                    )),
                    json: Some(json!({"expired": c.changed, "given": doomed.len()})),
                }
            }
            Err(err) => Response::error(ErrorKind::Failed, err),
        }
    }
}
