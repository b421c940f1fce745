//! Where an anchor call points: pf's `pf_anchor_setup` path rules
//! (relative to the calling ruleset, `/` for absolute, `../` to go up,
//! a trailing `*` for "every child").

use crate::rule::AnchorCall;
use std::collections::BTreeMap;

/// `a/b` from `a` and `b`, without a leading `/` for the main ruleset.
pub(super) fn join(parent: &str, leaf: &str) -> String {
    if parent.is_empty() {
        leaf.to_string()
    } else if leaf.is_empty() {
        parent.to_string()
    } else {
        format!("{parent}/{leaf}")
    }
}

/// The path one level up ("" above a top-level anchor).
pub(super) fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    Some(path.rsplit_once('/').map_or("", |(p, _)| p))
}

/// The full path a call from ruleset `current` refers to, and whether
/// it is a wildcard call (then the path is the parent whose children run).
pub(super) fn target(
    current: &str,
    call: &AnchorCall,
    inline: &BTreeMap<String, Vec<crate::rule::Rule>>,
) -> (String, bool) {
    // The parser stores inline anchors by full path; a call by name
    // (`anchor "x"`, filled later) keeps the name as written.
    if call.path == join(current, &call.name) && inline.contains_key(&call.path) {
        return (call.path.clone(), false);
    }
    let mut name = call.path.as_str();
    let mut wildcard = false;
    if name == "*" {
        name = "";
        wildcard = true;
    } else if let Some(n) = name.strip_suffix("/*") {
        name = n;
        wildcard = true;
    }
    let mut parts: Vec<&str> = Vec::new();
    if let Some(abs) = name.strip_prefix('/') {
        name = abs;
    } else {
        parts.extend(current.split('/').filter(|s| !s.is_empty()));
    }
    for comp in name.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    (parts.join("/"), wildcard)
}
