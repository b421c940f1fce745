//! Booting from an etc directory: hostname.if, mygate, sysctl.conf and
//! pf.conf read into one typed configuration, or every error as
//! `FILE:LINE: message` and nothing else.

use mgmt::etc::{
    load_etc, CarpConfig, CarpState, EtcConfig, Gateway6, Gateways, IfaceConfig, Inet4, Inet6,
    PfsyncConfig, Sysctl,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory holding `files` (name, text); pf.conf is added
/// unless named with `None` text.
fn etc_dir(files: &[(&str, Option<&str>)]) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "pfd-etc-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut pf = true;
    for (name, text) in files {
        match text {
            Some(t) => std::fs::write(dir.join(name), t).expect("write"),
            None if *name == "pf.conf" => pf = false,
            None => {}
        }
    }
    if pf && !dir.join("pf.conf").exists() {
        std::fs::write(dir.join("pf.conf"), "pass\n").expect("write");
    }
    dir
}

/// The rendered errors with the directory shown as `DIR`.
fn errors(files: &[(&str, Option<&str>)]) -> String {
    let dir = etc_dir(files);
    let out = match load_etc(&dir) {
        Ok(c) => panic!("expected errors, loaded {c:?}"),
        Err(e) => e.to_string().replace(&dir.display().to_string(), "DIR"),
    };
    let _ = std::fs::remove_dir_all(&dir);
    out
}

fn load(files: &[(&str, Option<&str>)]) -> (EtcConfig, PathBuf) {
    let dir = etc_dir(files);
    match load_etc(&dir) {
        Ok(c) => (c, dir),
        Err(e) => panic!("{e}"),
    }
}

const ETH0: (&str, Option<&str>) = ("hostname.eth0", Some("inet 192.0.2.2 255.255.255.0\n"));

#[test]
fn full_directory_loads_into_typed_config() {
    let (c, dir) = load(&[
        (
            "hostname.eth0",
            Some(
                "# WAN\n\
                 description \"Bob's uplink\"\n\
                 inet 198.51.100.2 255.255.255.0 198.51.100.255\n\
                 inet alias 198.51.100.5 0xffffffff NONE\n\
                 inet6 2001:db8::2 64\n\
                 mtu 1500 group uplink\n\
                 lladdr 00:00:5e:00:53:af\n\
                 up\n",
            ),
        ),
        (
            "hostname.eth1",
            Some("inet 192.0.2.2/24 descr lan\ninet6 alias 2001:db8:1::2/64\ndown\n"),
        ),
        (
            "hostname.carp0",
            Some(
                "inet 198.51.100.1 255.255.255.0 198.51.100.255 vhid 7 carpdev eth0 pass s3cret\n\
                 advskew 100\nadvbase 2\ncarppeer 198.51.100.3\nstate backup\n",
            ),
        ),
        ("hostname.carp1", Some("inet6 2001:db8:1::1 64 vhid 7\n")),
        ("mygate", Some("198.51.100.254 # upstream\n\n2001:db8::1\n")),
        (
            "hostname.pfsync0",
            Some("syncdev eth1 syncpeer 192.0.2.3\nmaxupd 64 defer bulkburst 50\nup\n"),
        ),
        (
            "sysctl.conf",
            Some(
                "# routing\nnet.inet.ip.forwarding=1\nnet.inet6.ip6.forwarding=1 # v6 too\n\
                 net.inet.carp.allow=0\nnet.inet.carp.preempt=1\nnet.inet.carp.log=7\n",
            ),
        ),
    ]);
    let eth0 = IfaceConfig {
        name: "eth0".into(),
        file: dir.join("hostname.eth0"),
        inet: vec![
            Inet4 {
                addr: "198.51.100.2".parse().unwrap(),
                prefix: 24,
                broadcast: Some("198.51.100.255".parse().unwrap()),
                line: 3,
            },
            Inet4 {
                addr: "198.51.100.5".parse().unwrap(),
                prefix: 32,
                broadcast: None,
                line: 4,
            },
        ],
        inet6: vec![Inet6 {
            addr: "2001:db8::2".parse().unwrap(),
            prefix: 64,
            line: 5,
        }],
        mtu: Some(1500),
        up: true,
        description: Some("Bob's uplink".into()),
        groups: vec!["eth".into(), "uplink".into(), "egress".into()],
        lladdr: Some([0, 0, 0x5e, 0, 0x53, 0xaf]),
        carp: None,
    };
    let eth1 = IfaceConfig {
        name: "eth1".into(),
        file: dir.join("hostname.eth1"),
        inet: vec![Inet4 {
            addr: "192.0.2.2".parse().unwrap(),
            prefix: 24,
            broadcast: Some("192.0.2.255".parse().unwrap()),
            line: 1,
        }],
        inet6: vec![Inet6 {
            addr: "2001:db8:1::2".parse().unwrap(),
            prefix: 64,
            line: 2,
        }],
        mtu: None,
        up: false,
        description: Some("lan".into()),
        groups: vec!["eth".into()],
        lladdr: None,
        carp: None,
    };
    let carp0 = IfaceConfig {
        name: "carp0".into(),
        file: dir.join("hostname.carp0"),
        inet: vec![Inet4 {
            addr: "198.51.100.1".parse().unwrap(),
            prefix: 24,
            broadcast: Some("198.51.100.255".parse().unwrap()),
            line: 1,
        }],
        inet6: vec![],
        mtu: None,
        up: true,
        description: None,
        groups: vec!["carp".into()],
        lladdr: None,
        carp: Some(CarpConfig {
            vhid: 7,
            advbase: 2,
            advskew: 100,
            carpdev: "eth0".into(),
            pass: Some("s3cret".into()),
            carppeer: Some("198.51.100.3".parse().unwrap()),
            state: Some(CarpState::Backup),
        }),
    };
    // No carpdev: found by the network that holds its address, so the
    // same vhid is fine on another carpdev.
    let carp1 = IfaceConfig {
        name: "carp1".into(),
        file: dir.join("hostname.carp1"),
        inet: vec![],
        inet6: vec![Inet6 {
            addr: "2001:db8:1::1".parse().unwrap(),
            prefix: 64,
            line: 1,
        }],
        mtu: None,
        up: true,
        description: None,
        groups: vec!["carp".into()],
        lladdr: None,
        carp: Some(CarpConfig {
            vhid: 7,
            advbase: 1,
            advskew: 0,
            carpdev: "eth1".into(),
            pass: None,
            carppeer: None,
            state: None,
        }),
    };
    assert_eq!(
        c,
        EtcConfig {
            interfaces: vec![carp0, carp1, eth0, eth1],
            gateways: Gateways {
                v4: Some("198.51.100.254".parse().unwrap()),
                v6: Some(Gateway6 {
                    addr: "2001:db8::1".parse().unwrap(),
                    scope: None
                }),
            },
            sysctl: Sysctl {
                ip_forwarding: true,
                ip6_forwarding: true,
                carp_allow: false,
                carp_preempt: true,
                carp_log: 7,
            },
            pf_conf: dir.join("pf.conf"),
            pfsync: Some(PfsyncConfig {
                syncdev: "eth1".into(),
                syncpeer: Some("192.0.2.3".parse().unwrap()),
                maxupd: 64,
                defer: true,
                up: true,
                bulk_burst: 50,
                auth: None,
                mirror: Some("pfsync0".into()),
            }),
        }
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn openbsd_faq_carp_line() {
    let (c, dir) = load(&[
        ("hostname.em0", Some("inet 172.16.0.1 255.255.255.0 172.16.0.255\n")),
        (
            "hostname.carp1",
            Some("inet 172.16.0.100 255.255.255.0 172.16.0.255 vhid 1 carpdev em0 pass lanpasswd\nadvskew 100\n"),
        ),
    ]);
    let carp = c.interface("carp1").and_then(|i| i.carp.clone());
    assert_eq!(
        carp,
        Some(CarpConfig {
            vhid: 1,
            advbase: 1,
            advskew: 100,
            carpdev: "em0".into(),
            pass: Some("lanpasswd".into()),
            carppeer: None,
            state: None,
        })
    );
    let i = c.interface("carp1").unwrap();
    assert_eq!(i.inet[0].addr.to_string(), "172.16.0.100");
    assert_eq!(
        i.inet[0].broadcast.map(|b| b.to_string()).as_deref(),
        Some("172.16.0.255")
    );
    // OpenBSD's defaults when sysctl.conf and mygate are absent.
    assert_eq!(c.sysctl, Sysctl::default());
    assert!(!c.sysctl.ip_forwarding && c.sysctl.carp_allow && c.sysctl.carp_log == 2);
    assert_eq!(c.gateways, Gateways::default());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shipped_etc_directory_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../etc");
    let c = load_etc(&dir).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = c.interfaces.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["carp0", "carp1", "eth0", "eth1", "eth2"]);
    let carp0 = c.interface("carp0").and_then(|i| i.carp.as_ref()).unwrap();
    assert_eq!((carp0.vhid, carp0.carpdev.as_str()), (1, "eth0"));
    let carp1 = c.interface("carp1").and_then(|i| i.carp.as_ref()).unwrap();
    assert_eq!((carp1.vhid, carp1.carpdev.as_str()), (2, "eth1"));
    // pf.conf's CARP addresses are the carp interfaces' ones.
    assert_eq!(
        c.interface("carp0").unwrap().inet[0].addr.to_string(),
        "198.51.100.1"
    );
    assert_eq!(
        c.interface("carp1").unwrap().inet[0].addr.to_string(),
        "192.0.2.1"
    );
    assert_eq!(c.interface("eth0").unwrap().groups, ["eth", "egress"]);
    assert_eq!(c.interface("eth2").unwrap().inet[0].prefix, 29);
    assert!(c.sysctl.ip_forwarding && c.sysctl.ip6_forwarding && c.sysctl.carp_preempt);
    assert_eq!(c.pf_conf, dir.join("pf.conf"));
    assert_eq!(c.interface("carp1").unwrap().groups, ["carp"]);
    let pfsync = c.pfsync.as_ref().unwrap();
    assert_eq!(
        (pfsync.syncdev.as_str(), pfsync.up, pfsync.maxupd),
        ("eth2", true, 128)
    );
    // The shipped pf.conf compiles against these interfaces.
    let base = ruleset::hostenv::RegressHost::new();
    c.load_pf(&base).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn pf_conf_compiles_against_the_configured_interfaces() {
    let eth1 = ("hostname.eth1", Some("inet 198.51.100.2 255.255.255.0\n"));
    let base = ruleset::hostenv::RegressHost::new();
    let (c, dir) = load(&[
        ETH0,
        eth1,
        ("mygate", Some("198.51.100.254\n")),
        (
            "pf.conf",
            Some("pass in on eth0 from eth0:network to egress:network\n"),
        ),
    ]);
    let host = c.host_env(&base);
    use ruleset::hostenv::HostEnv;
    let names: Vec<&str> = host.interfaces().iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["lo0", "lo1000000", "eth0", "eth1"]);
    let egress: Vec<&str> = host
        .group_members("egress")
        .unwrap_or_default()
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(egress, ["eth1"]);
    assert_eq!(host.service_port("ssh", "tcp"), Some(22));
    c.load_pf(&base).unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_dir_all(&dir);

    // An interface pfd does not configure has no addresses to expand.
    let (c, dir) = load(&[ETH0, ("pf.conf", Some("pass from eth7:network\n"))]);
    let e = c.load_pf(&base).unwrap_err();
    assert_eq!(
        e,
        format!(
            "no IP address found for eth7:network\n{}:1: could not parse host specification\n",
            dir.join("pf.conf").display()
        )
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// hostname.if(5)'s example file, less what pfd refuses (media,
/// anycast, the !route line), in documentation addresses.
#[test]
fn man_page_example() {
    let (c, dir) = load(&[(
        "hostname.eth0",
        Some(
            "description Uplink\n\
             inet 192.0.2.12 255.255.255.0 192.0.2.255\n\
             inet alias 192.0.2.13 255.255.255.255 192.0.2.13\n\
             inet alias 192.0.2.14 255.255.255.255 NONE\n\
             inet alias 192.0.2.15 255.255.255.255\n\
             inet alias 192.0.2.16 0xffffffff\n\
             # This is an example comment line.\n\
             inet6 alias 2001:db8::1 64\n\
             inet6 alias 2001:db8::2 64\n\
             up\n",
        ),
    )]);
    let i = c.interface("eth0").unwrap();
    let v4: Vec<(String, u8, Option<String>)> = i
        .inet
        .iter()
        .map(|a| {
            (
                a.addr.to_string(),
                a.prefix,
                a.broadcast.map(|b| b.to_string()),
            )
        })
        .collect();
    let own = |a: &str, p, b: Option<&str>| (a.to_string(), p, b.map(str::to_string));
    assert_eq!(
        v4,
        [
            own("192.0.2.12", 24, Some("192.0.2.255")),
            own("192.0.2.13", 32, Some("192.0.2.13")),
            own("192.0.2.14", 32, None),
            own("192.0.2.15", 32, None),
            own("192.0.2.16", 32, None),
        ]
    );
    assert_eq!(i.inet6.len(), 2);
    assert_eq!(i.description.as_deref(), Some("Uplink"));
    assert!(i.up);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_interfaces_is_separate_and_skips_carp() {
    let (c, dir) = load(&[
        ETH0,
        ("hostname.eth1", Some("inet 198.51.100.2 255.255.255.0\n")),
        (
            "hostname.carp0",
            Some("inet 192.0.2.1 255.255.255.0 vhid 1\n"),
        ),
    ]);
    assert_eq!(c.check_interfaces(&|n| n == "eth0" || n == "eth1"), Ok(()));
    let e = c.check_interfaces(&|n| n == "eth0").unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{}/hostname.eth1: no such interface eth1\n", dir.display())
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_error_in_one_run() {
    let e = errors(&[
        (
            "hostname.eth0",
            Some(
                "inet 192.0.2.2 255.255.255.0\ndhcp\nmedia 100baseTX\n!route add 10/8 192.0.2.9\n",
            ),
        ),
        (
            "sysctl.conf",
            Some("net.inet.ip.forwarding=1\nkern.maxfiles=4096\n"),
        ),
        ("mygate", Some("203.0.113.1\n")),
        ("pf.conf", None),
    ]);
    assert_eq!(
        e,
        "DIR/hostname.eth0:2: dhcp is not supported: give a static address (inet ADDR NETMASK)\n\
         DIR/hostname.eth0:3: \"media\" is not supported (pfd supports inet, inet6, up, down, mtu, description, group, lladdr and, on carpN, the carp options)\n\
         DIR/hostname.eth0:4: !command lines are not supported: pfd runs no commands from hostname.if\n\
         DIR/sysctl.conf:2: kern.maxfiles is not supported (pfd supports net.inet.ip.forwarding, net.inet6.ip6.forwarding, net.inet.carp.allow, net.inet.carp.preempt, net.inet.carp.log)\n\
         DIR/pf.conf: missing: pfd needs a ruleset to start\n\
         DIR/mygate:1: gateway 203.0.113.1 is on no configured network (no interface's address and netmask hold it)\n"
    );
}

fn one(file: &str, text: &str) -> String {
    if file.starts_with("hostname.") && file != "hostname.pfsync0" {
        errors(&[(file, Some(text))])
    } else {
        errors(&[ETH0, (file, Some(text))])
    }
}

#[test]
fn missing_files() {
    assert_eq!(
        errors(&[ETH0, ("pf.conf", None)]),
        "DIR/pf.conf: missing: pfd needs a ruleset to start\n"
    );
    assert_eq!(
        errors(&[]),
        "DIR: no hostname.<if> files: pfd would start with no interfaces\n"
    );
}

#[test]
fn refused_address_configuration() {
    let cases = [
        ("inet autoconf\n", "1: inet autoconf (DHCP) is not supported: give a static address (inet ADDR NETMASK)"),
        ("inet6 autoconf\n", "1: inet6 autoconf is not supported: give a static address (inet6 ADDR PREFIXLEN)"),
        ("inet 192.0.2.2\n", "1: inet 192.0.2.2 needs a netmask (e.g. 255.255.255.0 or 0xffffff00)"),
        ("inet 192.0.2.2 255.0.255.0\n", "1: netmask 255.0.255.0 is not contiguous"),
        ("inet 192.0.2.2 0xffffff0g\n", "1: invalid netmask \"0xffffff0g\""),
        ("inet 192.0.2.300 255.255.255.0\n", "1: invalid IPv4 address \"192.0.2.300\""),
        ("inet 192.0.2.2 255.255.255.0 198.51.100.255\n", "1: broadcast address 198.51.100.255 is not on 192.0.2.2/24"),
        ("inet 192.0.2.255/24\n", "1: 192.0.2.255 is the broadcast address of 192.0.2.255/24"),
        ("inet 224.0.0.18/24\n", "1: 224.0.0.18 cannot be an interface address"),
        (
            "inet 192.0.2.2/24\ninet 192.0.2.3/24\n",
            "2: a second inet line without alias would replace 192.0.2.2 (set at line 1): write inet alias",
        ),
        ("inet 192.0.2.2/24\ninet alias 192.0.2.2/32\n", "2: 192.0.2.2 is already set at line 1"),
        ("inet6 2001:db8::1\n", "1: inet6 2001:db8::1 needs a prefix length (inet6 ADDR PREFIXLEN)"),
        ("inet6 2001:db8::1 129\n", "1: invalid prefix length \"129\""),
        ("inet6 ff02::1 64\n", "1: ff02::1 cannot be an interface address"),
        ("inet 192.0.2.2/33\n", "1: invalid prefix length \"/33\""),
        ("dest 192.0.2.9\n", "1: point-to-point destinations (dest) are not supported"),
    ];
    for (text, want) in cases {
        assert_eq!(
            one("hostname.eth0", text),
            format!("DIR/hostname.eth0:{want}\n"),
            "{text}"
        );
    }
}

#[test]
fn refused_options() {
    let cases = [
        ("up mtu\n", "1: mtu needs a value"),
        ("mtu 9\n", "1: invalid mtu \"9\" (68..65535)"),
        ("mtu 1500x\n", "1: invalid mtu \"1500x\" (68..65535)"),
        ("group lan0\n", "1: group name \"lan0\" may not end in a digit"),
        ("lladdr 01:00:5e:00:00:01\n", "1: lladdr 01:00:5e:00:00:01 is a multicast address"),
        ("lladdr 00:00:5e:00:53\n", "1: invalid lladdr \"00:00:5e:00:53\""),
        ("lladdr random\n", "1: lladdr random is not supported: give the address"),
        ("description Bob's uplink\n", "1: a single quote must be inside double quotes"),
        ("description \"uplink\n", "1: unterminated double quote"),
        ("description $(reboot)\n", "1: shell character `$` is not supported: pfd does not run hostname.if lines through a shell"),
        ("up # wan\n", "1: a comment must start its own line: netstart would pass it to ifconfig"),
        ("vhid 1\n", "1: vhid is a carp option: only hostname.carpN files take it"),
        ("-inet6\n", "1: \"-inet6\" is not supported (pfd supports inet, inet6, up, down, mtu, description, group, lladdr and, on carpN, the carp options)"),
    ];
    for (text, want) in cases {
        let t = format!("inet 192.0.2.2/24\n{text}");
        let want = want.replacen("1:", "2:", 1);
        assert_eq!(
            one("hostname.eth0", &t),
            format!("DIR/hostname.eth0:{want}\n"),
            "{text}"
        );
    }
}

#[test]
fn mtu_too_small_for_ipv6() {
    assert_eq!(
        one("hostname.eth0", "inet6 2001:db8::1 64\nmtu 1000\n"),
        "DIR/hostname.eth0: mtu 1000 is below IPv6's minimum of 1280, and eth0 has inet6 2001:db8::1\n"
    );
}

#[test]
fn bad_interface_file_names() {
    assert_eq!(
        errors(&[ETH0, ("hostname.00:00:5e:00:53:af", Some("up\n"))]),
        "DIR/hostname.00:00:5e:00:53:af: naming an interface by its link-layer address is not supported: use its name\n"
    );
    assert_eq!(
        errors(&[ETH0, ("hostname.averyveryverylongname", Some("up\n"))]),
        "DIR/hostname.averyveryverylongname: \"averyveryverylongname\" is not a valid interface name\n"
    );
    assert_eq!(
        errors(&[ETH0, ("hostname.eth\u{e9}", Some("up\n"))]),
        "DIR/hostname.eth\u{e9}: \"eth\u{e9}\" is not a valid interface name\n"
    );
    assert_eq!(
        errors(&[ETH0, ("hostname.pfsync1", Some("syncdev eth0\n"))]),
        "DIR/hostname.pfsync1: there is one pfsync interface, pfsync0\n"
    );
}

#[test]
fn duplicate_address_across_interfaces() {
    let e = errors(&[
        ETH0,
        (
            "hostname.eth1",
            Some("# LAN\ninet 192.0.2.2 255.255.255.0\n"),
        ),
    ]);
    assert_eq!(
        e,
        "DIR/hostname.eth1:2: 192.0.2.2 is already configured on eth0 (DIR/hostname.eth0:1)\n"
    );
}

#[test]
fn same_link_local_on_two_links_is_no_conflict() {
    let (c, dir) = load(&[
        ("hostname.eth0", Some("inet6 fe80::1 64\n")),
        ("hostname.eth1", Some("inet6 fe80::1 64\n")),
    ]);
    assert_eq!(c.interfaces.len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn carp_errors() {
    let cases: [(&str, &str); 9] = [
        ("inet 192.0.2.1/24\n", "DIR/hostname.carp0: carp0 needs a vhid (vhid 1..255)\n"),
        ("vhid 1\n", "DIR/hostname.carp0: carp0 has no address\n"),
        ("inet 192.0.2.1/24 vhid 0\n", "DIR/hostname.carp0:1: invalid vhid \"0\" (1..255)\n"),
        ("inet 192.0.2.1/24 vhid 1 advskew 255\n", "DIR/hostname.carp0:1: invalid advskew \"255\" (0..254)\n"),
        ("inet 192.0.2.1/24 vhid 1 advbase 256\n", "DIR/hostname.carp0:1: invalid advbase \"256\" (0..255 seconds)\n"),
        (
            "inet 192.0.2.1/24 vhid 1 pass 01234567890123456789\n",
            "DIR/hostname.carp0:1: carp passphrase is 20 bytes: OpenBSD keeps only the first 19, so a peer would disagree\n",
        ),
        ("inet 192.0.2.1/24 vhid 1 state up\n", "DIR/hostname.carp0:1: invalid carp state \"up\" (master, backup or init)\n"),
        ("inet 192.0.2.1/24 vhid 1\nbalancing ip\n", "DIR/hostname.carp0:2: carp option balancing is not supported\n"),
        ("inet 192.0.2.1/24 vhid 1 carpdev eth9\n", "DIR/hostname.carp0:1: carpdev eth9 has no hostname.eth9 (pfd runs only on interfaces configured here)\n"),
    ];
    for (text, want) in cases {
        assert_eq!(
            errors(&[ETH0, ("hostname.carp0", Some(text))]),
            want,
            "{text}"
        );
    }
    assert_eq!(
        errors(&[ETH0, ("hostname.carp0", Some("inet 192.0.2.1/24 vhid 1\nlladdr 00:00:5e:00:01:01\n"))]),
        "DIR/hostname.carp0:2: carp0 takes its link-layer address from its vhid (00:00:5e:00:01:VHID): lladdr cannot be set\n"
    );
    assert_eq!(
        errors(&[ETH0, ("hostname.carp0", Some("inet 192.0.2.1/24 vhid 1\ncarppeer 2001:db8::3\n"))]),
        "DIR/hostname.carp0:2: invalid carppeer \"2001:db8::3\": only IPv4 addresses are supported for the carppeer\n"
    );
    assert_eq!(
        errors(&[
            ETH0,
            (
                "hostname.carp0",
                Some("inet6 2001:db8::1 64 carpdev eth0 vhid 1\ncarppeer 192.0.2.3\n")
            )
        ]),
        "DIR/hostname.carp0:2: carppeer 192.0.2.3: carp0 has no IPv4 address to advertise\n"
    );
    assert_eq!(
        errors(&[ETH0, ("hostname.carp0", Some("inet 198.51.100.1/24 vhid 1\n"))]),
        "DIR/hostname.carp0: carp0: no carpdev given, and no interface's network holds its address\n"
    );
    assert_eq!(
        errors(&[
            ETH0,
            (
                "hostname.carp0",
                Some("inet 192.0.2.1/24 vhid 3 carpdev eth0\n")
            ),
            ("hostname.carp1", Some("inet 192.0.2.4/24\nvhid 3\n")),
        ]),
        "DIR/hostname.carp1:2: vhid 3 is already used on eth0 by carp0\n"
    );
}

#[test]
fn pfsync_errors() {
    let cases = [
        ("up\n", "DIR/hostname.pfsync0: pfsync0 is up with no syncdev: it would sync nothing\n"),
        ("syncdev eth2 up\n", "DIR/hostname.pfsync0:1: syncdev eth2 has no hostname.eth2 (pfd runs only on interfaces configured here)\n"),
        ("syncdev eth0\nsyncpeer 2001:db8::2\n", "DIR/hostname.pfsync0:2: invalid syncpeer \"2001:db8::2\" (an IPv4 address)\n"),
        ("syncdev eth0\nsyncpeer 224.0.0.240\n", "DIR/hostname.pfsync0:2: syncpeer 224.0.0.240 must be a unicast address\n"),
        ("syncdev eth0 maxupd 256\n", "DIR/hostname.pfsync0:1: invalid maxupd \"256\" (0..255)\n"),
        ("inet 192.0.2.9/24\n", "DIR/hostname.pfsync0:1: pfsync0 takes no addresses\n"),
        ("syncdev eth0 syncif eth0\n", "DIR/hostname.pfsync0:1: \"syncif\" is not supported on pfsync0 (pfd supports up, down, syncdev, syncpeer, maxupd, defer, and its own bulkburst, authkey and mirror)\n"),
        ("syncdev eth0 bulkburst 0\n", "DIR/hostname.pfsync0:1: invalid bulkburst \"0\" (1..200 packets per 20 ms)\n"),
        ("syncdev eth0 bulkburst 201\n", "DIR/hostname.pfsync0:1: invalid bulkburst \"201\" (1..200 packets per 20 ms)\n"),
        ("syncdev eth0 mirror\n", "DIR/hostname.pfsync0:1: mirror needs an interface name\n"),
        ("syncdev eth0 mirror sixteen-bytes-xx\n", "DIR/hostname.pfsync0:1: invalid mirror \"sixteen-bytes-xx\" (an interface name of 1 to 15 bytes, no / or :)\n"),
        ("syncdev eth0\nmirror a:b\n", "DIR/hostname.pfsync0:2: invalid mirror \"a:b\" (an interface name of 1 to 15 bytes, no / or :)\n"),
        ("syncdev eth0\nmirror eth0\n", "DIR/hostname.pfsync0:2: mirror eth0: pfd runs on an interface of that name (name another with `mirror NAME`, or none with `-mirror`)\n"),
    ];
    for (text, want) in cases {
        assert_eq!(one("hostname.pfsync0", text), want, "{text}");
    }
}

/// An etc directory with eth0, `hostname.pfsync0` holding `text`, and
/// a key file `name` of `bytes` with `mode`.
fn with_key(text: &str, name: &str, bytes: &[u8], mode: u32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = etc_dir(&[ETH0, ("hostname.pfsync0", Some(text))]);
    let key = dir.join(name);
    std::fs::write(&key, bytes).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
    dir
}

fn key_errors(text: &str, bytes: &[u8], mode: u32) -> String {
    let dir = with_key(text, "pfsync.key", bytes, mode);
    let out = match load_etc(&dir) {
        Ok(c) => panic!("expected errors, loaded {c:?}"),
        Err(e) => e.to_string().replace(&dir.display().to_string(), "DIR"),
    };
    let _ = std::fs::remove_dir_all(&dir);
    out
}

#[test]
fn mirror_is_pfsync0_unless_named_or_refused() {
    let mirror = |text: &str| {
        let (c, dir) = load(&[ETH0, ("hostname.pfsync0", Some(text))]);
        let _ = std::fs::remove_dir_all(&dir);
        c.pfsync.unwrap().mirror
    };
    assert_eq!(mirror("up syncdev eth0\n").as_deref(), Some("pfsync0"));
    assert_eq!(
        mirror("up syncdev eth0 mirror pfsyncmon\n").as_deref(),
        Some("pfsyncmon")
    );
    assert_eq!(mirror("up syncdev eth0 -mirror\n"), None);
}

#[test]
fn authkey_reads_a_private_key_file() {
    let key = b"0123456789abcdef0123456789abcdef";
    let dir = with_key(
        "up syncdev eth0\nauthkey pfsync.key\n",
        "pfsync.key",
        key,
        0o600,
    );
    let c = load_etc(&dir).unwrap_or_else(|e| panic!("{e}"));
    let a = c.pfsync.as_ref().unwrap().auth.as_ref().unwrap();
    assert_eq!(a.bytes(), key);
    assert_eq!(
        a.path,
        dir.join("pfsync.key"),
        "relative to the etc directory"
    );
    let shown = format!("{c:?}");
    assert!(
        shown.contains("<redacted>") && !shown.contains("0123456789abcdef"),
        "never printed: {shown}"
    );
    // an absolute path, and -authkey taking it back
    let abs = dir.join("pfsync.key").display().to_string();
    std::fs::write(
        dir.join("hostname.pfsync0"),
        format!("syncdev eth0 authkey {abs}\n"),
    )
    .unwrap();
    assert!(load_etc(&dir).unwrap().pfsync.unwrap().auth.is_some());
    std::fs::write(
        dir.join("hostname.pfsync0"),
        format!("syncdev eth0 authkey {abs}\n-authkey\n"),
    )
    .unwrap();
    assert!(load_etc(&dir).unwrap().pfsync.unwrap().auth.is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn authkey_errors() {
    let k = [7u8; 32];
    let text = "up syncdev eth0\nauthkey pfsync.key\n";
    assert_eq!(
        key_errors(text, &k, 0o644),
        "DIR/hostname.pfsync0:2: authkey DIR/pfsync.key: group or others have access (mode 0644): chmod 600 it\n"
    );
    assert_eq!(
        key_errors(text, &k[..15], 0o600),
        "DIR/hostname.pfsync0:2: authkey DIR/pfsync.key: 15 bytes, a key needs at least 16 (head -c 32 /dev/urandom > FILE)\n"
    );
    assert_eq!(
        key_errors("up syncdev eth0 authkey nokey\n", &k, 0o600),
        "DIR/hostname.pfsync0:1: authkey DIR/nokey: No such file or directory (os error 2)\n"
    );
    assert_eq!(
        key_errors("up syncdev eth0 authkey\n", &k, 0o600),
        "DIR/hostname.pfsync0:1: authkey needs a key file\n"
    );
    // every error of the run: the key's and the syncdev's
    assert_eq!(
        key_errors("up syncdev eth9\nauthkey pfsync.key\n", &k, 0o660),
        "DIR/hostname.pfsync0:1: syncdev eth9 has no hostname.eth9 (pfd runs only on interfaces configured here)\n\
         DIR/hostname.pfsync0:2: authkey DIR/pfsync.key: group or others have access (mode 0660): chmod 600 it\n"
    );
}

#[test]
fn mygate_errors() {
    let cases = [
        ("192.0.2.254\n192.0.2.253\n", "DIR/mygate:2: a second IPv4 gateway (the first is at line 1)\n"),
        ("192.0.2.2\n", "DIR/mygate:1: gateway 192.0.2.2 is an address of eth0 itself\n"),
        ("gw.example\n", "DIR/mygate:1: invalid gateway address \"gw.example\"\n"),
        ("192.0.2.254 192.0.2.253\n", "DIR/mygate:1: one gateway address a line, not \"192.0.2.254 192.0.2.253\"\n"),
        ("fe80::1\n", "DIR/mygate:1: link-local gateway fe80::1 needs its interface (fe80::1%IF)\n"),
        ("fe80::1%eth7\n", "DIR/mygate:1: gateway fe80::1%eth7: no hostname.eth7\n"),
        ("2001:db8::1\n", "DIR/mygate:1: gateway 2001:db8::1 is on no configured network (no interface's address and netmask hold it)\n"),
    ];
    for (text, want) in cases {
        assert_eq!(one("mygate", text), want, "{text}");
    }
    // A scoped link-local gateway puts its interface in egress.
    let (c, dir) = load(&[ETH0, ("mygate", Some("fe80::1%eth0\n"))]);
    assert_eq!(c.interface("eth0").unwrap().groups, ["eth", "egress"]);
    assert_eq!(c.gateways.v6.and_then(|g| g.scope).as_deref(), Some("eth0"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sysctl_errors() {
    let cases = [
        ("net.inet.ip.forwarding=2\n", "DIR/sysctl.conf:1: net.inet.ip.forwarding=2 (forward IPsec traffic only) is not supported: use 0 or 1\n"),
        ("net.inet.carp.preempt=yes\n", "DIR/sysctl.conf:1: net.inet.carp.preempt=yes: the value must be 0 or 1\n"),
        ("net.inet.carp.log=8\n", "DIR/sysctl.conf:1: net.inet.carp.log=8: the value must be 0..7\n"),
        ("net.inet.ip.forwarding\n", "DIR/sysctl.conf:1: expected name=value, not \"net.inet.ip.forwarding\"\n"),
        ("net.inet.ip.forwarding=1\n\nnet.inet.ip.forwarding=0\n", "DIR/sysctl.conf:3: net.inet.ip.forwarding is already set at line 1\n"),
    ];
    for (text, want) in cases {
        assert_eq!(one("sysctl.conf", text), want, "{text}");
    }
}
