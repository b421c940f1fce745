//! A port that replays a capture file and records what it sends: the
//! engine and worker loop, run against recorded traffic.

use std::io::{self, Read, Write};
use std::os::fd::RawFd;

use super::{Port, PortStats, RxBatch, TxBatch};
use crate::pcap::{PcapError, PcapReader, PcapWriter, LINKTYPE_ETHERNET};

/// Receives the frames of a pcap file, in order, then nothing; writes
/// every frame it sends to another pcap file, stamped with the time of
/// the last frame read (the replay's clock).
pub struct PcapPort<R: Read, W: Write> {
    name: String,
    mac: [u8; 6],
    input: Option<PcapReader<R>>,
    output: PcapWriter<W>,
    last_ts_ns: u64,
    stats: PortStats,
}

fn to_io(e: PcapError) -> io::Error {
    match e {
        PcapError::Io(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, other),
    }
}

impl<R: Read, W: Write> PcapPort<R, W> {
    /// Replay `input` (an Ethernet capture) and record into `output`.
    pub fn new(name: &str, mac: [u8; 6], input: R, output: W) -> io::Result<Self> {
        let reader = PcapReader::new(input).map_err(to_io)?;
        if reader.link_type() != LINKTYPE_ETHERNET {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "pcap port {name}: link type {} is not Ethernet",
                    reader.link_type()
                ),
            ));
        }
        Ok(PcapPort {
            name: name.to_owned(),
            mac,
            input: Some(reader),
            output: PcapWriter::new(output, LINKTYPE_ETHERNET)?,
            last_ts_ns: 0,
            stats: PortStats::default(),
        })
    }

    /// Whether every frame of the input has been received.
    pub fn exhausted(&self) -> bool {
        self.input.is_none()
    }

    /// Flush and give back the output.
    pub fn into_output(mut self) -> io::Result<W> {
        self.output.flush()?;
        Ok(self.output.into_inner())
    }
}

impl<R: Read + Send, W: Write + Send> Port for PcapPort<R, W> {
    fn rx_burst(&mut self, out: &mut RxBatch) -> io::Result<usize> {
        let mut n = 0;
        while !out.is_full() {
            let Some(reader) = self.input.as_mut() else {
                break;
            };
            match reader.next_record().map_err(to_io)? {
                Some(rec) => {
                    // A record shorter than its packet was cut by the
                    // capture; like a truncated ring frame, not judged.
                    if rec.data.len() < rec.orig_len as usize {
                        self.stats.rx_truncated += 1;
                        continue;
                    }
                    self.last_ts_ns = rec.ts_ns;
                    self.stats.rx_frames += 1;
                    self.stats.rx_bytes += rec.data.len() as u64;
                    out.push(&rec.data);
                    n += 1;
                }
                None => self.input = None,
            }
        }
        Ok(n)
    }

    fn tx_burst(&mut self, frames: &mut TxBatch) -> io::Result<usize> {
        let n = frames.len();
        for f in frames.frames() {
            self.output.write(self.last_ts_ns, f)?;
            self.stats.tx_frames += 1;
            self.stats.tx_bytes += f.len() as u64;
        }
        frames.consume(n);
        Ok(n)
    }

    fn poll_fd(&self) -> Option<RawFd> {
        None
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn mac(&self) -> [u8; 6] {
        self.mac
    }

    fn stats(&self) -> PortStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(frames: &[(&[u8], u32)]) -> Vec<u8> {
        let mut w = PcapWriter::new(Vec::new(), LINKTYPE_ETHERNET).unwrap();
        for (i, (f, _)) in frames.iter().enumerate() {
            w.write(1_000_000_000 * (i as u64 + 1), f).unwrap();
        }
        let mut v = w.into_inner();
        // Patch orig_len of each record to model truncated captures.
        let mut off = 24;
        for (f, orig) in frames {
            v[off + 12..off + 16].copy_from_slice(&orig.to_le_bytes());
            off += 16 + f.len();
        }
        v
    }

    #[test]
    fn replays_then_records_with_the_replay_clock() {
        let input = capture(&[(&[1; 60], 60), (&[2; 60], 100), (&[3; 64], 64)]);
        let mut p = PcapPort::new("pcap0", [2; 6], &input[..], Vec::new()).unwrap();
        let mut rx = RxBatch::new(8, 64);
        assert_eq!(p.rx_burst(&mut rx).unwrap(), 2);
        assert!(p.exhausted());
        assert_eq!(rx.frames(), &[vec![1; 60], vec![3; 64]]);
        assert_eq!(p.stats().rx_truncated, 1);
        let mut tx = TxBatch::new(8, 64);
        tx.push_swap(&mut rx.frames_mut()[1]);
        assert_eq!(p.tx_burst(&mut tx).unwrap(), 1);
        let out = p.into_output().unwrap();
        let recs: Vec<_> = PcapReader::new(&out[..])
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].data, vec![3; 64]);
        assert_eq!(recs[0].ts_ns, 3_000_000_000);
    }

    #[test]
    fn refuses_a_capture_that_is_not_ethernet() {
        let w = PcapWriter::new(Vec::new(), crate::pcap::LINKTYPE_RAW).unwrap();
        let input = w.into_inner();
        let e = PcapPort::new("pcap0", [2; 6], &input[..], Vec::new())
            .err()
            .unwrap();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }
}
