//! The HA pair (the FAQ's layout, as ha_netns) watched on its pfsync0:
//! tcpdump in fw1's namespace captures, on the mirror interface pfd
//! makes, the packets fw1 sends (the INS records of the connections
//! opened through it) and those it takes from fw2 (the INS of a ping
//! to fw2 itself), each as the IPv4 packet it is, source address and
//! all; tshark reads them with pfd's Lua dissector. Then `pfctl -F
//! states` on fw1 clears fw2's copies of fw1's states with one CLR
//! (no DEL_C), and fw2 keeps the state it made itself. Needs root,
//! tcpdump and tshark; skipped with a message otherwise, and failed
//! when CI is set.

mod ha;
mod live;
#[path = "../../dataplane/tests/netns/mod.rs"]
mod netns;
mod support;
mod ucarp;

use ha::{client, ha, round, server, settled_pair, states_of, Pair};
use live::{ping, show};
use mgmt::control::ShowWhat;
use pfsync::wire::{PacketRepr, Section};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use ucarp::{have, wait_until, Capture};

const T: &str = "tcpdump_on_pfsync0_sees_the_sync_and_a_flush_clears_the_peer";
const CONNS: usize = 20;
const NATED: usize = 5;
/// fw1's and fw2's addresses on the sync cable.
const FW1_SYNC: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);
const FW2_SYNC: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 3);

fn pfctl(sock: &Path, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_pfctl"))
        .arg("--control")
        .arg(sock)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

fn ifctl_json(sock: &Path, args: &[&str]) -> serde_json::Value {
    let o = Command::new(env!("CARGO_BIN_EXE_ifctl"))
        .arg("--control")
        .arg(sock)
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The host id a pfd's states carry.
fn hostid(sock: &Path) -> u32 {
    let (_, j) = show(sock, ShowWhat::Info);
    let h = j["hostid"].as_str().expect("hostid");
    u32::from_str_radix(h.trim_start_matches("0x"), 16).unwrap()
}

/// States in `sock`'s table naming `addr`.
fn states_with(sock: &Path, addr: &str) -> usize {
    show(sock, ShowWhat::States)
        .0
        .lines()
        .filter(|l| l.contains(addr))
        .count()
}

/// One captured packet: its IPv4 source and pfsync sections.
struct Seen {
    src: Ipv4Addr,
    sections: Vec<Section>,
}

fn decode(pcap: &Path) -> Vec<Seen> {
    let (link, pkts) = support::read_pcap(pcap);
    assert_eq!(link, 101, "LINKTYPE_RAW: packets start at the IPv4 header");
    pkts.iter()
        .map(|(_, ip)| {
            assert_eq!(ip[9], 240, "only pfsync on pfsync0: {ip:02x?}");
            let r = pfsync::wire::ip::decap(ip).expect("an IPv4 pfsync packet");
            assert_eq!(r.ttl, 255);
            Seen {
                src: r.src,
                sections: PacketRepr::parse(r.payload).expect("pfsync").sections,
            }
        })
        .collect()
}

fn v4(a: &[u8; 16]) -> Ipv4Addr {
    Ipv4Addr::new(a[0], a[1], a[2], a[3])
}

/// The INS and UPD records of `s`, as (wire key addresses, ports, proto).
fn inserted(s: &Seen) -> Vec<([Ipv4Addr; 2], [u16; 2], u8)> {
    s.sections
        .iter()
        .flat_map(|sec| match sec {
            Section::Ins(v) | Section::Upd(v) => v.clone(),
            _ => Vec::new(),
        })
        .map(|r| {
            let k = &r.keys[0];
            ([v4(&k.addr[0]), v4(&k.addr[1])], k.port, r.proto)
        })
        .collect()
}

#[test]
fn tcpdump_on_pfsync0_sees_the_sync_and_a_flush_clears_the_peer() {
    if !netns::can_run(T) || !have(T, "tcpdump") || !have(T, "tshark") {
        return;
    }
    let h = ha("hm");
    let Pair {
        etc: [_e1, _e2],
        sock: [s1, s2],
        fw1,
        fw2,
    } = settled_pair(&h, "m");
    let j = ifctl_json(&s1, &["pfsync0"]);
    assert!(
        j.to_string()
            .contains("pfd: authkey: off bulkburst: 1 mirror: pfsync0"),
        "{j}"
    );

    let pcap = std::env::temp_dir().join(format!("pfd-hm-{}.pcap", std::process::id()));
    let mut cap = Capture::start(&h.fw[0], "pfsync0", "", pcap.clone());

    // connections through fw1 (its INS go out), a ping to fw2 itself
    // (fw2's INS comes in)
    let _peers = server(&h.server, CONNS);
    let (go, res) = client(&h.client, CONNS, NATED);
    let (ok, errs, _, _) = round(&go, &res, 1);
    assert_eq!(ok, CONNS, "{errs:?}\n{}", fw1.stderr());
    assert!(ping(&h.client, "192.0.2.3"), "{}", fw2.stderr());
    let n1 = states_of(&s1);
    assert!(n1 >= 2 * CONNS, "fw1's states: {n1}");
    assert!(
        wait_until(Duration::from_secs(10), || states_of(&s2) == n1
            && states_with(&s1, "192.0.2.3") >= 1),
        "synced both ways: fw1 {n1}, fw2 {}, fw1 has fw2's ping: {}",
        states_of(&s2),
        states_with(&s1, "192.0.2.3")
    );

    // pfctl -F states on fw1: fw2 drops fw1's states, keeps its own
    let own = states_with(&s2, "192.0.2.3");
    assert!(own >= 1, "fw2 has its ping state");
    let flushed = Instant::now();
    let out = pfctl(&s1, &["-F", "states"]);
    assert!(out.contains("states cleared"), "{out}");
    assert_eq!(states_of(&s1), 0);
    assert!(
        wait_until(Duration::from_secs(5), || states_of(&s2) == 0),
        "fw2 loses fw1's states: {} left\n{}",
        states_of(&s2),
        fw2.stderr()
    );
    eprintln!(
        "flush: fw2 dropped fw1's {n1} states {:?} after pfctl -F states",
        flushed.elapsed()
    );
    assert_eq!(
        states_with(&s2, "192.0.2.3"),
        own,
        "fw2's own ping state stays: {}",
        show(&s2, ShowWhat::States).0
    );
    // past a batch (1 s): any DEL_C would have left by now
    std::thread::sleep(Duration::from_millis(1500));
    cap.stop();

    let seen = decode(&pcap);
    let fw1_id = hostid(&s1);
    let sent: Vec<&Seen> = seen.iter().filter(|s| s.src == FW1_SYNC).collect();
    let taken: Vec<&Seen> = seen.iter().filter(|s| s.src == FW2_SYNC).collect();
    assert_eq!(sent.len() + taken.len(), seen.len(), "ours or fw2's");
    // fw1's INS/UPD records carry the connections' addresses
    let client: Ipv4Addr = "192.0.2.10".parse().unwrap();
    let server_a: Ipv4Addr = "198.51.100.10".parse().unwrap();
    let conn_records = sent
        .iter()
        .flat_map(|s| inserted(s))
        .filter(|(a, p, proto)| {
            *proto == 6
                && a.contains(&server_a)
                && (a.contains(&client) || a.contains(&"198.51.100.1".parse().unwrap()))
                && (p.contains(&7000) || p.contains(&7001))
        })
        .count();
    assert!(
        conn_records >= 2 * CONNS,
        "every connection's states went out: {conn_records} records"
    );
    // fw2's INS of the ping to it came in, copied as received
    let fw2_ip: Ipv4Addr = "192.0.2.3".parse().unwrap();
    assert!(
        taken
            .iter()
            .flat_map(|s| inserted(s))
            .any(|(a, _, proto)| proto == 1 && a.contains(&client) && a.contains(&fw2_ip)),
        "fw2's ping state, as fw1 took it"
    );
    // the flush: one CLR of fw1's states, and no delete after it
    let clr_at = sent
        .iter()
        .position(|s| s.sections.iter().any(|x| matches!(x, Section::Clr(_))))
        .expect("a CLR");
    let clrs: Vec<_> = sent
        .iter()
        .flat_map(|s| &s.sections)
        .filter_map(|x| match x {
            Section::Clr(v) => Some(v.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(clrs.len(), 1, "one CLR: {clrs:?}");
    assert_eq!(clrs[0].creator, fw1_id);
    let deletes: usize = sent[clr_at..]
        .iter()
        .flat_map(|s| &s.sections)
        .map(|x| match x {
            Section::DelC(v) => v.len(),
            Section::Del(v) => v.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(deletes, 0, "no delete per state after the CLR");
    // the mirror's own count agrees with the capture
    let st = ifctl_json(&s1, &["-s", "pfsync"]);
    let m = &st["mirror"];
    assert_eq!(m["name"], "pfsync0", "{st}");
    assert!(m["sent"].as_u64().unwrap() >= sent.len() as u64, "{st}");
    assert!(m["taken"].as_u64().unwrap() >= taken.len() as u64, "{st}");
    assert_eq!(m["failed"], 0, "{st}");
    eprintln!(
        "pfsync0 capture: {} packets from fw1 ({conn_records} connection records), {} from fw2, 1 CLR",
        sent.len(),
        taken.len()
    );

    // tcpdump reads them as protocol 240; tshark, with pfd's Lua
    // dissector, as pfsync with the connections' addresses
    let td = Command::new("tcpdump")
        .args(["-n", "-r"])
        .arg(&pcap)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&td.stdout);
    assert!(
        text.lines().count() == seen.len() && text.lines().all(|l| l.contains("ip-proto-240")),
        "{text}"
    );
    let lua = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/wireshark/pfsync.lua");
    let ts = Command::new("tshark")
        .arg("-X")
        .arg(format!("lua_script:{}", lua.display()))
        .arg("-r")
        .arg(&pcap)
        .args(["-Y", "pfsync.action == 13 || pfsync.action == 0"])
        .args(["-T", "fields", "-E", "separator=|", "-E", "aggregator=,"])
        .args([
            "-e",
            "ip.src",
            "-e",
            "pfsync.action_name",
            "-e",
            "pfsync.addr",
        ])
        .args(["-e", "pfsync.creatorid"])
        .output()
        .unwrap();
    let fields = String::from_utf8_lossy(&ts.stdout);
    assert!(
        ts.status.success(),
        "{}",
        String::from_utf8_lossy(&ts.stderr)
    );
    assert!(
        fields.lines().any(|l| l.starts_with("203.0.113.2|")
            && l.contains("INS")
            && l.contains("192.0.2.10")
            && l.contains("198.51.100.10")),
        "tshark: fw1's INS with the connection's addresses\n{fields}"
    );
    assert!(
        fields
            .lines()
            .any(|l| l.starts_with("203.0.113.2|CLR|") && l.ends_with(&format!("0x{fw1_id:08x}"))),
        "tshark: the CLR with fw1's host id\n{fields}"
    );
    let _ = go.send(ha::Go::Stop);
}
