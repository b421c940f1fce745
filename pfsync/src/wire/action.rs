//! Action codes (spec §2.3) and the table that drives the section walk.

use std::fmt;

/// Size of `pfsync_tdb` (spec §3.9); only needed to walk over it.
pub const TDB_LEN: usize = 52;

/// A subheader's action byte. Kept as the raw number so that unknown and
/// obsolete codes survive parsing and can be skipped or reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Action(pub u8);

impl Action {
    pub const CLR: Action = Action(0);
    pub const OINS: Action = Action(1);
    pub const INS_ACK: Action = Action(2);
    pub const OUPD: Action = Action(3);
    pub const UPD_C: Action = Action(4);
    pub const UPD_REQ: Action = Action(5);
    pub const DEL: Action = Action(6);
    pub const DEL_C: Action = Action(7);
    pub const INS_F: Action = Action(8);
    pub const DEL_F: Action = Action(9);
    pub const BUS: Action = Action(10);
    pub const OTDB: Action = Action(11);
    pub const EOF: Action = Action(12);
    pub const INS: Action = Action(13);
    pub const UPD: Action = Action(14);
    pub const TDB: Action = Action(15);
    /// First code OpenBSD does not know (`PFSYNC_ACT_MAX`).
    pub const MAX: u8 = 16;

    /// The record size OpenBSD's table gives the action, or `None` for
    /// the codes it has no entry for (obsolete codes, fragments, EOF):
    /// those are skipped whatever their size. A subheader announcing
    /// records smaller than this cannot be read, and the walk skips or
    /// refuses it (spec §2.2).
    pub fn min_record_len(self) -> Option<usize> {
        match self.0 {
            0 => Some(super::clr::LEN),
            2 | 5 | 7 => Some(super::ids::LEN),
            4 => Some(super::upd_c::LEN),
            6 | 13 | 14 => Some(super::state::LEN),
            10 => Some(super::bus::LEN),
            15 => Some(TDB_LEN),
            _ => None,
        }
    }

    /// Whether pfd reads this action's records. TDB is walked over: pfd
    /// has no IPsec SAs whose replay counters it could update.
    pub fn is_handled(self) -> bool {
        self.min_record_len().is_some() && self != Action::TDB
    }

    /// OpenBSD's display name (tcpdump / netstat), if the code is known.
    pub fn name(self) -> Option<&'static str> {
        const NAMES: [&str; 16] = [
            "CLR ST",
            "INS ST OLD",
            "INS ST ACK",
            "UPD ST OLD",
            "UPD ST COMP",
            "UPD ST REQ",
            "DEL ST",
            "DEL ST COMP",
            "INS FR",
            "DEL FR",
            "BULK UPD STAT",
            "UPD TDB OLD",
            "EOF",
            "INS ST",
            "UPD ST",
            "UPD TDB",
        ];
        NAMES.get(usize::from(self.0)).copied()
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "action {}", self.0),
        }
    }
}
