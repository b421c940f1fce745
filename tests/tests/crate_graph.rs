//! Guards the workspace's layering (house rule 9): dependencies point down.
//!
//! - `ruleset`, `carp` and `pfsync` depend on no workspace crate;
//! - `dataplane` may depend on `ruleset` only;
//! - nothing depends on `mgmt`, which ties everything together.
//!
//! Every kind of dependency counts (normal, dev and build): a dev-dependency
//! pointing up would let a test tie two layers together just the same.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// A dependency between two workspace crates, as `cargo metadata` lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: String,
    to: String,
    /// `normal`, `dev` or `build`.
    kind: String,
}

impl std::fmt::Display for Edge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} -> {} ({} dependency)", self.from, self.to, self.kind)
    }
}

/// Crates that must depend on nothing in the workspace.
const LEAVES: &[&str] = &["ruleset", "carp", "pfsync"];

fn metadata() -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(&cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| panic!("could not run `{cargo} metadata`: {e}"));
    assert!(
        out.status.success(),
        "`{cargo} metadata` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("`cargo metadata` printed invalid JSON")
}

/// Workspace member names and the edges between them.
fn workspace_graph() -> (BTreeSet<String>, Vec<Edge>) {
    let meta = metadata();
    let packages = meta["packages"]
        .as_array()
        .expect("`cargo metadata` has no packages array");
    let members: BTreeSet<String> = packages
        .iter()
        .filter_map(|p| p["name"].as_str())
        .map(str::to_string)
        .collect();
    let mut edges = Vec::new();
    for p in packages {
        let from = p["name"].as_str().unwrap_or_default();
        for d in p["dependencies"].as_array().into_iter().flatten() {
            let to = d["name"].as_str().unwrap_or_default();
            if members.contains(to) {
                edges.push(Edge {
                    from: from.to_string(),
                    to: to.to_string(),
                    kind: d["kind"].as_str().unwrap_or("normal").to_string(),
                });
            }
        }
    }
    edges.sort();
    edges.dedup();
    (members, edges)
}

fn report(what: &str, bad: &[&Edge]) -> String {
    let lines: Vec<String> = bad.iter().map(|e| format!("  {e}")).collect();
    format!("{what}:\n{}", lines.join("\n"))
}

#[test]
fn layered_crates_exist() {
    let (members, _) = workspace_graph();
    for name in LEAVES.iter().chain(&["dataplane", "mgmt"]) {
        assert!(
            members.contains(*name),
            "workspace member `{name}` is missing, so the crate graph test guards nothing for it \
             (members: {members:?})"
        );
    }
}

#[test]
fn leaf_crates_depend_on_no_workspace_crate() {
    let (_, edges) = workspace_graph();
    let bad: Vec<&Edge> = edges
        .iter()
        .filter(|e| LEAVES.contains(&e.from.as_str()))
        .collect();
    assert!(
        bad.is_empty(),
        "{}",
        report(
            "ruleset, carp and pfsync must depend on no workspace crate, but",
            &bad
        )
    );
}

#[test]
fn dataplane_depends_only_on_ruleset() {
    let (_, edges) = workspace_graph();
    let bad: Vec<&Edge> = edges
        .iter()
        .filter(|e| e.from == "dataplane" && e.to != "ruleset")
        .collect();
    assert!(
        bad.is_empty(),
        "{}",
        report(
            "dataplane may depend on ruleset only among workspace crates, but",
            &bad
        )
    );
}

#[test]
fn nothing_depends_on_mgmt() {
    let (_, edges) = workspace_graph();
    let bad: Vec<&Edge> = edges.iter().filter(|e| e.to == "mgmt").collect();
    assert!(
        bad.is_empty(),
        "{}",
        report(
            "mgmt is the top of the graph and nothing may depend on it, but",
            &bad
        )
    );
}
