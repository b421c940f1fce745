//! The fragments of one packet in reassembly, sorted by offset and never
//! overlapping (pf's `fr_queue`), with pf's hole count and its per-region
//! entry limit.

/// pf's `PF_FRAG_ENTRY_POINTS`: the 64 KiB offset space in 16 regions.
const ENTRY_POINTS: usize = 16;
/// pf's `PF_FRAG_ENTRY_LIMIT`: at most this many fragments per region,
/// so a packet holds at most 1024 fragments and every queue operation
/// stays short.
const ENTRY_LIMIT: u8 = 64;

/// One held fragment (pf's `struct pf_frent`).
#[derive(Debug)]
pub(super) struct Frent {
    /// Offset and length of the part still used; trimming an overlap
    /// moves `off` up and `len` down.
    pub off: u16,
    pub len: u16,
    pub mff: bool,
    data: Vec<u8>,
    /// How many bytes of `data` trimming has cut from the front.
    start: usize,
    /// The headers in front of the payload, kept for the fragment at
    /// offset 0 only: they become the reassembled packet's headers.
    pub hdr: Option<Vec<u8>>,
    /// IPv6 `fe_extoff` of that first fragment.
    pub extoff: u16,
}

impl Frent {
    pub fn new(off: u16, mff: bool, payload: &[u8], hdr: Option<Vec<u8>>, extoff: u16) -> Frent {
        Frent {
            off,
            // The caller passes at most 65535 bytes (an IP length).
            len: payload.len() as u16,
            mff,
            data: payload.to_vec(),
            start: 0,
            hdr,
            extoff,
        }
    }

    /// Offset one past the last byte, in u32 so that it cannot wrap.
    pub fn end(&self) -> u32 {
        u32::from(self.off) + u32::from(self.len)
    }

    /// Drop the first `n` (< len) bytes (pf's `m_adj` on an overlap).
    pub fn trim_front(&mut self, n: u16) {
        self.start = self.start.saturating_add(usize::from(n));
        self.off = self.off.saturating_add(n);
        self.len = self.len.saturating_sub(n);
    }

    pub fn payload(&self) -> &[u8] {
        let end = self.start.saturating_add(usize::from(self.len));
        self.data.get(self.start..end).unwrap_or_default()
    }

    /// Bytes this fragment keeps allocated.
    pub fn mem(&self) -> usize {
        self.data.len() + self.hdr.as_ref().map_or(0, Vec::len)
    }

    fn region(&self) -> usize {
        usize::from(self.off) / (0x10000 / ENTRY_POINTS)
    }
}

/// Returned when a region already holds [`ENTRY_LIMIT`] fragments.
#[derive(Debug)]
pub(super) struct QueueFull(pub Frent);

#[derive(Debug, Default)]
pub(super) struct FragQueue {
    entries: Vec<Frent>,
    per_region: [u8; ENTRY_POINTS],
    /// Gaps not yet filled, counting a missing tail while the last
    /// fragment has MF set (pf's `fr_holes`).
    holes: i32,
    /// Bytes held by the entries.
    bytes: usize,
}

impl FragQueue {
    /// A queue holding `first`. pf starts the count at one hole (the
    /// whole packet) and lets the first insertion adjust it.
    pub fn with_first(first: Frent) -> FragQueue {
        let mut q = FragQueue {
            holes: 1,
            ..FragQueue::default()
        };
        // An empty queue has room in every region.
        let _ = q.insert_at(0, first);
        q
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn holes(&self) -> i32 {
        self.holes
    }

    pub fn get(&self, i: usize) -> Option<&Frent> {
        self.entries.get(i)
    }

    pub fn first(&self) -> Option<&Frent> {
        self.entries.first()
    }

    pub fn last(&self) -> Option<&Frent> {
        self.entries.last()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Frent> {
        self.entries.iter()
    }

    /// Index of the last fragment starting at or before `off` (pf's
    /// `pf_frent_previous`).
    pub fn previous(&self, off: u16) -> Option<usize> {
        self.entries
            .partition_point(|e| e.off <= off)
            .checked_sub(1)
    }

    /// How many holes the entry at `i` adds (pf's `pf_frent_holes`): one
    /// for splitting a gap, less one for each side it closes.
    fn holes_added(&self, i: usize) -> i32 {
        let Some(f) = self.entries.get(i) else {
            return 0;
        };
        let mut holes = 1;
        match i.checked_sub(1).and_then(|p| self.entries.get(p)) {
            None if f.off == 0 => holes -= 1,
            Some(prev) if u32::from(f.off) == prev.end() => holes -= 1,
            _ => {}
        }
        match self.entries.get(i + 1) {
            None if !f.mff => holes -= 1,
            Some(next) if u32::from(next.off) == f.end() => holes -= 1,
            _ => {}
        }
        holes
    }

    /// Insert at position `i` (after the entry the caller found with
    /// [`Self::previous`]), or give the fragment back when its region is
    /// full (pf's `pf_frent_insert` returning ENOBUFS).
    pub fn insert_at(&mut self, i: usize, f: Frent) -> Result<(), QueueFull> {
        let r = f.region();
        let Some(count) = self.per_region.get_mut(r) else {
            return Err(QueueFull(f));
        };
        if *count >= ENTRY_LIMIT {
            return Err(QueueFull(f));
        }
        *count += 1;
        self.bytes += f.mem();
        let i = i.min(self.entries.len());
        self.entries.insert(i, f);
        self.holes += self.holes_added(i);
        Ok(())
    }

    /// Take out the entry at `i` (pf's `pf_frent_remove`).
    pub fn remove_at(&mut self, i: usize) -> Option<Frent> {
        if i >= self.entries.len() {
            return None;
        }
        self.holes -= self.holes_added(i);
        let f = self.entries.remove(i);
        self.bytes = self.bytes.saturating_sub(f.mem());
        if let Some(c) = self.per_region.get_mut(f.region()) {
            *c = c.saturating_sub(1);
        }
        Some(f)
    }
}
