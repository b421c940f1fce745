//! pflog for `pfd run`: the packets `log` rules name, written as
//! pflogd writes `/var/log/pflog` (pcap, DLT_PFLOG), by a thread of its
//! own. Workers hand each record over a bounded channel and never wait;
//! a full channel is a drop the worker counts (`pfctl --json -si`:
//! `pflog_dropped`). The path may be a regular file (appended to; the
//! pcap header is written when it is empty) or a FIFO, which a live
//! `tcpdump -n -e -r FIFO` reads as pflog0 is read on OpenBSD; a reader
//! that goes away is waited for again.

use crossbeam_channel::{bounded, Receiver, Sender};
use dataplane::engine::LogEntry;
use dataplane::pflog::PflogWriter;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter};
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Records waiting for the writer at most.
pub const QUEUE: usize = 4096;

/// One logged packet and when (wall clock, ns since the epoch).
pub struct Logged {
    pub ts_ns: u64,
    pub entry: LogEntry,
}

/// A worker's end.
#[derive(Clone)]
pub struct PflogSink {
    tx: Sender<Logged>,
}

impl PflogSink {
    /// Hand `entry` to the writer; false if it is behind or gone.
    pub fn log(&self, entry: LogEntry) -> bool {
        let ts_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        self.tx.try_send(Logged { ts_ns, entry }).is_ok()
    }
}

/// Check `path` can be written (a FIFO is only checked to be one), then
/// start the writer thread. It ends when every sink is dropped.
pub fn start(path: &Path) -> Result<PflogSink, String> {
    let fifo = is_fifo(path);
    if !fifo {
        // a regular file: open it now so a bad path stops the boot
        open_file(path).map_err(|e| format!("pflog: {}: {e}", path.display()))?;
    }
    let (tx, rx) = bounded(QUEUE);
    let path = path.to_path_buf();
    std::thread::Builder::new()
        .name("pfd-pflog".into())
        .spawn(move || writer(&path, fifo, &rx))
        .map_err(|e| format!("pflog: thread: {e}"))?;
    Ok(PflogSink { tx })
}

fn is_fifo(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

fn open_file(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// A writer on `path`: the pcap header only if the file is new or a
/// FIFO (appending to a pflog file keeps its one header).
fn open_writer(path: &Path, fifo: bool) -> io::Result<PflogWriter<BufWriter<File>>> {
    let f = if fifo {
        // blocks until a reader opens the other end
        OpenOptions::new().write(true).open(path)?
    } else {
        open_file(path)?
    };
    if !fifo && f.metadata()?.len() > 0 {
        return Ok(PflogWriter::appending(BufWriter::new(f)));
    }
    PflogWriter::new(BufWriter::new(f))
}

fn writer(path: &Path, fifo: bool, rx: &Receiver<Logged>) {
    let mut w = None;
    while let Ok(first) = rx.recv() {
        if w.is_none() {
            match open_writer(path, fifo) {
                Ok(x) => w = Some(x),
                Err(e) => {
                    tracing::warn!(target: "pfd", "pflog: {}: {e}", path.display());
                    continue;
                }
            }
        }
        let Some(out) = w.as_mut() else { continue };
        // what came meanwhile goes in the same write
        let mut ok = out
            .log(first.ts_ns, &first.entry.record, &first.entry.packet)
            .is_ok();
        for l in rx.try_iter().take(QUEUE) {
            ok &= out.log(l.ts_ns, &l.entry.record, &l.entry.packet).is_ok();
        }
        if !(ok && out.flush().is_ok()) {
            // a FIFO's reader left (EPIPE): wait for the next one
            if fifo {
                w = None;
            }
        }
    }
}
