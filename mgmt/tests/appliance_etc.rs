//! The appliance pair's example etc directories, `etc/fw1` and
//! `etc/fw2`: each boots (`pfd check` and the etc loader take it), and
//! the two agree as an OpenBSD FAQ pair must: the same pf.conf, the
//! same CARP groups with fw1 preferred, pfsync on the third NIC, and
//! the interface names the boot image's kernel gives its NICs.

use mgmt::etc::{load_etc, EtcConfig};
use std::path::{Path, PathBuf};
use std::process::Command;

fn dir(fw: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../etc")
        .join(fw)
}

fn load(fw: &str) -> EtcConfig {
    load_etc(&dir(fw)).unwrap_or_else(|e| panic!("etc/{fw}: {e}"))
}

#[test]
fn both_firewalls_pass_pfd_check() {
    for (fw, me) in [("fw1", 2), ("fw2", 3)] {
        let o = Command::new(env!("CARGO_BIN_EXE_pfd"))
            .args(["check", "--etc"])
            .arg(dir(fw))
            .env("PFD_HOST_PROFILE", "system")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "etc/{fw}: {err}");
        for line in [
            "carp0: 192.0.2.1/24 groups carp\n".to_string(),
            "carp1: 198.51.100.1/24 groups carp\n".to_string(),
            format!("eth0: 192.0.2.{me}/24 groups eth\n"),
            format!("eth1: 198.51.100.{me}/24 groups eth egress\n"),
            format!("eth2: 203.0.113.{me}/24 groups eth\n"),
            "default 198.51.100.254\n".to_string(),
        ] {
            assert!(out.contains(&line), "etc/{fw}: no {line:?} in:\n{out}");
        }
        assert!(out.contains("pf.conf: 10 rules, 0 tables: loads"), "{out}");
    }
}

#[test]
fn the_pair_shares_pf_conf_and_carp_groups_with_fw1_preferred() {
    let (a, b) = (load("fw1"), load("fw2"));
    assert_eq!(
        std::fs::read_to_string(&a.pf_conf).unwrap(),
        std::fs::read_to_string(&b.pf_conf).unwrap(),
        "both firewalls load the same pf.conf"
    );
    for (carp, dev) in [("carp0", "eth0"), ("carp1", "eth1")] {
        let (ia, ib) = (a.interface(carp).unwrap(), b.interface(carp).unwrap());
        assert_eq!(ia.inet, ib.inet, "{carp}: the same address on both");
        let (ca, cb) = (ia.carp.as_ref().unwrap(), ib.carp.as_ref().unwrap());
        assert_eq!(ca.carpdev, dev);
        assert_eq!(
            (ca.vhid, &ca.pass, &ca.carpdev, ca.advbase),
            (cb.vhid, &cb.pass, &cb.carpdev, cb.advbase),
            "{carp}: one virtual host"
        );
        assert!(ca.pass.is_some(), "{carp}: a passphrase");
        assert_eq!((ca.advskew, cb.advskew), (0, 100), "{carp}: fw1 preferred");
    }
    assert_ne!(
        a.interface("carp0").unwrap().carp.as_ref().unwrap().vhid,
        a.interface("carp1").unwrap().carp.as_ref().unwrap().vhid
    );
    for (fw, c) in [("fw1", &a), ("fw2", &b)] {
        let names: Vec<&str> = c.interfaces.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["carp0", "carp1", "eth0", "eth1", "eth2"], "{fw}");
        assert!(
            c.interfaces.iter().all(|i| i.up || i.carp.is_some()),
            "{fw}"
        );
        let sync = c.pfsync.as_ref().unwrap_or_else(|| panic!("{fw}: pfsync0"));
        assert!(sync.up && sync.syncdev == "eth2", "{fw}: {sync:?}");
        assert!(
            c.sysctl.ip_forwarding && c.sysctl.carp_allow && c.sysctl.carp_preempt,
            "{fw}: {:?}",
            c.sysctl
        );
        assert_eq!(c.gateways.v4, Some("198.51.100.254".parse().unwrap()));
    }
}

/// The FAQ's ruleset tips, as pfctl -nv prints the rules.
#[test]
fn the_ruleset_follows_the_faq() {
    let o = Command::new(env!("CARGO_BIN_EXE_pfctl"))
        .arg("-nvf")
        .arg(dir("fw1").join("pf.conf"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for rule in [
        "pass quick on eth2 proto pfsync all keep state (no-sync)\n",
        "pass on eth0 proto carp all keep state (no-sync)\n",
        "pass on eth1 proto carp all keep state (no-sync)\n",
        "match out on eth1 inet from 192.0.2.0/24 to any nat-to 198.51.100.1\n",
    ] {
        assert!(out.contains(rule), "no {rule:?} in:\n{out}");
    }
    assert!(
        !out.contains("on carp"),
        "rules name physical interfaces:\n{out}"
    );
}
