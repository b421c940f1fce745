//! Subheaders (spec §2.2) and the walk over a packet's sections.
//!
//! The walk is table-driven: each action's minimum record size comes from
//! [`Action::min_record_len`]; records are stepped by the size the sender
//! announced, so a newer peer may append fields to a record.

use super::Action;

pub const SUBHEADER_LEN: usize = 4;

/// Why the walk stopped before the end of the packet. OpenBSD abandons the
/// rest of the packet in both cases; the sections before still count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SectionError {
    /// An action this side cannot read, with no record size or count to
    /// skip it by (counted as `badact`).
    #[error("{action}: cannot be skipped (record size {mlen} bytes, count {count})")]
    BadAction {
        action: Action,
        mlen: usize,
        count: u16,
    },
    /// The records run past the end of the packet (counted as `badlen`).
    #[error("{action}: {count} records of {mlen} bytes overrun the {left} bytes left")]
    Overrun {
        action: Action,
        mlen: usize,
        count: u16,
        left: usize,
    },
}

/// One section as found on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawSection<'a> {
    pub action: Action,
    /// Size of one record in bytes (subheader `len` × 4).
    pub mlen: usize,
    pub count: u16,
    /// `mlen × count` bytes of records.
    pub body: &'a [u8],
    /// True when this side does not read the records (unknown, obsolete,
    /// TDB, or records smaller than it needs): the section is passed over.
    pub skipped: bool,
}

impl<'a> RawSection<'a> {
    /// The records, each `mlen` bytes (at least the action's minimum
    /// size unless `skipped`).
    pub fn records(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let mlen = self.mlen.max(1);
        let body = if self.mlen == 0 { &[][..] } else { self.body };
        body.chunks_exact(mlen)
    }
}

/// Iterator over the sections of a header's body. Yields `Err` once and
/// then ends when the walk cannot go on.
#[derive(Debug, Clone)]
pub struct Sections<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> Sections<'a> {
    pub fn new(body: &'a [u8]) -> Self {
        Sections {
            rest: body,
            done: false,
        }
    }
}

impl<'a> Iterator for Sections<'a> {
    type Item = Result<RawSection<'a>, SectionError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.rest.len() < SUBHEADER_LEN {
            return None;
        }
        let action = Action(self.rest[0]);
        let mlen = usize::from(self.rest[1]) * 4;
        let count = u16::from_be_bytes([self.rest[2], self.rest[3]]);
        let big_enough = match action.min_record_len() {
            Some(min) => mlen >= min,
            None => true,
        };
        let readable = action.0 < Action::MAX && big_enough;
        if !readable && (count == 0 || mlen == 0) {
            self.done = true;
            return Some(Err(SectionError::BadAction {
                action,
                mlen,
                count,
            }));
        }
        let rest = &self.rest[SUBHEADER_LEN..];
        let total = mlen * usize::from(count);
        if total > rest.len() {
            self.done = true;
            return Some(Err(SectionError::Overrun {
                action,
                mlen,
                count,
                left: rest.len(),
            }));
        }
        let (body, rest) = rest.split_at(total);
        self.rest = rest;
        Some(Ok(RawSection {
            action,
            mlen,
            count,
            body,
            skipped: !readable || !action.is_handled(),
        }))
    }
}

/// Write a subheader for `count` records of `record_len` bytes.
pub fn emit(out: &mut Vec<u8>, action: Action, record_len: usize, count: u16) {
    out.push(action.0);
    // Record sizes are multiples of 4 below 1024 by construction.
    out.push(u8::try_from(record_len / 4).unwrap_or(u8::MAX));
    out.extend_from_slice(&count.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(b: &[u8]) -> Vec<Result<(u8, usize, u16, bool), SectionError>> {
        Sections::new(b)
            .map(|r| r.map(|s| (s.action.0, s.mlen, s.count, s.skipped)))
            .collect()
    }

    #[test]
    fn unknown_action_with_size_is_skipped_and_walk_goes_on() {
        // action 16, 3 words, 1 record; then DEL_C with one record.
        let mut b = vec![16, 3, 0, 1];
        b.extend_from_slice(&[0xaa; 12]);
        b.extend_from_slice(&[7, 3, 0, 1]);
        b.extend_from_slice(&[0; 12]);
        assert_eq!(walk(&b), vec![Ok((16, 12, 1, true)), Ok((7, 12, 1, false))]);
    }

    #[test]
    fn unknown_action_without_size_stops_with_badact() {
        let b = [16, 0, 0, 1, 7, 3, 0, 0];
        assert!(matches!(
            walk(&b)[..],
            [Err(SectionError::BadAction { .. })]
        ));
        // A known action announcing records too small to read, count 0.
        let b = [13, 3, 0, 0];
        assert!(matches!(
            walk(&b)[..],
            [Err(SectionError::BadAction { .. })]
        ));
    }

    #[test]
    fn too_small_records_of_known_action_are_skipped() {
        let mut b = vec![13, 3, 0, 1];
        b.extend_from_slice(&[0; 12]);
        assert_eq!(walk(&b), vec![Ok((13, 12, 1, true))]);
    }

    #[test]
    fn obsolete_actions_are_skipped_even_when_empty() {
        assert_eq!(walk(&[12, 0, 0, 0]), vec![Ok((12, 0, 0, true))]);
        let recs: Vec<_> = Sections::new(&[12, 0, 0, 0])
            .next()
            .unwrap()
            .unwrap()
            .records()
            .collect();
        assert!(recs.is_empty());
    }

    #[test]
    fn overrun_stops_with_badlen() {
        let b = [7, 3, 0, 2, 0, 0, 0, 0];
        assert!(matches!(
            walk(&b)[..],
            [Err(SectionError::Overrun { left: 4, .. })]
        ));
    }

    #[test]
    fn larger_records_are_stepped_by_announced_size() {
        let mut b = vec![7, 4, 0, 2];
        b.extend_from_slice(&[1; 16]);
        b.extend_from_slice(&[2; 16]);
        let s = Sections::new(&b).next().unwrap().unwrap();
        let recs: Vec<_> = s.records().collect();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1][0], 2);
    }

    #[test]
    fn fewer_than_four_bytes_left_end_the_walk() {
        assert!(walk(&[7, 3, 0]).is_empty());
    }
}
