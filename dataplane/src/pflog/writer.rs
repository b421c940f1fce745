//! A pcap file of pflog records (link type 117), as `pflogd` writes.

use std::io::{self, Write};

use super::{PflogRecord, PFLOG_HDRLEN};
use crate::pcap::{PcapWriter, LINKTYPE_PFLOG, MAX_RECORD_LEN};

/// Writes logged packets, each a pflog header followed by the IP packet
/// (no link-layer header).
#[derive(Debug)]
pub struct PflogWriter<W: Write> {
    pcap: PcapWriter<W>,
    // One buffer reused for every record, so logging does not allocate
    // once it has seen its largest packet.
    scratch: Vec<u8>,
}

impl<W: Write> PflogWriter<W> {
    pub fn new(w: W) -> io::Result<Self> {
        Ok(PflogWriter {
            pcap: PcapWriter::new(w, LINKTYPE_PFLOG)?,
            scratch: Vec::new(),
        })
    }

    /// Records appended to a pflog file that has its header already.
    pub fn appending(w: W) -> Self {
        PflogWriter {
            pcap: PcapWriter::appending(w),
            scratch: Vec::new(),
        }
    }

    /// Append one logged packet. `ip_packet` starts at the IP header.
    /// A packet that would not fit the snapshot length with the header
    /// is refused, as is a header that cannot be written.
    pub fn log(&mut self, ts_ns: u64, rec: &PflogRecord, ip_packet: &[u8]) -> io::Result<()> {
        let total = PFLOG_HDRLEN.saturating_add(ip_packet.len());
        if total > MAX_RECORD_LEN as usize {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("pflog: packet of {} bytes too long", ip_packet.len()),
            ));
        }
        self.scratch.clear();
        self.scratch.resize(PFLOG_HDRLEN, 0);
        rec.emit(&mut self.scratch)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        self.scratch.extend_from_slice(ip_packet);
        self.pcap.write(ts_ns, &self.scratch)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.pcap.flush()
    }

    pub fn into_inner(self) -> W {
        self.pcap.into_inner()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcap::PcapReader;
    use crate::pdesc::Dir;
    use crate::pflog::{PfAction, NO_PID, UID_NONE};
    use crate::reason::Reason;
    use ruleset::addr::Af;

    #[test]
    fn records_read_back() {
        let rec = PflogRecord {
            af: Af::Inet6,
            action: PfAction::Pass,
            reason: Reason::Match,
            ifname: "vio0".into(),
            ruleset: String::new(),
            rulenr: u32::MAX,
            subrulenr: u32::MAX,
            uid: UID_NONE,
            pid: NO_PID,
            rule_uid: 0,
            rule_pid: 0,
            dir: Dir::Out,
            rewritten: false,
            naf: Af::Inet6,
            saddr: "2001:db8::1".parse().unwrap(),
            daddr: "2001:db8::2".parse().unwrap(),
            sport: 0,
            dport: 0,
        };
        let pkt = [0x60u8, 0, 0, 0, 0, 0, 59, 64];
        let mut w = PflogWriter::new(Vec::new()).unwrap();
        w.log(7_000_000_000, &rec, &pkt).unwrap();
        w.log(8_000_000_000, &rec, &pkt[..4]).unwrap();
        let bytes = w.into_inner();
        let mut r = PcapReader::new(&bytes[..]).unwrap();
        assert_eq!(r.link_type(), LINKTYPE_PFLOG);
        let a = r.next_record().unwrap().unwrap();
        assert_eq!(a.ts_ns, 7_000_000_000);
        assert_eq!(PflogRecord::parse(&a.data).unwrap(), rec);
        assert_eq!(&a.data[PFLOG_HDRLEN..], &pkt);
        let b = r.next_record().unwrap().unwrap();
        assert_eq!(&b.data[PFLOG_HDRLEN..], &pkt[..4]);
        assert!(r.next_record().unwrap().is_none());

        let mut w = PflogWriter::new(Vec::new()).unwrap();
        let huge = vec![0u8; MAX_RECORD_LEN as usize];
        assert!(w.log(0, &rec, &huge).is_err());
    }
}
