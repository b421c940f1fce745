//! The reassembly table: packets in reassembly by node and id, their
//! least-recently-used order, the `frags` limit and the timeout.

use std::collections::{BTreeMap, HashMap};

use super::join::join;
use super::parse::{classify, Classified, Family, Fragment, IPV4_MIN_HDR};
use super::queue::{FragQueue, Frent, QueueFull};
use super::{FragResult, FragStats};
use crate::pdesc::Dir;
use crate::reason::Reason;

/// pf's `PF_FRAG_STALE`: a packet is stale once this many times the
/// frag timeout (in seconds) newer packets of its node have started.
const FRAG_STALE: u32 = 200;
const IP_MAXPACKET: u32 = 65_535;
const IP_DF: u16 = 0x4000;

/// pf's `struct pf_frnode` key: fragments of one flow of packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct NodeKey {
    family: Family,
    proto: u8,
    dir: Dir,
    src: [u8; 16],
    dst: [u8; 16],
}

#[derive(Debug)]
struct Node {
    /// Generation of the newest packet (`fn_gen`).
    gen: u32,
    /// Packets in reassembly under this node (`fn_fragments`).
    packets: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct PacketKey {
    node: NodeKey,
    id: u32,
}

#[derive(Debug)]
struct Packet {
    queue: FragQueue,
    created_ns: u64,
    gen: u32,
    /// Position in the LRU order (larger is more recent).
    lru: u64,
    /// Largest fragment payload (`fr_maxlen`).
    maxlen: u16,
}

/// Why [`Reassembler::fillup`] did not queue the fragment.
enum Refused {
    Duplicate,
    Drop(Reason),
}

/// Reassembles fragments of IPv4 and IPv6 packets (one per worker; no
/// locking inside).
#[derive(Debug)]
pub struct Reassembler {
    limit: u32,
    timeout_ns: u64,
    timeout_s: u32,
    no_df: bool,
    nodes: HashMap<NodeKey, Node>,
    packets: HashMap<PacketKey, Packet>,
    /// LRU order: first entry is the least recently used packet.
    lru: BTreeMap<u64, PacketKey>,
    next_lru: u64,
    /// Fragments held (`pf_status.fragments`).
    fragments: u32,
    stats: FragStats,
}

impl Default for Reassembler {
    /// pf's defaults: 65536 fragments, 60 seconds.
    fn default() -> Self {
        Reassembler::new(super::DEFAULT_LIMIT, super::DEFAULT_TIMEOUT_S)
    }
}

impl Reassembler {
    /// `limit` is `set limit frags` (fragments held at once), `timeout_s`
    /// is `set timeout frag`.
    pub fn new(limit: u32, timeout_s: u32) -> Reassembler {
        Reassembler {
            limit,
            timeout_ns: u64::from(timeout_s) * 1_000_000_000,
            timeout_s,
            no_df: false,
            nodes: HashMap::new(),
            packets: HashMap::new(),
            lru: BTreeMap::new(),
            next_lru: 0,
            fragments: 0,
            stats: FragStats::default(),
        }
    }

    /// A new ruleset's `set limit frags`; held fragments stay.
    pub fn set_limit(&mut self, limit: u32) {
        self.limit = limit;
    }

    /// A new ruleset's `set timeout frag`.
    pub fn set_timeout(&mut self, timeout_s: u32) {
        self.timeout_s = timeout_s;
        self.timeout_ns = u64::from(timeout_s) * 1_000_000_000;
    }

    /// `set reassemble yes no-df`: reassemble IPv4 fragments with DF set
    /// (clearing DF) instead of dropping them.
    pub fn set_no_df(&mut self, no_df: bool) {
        self.no_df = no_df;
    }

    /// Feed one packet whose IP header starts at `frame[l3_off..]`, seen
    /// in direction `dir` (pf keys reassembly by direction too).
    /// Bytes after the IP length (link padding) are ignored.
    pub fn push(
        &mut self,
        frame: &[u8],
        l3_off: usize,
        dir: Dir,
        now_ns: u64,
    ) -> Result<FragResult, Reason> {
        let frag = match classify(frame, l3_off, self.no_df)? {
            Classified::NotFragment => return Ok(FragResult::NotFragment),
            Classified::Fragment(f) => f,
        };

        // pf_create_fragment: make room before anything else.
        if self.fragments >= self.limit {
            self.flush();
            if self.fragments >= self.limit {
                self.stats.dropped_memory += 1;
                return Err(Reason::Memory);
            }
        }
        self.fragments += 1;

        let key = PacketKey {
            node: NodeKey {
                family: frag.family,
                proto: frag.proto,
                dir,
                src: frag.src,
                dst: frag.dst,
            },
            id: frag.id,
        };
        match self.fillup(key, &frag, now_ns) {
            Ok(()) => {}
            Err(Refused::Duplicate) => {
                self.fragments -= 1;
                self.stats.dropped_overlap += 1;
                return Ok(FragResult::Duplicate);
            }
            Err(Refused::Drop(r)) => {
                self.fragments -= 1;
                return Err(r);
            }
        }

        let Some(p) = self.packets.get(&key) else {
            return Err(Reason::Fragment);
        };
        if p.queue.holes() != 0 {
            self.stats.held += 1;
            return Ok(FragResult::Held);
        }
        let joined = join(key.node.family, &p.queue, p.maxlen, key.id);
        self.free_packet(&key);
        match joined {
            Ok(r) => {
                self.stats.completed += 1;
                Ok(FragResult::Complete(r))
            }
            Err(r) => {
                self.stats.too_big += 1;
                Err(r)
            }
        }
    }

    /// The held fragment for `frag`, with the headers the reassembled
    /// packet will carry if it is the first.
    fn frent(&self, frag: &Fragment<'_>) -> Frent {
        let hdr = (frag.off == 0).then(|| {
            let mut h = frag.hdr.to_vec();
            if frag.family == Family::V4 && self.no_df && h.len() >= IPV4_MIN_HDR {
                // The DF check passed only because no-df clears it.
                h[6] &= !((IP_DF >> 8) as u8);
            }
            h
        });
        Frent::new(frag.off, frag.mff, frag.payload, hdr, frag.extoff)
    }

    /// pf's `pf_fillup_fragment`. On success the fragment is queued
    /// under `key`; otherwise the caller drops it.
    fn fillup(&mut self, key: PacketKey, frag: &Fragment<'_>, now_ns: u64) -> Result<(), Refused> {
        let bad = |s: &mut FragStats| {
            s.dropped_bad += 1;
            Err(Refused::Drop(Reason::Fragment))
        };
        if frag.len == 0
            || (frag.mff && frag.len & 7 != 0)
            || u32::from(frag.off) + u32::from(frag.len) > IP_MAXPACKET
        {
            return bad(&mut self.stats);
        }
        let mut frent = self.frent(frag);

        if !self.find(&key) {
            self.create(key, frent, now_ns);
            return Ok(());
        }
        let v6 = key.node.family == Family::V6;
        let Some(p) = self.packets.get_mut(&key) else {
            return bad(&mut self.stats);
        };
        if frent.len > p.maxlen {
            p.maxlen = frent.len;
        }
        let (total, last_mff) = p.queue.last().map_or((0, true), |l| (l.end(), l.mff));
        let end = frent.end();
        // A fragment that contradicts what is known of the packet's end:
        // IPv4 drops the fragment, IPv6 the whole datagram.
        let inconsistent = (end < total && !frent.mff)
            || if !last_mff {
                end > total || (end == total && frent.mff)
            } else {
                end == total && !frent.mff
            };
        if inconsistent {
            return self.refuse_bad(&key, v6);
        }

        let prev = p.queue.previous(frent.off);
        let after = prev.map_or(0, |i| i + 1);
        if let Some(pe) = prev.and_then(|i| p.queue.get(i)).map(|f| f.end()) {
            if pe > u32::from(frent.off) {
                if v6 {
                    return self.refuse_overlap_v6(&key);
                }
                // Both are below 65536 here.
                let precut = (pe - u32::from(frent.off)) as u16;
                if precut >= frent.len {
                    return Err(Refused::Duplicate);
                }
                frent.trim_front(precut);
            }
        }

        while let Some(next_off) = p
            .queue
            .get(after)
            .map(|a| a.off)
            .filter(|&o| frent.end() > u32::from(o))
        {
            if v6 {
                return self.refuse_overlap_v6(&key);
            }
            let aftercut = (frent.end() - u32::from(next_off)) as u16;
            let Some(mut a) = p.queue.remove_at(after) else {
                break;
            };
            if aftercut < a.len {
                a.trim_front(aftercut);
                if let Err(QueueFull(_lost)) = p.queue.insert_at(after, a) {
                    // pf: "fragment requeue limit exceeded", no way to
                    // recover: the trimmed fragment and the packet go.
                    self.fragments -= 1;
                    self.free_packet(&key);
                    return bad(&mut self.stats);
                }
                break;
            }
            // Wholly covered by the new fragment: lose it.
            self.fragments -= 1;
        }

        if p.queue.insert_at(after, frent).is_err() {
            // pf: "fragment queue limit exceeded".
            self.free_packet(&key);
            return bad(&mut self.stats);
        }
        Ok(())
    }

    fn refuse_bad(&mut self, key: &PacketKey, v6: bool) -> Result<(), Refused> {
        if v6 {
            // RFC 5722: discard the whole datagram.
            self.free_packet(key);
        }
        self.stats.dropped_bad += 1;
        Err(Refused::Drop(Reason::Fragment))
    }

    fn refuse_overlap_v6(&mut self, key: &PacketKey) -> Result<(), Refused> {
        self.free_packet(key);
        self.stats.dropped_overlap += 1;
        Err(Refused::Drop(Reason::Fragment))
    }

    /// pf's `pf_find_fragment`: is `key` in reassembly (and not stale)?
    /// Finding it makes it the most recently used.
    fn find(&mut self, key: &PacketKey) -> bool {
        let Some(p) = self.packets.get(key) else {
            return false;
        };
        let node_gen = self.nodes.get(&key.node).map_or(p.gen, |n| n.gen);
        let stale = self.timeout_s.wrapping_mul(FRAG_STALE);
        if node_gen.wrapping_sub(p.gen) >= stale {
            self.free_packet(key);
            self.stats.stale += 1;
            return false;
        }
        let old = p.lru;
        let new = self.next_lru;
        self.next_lru += 1;
        self.lru.remove(&old);
        self.lru.insert(new, *key);
        if let Some(p) = self.packets.get_mut(key) {
            p.lru = new;
        }
        true
    }

    fn create(&mut self, key: PacketKey, first: Frent, now_ns: u64) {
        let node = self
            .nodes
            .entry(key.node)
            .or_insert(Node { gen: 0, packets: 0 });
        let gen = node.gen;
        node.gen = node.gen.wrapping_add(1);
        node.packets += 1;
        let lru = self.next_lru;
        self.next_lru += 1;
        self.lru.insert(lru, key);
        let maxlen = first.len;
        self.packets.insert(
            key,
            Packet {
                queue: FragQueue::with_first(first),
                created_ns: now_ns,
                gen,
                lru,
                maxlen,
            },
        );
    }

    /// pf's `pf_free_fragment`: forget a packet and its fragments.
    fn free_packet(&mut self, key: &PacketKey) {
        let Some(p) = self.packets.remove(key) else {
            return;
        };
        self.lru.remove(&p.lru);
        // At most 1024 fragments per packet: fits.
        self.fragments = self.fragments.saturating_sub(p.queue.len() as u32);
        if let Some(n) = self.nodes.get_mut(&key.node) {
            n.packets = n.packets.saturating_sub(1);
            if n.packets == 0 {
                self.nodes.remove(&key.node);
            }
        }
    }

    /// pf's `pf_flush_fragments`: free least recently used packets until
    /// at most 90 % of the fragments are left.
    fn flush(&mut self) {
        let goal = u64::from(self.fragments) * 9 / 10;
        while goal < u64::from(self.fragments) {
            let Some((_, key)) = self.lru.first_key_value().map(|(k, v)| (*k, *v)) else {
                break;
            };
            self.free_packet(&key);
            self.stats.flushed_limit += 1;
        }
    }

    /// pf's `pf_purge_expired_fragments`: free packets that have waited
    /// `set timeout frag`, oldest-used first, stopping at the first one
    /// still in time.
    pub fn purge(&mut self, now_ns: u64) {
        while let Some(key) = self.lru.first_key_value().map(|(_, v)| *v) {
            let Some(p) = self.packets.get(&key) else {
                break;
            };
            if p.created_ns.saturating_add(self.timeout_ns) > now_ns {
                break;
            }
            self.free_packet(&key);
            self.stats.timed_out += 1;
        }
    }

    /// When [`Self::purge`] will next have something to free, if
    /// anything is held.
    pub fn next_deadline(&self) -> Option<u64> {
        let key = self.lru.first_key_value()?.1;
        let p = self.packets.get(key)?;
        Some(p.created_ns.saturating_add(self.timeout_ns))
    }

    /// Counters and gauges (`bytes` walks the packets held: for the
    /// control plane, not per packet).
    pub fn stats(&self) -> FragStats {
        FragStats {
            fragments: self.fragments,
            // Bounded by `fragments`, a u32.
            packets: self.packets.len() as u32,
            bytes: self.packets.values().map(|p| p.queue.bytes() as u64).sum(),
            ..self.stats
        }
    }

    /// The bookkeeping agrees with what is held (tests only).
    #[cfg(test)]
    pub(super) fn check_invariants(&self) {
        let held: usize = self.packets.values().map(|p| p.queue.len()).sum();
        assert_eq!(held, self.fragments as usize, "fragment count");
        assert!(self.fragments <= self.limit, "over the limit");
        assert_eq!(self.lru.len(), self.packets.len(), "lru entries");
        for (k, p) in &self.packets {
            assert_eq!(self.lru.get(&p.lru), Some(k), "lru back-pointer");
            assert!(p.queue.len() > 0, "empty packet kept");
            let mut end = 0u32;
            for f in p.queue.iter() {
                assert!(u32::from(f.off) >= end, "overlap kept");
                assert_eq!(f.payload().len(), usize::from(f.len));
                end = f.end();
            }
        }
        let node_packets: u32 = self.nodes.values().map(|n| n.packets).sum();
        assert_eq!(node_packets as usize, self.packets.len(), "node counts");
    }
}
