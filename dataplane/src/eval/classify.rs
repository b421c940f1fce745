//! The fast path's classifier: for each large ruleset, bit sets of the
//! rules that can possibly match a packet of a given direction, family
//! and protocol, narrowed by the packet's interface, addresses and
//! destination port through per-value indexes. Their intersection is a
//! superset of the matching rules, walked in rule order, so pf's
//! last-match and `quick` semantics are untouched: every candidate is
//! still tested in full by the matcher.
//!
//! A rule goes into a value's index only when its field *requires* that
//! value (an `on em0` rule without `!`, a non-negated network at least
//! as long as the index key, an `=` port); every other rule is in the
//! dimension's base set, which all packets get.

use crate::pdesc::{proto, Dir};
use hashbrown::HashMap;
use ruleset::addr::Af;
use ruleset::compile::{CAddr, CEndpoint, CRule, IfId};
use ruleset::rule::{Direction, Op};

use super::bits::{and3, and_with_extra, Bits};
use super::env::Flow;
use super::matcher::Packet;

/// Index key lengths: a /16 of IPv4, a /48 of IPv6.
const V4_KEY_BITS: u32 = 16;
const V6_KEY_BITS: u32 = 48;

fn af_slot(af: Af) -> usize {
    match af {
        Af::Inet => 0,
        Af::Inet6 => 1,
    }
}

fn key_of(af: Af, x: u128) -> u64 {
    let bits = match af {
        Af::Inet => V4_KEY_BITS,
        Af::Inet6 => V6_KEY_BITS,
    };
    (x >> (128 - bits)) as u64
}

/// An address index: base rules plus rules by address key, per family.
#[derive(Debug, Default)]
struct AddrIndex {
    base: Bits,
    by_key: [HashMap<u64, Vec<u32>>; 2],
}

impl AddrIndex {
    fn build(rules: &[CRule], side: impl Fn(&CRule) -> &CEndpoint) -> AddrIndex {
        let mut ix = AddrIndex {
            base: Bits::empty(rules.len()),
            by_key: Default::default(),
        };
        for (i, r) in (0u32..).zip(rules) {
            let ep = side(r);
            let key = match (ep.addr, ep.neg, r.af) {
                (CAddr::Net { addr, mask }, false, Some(af)) => {
                    let bits = match af {
                        Af::Inet => V4_KEY_BITS,
                        Af::Inet6 => V6_KEY_BITS,
                    };
                    let needed = u128::MAX << (128 - bits);
                    (mask & needed == needed).then(|| (af, key_of(af, addr)))
                }
                _ => None,
            };
            match key {
                Some((af, k)) => ix.by_key[af_slot(af)].entry(k).or_default().push(i),
                None => ix.base.set(i),
            }
        }
        ix
    }

    fn narrow(&self, cand: &mut [u64], tmp: &mut [u64], af: Af, x: u128) {
        let extra = self.by_key[af_slot(af)]
            .get(&key_of(af, x))
            .map_or(&[][..], Vec::as_slice);
        and_with_extra(cand, self.base.words(), extra, tmp);
    }
}

/// One ruleset's classifier.
#[derive(Debug)]
pub(super) struct Classifier {
    dir: [Bits; 2],
    af: [Bits; 2],
    /// `proto_slot[p]` indexes `proto`; slot 0 holds the rules with no
    /// protocol, what every protocol no rule names gets.
    proto_slot: Box<[u16; 256]>,
    proto: Vec<Bits>,
    if_base: Bits,
    by_if: Vec<(IfId, Vec<u32>)>,
    src: AddrIndex,
    dst: AddrIndex,
    dport_base: Bits,
    by_dport: HashMap<u16, Vec<u32>>,
}

impl Classifier {
    pub(super) fn build(rules: &[CRule]) -> Classifier {
        let n = rules.len();
        let mut dir = [Bits::empty(n), Bits::empty(n)];
        let mut af = [Bits::empty(n), Bits::empty(n)];
        let mut proto_slot = Box::new([0u16; 256]);
        let mut proto = vec![Bits::empty(n)];
        for r in rules {
            if r.proto != 0 && proto_slot[usize::from(r.proto)] == 0 {
                proto_slot[usize::from(r.proto)] = u16::try_from(proto.len()).unwrap_or(0);
                proto.push(Bits::empty(n));
            }
        }
        let mut if_base = Bits::empty(n);
        let mut by_if: Vec<(IfId, Vec<u32>)> = Vec::new();
        let mut dport_base = Bits::empty(n);
        let mut by_dport: HashMap<u16, Vec<u32>> = HashMap::new();
        for (i, r) in (0u32..).zip(rules) {
            match r.direction {
                Direction::InOut => {
                    dir[0].set(i);
                    dir[1].set(i);
                }
                Direction::In => dir[0].set(i),
                Direction::Out => dir[1].set(i),
            }
            match r.af {
                None => {
                    af[0].set(i);
                    af[1].set(i);
                }
                Some(a) => af[af_slot(a)].set(i),
            }
            if r.proto == 0 {
                for b in proto.iter_mut() {
                    b.set(i);
                }
            } else if let Some(b) = proto.get_mut(usize::from(proto_slot[usize::from(r.proto)])) {
                b.set(i);
            }
            match (r.if_id, r.ifnot) {
                (Some(x), false) => match by_if.iter_mut().find(|(y, _)| *y == x) {
                    Some((_, v)) => v.push(i),
                    None => by_if.push((x, vec![i])),
                },
                _ => if_base.set(i),
            }
            if r.dst.port.op == Op::Eq {
                by_dport.entry(r.dst.port.a).or_default().push(i);
            } else {
                dport_base.set(i);
            }
        }
        Classifier {
            dir,
            af,
            proto_slot,
            proto,
            if_base,
            by_if,
            src: AddrIndex::build(rules, |r| &r.src),
            dst: AddrIndex::build(rules, |r| &r.dst),
            dport_base,
            by_dport,
        }
    }

    /// Fill `cand` with the rules that may match the packet as `flow`
    /// now describes it.
    pub(super) fn candidates(
        &self,
        p: &Packet<'_>,
        flow: &Flow,
        cand: &mut [u64],
        tmp: &mut [u64],
    ) {
        let d = usize::from(p.ctx.dir == Dir::Out);
        let pr = usize::from(self.proto_slot[usize::from(p.pd.proto)]);
        let (Some(dir), Some(af), Some(pro)) = (
            self.dir.get(d),
            self.af.get(af_slot(p.pd.af)),
            self.proto.get(pr),
        ) else {
            return;
        };
        and3(cand, dir.words(), af.words(), pro.words());

        if !self.by_if.is_empty() {
            tmp.copy_from_slice(self.if_base.words());
            for (x, list) in &self.by_if {
                if p.on_if(*x) {
                    for &i in list {
                        if let Some(w) = tmp.get_mut((i / 64) as usize) {
                            *w |= 1u64 << (i % 64);
                        }
                    }
                }
            }
            for (c, t) in cand.iter_mut().zip(tmp.iter()) {
                *c &= t;
            }
        }
        self.dst.narrow(cand, tmp, flow.af, flow.dst);
        self.src.narrow(cand, tmp, flow.af, flow.src);
        // Ports are only read for unfragmented TCP and UDP.
        if !p.pd.fragment && (p.pd.proto == proto::TCP || p.pd.proto == proto::UDP) {
            let extra = self
                .by_dport
                .get(&flow.dport)
                .map_or(&[][..], Vec::as_slice);
            and_with_extra(cand, self.dport_base.words(), extra, tmp);
        }
    }
}
