//! Fixed-width bit sets over rule indices: the classifier's unit of work.
//! A set bit `i` means "rule `i` of the ruleset may match".

/// Bits over `0..len` rules, 64 to a word.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Bits {
    pub(super) words: Vec<u64>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_land_in_their_word() {
        let mut b = Bits::empty(130);
        assert_eq!(b.words().len(), 3);
        for i in [0u32, 63, 64, 129, 500] {
            b.set(i);
        }
        assert_eq!(b.words(), &[1 | 1 << 63, 1, 1 << 1]);
    }
}
