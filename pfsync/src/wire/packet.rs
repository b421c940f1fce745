//! Whole pfsync payloads: a decoded form for tests and tools
//! (`PacketRepr`), and the incremental builder the sync machine packs
//! records into (`PacketBuilder`).

use super::bus::Bus;
use super::clr::Clr;
use super::upd_c::UpdC;
use super::{header, ids, section, state, Action, Header, RawSection, Sections, WireError};
use super::{HEADER_LEN, SUBHEADER_LEN};
use crate::state::{StateId, StateRecord};

/// One decoded section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Section {
    Clr(Vec<Clr>),
    InsAck(Vec<StateId>),
    UpdC(Vec<UpdC>),
    UpdReq(Vec<StateId>),
    Del(Vec<StateRecord>),
    DelC(Vec<StateId>),
    Bus(Vec<Bus>),
    Ins(Vec<StateRecord>),
    Upd(Vec<StateRecord>),
    /// A section the walk passed over (unknown, obsolete or TDB action, or
    /// records too small to read). Its contents are not kept.
    Skipped {
        action: Action,
        mlen: usize,
        count: u16,
    },
}

fn all<T>(
    raw: &RawSection<'_>,
    f: impl Fn(&[u8]) -> Result<T, WireError>,
) -> Result<Vec<T>, WireError> {
    raw.records().map(f).collect()
}

impl Section {
    pub fn decode(raw: &RawSection<'_>) -> Result<Self, WireError> {
        if raw.skipped {
            return Ok(Section::Skipped {
                action: raw.action,
                mlen: raw.mlen,
                count: raw.count,
            });
        }
        Ok(match raw.action {
            Action::CLR => Section::Clr(all(raw, Clr::parse)?),
            Action::INS_ACK => Section::InsAck(all(raw, ids::parse)?),
            Action::UPD_C => Section::UpdC(all(raw, UpdC::parse)?),
            Action::UPD_REQ => Section::UpdReq(all(raw, ids::parse)?),
            Action::DEL => Section::Del(all(raw, state::parse)?),
            Action::DEL_C => Section::DelC(all(raw, ids::parse)?),
            Action::BUS => Section::Bus(all(raw, Bus::parse)?),
            Action::INS => Section::Ins(all(raw, state::parse)?),
            Action::UPD => Section::Upd(all(raw, state::parse)?),
            action => Section::Skipped {
                action,
                mlen: raw.mlen,
                count: raw.count,
            },
        })
    }

    pub fn action(&self) -> Action {
        match self {
            Section::Clr(_) => Action::CLR,
            Section::InsAck(_) => Action::INS_ACK,
            Section::UpdC(_) => Action::UPD_C,
            Section::UpdReq(_) => Action::UPD_REQ,
            Section::Del(_) => Action::DEL,
            Section::DelC(_) => Action::DEL_C,
            Section::Bus(_) => Action::BUS,
            Section::Ins(_) => Action::INS,
            Section::Upd(_) => Action::UPD,
            Section::Skipped { action, .. } => *action,
        }
    }

    fn emit(&self, b: &mut PacketBuilder) {
        fn each<T>(b: &mut PacketBuilder, a: Action, len: usize, v: &[T], f: fn(&T, &mut Vec<u8>)) {
            b.begin(a, len);
            for r in v {
                b.record(|out| f(r, out));
            }
        }
        match self {
            Section::Clr(v) => each(b, Action::CLR, super::clr::LEN, v, Clr::emit),
            Section::InsAck(v) => each(b, Action::INS_ACK, ids::LEN, v, ids::emit),
            Section::UpdC(v) => each(b, Action::UPD_C, super::upd_c::LEN, v, UpdC::emit),
            Section::UpdReq(v) => each(b, Action::UPD_REQ, ids::LEN, v, ids::emit),
            Section::Del(v) => each(b, Action::DEL, state::LEN, v, state::emit),
            Section::DelC(v) => each(b, Action::DEL_C, ids::LEN, v, ids::emit),
            Section::Bus(v) => each(b, Action::BUS, super::bus::LEN, v, Bus::emit),
            Section::Ins(v) => each(b, Action::INS, state::LEN, v, state::emit),
            Section::Upd(v) => each(b, Action::UPD, state::LEN, v, state::emit),
            Section::Skipped {
                action,
                mlen,
                count,
            } => {
                b.begin(*action, *mlen);
                for _ in 0..*count {
                    b.record(|out| out.resize(out.len() + mlen, 0));
                }
            }
        }
    }
}

/// A whole pfsync payload, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PacketRepr {
    pub sections: Vec<Section>,
}

impl PacketRepr {
    /// Strict decode: any header or walk error fails the whole packet.
    /// (The sync machine instead acts on each section as it is walked,
    /// as OpenBSD does, and counts the error that stops it.)
    pub fn parse(payload: &[u8]) -> Result<Self, WireError> {
        let h = Header::new_checked(payload)?;
        let mut sections = Vec::new();
        for raw in Sections::new(h.body()) {
            sections.push(Section::decode(&raw?)?);
        }
        Ok(PacketRepr { sections })
    }

    /// The payload bytes, header included (no IPv4 header). Empty
    /// sections are written with count 0, as given.
    pub fn emit(&self) -> Vec<u8> {
        let mut b = PacketBuilder::new();
        for s in &self.sections {
            s.emit(&mut b);
            b.keep_empty_section();
        }
        b.finish()
    }
}

/// Builds a payload section by section. A section opened with `begin`
/// and given no record is dropped at the next `begin` or at `finish`,
/// unless `keep_empty_section` is called.
#[derive(Debug, Clone)]
pub struct PacketBuilder {
    buf: Vec<u8>,
    /// Offset of the open section's subheader and its record count.
    open: Option<(usize, u16)>,
    keep_empty: bool,
}

impl Default for PacketBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl PacketBuilder {
    pub fn new() -> Self {
        PacketBuilder {
            buf: vec![0; HEADER_LEN],
            open: None,
            keep_empty: false,
        }
    }

    /// Payload bytes so far, header included.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True while no section holds a record.
    pub fn is_empty(&self) -> bool {
        self.buf.len() == HEADER_LEN
    }

    fn close(&mut self) {
        if let Some((at, count)) = self.open.take() {
            if count == 0 && !self.keep_empty {
                self.buf.truncate(at);
            } else {
                self.buf[at + 2..at + 4].copy_from_slice(&count.to_be_bytes());
            }
        }
        self.keep_empty = false;
    }

    pub fn begin(&mut self, action: Action, record_len: usize) {
        self.close();
        let at = self.buf.len();
        section::emit(&mut self.buf, action, record_len, 0);
        self.open = Some((at, 0));
    }

    pub fn keep_empty_section(&mut self) {
        self.keep_empty = true;
    }

    /// Append one record to the open section.
    pub fn record(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        write(&mut self.buf);
        if let Some((_, count)) = &mut self.open {
            *count = count.saturating_add(1);
        }
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.close();
        let len = u16::try_from(self.buf.len()).unwrap_or(u16::MAX);
        let mut h = [0u8; HEADER_LEN];
        header::emit(&mut h, len);
        self.buf[..HEADER_LEN].copy_from_slice(&h);
        self.buf
    }
}

/// Bytes a section with `n` records of `record_len` adds to a packet.
pub const fn section_len(record_len: usize, n: usize) -> usize {
    SUBHEADER_LEN + record_len * n
}
