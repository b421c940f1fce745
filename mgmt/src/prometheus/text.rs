//! Prometheus's text exposition format, version 0.0.4: per metric
//! family a `# HELP` and a `# TYPE` line, then its samples, together;
//! label values and help text escaped as the format says.

use std::collections::HashSet;
use std::fmt::Write as _;

/// The `Content-Type` of the text this writes.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A family's type (the `# TYPE` line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (reset when pfd restarts or is cleared, as pfctl's
    /// `-z` and `-F info` clear theirs); its name ends in `_total`.
    Counter,
    /// Goes up and down.
    Gauge,
}

/// The text being written. Families are written whole, one after the
/// other: a [`Family`] borrows the exposition until it is dropped.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
    seen: HashSet<String>,
}

impl Exposition {
    pub fn new() -> Exposition {
        Exposition::default()
    }

    /// Start family `name` of `kind`: its HELP and TYPE lines are
    /// written now, its samples with [`Family::sample`].
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) -> Family<'_> {
        debug_assert!(valid_name(name), "metric name {name:?}");
        debug_assert!(
            kind != Kind::Counter || name.ends_with("_total"),
            "counter {name} without _total"
        );
        debug_assert!(self.seen.insert(name.to_string()), "family {name} twice");
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(
            self.out,
            "# TYPE {name} {}",
            match kind {
                Kind::Counter => "counter",
                Kind::Gauge => "gauge",
            }
        );
        Family {
            out: &mut self.out,
            name: name.to_string(),
        }
    }

    /// A family of one sample without labels.
    pub fn single(&mut self, name: &str, kind: Kind, help: &str, value: u64) {
        self.family(name, kind, help).sample(&[], value);
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// One family being written.
pub struct Family<'a> {
    out: &'a mut String,
    name: String,
}

impl Family<'_> {
    /// `name{label="value",...} value`; labels with an empty value are
    /// left out (Prometheus reads them as absent anyway).
    pub fn sample(&mut self, labels: &[(&str, &str)], value: u64) -> &mut Self {
        self.out.push_str(&self.name);
        let mut first = true;
        for (k, v) in labels.iter().filter(|(_, v)| !v.is_empty()) {
            debug_assert!(valid_label(k), "label name {k:?}");
            self.out.push(if first { '{' } else { ',' });
            first = false;
            let _ = write!(self.out, "{k}=\"{}\"", escape_label(v));
        }
        if !first {
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
        self
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub fn valid_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_' || f == ':')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == ':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved).
pub fn valid_label(s: &str) -> bool {
    valid_name(s) && !s.contains(':') && !s.starts_with("__")
}

/// A label value: backslash, double quote and newline escaped.
pub fn escape_label(v: &str) -> String {
    let mut o = String::with_capacity(v.len());
    for ch in v.chars() {
        match ch {
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            '\n' => o.push_str("\\n"),
            c => o.push(c),
        }
    }
    o
}

/// HELP text: backslash and newline escaped (quotes stay).
pub fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_with_help_type_and_escaped_labels() {
        let mut e = Exposition::new();
        e.family(
            "pfd_rule_packets_total",
            Kind::Counter,
            "Packets that matched the rule\\its states.\nSecond line",
        )
        .sample(&[("rule", "0"), ("label", ""), ("direction", "in")], 12)
        .sample(
            &[
                ("rule", "1"),
                ("label", "web \"dmz\"\\a\nb"),
                ("direction", "out"),
            ],
            3,
        );
        e.single("pfd_states", Kind::Gauge, "States now.", 7);
        assert_eq!(
            e.finish(),
            "# HELP pfd_rule_packets_total Packets that matched the rule\\\\its states.\\nSecond line\n\
             # TYPE pfd_rule_packets_total counter\n\
             pfd_rule_packets_total{rule=\"0\",direction=\"in\"} 12\n\
             pfd_rule_packets_total{rule=\"1\",label=\"web \\\"dmz\\\"\\\\a\\nb\",direction=\"out\"} 3\n\
             # HELP pfd_states States now.\n\
             # TYPE pfd_states gauge\n\
             pfd_states 7\n"
        );
    }

    #[test]
    fn names_follow_the_data_model() {
        assert!(valid_name("pfd_state_inserts_total"));
        assert!(valid_name("a:b_c9"));
        assert!(!valid_name("9pfd"));
        assert!(!valid_name("pfd-states"));
        assert!(!valid_name(""));
        assert!(valid_label("vhid"));
        assert!(!valid_label("__name__"));
        assert!(!valid_label("a:b"));
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "family pfd_states twice")]
    fn a_family_is_written_once() {
        let mut e = Exposition::new();
        e.single("pfd_states", Kind::Gauge, "x", 1);
        e.single("pfd_states", Kind::Gauge, "x", 1);
    }
}
