//! Fixed-width bit sets over rule indices: the classifier's unit of work.
//! A set bit `i` means "rule `i` of the ruleset may match".

/// Bits over `0..len` rules, 64 to a word.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Bits {
    words: Vec<u64>,
}

pub(super) fn words_for(len: usize) -> usize {
    len.div_ceil(64)
}

impl Bits {
    pub(super) fn empty(len: usize) -> Bits {
        Bits {
            words: vec![0; words_for(len)],
        }
    }

    pub(super) fn set(&mut self, i: u32) {
        if let Some(w) = self.words.get_mut((i / 64) as usize) {
            *w |= 1u64 << (i % 64);
        }
    }

    pub(super) fn words(&self) -> &[u64] {
        &self.words
    }
}

/// `dst = a & b & c`, all of the same width.
pub(super) fn and3(dst: &mut [u64], a: &[u64], b: &[u64], c: &[u64]) {
    for (((d, x), y), z) in dst.iter_mut().zip(a).zip(b).zip(c) {
        *d = x & y & z;
    }
}

/// `dst &= (base | the bits listed in extra)`, using `tmp` as scratch.
pub(super) fn and_with_extra(dst: &mut [u64], base: &[u64], extra: &[u32], tmp: &mut [u64]) {
    if extra.is_empty() {
        for (d, b) in dst.iter_mut().zip(base) {
            *d &= b;
        }
        return;
    }
    tmp.copy_from_slice(base);
    for &i in extra {
        if let Some(w) = tmp.get_mut((i / 64) as usize) {
            *w |= 1u64 << (i % 64);
        }
    }
    for (d, t) in dst.iter_mut().zip(tmp.iter()) {
        *d &= t;
    }
}

/// The first set bit at or after `from`, if any.
pub(super) fn next_set(words: &[u64], from: u32) -> Option<u32> {
    let mut w = (from / 64) as usize;
    let first = words.get(w)?;
    let mut cur = first & (u64::MAX << (from % 64));
    loop {
        if cur != 0 {
            // w < words.len() <= u32::MAX / 64 + 1, so this fits.
            return Some((w as u32) * 64 + cur.trailing_zeros());
        }
        w += 1;
        cur = *words.get(w)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_set_walks_in_order_across_words() {
        let mut b = Bits::empty(200);
        for i in [0u32, 63, 64, 130, 199] {
            b.set(i);
        }
        let mut got = Vec::new();
        let mut at = 0;
        while let Some(i) = next_set(b.words(), at) {
            got.push(i);
            at = i + 1;
        }
        assert_eq!(got, vec![0, 63, 64, 130, 199]);
        assert_eq!(next_set(b.words(), 200), None);
        assert_eq!(next_set(b.words(), 131), Some(199));
    }

    #[test]
    fn and_with_extra_keeps_only_base_or_listed() {
        let mut base = Bits::empty(70);
        base.set(1);
        base.set(65);
        let mut dst = vec![u64::MAX; 2];
        let mut tmp = vec![0; 2];
        and_with_extra(&mut dst, base.words(), &[3, 66], &mut tmp);
        let mut got = Vec::new();
        let mut at = 0;
        while let Some(i) = next_set(&dst, at) {
            got.push(i);
            at = i + 1;
        }
        assert_eq!(got, vec![1, 3, 65, 66]);
    }
}
