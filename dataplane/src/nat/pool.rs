//! Translation address selection (pf's `pf_map_addr`,
//! `pf_map_addr_sticky`): which address of a `nat-to`/`rdr-to`/
//! `binat-to` pool a new connection gets, by pool type.

use super::sticky::SrcNodes;
use super::table::{from_local, host_mask, to_local, PoolTable};
use crate::pdesc::{key_to_ip, AddrKey};
use crate::reason::Reason;
use ruleset::addr::{Af, IfAddrFlags};
use ruleset::compile::{CAddr, CPool, IfId};
use ruleset::rule::PoolType;
use std::sync::atomic::{AtomicU64, Ordering};

/// A pool's run-time state (pf keeps it in the rule's `pf_pool`): the
/// round-robin cursor, shared by all workers, and the sticky-address
/// nodes.
#[derive(Debug, Default)]
pub struct PoolState {
    rr: AtomicU64,
    pub sticky: SrcNodes,
    /// How long a sticky node outlives its last state (`src.track`).
    pub sticky_timeout_ns: u64,
}

impl PoolState {
    pub fn new(sticky_timeout_ns: u64) -> Self {
        PoolState {
            sticky_timeout_ns,
            ..PoolState::default()
        }
    }
}

/// Interface addresses for `(ifname)` pools: the interface's addresses
/// of the family, each with its netmask prefix, in the interface's order.
pub type IfAddrs<'a> = &'a dyn Fn(IfId, Af) -> Vec<(AddrKey, u8)>;

/// What address selection reads besides the pool.
#[derive(Clone, Copy)]
pub struct PoolEnv<'a> {
    /// Indexed by [`ruleset::compile::TableId`].
    pub tables: &'a [PoolTable],
    pub ifaddr: IfAddrs<'a>,
    pub now_ns: u64,
}

/// Where a pool's addresses come from, for one family.
enum Source<'a> {
    /// A network, in local form (see [`to_local`]).
    Net {
        net: u128,
        prefix: u8,
    },
    Range {
        from: u128,
        to: u128,
    },
    Table(&'a PoolTable),
    /// A dynamic interface's addresses, walked like a table.
    Dyn(Box<PoolTable>),
}

fn source<'a>(
    pool: &CPool,
    af: Af,
    tables: &'a [PoolTable],
    ifaddr: IfAddrs<'_>,
) -> Result<Source<'a>, Reason> {
    Ok(match pool.addr {
        CAddr::Net { addr, mask } => Source::Net {
            net: to_local(af, addr),
            prefix: prefix_of(af, mask),
        },
        CAddr::Range { from, to } => {
            let (from, to) = (to_local(af, from), to_local(af, to));
            if from > to {
                return Err(Reason::Translate);
            }
            Source::Range { from, to }
        }
        CAddr::Table(id) => Source::Table(
            tables
                .get(usize::try_from(id.0).map_err(|_| Reason::Translate)?)
                .ok_or(Reason::Translate)?,
        ),
        CAddr::DynIf {
            if_id,
            flags,
            prefix,
        } => {
            let t = dyn_table(af, ifaddr(if_id, af), flags, prefix)?;
            if pool.kind.is_dynamic() {
                Source::Dyn(Box::new(t))
            } else {
                // pf's `pfid_addr4`/`pfid_mask4`: the first entry only.
                let (net, prefix) = t.first_entry(af).ok_or(Reason::Translate)?;
                Source::Net {
                    net: to_local(af, net),
                    prefix,
                }
            }
        }
        CAddr::Any | CAddr::NoRoute | CAddr::UrpfFailed => return Err(Reason::Translate),
    })
}

fn prefix_of(af: Af, mask: u128) -> u8 {
    let ones = to_local(af, mask).count_ones();
    u8::try_from(ones).unwrap_or(af.bits())
}

/// The table of a dynamic interface address (pf's `pfi_instance_addrs`):
/// `:network` takes each network, `:broadcast` each IPv4 broadcast
/// address, `:0` only the first address, otherwise each address cut to
/// the rule's `/prefix`. `:peer` needs the point-to-point peer, which
/// the interface list does not carry.
fn dyn_table(
    af: Af,
    addrs: Vec<(AddrKey, u8)>,
    flags: IfAddrFlags,
    prefix: u8,
) -> Result<PoolTable, Reason> {
    if flags.peer {
        return Err(Reason::Translate);
    }
    let bits = af.bits();
    let mut entries = Vec::with_capacity(addrs.len());
    for (a, plen) in addrs {
        let l = to_local(af, a);
        let (net, p) = if flags.network {
            (l & !host_mask(af, plen), plen.min(bits))
        } else if flags.broadcast {
            if af == Af::Inet6 {
                continue;
            }
            (l | host_mask(af, plen), bits)
        } else {
            let p = prefix.min(bits);
            (l & !host_mask(af, p), p)
        };
        entries.push((key_to_ip(af, from_local(af, net)), p, false));
        if flags.noalias {
            break;
        }
    }
    PoolTable::new(entries).map_err(|_| Reason::Translate)
}

/// pf's `pf_poolmask`: the network bits of `net`, the host bits of `x`.
fn poolmask(af: Af, net: u128, prefix: u8, x: u128) -> u128 {
    let h = host_mask(af, prefix);
    (net & !h) | (x & h)
}

/// 128 random bits stretched from one 32-bit draw (splitmix64).
fn stretch(rand: u32) -> u128 {
    let mut x = u64::from(rand);
    let mut next = || {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    (u128::from(next()) << 64) | u128::from(next())
}

/// pf's `pf_hash`: SipHash-2-4 of the source address keyed with the
/// pool's 128-bit key, and the address pf spreads the hash into (laid
/// out as pf does on a little-endian host). Returns `(hash, address)`.
fn pf_hash(af: Af, saddr: AddrKey, key: &[u32; 4]) -> (u64, u128) {
    let mut k = [0u8; 16];
    for (i, w) in key.iter().enumerate() {
        k[i * 4..i * 4 + 4].copy_from_slice(&w.to_be_bytes());
    }
    let k0 = u64::from_le_bytes([k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]]);
    let k1 = u64::from_le_bytes([k[8], k[9], k[10], k[11], k[12], k[13], k[14], k[15]]);
    let bytes = saddr.to_be_bytes();
    let input: &[u8] = match af {
        Af::Inet => &bytes[..4],
        Af::Inet6 => &bytes,
    };
    let res = siphash24(k0, k1, input);
    let h0 = res as u32;
    let h1 = (res >> 32) as u32;
    let addr = match af {
        Af::Inet => u128::from(u32::from_be_bytes(h0.to_le_bytes())),
        Af::Inet6 => {
            let mut b = [0u8; 16];
            for (i, w) in [h0, h1, !h1, !h0].iter().enumerate() {
                b[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
            }
            u128::from_be_bytes(b)
        }
    };
    (res, addr)
}

/// SipHash-2-4 (Aumasson and Bernstein), as OpenBSD's `SipHash24`.
fn siphash24(k0: u64, k1: u64, data: &[u8]) -> u64 {
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }
    let compress = |m: u64, v: &mut [u64; 4]| {
        v[3] ^= m;
        round(v);
        round(v);
        v[0] ^= m;
    };
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let m = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        compress(m, &mut v);
    }
    let mut last = [0u8; 8];
    let rest = chunks.remainder();
    last[..rest.len()].copy_from_slice(rest);
    last[7] = data.len() as u8;
    compress(u64::from_le_bytes(last), &mut v);
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// Pick the translation address of `pool` for a connection from `saddr`
/// (pf's `pf_map_addr` without source tracking). `rand` is a fresh
/// random draw (pf's `arc4random`). `Reason::Translate` when the pool
/// has no address of family `af` or the pool type cannot use it.
pub fn map_addr(
    pool: &CPool,
    st: &PoolState,
    af: Af,
    saddr: AddrKey,
    tables: &[PoolTable],
    ifaddr: IfAddrs<'_>,
    rand: u32,
) -> Result<AddrKey, Reason> {
    let src = source(pool, af, tables, ifaddr)?;
    let local = match (pool.kind, &src) {
        (PoolType::None, Source::Net { net, .. }) => *net,
        (PoolType::None, Source::Range { from, .. }) => *from,
        (PoolType::Bitmask, Source::Net { net, prefix }) => {
            poolmask(af, *net, *prefix, to_local(af, saddr))
        }
        (PoolType::Random, Source::Net { net, prefix }) => {
            poolmask(af, *net, *prefix, stretch(rand))
        }
        (PoolType::SourceHash, Source::Net { net, prefix }) => {
            poolmask(af, *net, *prefix, pf_hash(af, saddr, &pool.key).1)
        }
        (PoolType::RoundRobin, Source::Net { net, prefix }) => {
            if *prefix >= af.bits() {
                *net
            } else {
                let n = st.rr.fetch_add(1, Ordering::Relaxed);
                poolmask(af, *net, *prefix, u128::from(n))
            }
        }
        (PoolType::Random, Source::Range { from, to }) => {
            from + stretch(rand) % (to - from).saturating_add(1).max(1)
        }
        (PoolType::SourceHash, Source::Range { from, to }) => {
            let h = u128::from(pf_hash(af, saddr, &pool.key).0);
            from + h % (to - from).saturating_add(1).max(1)
        }
        (PoolType::RoundRobin, Source::Range { from, to }) => {
            let n = u128::from(st.rr.fetch_add(1, Ordering::Relaxed));
            from + n % (to - from).saturating_add(1).max(1)
        }
        (kind, Source::Table(t)) => return walk(kind, t, st, af, saddr, pool, rand),
        (kind, Source::Dyn(t)) => return walk(kind, t, st, af, saddr, pool, rand),
        _ => return Err(Reason::Translate),
    };
    Ok(from_local(af, local))
}

/// A dynamic pool type over a table's entries (pf's `pfr_pool_get` use).
fn walk(
    kind: PoolType,
    t: &PoolTable,
    st: &PoolState,
    af: Af,
    saddr: AddrKey,
    pool: &CPool,
    rand: u32,
) -> Result<AddrKey, Reason> {
    match kind {
        PoolType::RoundRobin => t.nth(af, st.rr.fetch_add(1, Ordering::Relaxed)),
        PoolType::Random => t.by_index(af, u64::from(rand)),
        PoolType::SourceHash => t.by_index(af, pf_hash(af, saddr, &pool.key).0),
        // Tables need a type that can walk them; least-states needs
        // per-address state counts the pool does not keep.
        _ => None,
    }
    .ok_or(Reason::Translate)
}

/// Whether `a` still belongs to the pool (a sticky node is dropped when
/// its address left the pool, as in pf).
fn in_pool(pool: &CPool, af: Af, a: AddrKey, env: &PoolEnv<'_>) -> bool {
    let l = to_local(af, a);
    match source(pool, af, env.tables, env.ifaddr) {
        Ok(Source::Net { net, prefix }) => l & !host_mask(af, prefix) == net,
        Ok(Source::Range { from, to }) => from <= l && l <= to,
        Ok(Source::Table(t)) => t.contains(af, a),
        Ok(Source::Dyn(t)) => t.contains(af, a),
        Err(_) => false,
    }
}

/// [`map_addr`] with `sticky-address`: a source keeps its address while
/// its node lives and the address is still in the pool.
pub fn map_addr_sticky(
    pool: &CPool,
    st: &PoolState,
    af: Af,
    saddr: AddrKey,
    env: &PoolEnv<'_>,
    rand: u32,
) -> Result<AddrKey, Reason> {
    if pool.sticky && pool.kind != PoolType::None {
        if let Some(n) = st.sticky.get(af, saddr) {
            if in_pool(pool, af, n.addr, env) {
                return Ok(n.addr);
            }
            st.sticky.remove(af, saddr);
        }
    }
    let a = map_addr(pool, st, af, saddr, env.tables, env.ifaddr, rand)?;
    if pool.sticky {
        let expires = env.now_ns.saturating_add(st.sticky_timeout_ns);
        st.sticky.insert(af, saddr, a, expires);
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdesc::addr_key;
    use ruleset::compile::{prefix_mask, TableId};
    use std::collections::BTreeSet;

    fn a(s: &str) -> AddrKey {
        addr_key(s.parse().unwrap())
    }

    /// `s/p`: in addr_key layout a /p mask is the top p bits for
    /// either family.
    fn net(s: &str, p: u8) -> CAddr {
        let mask = prefix_mask(p);
        CAddr::Net {
            addr: a(s) & mask,
            mask,
        }
    }

    fn pool(addr: CAddr, kind: PoolType) -> CPool {
        CPool {
            addr,
            if_id: None,
            proxy_port: [50001, 65535],
            port_op: ruleset::rule::Op::None,
            kind,
            sticky: false,
            key: [0x0123_4567, 0x89ab_cdef, 0xfedc_ba98, 0x7654_3210],
        }
    }

    fn no_if(_: IfId, _: Af) -> Vec<(AddrKey, u8)> {
        Vec::new()
    }

    fn pick(
        p: &CPool,
        st: &PoolState,
        af: Af,
        s: AddrKey,
        tables: &[PoolTable],
        r: u32,
    ) -> AddrKey {
        map_addr(p, st, af, s, tables, &no_if, r).unwrap()
    }

    #[test]
    fn none_is_the_address() {
        let p = pool(net("192.0.2.7", 32), PoolType::None);
        let st = PoolState::default();
        assert_eq!(
            pick(&p, &st, Af::Inet, a("10.0.0.1"), &[], 5),
            a("192.0.2.7")
        );
    }

    #[test]
    fn round_robin_cycles_through_a_slash_30() {
        let p = pool(net("192.0.2.4", 30), PoolType::RoundRobin);
        let st = PoolState::default();
        let got: Vec<AddrKey> = (0..6)
            .map(|i| pick(&p, &st, Af::Inet, a("10.0.0.1"), &[], i))
            .collect();
        let want: Vec<AddrKey> = [
            "192.0.2.4",
            "192.0.2.5",
            "192.0.2.6",
            "192.0.2.7",
            "192.0.2.4",
            "192.0.2.5",
        ]
        .iter()
        .map(|s| a(s))
        .collect();
        assert_eq!(got, want);
        // A single host stays put and does not move the cursor.
        let one = pool(net("192.0.2.9", 32), PoolType::RoundRobin);
        assert_eq!(pick(&one, &st, Af::Inet, 0, &[], 0), a("192.0.2.9"));
    }

    #[test]
    fn round_robin_cycles_through_a_list() {
        // `nat-to { 192.0.2.1, 192.0.2.3, 198.51.100.7 } round-robin`
        // becomes an automatic table.
        let t = PoolTable::new(
            ["198.51.100.7", "192.0.2.3", "192.0.2.1"]
                .iter()
                .map(|s| (s.parse().unwrap(), 32, false)),
        )
        .unwrap();
        let p = pool(CAddr::Table(TableId(0)), PoolType::RoundRobin);
        let st = PoolState::default();
        let tables = [t];
        let got: Vec<AddrKey> = (0..4)
            .map(|_| pick(&p, &st, Af::Inet, a("10.0.0.1"), &tables, 0))
            .collect();
        assert_eq!(
            got,
            vec![
                a("192.0.2.1"),
                a("192.0.2.3"),
                a("198.51.100.7"),
                a("192.0.2.1")
            ]
        );
        // No IPv6 address in the list.
        assert_eq!(
            map_addr(&p, &st, Af::Inet6, 1, &tables, &no_if, 0),
            Err(Reason::Translate)
        );
    }

    #[test]
    fn random_stays_in_the_pool_and_spreads() {
        let p = pool(net("192.0.2.0", 28), PoolType::Random);
        let st = PoolState::default();
        let mut seen = BTreeSet::new();
        for r in 0..500u32 {
            let x = pick(
                &p,
                &st,
                Af::Inet,
                a("10.0.0.1"),
                &[],
                r.wrapping_mul(2_654_435_761),
            );
            assert_eq!(x & prefix_mask(28), a("192.0.2.0"));
            seen.insert(x);
        }
        assert_eq!(seen.len(), 16);
        let p6 = pool(net("2001:db8::", 120), PoolType::Random);
        for r in 0..100 {
            let x = pick(&p6, &st, Af::Inet6, a("fd00::1"), &[], r);
            assert_eq!(x & prefix_mask(120), a("2001:db8::"));
        }
    }

    #[test]
    fn source_hash_is_stable_per_source_and_keyed() {
        let p = pool(net("192.0.2.0", 24), PoolType::SourceHash);
        let st = PoolState::default();
        let s1 = a("10.0.0.1");
        let x = pick(&p, &st, Af::Inet, s1, &[], 1);
        assert_eq!(pick(&p, &st, Af::Inet, s1, &[], 999), x);
        assert_eq!(x & prefix_mask(24), a("192.0.2.0"));
        let spread: BTreeSet<AddrKey> = (1..=64u32)
            .map(|i| {
                pick(
                    &p,
                    &st,
                    Af::Inet,
                    a("10.0.0.0") + (u128::from(i) << 96),
                    &[],
                    0,
                )
            })
            .collect();
        assert!(spread.len() > 32, "{}", spread.len());
        let mut other = p;
        other.key = [1, 2, 3, 4];
        let moved = (1..=16u32)
            .filter(|&i| {
                let s = a("10.0.0.0") + (u128::from(i) << 96);
                pick(&p, &st, Af::Inet, s, &[], 0) != pick(&other, &st, Af::Inet, s, &[], 0)
            })
            .count();
        assert!(moved > 8, "{moved}");
    }

    #[test]
    fn siphash_matches_the_reference_vector() {
        // SipHash-2-4 paper, appendix A: key 00..0f, message 00..0e.
        let k0 = u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]);
        let k1 = u64::from_le_bytes([8, 9, 10, 11, 12, 13, 14, 15]);
        let m: Vec<u8> = (0..15).collect();
        assert_eq!(siphash24(k0, k1, &m), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn bitmask_keeps_the_host_bits() {
        let p = pool(net("192.0.2.0", 24), PoolType::Bitmask);
        let st = PoolState::default();
        assert_eq!(
            pick(&p, &st, Af::Inet, a("10.1.2.77"), &[], 0),
            a("192.0.2.77")
        );
        let p6 = pool(net("2001:db8:1::", 48), PoolType::Bitmask);
        assert_eq!(
            pick(&p6, &st, Af::Inet6, a("fd00:aaaa:bbbb:cccc::1"), &[], 0),
            a("2001:db8:1:cccc::1")
        );
    }

    #[test]
    fn tables_need_a_dynamic_type_and_least_states_is_refused() {
        let t = PoolTable::new([("192.0.2.1".parse().unwrap(), 32, false)]).unwrap();
        let st = PoolState::default();
        for kind in [PoolType::None, PoolType::Bitmask, PoolType::LeastStates] {
            let p = pool(CAddr::Table(TableId(0)), kind);
            assert_eq!(
                map_addr(&p, &st, Af::Inet, 1, std::slice::from_ref(&t), &no_if, 0),
                Err(Reason::Translate)
            );
        }
        let p = pool(CAddr::Table(TableId(3)), PoolType::RoundRobin);
        assert_eq!(
            map_addr(&p, &st, Af::Inet, 1, &[], &no_if, 0),
            Err(Reason::Translate)
        );
    }

    #[test]
    fn dynamic_interface_pools() {
        let ifaddr = |_: IfId, af: Af| match af {
            Af::Inet => vec![(a("198.51.100.9"), 24), (a("192.0.2.5"), 24)],
            Af::Inet6 => vec![],
        };
        let st = PoolState::default();
        let dynif = |flags: IfAddrFlags| CAddr::DynIf {
            if_id: IfId(0),
            flags,
            prefix: 128,
        };
        // `nat-to (em0)`: the lowest address, as pf's first dyn entry.
        let p = pool(dynif(IfAddrFlags::default()), PoolType::None);
        assert_eq!(
            map_addr(&p, &st, Af::Inet, 1, &[], &ifaddr, 0),
            Ok(a("192.0.2.5"))
        );
        let rr = pool(dynif(IfAddrFlags::default()), PoolType::RoundRobin);
        let got: Vec<AddrKey> = (0..3)
            .map(|_| map_addr(&rr, &st, Af::Inet, 1, &[], &ifaddr, 0).unwrap())
            .collect();
        assert_eq!(got, vec![a("192.0.2.5"), a("198.51.100.9"), a("192.0.2.5")]);
        // `(em0:0)`: the first address only.
        let first = pool(
            dynif(IfAddrFlags {
                noalias: true,
                ..IfAddrFlags::default()
            }),
            PoolType::None,
        );
        assert_eq!(
            map_addr(&first, &st, Af::Inet, 1, &[], &ifaddr, 0),
            Ok(a("198.51.100.9"))
        );
        assert_eq!(
            map_addr(&p, &st, Af::Inet6, 1, &[], &ifaddr, 0),
            Err(Reason::Translate)
        );
        let peer = pool(
            dynif(IfAddrFlags {
                peer: true,
                ..IfAddrFlags::default()
            }),
            PoolType::None,
        );
        assert_eq!(
            map_addr(&peer, &st, Af::Inet, 1, &[], &ifaddr, 0),
            Err(Reason::Translate)
        );
    }

    #[test]
    fn sticky_address_keeps_a_source_on_its_address() {
        let mut p = pool(net("192.0.2.4", 30), PoolType::RoundRobin);
        p.sticky = true;
        let st = PoolState::new(1_000);
        let env = |now_ns| PoolEnv {
            tables: &[],
            ifaddr: &no_if,
            now_ns,
        };
        let s1 = a("10.0.0.1");
        let x = map_addr_sticky(&p, &st, Af::Inet, s1, &env(0), 0).unwrap();
        let y = map_addr_sticky(&p, &st, Af::Inet, a("10.0.0.2"), &env(0), 0).unwrap();
        assert_ne!(x, y);
        assert_eq!(map_addr_sticky(&p, &st, Af::Inet, s1, &env(10), 0), Ok(x));
        // Past the timeout with no state holding it, the purge takes the
        // node and round-robin moves on.
        assert_eq!(st.sticky.purge(2_000), 2);
        assert_ne!(
            map_addr_sticky(&p, &st, Af::Inet, s1, &env(2_000), 0),
            Ok(x)
        );
        // An address that left the pool is not kept.
        st.sticky.insert(Af::Inet, s1, a("203.0.113.1"), 10_000);
        let z = map_addr_sticky(&p, &st, Af::Inet, s1, &env(3_000), 0).unwrap();
        assert_eq!(z & prefix_mask(30), a("192.0.2.4"));
    }
}
