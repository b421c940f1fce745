//! The malformed-traffic corpus (tests/malformed, issue 8) through `pfd
//! replay`: every packet's verdict and drop reason, and each capture's
//! final drop-reason counters, as the manifest says pf gives them. The
//! captures and the manifest are committed; scapy (gen.py) is not needed
//! here. A case whose `known_difference` says what pfd does instead is
//! held to that, so that fixing it (or breaking it further) shows here.

mod support;

use serde_json::{Map, Value};
use std::path::PathBuf;
use support::replay_pcap;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/malformed")
}

fn manifest() -> Value {
    let path = corpus().join("cases.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).expect("cases.json is JSON")
}

/// What pfd is expected to print for a packet: pf's verdict, or the
/// known difference.
fn expected(p: &Value) -> (&str, Option<&str>) {
    let e = p.get("known_difference").unwrap_or(p);
    (e["verdict"].as_str().unwrap(), e["reason"].as_str())
}

fn records(pcap: &std::path::Path) -> usize {
    support::read_pcap(pcap).1.len()
}

/// The manifest agrees with itself and with the captures: one entry per
/// frame, numbered in order, counters that add up, every case named once.
#[test]
fn manifest_matches_the_captures() {
    let m = manifest();
    let groups = m["groups"].as_array().unwrap();
    assert!(groups.len() >= 10, "every group of issue 8");
    let mut names = std::collections::HashSet::new();
    for g in groups {
        let name = g["name"].as_str().unwrap();
        let packets = g["packets"].as_array().unwrap();
        let pcap = corpus().join(g["pcap"].as_str().unwrap());
        assert_eq!(records(&pcap), packets.len(), "{name}: frames in {pcap:?}");
        let mut reasons = Map::new();
        let (mut pass, mut block, mut held) = (0u64, 0u64, 0u64);
        for (i, p) in packets.iter().enumerate() {
            assert_eq!(p["index"].as_u64(), Some(i as u64 + 1), "{name}");
            let case = p["case"].as_str().unwrap();
            assert!(
                names.insert(format!("{name}/{case}")),
                "{name}/{case} twice"
            );
            assert!(
                !p["why"].as_str().unwrap_or("").is_empty(),
                "{name}/{case}: no why"
            );
            let (v, r) = expected(p);
            match v {
                "pass" => pass += 1,
                "block" => block += 1,
                "held" => held += 1,
                other => panic!("{name}/{case}: verdict {other}"),
            }
            if let Some(r) = r {
                let n = reasons.entry(r).or_insert(Value::from(0u64));
                *n = Value::from(n.as_u64().unwrap() + 1);
            }
        }
        let c = &g["counters"];
        assert_eq!(c["pass"].as_u64(), Some(pass), "{name}");
        assert_eq!(c["block"].as_u64(), Some(block), "{name}");
        assert_eq!(c["held"].as_u64(), Some(held), "{name}");
        assert_eq!(c["reasons"], Value::Object(reasons), "{name}");
    }
}

/// Each capture replayed with the corpus ruleset: pfd survives it, and
/// every verdict line and the final reason counters are the manifest's.
#[test]
fn every_packet_gets_pfs_verdict_and_reason() {
    let m = manifest();
    let rules = m["rules"].as_str().unwrap();
    let mac = m["fw_mac"].as_str().unwrap();
    let mut wrong = Vec::new();
    for g in m["groups"].as_array().unwrap() {
        let name = g["name"].as_str().unwrap();
        let pcap = corpus().join(g["pcap"].as_str().unwrap());
        let r = replay_pcap(&format!("malformed-{name}"), rules, &pcap, &["--mac", mac]);
        let packets = g["packets"].as_array().unwrap();
        assert_eq!(r.verdicts.len(), packets.len(), "{name}: {}", r.stderr);
        for (p, v) in packets.iter().zip(&r.verdicts) {
            let case = p["case"].as_str().unwrap();
            let (want, want_reason) = expected(p);
            let dir = if p["side"] == "client" { "in" } else { "out" };
            let got = (
                v["action"].as_str().unwrap_or("?"),
                v["reason"].as_str(),
                v["dir"].as_str().unwrap_or("?"),
            );
            if got != (want, want_reason, dir) {
                wrong.push(format!(
                    "{name}/{case} (#{}): want {want} {want_reason:?} {dir}, got {got:?}",
                    p["index"]
                ));
            }
            if let Some(state) = p["state"].as_str() {
                if v["state"].as_str() != Some(state) {
                    wrong.push(format!(
                        "{name}/{case}: want state {state}, got {}",
                        v["state"]
                    ));
                }
            }
        }
        let c = &g["counters"];
        let s = &r.summary;
        for (k, sk) in [("pass", "passed"), ("block", "blocked"), ("held", "held")] {
            if s[sk] != c[k] {
                wrong.push(format!("{name}: {sk} {} != {}", s[sk], c[k]));
            }
        }
        if s["reasons"] != c["reasons"] {
            wrong.push(format!(
                "{name}: reasons {} != {}",
                s["reasons"], c["reasons"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// What pf repairs rather than drops leaves repaired: the SYN|FIN goes on
/// as a plain SYN, the reserved bits and the stray urgent pointer are
/// cleared, and the checksums still verify.
#[test]
fn normalised_segments_leave_repaired() {
    let m = manifest();
    let g = m["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "tcpflags")
        .expect("tcpflags group");
    let at = |case: &str| {
        g["packets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["case"] == case)
            .and_then(|p| p["index"].as_u64())
            .unwrap_or_else(|| panic!("no case {case}")) as usize
    };
    let pcap = corpus().join("tcpflags.pcap");
    let r = replay_pcap(
        "malformed-tcpflags-out",
        m["rules"].as_str().unwrap(),
        &pcap,
        &["--mac", m["fw_mac"].as_str().unwrap()],
    );
    let syn_fin = r.out_frame(at("syn-fin")).expect("SYN|FIN passed");
    assert_eq!(syn_fin[14 + 20 + 13], 0x02, "FIN cleared");
    assert!(support::checksums_ok(syn_fin));
    let x2 = r.out_frame(at("syn-reserved-urp")).expect("passed");
    assert_eq!(x2[14 + 20 + 12] & 0x0f, 0, "reserved bits cleared");
    assert_eq!(&x2[14 + 20 + 18..14 + 20 + 20], &[0, 0], "urgent pointer");
    assert!(support::checksums_ok(x2));
}
