//! The first packet of a connection: rule evaluation, `allow-opts`,
//! block replies, then (pf_create_state) source tracking, the state and
//! its two keys, `modulate`/`synproxy`, translation and scrub.

use super::env::Env;
use super::ifaces::Iface;
use super::{log, reply, scrub, synproxy, translate};
use super::{Action, Emitted, Engine, Packet, StateOutcome, Toward, Verdict, Worker};
use crate::eval::{evaluate, EvalCtx, EvalResult};
use crate::key::StateKey;
use crate::pdesc::{Dir, Pdesc};
use crate::reason::Reason;
use crate::state::{Flush, NewState, Side, SrcTrack};
use ruleset::compile::CRule;
use ruleset::rule::{Action as RuleAction, KeepState, SrcTrack as RuleSrcTrack};

impl Engine {
    pub(super) fn test_rules(
        &self,
        w: &mut Worker,
        now_ns: u64,
        pkt: &mut Packet<'_>,
        pd: &mut Pdesc,
        ifp: &Iface,
    ) -> Verdict {
        let rand = w.rand();
        let env = Env {
            engine: self,
            iface: ifp,
            dir: pkt.dir,
            rand,
            now_ns,
        };
        let ctx = EvalCtx {
            ifp: ifp.if_id,
            dir: pkt.dir,
            rdomain: 0,
            tag: None,
            rand,
            env: &env,
        };
        let res = evaluate(&self.rules, &ctx, pd, &mut w.eval);
        let len = u64::from(pd.ip_len);
        let rule = res.rule.map(|r| self.rules.rule(r));
        let mut v = Verdict {
            action: Action::Pass,
            reason: Reason::Match,
            rule: res.rule.and_then(|r| self.rule_nr((r.ruleset.0, r.index))),
            state: StateOutcome::None,
            nat: None,
            log: None,
            emit: Vec::new(),
            route: None,
            created: None,
            refrag: None,
        };
        if let Some(r) = res.fail {
            v.action = Action::Block;
            v.reason = r;
        } else if res.action == RuleAction::Block {
            v.action = Action::Block;
            if let Some(rule) = rule {
                if let Some(frame) = reply::for_block(pkt.frame, pd, rule, self.cfg.link) {
                    v.emit.push(Emitted {
                        frame,
                        toward: Toward::Sender,
                        generated: true,
                    });
                }
            }
        } else if pd.ip_opts && !rule.is_some_and(|r| r.allow_opts) {
            // pf_test: IP options only pass a rule with allow-opts.
            v.action = Action::Block;
            v.reason = Reason::IpOption;
        } else {
            self.pass_rule(w, now_ns, pkt, pd, &res, rule, &mut v);
        }
        // pf_counters_inc: a SYN synproxy consumes counts on no rule
        if v.reason != Reason::Synproxy {
            w.eval.account(&self.rules, &res, pkt.dir, len);
        }
        if res.log || v.reason == Reason::IpOption {
            if let Some(rule) = rule {
                let r = res.rule.map_or((0, 0), |r| (r.ruleset.0, r.index));
                // pf logs a SYN synproxy consumes as the rule passed it
                let (why, pass) = match v.reason {
                    Reason::Synproxy => (Reason::Match, true),
                    why => (why, v.action == Action::Pass),
                };
                v.log = Some(Box::new(log::entry(self, pkt, pd, ifp, rule, r, why, pass)));
            } else {
                v.log = Some(Box::new(log::default_entry(
                    pkt,
                    pd,
                    ifp,
                    v.reason,
                    v.action == Action::Pass,
                )));
            }
        }
        v
    }

    /// A packet the rules passed: create the state, translate.
    #[allow(clippy::too_many_arguments)]
    fn pass_rule(
        &self,
        w: &mut Worker,
        now_ns: u64,
        pkt: &mut Packet<'_>,
        pd: &mut Pdesc,
        res: &EvalResult,
        rule: Option<&CRule>,
        v: &mut Verdict,
    ) {
        let flow = res.flow;
        let translated = flow.src != pd.src
            || flow.dst != pd.dst
            || flow.sport != pd.sport
            || flow.dport != pd.dport;
        // pf creates no state for fragments it did not reassemble, nor
        // for ICMP errors (they belong to the state of what they quote).
        let icmp_error = pd.icmp_inner.is_some();
        let keep = rule.is_some_and(|r| r.keep_state != KeepState::None);
        if keep && !pd.fragment && !icmp_error {
            let Some(rule) = rule else { return };
            let rr = res.rule.map_or((0, 0), |r| self.state_key_of(r));
            let orig = StateKey::from_pdesc(pd, pkt.dir, 0);
            let mut xlat = orig;
            let (s, d) = (crate::key::sidx(pkt.dir), crate::key::didx(pkt.dir));
            xlat.addr[s] = flow.src;
            xlat.addr[d] = flow.dst;
            xlat.port[s] = flow.sport;
            xlat.port[d] = flow.dport;
            // pf_state_key_setup: the wire key is what is on this
            // interface's wire: the packet as it arrives inbound, as it
            // leaves outbound.
            let (wire, stack) = match pkt.dir {
                Dir::In => (orig, xlat),
                Dir::Out => (xlat, orig),
            };
            let s = &rule.actions.state;
            let ns = NewState {
                wire,
                stack,
                dir: pkt.dir,
                rule: rr,
                timeouts: s.timeouts,
                max_states_rule: s.max_states,
                if_bound: (s.if_bound || self.compiled().options.state_policy_if_bound)
                    .then(|| u32::try_from(pkt.ifindex).unwrap_or(u32::MAX)),
                sloppy: s.sloppy,
                modulate: rule.keep_state == KeepState::Modulate,
                translated,
                src_track: src_track(s),
                release_tag: self.sticky_tag(res),
                scrub: scrub::from_actions(&res.actions),
                no_sync: s.no_sync,
                allow_opts: rule.allow_opts,
                pd: *pd,
            };
            let tag = ns.release_tag;
            let modulate = ns.modulate;
            let synced = !ns.no_sync;
            // pf_create_state draws the next hop before it keeps the
            // state: a pool with nothing to give fails the state
            let route = match res.rule.map(|r| self.draw_route(r, pd, w.rand(), now_ns)) {
                Some(Err(r)) => {
                    v.action = Action::Block;
                    v.reason = r;
                    return;
                }
                Some(Ok(route)) => route,
                None => None,
            };
            match self.states.insert(ns, now_ns) {
                Ok(id) => {
                    v.state = StateOutcome::New;
                    v.created = synced.then(|| crate::state::SyncId {
                        id: id.as_u64(),
                        creator: self.states.host_id(),
                    });
                    if let (Some(route), Some(r)) = (route, res.rule) {
                        self.keep_route(id, r, route, pd);
                        // the creator sent this packet
                        v.route = Some(route).filter(|r| r.applies_to(Side::Src));
                    }
                    w.eval.add_state(res.rule);
                    if tag != 0 {
                        self.sticky_hold(tag, pd);
                    }
                    if rule.keep_state == KeepState::Synproxy && synproxy::proxies(pd, pkt.dir) {
                        self.synproxy_begin(pkt, pd, id, v);
                        return;
                    }
                    if modulate {
                        let diff = self.states.info(id).map_or(0, |i| i.src.seqdiff);
                        if let Err(r) = translate::modulate_syn(pkt.frame, pd, diff) {
                            v.action = Action::Block;
                            v.reason = r;
                            return;
                        }
                    }
                }
                Err(r) => {
                    v.action = Action::Block;
                    v.reason = r;
                    return;
                }
            }
        }
        if translated {
            match translate::apply_flow(pkt.frame, pd, &flow) {
                Ok(nat) => v.nat = Some(nat),
                Err(r) => {
                    v.action = Action::Block;
                    v.reason = r;
                    return;
                }
            }
        }
        let sc = scrub::from_actions(&res.actions);
        if !sc.is_empty() {
            scrub::apply(pkt.frame, pd, &sc, w.rand() as u16);
        }
    }
}

/// The rule's source-tracking options as the state table takes them;
/// `None` when the rule tracks no sources. pfctl turns on source
/// tracking (global unless `source-track rule`) for any `max-src-*`.
fn src_track(s: &ruleset::compile::CStateOpts) -> Option<SrcTrack> {
    let limits = s.max_src_nodes != 0
        || s.max_src_states != 0
        || s.max_src_conn != 0
        || s.max_src_conn_rate != (0, 0);
    if s.src_track == RuleSrcTrack::None && !limits {
        return None;
    }
    Some(SrcTrack {
        per_rule: s.src_track == RuleSrcTrack::Rule,
        max_src_nodes: s.max_src_nodes,
        max_src_states: s.max_src_states,
        max_src_conn: s.max_src_conn,
        max_src_conn_rate: s.max_src_conn_rate,
        overload: s.overload.is_some(),
        flush: match (s.flush, s.flush_global) {
            (_, true) => Some(Flush::Global),
            (true, false) => Some(Flush::Rule),
            (false, false) => None,
        },
        timeout: s.timeouts[ruleset::rule::PFTM_SRC_NODE],
    })
}
