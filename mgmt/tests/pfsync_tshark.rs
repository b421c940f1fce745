//! pfd's Lua dissector for tshark (tools/wireshark/pfsync.lua), which
//! has none of its own for pfsync: packets built with the pfsync crate
//! (each section kind pfd sends, an IPv6 state, an authenticated
//! packet) written to a raw-IP pcap, as tcpdump writes pfsync0, and
//! read back field by field. Needs tshark; skipped with a message
//! otherwise, and failed when CI is set.

use pfsync::state::{pf_addr, IfName, StateKey, StateRecord, PF_OUT};
use pfsync::wire::bus::Bus;
use pfsync::wire::clr::Clr;
use pfsync::wire::upd_c::UpdC;
use pfsync::wire::{PacketRepr, Section};
use pfsync::StateId;
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

const CREATOR: u32 = 0x1a2b_3c4d;

fn have_tshark() -> bool {
    let found = Command::new("sh")
        .args(["-c", "command -v tshark"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        let msg = "SKIP pfsync_tshark: tshark is not installed";
        assert!(std::env::var_os("CI").is_none(), "{msg}, and CI is set");
        eprintln!("{msg}");
    }
    found
}

fn state(id: u64, a: &str, b: &str, ports: [u16; 2], af: u8) -> StateRecord {
    let ip = |s: &str| pf_addr(s.parse::<IpAddr>().unwrap());
    let key = StateKey {
        addr: [ip(a), ip(b)],
        port: ports,
        rdomain: 0,
        af,
    };
    StateRecord {
        id: StateId::new(id, CREATOR),
        ifname: IfName::new("veth0").unwrap(),
        keys: [key, key],
        af,
        proto: 6,
        direction: PF_OUT,
        timeout: 2,
        ..StateRecord::default()
    }
}

fn write_pcap(path: &Path, packets: &[Vec<u8>]) {
    let mut b = Vec::new();
    for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 101] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    for (i, p) in packets.iter().enumerate() {
        for v in [i as u32, 0, p.len() as u32, p.len() as u32] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(p);
    }
    std::fs::write(path, b).unwrap();
}

#[test]
fn tshark_reads_pfsync_with_pfds_lua_dissector() {
    if !have_tshark() {
        return;
    }
    let ip = |payload: &[u8]| {
        pfsync::wire::ip::encap(
            payload,
            "203.0.113.2".parse().unwrap(),
            pfsync::wire::ip::GROUP,
            1,
        )
    };
    let ins = PacketRepr {
        sections: vec![Section::Ins(vec![
            state(7, "198.51.100.10", "192.0.2.10", [7000, 40000], 2),
            state(8, "2001:db8::10", "2001:db8:1::5", [443, 50000], 24),
        ])],
    }
    .emit();
    let mut sealed = ins.clone();
    let key = pfsync::auth::AuthConfig::new(b"0123456789abcdef", 42).unwrap();
    pfsync::auth::Auth::new(&key, CREATOR).seal(&mut sealed);
    let mixed = PacketRepr {
        sections: vec![
            Section::UpdC(vec![UpdC {
                id: StateId::new(7, CREATOR),
                timeout: 2,
                ..UpdC::default()
            }]),
            Section::DelC(vec![StateId::new(9, CREATOR), StateId::new(10, CREATOR)]),
        ],
    }
    .emit();
    let clr = PacketRepr {
        sections: vec![Section::Clr(vec![Clr {
            ifname: IfName::default(),
            creator: CREATOR,
        }])],
    }
    .emit();
    let bus = PacketRepr {
        sections: vec![Section::Bus(vec![Bus {
            creator: CREATOR,
            endtime: 0,
            status: 2,
        }])],
    }
    .emit();
    let pcap = std::env::temp_dir().join(format!("pfd-tshark-{}.pcap", std::process::id()));
    write_pcap(
        &pcap,
        &[ip(&ins), ip(&sealed), ip(&mixed), ip(&clr), ip(&bus)],
    );

    let lua = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/wireshark/pfsync.lua");
    let o = Command::new("tshark")
        .arg("-X")
        .arg(format!("lua_script:{}", lua.display()))
        .arg("-r")
        .arg(&pcap)
        .args(["-T", "fields", "-E", "separator=|", "-E", "aggregator=,"])
        .args(["-e", "pfsync.action_name", "-e", "pfsync.count"])
        .args([
            "-e",
            "pfsync.addr",
            "-e",
            "pfsync.addr6",
            "-e",
            "pfsync.port",
        ])
        .args(["-e", "pfsync.id", "-e", "pfsync.creatorid"])
        .args(["-e", "pfsync.bus_status", "-e", "pfsync.pfd_auth.seq"])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&pcap);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    let c = "0x1a2b3c4d";
    let ins_line = format!(
        "INS|2|198.51.100.10,192.0.2.10,198.51.100.10,192.0.2.10|2001:db8::10,2001:db8:1::5,2001:db8::10,2001:db8:1::5|7000,40000,7000,40000,443,50000,443,50000|0x0000000000000007,0x0000000000000008|{c},{c}||"
    );
    assert_eq!(
        lines,
        [
            ins_line.clone(),
            format!("{ins_line}42"),
            format!("UPD_C,DEL_C|1,2||||0x0000000000000007,0x0000000000000009,0x000000000000000a|{c},{c},{c}||"),
            format!("CLR|1|||||{c}||"),
            format!("BUS|1|||||{c}|2|"),
        ],
        "{out}"
    );
}
