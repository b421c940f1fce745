//! pfctl's `expand_rule`: one parsed rule with lists becomes one rule per
//! combination of interface, protocol, ICMP type, addresses, ports, OS,
//! user and group, with pools collapsed, labels expanded, binat split into
//! its outbound and inbound halves, and every combination checked by
//! `rule_consistent`.

use super::filter::{NodeIcmp, NodeIf, NodePort, RedirSpec};
use super::Parser;
use crate::addr::{AddrWrap, Af, NodeHost};
use crate::rule::*;

/// One side of a rule before expansion. `hosts == None` is `any`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Side {
    pub hosts: Option<Vec<NodeHost>>,
    pub ports: Vec<NodePort>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct RuleSpec {
    pub ifs: Vec<NodeIf>,
    pub protos: Vec<u8>,
    pub src: Side,
    pub dst: Side,
    pub os: Option<Vec<String>>,
    pub uids: Vec<IdRange>,
    pub gids: Vec<IdRange>,
    pub icmp: Vec<NodeIcmp>,
    pub nat: Option<RedirSpec>,
    pub rdr: Option<RedirSpec>,
    pub route: Option<RedirSpec>,
}

const NAT_PORT_LOW: u16 = 50001;
/// Most rules one statement may expand to. pfctl has no limit; a few lists
/// multiplied together would otherwise exhaust memory.
pub(crate) const EXPANSION_MAX: usize = 1_000_000;
const NAT_PORT_HIGH: u16 = 65535;

#[derive(Clone, Copy, PartialEq)]
enum Which {
    Nat,
    Rdr,
    Route,
}

fn pool_mut(r: &mut Rule, w: Which) -> &mut Pool {
    match w {
        Which::Nat => &mut r.nat,
        Which::Rdr => &mut r.rdr,
        Which::Route => &mut r.route,
    }
}

fn any_host() -> NodeHost {
    NodeHost::new(AddrWrap::Any, None)
}

fn empty_if() -> NodeIf {
    NodeIf {
        ifname: String::new(),
        not: false,
        rdomain: None,
        dynamic: false,
        loopback: false,
    }
}

/// A list, or one empty element when the list is empty (pfctl's
/// `LOOP_THROUGH` on a NULL list).
fn or_one<T: Clone>(v: &[T], empty: T) -> Vec<T> {
    if v.is_empty() {
        vec![empty]
    } else {
        v.to_vec()
    }
}

/// pf's `DYNIF_MULTIADDR`: a dynamic address that may stand for several.
pub(crate) fn dynif_multiaddr(a: &AddrWrap) -> bool {
    match a {
        AddrWrap::DynIf { ifname, flags, .. } => {
            !flags.noalias || !ifname.as_bytes().last().is_some_and(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

/// pf's `PF_AZERO` on an operand's mask, which is false when the family
/// is unknown.
fn mask_zero(a: &AddrWrap, af: Option<Af>) -> bool {
    if af.is_none() {
        return false;
    }
    match a {
        AddrWrap::AddrMask { prefix, .. } | AddrWrap::DynIf { prefix, .. } => *prefix == 0,
        // A range keeps its end address where the mask would be.
        AddrWrap::Range { to, .. } => to.is_unspecified(),
        _ => true,
    }
}

/// pfctl's `gen_dynnode`: a dynamic address's mask clamped to the family.
fn gen_dynnode(h: &NodeHost, af: Option<Af>) -> NodeHost {
    let mut n = h.clone();
    n.ifname = None;
    if let AddrWrap::DynIf { prefix, .. } = &mut n.addr {
        if af == Some(Af::Inet) && *prefix > 32 {
            *prefix = 32;
        }
    }
    n
}

impl<'a> Parser<'a> {
    pub(crate) fn expand_rule(&mut self, r: Rule, spec: RuleSpec) {
        let mut r = r;
        // pfctl's rule starts zeroed: an absent pool reads as an address.
        for w in [Which::Nat, Which::Rdr, Which::Route] {
            let p = pool_mut(&mut r, w);
            if p.addr.is_none() {
                p.addr = Some(AddrWrap::Any);
            }
        }
        let added = self.expand_inner(&mut r, &spec);
        if added == 0 {
            self.error("rule expands to no valid combination");
        }
    }

    /// Returns the number of rules added.
    fn expand_inner(&mut self, r: &mut Rule, spec: &RuleSpec) -> usize {
        let saved = Saved {
            af: r.af,
            dir: r.direction,
            label: r.label.clone(),
            tag: r.tag.clone(),
            tagged: r.tagged.clone(),
            flags: (r.flags, r.flagset),
            keep: r.keep_state,
        };
        let hosts_or_any = |hosts: &Option<Vec<NodeHost>>| {
            hosts
                .clone()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| vec![any_host()])
        };
        let lists = Lists {
            ifs: or_one(&spec.ifs, empty_if()),
            protos: or_one(&spec.protos, 0u8),
            icmps: or_one(&spec.icmp, NodeIcmp::default()),
            srcs: hosts_or_any(&spec.src.hosts),
            dsts: hosts_or_any(&spec.dst.hosts),
            sports: or_one(&spec.src.ports, PortRange::default()),
            dports: or_one(&spec.dst.ports, PortRange::default()),
            oses: match &spec.os {
                Some(v) if !v.is_empty() => v.iter().cloned().map(Some).collect(),
                _ => vec![None],
            },
            uids: or_one(&spec.uids, IdRange::default()),
            gids: or_one(&spec.gids, IdRange::default()),
        };
        let lens = lists.lens();
        let combos = lens.iter().fold(1usize, |a, &n| a.saturating_mul(n));
        if combos > EXPANSION_MAX {
            self.error(format!(
                "rule expands to {combos} rules, more than {EXPANSION_MAX}"
            ));
            return 0;
        }

        let mut added = 0;
        let mut error = 0usize;
        let mut idx = [0usize; LISTS];
        loop {
            let c = Combo { idx, lists: &lists };
            self.expand_combo(r, spec, &saved, &c, &mut added, &mut error);
            if !odometer_step(&mut idx, &lens) {
                break;
            }
        }
        added
    }

    /// One combination of [`Self::expand_inner`]: `c.idx` picks one
    /// element of each list. `error` carries over from earlier
    /// combinations, as in pfctl: once one combination fails, every later
    /// one is skipped too.
    fn expand_combo(
        &mut self,
        r: &mut Rule,
        spec: &RuleSpec,
        saved: &Saved,
        c: &Combo<'_>,
        added: &mut usize,
        error: &mut usize,
    ) {
        let Saved {
            af,
            dir,
            label,
            tag,
            tagged,
            flags,
            keep,
        } = saved;
        let (af, dir, flags, keep) = (*af, *dir, *flags, *keep);
        let l = c.lists;
        let iface = &l.ifs[c.idx[0]];
        let proto = l.protos[c.idx[1]];
        let icmp = &l.icmps[c.idx[2]];
        let src_host = &l.srcs[c.idx[3]];
        let dst_host = &l.dsts[c.idx[4]];
        let sport = &l.sports[c.idx[5]];
        let dport = &l.dports[c.idx[6]];
        let os = &l.oses[c.idx[7]];
        let uid = &l.uids[c.idx[8]];
        let gid = &l.gids[c.idx[9]];
        let dsts = &l.dsts;
        r.af = af;
        *error += self.collapse(r, Which::Rdr, spec.rdr.as_ref(), false);
        *error += self.collapse(r, Which::Nat, spec.nat.as_ref(), false);
        *error += self.collapse(r, Which::Route, spec.route.as_ref(), true);

        if (matches!(src_host.addr, AddrWrap::AddrMask { .. }) && src_host.ifname.is_some())
            || (matches!(dst_host.addr, AddrWrap::AddrMask { .. }) && dst_host.ifname.is_some())
        {
            self.error("@if syntax not permitted in from or to");
            *error += 1;
        }
        let if_index = |name: &str| self.env.interface(name).map(|i| i.index).unwrap_or(0);
        let skip = (r.af.is_some() && src_host.af.is_some() && r.af != src_host.af)
            || (r.af.is_some() && dst_host.af.is_some() && r.af != dst_host.af)
            || (src_host.af.is_some() && dst_host.af.is_some() && src_host.af != dst_host.af)
            || (src_host.scope_id != 0
                && dst_host.scope_id != 0
                && src_host.scope_id != dst_host.scope_id)
            || (src_host.scope_id != 0
                && !iface.ifname.is_empty()
                && src_host.scope_id != if_index(&iface.ifname))
            || (dst_host.scope_id != 0
                && !iface.ifname.is_empty()
                && dst_host.scope_id != if_index(&iface.ifname));
        if skip {
            return;
        }
        if r.af.is_none() {
            r.af = src_host.af.or(dst_host.af);
        }
        let by_index = |idx: u32| {
            if idx == 0 {
                None
            } else {
                self.env
                    .interfaces()
                    .iter()
                    .find(|i| i.index == idx)
                    .map(|i| i.name.clone())
            }
        };
        r.ifname = if !iface.ifname.is_empty() {
            Some(iface.ifname.clone())
        } else {
            by_index(src_host.scope_id).or_else(|| by_index(dst_host.scope_id))
        };
        r.onrdomain = iface.rdomain;
        let ifn = r.ifname.clone().unwrap_or_default();
        r.label = self.expand_label(label, &ifn, r.af, src_host, sport, dst_host, dport, proto);
        r.tag = self.expand_label(tag, &ifn, r.af, src_host, sport, dst_host, dport, proto);
        r.tagged = self.expand_label(tagged, &ifn, r.af, src_host, sport, dst_host, dport, proto);

        let sh = if matches!(src_host.addr, AddrWrap::DynIf { .. }) {
            gen_dynnode(src_host, r.af)
        } else {
            src_host.clone()
        };
        let dh = if matches!(dst_host.addr, AddrWrap::DynIf { .. }) {
            gen_dynnode(dst_host, r.af)
        } else {
            dst_host.clone()
        };
        *error += self.check_netmask(&sh, r.af);
        *error += self.check_netmask(&dh, r.af);

        r.ifnot = iface.not;
        r.proto = proto;
        r.src = RuleAddr {
            addr: sh.addr.clone(),
            neg: sh.not,
            port: *sport,
        };
        r.dst = RuleAddr {
            addr: dh.addr.clone(),
            neg: dh.not,
            port: *dport,
        };
        r.uid = *uid;
        r.gid = *gid;
        r.icmp_type = icmp.ty;
        r.icmp_code = icmp.code;
        r.keep_state = if matches!(keep, KeepState::Modulate | KeepState::Synproxy)
            && proto != 0
            && proto != 6
        {
            KeepState::Keep
        } else {
            keep
        };
        if proto != 0 && proto != 6 {
            r.flags = 0;
            r.flagset = 0;
        } else {
            r.flags = flags.0;
            r.flagset = flags.1;
        }
        if icmp.proto != 0 && r.proto != icmp.proto {
            self.error("icmp-type mismatch");
            *error += 1;
        }
        r.os = os.clone();

        let binat = spec
            .nat
            .as_ref()
            .is_some_and(|n| n.rdr.is_some() && n.binat);
        if binat {
            let src_hosts_one = std::slice::from_ref(&sh);
            if let Some(t) = src_hosts_one.iter().find_map(|h| match &h.addr {
                AddrWrap::Table { name } => Some(name.clone()),
                _ => None,
            }) {
                self.error(format!(
                    "invalid use of table <{t}> as the source address of a binat-to rule"
                ));
                *error += 1;
            } else if let Some(i) = src_hosts_one.iter().find_map(|h| match &h.addr {
                AddrWrap::DynIf { ifname, .. } if dynif_multiaddr(&h.addr) => Some(ifname.clone()),
                _ => None,
            }) {
                self.error(format!(
                    "invalid use of interface ({i}) as the source address of a binat-to rule"
                ));
                *error += 1;
            } else {
                // `any` is an address/mask of zeros in pf.
                let ok = |a: &AddrWrap| {
                    matches!(
                        a,
                        AddrWrap::AddrMask { .. } | AddrWrap::DynIf { .. } | AddrWrap::Any
                    )
                };
                let nat_ok = r.nat.addr.as_ref().is_some_and(ok);
                // Deliberate deviation: pfctl accepts an
                // unspecified (`any`) source and prints an
                // inbound half (`rdr-to any`) that it cannot
                // read back; we refuse it.
                let src_ok = ok(&r.src.addr) && !matches!(r.src.addr, AddrWrap::Any);
                if !src_ok || !nat_ok {
                    self.error("binat-to requires a specified source and redirect address");
                    *error += 1;
                }
            }
            let nat_addr = r.nat.addr.clone().unwrap_or(AddrWrap::Any);
            if dynif_multiaddr(&r.src.addr) || dynif_multiaddr(&nat_addr) {
                self.error("dynamic interfaces must be used with :0 in a binat-to rule");
                *error += 1;
            }
            if mask_zero(&r.src.addr, af) || mask_zero(&nat_addr, af) {
                self.error(
                    "source and redir addresess must have a matching network mask in binat-rule",
                );
                *error += 1;
            }
            if matches!(nat_addr, AddrWrap::Table { .. }) {
                self.error("tables cannot be used as the redirect address of a binat-to rule");
                *error += 1;
            }
            if r.direction != Direction::InOut {
                self.error("binat-to cannot be specified with a direction");
                *error += 1;
            }
            r.direction = Direction::Out;
        }

        *error += self.apply_redirspec(r, Which::Nat, spec.nat.as_ref(), dport);
        *error += self.apply_redirspec(r, Which::Rdr, spec.rdr.as_ref(), dport);
        *error += self.apply_redirspec(r, Which::Route, spec.route.as_ref(), dport);

        if self.rule_consistent(r) > 0 || *error > 0 {
            self.error("skipping rule due to errors");
        } else {
            let mut nr = r.clone();
            nr.line = self.stmt_line;
            self.current_rules().push(nr);
            *added += 1;
        }
        r.direction = dir;

        if *error == 0 && binat {
            // The inbound half: rdr from the translated address back.
            let mut rb = r.clone();
            rb.direction = Direction::In;
            let mut srch = sh.clone();
            srch.ifname = None;
            let dsth = NodeHost::new(r.nat.addr.clone().unwrap_or(AddrWrap::Any), None);
            let nat = spec.nat.clone().unwrap_or_default();
            let mut b = nat.clone();
            b.binat = false;
            b.pool.static_port = false;
            if let Some(rd) = b.rdr.as_mut() {
                rd.hosts = vec![srch];
            }
            // pfctl hands the recursive call its current list nodes, which
            // still link to the rest of their lists.
            let tail_hosts = if matches!(dst_host.addr, AddrWrap::DynIf { .. }) {
                vec![dh.clone()]
            } else {
                dsts[c.idx[4]..].to_vec()
            };
            let inner = RuleSpec {
                ifs: tail_if(&spec.ifs, c.idx[0]),
                protos: tail(&spec.protos, c.idx[1]),
                src: Side {
                    hosts: Some(tail_hosts),
                    ports: tail(&spec.dst.ports, c.idx[6]),
                },
                dst: Side {
                    hosts: Some(vec![dsth]),
                    ports: tail(&spec.src.ports, c.idx[5]),
                },
                os: spec.os.as_ref().map(|v| {
                    if v.is_empty() {
                        Vec::new()
                    } else {
                        v[c.idx[7]..].to_vec()
                    }
                }),
                uids: tail(&spec.uids, c.idx[8]),
                gids: tail(&spec.gids, c.idx[9]),
                icmp: tail(&spec.icmp, c.idx[2]),
                nat: None,
                rdr: Some(b),
                route: None,
            };
            let n = self.expand_inner(&mut rb, &inner);
            if n == 0 {
                self.error("rule expands to no valid combination");
            }
        }
    }

    /// pfctl's `collapse_redirspec`: pick the pool's addresses for the
    /// rule's family; several become an automatic table.
    fn collapse(&mut self, r: &mut Rule, w: Which, rs: Option<&RedirSpec>, routing: bool) -> usize {
        let what = if routing { "routing" } else { "translation" };
        let Some(rs) = rs else {
            pool_mut(r, w).addr = None;
            return 0;
        };
        let Some(rdr) = rs.rdr.as_ref().filter(|d| !d.hosts.is_empty()) else {
            pool_mut(r, w).addr = None;
            return 0;
        };
        if r.afto {
            r.naf = rs.af;
        }
        let mut af: Option<Af> = None;
        let mut naddr = 0;
        let mut table: Vec<NodeHost> = Vec::new();
        let mut hprev: Option<NodeHost> = None;
        for h in &rdr.hosts {
            if routing {
                if let AddrWrap::DynIf { flags, .. } = &h.addr {
                    if !(flags.peer && !flags.network && !flags.broadcast && !flags.noalias) {
                        self.error("route spec requires :peer with dynamic interface addresses");
                        return 1;
                    }
                }
            }
            if rs.af.is_some() && r.af.is_none() && af.is_none() {
                af = match r.naf {
                    Some(Af::Inet6) => Some(Af::Inet),
                    Some(Af::Inet) => Some(Af::Inet6),
                    None => rs.af,
                };
            }
            if h.af.is_some() && r.naf.is_none() {
                if r.af.is_some() && r.af != h.af {
                    continue;
                }
                if r.af.is_none() && af.is_some() && af != h.af {
                    self.error(format!(
                        "{what} spec contains addresses with different address families"
                    ));
                    return 1;
                }
            } else if h.af.is_some() && rs.af.is_some() && rs.af != h.af {
                self.error(format!(
                    "{what} spec contains addresses that don't match target address family"
                ));
                return 1;
            }
            if r.af.is_none() && af.is_none() {
                af = h.af;
            }
            if naddr == 0 {
                pool_mut(r, w).addr = Some(h.addr.clone());
                if h.ifname.is_some() {
                    self.error(format!("@if not permitted for {what}"));
                    return 1;
                }
                hprev = Some(h.clone());
            } else {
                if rs.pool.kind != PoolType::None && !rs.pool.kind.is_dynamic() {
                    self.error(
                        "pool type is not valid for multiple translation or routing addresses",
                    );
                    return 1;
                }
                let not_simple = |a: &AddrWrap| !matches!(a, AddrWrap::AddrMask { .. });
                if hprev.as_ref().is_some_and(|p| not_simple(&p.addr)) && not_simple(&h.addr) {
                    self.error("multiple tables or dynamic interfaces not supported for translation or routing");
                    return 1;
                }
                if h.ifname.is_some() {
                    self.error(format!("@if not permitted for {what}"));
                    return 1;
                }
                if let Some(p) = hprev.take() {
                    table.push(p);
                }
                table.push(h.clone());
            }
            naddr += 1;
        }
        if r.af.is_none() && af.is_some() {
            r.af = af;
        }
        if naddr == 0 {
            self.error(format!("af mismatch in {what} spec"));
            return 1;
        }
        if !table.is_empty() {
            let name = self.automatic_table(&table);
            pool_mut(r, w).addr = Some(AddrWrap::Table { name });
        }
        0
    }

    /// pfctl's `apply_redirspec`: ports and pool options.
    fn apply_redirspec(
        &mut self,
        r: &mut Rule,
        w: Which,
        rs: Option<&RedirSpec>,
        np: &NodePort,
    ) -> usize {
        let Some(rs) = rs else { return 0 };
        let Some(rdr) = rs.rdr.as_ref() else { return 0 };
        let isrdr = w != Which::Nat;
        let pool = pool_mut(r, w);
        pool.proxy_port[0] = rdr.rport.a;
        if isrdr {
            if rdr.rport.b == 0 && rdr.rport.t != Op::None {
                pool.proxy_port[1] = rdr.rport.a.wrapping_add(np.b.wrapping_sub(np.a));
            } else {
                let (a, b, t) = (rdr.rport.a, rdr.rport.b, rdr.rport.t);
                if (t == Op::Rrg && a > b) || (t == Op::Irg && a >= b) || (t == Op::Xrg && a > b) {
                    self.error("invalid rdr-to port range");
                    return 1;
                }
                let pool = pool_mut(r, w);
                pool.port_op = t;
                pool.proxy_port[1] = b;
            }
        } else {
            pool.proxy_port[1] = rdr.rport.b;
            if pool.proxy_port == [0, 0] {
                pool.proxy_port = [NAT_PORT_LOW, NAT_PORT_HIGH];
            } else if pool.proxy_port[1] == 0 {
                pool.proxy_port[1] = pool.proxy_port[0];
            }
        }
        let pool = pool_mut(r, w);
        pool.kind = rs.pool.kind;
        let addr = pool.addr.clone().unwrap_or(AddrWrap::Any);
        if pool.kind == PoolType::None
            && (matches!(addr, AddrWrap::Table { .. }) || dynif_multiaddr(&addr))
        {
            pool.kind = PoolType::RoundRobin;
        }
        if !pool.kind.is_dynamic() {
            if rdr
                .hosts
                .iter()
                .any(|h| matches!(h.addr, AddrWrap::Table { .. }))
            {
                self.error("tables are not supported by pool type");
                return 1;
            }
            if let Some(h) = rdr.hosts.iter().find(|h| dynif_multiaddr(&h.addr)) {
                let AddrWrap::DynIf { ifname, .. } = &h.addr else {
                    return 1;
                };
                self.error(format!(
                    "interface ({ifname}) is not supported by pool type"
                ));
                return 1;
            }
        }
        let pool = pool_mut(r, w);
        if let Some(k) = rs.pool.key {
            pool.key = k;
        }
        if rs.pool.sticky {
            pool.sticky = true;
        }
        if rs.pool.static_port {
            if isrdr {
                self.error("the 'static-port' option is only valid with nat rules");
                return 1;
            }
            let pool = pool_mut(r, w);
            if pool.proxy_port[0] != NAT_PORT_LOW && pool.proxy_port[1] != NAT_PORT_HIGH {
                self.error("the 'static-port' option can't be used when specifying a port range");
                return 1;
            }
            let pool = pool_mut(r, w);
            pool.proxy_port = [0, 0];
        }
        0
    }

    fn check_netmask(&mut self, h: &NodeHost, af: Option<Af>) -> usize {
        let prefix = match &h.addr {
            AddrWrap::AddrMask { prefix, .. } | AddrWrap::DynIf { prefix, .. } => *prefix,
            _ => return 0,
        };
        if af == Some(Af::Inet) && prefix > 32 {
            self.raw(format!("netmask {prefix} invalid for IPv4 address"));
            return 1;
        }
        0
    }

    #[allow(clippy::too_many_arguments)]
    fn expand_label(
        &self,
        label: &str,
        ifname: &str,
        af: Option<Af>,
        src: &NodeHost,
        sport: &NodePort,
        dst: &NodeHost,
        dport: &NodePort,
        proto: u8,
    ) -> String {
        let mut s = label.to_string();
        if s.contains("$if") {
            s = s.replace("$if", if ifname.is_empty() { "any" } else { ifname });
        }
        if s.contains("$srcaddr") {
            s = s.replace("$srcaddr", &label_addr(af, src));
        }
        if s.contains("$dstaddr") {
            s = s.replace("$dstaddr", &label_addr(af, dst));
        }
        if s.contains("$srcport") {
            s = s.replace("$srcport", &label_port(sport));
        }
        if s.contains("$dstport") {
            s = s.replace("$dstport", &label_port(dport));
        }
        if s.contains("$proto") {
            let p = self
                .env
                .protocol_name(proto)
                .unwrap_or_else(|| proto.to_string());
            s = s.replace("$proto", &p);
        }
        s
    }

    /// pfctl's `rule_consistent`: the number of problems reported.
    fn rule_consistent(&mut self, r: &Rule) -> usize {
        let mut problems = 0;
        let mut err = |p: &mut Self, m: &str| {
            p.error(m);
            problems += 1;
        };
        let tcp_udp = r.proto == 6 || r.proto == 17;
        if r.proto != 6 && r.os.is_some() {
            err(self, "os only applies to tcp");
        }
        if !tcp_udp && (r.src.port.op != Op::None || r.dst.port.op != Op::None) {
            err(self, "port only applies to tcp/udp");
        }
        if !tcp_udp && r.uid.op != Op::None {
            err(self, "user only applies to tcp/udp");
        }
        if !tcp_udp && r.gid.op != Op::None {
            err(self, "group only applies to tcp/udp");
        }
        if r.proto != 1 && r.proto != 58 && (r.icmp_type != 0 || r.icmp_code != 0) {
            err(self, "icmp-type/code only applies to icmp");
        }
        if r.af.is_none() && (r.icmp_type != 0 || r.icmp_code != 0) {
            err(self, "must indicate address family with icmp-type/code");
        }
        if r.afto && r.af == r.naf {
            err(self, "must indicate different address family with af-to");
        }
        if r.state.overload_table.is_some()
            && r.state.max_src_conn == 0
            && r.state.max_src_conn_rate.1 == 0
        {
            err(
                self,
                "'overload' requires 'max-src-conn' or 'max-src-conn-rate'",
            );
        }
        if (r.proto == 1 && r.af == Some(Af::Inet6)) || (r.proto == 58 && r.af == Some(Af::Inet)) {
            let p = if r.proto == 1 { "icmp" } else { "icmp6" };
            let a = if r.af == Some(Af::Inet) {
                "inet"
            } else {
                "inet6"
            };
            err(self, &format!("proto {p} doesn't match address family {a}"));
        }
        if r.allow_opts && r.action != Action::Pass {
            err(self, "allow-opts can only be specified for pass rules");
        }
        if r.fragment
            && (r.src.port.op != Op::None
                || r.dst.port.op != Op::None
                || r.flagset != 0
                || r.icmp_type != 0
                || r.icmp_code != 0)
        {
            err(self, "fragments can be filtered only on IP header fields");
        }
        if matches!(r.block, BlockReturn::ReturnRst { .. })
            && r.action == Action::Block
            && r.proto != 6
        {
            err(self, "return-rst can only be applied to TCP rules");
        }
        if r.state.max_src_nodes != 0 && r.state.src_track != SrcTrack::Rule {
            err(self, "max-src-nodes requires 'source-track rule'");
        }
        if r.action != Action::Pass && r.keep_state != KeepState::None {
            err(self, "keep state is great, but only for pass rules");
        }
        if r.route_kind != RouteKind::None && r.keep_state == KeepState::None {
            err(self, "route-to, reply-to and dup-to require keep state");
        }
        if r.state.sloppy && matches!(r.keep_state, KeepState::Modulate | KeepState::Synproxy) {
            err(
                self,
                "sloppy state matching cannot be used with synproxy state or modulate state",
            );
        }
        if r.keep_state == KeepState::Synproxy && r.direction != Direction::In {
            self.lex
                .warn("warning: synproxy used for inbound rules only, ignored for outbound");
        }
        let has_nat = r.nat.addr.is_some() || r.rdr.addr.is_some();
        if has_nat && r.action != Action::Match && r.keep_state == KeepState::None {
            err(self, "nat-to and rdr-to require keep state");
        }
        if r.direction == Direction::InOut && has_nat {
            err(self, "nat-to and rdr-to require a direction");
        }
        if r.af == Some(Af::Inet6) && (r.scrub.no_df || r.scrub.random_id) {
            err(
                self,
                "address family inet6 does not support scrub options no-df, random-id",
            );
        }
        match r.action {
            Action::Match => {
                if r.divert != Divert::None {
                    err(self, "divert is not supported on match rules");
                }
                if r.route_kind != RouteKind::None {
                    err(
                        self,
                        "route-to, reply-to and dup-to are not supported on match rules",
                    );
                }
                if r.afto {
                    err(self, "af-to is not supported on match rules");
                }
            }
            Action::Block => {
                if r.route_kind != RouteKind::None {
                    err(
                        self,
                        "route-to, reply-to and dup-to are not supported on block rules",
                    );
                }
            }
            Action::Pass => {}
        }
        problems
    }
}

fn tail<T: Clone>(v: &[T], i: usize) -> Vec<T> {
    if v.is_empty() {
        Vec::new()
    } else {
        v[i..].to_vec()
    }
}

fn tail_if(v: &[NodeIf], i: usize) -> Vec<NodeIf> {
    tail(v, i)
}

/// `$srcaddr` / `$dstaddr` text (pfctl's `expand_label_addr`).
fn label_addr(af: Option<Af>, h: &NodeHost) -> String {
    let t = match &h.addr {
        AddrWrap::DynIf { ifname, .. } => format!("({ifname})"),
        AddrWrap::Table { name } => format!("<{name}>"),
        AddrWrap::NoRoute => "no-route".to_string(),
        AddrWrap::UrpfFailed => "urpf-failed".to_string(),
        AddrWrap::Any => "any".to_string(),
        AddrWrap::AddrMask { addr, prefix } => match af {
            None => "any".to_string(),
            Some(_) if *prefix == 0 && addr.is_unspecified() => "any".to_string(),
            Some(f) => {
                let mut a = String::new();
                crate::print_addr::write_ip(&mut a, *addr);
                if *prefix < f.bits() {
                    format!("{a}/{prefix}")
                } else {
                    a
                }
            }
        },
        _ => "?".to_string(),
    };
    if h.not {
        format!("! {t}")
    } else {
        t
    }
}

/// `$srcport` / `$dstport` text (pfctl's `expand_label_port`); `a:b`
/// ranges expand to nothing, as in pfctl.
fn label_port(p: &NodePort) -> String {
    let (a, b) = (p.a, p.b);
    match p.op {
        Op::Irg => format!("{a}><{b}"),
        Op::Xrg => format!("{a}<>{b}"),
        Op::Eq => format!("{a}"),
        Op::Ne => format!("!={a}"),
        Op::Lt => format!("<{a}"),
        Op::Le => format!("<={a}"),
        Op::Gt => format!(">{a}"),
        Op::Ge => format!(">={a}"),
        Op::None | Op::Rrg => String::new(),
    }
}

/// Number rules within their ruleset and expand `$nr` (done at load time
/// in pfctl, after optimisation).
pub(crate) fn number_rules(rules: &mut [Rule]) {
    for (i, r) in rules.iter_mut().enumerate() {
        r.nr = i as u32;
        let n = i.to_string();
        for s in [&mut r.label, &mut r.tag, &mut r.tagged] {
            if s.contains("$nr") {
                *s = s.replace("$nr", &n);
            }
        }
    }
}

/// How many lists a statement expands over (see [`Lists`]).
const LISTS: usize = 10;

/// The lists one statement expands over, in pfctl's loop nesting order:
/// the last varies fastest, so rules come out in pfctl's order.
struct Lists {
    ifs: Vec<NodeIf>,
    protos: Vec<u8>,
    icmps: Vec<NodeIcmp>,
    srcs: Vec<NodeHost>,
    dsts: Vec<NodeHost>,
    sports: Vec<PortRange>,
    dports: Vec<PortRange>,
    oses: Vec<Option<String>>,
    uids: Vec<IdRange>,
    gids: Vec<IdRange>,
}

impl Lists {
    fn lens(&self) -> [usize; LISTS] {
        [
            self.ifs.len(),
            self.protos.len(),
            self.icmps.len(),
            self.srcs.len(),
            self.dsts.len(),
            self.sports.len(),
            self.dports.len(),
            self.oses.len(),
            self.uids.len(),
            self.gids.len(),
        ]
    }
}

/// One combination: an index into each of the lists.
struct Combo<'a> {
    idx: [usize; LISTS],
    lists: &'a Lists,
}

/// The rule's fields as the statement set them, before a combination
/// overwrites them.
struct Saved {
    af: Option<Af>,
    dir: Direction,
    label: String,
    tag: String,
    tagged: String,
    flags: (u8, u8),
    keep: KeepState,
}

/// Advance a mixed-radix counter (the last digit fastest); false once it
/// wraps past the last combination. Every length is at least one.
fn odometer_step(idx: &mut [usize; LISTS], lens: &[usize; LISTS]) -> bool {
    for k in (0..LISTS).rev() {
        idx[k] += 1;
        if idx[k] < lens[k] {
            return true;
        }
        idx[k] = 0;
    }
    false
}
