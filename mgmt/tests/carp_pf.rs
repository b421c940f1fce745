//! pf.conf's view of CARP, compiled against an etc directory with a
//! carp interface and run through `pfd run`'s per-frame pipeline:
//! `proto carp`, rules on the carpdev, and carp interfaces as
//! addresses (`to carp0`, `from carp0`, `(carp0)`) are enforced; a rule
//! `on carp0`, which could never match in pfd, is refused by line.

use dataplane::pdesc::tcp_flags;
use dataplane::wire::build::{ethernet_wrap, tcp_segment, TcpSegment};
use mgmt::daemon::{EngineSlot, Forwarding, Pipeline, Published};
use ruleset::addr::Af;
use ruleset::compile::CAddr;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

const FW: [u8; 6] = [2, 0, 0, 0, 1, 1];
const PEER: [u8; 6] = [2, 0, 0, 0, 1, 2];
const CARP_MAC: [u8; 6] = [0, 0, 0x5e, 0, 1, 1];

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// veth0 192.0.2.2/24 with carp0 192.0.2.1 vhid 1 on it, and `pf_conf`.
fn etc(tag: &str, pf_conf: &str) -> Dir {
    let dir = std::env::temp_dir().join(format!("pfd-carppf-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let w = |f: &str, t: &str| std::fs::write(dir.join(f), t).unwrap();
    w("hostname.veth0", "inet 192.0.2.2 255.255.255.0\n");
    w(
        "hostname.carp0",
        "inet 192.0.2.1 255.255.255.0 192.0.2.255 vhid 1 carpdev veth0 pass lanpasswd\n",
    );
    w("pf.conf", pf_conf);
    Dir(dir)
}

const PF_CONF: &str = "\
block
pass on veth0 proto carp keep state (no-sync)
pass in on veth0 proto tcp to carp0 port 22
pass in on veth0 proto tcp to (carp0) port 80
block in on veth0 from carp0
";

fn v4(s: &str) -> u128 {
    u128::from(u32::from(s.parse::<Ipv4Addr>().unwrap())) << 96
}

fn syn(src: &str, dst: &str, dport: u16) -> Vec<u8> {
    let ip = tcp_segment(&TcpSegment {
        af: Af::Inet,
        src: v4(src),
        dst: v4(dst),
        sport: 40000,
        dport,
        seq: 1000,
        ack: 0,
        flags: tcp_flags::SYN,
        win: 65535,
        mss: Some(1460),
        ttl: 64,
    });
    ethernet_wrap(&ip, PEER, CARP_MAC, None)
}

/// A CARP advert from the peer, framed by the carp crate as OpenBSD
/// frames it.
fn advert() -> Vec<u8> {
    use carp::auth::Key;
    use carp::{CarpHost, CarpIfConfig, Sysctl};
    let mut h = CarpHost::new(Sysctl::default(), 1);
    let mut c = CarpIfConfig::new(
        "carp0",
        "veth0",
        PEER,
        1,
        Key::from_passphrase(b"lanpasswd"),
    );
    c.v4.push(Ipv4Addr::new(192, 0, 2, 1));
    h.add_interface(0, c).unwrap();
    h.force_state(0, "carp0", carp::State::Master).unwrap();
    let t = h.poll_transmit().expect("a master advertises");
    t.to_frame(std::net::IpAddr::V4(Ipv4Addr::new(192, 0, 2, 3)), 7, None)
        .unwrap()
}

struct Lab {
    pipe: Pipeline,
    published: Arc<Published>,
    _dir: Dir,
}

fn lab(tag: &str, pf_conf: &str) -> Result<(Lab, ruleset::compile::Compiled), String> {
    let dir = etc(tag, pf_conf);
    let env = ruleset::hostenv::from_env().unwrap();
    let checked = mgmt::check::check(&dir.0, None, env.as_ref())?;
    let plan = mgmt::daemon::ports(&checked.config).unwrap();
    assert_eq!(plan.len(), 1, "carp0 is pfd's own, not a port");
    let router = mgmt::daemon::router(&checked.config, &plan, &[FW], &[None]).unwrap();
    let compiled = checked.engine.compiled().clone();
    let engine = Arc::new(EngineSlot::new(Arc::new(checked.engine)));
    let published = Arc::new(Published::default());
    let pipe = Pipeline::new(
        engine,
        router,
        plan.iter().map(|p| p.engine_if).collect(),
        Arc::clone(&published),
        Forwarding {
            inet: false,
            inet6: false,
        },
    );
    Ok((
        Lab {
            pipe,
            published,
            _dir: dir,
        },
        compiled,
    ))
}

impl Lab {
    /// (passed in, blocked in) after `frame` came in on veth0.
    fn send(&mut self, frame: &[u8]) -> (u64, u64) {
        let mut f = frame.to_vec();
        let _ = self.pipe.frame(0, 1_000_000_000, &mut f);
        self.pipe.drain_out(|_, _| {});
        (
            self.published.passed[0].load(Ordering::Relaxed),
            self.published.blocked[0].load(Ordering::Relaxed),
        )
    }
}

#[test]
fn carp_rules_compile_to_protocol_112_on_the_carpdev_and_carp_addresses() {
    let (_, c) = lab("compile", PF_CONF).unwrap();
    let rules = &c.rulesets[0].rules;
    let name = |r: &ruleset::compile::CRule| r.if_id.map(|i| c.ifnames[i.0 as usize].clone());
    assert_eq!(rules[1].proto, 112, "proto carp");
    assert_eq!(name(&rules[1]).as_deref(), Some("veth0"));
    // `to carp0`: carp0's address, as a host
    assert_eq!(
        rules[2].dst.addr,
        CAddr::Net {
            addr: v4("192.0.2.1"),
            mask: u128::from(u32::MAX) << 96,
        }
    );
    // `(carp0)`: whatever carp0 holds, resolved by the engine
    match rules[3].dst.addr {
        CAddr::DynIf { if_id, .. } => assert_eq!(c.ifnames[if_id.0 as usize], "carp0"),
        ref other => panic!("{other:?}"),
    }
    assert!(matches!(rules[4].src.addr, CAddr::Net { .. }));
}

#[test]
fn carp_addresses_and_adverts_are_enforced_on_the_carpdev() {
    let (mut l, _) = lab("enforce", PF_CONF).unwrap();
    // an advert passes `pass on veth0 proto carp`
    assert_eq!(l.send(&advert()), (1, 0), "CARP advert passed");
    // to carp0 port 22 and (carp0) port 80 pass
    assert_eq!(l.send(&syn("192.0.2.10", "192.0.2.1", 22)), (2, 0));
    assert_eq!(l.send(&syn("192.0.2.10", "192.0.2.1", 80)), (3, 0));
    // veth0's own address is not carp0's
    assert_eq!(l.send(&syn("192.0.2.10", "192.0.2.2", 22)), (3, 1));
    assert_eq!(l.send(&syn("192.0.2.10", "192.0.2.1", 23)), (3, 2));
    // from carp0: blocked by the last matching rule
    assert_eq!(l.send(&syn("192.0.2.1", "192.0.2.1", 22)), (3, 3));
}

#[test]
fn without_a_carp_rule_the_adverts_are_blocked() {
    let (mut l, _) = lab("noadvert", "block\npass in on veth0 proto tcp\n").unwrap();
    assert_eq!(l.send(&advert()), (0, 1));
}

#[test]
fn rules_on_a_carp_interface_are_refused_by_line() {
    let e = lab(
        "oncarp",
        "pass\npass in on carp0 proto tcp\nblock in on carp proto udp\npass on ! veth0\n",
    )
    .err()
    .expect("refused");
    assert!(
        e.contains("pf.conf:2: not supported: on carp0: pfd sees a carp interface's traffic on its carpdev"),
        "{e}"
    );
    assert!(e.contains("pf.conf:3: not supported: on carp:"), "{e}");
    assert!(!e.contains("pf.conf:4"), "{e}");
}
