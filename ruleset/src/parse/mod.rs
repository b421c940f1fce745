//! The pf.conf grammar, read as pfctl's `parse.y` reads it: statement by
//! statement, reporting every error with its `file:line:` and going on to
//! the next line, so that one run lists all problems.

mod expand;
mod filter;
mod host;
mod options;
mod tables;

pub use filter::FilterOpts;

use crate::addr::{Af, NodeHost};
use crate::hostenv::HostEnv;
use crate::lexer::{FileSource, Lexer, Macros, Tok};
use crate::rule::{AnchorCall, Op, Rule};
use crate::ruleset::{LoadAnchor, Options, QueueSpec, Ruleset, TableDef};
use std::collections::BTreeMap;

/// Why a statement stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Abort {
    /// The grammar did not match: pfctl prints `syntax error`.
    Syntax,
    /// An error was already reported (pfctl's `YYERROR` after `yyerror`).
    Reported,
}

pub(crate) type R<T> = Result<T, Abort>;

/// What the caller provides besides the text.
pub struct ParseConfig<'a> {
    pub env: &'a dyn HostEnv,
    pub files: &'a dyn FileSource,
    /// Anchor the file is loaded into ("" for the main ruleset).
    pub anchor: String,
    /// Macros from the command line (`-D name=value`); they win over
    /// definitions in the file.
    pub macros: Vec<(String, String)>,
    /// Queues defined by the main ruleset, which anchors loaded with
    /// `load anchor` may assign to (pfctl keeps queues across loads).
    pub queues: Vec<QueueSpec>,
}

/// Result of a parse. `errors == 0` means the ruleset may be loaded.
#[derive(Debug)]
pub struct Parsed {
    pub ruleset: Ruleset,
    /// Inline anchors' rules by anchor path.
    pub anchors: BTreeMap<String, Vec<Rule>>,
    /// What `pfctl -v` prints while parsing: macros, options, tables.
    pub echo: String,
    /// stderr lines in order.
    pub stderr: Vec<String>,
    pub errors: usize,
}

/// One ruleset being filled: the main one, or an inline anchor's.
struct Frame {
    path: String,
    rules: Vec<Rule>,
}

pub(crate) struct Parser<'a> {
    lex: Lexer,
    tok: Option<Tok>,
    env: &'a dyn HostEnv,
    files: &'a dyn FileSource,
    echo: String,
    opts: Options,
    tables: Vec<TableDef>,
    root_queues: Vec<QueueSpec>,
    child_queues: Vec<QueueSpec>,
    load_anchors: Vec<LoadAnchor>,
    default_if_bound: bool,
    keep_state_defaults: Option<Vec<filter::StateOpt>>,
    frames: Vec<Frame>,
    anchors: BTreeMap<String, Vec<Rule>>,
    /// pfctl's brace-anchor counter (`_N` names).
    brace_anchors: u32,
    /// Counter for `__automatic_N` tables.
    auto_tables: u32,
    /// Line of the statement being parsed (for rule provenance).
    stmt_line: u32,
    /// Depth of nested `{ }` address lists, bounded so hostile input
    /// cannot exhaust the stack.
    pub(crate) list_depth: usize,
}

/// Longest macro value. pfctl has no limit; without one, macros that
/// double each other exhaust memory.
const MACRO_MAX: usize = 1 << 20;

/// pfctl's `PFCTL_ANCHOR_STACK_DEPTH`.
const ANCHOR_DEPTH_MAX: usize = 64;
/// Nested `{ }` lists deeper than this are refused as a syntax error.
pub(crate) const LIST_DEPTH_MAX: usize = 64;

pub fn parse(name: &str, text: Vec<u8>, cfg: &ParseConfig<'_>) -> Parsed {
    let mut macros = Macros::default();
    for (k, v) in &cfg.macros {
        macros.set(k, v, true);
    }
    let mut p = Parser {
        lex: Lexer::new(name, text, macros),
        tok: None,
        env: cfg.env,
        files: cfg.files,
        echo: String::new(),
        opts: Options::default(),
        tables: Vec::new(),
        root_queues: Vec::new(),
        child_queues: cfg.queues.iter().flat_map(queue_and_children).collect(),
        load_anchors: Vec::new(),
        default_if_bound: false,
        keep_state_defaults: None,
        frames: vec![Frame {
            path: cfg.anchor.clone(),
            rules: Vec::new(),
        }],
        anchors: BTreeMap::new(),
        brace_anchors: 0,
        auto_tables: 0,
        stmt_line: 1,
        list_depth: 0,
    };
    p.ruleset_body(false);
    if p.lex.nerrors == 0 && cfg.anchor.is_empty() {
        p.check_queues();
    }
    let main = p.frames.pop().map(|f| f.rules).unwrap_or_default();
    let mut ruleset = Ruleset {
        options: p.opts,
        tables: p.tables,
        queues: p.root_queues,
        rules: main,
        load_anchors: p.load_anchors,
    };
    expand::number_rules(&mut ruleset.rules);
    for rules in p.anchors.values_mut() {
        expand::number_rules(rules);
    }
    Parsed {
        ruleset,
        anchors: p.anchors,
        echo: p.echo,
        stderr: p.lex.errors,
        errors: p.lex.nerrors,
    }
}

impl<'a> Parser<'a> {
    // ---- tokens ----

    pub(crate) fn peek(&mut self) -> &Tok {
        if self.tok.is_none() {
            self.tok = Some(self.lex.next_token());
        }
        self.tok.as_ref().unwrap_or(&Tok::Eof)
    }

    pub(crate) fn bump(&mut self) -> Tok {
        self.peek();
        self.tok.take().unwrap_or(Tok::Eof)
    }

    pub(crate) fn at(&mut self, c: u8) -> bool {
        self.peek().is(c)
    }

    pub(crate) fn at_kw(&mut self, k: &str) -> bool {
        self.peek().is_kw(k)
    }

    pub(crate) fn eat(&mut self, c: u8) -> bool {
        if self.at(c) {
            self.bump();
            true
        } else {
            false
        }
    }

    pub(crate) fn eat_kw(&mut self, k: &str) -> bool {
        if self.at_kw(k) {
            self.bump();
            true
        } else {
            false
        }
    }

    pub(crate) fn expect(&mut self, c: u8) -> R<()> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(Abort::Syntax)
        }
    }

    pub(crate) fn expect_kw(&mut self, k: &str) -> R<()> {
        if self.eat_kw(k) {
            Ok(())
        } else {
            Err(Abort::Syntax)
        }
    }

    pub(crate) fn string(&mut self) -> R<String> {
        match self.peek() {
            Tok::Str(_) => match self.bump() {
                Tok::Str(s) => Ok(s),
                _ => Err(Abort::Syntax),
            },
            _ => Err(Abort::Syntax),
        }
    }

    pub(crate) fn number(&mut self) -> R<i64> {
        match self.peek() {
            Tok::Num(n) => {
                let n = *n;
                self.bump();
                Ok(n)
            }
            _ => Err(Abort::Syntax),
        }
    }

    /// `string: STRING string | STRING` (several words joined by spaces).
    pub(crate) fn strings(&mut self) -> R<String> {
        let mut s = self.string()?;
        while let Tok::Str(_) = self.peek() {
            let next = self.string()?;
            s.push(' ');
            s.push_str(&next);
        }
        Ok(s)
    }

    /// `numberstring: NUMBER | STRING`
    pub(crate) fn numberstring(&mut self) -> R<String> {
        match self.peek() {
            Tok::Num(n) => {
                let s = n.to_string();
                self.bump();
                Ok(s)
            }
            Tok::Str(_) => self.string(),
            _ => Err(Abort::Syntax),
        }
    }

    /// Skip newlines (grammar's `optnl`).
    pub(crate) fn optnl(&mut self) {
        while self.eat(b'\n') {}
    }

    /// Optional comma (grammar's `comma`).
    pub(crate) fn comma(&mut self) {
        self.eat(b',');
    }

    /// One item, or `{ item [,] item ... }` with newlines allowed inside:
    /// the shape of every list in the grammar (`proto`, `port`, `on`, ...).
    pub(crate) fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> R<T>) -> R<Vec<T>> {
        if !self.eat(b'{') {
            return Ok(vec![item(self)?]);
        }
        self.optnl();
        let mut v = Vec::new();
        loop {
            v.push(item(self)?);
            self.optnl();
            if self.eat(b'}') {
                return Ok(v);
            }
            self.comma();
        }
    }

    /// `flags` and `os` only apply to TCP; pfctl words the message
    /// differently for anchors and rules.
    pub(crate) fn check_tcp_only(
        &mut self,
        fo: &FilterOpts,
        os: bool,
        protos: &[u8],
        os_msg: &str,
    ) -> R<()> {
        let flags = fo.flags.0 != 0 || fo.flags.1 != 0;
        if (flags || os) && !protos.is_empty() && !protos.contains(&6) {
            if flags {
                self.error("flags only apply to tcp");
            }
            if os {
                self.error(os_msg);
            }
            return Err(Abort::Reported);
        }
        Ok(())
    }

    pub(crate) fn error(&mut self, msg: impl AsRef<str>) {
        self.lex.error(msg);
    }

    /// Report and abort the statement.
    pub(crate) fn fail<T>(&mut self, msg: impl AsRef<str>) -> R<T> {
        self.lex.error(msg);
        Err(Abort::Reported)
    }

    pub(crate) fn raw(&mut self, line: impl Into<String>) {
        self.lex.raw(line);
    }

    // ---- statements ----

    /// Statements until EOF, or until `}` when inside an inline anchor.
    fn ruleset_body(&mut self, in_anchor: bool) {
        loop {
            if in_anchor && self.at(b'}') {
                return;
            }
            match self.peek() {
                Tok::Eof => return,
                Tok::Char(b'\n') => {
                    self.bump();
                    continue;
                }
                _ => {}
            }
            self.stmt_line = self.lex.lineno;
            let r = if in_anchor {
                self.anchor_statement()
            } else {
                self.statement()
            };
            match r {
                Ok(()) => {}
                Err(e) => self.recover(e),
            }
        }
    }

    /// pfctl's `ruleset error '\n'`: report a syntax error, then drop
    /// tokens up to and including the end of the line.
    fn recover(&mut self, e: Abort) {
        if e == Abort::Syntax {
            self.error("syntax error");
        }
        loop {
            match self.bump() {
                Tok::Char(b'\n') | Tok::Eof => return,
                _ => {}
            }
        }
    }

    /// The statement must end here: the newline is consumed.
    pub(crate) fn end(&mut self) -> R<()> {
        match self.peek() {
            Tok::Char(b'\n') => {
                self.bump();
                Ok(())
            }
            Tok::Eof => Ok(()),
            _ => Err(Abort::Syntax),
        }
    }

    /// Peek that the statement ends here, without consuming the newline:
    /// actions run with the newline as lookahead, as in pfctl, so their
    /// errors carry the statement's last line.
    pub(crate) fn at_end(&mut self) -> R<()> {
        match self.peek() {
            Tok::Char(b'\n') | Tok::Eof => Ok(()),
            _ => Err(Abort::Syntax),
        }
    }

    fn statement(&mut self) -> R<()> {
        match self.peek().clone() {
            Tok::Kw("include") => self.include(),
            Tok::Kw("set") => self.option(),
            Tok::Kw("pass") | Tok::Kw("block") | Tok::Kw("match") => self.pfrule(),
            Tok::Kw("anchor") => self.anchorrule(),
            Tok::Kw("load") => self.loadrule(),
            Tok::Kw("queue") => self.queuespec(),
            Tok::Kw("antispoof") => self.antispoof(),
            Tok::Kw("table") => self.tabledef(),
            Tok::Str(_) => self.varset(),
            Tok::Error => {
                self.bump();
                Err(Abort::Syntax)
            }
            _ => Err(Abort::Syntax),
        }
    }

    /// Inside `anchor { ... }` only rules, anchors and includes may appear.
    fn anchor_statement(&mut self) -> R<()> {
        match self.peek().clone() {
            Tok::Kw("include") => self.include(),
            Tok::Kw("pass") | Tok::Kw("block") | Tok::Kw("match") => self.pfrule(),
            Tok::Kw("anchor") => self.anchorrule(),
            Tok::Error => {
                self.bump();
                Err(Abort::Syntax)
            }
            _ => Err(Abort::Syntax),
        }
    }

    fn include(&mut self) -> R<()> {
        self.expect_kw("include")?;
        let name = self.string()?;
        match self.files.read(&name) {
            Ok(data) => {
                self.lex.push_file(&name, data);
                self.end()
            }
            Err(e) => {
                self.raw(format!(
                    "pfctl: pushfile: {}: {}",
                    name,
                    crate::io_error_text(&e)
                ));
                self.fail(format!("failed to include file {name}"))
            }
        }
    }

    fn varset(&mut self) -> R<()> {
        let name = self.string()?;
        self.expect(b'=')?;
        let mut val = self.numberstring()?;
        while let Tok::Num(_) | Tok::Str(_) = self.peek() {
            let s = self.numberstring()?;
            val.push(' ');
            val.push_str(&s);
        }
        self.at_end()?;
        if val.len() > MACRO_MAX {
            return self.fail(format!(
                "macro '{name}' value too long, max {MACRO_MAX} bytes"
            ));
        }
        self.echo.push_str(&format!("{name} = \"{val}\"\n"));
        if name.chars().skip(1).any(|c| c.is_ascii_whitespace()) {
            return self.fail("macro name cannot contain whitespace");
        }
        self.lex.macros.set(&name, &val, false);
        self.end()
    }

    fn loadrule(&mut self) -> R<()> {
        self.expect_kw("load")?;
        self.expect_kw("anchor")?;
        let name = self.anchorname()?;
        self.expect_kw("from")?;
        let file = self.strings()?;
        self.at_end()?;
        let Some(name) = name else {
            return self.fail("anchor name is missing");
        };
        let cur = self
            .frames
            .last()
            .map(|f| f.path.clone())
            .unwrap_or_default();
        let anchor = if cur.is_empty() {
            name
        } else {
            format!("{cur}/{name}")
        };
        self.load_anchors.push(LoadAnchor { anchor, file });
        self.end()
    }

    /// `anchorname: STRING | empty`
    fn anchorname(&mut self) -> R<Option<String>> {
        let Tok::Str(_) = self.peek() else {
            return Ok(None);
        };
        let s = self.string()?;
        if s.is_empty() {
            return self.fail("anchor name must not be empty");
        }
        if s.starts_with('_') || s.contains("/_") {
            return self.fail("anchor names beginning with '_' are reserved for internal use");
        }
        Ok(Some(s))
    }

    fn anchorrule(&mut self) -> R<()> {
        self.expect_kw("anchor")?;
        let name = self.anchorname()?;
        let dir = self.dir();
        let quick = self.eat_kw("quick");
        let ifs = self.interface()?;
        let af = self.af();
        let protos = self.proto()?;
        let fromto = self.fromto()?;
        let fo = self.filter_opts()?;
        // Inline body: `{` newline rules `}`.
        let mut inline = None;
        if self.at(b'{') {
            self.bump();
            if !self.at(b'\n') {
                return Err(Abort::Syntax);
            }
            if self.frames.len() >= ANCHOR_DEPTH_MAX {
                return self.fail("pfa_anchor: anchors too deep");
            }
            self.brace_anchors += 1;
            let holder = format!("_{}", self.brace_anchors);
            let parent = self
                .frames
                .last()
                .map(|f| f.path.clone())
                .unwrap_or_default();
            let leaf = name.clone().unwrap_or(holder);
            let path = if parent.is_empty() {
                leaf.clone()
            } else {
                format!("{parent}/{leaf}")
            };
            self.frames.push(Frame {
                path: path.clone(),
                rules: Vec::new(),
            });
            self.ruleset_body(true);
            let frame = self.frames.pop().map(|f| f.rules).unwrap_or_default();
            self.expect(b'}')?;
            inline = Some((leaf, path, frame));
        }
        self.at_end()?;
        let call = match inline {
            Some((leaf, path, rules)) => {
                if name.as_deref().is_some_and(|n| n.contains('/')) {
                    return self
                        .fail("anchor paths containing '/' cannot be used for inline anchors.");
                }
                if self.anchors.contains_key(&path) {
                    return self.fail(format!("inline anchor '{leaf}' already exists"));
                }
                let has_rules = !rules.is_empty();
                self.anchors.insert(path.clone(), rules);
                AnchorCall {
                    name: leaf,
                    path,
                    inline_rules: has_rules,
                }
            }
            None => {
                let Some(n) = name else {
                    return self.fail("anchors without explicit rules must specify a name");
                };
                if n.ends_with('/') {
                    return self.fail(format!("anchorrule: bad anchor name {n}"));
                }
                let leaf = n.rsplit('/').next().unwrap_or(&n).to_string();
                AnchorCall {
                    name: leaf,
                    path: n,
                    inline_rules: false,
                }
            }
        };
        let mut r = Rule {
            direction: dir,
            quick,
            af,
            ..Rule::default()
        };
        self.check_tcp_only(
            &fo,
            fromto.os.is_some(),
            &protos,
            "OS fingerprinting only applies to tcp",
        )?;
        self.filteropts_to_rule(&mut r, &fo, true)?;
        if fo.keep.is_some() {
            return self.fail("cannot specify state handling on anchors");
        }
        if fo.rt != crate::rule::RouteKind::None {
            return self.fail("cannot specify route handling on anchors");
        }
        r.anchor = Some(call);
        decide_af(&fromto.src.hosts, &mut r.af);
        decide_af(&fromto.dst.hosts, &mut r.af);
        let spec = expand::RuleSpec {
            ifs,
            protos,
            src: fromto.src,
            dst: fromto.dst,
            os: fromto.os,
            uids: fo.uids.clone(),
            gids: fo.gids.clone(),
            icmp: fo.icmp.clone(),
            nat: None,
            rdr: None,
            route: None,
        };
        self.expand_rule(r, spec);
        self.end()
    }

    /// The rules of the ruleset being filled now.
    pub(crate) fn current_rules(&mut self) -> &mut Vec<Rule> {
        let n = self.frames.len() - 1;
        &mut self.frames[n].rules
    }

    pub(crate) fn current_anchor(&self) -> &str {
        self.frames.last().map(|f| f.path.as_str()).unwrap_or("")
    }

    // ---- small grammar pieces shared by several statements ----

    pub(crate) fn dir(&mut self) -> crate::rule::Direction {
        use crate::rule::Direction;
        if self.eat_kw("in") {
            Direction::In
        } else if self.eat_kw("out") {
            Direction::Out
        } else {
            Direction::InOut
        }
    }

    pub(crate) fn af(&mut self) -> Option<Af> {
        if self.eat_kw("inet") {
            Some(Af::Inet)
        } else if self.eat_kw("inet6") {
            Some(Af::Inet6)
        } else {
            None
        }
    }

    /// `unaryop`
    pub(crate) fn unaryop(&mut self) -> Option<Op> {
        let op = match self.peek() {
            Tok::Char(b'=') => Op::Eq,
            Tok::Ne => Op::Ne,
            Tok::Le => Op::Le,
            Tok::Char(b'<') => Op::Lt,
            Tok::Ge => Op::Ge,
            Tok::Char(b'>') => Op::Gt,
            _ => return None,
        };
        self.bump();
        Some(op)
    }
}

/// pfctl's `decide_address_family`: a list of one family sets it.
pub(crate) fn decide_af(hosts: &Option<Vec<NodeHost>>, af: &mut Option<Af>) {
    if af.is_some() {
        return;
    }
    let Some(h) = hosts else { return };
    let Some(first) = h.first() else { return };
    let a = first.af;
    if h.iter().any(|n| n.af != a) {
        *af = None;
    } else {
        *af = a;
    }
}

/// A queue tree flattened (every queue may be named by `set queue`).
fn queue_and_children(q: &QueueSpec) -> Vec<QueueSpec> {
    let mut v = vec![q.clone()];
    for c in &q.children {
        v.extend(queue_and_children(c));
    }
    v
}
