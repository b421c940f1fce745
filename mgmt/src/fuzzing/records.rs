//! How the stateful targets cut their input into events: a run of
//! records, each one byte of flags, a big-endian length, then that many
//! bytes (fewer at the end of the input). The flags' meaning is the
//! target's. A fixed framing keeps a mutation local to one event, so
//! libFuzzer can grow a sequence one packet at a time.

/// One event: the target-defined flag byte and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub flags: u8,
    pub bytes: &'a [u8],
}

/// The records of `data`, in order; a trailing piece shorter than a
/// record header is ignored.
pub fn records(data: &[u8]) -> impl Iterator<Item = Record<'_>> {
    let mut rest = data;
    std::iter::from_fn(move || {
        let (&flags, tail) = rest.split_first()?;
        let (len, tail) = tail.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_be_bytes(*len)).min(tail.len());
        let (bytes, tail) = tail.split_at(len);
        rest = tail;
        Some(Record { flags, bytes })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_cut_by_their_length_and_the_last_is_clamped() {
        let data = [1, 0, 2, 0xaa, 0xbb, 7, 0, 9, 0xcc, 3];
        let got: Vec<(u8, Vec<u8>)> = records(&data)
            .map(|r| (r.flags, r.bytes.to_vec()))
            .collect();
        assert_eq!(got, vec![(1, vec![0xaa, 0xbb]), (7, vec![0xcc, 3])]);
        assert_eq!(records(&[5, 0]).count(), 0);
    }
}
