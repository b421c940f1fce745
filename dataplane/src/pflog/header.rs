//! `struct pfloghdr` (OpenBSD `sys/net/if_pflog.h`): 100 bytes in front
//! of every logged IP packet.
//!
//! Layout and byte order, as `pflog_packet()` fills it:
//!
//! | off | size | field | order |
//! |----:|----:|---|---|
//! | 0 | 1 | length (= 100) | |
//! | 1 | 1 | af (AF_INET 2, AF_INET6 24) | |
//! | 2 | 1 | action (`PF_*`) | |
//! | 3 | 1 | reason (`PFRES_*`) | |
//! | 4 | 16 | ifname, NUL-padded | |
//! | 20 | 16 | ruleset (anchor name), NUL-padded | |
//! | 36 | 4 | rulenr | network |
//! | 40 | 4 | subrulenr (-1 outside anchors) | network |
//! | 44 | 4 | uid | host |
//! | 48 | 4 | pid | host |
//! | 52 | 4 | rule_uid | host |
//! | 56 | 4 | rule_pid | host |
//! | 60 | 1 | dir (in 1, out 2) | |
//! | 61 | 1 | rewritten | |
//! | 62 | 1 | naf | |
//! | 63 | 1 | pad | |
//! | 64 | 16 | saddr (`struct pf_addr`: IPv4 in the first 4 bytes) | network |
//! | 80 | 16 | daddr | network |
//! | 96 | 2 | sport | network |
//! | 98 | 2 | dport | network |
//!
//! "Host" order is the logging machine's; pfd writes little-endian, as
//! an amd64 or arm64 OpenBSD does.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ruleset::addr::Af;

use super::{PfAction, PflogError};
use crate::pdesc::Dir;
use crate::reason::Reason;

/// `PFLOG_HDRLEN` (= `PFLOG_REAL_HDRLEN`): the header's size, and the
/// value of its length byte.
pub const PFLOG_HDRLEN: usize = 100;

/// `uid` when no socket lookup was done (OpenBSD's `UID_MAX`).
pub const UID_NONE: u32 = u32::MAX;
/// `pid` when no socket lookup was done (OpenBSD's `NO_PID`,
/// `PID_MAX + 1`).
pub const NO_PID: i32 = 100_000;

const IFNAMSIZ: usize = 16;
const RULESET_NAME_SIZE: usize = 16;

// OpenBSD's address family numbers, which is what the header carries
// whatever the host writing it.
const BSD_AF_INET: u8 = 2;
const BSD_AF_INET6: u8 = 24;
const PF_IN: u8 = 1;
const PF_OUT: u8 = 2;

/// One pflog header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PflogRecord {
    /// Family of the logged packet.
    pub af: Af,
    /// The deciding rule's action.
    pub action: PfAction,
    pub reason: Reason,
    /// The interface the packet was seen on (at most 15 bytes).
    pub ifname: String,
    /// The anchor's name when the rule is in an anchor, else empty. pf
    /// truncates it to 15 bytes, and so does [`Self::emit`].
    pub ruleset: String,
    /// pf's rule number (of the anchor rule when in an anchor), or
    /// `u32::MAX` (-1) for the default rule.
    pub rulenr: u32,
    /// The rule's number inside its anchor, or `u32::MAX` (-1) outside
    /// anchors.
    pub subrulenr: u32,
    /// Socket owner, [`UID_NONE`] when not looked up.
    pub uid: u32,
    /// Socket owner's process, [`NO_PID`] when not looked up.
    pub pid: i32,
    /// Who loaded the rule (uid and pid of the loading process).
    pub rule_uid: u32,
    pub rule_pid: i32,
    pub dir: Dir,
    /// Whether translation rewrote the logged packet; then
    /// `saddr`/`daddr`/`sport`/`dport` are the addresses *before*
    /// translation (family `af`). Otherwise they are the packet's
    /// addresses after translation (family `naf`), as `pflog_packet()`
    /// copies `pd->nsaddr`.
    pub rewritten: bool,
    /// Family after translation (differs from `af` for `af-to`).
    pub naf: Af,
    pub saddr: IpAddr,
    pub daddr: IpAddr,
    pub sport: u16,
    pub dport: u16,
}

fn af_code(af: Af) -> u8 {
    match af {
        Af::Inet => BSD_AF_INET,
        Af::Inet6 => BSD_AF_INET6,
    }
}

fn af_from(c: u8) -> Result<Af, PflogError> {
    match c {
        BSD_AF_INET => Ok(Af::Inet),
        BSD_AF_INET6 => Ok(Af::Inet6),
        other => Err(PflogError::BadAf(other)),
    }
}

fn u32_at(b: &[u8; PFLOG_HDRLEN], i: usize) -> [u8; 4] {
    [b[i], b[i + 1], b[i + 2], b[i + 3]]
}

fn name_from(field: &[u8]) -> Result<String, PflogError> {
    let end = field.iter().position(|&c| c == 0).unwrap_or(field.len());
    let s = field.get(..end).unwrap_or_default();
    String::from_utf8(s.to_vec()).map_err(|_| PflogError::BadName)
}

/// The longest prefix of `s` of at most `max` bytes that ends on a
/// character boundary (strlcpy's cut, kept valid UTF-8).
fn truncate_utf8(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn addr_bytes(a: IpAddr, af: Af) -> Result<[u8; 16], PflogError> {
    let mut out = [0u8; 16];
    match (a, af) {
        (IpAddr::V4(v4), Af::Inet) => out[..4].copy_from_slice(&v4.octets()),
        (IpAddr::V6(v6), Af::Inet6) => out = v6.octets(),
        _ => return Err(PflogError::AddrFamily),
    }
    Ok(out)
}

fn addr_from(b: &[u8; 16], af: Af) -> IpAddr {
    match af {
        Af::Inet => IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])),
        Af::Inet6 => IpAddr::V6(Ipv6Addr::from(*b)),
    }
}

impl PflogRecord {
    /// The header's length in bytes.
    pub fn buffer_len(&self) -> usize {
        PFLOG_HDRLEN
    }

    /// Family of `saddr`/`daddr`: see [`Self::rewritten`].
    pub fn addr_af(&self) -> Af {
        if self.rewritten {
            self.af
        } else {
            self.naf
        }
    }

    /// Write the header into the first [`PFLOG_HDRLEN`] bytes of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), PflogError> {
        let got = buf.len();
        let b: &mut [u8; PFLOG_HDRLEN] = buf
            .get_mut(..PFLOG_HDRLEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(PflogError::BufferTooSmall {
                need: PFLOG_HDRLEN,
                got,
            })?;
        if self.ifname.len() >= IFNAMSIZ {
            return Err(PflogError::IfnameTooLong(self.ifname.len()));
        }
        let addr_af = self.addr_af();
        let saddr = addr_bytes(self.saddr, addr_af)?;
        let daddr = addr_bytes(self.daddr, addr_af)?;

        b.fill(0);
        // PFLOG_HDRLEN is 100: it fits the length byte.
        b[0] = PFLOG_HDRLEN as u8;
        b[1] = af_code(self.af);
        b[2] = self.action.code();
        b[3] = self.reason.code();
        b[4..4 + self.ifname.len()].copy_from_slice(self.ifname.as_bytes());
        let rs = truncate_utf8(&self.ruleset, RULESET_NAME_SIZE - 1);
        b[20..20 + rs.len()].copy_from_slice(rs.as_bytes());
        b[36..40].copy_from_slice(&self.rulenr.to_be_bytes());
        b[40..44].copy_from_slice(&self.subrulenr.to_be_bytes());
        b[44..48].copy_from_slice(&self.uid.to_le_bytes());
        b[48..52].copy_from_slice(&self.pid.to_le_bytes());
        b[52..56].copy_from_slice(&self.rule_uid.to_le_bytes());
        b[56..60].copy_from_slice(&self.rule_pid.to_le_bytes());
        b[60] = match self.dir {
            Dir::In => PF_IN,
            Dir::Out => PF_OUT,
        };
        b[61] = u8::from(self.rewritten);
        b[62] = af_code(self.naf);
        b[64..80].copy_from_slice(&saddr);
        b[80..96].copy_from_slice(&daddr);
        b[96..98].copy_from_slice(&self.sport.to_be_bytes());
        b[98..100].copy_from_slice(&self.dport.to_be_bytes());
        Ok(())
    }

    /// Read the header at the start of `buf`; the logged packet follows
    /// at `buf[PFLOG_HDRLEN..]`.
    pub fn parse(buf: &[u8]) -> Result<PflogRecord, PflogError> {
        let b: &[u8; PFLOG_HDRLEN] = buf
            .get(..PFLOG_HDRLEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(PflogError::Short { len: buf.len() })?;
        if usize::from(b[0]) != PFLOG_HDRLEN {
            return Err(PflogError::BadLength(b[0]));
        }
        let af = af_from(b[1])?;
        let action = PfAction::from_code(b[2]).ok_or(PflogError::BadAction(b[2]))?;
        let reason = Reason::ALL
            .get(usize::from(b[3]))
            .copied()
            .ok_or(PflogError::BadReason(b[3]))?;
        let ifname = name_from(&b[4..20])?;
        let ruleset = name_from(&b[20..36])?;
        let dir = match b[60] {
            PF_IN => Dir::In,
            PF_OUT => Dir::Out,
            d => return Err(PflogError::BadDir(d)),
        };
        let rewritten = b[61] != 0;
        let naf = af_from(b[62])?;
        let addr_af = if rewritten { af } else { naf };
        let mut sa = [0u8; 16];
        sa.copy_from_slice(&b[64..80]);
        let mut da = [0u8; 16];
        da.copy_from_slice(&b[80..96]);
        Ok(PflogRecord {
            af,
            action,
            reason,
            ifname,
            ruleset,
            rulenr: u32::from_be_bytes(u32_at(b, 36)),
            subrulenr: u32::from_be_bytes(u32_at(b, 40)),
            uid: u32::from_le_bytes(u32_at(b, 44)),
            pid: i32::from_le_bytes(u32_at(b, 48)),
            rule_uid: u32::from_le_bytes(u32_at(b, 52)),
            rule_pid: i32::from_le_bytes(u32_at(b, 56)),
            dir,
            rewritten,
            naf,
            saddr: addr_from(&sa, addr_af),
            daddr: addr_from(&da, addr_af),
            sport: u16::from_be_bytes([b[96], b[97]]),
            dport: u16::from_be_bytes([b[98], b[99]]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> PflogRecord {
        PflogRecord {
            af: Af::Inet,
            action: PfAction::Drop,
            reason: Reason::Match,
            ifname: "em0".into(),
            ruleset: String::new(),
            rulenr: 3,
            subrulenr: u32::MAX,
            uid: UID_NONE,
            pid: NO_PID,
            rule_uid: 0,
            rule_pid: 4242,
            dir: Dir::In,
            rewritten: false,
            naf: Af::Inet,
            saddr: "10.0.0.1".parse().unwrap(),
            daddr: "192.0.2.10".parse().unwrap(),
            sport: 40000,
            dport: 22,
        }
    }

    #[test]
    fn golden_bytes() {
        let mut b = [0xaau8; PFLOG_HDRLEN];
        sample().emit(&mut b).unwrap();
        let mut want = [0u8; PFLOG_HDRLEN];
        want[..4].copy_from_slice(&[100, 2, 1, 0]);
        want[4..7].copy_from_slice(b"em0");
        want[36..40].copy_from_slice(&[0, 0, 0, 3]);
        want[40..44].copy_from_slice(&[0xff; 4]);
        want[44..48].copy_from_slice(&[0xff; 4]);
        want[48..52].copy_from_slice(&[0xa0, 0x86, 0x01, 0x00]);
        want[56..60].copy_from_slice(&[0x92, 0x10, 0, 0]);
        want[60..64].copy_from_slice(&[1, 0, 2, 0]);
        want[64..68].copy_from_slice(&[10, 0, 0, 1]);
        want[80..84].copy_from_slice(&[192, 0, 2, 10]);
        want[96..100].copy_from_slice(&[0x9c, 0x40, 0, 22]);
        assert_eq!(b, want);
        assert_eq!(PflogRecord::parse(&b).unwrap(), sample());
    }

    #[test]
    fn rewritten_addresses_take_the_original_family() {
        // af-to from IPv6 to IPv4: the packet logged is IPv4 after
        // translation, the header keeps the IPv6 originals.
        let mut r = sample();
        r.af = Af::Inet6;
        r.naf = Af::Inet;
        r.rewritten = true;
        r.saddr = "2001:db8::1".parse().unwrap();
        r.daddr = "64:ff9b::c000:20a".parse().unwrap();
        let mut b = [0u8; PFLOG_HDRLEN];
        r.emit(&mut b).unwrap();
        assert_eq!((b[1], b[61], b[62]), (24, 1, 2));
        assert_eq!(PflogRecord::parse(&b).unwrap(), r);

        r.rewritten = false;
        assert_eq!(r.emit(&mut b), Err(PflogError::AddrFamily));
    }

    #[test]
    fn errors() {
        let mut b = [0u8; PFLOG_HDRLEN];
        assert_eq!(
            sample().emit(&mut b[..99]),
            Err(PflogError::BufferTooSmall { need: 100, got: 99 })
        );
        let mut r = sample();
        r.ifname = "a-very-long-ifname".into();
        assert_eq!(r.emit(&mut b), Err(PflogError::IfnameTooLong(18)));

        sample().emit(&mut b).unwrap();
        assert_eq!(
            PflogRecord::parse(&b[..50]),
            Err(PflogError::Short { len: 50 })
        );
        let bad = |i: usize, v: u8| {
            let mut c = b;
            c[i] = v;
            PflogRecord::parse(&c)
        };
        assert_eq!(bad(0, 61), Err(PflogError::BadLength(61)));
        assert_eq!(bad(1, 28), Err(PflogError::BadAf(28)));
        assert_eq!(bad(2, 16), Err(PflogError::BadAction(16)));
        assert_eq!(bad(3, 17), Err(PflogError::BadReason(17)));
        assert_eq!(bad(60, 0), Err(PflogError::BadDir(0)));
        assert_eq!(bad(62, 0), Err(PflogError::BadAf(0)));
        assert_eq!(bad(4, 0xff), Err(PflogError::BadName));
    }

    #[test]
    fn ruleset_is_cut_like_strlcpy() {
        let mut r = sample();
        r.ruleset = "anchor-name-longer-than-15".into();
        r.subrulenr = 7;
        let mut b = [0u8; PFLOG_HDRLEN];
        r.emit(&mut b).unwrap();
        assert_eq!(PflogRecord::parse(&b).unwrap().ruleset, "anchor-name-lon");
        assert_eq!(b[35], 0);
    }

    proptest! {
        #[test]
        fn parse_emit_round_trip(
            af6 in any::<bool>(), naf6 in any::<bool>(), rewritten in any::<bool>(),
            action in 0u8..16, reason in 0usize..Reason::COUNT,
            ifname in "[a-z]{1,8}[0-9]{1,3}", ruleset in "[a-z/_]{0,15}",
            rulenr in any::<u32>(), subrulenr in any::<u32>(),
            uid in any::<u32>(), pid in any::<i32>(),
            rule_uid in any::<u32>(), rule_pid in any::<i32>(),
            out in any::<bool>(), sport in any::<u16>(), dport in any::<u16>(),
            seed in any::<[u8; 32]>(),
        ) {
            let af = if af6 { Af::Inet6 } else { Af::Inet };
            let naf = if naf6 { Af::Inet6 } else { Af::Inet };
            let addr_af = if rewritten { af } else { naf };
            let (saddr, daddr) = match addr_af {
                Af::Inet => (
                    IpAddr::from([seed[0], seed[1], seed[2], seed[3]]),
                    IpAddr::from([seed[4], seed[5], seed[6], seed[7]]),
                ),
                Af::Inet6 => (
                    IpAddr::from(<[u8; 16]>::try_from(&seed[..16]).unwrap()),
                    IpAddr::from(<[u8; 16]>::try_from(&seed[16..]).unwrap()),
                ),
            };
            let r = PflogRecord {
                af, naf, rewritten,
                action: PfAction::from_code(action).unwrap(),
                reason: Reason::ALL[reason],
                ifname, ruleset, rulenr, subrulenr, uid, pid, rule_uid, rule_pid,
                dir: if out { Dir::Out } else { Dir::In },
                saddr, daddr, sport, dport,
            };
            let mut b = [0u8; PFLOG_HDRLEN];
            r.emit(&mut b).unwrap();
            prop_assert_eq!(PflogRecord::parse(&b).unwrap(), r);
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..140)) {
            let _ = PflogRecord::parse(&bytes);
        }
    }
}
