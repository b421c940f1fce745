//! `set` options, echoed as pfctl -v echoes them.

use super::{Abort, Parser, R};
use crate::lexer::Tok;
use crate::rule::timeout_index;
use crate::ruleset::{BlockPolicy, Syncookies, LIMIT_NAMES};

/// `set optimization` presets: (name, [(timeout, seconds)]).
const HINTS: &[(&str, &[(&str, u32)])] = &[
    ("normal", &NORMAL),
    ("satellite", &SATELLITE),
    ("high-latency", &SATELLITE),
    ("conservative", &CONSERVATIVE),
    ("aggressive", &AGGRESSIVE),
];
const NORMAL: [(&str, u32); 7] = [
    ("tcp.first", 120),
    ("tcp.opening", 30),
    ("tcp.established", 86400),
    ("tcp.closing", 900),
    ("tcp.finwait", 45),
    ("tcp.closed", 90),
    ("tcp.tsdiff", 30),
];
const SATELLITE: [(&str, u32); 7] = [
    ("tcp.first", 180),
    ("tcp.opening", 35),
    ("tcp.established", 86400),
    ("tcp.closing", 905),
    ("tcp.finwait", 50),
    ("tcp.closed", 95),
    ("tcp.tsdiff", 60),
];
const CONSERVATIVE: [(&str, u32); 7] = [
    ("tcp.first", 3600),
    ("tcp.opening", 900),
    ("tcp.established", 432000),
    ("tcp.closing", 3600),
    ("tcp.finwait", 600),
    ("tcp.closed", 270),
    ("tcp.tsdiff", 60),
];
const AGGRESSIVE: [(&str, u32); 7] = [
    ("tcp.first", 30),
    ("tcp.opening", 5),
    ("tcp.established", 18000),
    ("tcp.closing", 60),
    ("tcp.finwait", 30),
    ("tcp.closed", 30),
    ("tcp.tsdiff", 10),
];

const LOG_LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

impl<'a> Parser<'a> {
    pub(super) fn option(&mut self) -> R<()> {
        self.expect_kw("set")?;
        let t = self.bump();
        match t {
            Tok::Kw("reassemble") => {
                let yes = match self.bump() {
                    Tok::Kw("no") => false,
                    Tok::Str(s) if s == "yes" => true,
                    Tok::Str(s) => {
                        return self.fail(format!("invalid value '{s}', expected 'yes' or 'no'"))
                    }
                    _ => return Err(Abort::Syntax),
                };
                let nodf = self.eat_kw("no-df");
                self.at_end()?;
                self.opts.reassemble = yes;
                self.opts.reassemble_no_df = yes && nodf;
                let y = if yes { "yes" } else { "no" };
                let n = if nodf { "no-df" } else { "" };
                self.echo.push_str(&format!("set reassemble {y} {n}\n"));
            }
            Tok::Kw("optimization") => {
                let s = self.string()?;
                self.at_end()?;
                let Some((_, hint)) = HINTS.iter().find(|(n, _)| n.eq_ignore_ascii_case(&s)) else {
                    self.raw("pfctl: invalid state timeouts optimization");
                    return self.fail(format!("unknown optimization {s}"));
                };
                for (name, secs) in hint.iter() {
                    if let Some(i) = timeout_index(name) {
                        self.opts.timeouts[i] = *secs;
                        self.opts.timeout_set[i] = true;
                    }
                }
                self.opts.optimization = Some(s.clone());
                self.echo.push_str(&format!("set optimization {s}\n"));
            }
            Tok::Kw("ruleset-optimization") => {
                let s = self.string()?;
                self.at_end()?;
                if !matches!(s.as_str(), "none" | "basic" | "profile") {
                    return self.fail(format!("unknown ruleset-optimization {s}"));
                }
                if self.opts.ruleset_optimization.is_none() {
                    self.opts.ruleset_optimization = Some(s);
                }
            }
            Tok::Kw("timeout") => {
                self.list(|p| p.timeout_spec())?;
            }
            Tok::Kw("limit") => {
                self.list(|p| p.limit_spec())?;
            }
            Tok::Kw("loginterface") => {
                let s = match self.bump() {
                    Tok::Str(s) => s,
                    Tok::Kw("all") => "all".to_string(),
                    _ => return Err(Abort::Syntax),
                };
                self.at_end()?;
                self.opts.loginterface = if s == "none" { None } else { Some(s.clone()) };
                self.echo.push_str(&format!("set loginterface {s}\n"));
            }
            Tok::Kw("hostid") => {
                let n: i64 = match self.bump() {
                    Tok::Num(n) => n,
                    Tok::Str(s) => match super::filter::parse_ulong(&s) {
                        Some(v) => v as i64,
                        None => return self.fail(format!("{s} is not a number")),
                    },
                    _ => return Err(Abort::Syntax),
                };
                self.at_end()?;
                if n == 0 || n > i64::from(u32::MAX) || n < 0 {
                    return self.fail("hostid must be non-zero");
                }
                self.opts.hostid = Some(n as u32);
                self.echo.push_str(&format!("set hostid 0x{n:08x}\n"));
            }
            Tok::Kw("block-policy") => {
                let p = match self.bump() {
                    Tok::Kw("drop") => BlockPolicy::Drop,
                    Tok::Kw("return") => BlockPolicy::Return,
                    _ => return Err(Abort::Syntax),
                };
                self.at_end()?;
                self.echo.push_str(match p {
                    BlockPolicy::Drop => "set block-policy drop\n",
                    BlockPolicy::Return => "set block-policy return\n",
                });
                self.opts.block_policy = p;
            }
            Tok::Kw("fingerprints") => {
                let s = self.string()?;
                self.at_end()?;
                self.echo.push_str(&format!("set fingerprints \"{s}\"\n"));
                if self.current_anchor().is_empty() && self.files.read(&s).is_err() {
                    return self.fail(format!("error loading fingerprints {s}"));
                }
                self.opts.fingerprints = Some(s);
            }
            Tok::Kw("state-policy") => {
                let b = match self.bump() {
                    Tok::Kw("if-bound") => true,
                    Tok::Kw("floating") => false,
                    _ => return Err(Abort::Syntax),
                };
                self.at_end()?;
                self.echo.push_str(if b {
                    "set state-policy if-bound\n"
                } else {
                    "set state-policy floating\n"
                });
                self.default_if_bound = b;
                self.opts.state_policy_if_bound = b;
            }
            Tok::Kw("debug") => {
                let s = match self.bump() {
                    Tok::Str(s) => s,
                    Tok::Kw("debug") => "debug".to_string(),
                    Tok::Num(n) => n.to_string(),
                    _ => return Err(Abort::Syntax),
                };
                self.at_end()?;
                let level = match s.parse::<u32>() {
                    Ok(n) if n <= 7 => Some(n),
                    Ok(_) => None,
                    Err(_) => LOG_LEVELS
                        .iter()
                        .position(|l| l.eq_ignore_ascii_case(&s))
                        .map(|i| i as u32),
                };
                let Some(level) = level else {
                    self.raw(format!("pfctl: unknown debug level \"{s}\""));
                    return self.fail(format!("error setting debuglevel {s}"));
                };
                self.opts.debug = Some(level);
                self.echo.push_str(&format!("set debug {s}\n"));
            }
            Tok::Kw("skip") => {
                let ifs = self.interface_after_on()?;
                self.at_end()?;
                if ifs.is_empty() || (ifs.len() == 1 && !ifs[0].not && ifs[0].ifname == "none") {
                    self.echo.push_str("set skip on none\n");
                    self.opts.skip.clear();
                } else {
                    let mut line = String::from("set skip on {");
                    let mut bad = false;
                    for i in &ifs {
                        line.push(' ');
                        line.push_str(&i.ifname);
                        if i.not {
                            self.error("skip on ! <interface> is not supported");
                            bad = true;
                        } else if i.rdomain.is_some() {
                            self.error("skip on rdomain <num> is not supported");
                            bad = true;
                        } else {
                            self.opts.skip.push(i.ifname.clone());
                        }
                    }
                    line.push_str(" }\n");
                    self.echo.push_str(&line);
                    if bad {
                        return self.fail("error setting skip interface(s)");
                    }
                }
            }
            Tok::Kw("state-defaults") => {
                let opts = self.state_opt_list()?;
                self.at_end()?;
                if self.keep_state_defaults.is_some() {
                    return self.fail("cannot redefine state-defaults");
                }
                self.keep_state_defaults = Some(opts);
            }
            Tok::Kw("syncookies") => {
                let v = self.string()?;
                let mut wm = None;
                if self.eat(b'(') {
                    let mut w = (0u32, 0u32);
                    loop {
                        let k = self.string()?;
                        let val = self.string()?;
                        let Some(num) = val.strip_suffix('%') else {
                            return Err(Abort::Syntax);
                        };
                        let Ok(p) = num.parse::<f64>() else {
                            return Err(Abort::Syntax);
                        };
                        if p <= 0.0 || p > 100.0 {
                            return self.fail("illegal percentage value");
                        }
                        match k.as_str() {
                            "start" => w.0 = p as u32,
                            "end" => w.1 = p as u32,
                            _ => return self.fail("illegal syncookie option"),
                        }
                        if self.eat(b')') {
                            break;
                        }
                        self.comma();
                    }
                    wm = Some(w);
                }
                self.at_end()?;
                let mode = match v.as_str() {
                    "never" => 0,
                    "adaptive" => 1,
                    "always" => 2,
                    _ => return self.fail("illegal value for syncookies"),
                };
                if mode != 1 && wm.is_some() {
                    self.raw("pfctl: syncookies start/end only apply to adaptive");
                    return self.fail("error setting syncookies");
                }
                match mode {
                    0 => {
                        self.opts.syncookies = Syncookies::Never;
                        self.echo.push_str("set syncookies never\n");
                    }
                    2 => {
                        self.opts.syncookies = Syncookies::Always;
                        self.echo.push_str("set syncookies always\n");
                    }
                    _ => match wm {
                        Some((mut hi, mut lo)) => {
                            if hi == 0 {
                                hi = 25;
                            }
                            if lo == 0 {
                                lo = hi / 2;
                            }
                            if lo >= hi {
                                self.raw("pfctl: start must be higher than end");
                                return self.fail("error setting syncookies");
                            }
                            self.opts.syncookies = Syncookies::Adaptive { start: hi, end: lo };
                            self.echo.push_str(&format!(
                                "set syncookies adaptive (start {hi}%, end {lo}%)\n"
                            ));
                        }
                        None => {
                            self.opts.syncookies = Syncookies::Adaptive { start: 25, end: 12 };
                            self.echo.push_str("set syncookies adaptive\n");
                        }
                    },
                }
            }
            _ => return Err(Abort::Syntax),
        }
        self.end()
    }

    /// `set skip on <interface>`: the `on` and interface list.
    fn interface_after_on(&mut self) -> R<Vec<super::filter::NodeIf>> {
        if !self.at_kw("on") {
            return Err(Abort::Syntax);
        }
        self.interface()
    }

    fn timeout_spec(&mut self) -> R<()> {
        let name = self.string()?;
        let n = self.number()?;
        if !(0..=i64::from(u32::MAX)).contains(&n) {
            return self.fail("only positive values permitted");
        }
        let Some(i) = timeout_index(&name) else {
            self.raw("pfctl: Bad timeout name.");
            return self.fail(format!("unknown timeout {name}"));
        };
        self.opts.timeouts[i] = n as u32;
        self.opts.timeout_set[i] = true;
        self.echo.push_str(&format!("set timeout {name} {n}\n"));
        Ok(())
    }

    fn limit_spec(&mut self) -> R<()> {
        let name = self.string()?;
        let n = self.number()?;
        if !(0..=i64::from(u32::MAX)).contains(&n) {
            return self.fail("only positive values permitted");
        }
        let Some(i) = LIMIT_NAMES
            .iter()
            .position(|l| l.eq_ignore_ascii_case(&name))
        else {
            self.raw("pfctl: Bad pool name.");
            return self.fail(format!("unable to set limit {name} {n}"));
        };
        self.opts.limits[i] = n as u32;
        self.opts.limit_set[i] = true;
        self.echo
            .push_str(&format!("set limit {name} {}\n", n as i32));
        Ok(())
    }
}
