//! The `host` production: names and addresses (through `host()`), ranges,
//! `/mask`, dynamic `(if)` addresses, `<table>` and `route "label"`.

use super::{Abort, Parser, R};
use crate::addr::{AddrWrap, IfAddrFlags, NodeHost};
use crate::lexer::Tok;

impl<'a> Parser<'a> {
    /// Resolve a host string; on failure pfctl prints the resolver's line
    /// and then `could not parse host specification`.
    fn host_lookup(&mut self, s: &str) -> R<Vec<NodeHost>> {
        match crate::host::host(s, self.env) {
            Ok(v) if !v.is_empty() => Ok(v),
            Ok(_) => {
                self.raw(format!("no IP address found for {s}"));
                self.fail("could not parse host specification")
            }
            Err(e) => {
                for l in e.lines() {
                    self.raw(l);
                }
                self.fail("could not parse host specification")
            }
        }
    }

    pub(super) fn host(&mut self) -> R<Vec<NodeHost>> {
        match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                if self.at(b'-') {
                    self.bump();
                    let e = self.string()?;
                    return self.range(&s, &e);
                }
                if self.at(b'/') {
                    self.bump();
                    let n = self.number()?;
                    return self.host_lookup(&format!("{s}/{n}"));
                }
                self.host_lookup(&s)
            }
            Tok::Num(a) => {
                self.bump();
                self.expect(b'/')?;
                let b = self.number()?;
                self.host_lookup(&format!("{a}/{b}"))
            }
            Tok::Char(b'(') => {
                let mut h = self.dynaddr()?;
                if self.eat(b'/') {
                    let n = self.number()?;
                    if !(0..=128).contains(&n) {
                        return self.fail("bit number too big");
                    }
                    if let AddrWrap::DynIf { prefix, .. } = &mut h.addr {
                        *prefix = n as u8;
                    }
                }
                Ok(vec![h])
            }
            Tok::Char(b'<') => {
                self.bump();
                let name = self.string()?;
                self.expect(b'>')?;
                if name.len() >= 32 {
                    return self.fail(format!("table name '{name}' too long"));
                }
                Ok(vec![NodeHost::new(AddrWrap::Table { name }, None)])
            }
            Tok::Kw("route") => {
                self.bump();
                let l = self.string()?;
                if l.len() >= 32 {
                    return self.fail("route label too long, max 31 chars");
                }
                Ok(vec![NodeHost::new(AddrWrap::RouteLabel(l), None)])
            }
            _ => Err(Abort::Syntax),
        }
    }

    fn range(&mut self, a: &str, b: &str) -> R<Vec<NodeHost>> {
        let (Ok(x), Ok(y)) = (
            crate::host::host(a, self.env),
            crate::host::host(b, self.env),
        ) else {
            return self.fail("could not parse host specification");
        };
        let full = |v: &Vec<NodeHost>| -> Option<std::net::IpAddr> {
            if v.len() != 1 || v[0].not {
                return None;
            }
            match &v[0].addr {
                AddrWrap::AddrMask { addr, prefix }
                    if v[0].af.map(|f| f.bits()) == Some(*prefix) =>
                {
                    Some(*addr)
                }
                _ => None,
            }
        };
        match (full(&x), full(&y)) {
            (Some(from), Some(to)) if x[0].af == y[0].af => {
                Ok(vec![NodeHost::new(AddrWrap::Range { from, to }, x[0].af)])
            }
            _ => self.fail("invalid address range"),
        }
    }

    /// `'(' STRING ')'` with `:network`, `:broadcast`, `:peer`, `:0`.
    fn dynaddr(&mut self) -> R<NodeHost> {
        self.expect(b'(')?;
        let s = self.string()?;
        self.expect(b')')?;
        if !s
            .as_bytes()
            .first()
            .is_some_and(|c| c.is_ascii_alphabetic())
        {
            return self.fail(format!("invalid interface name '{s}'"));
        }
        let mut flags = IfAddrFlags::default();
        let mut name = s.as_str();
        let mut modes = 0;
        while let Some(i) = name.rfind(':') {
            match &name[i + 1..] {
                "network" => {
                    flags.network = true;
                    modes += 1;
                }
                "broadcast" => {
                    flags.broadcast = true;
                    modes += 1;
                }
                "peer" => {
                    flags.peer = true;
                    modes += 1;
                }
                "0" => flags.noalias = true,
                _ => return self.fail(format!("interface {s} has bad modifier")),
            }
            name = &name[..i];
        }
        if modes > 1 {
            return self.fail("illegal combination of interface modifiers");
        }
        if name.len() >= 16 {
            return self.fail("interface name too long");
        }
        Ok(NodeHost::new(
            AddrWrap::DynIf {
                ifname: name.to_string(),
                flags,
                prefix: 128,
            },
            None,
        ))
    }
}
