//! The loaded rules as `pfctl -sr` lists them, kept by ruleset and rule
//! number so that `-v` can put each rule's counters under it and
//! `-s labels` can find the labelled ones.

use ruleset::hostenv::HostEnv;
use ruleset::parse::Parsed;
use ruleset::rule::Rule;
use std::collections::HashSet;
use std::fmt::Write as _;

/// One rule as printed, and where it lives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listed {
    /// The rule as pfctl prints it, without a newline.
    pub text: String,
    /// The ruleset holding it: "" for the main one, else the anchor path.
    pub anchor: String,
    /// Its number in that ruleset (pf's `@nr`).
    pub nr: u32,
    /// An anchor rule: the path of the ruleset it calls.
    pub call: Option<String>,
    /// The called anchor's rules, under the first rule calling it.
    pub body: Option<Vec<Listed>>,
}

impl Listed {
    /// pfctl -sr shows an anchor's rules inside braces only for an
    /// unnamed (`_N`) anchor; a named one is listed with `-a NAME`.
    fn braced(&self) -> Option<&Vec<Listed>> {
        let call = self.call.as_deref()?;
        let last = call.rsplit('/').next().unwrap_or(call);
        self.body.as_ref().filter(|_| last.starts_with('_'))
    }
}

/// The whole listing, in load order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing(pub Vec<Listed>, pub Vec<ListedTable>);

/// A table as the ruleset defined it, for `pfctl -sT -v`'s flags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListedTable {
    pub anchor: String,
    pub name: String,
    pub flags: ruleset::ruleset::TableFlags,
}

/// What `-v` shows of one rule (pfctl_print_rule_counters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RuleStats {
    pub evaluations: u64,
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    /// States it holds now (pf's `states_cur`).
    pub states_cur: u64,
    /// States it ever created (pf's `states_tot`).
    pub states_tot: u64,
    /// A `once` rule that matched: hidden below `-vv`.
    pub expired: bool,
}

impl Listing {
    /// The listing of a parsed ruleset, as `ruleset::print::loaded`
    /// prints it: an anchor's rules under the first rule calling it.
    pub fn of(p: &Parsed, env: &dyn HostEnv) -> Listing {
        let mut printed = HashSet::new();
        let tables = p
            .ruleset
            .tables
            .iter()
            .map(|t| ListedTable {
                anchor: t.anchor.clone(),
                name: t.name.clone(),
                flags: t.flags.clone(),
            })
            .collect();
        Listing(walk(&p.ruleset.rules, "", p, env, &mut printed), tables)
    }

    /// `pfctl -sr [-v[v]]`; `stats` gives each rule's counters.
    pub fn render(&self, verbose: u8, stats: &dyn Fn(&Listed) -> RuleStats) -> String {
        self.render_with(verbose, stats, &|l| l.text.clone())
    }

    /// [`Listing::render`] with each rule's text from `text` (`-vv`
    /// adds table sizes).
    pub fn render_with(
        &self,
        verbose: u8,
        stats: &dyn Fn(&Listed) -> RuleStats,
        text: &dyn Fn(&Listed) -> String,
    ) -> String {
        let mut out = String::new();
        render(&mut out, &self.0, 0, verbose, stats, text);
        out
    }

    /// The rules of anchor `path` (pfctl -a PATH -sr), if it has any.
    pub fn anchor(&self, path: &str) -> Option<Listing> {
        fn go(v: &[Listed], path: &str) -> Option<Vec<Listed>> {
            for l in v {
                if let Some(b) = &l.body {
                    if l.call.as_deref() == Some(path) {
                        return Some(b.clone());
                    }
                    if let Some(found) = go(b, path) {
                        return Some(found);
                    }
                }
            }
            None
        }
        go(&self.0, path).map(|v| Listing(v, self.1.clone()))
    }

    /// Every rule shown, depth first, with its depth.
    pub fn flat(&self) -> Vec<(usize, &Listed)> {
        fn go<'a>(v: &'a [Listed], d: usize, out: &mut Vec<(usize, &'a Listed)>) {
            for l in v {
                out.push((d, l));
                if let Some(b) = l.braced() {
                    go(b, d + 1, out);
                }
            }
        }
        let mut out = Vec::new();
        go(&self.0, 0, &mut out);
        out
    }
}

fn walk(
    rules: &[Rule],
    anchor: &str,
    p: &Parsed,
    env: &dyn HostEnv,
    printed: &mut HashSet<String>,
) -> Vec<Listed> {
    let mut out = Vec::with_capacity(rules.len());
    for r in rules {
        let call = match &r.anchor {
            Some(a) if a.inline_rules => a.name.clone(),
            Some(a) => a.path.clone(),
            None => String::new(),
        };
        let text = ruleset::print::rule(r, &call, env);
        let mut body = None;
        let called = r.anchor.as_ref().map(|a| a.path.clone());
        if let Some(a) = &r.anchor {
            // pfctl consumes an anchor's rules when it loads them, so
            // only the first rule calling it shows them.
            let inner = p
                .anchors
                .get(&a.path)
                .filter(|v| !v.is_empty() && !printed.contains(&a.path));
            if let Some(inner) = inner {
                printed.insert(a.path.clone());
                body = Some(walk(inner, &a.path, p, env, printed));
            }
        }
        out.push(Listed {
            text,
            anchor: anchor.to_string(),
            nr: r.nr,
            call: called,
            body,
        });
    }
    out
}

fn render(
    out: &mut String,
    rules: &[Listed],
    depth: usize,
    verbose: u8,
    stats: &dyn Fn(&Listed) -> RuleStats,
    text: &dyn Fn(&Listed) -> String,
) {
    // pfctl indents an anchor's rules only without -v.
    let indent = |out: &mut String| {
        if verbose == 0 {
            for _ in 0..depth {
                out.push_str("  ");
            }
        }
    };
    for r in rules {
        let st = stats(r);
        if st.expired && verbose < 2 {
            continue;
        }
        indent(out);
        if verbose >= 2 {
            let _ = write!(out, "@{} ", r.nr);
        }
        out.push_str(&text(r));
        match r.braced() {
            Some(body) => {
                out.push_str(" {\n");
                counters(out, verbose, &st);
                render(out, body, depth + 1, verbose, stats, text);
                indent(out);
                out.push_str("}\n");
            }
            None => {
                out.push('\n');
                counters(out, verbose, &st);
            }
        }
    }
}

/// pfctl_print_rule_counters: with -v, the counters and who inserted
/// the rule (pfd itself: uid and pid of the daemon).
fn counters(out: &mut String, verbose: u8, st: &RuleStats) {
    if verbose == 0 {
        return;
    }
    let _ = writeln!(
        out,
        "  [ Evaluations: {:<8}  Packets: {:<8}  Bytes: {:<10}  States: {:<6}]",
        st.evaluations,
        st.packets[0].wrapping_add(st.packets[1]),
        st.bytes[0].wrapping_add(st.bytes[1]),
        st.states_cur
    );
    let _ = writeln!(
        out,
        "  [ Inserted: uid {} pid {} State Creations: {:<6}]",
        inserter().0,
        inserter().1,
        st.states_tot
    );
}

/// The uid and pid the rules were inserted by: this daemon, which
/// compiles and installs every ruleset itself.
fn inserter() -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").map_or(0, |m| m.uid());
    (uid, std::process::id())
}
