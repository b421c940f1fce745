//! Translation ports: the proxy port a `nat-to` gives a connection (pf's
//! `pf_get_sport`) and the port an `rdr-to` sends it to (the port part
//! of pf's `pf_get_transaddr`).

use crate::key::{didx, sidx, StateKey};
use crate::pdesc::{proto, Dir};
use crate::reason::Reason;
use ruleset::addr::Af;
use ruleset::compile::CPool;
use ruleset::rule::PortRange;

/// Ports OpenBSD never hands out dynamically (`DEFBADDYNAMICPORTS_*`),
/// which `pf_get_sport` skips too (`in_baddynamic`).
const BAD_DYNAMIC_TCP: [u16; 18] = [
    587, 749, 750, 751, 853, 871, 2049, 6000, 6001, 6002, 6003, 6004, 6005, 6006, 6007, 6008, 6009,
    6010,
];
const BAD_DYNAMIC_UDP: [u16; 9] = [623, 664, 749, 750, 751, 2049, 3784, 3785, 7784];

fn bad_dynamic(port: u16, proto: u8) -> bool {
    match proto {
        proto::TCP => BAD_DYNAMIC_TCP.contains(&port),
        proto::UDP => BAD_DYNAMIC_UDP.contains(&port),
        _ => false,
    }
}

/// Choose the translated source port (or ICMP echo id) of a `nat-to`
/// connection, as pf's `pf_get_sport` does for one translation address.
///
/// `key_template` is the translated key being built: the new source
/// address at the packet's source side (`sidx` of `dir`), destination
/// address and port at the other side, and the packet's own source port
/// at the source side. `free` says whether a key is unused by any state.
/// `rand` is a fresh random draw.
///
/// - TCP/UDP: within the pool's proxy range (`50001:65535` unless
///   given), starting at a random port and walking up to the top, then
///   down from the start, skipping OpenBSD's bad dynamic ports;
///   `static-port` (range `0:0`) keeps the source port; a single port
///   is that port or nothing.
/// - ICMP/ICMPv6 (call for echo requests only): the id, anywhere in
///   `1:65535`. Its key carries the id at both sides (see
///   [`crate::pdesc::Pdesc::sport`]), so both move together.
/// - Other protocols keep the "port" they have.
///
/// `Reason::Translate` when no port is free.
pub fn alloc_port(
    pool: &CPool,
    af: Af,
    proto: u8,
    dir: Dir,
    key_template: &StateKey,
    free: &dyn Fn(&StateKey) -> bool,
    rand: u32,
) -> Result<u16, Reason> {
    let (s, d) = (sidx(dir), didx(dir));
    let icmp = matches!(proto, proto::ICMP | proto::ICMPV6);
    let mut key = *key_template;
    key.af = af;
    key.proto = proto;
    let orig = key_template.port[s];
    let mut try_port = |p: u16| {
        key.port[s] = p;
        if icmp {
            key.port[d] = p;
        }
        free(&key)
    };
    let (low, high) = if icmp {
        (1, 65535)
    } else {
        (pool.proxy_port[0], pool.proxy_port[1])
    };
    if !(icmp || proto == proto::TCP || proto == proto::UDP) || (low == 0 && high == 0) {
        return if try_port(orig) {
            Ok(orig)
        } else {
            Err(Reason::Translate)
        };
    }
    if low == high {
        return if try_port(low) {
            Ok(low)
        } else {
            Err(Reason::Translate)
        };
    }
    let (low, high) = (low.min(high), low.max(high));
    let span = u32::from(high - low) + 1;
    // low <= cut <= high; span < 2^16, so this fits.
    let cut = low + (rand % span) as u16;
    for p in cut..=high {
        if !bad_dynamic(p, proto) && try_port(p) {
            return Ok(p);
        }
    }
    for p in (low..cut).rev() {
        if !bad_dynamic(p, proto) && try_port(p) {
            return Ok(p);
        }
    }
    Err(Reason::Translate)
}

/// The destination port an `rdr-to` sends a connection to (pf's
/// `pf_get_transaddr`): with a port range `rdr-to ... port a:b`, the
/// packet's port keeps its offset from the rule's first destination
/// port, modulo the range; with one port, that port; with none, the
/// packet's own. `rule_dst` is the rule's destination port operand.
pub fn rdr_port(pool: &CPool, rule_dst: &PortRange, dport: u16) -> u16 {
    let [p0, p1] = pool.proxy_port;
    if p1 != 0 {
        let div = match p1.wrapping_sub(p0).wrapping_add(1) {
            0 => 1,
            d => d,
        };
        // pf computes in C ints: the offset may be negative, and the
        // remainder truncates toward zero, as Rust's `%` does.
        let off = (i32::from(dport) - i32::from(rule_dst.a)) % i32::from(div);
        let mut n = (off + i32::from(p0)) as u32;
        if n > 65535 {
            n = n.wrapping_sub(65535);
        }
        n as u16
    } else if p0 != 0 {
        p0
    } else {
        dport
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdesc::AddrKey;
    use ruleset::compile::CAddr;
    use ruleset::rule::{Op, PoolType};
    use std::cell::RefCell;
    use std::collections::HashSet;

    fn pool(proxy: [u16; 2]) -> CPool {
        CPool {
            addr: CAddr::Any,
            if_id: None,
            proxy_port: proxy,
            port_op: Op::None,
            kind: PoolType::None,
            sticky: false,
            key: [0; 4],
        }
    }

    const NAT: AddrKey = 0xc000_0201 << 96;
    const EXT: AddrKey = 0x5db8_d822 << 96;

    /// Outbound TCP 10.0.0.5:40000 -> EXT:80, translated source NAT.
    fn template(proto: u8, sport: u16, dport: u16) -> StateKey {
        StateKey {
            addr: [EXT, NAT],
            port: [dport, sport],
            rdomain: 0,
            af: Af::Inet,
            proto,
        }
    }

    #[test]
    fn default_range_from_a_random_start() {
        let p = pool([50001, 65535]);
        let t = template(proto::TCP, 40000, 80);
        let got = alloc_port(&p, Af::Inet, proto::TCP, Dir::Out, &t, &|_| true, 0);
        assert_eq!(got, Ok(50001));
        let got = alloc_port(&p, Af::Inet, proto::TCP, Dir::Out, &t, &|_| true, 15534);
        assert_eq!(got, Ok(65535));
        let got = alloc_port(&p, Af::Inet, proto::TCP, Dir::Out, &t, &|_| true, 15535);
        assert_eq!(got, Ok(50001));
        let got = alloc_port(&p, Af::Inet, proto::TCP, Dir::Out, &t, &|_| true, 1000);
        assert_eq!(got, Ok(51001));
    }

    #[test]
    fn walks_up_then_down_around_used_keys() {
        let p = pool([1000, 1004]);
        let t = template(proto::UDP, 40000, 53);
        let used = RefCell::new(HashSet::from([1002u16, 1003, 1004]));
        let free = |k: &StateKey| {
            assert_eq!((k.addr, k.port[0]), ([EXT, NAT], 53));
            !used.borrow().contains(&k.port[1])
        };
        // Start at 1002: 1002..1004 are used, then down: 1001.
        assert_eq!(
            alloc_port(&p, Af::Inet, proto::UDP, Dir::Out, &t, &free, 2),
            Ok(1001)
        );
        used.borrow_mut().insert(1001);
        assert_eq!(
            alloc_port(&p, Af::Inet, proto::UDP, Dir::Out, &t, &free, 2),
            Ok(1000)
        );
        used.borrow_mut().insert(1000);
        assert_eq!(
            alloc_port(&p, Af::Inet, proto::UDP, Dir::Out, &t, &free, 2),
            Err(Reason::Translate)
        );
    }

    #[test]
    fn allocation_finds_every_free_port_then_fails() {
        let p = pool([2040, 2059]);
        let t = template(proto::TCP, 40000, 80);
        let used = RefCell::new(HashSet::new());
        let free = |k: &StateKey| !used.borrow().contains(&k.port[1]);
        let mut r = 7u32;
        let mut got = Vec::new();
        loop {
            r = r.wrapping_mul(1_103_515_245).wrapping_add(12345);
            match alloc_port(&p, Af::Inet, proto::TCP, Dir::Out, &t, &free, r) {
                Ok(port) => {
                    assert!(used.borrow_mut().insert(port));
                    got.push(port);
                }
                Err(e) => {
                    assert_eq!(e, Reason::Translate);
                    break;
                }
            }
        }
        // 2049 is a bad dynamic port for TCP.
        got.sort_unstable();
        let want: Vec<u16> = (2040..=2059).filter(|&p| p != 2049).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn static_port_and_single_port() {
        let t = template(proto::TCP, 40000, 80);
        let st = pool([0, 0]);
        assert_eq!(
            alloc_port(&st, Af::Inet, proto::TCP, Dir::Out, &t, &|_| true, 9),
            Ok(40000)
        );
        assert_eq!(
            alloc_port(&st, Af::Inet, proto::TCP, Dir::Out, &t, &|_| false, 9),
            Err(Reason::Translate)
        );
        let one = pool([5000, 5000]);
        assert_eq!(
            alloc_port(&one, Af::Inet, proto::TCP, Dir::Out, &t, &|_| true, 9),
            Ok(5000)
        );
        // Other protocols keep their (zero) port.
        let gre = template(47, 0, 0);
        assert_eq!(
            alloc_port(&one, Af::Inet, 47, Dir::Out, &gre, &|_| true, 9),
            Ok(0)
        );
    }

    #[test]
    fn icmp_echo_ids_translate_on_both_sides_of_the_key() {
        let p = pool([0, 0]);
        let t = template(proto::ICMP, 0x1234, 0x1234);
        let free = |k: &StateKey| k.port[0] == k.port[1] && k.port[1] != 1000;
        assert_eq!(
            alloc_port(&p, Af::Inet, proto::ICMP, Dir::Out, &t, &free, 998),
            Ok(999)
        );
        assert_eq!(
            alloc_port(&p, Af::Inet, proto::ICMP, Dir::Out, &t, &free, 999),
            Ok(1001)
        );
    }

    #[test]
    fn inbound_keys_put_the_source_at_side_zero() {
        let p = pool([7000, 7001]);
        let t = StateKey {
            addr: [NAT, EXT],
            port: [1234, 80],
            rdomain: 0,
            af: Af::Inet,
            proto: proto::TCP,
        };
        let free = |k: &StateKey| k.port[1] == 80 && k.port[0] == 7001;
        assert_eq!(
            alloc_port(&p, Af::Inet, proto::TCP, Dir::In, &t, &free, 0),
            Ok(7001)
        );
    }

    #[test]
    fn rdr_port_mapping() {
        let dst = |op, a, b| PortRange { op, a, b };
        // rdr-to ... port 8080
        assert_eq!(rdr_port(&pool([8080, 0]), &dst(Op::Eq, 80, 0), 80), 8080);
        // no port: unchanged
        assert_eq!(rdr_port(&pool([0, 0]), &dst(Op::Eq, 80, 0), 80), 80);
        // port 1000:1009 -> rdr-to port 2000:2009 keeps the offset
        let r = pool([2000, 2009]);
        assert_eq!(rdr_port(&r, &dst(Op::Rrg, 1000, 1009), 1000), 2000);
        assert_eq!(rdr_port(&r, &dst(Op::Rrg, 1000, 1009), 1007), 2007);
        // a smaller target range wraps
        let r = pool([2000, 2003]);
        assert_eq!(rdr_port(&r, &dst(Op::Rrg, 1000, 1009), 1006), 2002);
        // `port 1000:1009 rdr-to port 2000:*` (pfctl fills the top)
        let r = pool([2000, 2009]);
        assert_eq!(rdr_port(&r, &dst(Op::Rrg, 1000, 1009), 1009), 2009);
        // A port below the rule's first port (`port != 10`): pf's C
        // arithmetic gives a negative offset.
        let r = pool([2000, 2009]);
        assert_eq!(rdr_port(&r, &dst(Op::Ne, 10, 0), 5), 1995);
    }
}
