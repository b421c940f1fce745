//! The state key (pf's `struct pf_state_key`): what a packet is looked up
//! by. pf stores each address/port pair by *side*, not by source and
//! destination: `addr[sidx]` holds the packet's source, where `sidx` is 0
//! for an inbound packet and 1 for an outbound one (`didx` is the other).
//! A reply seen in the opposite direction on the same interface then
//! builds the same key, so one hash lookup finds the state both ways.
//!
//! A state has two keys (pf's `PF_SK_WIRE` and `PF_SK_STACK`) that differ
//! only when the state translates: the wire key holds the addresses as
//! they are on the wire of the interface, the stack key as the host
//! behind the firewall sees them.

use crate::pdesc::{AddrKey, Dir, Pdesc};
use ruleset::addr::Af;

/// Index into [`StateKey::addr`] / [`StateKey::port`] of the packet's
/// source (pf's `pd->sidx`).
pub fn sidx(dir: Dir) -> usize {
    match dir {
        Dir::In => 0,
        Dir::Out => 1,
    }
}

/// Index of the packet's destination (pf's `pd->didx`).
pub fn didx(dir: Dir) -> usize {
    1 - sidx(dir)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StateKey {
    pub addr: [AddrKey; 2],
    pub port: [u16; 2],
    pub rdomain: u16,
    pub af: Af,
    pub proto: u8,
}

impl StateKey {
    /// The key of `pd` seen in direction `dir`, with the packet's own
    /// addresses and ports (pf's lookup key in `pf_test_state`).
    pub fn from_pdesc(pd: &Pdesc, dir: Dir, rdomain: u16) -> Self {
        let (s, d) = (sidx(dir), didx(dir));
        let mut addr = [0; 2];
        let mut port = [0; 2];
        addr[s] = pd.src;
        addr[d] = pd.dst;
        port[s] = pd.sport;
        port[d] = pd.dport;
        StateKey {
            addr,
            port,
            rdomain,
            af: pd.af,
            proto: pd.proto,
        }
    }

    /// Source address and port of a packet travelling in `dir` that
    /// matches this key.
    pub fn src(&self, dir: Dir) -> (AddrKey, u16) {
        let i = sidx(dir);
        (self.addr[i], self.port[i])
    }

    /// Destination address and port of a packet travelling in `dir`.
    pub fn dst(&self, dir: Dir) -> (AddrKey, u16) {
        let i = didx(dir);
        (self.addr[i], self.port[i])
    }

    /// A hash that is the same for a key and its mirror image (sides
    /// swapped), so both directions of a flow land on the same shard or
    /// worker when only addresses and ports are known.
    pub fn symmetric_hash(&self) -> u64 {
        let a = mix(
            self.addr[0] as u64 ^ (self.addr[0] >> 64) as u64,
            self.port[0],
        );
        let b = mix(
            self.addr[1] as u64 ^ (self.addr[1] >> 64) as u64,
            self.port[1],
        );
        let x = a.wrapping_add(b) ^ (u64::from(self.proto) << 8) ^ u64::from(self.rdomain);
        // splitmix64 finaliser
        let x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        let x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }
    /// The hash that picks a key's lock shard: side 0 only (with the
    /// protocol, family and routing domain). Translation by an outbound
    /// `nat-to` or an inbound `rdr-to` changes side 1 only (the packet's
    /// source going out, its destination coming in), so a translated
    /// state's wire and stack keys land in the same shard and need no
    /// cross-shard entry. Both directions of a flow build the same key,
    /// so they meet in one shard too.
    pub fn shard_hash(&self) -> u64 {
        let a = mix(
            self.addr[0] as u64 ^ (self.addr[0] >> 64) as u64,
            self.port[0],
        );
        let x = a ^ (u64::from(self.proto) << 8) ^ (u64::from(self.rdomain) << 16);
        let x = x ^ u64::from(self.af == Af::Inet6) << 40;
        let x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        let x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }
}

fn mix(a: u64, p: u16) -> u64 {
    (a ^ u64::from(p)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdesc::proto;

    fn pd(src: AddrKey, sport: u16, dst: AddrKey, dport: u16) -> Pdesc {
        Pdesc {
            af: Af::Inet,
            proto: proto::TCP,
            src,
            dst,
            sport,
            dport,
            tos: 0,
            ttl: 64,
            l3_off: 14,
            l4_off: 34,
            ip_len: 40,
            vlan: None,
            fragment: false,
            ip_opts: false,
            icmp_type: None,
            icmp_code: None,
            tcp: None,
            icmp_inner: None,
        }
    }

    #[test]
    fn reply_in_the_other_direction_builds_the_same_key() {
        let out = StateKey::from_pdesc(&pd(1, 1000, 2, 80), Dir::Out, 0);
        let reply = StateKey::from_pdesc(&pd(2, 80, 1, 1000), Dir::In, 0);
        assert_eq!(out, reply);
        assert_eq!(out.src(Dir::Out), (1, 1000));
        assert_eq!(out.dst(Dir::Out), (2, 80));
        assert_eq!(out.src(Dir::In), (2, 80));
    }

    #[test]
    fn symmetric_hash_ignores_the_side() {
        let a = StateKey::from_pdesc(&pd(1, 1000, 2, 80), Dir::Out, 0);
        let b = StateKey::from_pdesc(&pd(1, 1000, 2, 80), Dir::In, 0);
        assert_ne!(a, b);
        assert_eq!(a.symmetric_hash(), b.symmetric_hash());
        let c = StateKey::from_pdesc(&pd(1, 1001, 2, 80), Dir::In, 0);
        assert_ne!(a.symmetric_hash(), c.symmetric_hash());
    }
}
