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
//!
//! The intersection is computed lazily, 64 rules at a time, as the walk
//! advances: a packet decided by an early `quick` rule costs a few words,
//! not the whole ruleset. Each index list is sorted, and a cursor per
//! list adds its rules to the word being computed.

use crate::pdesc::{proto, Dir};
use hashbrown::HashMap;
use ruleset::addr::Af;
use ruleset::compile::{CAddr, CEndpoint, CRule, IfId};
use ruleset::rule::{Direction, Op};

use super::bits::{words_for, Bits};
use super::env::Flow;
use super::matcher::Packet;

/// Index key lengths: a /16 of IPv4, a /48 of IPv6.
const V4_KEY_BITS: u32 = 16;
const V6_KEY_BITS: u32 = 48;

/// Interface lists one packet can use at once (its interface and its
/// groups); past this the interface dimension is not narrowed.
const MAX_IF_LISTS: usize = 8;

fn af_slot(af: Af) -> usize {
    match af {
        Af::Inet => 0,
        Af::Inet6 => 1,
    }
}

fn key_bits(af: Af) -> u32 {
    match af {
        Af::Inet => V4_KEY_BITS,
        Af::Inet6 => V6_KEY_BITS,
    }
}

fn key_of(af: Af, x: u128) -> u64 {
    (x >> (128 - key_bits(af))) as u64
}

/// One index list: a run of sorted rule indices in
/// [`Classifier::pool`], or, when it holds many rules, a bit set in
/// [`Classifier::dense`] (walking a long list costs more per word than
/// reading a word of bits).
#[derive(Clone, Copy, Debug)]
enum List {
    Sparse(u32, u32),
    Dense(u32),
}

/// A position in one index list.
#[derive(Clone, Copy, Debug, Default)]
enum Cursor {
    #[default]
    Empty,
    Sparse {
        at: u32,
        end: u32,
    },
    Dense(u32),
}

impl Cursor {
    fn of(l: List) -> Cursor {
        match l {
            List::Sparse(at, end) => Cursor::Sparse { at, end },
            List::Dense(i) => Cursor::Dense(i),
        }
    }
}

/// Where the walk of one ruleset is: the word of candidates being
/// handed out, and a cursor into each index list the packet uses.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct CandState {
    /// The packet's entry in [`Classifier::combo`].
    combo: u32,
    /// Index of the word in `bits`; `None` before the first.
    word: Option<u32>,
    bits: u64,
    /// `None`: the packet's interface dimension is not narrowed.
    ifs: Option<([Cursor; MAX_IF_LISTS], u8)>,
    dst: Cursor,
    src: Cursor,
    /// `None` for packets whose ports are not read.
    dport: Option<Cursor>,
}

/// An address index: base rules plus rules by address key, per family.
#[derive(Debug, Default)]
struct AddrIndex {
    base: Bits,
    by_key: [HashMap<u64, List>; 2],
}

/// One ruleset's classifier.
#[derive(Debug)]
pub(super) struct Classifier {
    words: u32,
    /// `proto_slot[p]` numbers protocol `p`; slot 0 stands for every
    /// protocol no rule names.
    proto_slot: Box<[u16; 256]>,
    /// Rules that direction, family and protocol allow, one set per
    /// `(dir, af, proto slot)`, at [`Classifier::combo_index`].
    combo: Vec<Bits>,
    /// Per word: the base sets of the interface, destination address,
    /// source address and destination port dimensions, side by side so
    /// one cache line serves all four.
    bases: Vec<[u64; 4]>,
    /// By interface id: its rules (`on em0`), if any.
    by_if: Vec<Option<List>>,
    src: AddrIndex,
    dst: AddrIndex,
    by_dport: HashMap<u16, List>,
    /// Every sparse index list, back to back.
    pool: Vec<u32>,
    /// Every dense index list.
    dense: Vec<Bits>,
}

/// Where index lists are stored while building.
struct Store {
    rules: usize,
    pool: Vec<u32>,
    dense: Vec<Bits>,
}

impl Store {
    fn list(&mut self, v: &[u32]) -> List {
        // Dense once the list averages a rule every four words.
        if v.len().saturating_mul(4) >= words_for(self.rules) && v.len() > 4 {
            let mut b = Bits::empty(self.rules);
            for &i in v {
                b.set(i);
            }
            self.dense.push(b);
            List::Dense(u32::try_from(self.dense.len() - 1).unwrap_or(u32::MAX))
        } else {
            let start = u32::try_from(self.pool.len()).unwrap_or(u32::MAX);
            self.pool.extend_from_slice(v);
            List::Sparse(start, u32::try_from(self.pool.len()).unwrap_or(u32::MAX))
        }
    }
}

/// Lists by key, stored.
fn into_lists<K: std::hash::Hash + Eq>(
    lists: impl IntoIterator<Item = (K, Vec<u32>)>,
    store: &mut Store,
) -> HashMap<K, List> {
    lists
        .into_iter()
        .map(|(k, v)| (k, store.list(&v)))
        .collect()
}

fn addr_index(rules: &[CRule], side: fn(&CRule) -> &CEndpoint, store: &mut Store) -> AddrIndex {
    let mut base = Bits::empty(rules.len());
    let mut lists: [HashMap<u64, Vec<u32>>; 2] = Default::default();
    for (i, r) in (0u32..).zip(rules) {
        let ep = side(r);
        let key = match (ep.addr, ep.neg, r.af) {
            (CAddr::Net { addr, mask }, false, Some(af)) => {
                let needed = u128::MAX << (128 - key_bits(af));
                (mask & needed == needed).then(|| (af, key_of(af, addr)))
            }
            _ => None,
        };
        match key {
            Some((af, k)) => lists[af_slot(af)].entry(k).or_default().push(i),
            None => base.set(i),
        }
    }
    let [v4, v6] = lists;
    AddrIndex {
        base,
        by_key: [into_lists(v4, store), into_lists(v6, store)],
    }
}

/// Rules of a list (from the cursor on) that fall in word `w`, as bits;
/// a sparse cursor moves past them.
fn take(pool: &[u32], dense: &[Bits], cur: &mut Cursor, w: u32) -> u64 {
    match cur {
        Cursor::Empty => 0,
        Cursor::Dense(i) => dense.get(*i as usize).map_or(0, |b| word(b, w)),
        Cursor::Sparse { at, end } => {
            let mut m = 0u64;
            while *at < *end {
                let Some(&i) = pool.get(*at as usize) else {
                    break;
                };
                let iw = i / 64;
                if iw > w {
                    break;
                }
                if iw == w {
                    m |= 1u64 << (i % 64);
                }
                *at += 1;
            }
            m
        }
    }
}

fn word(b: &Bits, w: u32) -> u64 {
    b.words().get(w as usize).copied().unwrap_or(0)
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
        let mut store = Store {
            rules: n,
            pool: Vec::new(),
            dense: Vec::new(),
        };
        let mut by_if_id: Vec<Option<List>> = Vec::new();
        for (x, v) in by_if {
            let at = x.0 as usize;
            if by_if_id.len() <= at {
                by_if_id.resize(at + 1, None);
            }
            by_if_id[at] = Some(store.list(&v));
        }
        let by_dport = into_lists(by_dport, &mut store);
        let mut combo = Vec::with_capacity(4 * proto.len());
        for d in &dir {
            for a in &af {
                for pr in &proto {
                    let mut b = Bits::empty(n);
                    for (i, w) in (0u32..).zip(b.words.iter_mut()) {
                        *w = word(d, i) & word(a, i) & word(pr, i);
                    }
                    combo.push(b);
                }
            }
        }
        let src = addr_index(rules, |r| &r.src, &mut store);
        let dst = addr_index(rules, |r| &r.dst, &mut store);
        Classifier {
            words: u32::try_from(words_for(n)).unwrap_or(u32::MAX),
            proto_slot,
            combo,
            bases: (0..u32::try_from(words_for(n)).unwrap_or(u32::MAX))
                .map(|w| {
                    [
                        word(&if_base, w),
                        word(&dst.base, w),
                        word(&src.base, w),
                        word(&dport_base, w),
                    ]
                })
                .collect(),
            by_if: by_if_id,
            src,
            dst,
            by_dport,
            pool: store.pool,
            dense: store.dense,
        }
    }

    /// Begin (or, after a translation, restart) the walk of the ruleset
    /// for the packet as `flow` now describes it, at rule `from`.
    pub(super) fn start(&self, p: &Packet<'_>, flow: &Flow, from: u32) -> CandState {
        let mut ifs = ([Cursor::default(); MAX_IF_LISTS], 0u8);
        let mut narrowed = true;
        let mut add = |l: Option<List>| {
            if let Some(l) = l {
                match ifs.0.get_mut(usize::from(ifs.1)) {
                    Some(c) => {
                        *c = Cursor::of(l);
                        ifs.1 += 1;
                    }
                    None => narrowed = false,
                }
            }
        };
        let list_of = |x: IfId| self.by_if.get(x.0 as usize).copied().flatten();
        if let Some(ifp) = p.ctx.ifp {
            add(list_of(ifp));
            match p.ctx.env.if_groups(ifp) {
                Some(groups) => {
                    for &g in groups {
                        if g != ifp {
                            add(list_of(g));
                        }
                    }
                }
                None => {
                    for (x, l) in (0u32..).zip(&self.by_if) {
                        if l.is_some() && IfId(x) != ifp && p.ctx.env.if_in_group(ifp, IfId(x)) {
                            add(*l);
                        }
                    }
                }
            }
        }
        let addr = |ix: &AddrIndex, x: u128| {
            ix.by_key[af_slot(flow.af)]
                .get(&key_of(flow.af, x))
                .map_or_else(Cursor::default, |l| Cursor::of(*l))
        };
        let ports = !p.pd.fragment && (p.pd.proto == proto::TCP || p.pd.proto == proto::UDP);
        let mut st = CandState {
            combo: self.combo_index(p),
            word: None,
            bits: 0,
            ifs: narrowed.then_some(ifs),
            dst: addr(&self.dst, flow.dst),
            src: addr(&self.src, flow.src),
            dport: ports.then(|| {
                self.by_dport
                    .get(&flow.dport)
                    .map_or_else(Cursor::default, |l| Cursor::of(*l))
            }),
        };
        // Cursors start at their list's beginning; `take` skips what lies
        // before `from`'s word.
        if from > 0 {
            let _ = self.next(&mut st, from);
        }
        st
    }

    fn combo_index(&self, p: &Packet<'_>) -> u32 {
        let slots = self.combo.len() / 4;
        let d = usize::from(p.ctx.dir == Dir::Out);
        let pr = usize::from(self.proto_slot[usize::from(p.pd.proto)]);
        u32::try_from((d * 2 + af_slot(p.pd.af)) * slots + pr).unwrap_or(u32::MAX)
    }

    /// Candidates in word `w`.
    fn word_bits(&self, st: &mut CandState, w: u32) -> u64 {
        let Some(combo) = self.combo.get(st.combo as usize) else {
            return 0;
        };
        let mut c = word(combo, w);
        if c == 0 {
            return 0;
        }
        let (pool, dense) = (&self.pool[..], &self.dense[..]);
        let [if_base, dst_base, src_base, dport_base] =
            self.bases.get(w as usize).copied().unwrap_or_default();
        if let Some((cursors, n)) = &mut st.ifs {
            let mut m = if_base;
            for cur in cursors.iter_mut().take(usize::from(*n)) {
                m |= take(pool, dense, cur, w);
            }
            c &= m;
        }
        c &= dst_base | take(pool, dense, &mut st.dst, w);
        c &= src_base | take(pool, dense, &mut st.src, w);
        if let Some(cur) = &mut st.dport {
            c &= dport_base | take(pool, dense, cur, w);
        }
        c
    }

    /// The first candidate at or after `from`. Calls for one state come
    /// with `from` never decreasing.
    pub(super) fn next(&self, st: &mut CandState, from: u32) -> Option<u32> {
        let fw = from / 64;
        let below = !(u64::MAX << (from % 64));
        match st.word {
            Some(w) if w == fw => st.bits &= !below,
            Some(w) if w > fw => {}
            _ => {
                if fw >= self.words {
                    return None;
                }
                st.word = Some(fw);
                st.bits = self.word_bits(st, fw) & !below;
            }
        }
        loop {
            let w = st.word?;
            if st.bits != 0 {
                return Some(w * 64 + st.bits.trailing_zeros());
            }
            let nw = w + 1;
            if nw >= self.words {
                return None;
            }
            st.word = Some(nw);
            st.bits = self.word_bits(st, nw);
        }
    }
}
