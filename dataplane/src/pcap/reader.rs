//! Reading classic pcap files in either byte order, with microsecond or
//! nanosecond timestamps.

use std::io::{self, Read};

use super::{PcapError, GLOBAL_HDR_LEN, MAGIC_NSEC, MAGIC_USEC, MAX_RECORD_LEN, RECORD_HDR_LEN};

/// One captured packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Capture time, nanoseconds since the Unix epoch.
    pub ts_ns: u64,
    /// Length of the packet on the wire (`data` may be shorter).
    pub orig_len: u32,
    /// The captured bytes.
    pub data: Vec<u8>,
}

/// A pcap file being read record by record.
#[derive(Debug)]
pub struct PcapReader<R: Read> {
    inner: R,
    big_endian: bool,
    nanosecond: bool,
    snaplen: u32,
    link_type: u32,
}

/// Fill `buf` from `r`; returns how many bytes were read before EOF.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        let rest = buf.get_mut(got..).unwrap_or_default();
        match r.read(rest) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

impl<R: Read> PcapReader<R> {
    /// Read and check the global header.
    pub fn new(mut inner: R) -> Result<Self, PcapError> {
        let mut h = [0u8; GLOBAL_HDR_LEN];
        let got = read_full(&mut inner, &mut h)?;
        if got < 4 {
            return Err(PcapError::Truncated {
                what: "file header",
                need: GLOBAL_HDR_LEN,
                got,
            });
        }
        let magic = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let (big_endian, nanosecond) = match magic {
            MAGIC_USEC => (false, false),
            MAGIC_NSEC => (false, true),
            m if m.swap_bytes() == MAGIC_USEC => (true, false),
            m if m.swap_bytes() == MAGIC_NSEC => (true, true),
            m => return Err(PcapError::BadMagic(m)),
        };
        if got < GLOBAL_HDR_LEN {
            return Err(PcapError::Truncated {
                what: "file header",
                need: GLOBAL_HDR_LEN,
                got,
            });
        }
        let word = |i: usize| {
            let b = [h[i], h[i + 1], h[i + 2], h[i + 3]];
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let snaplen = word(16);
        // The top bits of the link-type word carry FCS information
        // (libpcap's LT_LINKTYPE mask); the link type is the rest.
        let link_type = word(20) & 0x03ff_ffff;
        Ok(PcapReader {
            inner,
            big_endian,
            nanosecond,
            snaplen,
            link_type,
        })
    }

    /// The file's link type (`LINKTYPE_*`).
    pub fn link_type(&self) -> u32 {
        self.link_type
    }

    /// The file's snapshot length.
    pub fn snaplen(&self) -> u32 {
        self.snaplen
    }

    /// Whether the file's timestamps are in nanoseconds.
    pub fn is_nanosecond(&self) -> bool {
        self.nanosecond
    }

    /// The next record, or `None` at a clean end of file.
    pub fn next_record(&mut self) -> Result<Option<Record>, PcapError> {
        let mut h = [0u8; RECORD_HDR_LEN];
        let got = read_full(&mut self.inner, &mut h)?;
        if got == 0 {
            return Ok(None);
        }
        if got < RECORD_HDR_LEN {
            return Err(PcapError::Truncated {
                what: "record header",
                need: RECORD_HDR_LEN,
                got,
            });
        }
        let be = self.big_endian;
        let word = |i: usize| {
            let b = [h[i], h[i + 1], h[i + 2], h[i + 3]];
            if be {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let (secs, frac, caplen, orig_len) = (word(0), word(4), word(8), word(12));

        // A snaplen of 0 means "unlimited" to libpcap; the hard ceiling
        // still applies.
        let limit = match self.snaplen {
            0 => MAX_RECORD_LEN,
            s => s.min(MAX_RECORD_LEN),
        };
        if caplen > limit {
            return Err(PcapError::CapLenTooLarge { caplen, limit });
        }
        if caplen > orig_len {
            return Err(PcapError::CapLenOverOrigLen { caplen, orig_len });
        }
        let (per_sec, scale) = if self.nanosecond {
            (1_000_000_000, 1)
        } else {
            (1_000_000, 1_000)
        };
        if frac >= per_sec {
            return Err(PcapError::BadTimestamp {
                frac,
                nanosecond: self.nanosecond,
            });
        }
        let ts_ns = u64::from(secs)
            .checked_mul(1_000_000_000)
            .and_then(|s| s.checked_add(u64::from(frac) * scale))
            .ok_or(PcapError::TimestampOverflow { secs })?;

        // caplen <= MAX_RECORD_LEN, so this allocation is bounded.
        let mut data = vec![0u8; caplen as usize];
        let got = read_full(&mut self.inner, &mut data)?;
        if got < data.len() {
            return Err(PcapError::Truncated {
                what: "record data",
                need: data.len(),
                got,
            });
        }
        Ok(Some(Record {
            ts_ns,
            orig_len,
            data,
        }))
    }

    /// Give back the reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Iterator for PcapReader<R> {
    type Item = Result<Record, PcapError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture_tcpdump::{TCPDUMP_LO_UDP_NSEC, TCPDUMP_LO_UDP_USEC};
    use super::super::{PcapWriter, LINKTYPE_ETHERNET, LINKTYPE_PFLOG, LINKTYPE_RAW};
    use super::*;

    fn check_tcpdump_fixture(bytes: &[u8]) {
        let mut r = PcapReader::new(bytes).unwrap();
        assert_eq!(r.link_type(), LINKTYPE_ETHERNET);
        assert_eq!(r.snaplen(), 262_144);
        let a = r.next_record().unwrap().unwrap();
        // tcpdump -tt: 1796189374.189654 IP 127.0.0.1.41287 > 127.0.0.1.9999: UDP, length 13
        assert_eq!(a.ts_ns, 1_796_189_374_189_654_000);
        assert_eq!(a.orig_len, 55);
        assert_eq!(a.data.len(), 55);
        assert_eq!(&a.data[12..14], &[0x08, 0x00]);
        assert_eq!(&a.data[14 + 12..14 + 20], &[127, 0, 0, 1, 127, 0, 0, 1]);
        assert_eq!(&a.data[42..], b"pfd-fixture-1");
        let b = r.next_record().unwrap().unwrap();
        assert_eq!(b.ts_ns, 1_796_189_374_189_887_000);
        assert_eq!(b.orig_len, 57);
        assert_eq!(&b.data[42..], b"pfd-fixture-two");
        assert!(r.next_record().unwrap().is_none());
        // End of file stays end of file.
        assert!(r.next_record().unwrap().is_none());
    }

    #[test]
    fn reads_tcpdump_capture_usec() {
        check_tcpdump_fixture(TCPDUMP_LO_UDP_USEC);
        assert!(!PcapReader::new(TCPDUMP_LO_UDP_USEC)
            .unwrap()
            .is_nanosecond());
    }

    #[test]
    fn reads_editcap_nanosecond_capture() {
        check_tcpdump_fixture(TCPDUMP_LO_UDP_NSEC);
        assert!(PcapReader::new(TCPDUMP_LO_UDP_NSEC)
            .unwrap()
            .is_nanosecond());
    }

    /// The same file with every header word byte-swapped, as a big-endian
    /// host writes it.
    fn to_big_endian(le: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let swap4 = |b: &[u8]| [b[3], b[2], b[1], b[0]];
        let swap2 = |b: &[u8]| [b[1], b[0]];
        out.extend_from_slice(&swap4(&le[0..4]));
        out.extend_from_slice(&swap2(&le[4..6]));
        out.extend_from_slice(&swap2(&le[6..8]));
        for i in (8..24).step_by(4) {
            out.extend_from_slice(&swap4(&le[i..i + 4]));
        }
        let mut at = 24;
        while at < le.len() {
            for i in (at..at + 16).step_by(4) {
                out.extend_from_slice(&swap4(&le[i..i + 4]));
            }
            let caplen = u32::from_le_bytes(le[at + 8..at + 12].try_into().unwrap()) as usize;
            out.extend_from_slice(&le[at + 16..at + 16 + caplen]);
            at += 16 + caplen;
        }
        out
    }

    #[test]
    fn reads_big_endian_files() {
        check_tcpdump_fixture(&to_big_endian(TCPDUMP_LO_UDP_USEC));
        check_tcpdump_fixture(&to_big_endian(TCPDUMP_LO_UDP_NSEC));
    }

    #[test]
    fn round_trip() {
        let pkts: Vec<(u64, Vec<u8>)> = vec![
            (0, vec![]),
            (1_700_000_000_123_456_000, vec![0x45; 60]),
            (1_700_000_001_000_001_000, (0..=255).collect()),
        ];
        for lt in [LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_PFLOG] {
            let mut w = PcapWriter::new(Vec::new(), lt).unwrap();
            for (ts, p) in &pkts {
                w.write(*ts, p).unwrap();
            }
            let bytes = w.into_inner();
            let mut r = PcapReader::new(&bytes[..]).unwrap();
            assert_eq!(r.link_type(), lt);
            for (ts, p) in &pkts {
                let rec = r.next_record().unwrap().unwrap();
                assert_eq!(rec.ts_ns, *ts);
                assert_eq!(rec.orig_len as usize, p.len());
                assert_eq!(&rec.data, p);
            }
            assert!(r.next_record().unwrap().is_none());
        }
    }

    #[test]
    fn writer_truncates_timestamps_to_microseconds() {
        let mut w = PcapWriter::new(Vec::new(), LINKTYPE_RAW).unwrap();
        w.write(5_000_000_999, &[1, 2, 3]).unwrap();
        let bytes = w.into_inner();
        let rec = PcapReader::new(&bytes[..])
            .unwrap()
            .next_record()
            .unwrap()
            .unwrap();
        assert_eq!(rec.ts_ns, 5_000_000_000);
    }

    #[test]
    fn truncated_files_are_errors() {
        let f = TCPDUMP_LO_UDP_USEC;
        // Every cut except at a record boundary must give a Truncated error.
        let boundaries = [24usize, 24 + 16 + 55, f.len()];
        for cut in 0..f.len() {
            let part = &f[..cut];
            let res = PcapReader::new(part).and_then(|mut r| {
                let mut n = 0;
                while r.next_record()?.is_some() {
                    n += 1;
                }
                Ok(n)
            });
            if boundaries.contains(&cut) {
                assert!(res.is_ok(), "cut {cut}: {res:?}");
            } else {
                assert!(
                    matches!(res, Err(PcapError::Truncated { .. })),
                    "cut {cut}: {res:?}"
                );
            }
        }
    }

    #[test]
    fn refuses_oversized_records_without_allocating() {
        let mut f = TCPDUMP_LO_UDP_USEC.to_vec();
        // caplen and orig_len of the first record: 4 GiB - 1.
        f[32..40].copy_from_slice(&[0xff; 8]);
        let mut r = PcapReader::new(&f[..]).unwrap();
        assert!(matches!(
            r.next_record(),
            Err(PcapError::CapLenTooLarge {
                caplen: u32::MAX,
                limit: 262_144
            })
        ));

        // A small snaplen is enforced too.
        let mut f = TCPDUMP_LO_UDP_USEC.to_vec();
        f[16..20].copy_from_slice(&40u32.to_le_bytes());
        let mut r = PcapReader::new(&f[..]).unwrap();
        assert!(matches!(
            r.next_record(),
            Err(PcapError::CapLenTooLarge {
                caplen: 55,
                limit: 40
            })
        ));
    }

    #[test]
    fn refuses_bad_magic_bad_fraction_and_caplen_over_len() {
        let pcapng = [0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0];
        assert!(matches!(
            PcapReader::new(&pcapng[..]),
            Err(PcapError::BadMagic(0x0a0d_0d0a))
        ));

        let mut f = TCPDUMP_LO_UDP_USEC.to_vec();
        f[28..32].copy_from_slice(&1_000_000u32.to_le_bytes());
        let mut r = PcapReader::new(&f[..]).unwrap();
        assert!(matches!(
            r.next_record(),
            Err(PcapError::BadTimestamp {
                frac: 1_000_000,
                ..
            })
        ));

        let mut f = TCPDUMP_LO_UDP_USEC.to_vec();
        f[36..40].copy_from_slice(&54u32.to_le_bytes());
        let mut r = PcapReader::new(&f[..]).unwrap();
        assert!(matches!(
            r.next_record(),
            Err(PcapError::CapLenOverOrigLen { .. })
        ));
    }
}
