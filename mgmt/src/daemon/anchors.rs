//! `pfctl -a ANCHOR` on the running pfd: anchors are compiled with the
//! ruleset (inline `anchor "name" { ... }` and unnamed ones), so their
//! rules, labels and tables can be shown and their tables edited.
//! Loading or flushing an anchor alone is refused: pfd loads a whole
//! ruleset at once.

use super::show::View;
use crate::control::{ErrorKind, Response};
use serde_json::json;

impl View {
    /// The ruleset `-a` names: "" for none; refused when no such anchor
    /// is loaded (pfctl: `Anchor does not exist`) or for a wildcard.
    pub(super) fn anchor_path(&self, anchor: Option<&str>) -> Result<String, Response> {
        let Some(a) = anchor else {
            return Ok(String::new());
        };
        let a = a.trim_start_matches('/');
        if a.ends_with('*') {
            return Err(Response::error(
                ErrorKind::NotSupported,
                "not supported: anchor wildcards (name the anchor)",
            ));
        }
        if self.engine.get().compiled().ruleset_index.contains_key(a) {
            Ok(a.to_string())
        } else {
            Err(Response::error(ErrorKind::Failed, "Anchor does not exist"))
        }
    }

    /// `pfctl -sA [-a ANCHOR] [-v]`: the anchors below ANCHOR, depth
    /// first, as pfctl_walk_show prints them (unnamed `_N` ones only
    /// with -v).
    pub(super) fn show_anchors(&self, path: &str, verbose: u8) -> Response {
        let engine = self.engine.get();
        let c = engine.compiled();
        let mut text = String::new();
        let mut list = Vec::new();
        let mut stack: Vec<String> = vec![path.to_string()];
        while let Some(p) = stack.pop() {
            let Some(rs) = c.ruleset(&p) else { continue };
            let mut kids: Vec<String> = rs
                .children
                .iter()
                .filter_map(|id| c.rulesets.get(id.0 as usize))
                .map(|r| r.path.clone())
                .collect();
            for child in &kids {
                let name = child.rsplit('/').next().unwrap_or(child);
                let shown = if p.is_empty() {
                    !name.starts_with('_') || verbose > 0
                } else {
                    !p.starts_with('_') || verbose > 0
                };
                if shown {
                    text.push_str(&format!("  {child}\n"));
                    list.push(json!(child));
                }
            }
            // depth first, in order
            kids.reverse();
            stack.extend(kids);
        }
        Response::Ok {
            text: Some(text),
            json: Some(json!(list)),
        }
    }
}
