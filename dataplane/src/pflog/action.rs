//! pf's rule actions (`PF_PASS`, `PF_DROP`, ... in `pfvar.h`), in pf's
//! numbering, which the pflog header carries.

/// A rule's action, numbered as pf numbers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PfAction {
    Pass = 0,
    Drop = 1,
    Scrub = 2,
    NoScrub = 3,
    Nat = 4,
    NoNat = 5,
    Binat = 6,
    NoBinat = 7,
    Rdr = 8,
    NoRdr = 9,
    SynproxyDrop = 10,
    Defer = 11,
    Match = 12,
    Divert = 13,
    Rt = 14,
    Afrt = 15,
}

impl PfAction {
    const ALL: [PfAction; 16] = [
        PfAction::Pass,
        PfAction::Drop,
        PfAction::Scrub,
        PfAction::NoScrub,
        PfAction::Nat,
        PfAction::NoNat,
        PfAction::Binat,
        PfAction::NoBinat,
        PfAction::Rdr,
        PfAction::NoRdr,
        PfAction::SynproxyDrop,
        PfAction::Defer,
        PfAction::Match,
        PfAction::Divert,
        PfAction::Rt,
        PfAction::Afrt,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(c: u8) -> Option<PfAction> {
        PfAction::ALL.get(usize::from(c)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_pfs() {
        for (i, a) in PfAction::ALL.iter().enumerate() {
            assert_eq!(usize::from(a.code()), i);
            assert_eq!(PfAction::from_code(a.code()), Some(*a));
        }
        assert_eq!(PfAction::Match.code(), 12);
        assert_eq!(PfAction::from_code(16), None);
    }
}
