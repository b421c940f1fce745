//! Test packets and captures for driving `pfd replay`: Ethernet frames
//! with IPv4/IPv6 and TCP/UDP/ICMP, correct checksums, written to a pcap
//! file, and the verdict lines read back.
#![allow(dead_code)]

use dataplane::wire::checksum::{combine, finish, pseudo_v4, pseudo_v6, sum};
use serde_json::Value;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const FW_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0xfe];
pub const PEER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// An L4 header plus payload, before the IP header is known.
pub enum L4 {
    Tcp {
        sport: u16,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        win: u16,
        opts: Vec<u8>,
        data: Vec<u8>,
    },
    Udp {
        sport: u16,
        dport: u16,
        data: Vec<u8>,
    },
    /// ICMP (IPv4) or ICMPv6 message: type, code, the 4 bytes after the
    /// checksum, and the body.
    Icmp {
        ty: u8,
        code: u8,
        rest: [u8; 4],
        body: Vec<u8>,
    },
}

pub fn tcp(sport: u16, dport: u16, flags: u8, seq: u32, ack: u32, data_len: usize) -> L4 {
    L4::Tcp {
        sport,
        dport,
        seq,
        ack,
        flags,
        win: 65535,
        opts: Vec::new(),
        data: vec![0x61; data_len],
    }
}

pub fn udp(sport: u16, dport: u16, data_len: usize) -> L4 {
    L4::Udp {
        sport,
        dport,
        data: vec![0x75; data_len],
    }
}

pub fn echo(request: bool, v6: bool, id: u16, seq: u16) -> L4 {
    let ty = match (request, v6) {
        (true, false) => 8,
        (false, false) => 0,
        (true, true) => 128,
        (false, true) => 129,
    };
    let mut rest = [0; 4];
    rest[..2].copy_from_slice(&id.to_be_bytes());
    rest[2..].copy_from_slice(&seq.to_be_bytes());
    L4::Icmp {
        ty,
        code: 0,
        rest,
        body: vec![0x70; 16],
    }
}

/// An ICMP error quoting `ip` (an IP packet: a frame without its 14
/// Ethernet bytes).
pub fn icmp_error(ty: u8, code: u8, ip: &[u8], v6: bool) -> L4 {
    let keep = if v6 {
        ip.len().min(1232)
    } else {
        ip.len().min(28)
    };
    L4::Icmp {
        ty,
        code,
        rest: [0; 4],
        body: ip[..keep].to_vec(),
    }
}

fn proto_of(l4: &L4, v6: bool) -> u8 {
    match l4 {
        L4::Tcp { .. } => 6,
        L4::Udp { .. } => 17,
        L4::Icmp { .. } => {
            if v6 {
                58
            } else {
                1
            }
        }
    }
}

fn l4_bytes(l4: &L4, pseudo: impl Fn(u8, usize) -> u16, v6: bool) -> Vec<u8> {
    let mut b = Vec::new();
    let ck_at = match l4 {
        L4::Tcp {
            sport,
            dport,
            seq,
            ack,
            flags,
            win,
            opts,
            data,
        } => {
            b.extend_from_slice(&sport.to_be_bytes());
            b.extend_from_slice(&dport.to_be_bytes());
            b.extend_from_slice(&seq.to_be_bytes());
            b.extend_from_slice(&ack.to_be_bytes());
            let hl = 20 + opts.len();
            assert!(hl % 4 == 0);
            b.push(((hl / 4) as u8) << 4);
            b.push(*flags);
            b.extend_from_slice(&win.to_be_bytes());
            b.extend_from_slice(&[0, 0, 0, 0]);
            b.extend_from_slice(opts);
            b.extend_from_slice(data);
            16
        }
        L4::Udp { sport, dport, data } => {
            b.extend_from_slice(&sport.to_be_bytes());
            b.extend_from_slice(&dport.to_be_bytes());
            b.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
            b.extend_from_slice(&[0, 0]);
            b.extend_from_slice(data);
            6
        }
        L4::Icmp {
            ty,
            code,
            rest,
            body,
        } => {
            b.push(*ty);
            b.push(*code);
            b.extend_from_slice(&[0, 0]);
            b.extend_from_slice(rest);
            b.extend_from_slice(body);
            2
        }
    };
    let proto = proto_of(l4, v6);
    let ps = if proto == 1 {
        0
    } else {
        pseudo(proto, b.len())
    };
    let mut ck = finish(combine(&[ps, sum(&b)]));
    if proto == 17 && ck == 0 {
        ck = 0xffff;
    }
    b[ck_at..ck_at + 2].copy_from_slice(&ck.to_be_bytes());
    b
}

/// An IPv4 packet (no Ethernet) with `ttl` 64 and the given id.
pub fn ip4(src: &str, dst: &str, l4: &L4) -> Vec<u8> {
    ip4_with(src, dst, l4, 64, 1, &[])
}

pub fn ip4_with(src: &str, dst: &str, l4: &L4, ttl: u8, id: u16, opts: &[u8]) -> Vec<u8> {
    let s: std::net::Ipv4Addr = src.parse().unwrap();
    let d: std::net::Ipv4Addr = dst.parse().unwrap();
    let payload = l4_bytes(
        l4,
        |p, len| pseudo_v4(s.octets(), d.octets(), p, len as u16),
        false,
    );
    let hl = 20 + opts.len();
    let mut h = vec![0u8; hl];
    h[0] = 0x40 | (hl / 4) as u8;
    h[2..4].copy_from_slice(&((hl + payload.len()) as u16).to_be_bytes());
    h[4..6].copy_from_slice(&id.to_be_bytes());
    h[8] = ttl;
    h[9] = proto_of(l4, false);
    h[12..16].copy_from_slice(&s.octets());
    h[16..20].copy_from_slice(&d.octets());
    h[20..].copy_from_slice(opts);
    let ck = finish(sum(&h));
    h[10..12].copy_from_slice(&ck.to_be_bytes());
    h.extend_from_slice(&payload);
    h
}

pub fn ip6(src: &str, dst: &str, l4: &L4) -> Vec<u8> {
    let s: std::net::Ipv6Addr = src.parse().unwrap();
    let d: std::net::Ipv6Addr = dst.parse().unwrap();
    let payload = l4_bytes(
        l4,
        |p, len| pseudo_v6(s.octets(), d.octets(), p, len as u32),
        true,
    );
    let mut h = vec![0u8; 40];
    h[0] = 0x60;
    h[4..6].copy_from_slice(&(payload.len() as u16).to_be_bytes());
    h[6] = proto_of(l4, true);
    h[7] = 64;
    h[8..24].copy_from_slice(&s.octets());
    h[24..40].copy_from_slice(&d.octets());
    h.extend_from_slice(&payload);
    h
}

/// Split an IPv4 packet into fragments of at most `size` payload bytes
/// (a multiple of 8), in order.
pub fn fragment4(ip: &[u8], size: usize) -> Vec<Vec<u8>> {
    let hl = usize::from(ip[0] & 0x0f) * 4;
    let payload = &ip[hl..];
    let mut out = Vec::new();
    let mut off = 0;
    while off < payload.len() {
        let end = (off + size).min(payload.len());
        let mut h = ip[..hl].to_vec();
        h[2..4].copy_from_slice(&((hl + end - off) as u16).to_be_bytes());
        let mf = if end < payload.len() { 0x2000 } else { 0 };
        h[6..8].copy_from_slice(&((mf | (off / 8)) as u16).to_be_bytes());
        h[10..12].copy_from_slice(&[0, 0]);
        let ck = finish(sum(&h));
        h[10..12].copy_from_slice(&ck.to_be_bytes());
        h.extend_from_slice(&payload[off..end]);
        out.push(h);
        off = end;
    }
    out
}

/// An Ethernet frame around an IP packet; `inbound` frames go to the
/// firewall's MAC, outbound ones come from it.
pub fn eth(ip: &[u8], inbound: bool) -> Vec<u8> {
    let (dst, src) = if inbound {
        (FW_MAC, PEER_MAC)
    } else {
        (PEER_MAC, FW_MAC)
    };
    let mut f = Vec::with_capacity(14 + ip.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    let et: u16 = if ip[0] >> 4 == 6 { 0x86dd } else { 0x0800 };
    f.extend_from_slice(&et.to_be_bytes());
    f.extend_from_slice(ip);
    f
}

/// A capture being built: frames with timestamps in nanoseconds.
#[derive(Default)]
pub struct Capture {
    pub frames: Vec<(u64, Vec<u8>)>,
}

impl Capture {
    pub fn push(&mut self, ts_ns: u64, frame: Vec<u8>) -> usize {
        self.frames.push((ts_ns, frame));
        self.frames.len()
    }

    /// Classic pcap, microsecond timestamps, Ethernet.
    pub fn write(&self, path: &Path) {
        let mut b = Vec::new();
        b.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&4u16.to_le_bytes());
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&65535u32.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        for (ts, f) in &self.frames {
            b.extend_from_slice(&((ts / 1_000_000_000) as u32).to_le_bytes());
            b.extend_from_slice(&(((ts % 1_000_000_000) / 1000) as u32).to_le_bytes());
            b.extend_from_slice(&(f.len() as u32).to_le_bytes());
            b.extend_from_slice(&(f.len() as u32).to_le_bytes());
            b.extend_from_slice(f);
        }
        std::fs::write(path, b).unwrap();
    }
}

/// Read a classic little-endian microsecond pcap back: (ts_ns, frame).
pub fn read_pcap(path: &Path) -> (u32, Vec<(u64, Vec<u8>)>) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..4], &0xa1b2_c3d4u32.to_le_bytes(), "pcap magic");
    let link = u32::from_le_bytes(b[20..24].try_into().unwrap());
    let mut out = Vec::new();
    let mut off = 24;
    while off + 16 <= b.len() {
        let sec = u32::from_le_bytes(b[off..off + 4].try_into().unwrap()) as u64;
        let usec = u32::from_le_bytes(b[off + 4..off + 8].try_into().unwrap()) as u64;
        let cap = u32::from_le_bytes(b[off + 8..off + 12].try_into().unwrap()) as usize;
        out.push((
            sec * 1_000_000_000 + usec * 1000,
            b[off + 16..off + 16 + cap].to_vec(),
        ));
        off += 16 + cap;
    }
    (link, out)
}

/// A scratch directory removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("pfd-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }

    pub fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The result of one replay.
pub struct Replay {
    pub verdicts: Vec<Value>,
    /// `--summary`: rule, state and reason counters.
    pub summary: Value,
    /// `--pflog`: (header, IP packet) of each logged packet.
    pub pflog: Vec<(dataplane::pflog::PflogRecord, Vec<u8>)>,
    pub passed: Vec<(u64, Vec<u8>)>,
    pub replies: Vec<(u64, Vec<u8>)>,
    pub stderr: String,
    pub dir: Scratch,
}

impl Replay {
    /// The verdict of packet `index` (from 1).
    pub fn v(&self, index: usize) -> &Value {
        &self.verdicts[index - 1]
    }

    pub fn action(&self, index: usize) -> &str {
        self.v(index)["action"].as_str().unwrap()
    }

    pub fn state(&self, index: usize) -> &str {
        self.v(index)["state"].as_str().unwrap()
    }

    pub fn rule(&self, index: usize) -> Option<u64> {
        self.v(index)["rule"].as_u64()
    }

    pub fn reason(&self, index: usize) -> Option<&str> {
        self.v(index)["reason"].as_str()
    }

    /// Actions of every packet, for compact assertions.
    pub fn actions(&self) -> Vec<String> {
        self.verdicts
            .iter()
            .map(|v| {
                format!(
                    "{}/{}",
                    v["action"].as_str().unwrap(),
                    v["state"].as_str().unwrap()
                )
            })
            .collect()
    }
}

/// Run `pfd replay` with `rules` over `cap` on interface `ifname`;
/// packets to [`FW_MAC`] are inbound. Panics if pfd fails.
pub fn replay(name: &str, rules: &str, cap: &Capture, extra: &[&str]) -> Replay {
    let r = try_replay(name, rules, cap, extra);
    match r {
        Ok(r) => r,
        Err(e) => panic!("pfd replay failed:\n{e}"),
    }
}

pub fn try_replay(
    name: &str,
    rules: &str,
    cap: &Capture,
    extra: &[&str],
) -> Result<Replay, String> {
    let dir = Scratch::new(name);
    let pcap = dir.path("in.pcap");
    cap.write(&pcap);
    let mac = ["--mac", "02:00:00:00:00:fe"];
    replay_file(dir, rules, &pcap, &mac, extra)
}

/// Run `pfd replay` over a capture file (a committed fixture), with
/// `dir_args` saying which packets are inbound.
pub fn replay_pcap(name: &str, rules: &str, pcap: &Path, dir_args: &[&str]) -> Replay {
    match replay_file(Scratch::new(name), rules, pcap, dir_args, &[]) {
        Ok(r) => r,
        Err(e) => panic!("pfd replay failed:\n{e}"),
    }
}

fn replay_file(
    dir: Scratch,
    rules: &str,
    pcap: &Path,
    dir_args: &[&str],
    extra: &[&str],
) -> Result<Replay, String> {
    let conf = dir.path("pf.conf");
    std::fs::write(&conf, rules).unwrap();
    let out = dir.path("out.pcap");
    let replies = dir.path("replies.pcap");
    let verdicts = dir.path("verdicts.jsonl");
    let summary = dir.path("summary.json");
    let pflog = dir.path("pflog.pcap");
    let o = Command::new(env!("CARGO_BIN_EXE_pfd"))
        .args(["replay", "--rules"])
        .arg(&conf)
        .arg("--pcap")
        .arg(pcap)
        .args(["--if", "em0"])
        .args(dir_args)
        .arg("--out")
        .arg(&out)
        .arg("--replies")
        .arg(&replies)
        .arg("--verdicts")
        .arg(&verdicts)
        .arg("--summary")
        .arg(&summary)
        .arg("--pflog")
        .arg(&pflog)
        .args(extra)
        .env("PFD_HOST_PROFILE", "openbsd-regress")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    if !o.status.success() {
        return Err(stderr);
    }
    let text = std::fs::read_to_string(&verdicts).unwrap();
    let verdicts = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (link, logged) = read_pcap(&pflog);
    assert_eq!(link, 117, "pflog link type");
    let pflog = logged
        .into_iter()
        .map(|(_, b)| {
            let rec = dataplane::pflog::PflogRecord::parse(&b).unwrap();
            (rec, b[dataplane::pflog::PFLOG_HDRLEN..].to_vec())
        })
        .collect();
    let summary = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    Ok(Replay {
        verdicts,
        summary,
        pflog,
        passed: read_pcap(&out).1,
        replies: read_pcap(&replies).1,
        stderr,
        dir,
    })
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Whether an Ethernet frame's IPv4/IPv6 header and TCP/UDP/ICMP
/// checksums verify from scratch.
pub fn checksums_ok(frame: &[u8]) -> bool {
    let ip = &frame[14..];
    let v6 = ip[0] >> 4 == 6;
    let (hl, proto, total) = if v6 {
        (
            40,
            ip[6],
            40 + usize::from(u16::from_be_bytes([ip[4], ip[5]])),
        )
    } else {
        let hl = usize::from(ip[0] & 0xf) * 4;
        if sum(&ip[..hl]) != 0xffff {
            return false;
        }
        (hl, ip[9], usize::from(u16::from_be_bytes([ip[2], ip[3]])))
    };
    let l4 = &ip[hl..total];
    let ps = if v6 {
        pseudo_v6(
            ip[8..24].try_into().unwrap(),
            ip[24..40].try_into().unwrap(),
            proto,
            l4.len() as u32,
        )
    } else if proto == 1 {
        0
    } else {
        pseudo_v4(
            ip[12..16].try_into().unwrap(),
            ip[16..20].try_into().unwrap(),
            proto,
            l4.len() as u16,
        )
    };
    if proto == 17 && !v6 && l4[6..8] == [0, 0] {
        return true;
    }
    combine(&[ps, sum(l4)]) == 0xffff
}

/// Source and destination address and port of a TCP/UDP frame (ICMP:
/// the id as both ports).
pub fn endpoints(frame: &[u8]) -> (IpAddr, u16, IpAddr, u16) {
    let ip = &frame[14..];
    let (src, dst, hl, proto): (IpAddr, IpAddr, usize, u8) = if ip[0] >> 4 == 6 {
        let s: [u8; 16] = ip[8..24].try_into().unwrap();
        let d: [u8; 16] = ip[24..40].try_into().unwrap();
        (s.into(), d.into(), 40, ip[6])
    } else {
        let s: [u8; 4] = ip[12..16].try_into().unwrap();
        let d: [u8; 4] = ip[16..20].try_into().unwrap();
        (s.into(), d.into(), usize::from(ip[0] & 0xf) * 4, ip[9])
    };
    let l4 = &ip[hl..];
    let (sp, dp) = if proto == 1 || proto == 58 {
        let id = u16::from_be_bytes([l4[4], l4[5]]);
        (id, id)
    } else {
        (
            u16::from_be_bytes([l4[0], l4[1]]),
            u16::from_be_bytes([l4[2], l4[3]]),
        )
    };
    (src, sp, dst, dp)
}

impl Replay {
    /// The frame packet `index` left with, if it passed.
    pub fn out_frame(&self, index: usize) -> Option<&[u8]> {
        if self.action(index) != "pass" {
            return None;
        }
        Some(&self.passed[self.out_before(index)].1)
    }

    /// The frames the firewall sent because of packet `index`, toward
    /// `to` ("sender" or "onward"), in order.
    pub fn emitted(&self, index: usize, to: &str) -> Vec<&[u8]> {
        let (list, start) = if to == "onward" {
            (&self.passed, self.out_before(index) + self.own_out(index))
        } else {
            let before: usize = (1..index).map(|i| self.emit_count(i, "sender")).sum();
            (&self.replies, before)
        };
        let n = self.emit_count(index, to);
        list[start..start + n]
            .iter()
            .map(|(_, f)| f.as_slice())
            .collect()
    }

    fn emit_count(&self, index: usize, to: &str) -> usize {
        self.v(index)["emit"]
            .as_array()
            .map_or(0, |a| a.iter().filter(|e| e.as_str() == Some(to)).count())
    }

    /// The frames packet `index` left as: itself, or the fragments pf
    /// cut a reassembled IPv6 packet back into.
    pub fn out_frames(&self, index: usize) -> Vec<&[u8]> {
        let start = self.out_before(index);
        self.passed[start..start + self.own_out(index)]
            .iter()
            .map(|(_, f)| f.as_slice())
            .collect()
    }

    /// How many frames packet `index` itself put in --out.
    fn own_out(&self, index: usize) -> usize {
        if self.action(index) != "pass" {
            return 0;
        }
        self.v(index)["fragments"]
            .as_u64()
            .map_or(1, |n| n as usize)
    }

    /// How many frames --out holds before packet `index`'s own.
    fn out_before(&self, index: usize) -> usize {
        (1..index)
            .map(|i| self.own_out(i) + self.emit_count(i, "onward"))
            .sum()
    }
}

/// Split an IPv6 packet (no extension headers) into fragments of at most
/// `size` payload bytes (a multiple of 8), with a fragment header.
pub fn fragment6(ip: &[u8], size: usize, id: u32) -> Vec<Vec<u8>> {
    let next = ip[6];
    let payload = &ip[40..];
    let mut out = Vec::new();
    let mut off = 0;
    while off < payload.len() {
        let end = (off + size).min(payload.len());
        let mut h = ip[..40].to_vec();
        h[6] = 44;
        h[4..6].copy_from_slice(&((8 + end - off) as u16).to_be_bytes());
        let m = u16::from(end < payload.len());
        h.push(next);
        h.push(0);
        h.extend_from_slice(&(((off / 8) as u16) << 3 | m).to_be_bytes());
        h.extend_from_slice(&id.to_be_bytes());
        h.extend_from_slice(&payload[off..end]);
        out.push(h);
        off = end;
    }
    out
}
