//! `pass` / `block` / `match` rules and their options (pfctl's `pfrule`,
//! `filter_opts`, `fromto`, state options, pools), and `antispoof`.

use super::expand::{RuleSpec, Side};
use super::{decide_af, Abort, Parser, R};
use crate::addr::{AddrWrap, Af, IfAddrFlags, NodeHost};
use crate::icmp;
use crate::lexer::Tok;
use crate::rule::*;

#[derive(Clone, Debug)]
pub(crate) struct NodeIf {
    pub ifname: String,
    pub not: bool,
    pub rdomain: Option<u32>,
    pub dynamic: bool,
    pub loopback: bool,
}

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct NodeIcmp {
    pub ty: u16,
    pub code: u16,
    pub proto: u8,
}

/// `port` operand before expansion; ports in host order.
pub(crate) type NodePort = PortRange;

/// `parseport` result: `a`, `b` and `:`/`:*` marker.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PortSpec {
    pub a: u16,
    pub b: u16,
    pub t: Op,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Redirection {
    pub hosts: Vec<NodeHost>,
    pub rport: PortSpec,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct PoolOpts {
    pub kind: PoolType,
    pub key: Option<[u32; 4]>,
    pub static_port: bool,
    pub sticky: bool,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct RedirSpec {
    pub rdr: Option<Redirection>,
    pub pool: PoolOpts,
    pub binat: bool,
    pub af: Option<Af>,
}

#[derive(Clone, Debug)]
pub(crate) enum StateOpt {
    Max(u32),
    NoSync,
    SrcTrack(SrcTrack),
    MaxSrcStates(u32),
    MaxSrcConn(u32),
    MaxSrcConnRate(u32, u32),
    Overload(String, bool, bool),
    MaxSrcNodes(u32),
    Statelock(bool),
    Sloppy,
    Pflow,
    Timeout(usize, u32),
}

/// Everything after the addresses of a rule.
#[derive(Clone, Debug, Default)]
pub struct FilterOpts {
    pub(crate) uids: Vec<IdRange>,
    pub(crate) gids: Vec<IdRange>,
    pub(crate) flags: (u8, u8),
    pub(crate) flags_set: bool,
    pub(crate) icmp: Vec<NodeIcmp>,
    pub(crate) icmp_set: bool,
    pub(crate) tos: Option<u8>,
    pub(crate) prio: Option<u8>,
    pub(crate) prob: u32,
    pub(crate) keep: Option<(KeepState, Vec<StateOpt>)>,
    pub(crate) fragment: bool,
    pub(crate) allow_opts: bool,
    pub(crate) label: Option<String>,
    pub(crate) queue: Option<(String, Option<String>)>,
    pub(crate) tag: Option<String>,
    pub(crate) tagged: Option<(String, bool)>,
    pub(crate) rtable: Option<u32>,
    pub(crate) divert: Option<(u8, Option<Vec<NodeHost>>, u16)>,
    pub(crate) scrub: ScrubOpts,
    pub(crate) nat: RedirSpec,
    pub(crate) rdr: RedirSpec,
    pub(crate) route: RedirSpec,
    pub(crate) rt: RouteKind,
    pub(crate) afto: bool,
    pub(crate) received_on: Option<(String, bool)>,
    pub(crate) once: bool,
    pub(crate) pktrate: (u32, u32),
    pub(crate) set_prio: Option<(u8, u8)>,
    pub(crate) set_tos: Option<u8>,
    pub(crate) delay: Option<u16>,
}

/// `from ... to ...` before expansion.
#[derive(Clone, Debug, Default)]
pub(crate) struct FromTo {
    pub src: Side,
    pub dst: Side,
    pub os: Option<Vec<String>>,
}

const IFQ_MAXPRIO: i64 = 7;
const RT_TABLEID_MAX: i64 = 255;
const TAG_MAX: usize = 63;
const LABEL_MAX: usize = 63;
const PF_THRESHOLD_MAX: u32 = u32::MAX / 1000;

impl<'a> Parser<'a> {
    pub(super) fn pfrule(&mut self) -> R<()> {
        // action
        let mut r = Rule::default();
        match self.bump() {
            Tok::Kw("pass") => r.action = Action::Pass,
            Tok::Kw("match") => r.action = Action::Match,
            Tok::Kw("block") => {
                r.action = Action::Block;
                r.block = self.blockspec()?;
            }
            _ => return Err(Abort::Syntax),
        }
        r.direction = self.dir();
        let (log, quick) = self.logquick()?;
        r.log = log;
        r.quick = quick;
        let ifs = self.interface()?;
        r.af = self.af();
        let protos = self.proto()?;
        let fromto = self.fromto()?;
        let fo = self.filter_opts()?;
        self.at_end()?;

        self.filteropts_to_rule(&mut r, &fo, false)?;
        self.check_tcp_only(
            &fo,
            fromto.os.is_some(),
            &protos,
            "OS fingerprinting only apply to tcp",
        )?;

        let (mut keep, mut sopts) = match &fo.keep {
            Some((k, o)) => (*k, o.clone()),
            None => (KeepState::None, Vec::new()),
        };
        // pass rules keep state by default, with the state-defaults
        if keep == KeepState::None && r.action == Action::Pass && fo.keep.is_none() {
            keep = KeepState::Keep;
            sopts = self.keep_state_defaults.clone().unwrap_or_default();
        }
        r.keep_state = keep;
        let mut srctrack = SrcTrack::None;
        let mut srctrack_given = false;
        let mut statelock = false;
        let mut adaptive = false;
        let mut srctrack_flag = false;
        let mut rule_srctrack = false;
        let st = &mut r.state;
        for o in &sopts {
            match o {
                StateOpt::Max(n) => {
                    if st.max_states != 0 {
                        return self.fail("state option 'max' multiple definitions");
                    }
                    st.max_states = *n;
                }
                StateOpt::NoSync => {
                    if st.no_sync {
                        return self.fail("state option 'sync' multiple definitions");
                    }
                    st.no_sync = true;
                }
                StateOpt::SrcTrack(t) => {
                    if srctrack_given {
                        return self.fail("state option 'source-track' multiple definitions");
                    }
                    srctrack_given = true;
                    srctrack = *t;
                    srctrack_flag = true;
                }
                StateOpt::MaxSrcStates(n) => {
                    if st.max_src_states != 0 {
                        return self.fail("state option 'max-src-states' multiple definitions");
                    }
                    if *n == 0 {
                        return self.fail("'max-src-states' must be > 0");
                    }
                    st.max_src_states = *n;
                    srctrack_flag = true;
                }
                StateOpt::Overload(t, flush, global) => {
                    if st.overload_table.is_some() {
                        return self.fail("multiple 'overload' table definitions");
                    }
                    st.overload_table = Some(t.clone());
                    st.flush = *flush;
                    st.flush_global = *global;
                }
                StateOpt::MaxSrcConn(n) => {
                    if st.max_src_conn != 0 {
                        return self.fail("state option 'max-src-conn' multiple definitions");
                    }
                    if *n == 0 {
                        return self.fail("'max-src-conn' must be > 0");
                    }
                    st.max_src_conn = *n;
                    srctrack_flag = true;
                    rule_srctrack = true;
                }
                StateOpt::MaxSrcConnRate(l, s) => {
                    if st.max_src_conn_rate.0 != 0 {
                        return self.fail("state option 'max-src-conn-rate' multiple definitions");
                    }
                    if *l == 0 || *s == 0 {
                        return self.fail("'max-src-conn-rate' values must be > 0");
                    }
                    if *l > PF_THRESHOLD_MAX {
                        return self.fail(format!(
                            "'max-src-conn-rate' maximum rate must be < {PF_THRESHOLD_MAX}"
                        ));
                    }
                    st.max_src_conn_rate = (*l, *s);
                    srctrack_flag = true;
                    rule_srctrack = true;
                }
                StateOpt::MaxSrcNodes(n) => {
                    if st.max_src_nodes != 0 {
                        return self.fail("state option 'max-src-nodes' multiple definitions");
                    }
                    if *n == 0 {
                        return self.fail("'max-src-nodes' must be > 0");
                    }
                    st.max_src_nodes = *n;
                    srctrack_flag = true;
                    rule_srctrack = true;
                }
                StateOpt::Statelock(b) => {
                    if statelock {
                        return self.fail("state locking option: multiple definitions");
                    }
                    statelock = true;
                    st.if_bound = *b;
                }
                StateOpt::Sloppy => {
                    if st.sloppy {
                        return self.fail("state sloppy option: multiple definitions");
                    }
                    st.sloppy = true;
                }
                StateOpt::Pflow => {
                    if st.pflow {
                        return self.fail("state pflow option: multiple definitions");
                    }
                    st.pflow = true;
                }
                StateOpt::Timeout(i, secs) => {
                    if *i == PFTM_ADAPTIVE_START || *i == PFTM_ADAPTIVE_END {
                        adaptive = true;
                    }
                    if st.timeouts[*i] != 0 {
                        let n = TIMEOUT_NAMES[*i];
                        return self.fail(format!("state timeout {n} multiple definitions"));
                    }
                    st.timeouts[*i] = *secs;
                }
            }
        }
        // 'flags S/SA' by default on stateful rules
        if r.action == Action::Pass
            && r.flags == 0
            && r.flagset == 0
            && !fo.fragment
            && !fo.flags_set
            && r.keep_state != KeepState::None
        {
            r.flags = TH_SYN;
            r.flagset = TH_SYN | TH_ACK;
        }
        let st = &mut r.state;
        if !adaptive && st.max_states != 0 {
            st.timeouts[PFTM_ADAPTIVE_START] = (st.max_states / 10) * 6;
            st.timeouts[PFTM_ADAPTIVE_END] = (st.max_states / 10) * 12;
        }
        if srctrack_flag {
            if srctrack == SrcTrack::Global && st.max_src_nodes != 0 {
                return self.fail("'max-src-nodes' is incompatible with 'source-track global'");
            }
            if srctrack == SrcTrack::Global && st.max_src_conn != 0 {
                return self.fail("'max-src-conn' is incompatible with 'source-track global'");
            }
            if srctrack == SrcTrack::Global && st.max_src_conn_rate.1 != 0 {
                return self.fail("'max-src-conn-rate' is incompatible with 'source-track global'");
            }
            let st = &mut r.state;
            if st.timeouts[PFTM_SRC_NODE] < st.max_src_conn_rate.1 {
                st.timeouts[PFTM_SRC_NODE] = st.max_src_conn_rate.1;
            }
            st.src_track = if srctrack == SrcTrack::Rule || rule_srctrack {
                SrcTrack::Rule
            } else {
                SrcTrack::Global
            };
        }
        if r.keep_state != KeepState::None && !statelock && self.default_if_bound {
            r.state.if_bound = true;
        }
        decide_af(&fromto.src.hosts, &mut r.af);
        decide_af(&fromto.dst.hosts, &mut r.af);
        if fo.rt != RouteKind::None {
            if fo.rt != RouteKind::DupTo && r.direction == Direction::InOut {
                return self.fail("direction must be explicit with rules that specify routing");
            }
            r.route_kind = fo.rt;
        }
        self.expand_divertspec(&mut r, &fo)?;
        let spec = RuleSpec {
            ifs,
            protos,
            src: fromto.src,
            dst: fromto.dst,
            os: fromto.os,
            uids: fo.uids,
            gids: fo.gids,
            icmp: fo.icmp,
            nat: Some(fo.nat).filter(|n| n.rdr.is_some()),
            rdr: Some(fo.rdr).filter(|n| n.rdr.is_some()),
            route: Some(fo.route).filter(|n| n.rdr.is_some()),
        };
        self.expand_rule(r, spec);
        self.end()
    }

    fn expand_divertspec(&mut self, r: &mut Rule, fo: &FilterOpts) -> R<()> {
        let Some((ty, addr, port)) = &fo.divert else {
            return Ok(());
        };
        match ty {
            0 => {
                if r.direction == Direction::Out {
                    return self.fail("divert-to used with outgoing rule");
                }
                let hosts = addr.clone().unwrap_or_default();
                let pick = match r.af {
                    Some(af) => hosts.iter().find(|h| h.af == Some(af)),
                    None => hosts.first(),
                };
                let Some(h) = pick else {
                    return self.fail("divert-to address family mismatch");
                };
                if r.af.is_none() {
                    r.af = h.af;
                }
                let ip = match &h.addr {
                    AddrWrap::AddrMask { addr, .. } => *addr,
                    _ => return self.fail("divert-to address family mismatch"),
                };
                r.divert = Divert::To {
                    addr: ip,
                    port: *port,
                };
            }
            1 => {
                if r.direction == Direction::In {
                    return self.fail("divert-reply used with incoming rule");
                }
                r.divert = Divert::Reply;
            }
            _ => r.divert = Divert::Packet { port: *port },
        }
        Ok(())
    }

    /// pfctl's `filteropts_to_rule`.
    pub(super) fn filteropts_to_rule(
        &mut self,
        r: &mut Rule,
        fo: &FilterOpts,
        anchor: bool,
    ) -> R<()> {
        if fo.once {
            if (r.action != Action::Pass && r.action != Action::Block) || anchor {
                return self.fail("'once' only applies to pass/block rules");
            }
            r.once = true;
        }
        r.keep_state = fo.keep.as_ref().map(|k| k.0).unwrap_or(KeepState::None);
        r.max_pkt_rate = fo.pktrate;
        r.prob = fo.prob;
        r.rtable = fo.rtable;
        r.tos = fo.tos;
        r.scrub.no_df = fo.scrub.no_df;
        r.scrub.random_id = fo.scrub.random_id;
        r.scrub.min_ttl = fo.scrub.min_ttl;
        r.scrub.max_mss = fo.scrub.max_mss;
        if let Some(t) = &fo.tag {
            if t.len() > TAG_MAX {
                return self.fail(format!("tag too long, max {TAG_MAX} chars"));
            }
            r.tag = t.clone();
        }
        if let Some((t, not)) = &fo.tagged {
            if t.len() > TAG_MAX {
                return self.fail(format!("tag too long, max {TAG_MAX} chars"));
            }
            r.tagged = t.clone();
            r.tagged_not = *not;
        }
        if let Some(l) = &fo.label {
            if l.len() > LABEL_MAX {
                return self.fail(format!("rule label too long (max {LABEL_MAX} chars)"));
            }
            r.label = l.clone();
        }
        if fo.afto {
            r.afto = true;
            if r.direction != Direction::In {
                return self.fail("af-to can only be used with direction in");
            }
            if fo.rt != RouteKind::None {
                return self.fail("af-to cannot be used together with route-to, reply-to, dup-to");
            }
        }
        r.scrub.reassemble_tcp = fo.scrub.reassemble_tcp;
        r.set.delay = fo.delay;
        r.set.prio = fo.set_prio;
        r.set.tos = fo.set_tos;
        r.prio = fo.prio;
        r.flags = fo.flags.0;
        r.flagset = fo.flags.1;
        if fo.flags.0 & fo.flags.1 != fo.flags.0 {
            return self.fail("flags always false");
        }
        r.set.queue = fo.queue.clone();
        r.fragment = fo.fragment;
        r.allow_opts = fo.allow_opts;
        r.received_on = fo.received_on.clone();
        Ok(())
    }

    fn blockspec(&mut self) -> R<BlockReturn> {
        use icmp::{RETURN_ICMP6_DEFAULT, RETURN_ICMP_DEFAULT};
        let t = self.peek().clone();
        Ok(match t {
            Tok::Kw("drop") => {
                self.bump();
                BlockReturn::Drop
            }
            Tok::Kw("return-rst") => {
                self.bump();
                let mut ttl = 0;
                if self.eat(b'(') {
                    self.expect_kw("ttl")?;
                    let n = self.number()?;
                    if !(0..=255).contains(&n) {
                        return self.fail(format!("illegal ttl value {n}"));
                    }
                    ttl = n as u8;
                    self.expect(b')')?;
                }
                BlockReturn::ReturnRst { ttl }
            }
            Tok::Kw("return-icmp") => {
                self.bump();
                if self.eat(b'(') {
                    let a = self.reticmpspec(Af::Inet)?;
                    let mut b = RETURN_ICMP_DEFAULT;
                    if !self.at(b')') {
                        self.comma();
                        b = self.reticmpspec(Af::Inet6)?;
                    }
                    self.expect(b')')?;
                    BlockReturn::ReturnIcmp { icmp: a, icmp6: b }
                } else {
                    BlockReturn::ReturnIcmp {
                        icmp: RETURN_ICMP_DEFAULT,
                        icmp6: RETURN_ICMP6_DEFAULT,
                    }
                }
            }
            Tok::Kw("return-icmp6") => {
                self.bump();
                if self.eat(b'(') {
                    let b = self.reticmpspec(Af::Inet6)?;
                    self.expect(b')')?;
                    BlockReturn::ReturnIcmp {
                        icmp: RETURN_ICMP_DEFAULT,
                        icmp6: b,
                    }
                } else {
                    BlockReturn::ReturnIcmp {
                        icmp: RETURN_ICMP_DEFAULT,
                        icmp6: RETURN_ICMP6_DEFAULT,
                    }
                }
            }
            Tok::Kw("return") => {
                self.bump();
                BlockReturn::Return {
                    icmp: RETURN_ICMP_DEFAULT,
                    icmp6: RETURN_ICMP6_DEFAULT,
                }
            }
            _ => match self.opts.block_policy {
                crate::ruleset::BlockPolicy::Drop => BlockReturn::Drop,
                crate::ruleset::BlockPolicy::Return => BlockReturn::Return {
                    icmp: RETURN_ICMP_DEFAULT,
                    icmp6: RETURN_ICMP6_DEFAULT,
                },
            },
        })
    }

    fn reticmpspec(&mut self, af: Af) -> R<u16> {
        let ty: u16 = if af == Af::Inet { 3 } else { 1 };
        match self.peek().clone() {
            Tok::Num(n) => {
                self.bump();
                if !(0..=255).contains(&n) {
                    return self.fail(format!("invalid icmp code {n}"));
                }
                Ok(ty << 8 | n as u16)
            }
            Tok::Str(s) => {
                self.bump();
                let code = match parse_ulong(&s) {
                    Some(v) => v,
                    None => match icmp::code_by_name(ty as u8, &s, Some(af)) {
                        Some(c) => u64::from(c),
                        None => return self.fail(format!("unknown icmp code {s}")),
                    },
                };
                if code > 255 {
                    return self.fail(format!("invalid icmp code {code}"));
                }
                Ok(ty << 8 | code as u16)
            }
            _ => Err(Abort::Syntax),
        }
    }

    pub(super) fn logquick(&mut self) -> R<(Log, bool)> {
        let mut log = Log::default();
        let mut quick = false;
        if self.eat_kw("quick") {
            quick = true;
            if self.at_kw("log") {
                log = self.log()?;
            }
        } else if self.at_kw("log") {
            log = self.log()?;
            quick = self.eat_kw("quick");
        }
        Ok((log, quick))
    }

    fn log(&mut self) -> R<Log> {
        self.expect_kw("log")?;
        let mut l = Log {
            enabled: true,
            ..Log::default()
        };
        if self.eat(b'(') {
            loop {
                match self.bump() {
                    Tok::Kw("all") => l.all = true,
                    Tok::Kw("matches") => l.matches = true,
                    Tok::Kw("user") => l.user = true,
                    Tok::Kw("to") => {
                        let s = self.strings()?;
                        let Some(n) = s.strip_prefix("pflog") else {
                            return self.fail(format!("{s}: should be a pflog interface"));
                        };
                        match n.parse::<u8>() {
                            Ok(i) => l.logif = i,
                            Err(_) => {
                                let why = if n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty()
                                {
                                    "too large"
                                } else {
                                    "invalid"
                                };
                                return self.fail(format!("{s}: {why}"));
                            }
                        }
                    }
                    _ => return Err(Abort::Syntax),
                }
                if self.eat(b')') {
                    break;
                }
                self.comma();
            }
        }
        Ok(l)
    }

    pub(super) fn interface(&mut self) -> R<Vec<NodeIf>> {
        if !self.eat_kw("on") {
            return Ok(Vec::new());
        }
        self.list(|p| {
            let not = p.eat(b'!');
            let mut i = p.if_item()?;
            i.not = not;
            Ok(i)
        })
    }

    pub(super) fn if_item(&mut self) -> R<NodeIf> {
        match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                if s.len() >= 16 {
                    return self.fail("interface name too long");
                }
                let loopback = self.env.interface(&s).is_some_and(|i| i.loopback);
                Ok(NodeIf {
                    ifname: s,
                    not: false,
                    rdomain: None,
                    dynamic: false,
                    loopback,
                })
            }
            Tok::Kw("any") => {
                self.bump();
                Ok(NodeIf {
                    ifname: "any".into(),
                    not: false,
                    rdomain: None,
                    dynamic: false,
                    loopback: false,
                })
            }
            Tok::Kw("rdomain") => {
                self.bump();
                let n = self.number()?;
                if !(0..=RT_TABLEID_MAX).contains(&n) {
                    self.error(format!("rdomain {n} outside range"));
                }
                Ok(NodeIf {
                    ifname: String::new(),
                    not: false,
                    rdomain: Some(n as u32),
                    dynamic: false,
                    loopback: false,
                })
            }
            _ => Err(Abort::Syntax),
        }
    }

    pub(super) fn proto(&mut self) -> R<Vec<u8>> {
        if !self.eat_kw("proto") {
            return Ok(Vec::new());
        }
        self.list(|p| p.proto_item())
    }

    fn proto_item(&mut self) -> R<u8> {
        let p = match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                match self.env.protocol_number(&s) {
                    Some(p) => p,
                    None => return self.fail(format!("unknown protocol {s}")),
                }
            }
            Tok::Num(n) => {
                self.bump();
                if !(0..=255).contains(&n) {
                    return self.fail("protocol outside range");
                }
                n as u8
            }
            _ => return Err(Abort::Syntax),
        };
        if p == 0 {
            return self.fail("proto 0 cannot be used");
        }
        Ok(p)
    }

    pub(super) fn fromto(&mut self) -> R<FromTo> {
        if self.eat_kw("all") {
            return Ok(FromTo::default());
        }
        let mut ft = FromTo::default();
        if self.eat_kw("from") {
            ft.src = self.ipportspec()?;
        }
        if self.eat_kw("os") {
            ft.os = Some(self.list(|p| p.string())?);
        }
        if self.eat_kw("to") {
            ft.dst = self.ipportspec()?;
            if ft
                .dst
                .hosts
                .as_ref()
                .is_some_and(|h| h.iter().any(|n| n.addr == AddrWrap::UrpfFailed))
            {
                return self.fail("\"urpf-failed\" is not permitted in a destination address");
            }
        }
        Ok(ft)
    }

    fn ipportspec(&mut self) -> R<Side> {
        let mut side = Side::default();
        if !self.at_kw("port") {
            side.hosts = self.ipspec()?;
        }
        if self.eat_kw("port") {
            side.ports = self.portspec()?;
        }
        Ok(side)
    }

    /// `ipspec`: `None` stands for `any`.
    pub(super) fn ipspec(&mut self) -> R<Option<Vec<NodeHost>>> {
        if self.eat_kw("any") {
            return Ok(None);
        }
        if self.at(b'{') {
            if self.list_depth >= super::LIST_DEPTH_MAX {
                return Err(Abort::Syntax);
            }
            self.list_depth += 1;
            let r = self.ipspec_list();
            self.list_depth -= 1;
            return r;
        }
        Ok(Some(self.xhost()?))
    }

    /// `'{' host_list '}'`
    fn ipspec_list(&mut self) -> R<Option<Vec<NodeHost>>> {
        {
            self.expect(b'{')?;
            self.optnl();
            let mut acc: Option<Vec<NodeHost>> = self.ipspec()?;
            let mut any = acc.is_none();
            self.optnl();
            while !self.eat(b'}') {
                self.comma();
                let next = self.ipspec()?;
                self.optnl();
                // `any` anywhere in the list makes the whole list `any`.
                match next {
                    None => any = true,
                    Some(h) => {
                        if let Some(a) = acc.as_mut() {
                            a.extend(h);
                        }
                    }
                }
                if any {
                    acc = None;
                }
            }
            Ok(if any { None } else { acc })
        }
    }

    /// `xhost: not host | not no-route | not urpf-failed`
    pub(super) fn xhost(&mut self) -> R<Vec<NodeHost>> {
        let not = self.eat(b'!');
        if self.eat_kw("no-route") {
            let mut h = NodeHost::new(AddrWrap::NoRoute, None);
            h.not = not;
            return Ok(vec![h]);
        }
        if self.eat_kw("urpf-failed") {
            let mut h = NodeHost::new(AddrWrap::UrpfFailed, None);
            h.not = not;
            return Ok(vec![h]);
        }
        let mut v = self.host()?;
        for h in &mut v {
            h.not = not;
        }
        Ok(v)
    }

    pub(super) fn portspec(&mut self) -> R<Vec<NodePort>> {
        self.list(|p| p.port_item())
    }

    fn port_item(&mut self) -> R<NodePort> {
        if let Some(op) = self.unaryop() {
            let s = self.numberstring()?;
            let p = self.parseport(&s, true, false)?;
            if p.t != Op::None {
                return self.fail("':' cannot be used with an other port operator");
            }
            return Ok(NodePort { op, a: p.a, b: p.b });
        }
        let s = self.numberstring()?;
        let p = self.parseport(&s, true, false)?;
        if let Tok::PortBinary(op) = self.peek().clone() {
            self.bump();
            let s2 = self.numberstring()?;
            let p2 = self.parseport(&s2, true, false)?;
            if p.t != Op::None || p2.t != Op::None {
                return self.fail("':' cannot be used with an other port operator");
            }
            if invalid_range(op, p.a, p2.a) {
                return self.fail("invalid port range");
            }
            return Ok(NodePort {
                op,
                a: p.a,
                b: p2.a,
            });
        }
        if p.t != Op::None {
            if invalid_range(Op::Rrg, p.a, p.b) {
                return self.fail("invalid port range");
            }
            return Ok(NodePort {
                op: Op::Rrg,
                a: p.a,
                b: p.b,
            });
        }
        Ok(NodePort {
            op: Op::Eq,
            a: p.a,
            b: p.b,
        })
    }

    /// pfctl's `parseport`: `N`, `name`, `a:b`, and `a:*` when `star`.
    pub(super) fn parseport(&mut self, s: &str, range: bool, star: bool) -> R<PortSpec> {
        let Some(i) = s.find(':') else {
            let a = self.getservice(s)?;
            return Ok(PortSpec {
                a,
                b: 0,
                t: Op::None,
            });
        };
        let (lo, hi) = (&s[..i], &s[i + 1..]);
        if star && hi == "*" {
            let a = self.getservice(lo)?;
            return Ok(PortSpec {
                a,
                b: 0,
                t: Op::Irg,
            });
        }
        if range {
            let a = self.getservice(lo)?;
            let b = self.getservice(hi)?;
            if a == b {
                return Ok(PortSpec {
                    a,
                    b: 0,
                    t: Op::None,
                });
            }
            return Ok(PortSpec { a, b, t: Op::Rrg });
        }
        self.fail(format!("port is invalid: {s}"))
    }

    fn getservice(&mut self, n: &str) -> R<u16> {
        if let Some(v) = parse_ulong(n) {
            if v > 65535 {
                return self.fail(format!("illegal port value {v}"));
            }
            return Ok(v as u16);
        }
        if let Some(p) = self
            .env
            .service_port(n, "tcp")
            .or_else(|| self.env.service_port(n, "udp"))
        {
            return Ok(p);
        }
        self.fail(format!("unknown port {n}"))
    }

    pub(super) fn filter_opts(&mut self) -> R<FilterOpts> {
        let mut fo = FilterOpts::default();
        while self.filter_opt(&mut fo)? {}
        Ok(fo)
    }

    /// One option; false when the next token starts none.
    fn filter_opt(&mut self, fo: &mut FilterOpts) -> R<bool> {
        let t = self.peek().clone();
        match t {
            Tok::Kw("user") => {
                self.bump();
                let mut v = self.ugids(true)?;
                v.append(&mut fo.uids);
                fo.uids = v;
            }
            Tok::Kw("group") => {
                self.bump();
                let mut v = self.ugids(false)?;
                v.append(&mut fo.gids);
                fo.gids = v;
            }
            Tok::Kw("flags") => {
                self.bump();
                if fo.flags_set {
                    return self.fail("flags cannot be redefined");
                }
                fo.flags_set = true;
                let (a, b) = if self.eat_kw("any") {
                    (0, 0)
                } else if self.eat(b'/') {
                    (0, self.flag()?)
                } else {
                    let a = self.flag()?;
                    self.expect(b'/')?;
                    (a, self.flag()?)
                };
                fo.flags.0 |= a;
                fo.flags.1 |= b;
            }
            Tok::Kw("icmp-type") | Tok::Kw("icmp6-type") => {
                self.bump();
                let v6 = t.is_kw("icmp6-type");
                let list = self.list(|p| p.icmp_item(v6))?;
                if fo.icmp_set {
                    return self.fail("icmp-type cannot be redefined");
                }
                fo.icmp_set = true;
                fo.icmp = list;
            }
            Tok::Kw("prio") => {
                self.bump();
                let n = self.number()?;
                if fo.prio.is_some() {
                    return self.fail("prio cannot be redefined");
                }
                if !(0..=IFQ_MAXPRIO).contains(&n) {
                    return self.fail(format!("prio must be 0 - {IFQ_MAXPRIO}"));
                }
                fo.prio = Some(n as u8);
            }
            Tok::Kw("tos") => {
                self.bump();
                let v = self.tos()?;
                if fo.tos.is_some() {
                    return self.fail("tos cannot be redefined");
                }
                fo.tos = Some(v);
            }
            Tok::Kw("no") | Tok::Kw("keep") | Tok::Kw("modulate") | Tok::Kw("synproxy") => {
                let k = self.keep()?;
                if fo.keep.is_some() {
                    return self.fail("modulate or keep cannot be redefined");
                }
                fo.keep = Some(k);
            }
            Tok::Kw("fragment") => {
                self.bump();
                fo.fragment = true;
            }
            Tok::Kw("allow-opts") => {
                self.bump();
                fo.allow_opts = true;
            }
            Tok::Kw("label") => {
                self.bump();
                let l = self.string()?;
                if fo.label.is_some() {
                    return self.fail("label cannot be redefined");
                }
                fo.label = Some(l);
            }
            Tok::Kw("queue") => {
                self.bump();
                let q = self.qname()?;
                if fo.queue.is_some() {
                    return self.fail("queue cannot be redefined");
                }
                fo.queue = Some(q);
            }
            Tok::Kw("tag") => {
                self.bump();
                fo.tag = Some(self.strings()?);
            }
            Tok::Char(b'!') => {
                self.bump();
                if self.eat_kw("tagged") {
                    fo.tagged = Some((self.strings()?, true));
                } else if self.eat_kw("received-on") {
                    let i = self.if_item()?;
                    if fo.received_on.is_some() {
                        return self.fail("cannot respecify received-on");
                    }
                    fo.received_on = Some((i.ifname, true));
                } else {
                    return Err(Abort::Syntax);
                }
            }
            Tok::Kw("tagged") => {
                self.bump();
                fo.tagged = Some((self.strings()?, false));
            }
            Tok::Kw("received-on") => {
                self.bump();
                let i = self.if_item()?;
                if fo.received_on.is_some() {
                    return self.fail("cannot respecify received-on");
                }
                fo.received_on = Some((i.ifname, false));
            }
            Tok::Kw("probability") => {
                self.bump();
                let p = match self.peek().clone() {
                    Tok::Num(n) => {
                        self.bump();
                        n as f64
                    }
                    Tok::Str(s) => {
                        self.bump();
                        let (num, pct) = match s.strip_suffix('%') {
                            Some(x) => (x, true),
                            None => (s.as_str(), false),
                        };
                        match num.parse::<f64>() {
                            Ok(v) if !num.is_empty() => {
                                if pct {
                                    v * 0.01
                                } else {
                                    v
                                }
                            }
                            _ => return self.fail(format!("invalid probability: {s}")),
                        }
                    }
                    _ => return Err(Abort::Syntax),
                };
                let v = (p * f64::from(u32::MAX) + 0.5).floor();
                if !(0.0..=f64::from(u32::MAX)).contains(&v) {
                    return self.fail(format!("invalid probability: {}%", fmt_g(p * 100.0)));
                }
                fo.prob = (v as u32).max(1);
            }
            Tok::Kw("rtable") => {
                self.bump();
                let n = self.number()?;
                if !(0..=RT_TABLEID_MAX).contains(&n) {
                    return self.fail("invalid rtable id");
                }
                if n != 0 {
                    return self.fail(format!("rtable {n} does not exist"));
                }
                fo.rtable = Some(n as u32);
            }
            Tok::Kw("divert-to") => {
                self.bump();
                let s = self.string()?;
                self.expect_kw("port")?;
                let ps = self.numberstring()?;
                let p = self.parseport(&ps, false, false)?;
                if fo.divert.is_some() {
                    return self.fail("more than one divert option");
                }
                let h = match crate::host::host(&s, self.env) {
                    Ok(h) => h,
                    Err(e) => {
                        for l in e.lines() {
                            self.raw(l);
                        }
                        return self.fail(format!("could not parse divert address: {s}"));
                    }
                };
                if p.a == 0 {
                    return self.fail("invalid divert port: 0");
                }
                fo.divert = Some((0, Some(h), p.a));
            }
            Tok::Kw("divert-reply") => {
                self.bump();
                if fo.divert.is_some() {
                    return self.fail("more than one divert option");
                }
                fo.divert = Some((1, None, 0));
            }
            Tok::Kw("divert-packet") => {
                self.bump();
                self.expect_kw("port")?;
                let ps = self.numberstring()?;
                let p = self.parseport(&ps, false, false)?;
                if fo.divert.is_some() {
                    return self.fail("more than one divert option");
                }
                if self.opts.reassemble {
                    fo.scrub.reassemble_tcp = true;
                }
                if p.a == 0 {
                    return self.fail("invalid divert port: 0");
                }
                fo.divert = Some((2, None, p.a));
            }
            Tok::Kw("scrub") => {
                self.bump();
                self.expect(b'(')?;
                let s = self.scrub_opts()?;
                self.expect(b')')?;
                fo.scrub.no_df = s.no_df;
                fo.scrub.min_ttl = s.min_ttl;
                fo.scrub.random_id = s.random_id;
                fo.scrub.max_mss = s.max_mss;
                if s.reassemble_tcp {
                    fo.scrub.reassemble_tcp = true;
                }
            }
            Tok::Kw("nat-to") | Tok::Kw("binat-to") => {
                self.bump();
                let rp = self.redirpool()?;
                let po = self.pool_opts()?;
                if fo.nat.rdr.is_some() {
                    return self.fail("cannot respecify nat-to/binat-to");
                }
                fo.nat.rdr = Some(rp);
                fo.nat.pool = po;
                if t.is_kw("binat-to") {
                    fo.nat.binat = true;
                    fo.nat.pool.static_port = true;
                }
            }
            Tok::Kw("af-to") => {
                self.bump();
                let af = self.af();
                self.expect_kw("from")?;
                let rp = self.redirpool()?;
                let po = self.pool_opts()?;
                let mut to = None;
                if self.eat_kw("to") {
                    let rp2 = self.redirpool()?;
                    let po2 = self.pool_opts()?;
                    to = Some((rp2, po2));
                }
                if fo.nat.rdr.is_some() {
                    return self.fail("cannot respecify af-to");
                }
                let Some(af) = af else {
                    if to.is_some() {
                        return self.fail("no address family specified");
                    }
                    return self.fail("no target address family specified");
                };
                if let Some((rp2, _)) = &to {
                    let bad =
                        |h: &Vec<NodeHost>| h.first().and_then(|x| x.af).is_some_and(|a| a != af);
                    if bad(&rp.hosts) || bad(&rp2.hosts) {
                        return self.fail("af-to addresses must be in the target address family");
                    }
                }
                fo.nat.af = Some(af);
                fo.nat.rdr = Some(rp);
                fo.nat.pool = po;
                match to {
                    Some((rp2, po2)) => {
                        fo.rdr.af = Some(af);
                        fo.rdr.rdr = Some(rp2);
                        // pfctl stores the second pool's options over the first.
                        fo.nat.pool = po2;
                    }
                    None => {
                        fo.rdr.rdr = Some(Redirection::default());
                        fo.rdr.pool = PoolOpts::default();
                    }
                }
                fo.afto = true;
            }
            Tok::Kw("rdr-to") => {
                self.bump();
                let rp = self.redirpool()?;
                let po = self.pool_opts()?;
                if fo.rdr.rdr.is_some() {
                    return self.fail("cannot respecify rdr-to");
                }
                fo.rdr.rdr = Some(rp);
                fo.rdr.pool = po;
            }
            Tok::Kw("route-to") | Tok::Kw("reply-to") | Tok::Kw("dup-to") => {
                self.bump();
                let hosts = self.redirspec()?;
                let po = self.pool_opts()?;
                if fo.rt != RouteKind::None {
                    return self.fail("cannot respecify route-to/reply-to/dup-to");
                }
                fo.route.rdr = Some(Redirection {
                    hosts,
                    rport: PortSpec::default(),
                });
                fo.route.pool = po;
                fo.rt = match t {
                    Tok::Kw("route-to") => RouteKind::RouteTo,
                    Tok::Kw("reply-to") => RouteKind::ReplyTo,
                    _ => RouteKind::DupTo,
                };
            }
            Tok::Kw("once") => {
                self.bump();
                fo.once = true;
            }
            Tok::Kw("max-pkt-rate") => {
                self.bump();
                let a = self.number()?;
                self.expect(b'/')?;
                let b = self.number()?;
                if !(0..=i64::from(u32::MAX)).contains(&a)
                    || !(0..=i64::from(u32::MAX)).contains(&b)
                {
                    return self.fail("only positive values permitted");
                }
                if fo.pktrate.0 != 0 {
                    return self.fail("cannot respecify max-pkt-rate");
                }
                fo.pktrate = (a as u32, b as u32);
            }
            Tok::Kw("set") => {
                self.bump();
                if self.eat(b'(') {
                    loop {
                        self.filter_set(fo)?;
                        if self.eat(b')') {
                            break;
                        }
                        self.comma();
                    }
                } else {
                    self.filter_set(fo)?;
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn filter_set(&mut self, fo: &mut FilterOpts) -> R<()> {
        match self.bump() {
            Tok::Kw("prio") => {
                let p = if self.eat(b'(') {
                    let a = self.number()?;
                    self.comma();
                    let b = self.number()?;
                    self.expect(b')')?;
                    if !(0..=IFQ_MAXPRIO).contains(&a) || !(0..=IFQ_MAXPRIO).contains(&b) {
                        return self.fail(format!("prio must be 0 - {IFQ_MAXPRIO}"));
                    }
                    (a as u8, b as u8)
                } else {
                    let a = self.number()?;
                    if !(0..=IFQ_MAXPRIO).contains(&a) {
                        return self.fail(format!("prio must be 0 - {IFQ_MAXPRIO}"));
                    }
                    (a as u8, a as u8)
                };
                if fo.set_prio.is_some() {
                    return self.fail("prio cannot be redefined");
                }
                fo.set_prio = Some(p);
            }
            Tok::Kw("queue") => {
                let q = self.qname()?;
                if fo.queue.is_some() {
                    return self.fail("queue cannot be redefined");
                }
                fo.queue = Some(q);
            }
            Tok::Kw("tos") => {
                let v = self.tos()?;
                if fo.set_tos.is_some() {
                    return self.fail("tos cannot be respecified");
                }
                fo.set_tos = Some(v);
            }
            Tok::Kw("delay") => {
                let n = self.number()?;
                if fo.delay.is_some() {
                    return self.fail("delay cannot be respecified");
                }
                if !(0..=0xffff).contains(&n) {
                    return self.fail(format!("illegal delay value {n} (0-65535)"));
                }
                fo.delay = Some(n as u16);
            }
            _ => return Err(Abort::Syntax),
        }
        Ok(())
    }

    fn qname(&mut self) -> R<(String, Option<String>)> {
        let (q, pq) = if self.eat(b'(') {
            let q = self.string()?;
            let mut pq = None;
            if !self.at(b')') {
                self.comma();
                pq = Some(self.string()?);
            }
            self.expect(b')')?;
            (q, pq)
        } else {
            (self.string()?, None)
        };
        for n in std::iter::once(&q).chain(pq.iter()) {
            if !self.child_queues.iter().any(|c| &c.name == n) {
                return self.fail(format!("queue {n} is not defined"));
            }
        }
        Ok((q, pq))
    }

    pub(super) fn scrub_opts(&mut self) -> R<ScrubOpts> {
        let mut s = ScrubOpts::default();
        let (mut ttl_set, mut mss_set) = (false, false);
        loop {
            match self.peek().clone() {
                Tok::Kw("no-df") => {
                    self.bump();
                    if s.no_df {
                        return self.fail("no-df cannot be respecified");
                    }
                    s.no_df = true;
                }
                Tok::Kw("min-ttl") => {
                    self.bump();
                    let n = self.number()?;
                    if ttl_set {
                        return self.fail("min-ttl cannot be respecified");
                    }
                    if !(0..=255).contains(&n) {
                        return self.fail(format!("illegal min-ttl value {n}"));
                    }
                    ttl_set = true;
                    s.min_ttl = n as u8;
                }
                Tok::Kw("max-mss") => {
                    self.bump();
                    let n = self.number()?;
                    if mss_set {
                        return self.fail("max-mss cannot be respecified");
                    }
                    if !(0..=65535).contains(&n) {
                        return self.fail(format!("illegal max-mss value {n}"));
                    }
                    mss_set = true;
                    s.max_mss = n as u16;
                }
                Tok::Kw("reassemble") => {
                    self.bump();
                    let w = self.string()?;
                    if !w.eq_ignore_ascii_case("tcp") {
                        return self.fail(format!("scrub reassemble supports only tcp, not '{w}'"));
                    }
                    if s.reassemble_tcp {
                        return self.fail("reassemble tcp cannot be respecified");
                    }
                    s.reassemble_tcp = true;
                }
                Tok::Kw("random-id") => {
                    self.bump();
                    if s.random_id {
                        return self.fail("random-id cannot be respecified");
                    }
                    s.random_id = true;
                }
                _ => return Err(Abort::Syntax),
            }
            self.comma();
            if self.at(b')') {
                return Ok(s);
            }
        }
    }

    fn ugids(&mut self, user: bool) -> R<Vec<IdRange>> {
        self.list(|p| p.ugid_item(user))
    }

    fn ugid_item(&mut self, user: bool) -> R<IdRange> {
        let what = if user { "user" } else { "group" };
        if let Some(op) = self.unaryop() {
            let v = self.ugid(user)?;
            if v == ID_UNKNOWN && op != Op::Eq && op != Op::Ne {
                return self.fail(format!("{what} unknown requires operator = or !="));
            }
            return Ok(IdRange { op, a: v, b: v });
        }
        let a = self.ugid(user)?;
        if let Tok::PortBinary(op) = self.peek().clone() {
            self.bump();
            let b = self.ugid(user)?;
            if a == ID_UNKNOWN || b == ID_UNKNOWN {
                return self.fail(format!("{what} unknown requires operator = or !="));
            }
            return Ok(IdRange { op, a, b });
        }
        Ok(IdRange {
            op: Op::Eq,
            a,
            b: a,
        })
    }

    fn ugid(&mut self, user: bool) -> R<u32> {
        match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                if s == "unknown" {
                    return Ok(ID_UNKNOWN);
                }
                let v = if user {
                    self.env.user_id(&s)
                } else {
                    self.env.group_id(&s)
                };
                match v {
                    Some(v) => Ok(v),
                    None => self.fail(format!(
                        "unknown {} {s}",
                        if user { "user" } else { "group" }
                    )),
                }
            }
            Tok::Num(n) => {
                self.bump();
                if !(0..i64::from(u32::MAX)).contains(&n) {
                    return self.fail(format!(
                        "illegal {} value {n}",
                        if user { "uid" } else { "gid" }
                    ));
                }
                Ok(n as u32)
            }
            _ => Err(Abort::Syntax),
        }
    }

    fn flag(&mut self) -> R<u8> {
        let s = self.string()?;
        match parse_flags(&s) {
            Some(f) => Ok(f),
            None => self.fail(format!("bad flags {s}")),
        }
    }

    fn icmp_item(&mut self, v6: bool) -> R<NodeIcmp> {
        let af = if v6 { Af::Inet6 } else { Af::Inet };
        let proto = if v6 { 58 } else { 1 };
        let kind = if v6 { "icmp6-type" } else { "icmp-type" };
        let ty: u16 = match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                match icmp::type_by_name(&s, Some(af)) {
                    Some(t) => u16::from(t) + 1,
                    None => return self.fail(format!("unknown {kind} {s}")),
                }
            }
            Tok::Num(n) => {
                self.bump();
                if !(0..=255).contains(&n) {
                    return self.fail(format!("illegal {kind} {n}"));
                }
                n as u16 + 1
            }
            _ => return Err(Abort::Syntax),
        };
        let mut code = 0;
        if self.eat_kw("code") {
            code = match self.peek().clone() {
                Tok::Str(s) => {
                    self.bump();
                    match icmp::code_by_name((ty - 1) as u8, &s, Some(af)) {
                        Some(c) => u16::from(c) + 1,
                        None => {
                            let k = if v6 { "icmp6-code" } else { "icmp-code" };
                            return self.fail(format!("unknown {k} {s}"));
                        }
                    }
                }
                Tok::Num(n) => {
                    self.bump();
                    if !(0..=255).contains(&n) {
                        return self.fail(format!("illegal icmp-code {n}"));
                    }
                    n as u16 + 1
                }
                _ => return Err(Abort::Syntax),
            };
        }
        Ok(NodeIcmp { ty, code, proto })
    }

    fn tos(&mut self) -> R<u8> {
        match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                let v: i64 = match map_tos(&s) {
                    Some(v) => i64::from(v),
                    None => match s.strip_prefix("0x") {
                        Some(h) => i64::from_str_radix(h, 16).unwrap_or(256),
                        None => 256,
                    },
                };
                if !(0..=255).contains(&v) {
                    return self.fail(format!("illegal tos value {s}"));
                }
                Ok(v as u8)
            }
            Tok::Num(n) => {
                self.bump();
                if !(0..=255).contains(&n) {
                    return self.fail(format!("illegal tos value {n}"));
                }
                Ok(n as u8)
            }
            _ => Err(Abort::Syntax),
        }
    }

    fn keep(&mut self) -> R<(KeepState, Vec<StateOpt>)> {
        let k = match self.bump() {
            Tok::Kw("no") => {
                self.expect_kw("state")?;
                return Ok((KeepState::None, Vec::new()));
            }
            Tok::Kw("keep") => KeepState::Keep,
            Tok::Kw("modulate") => KeepState::Modulate,
            Tok::Kw("synproxy") => KeepState::Synproxy,
            _ => return Err(Abort::Syntax),
        };
        self.expect_kw("state")?;
        let mut opts = Vec::new();
        if self.eat(b'(') {
            opts = self.state_opt_list()?;
            self.expect(b')')?;
        }
        Ok((k, opts))
    }

    pub(super) fn state_opt_list(&mut self) -> R<Vec<StateOpt>> {
        let mut v = vec![self.state_opt_item()?];
        loop {
            let had_comma = self.eat(b',');
            match self.peek() {
                Tok::Char(b')') | Tok::Char(b'\n') | Tok::Eof if !had_comma => return Ok(v),
                _ => v.push(self.state_opt_item()?),
            }
        }
    }

    fn positive(&mut self) -> R<u32> {
        let n = self.number()?;
        if !(0..=i64::from(u32::MAX)).contains(&n) {
            return self.fail("only positive values permitted");
        }
        Ok(n as u32)
    }

    fn state_opt_item(&mut self) -> R<StateOpt> {
        let t = self.bump();
        Ok(match t {
            Tok::Kw("max") => StateOpt::Max(self.positive()?),
            Tok::Kw("no-sync") => StateOpt::NoSync,
            Tok::Kw("max-src-states") => StateOpt::MaxSrcStates(self.positive()?),
            Tok::Kw("max-src-conn") => StateOpt::MaxSrcConn(self.positive()?),
            Tok::Kw("max-src-conn-rate") => {
                let a = self.number()?;
                self.expect(b'/')?;
                let b = self.number()?;
                if !(0..=i64::from(u32::MAX)).contains(&a)
                    || !(0..=i64::from(u32::MAX)).contains(&b)
                {
                    return self.fail("only positive values permitted");
                }
                StateOpt::MaxSrcConnRate(a as u32, b as u32)
            }
            Tok::Kw("overload") => {
                self.expect(b'<')?;
                let name = self.string()?;
                self.expect(b'>')?;
                if name.len() >= 32 {
                    return self.fail(format!("table name '{name}' too long"));
                }
                let mut flush = false;
                let mut global = false;
                if self.eat_kw("flush") {
                    flush = true;
                    global = self.eat_kw("global");
                }
                StateOpt::Overload(name, flush, global)
            }
            Tok::Kw("max-src-nodes") => StateOpt::MaxSrcNodes(self.positive()?),
            Tok::Kw("source-track") => {
                let t = if self.eat_kw("global") {
                    SrcTrack::Global
                } else if self.eat_kw("rule") {
                    SrcTrack::Rule
                } else {
                    SrcTrack::None
                };
                StateOpt::SrcTrack(t)
            }
            Tok::Kw("if-bound") => StateOpt::Statelock(true),
            Tok::Kw("floating") => StateOpt::Statelock(false),
            Tok::Kw("sloppy") => StateOpt::Sloppy,
            Tok::Kw("pflow") => StateOpt::Pflow,
            Tok::Str(name) => {
                let secs = self.positive()?;
                let Some(i) = timeout_index(&name) else {
                    return self.fail(format!("illegal timeout name {name}"));
                };
                if !TIMEOUT_NAMES[i].contains('.') {
                    return self.fail(format!("illegal state timeout {name}"));
                }
                StateOpt::Timeout(i, secs)
            }
            _ => return Err(Abort::Syntax),
        })
    }

    /// `redirspec: host optweight | '{' redir_host_list '}'`
    fn redirspec(&mut self) -> R<Vec<NodeHost>> {
        if self.eat(b'{') {
            self.optnl();
            let mut all: Vec<NodeHost> = Vec::new();
            loop {
                let mut h = self.host()?;
                if all.is_empty()
                    && !matches!(h.first().map(|x| &x.addr), Some(AddrWrap::AddrMask { .. }))
                {
                    return self.fail("only addresses can be listed for redirection pools ");
                }
                let w = self.optweight()?;
                if w > 0 {
                    h.iter_mut().for_each(|x| x.weight = w);
                }
                all.extend(h);
                self.optnl();
                if self.eat(b'}') {
                    break;
                }
                self.comma();
            }
            return Ok(all);
        }
        let mut h = self.host()?;
        let w = self.optweight()?;
        if w > 0 {
            h.iter_mut().for_each(|x| x.weight = w);
        }
        Ok(h)
    }

    pub(super) fn optweight(&mut self) -> R<u16> {
        if !self.eat_kw("weight") {
            return Ok(0);
        }
        let n = self.number()?;
        if !(1..=65535).contains(&n) {
            return self.fail("weight out of range");
        }
        Ok(n as u16)
    }

    fn redirpool(&mut self) -> R<Redirection> {
        let hosts = self.redirspec()?;
        let mut rport = PortSpec::default();
        if self.eat_kw("port") {
            let s = self.numberstring()?;
            rport = self.parseport(&s, true, true)?;
        }
        Ok(Redirection { hosts, rport })
    }

    fn pool_opts(&mut self) -> R<PoolOpts> {
        let mut p = PoolOpts::default();
        loop {
            let kind = match self.peek() {
                Tok::Kw("bitmask") => PoolType::Bitmask,
                Tok::Kw("random") => PoolType::Random,
                Tok::Kw("source-hash") => PoolType::SourceHash,
                Tok::Kw("round-robin") => PoolType::RoundRobin,
                Tok::Kw("least-states") => PoolType::LeastStates,
                Tok::Kw("static-port") => {
                    self.bump();
                    if p.static_port {
                        return self.fail("static-port cannot be redefined");
                    }
                    p.static_port = true;
                    continue;
                }
                Tok::Kw("sticky-address") => {
                    self.bump();
                    if p.sticky {
                        return self.fail("sticky-address cannot be redefined");
                    }
                    p.sticky = true;
                    continue;
                }
                _ => return Ok(p),
            };
            self.bump();
            if kind == PoolType::SourceHash {
                p.key = Some(self.hashkey()?);
            }
            if p.kind != PoolType::None {
                return self.fail("pool type cannot be redefined");
            }
            p.kind = kind;
        }
    }

    fn hashkey(&mut self) -> R<[u32; 4]> {
        let Tok::Str(_) = self.peek() else {
            return Ok(random_key());
        };
        let s = self.strings()?;
        if let Some(hex) = s.strip_prefix("0x") {
            if s.len() != 34 {
                return self.fail("hex key must be 128 bits (32 hex digits) long");
            }
            if !hex.is_ascii() {
                return self.fail("invalid hex key");
            }
            let mut k = [0u32; 4];
            for (i, w) in k.iter_mut().enumerate() {
                match u32::from_str_radix(&hex[i * 8..i * 8 + 8], 16) {
                    Ok(v) => *w = v,
                    Err(_) => return self.fail("invalid hex key"),
                }
            }
            return Ok(k);
        }
        use md5::{Digest, Md5};
        let d = Md5::digest(s.as_bytes());
        let mut k = [0u32; 4];
        for (i, w) in k.iter_mut().enumerate() {
            *w = u32::from_be_bytes([d[i * 4], d[i * 4 + 1], d[i * 4 + 2], d[i * 4 + 3]]);
        }
        Ok(k)
    }

    pub(super) fn antispoof(&mut self) -> R<()> {
        self.expect_kw("antispoof")?;
        let (log, quick) = self.logquick()?;
        self.expect_kw("for")?;
        let ifs = self.list(|p| p.antispoof_if())?;
        let af = self.af();
        let mut label = None;
        let mut rtable = None;
        loop {
            if self.eat_kw("label") {
                let l = self.string()?;
                if label.is_some() {
                    return self.fail("label cannot be redefined");
                }
                label = Some(l);
            } else if self.eat_kw("rtable") {
                let n = self.number()?;
                if !(0..=RT_TABLEID_MAX).contains(&n) {
                    return self.fail("invalid rtable id");
                }
                if n != 0 {
                    return self.fail(format!("rtable {n} does not exist"));
                }
                rtable = Some(n as u32);
            } else {
                break;
            }
        }
        self.at_end()?;
        for i in ifs {
            let mut base = Rule {
                action: Action::Block,
                direction: Direction::In,
                log,
                quick,
                af,
                rtable,
                ..Rule::default()
            };
            if let Some(l) = &label {
                if l.len() > LABEL_MAX {
                    return self.fail(format!("rule label too long (max {LABEL_MAX} chars)"));
                }
                base.label = l.clone();
            }
            let not_if = NodeIf {
                ifname: i.ifname.clone(),
                not: true,
                rdomain: None,
                dynamic: false,
                loopback: false,
            };
            let (h, hh) = if i.dynamic {
                let mut h = NodeHost::new(
                    AddrWrap::DynIf {
                        ifname: i.ifname.clone(),
                        flags: IfAddrFlags::default(),
                        prefix: 128,
                    },
                    None,
                );
                let hh = h.clone();
                h.addr = AddrWrap::DynIf {
                    ifname: i.ifname.clone(),
                    flags: IfAddrFlags {
                        network: true,
                        ..IfAddrFlags::default()
                    },
                    prefix: 128,
                };
                (vec![h], Some(vec![hh]))
            } else {
                let f = IfAddrFlags {
                    network: true,
                    ..IfAddrFlags::default()
                };
                (crate::host::ifa_lookup(&i.ifname, f, self.env), None)
            };
            if !h.is_empty() {
                let spec = RuleSpec {
                    ifs: vec![not_if],
                    src: Side {
                        hosts: Some(h),
                        ports: Vec::new(),
                    },
                    ..RuleSpec::default()
                };
                self.expand_rule(base.clone(), spec);
            }
            if !i.loopback {
                let h = match hh {
                    Some(hh) => hh,
                    None => crate::host::ifa_lookup(&i.ifname, IfAddrFlags::default(), self.env),
                };
                if !h.is_empty() {
                    let spec = RuleSpec {
                        src: Side {
                            hosts: Some(h),
                            ports: Vec::new(),
                        },
                        ..RuleSpec::default()
                    };
                    self.expand_rule(base.clone(), spec);
                }
            }
        }
        self.end()
    }

    fn antispoof_if(&mut self) -> R<NodeIf> {
        if self.eat(b'(') {
            let mut i = self.if_item()?;
            self.expect(b')')?;
            i.dynamic = true;
            return Ok(i);
        }
        self.if_item()
    }
}

pub(crate) const TH_SYN: u8 = 0x02;
pub(crate) const TH_ACK: u8 = 0x10;
pub(crate) const TCP_FLAGS: &[u8; 8] = b"FSRPAUEW";

/// pfctl's `parse_flags`: letters of `FSRPAUEW`; empty means all.
pub fn parse_flags(s: &str) -> Option<u8> {
    let mut f = 0u8;
    for c in s.bytes() {
        let i = TCP_FLAGS.iter().position(|&x| x == c)?;
        f |= 1 << i;
    }
    Some(if f == 0 { 0xff } else { f })
}

/// `strtoul(s, &end, 0)` accepting the whole string (decimal, 0x hex, 0 octal).
pub(crate) fn parse_ulong(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

fn invalid_range(op: Op, a: u16, b: u16) -> bool {
    (op == Op::Rrg && a > b) || (op == Op::Irg && a >= b) || (op == Op::Xrg && a > b)
}

fn map_tos(s: &str) -> Option<u8> {
    const T: &[(&str, u8)] = &[
        ("af11", 0x28),
        ("af12", 0x30),
        ("af13", 0x38),
        ("af21", 0x48),
        ("af22", 0x50),
        ("af23", 0x58),
        ("af31", 0x68),
        ("af32", 0x70),
        ("af33", 0x78),
        ("af41", 0x88),
        ("af42", 0x90),
        ("af43", 0x98),
        ("critical", 0xa0),
        ("cs0", 0x00),
        ("cs1", 0x20),
        ("cs2", 0x40),
        ("cs3", 0x60),
        ("cs4", 0x80),
        ("cs5", 0xa0),
        ("cs6", 0xc0),
        ("cs7", 0xe0),
        ("ef", 0xb8),
        ("inetcontrol", 0xc0),
        ("lowdelay", 0x10),
        ("netcontrol", 0xe0),
        ("reliability", 0x04),
        ("throughput", 0x08),
    ];
    T.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(s))
        .map(|(_, v)| *v)
}

/// `%g` for the error message of an invalid probability.
fn fmt_g(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// A source-hash key when none is given: random, as pfctl's arc4random.
fn random_key() -> [u32; 4] {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut k = [0u32; 4];
    for (i, w) in k.iter_mut().enumerate() {
        let mut h = RandomState::new().build_hasher();
        h.write_usize(i);
        *w = h.finish() as u32;
    }
    k
}
