//! pf.conf tokens, read the way pfctl's `yylex` reads them: macros are
//! expanded by pushing their text back into the input, `\` joins lines,
//! quoted strings may span lines, and `include` stacks files.

use crate::rule::Op;
use std::collections::HashMap;

/// Longest token pfctl accepts (its lexer buffer).
const MAX_TOKEN: usize = 8094;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Str(String),
    Num(i64),
    /// A keyword from [`KEYWORDS`].
    Kw(&'static str),
    /// `<>` or `><`
    PortBinary(Op),
    Ne,
    Le,
    Ge,
    /// Any other single character: `{ } ( ) < > = ! / , - '\n'` ...
    Char(u8),
    /// A lexical error was reported and the rest of the line skipped.
    Error,
    Eof,
}

impl Tok {
    pub fn is(&self, c: u8) -> bool {
        matches!(self, Tok::Char(x) if *x == c)
    }
    pub fn is_kw(&self, k: &str) -> bool {
        matches!(self, Tok::Kw(x) if *x == k)
    }
}

/// pf.conf's reserved words (pfctl's `lookup()` table).
pub const KEYWORDS: &[&str] = &[
    "af-to",
    "all",
    "allow-opts",
    "anchor",
    "antispoof",
    "any",
    "bandwidth",
    "binat-to",
    "bitmask",
    "block",
    "block-policy",
    "burst",
    "code",
    "debug",
    "default",
    "delay",
    "divert-packet",
    "divert-reply",
    "divert-to",
    "drop",
    "dup-to",
    "file",
    "fingerprints",
    "flags",
    "floating",
    "flows",
    "flush",
    "for",
    "fragment",
    "from",
    "global",
    "group",
    "hostid",
    "icmp-type",
    "icmp6-type",
    "if-bound",
    "in",
    "include",
    "inet",
    "inet6",
    "keep",
    "label",
    "least-states",
    "limit",
    "load",
    "log",
    "loginterface",
    "match",
    "matches",
    "max",
    "max-mss",
    "max-pkt-rate",
    "max-src-conn",
    "max-src-conn-rate",
    "max-src-nodes",
    "max-src-states",
    "min",
    "min-ttl",
    "modulate",
    "nat-to",
    "no",
    "no-df",
    "no-route",
    "no-sync",
    "on",
    "once",
    "optimization",
    "os",
    "out",
    "overload",
    "parent",
    "pass",
    "pflow",
    "port",
    "prio",
    "probability",
    "proto",
    "qlimit",
    "quantum",
    "queue",
    "quick",
    "random",
    "random-id",
    "rdomain",
    "rdr-to",
    "reassemble",
    "received-on",
    "reply-to",
    "return",
    "return-icmp",
    "return-icmp6",
    "return-rst",
    "round-robin",
    "route",
    "route-to",
    "rtable",
    "rule",
    "ruleset-optimization",
    "scrub",
    "set",
    "skip",
    "sloppy",
    "source-hash",
    "source-track",
    "state",
    "state-defaults",
    "state-policy",
    "static-port",
    "sticky-address",
    "syncookies",
    "synproxy",
    "table",
    "tag",
    "tagged",
    "timeout",
    "to",
    "tos",
    "ttl",
    "urpf-failed",
    "user",
    "weight",
];

fn keyword(s: &str) -> Option<&'static str> {
    KEYWORDS.binary_search(&s).ok().map(|i| KEYWORDS[i])
}

/// Reads the text of an `include`d file; the parser supplies it so that
/// tests and the daemon can control file access.
pub trait FileSource {
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>>;
}

/// Reads from the file system.
pub struct FsSource;

impl FileSource for FsSource {
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }
}

/// Pushed-back input: characters, or the markers around a macro's text.
#[derive(Clone, Copy, PartialEq)]
enum Back {
    Byte(u8),
    StartExpand,
    DoneExpand,
}

struct InFile {
    name: String,
    data: Vec<u8>,
    pos: usize,
    lineno: u32,
    unget: Vec<Back>,
    eof_reached: bool,
}

/// What `igetc` yields.
#[derive(Clone, Copy, PartialEq)]
enum Ch {
    B(u8),
    Eof,
}

pub struct Lexer {
    files: Vec<InFile>,
    expanding: bool,
    /// Line of the last token read: where pfctl reports errors.
    pub lineno: u32,
    pub macros: Macros,
    /// Everything written to stderr, in order: `file:line: message`
    /// errors and the bare lines pfctl prints without a position.
    pub errors: Vec<String>,
    /// Number of errors (pfctl's `file->errors`); warnings do not count.
    pub nerrors: usize,
}

/// Macro table with pfctl's semantics: redefinition replaces, command-line
/// definitions (`-D`) persist over the file's.
#[derive(Default, Clone)]
pub struct Macros {
    vals: HashMap<String, (String, bool)>,
}

impl Macros {
    pub fn set(&mut self, name: &str, val: &str, persist: bool) {
        if let Some((_, true)) = self.vals.get(name) {
            return;
        }
        self.vals
            .insert(name.to_string(), (val.to_string(), persist));
    }
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vals.get(name).map(|(v, _)| v.as_str())
    }
}

fn is_punct(c: u8) -> bool {
    c.is_ascii_punctuation()
}

fn allowed_in_string(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || (is_punct(c)
            && !matches!(
                c,
                b'(' | b')' | b'{' | b'}' | b'<' | b'>' | b'!' | b'=' | b'/' | b'#' | b','
            ))
}

fn allowed_to_end_number(c: u8) -> bool {
    c.is_ascii_whitespace() || matches!(c, b')' | b',' | b'/' | b'}' | b'=')
}

impl Lexer {
    pub fn new(name: &str, data: Vec<u8>, macros: Macros) -> Lexer {
        Lexer {
            files: vec![InFile {
                name: name.to_string(),
                data,
                pos: 0,
                lineno: 1,
                unget: Vec::new(),
                eof_reached: false,
            }],
            expanding: false,
            lineno: 1,
            macros,
            errors: Vec::new(),
            nerrors: 0,
        }
    }

    /// Name of the file being read now.
    pub fn file_name(&self) -> &str {
        self.files.last().map(|f| f.name.as_str()).unwrap_or("")
    }

    /// Record an error at the current token's line, as pfctl's `yyerror`.
    pub fn error(&mut self, msg: impl AsRef<str>) {
        let m = format!("{}:{}: {}", self.file_name(), self.lineno, msg.as_ref());
        self.errors.push(m);
        self.nerrors += 1;
    }

    /// A stderr line that is not counted as an error (pfctl's bare
    /// `fprintf(stderr, ...)` and `warnx`).
    pub fn raw(&mut self, line: impl Into<String>) {
        self.errors.push(line.into());
    }

    /// A `file:line: ` warning that does not count as an error.
    pub fn warn(&mut self, msg: impl AsRef<str>) {
        let m = format!("{}:{}: {}", self.file_name(), self.lineno, msg.as_ref());
        self.errors.push(m);
    }

    /// Start reading an included file; a newline is pushed so the
    /// `include` statement ends inside it, as pfctl does.
    pub fn push_file(&mut self, name: &str, data: Vec<u8>) {
        self.files.push(InFile {
            name: name.to_string(),
            data,
            pos: 0,
            lineno: 0,
            unget: Vec::new(),
            eof_reached: false,
        });
        self.unget(Back::Byte(b'\n'));
    }

    pub fn depth(&self) -> usize {
        self.files.len()
    }

    fn cur(&mut self) -> &mut InFile {
        let n = self.files.len() - 1;
        &mut self.files[n]
    }

    fn unget(&mut self, b: Back) {
        self.cur().unget.push(b);
    }

    fn ungetc(&mut self, c: Ch) {
        if let Ch::B(b) = c {
            self.unget(Back::Byte(b));
        }
    }

    fn igetc(&mut self) -> Ch {
        loop {
            let f = self.cur();
            let b = if let Some(b) = f.unget.pop() {
                b
            } else if f.pos < f.data.len() {
                f.pos += 1;
                Back::Byte(f.data[f.pos - 1])
            } else {
                return Ch::Eof;
            };
            match b {
                Back::StartExpand => self.expanding = true,
                Back::DoneExpand => self.expanding = false,
                Back::Byte(c) => return Ch::B(c),
            }
        }
    }

    /// Pop a finished include file; false when it was the top file.
    fn pop_file(&mut self) -> bool {
        if self.files.len() <= 1 {
            return false;
        }
        self.files.pop();
        true
    }

    fn lgetc_quoted(&mut self) -> Ch {
        let c = self.igetc();
        if c == Ch::Eof {
            self.error("reached end of file while parsing quoted string");
            if self.pop_file() {
                // pfctl returns the quote character to end the string.
                return Ch::Eof;
            }
        }
        c
    }

    fn lgetc(&mut self) -> Ch {
        let mut c;
        loop {
            c = self.igetc();
            if c != Ch::B(b'\\') {
                break;
            }
            let next = self.igetc();
            if next != Ch::B(b'\n') {
                // pfctl drops a backslash that does not end a line.
                c = next;
                break;
            }
            self.lineno = self.cur().lineno;
            self.cur().lineno += 1;
        }
        if c == Ch::Eof {
            if !self.cur().eof_reached {
                self.cur().eof_reached = true;
                return Ch::B(b'\n');
            }
            while c == Ch::Eof {
                if !self.pop_file() {
                    return Ch::Eof;
                }
                c = self.igetc();
            }
        }
        c
    }

    /// Skip to the end of the line after a lexical error.
    fn findeol(&mut self) -> Tok {
        loop {
            match self.lgetc() {
                Ch::B(b'\n') => {
                    self.cur().lineno += 1;
                    break;
                }
                Ch::Eof => break,
                _ => {}
            }
        }
        Tok::Error
    }

    pub fn next_token(&mut self) -> Tok {
        'top: loop {
            let mut buf: Vec<u8> = Vec::new();
            let mut c = self.lgetc();
            while c == Ch::B(b' ') || c == Ch::B(b'\t') {
                c = self.lgetc();
            }
            self.lineno = self.cur().lineno;
            if c == Ch::B(b'#') {
                loop {
                    c = self.lgetc();
                    if c == Ch::B(b'\n') || c == Ch::Eof {
                        break;
                    }
                }
            }
            if c == Ch::B(b'$') && !self.expanding {
                loop {
                    let d = self.lgetc();
                    let Ch::B(b) = d else { return Tok::Eof };
                    if buf.len() + 1 >= MAX_TOKEN {
                        self.error("string too long");
                        return self.findeol();
                    }
                    if b.is_ascii_alphanumeric() || b == b'_' {
                        buf.push(b);
                        continue;
                    }
                    self.ungetc(d);
                    break;
                }
                let name = String::from_utf8_lossy(&buf).into_owned();
                let Some(val) = self.macros.get(&name).map(|v| v.as_bytes().to_vec()) else {
                    self.error(format!("macro '{name}' not defined"));
                    return self.findeol();
                };
                self.unget(Back::DoneExpand);
                for &b in val.iter().rev() {
                    self.unget(Back::Byte(b));
                }
                self.unget(Back::StartExpand);
                continue 'top;
            }
            let Ch::B(ch) = c else { return Tok::Eof };
            match ch {
                b'\'' | b'"' => {
                    let quote = ch;
                    loop {
                        let Ch::B(mut b) = self.lgetc_quoted() else {
                            return Tok::Eof;
                        };
                        if b == b'\n' {
                            self.cur().lineno += 1;
                            continue;
                        } else if b == b'\\' {
                            let Ch::B(next) = self.lgetc_quoted() else {
                                return Tok::Eof;
                            };
                            if next == quote || next == b' ' || next == b'\t' {
                                b = next;
                            } else if next == b'\n' {
                                self.cur().lineno += 1;
                                continue;
                            } else {
                                self.unget(Back::Byte(next));
                            }
                        } else if b == quote {
                            break;
                        } else if b == 0 {
                            self.error("syntax error");
                            return self.findeol();
                        }
                        if buf.len() + 1 >= MAX_TOKEN {
                            self.error("string too long");
                            return self.findeol();
                        }
                        buf.push(b);
                    }
                    return Tok::Str(String::from_utf8_lossy(&buf).into_owned());
                }
                b'!' => {
                    let n = self.lgetc();
                    if n == Ch::B(b'=') {
                        return Tok::Ne;
                    }
                    self.ungetc(n);
                }
                b'<' => {
                    let n = self.lgetc();
                    if n == Ch::B(b'>') {
                        return Tok::PortBinary(Op::Xrg);
                    } else if n == Ch::B(b'=') {
                        return Tok::Le;
                    }
                    self.ungetc(n);
                }
                b'>' => {
                    let n = self.lgetc();
                    if n == Ch::B(b'<') {
                        return Tok::PortBinary(Op::Irg);
                    } else if n == Ch::B(b'=') {
                        return Tok::Ge;
                    }
                    self.ungetc(n);
                }
                _ => {}
            }
            let mut ch = ch;
            if ch == b'-' || ch.is_ascii_digit() {
                let mut d = Ch::B(ch);
                while let Ch::B(b) = d {
                    buf.push(b);
                    if buf.len() >= MAX_TOKEN {
                        self.error("string too long");
                        return self.findeol();
                    }
                    d = self.lgetc();
                    if !matches!(d, Ch::B(x) if x.is_ascii_digit()) {
                        break;
                    }
                }
                self.ungetc(d);
                let ends = match d {
                    Ch::Eof => true,
                    Ch::B(x) => allowed_to_end_number(x),
                };
                if !(buf.len() == 1 && buf[0] == b'-') && ends {
                    let s = String::from_utf8_lossy(&buf).into_owned();
                    return match s.parse::<i64>() {
                        Ok(n) => Tok::Num(n),
                        Err(_) => {
                            let why = if s.starts_with('-') {
                                "too small"
                            } else {
                                "too large"
                            };
                            self.error(format!("\"{s}\" invalid number: {why}"));
                            self.findeol()
                        }
                    };
                }
                // Not a number: push everything back but the first char.
                while buf.len() > 1 {
                    let b = buf.pop().unwrap_or(b' ');
                    self.unget(Back::Byte(b));
                }
                ch = buf.pop().unwrap_or(b' ');
                if ch == b'-' {
                    return Tok::Char(b'-');
                }
            }
            if ch.is_ascii_alphanumeric() || ch == b':' || ch == b'_' {
                let mut d = Ch::B(ch);
                while let Ch::B(b) = d {
                    buf.push(b);
                    if buf.len() >= MAX_TOKEN {
                        self.error("string too long");
                        return self.findeol();
                    }
                    d = self.lgetc();
                    if !matches!(d, Ch::B(x) if allowed_in_string(x)) {
                        break;
                    }
                }
                self.ungetc(d);
                let s = String::from_utf8_lossy(&buf).into_owned();
                return match keyword(&s) {
                    Some(k) => Tok::Kw(k),
                    None => Tok::Str(s),
                };
            }
            if ch == b'\n' {
                self.lineno = self.cur().lineno;
                self.cur().lineno += 1;
            }
            return Tok::Char(ch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        let mut m = Macros::default();
        m.set("a", "ssh ftp", false);
        let mut l = Lexer::new("stdin", s.as_bytes().to_vec(), m);
        let mut v = Vec::new();
        loop {
            let t = l.next_token();
            if t == Tok::Eof {
                break;
            }
            v.push(t);
        }
        v
    }

    #[test]
    fn keywords_are_sorted() {
        let mut k = KEYWORDS.to_vec();
        k.sort_unstable();
        assert_eq!(k, KEYWORDS);
    }

    #[test]
    fn basic_tokens() {
        let t = toks("pass in from 10/8 port <> 22 # c\n");
        assert_eq!(
            t,
            vec![
                Tok::Kw("pass"),
                Tok::Kw("in"),
                Tok::Kw("from"),
                Tok::Num(10),
                Tok::Char(b'/'),
                Tok::Num(8),
                Tok::Kw("port"),
                Tok::PortBinary(Op::Xrg),
                Tok::Num(22),
                Tok::Char(b'\n'),
                Tok::Char(b'\n'),
            ]
        );
    }

    #[test]
    fn macro_and_continuation() {
        let t = toks("port { $a } \\\n 1.2.3.4");
        assert_eq!(
            t,
            vec![
                Tok::Kw("port"),
                Tok::Char(b'{'),
                Tok::Str("ssh".into()),
                Tok::Str("ftp".into()),
                Tok::Char(b'}'),
                Tok::Str("1.2.3.4".into()),
                Tok::Char(b'\n'),
            ]
        );
    }

    #[test]
    fn undefined_macro_is_an_error() {
        let mut l = Lexer::new("f", b"pass $nope\npass".to_vec(), Macros::default());
        assert_eq!(l.next_token(), Tok::Kw("pass"));
        assert_eq!(l.next_token(), Tok::Error);
        assert_eq!(l.errors, vec!["f:1: macro 'nope' not defined".to_string()]);
        assert_eq!(l.next_token(), Tok::Kw("pass"));
    }

    #[test]
    fn number_followed_by_letters_is_a_string() {
        assert_eq!(
            toks("1Mb -x"),
            vec![
                Tok::Str("1Mb".into()),
                Tok::Char(b'-'),
                Tok::Str("x".into()),
                Tok::Char(b'\n')
            ]
        );
    }
}
