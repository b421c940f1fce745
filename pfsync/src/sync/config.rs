//! Configuration of the sync machine (`ifconfig pfsync0 ...`, spec §9).

use crate::auth::AuthConfig;
use crate::wire::{bus, section::SUBHEADER_LEN, state, HEADER_LEN, IP_HEADER_LEN};

/// `maxupd` default.
pub const DEFAULT_MAXUPD: u8 = 128;
/// ETHERMTU.
pub const DEFAULT_MTU: u16 = 1500;
/// pf's default `set limit states`.
pub const DEFAULT_STATE_LIMIT: u32 = 100_000;

#[derive(Debug, Clone)]
pub struct Config {
    /// This node's hostid: creator of its states, sender of BUS and CLR.
    /// Never 0.
    pub creator: u32,
    /// TCP updates of a queued state before it is sent early (0..=255).
    pub maxupd: u8,
    /// Packets of a bulk update sent per 20 ms step. OpenBSD sends one
    /// (`PFSYNC_BULK_SND_IVAL_MS`), which is 250 states/s at MTU 1500:
    /// hours for a million states. pfd-to-pfd pairs may send more; the
    /// receiver's pace is unchanged (it imports what arrives).
    pub bulk_burst: u16,
    /// Hold the first packet of new states until the peer acknowledges.
    pub defer: bool,
    /// pfsync MTU: bound for every packet including the IPv4 header.
    pub mtu: u16,
    /// pf's state limit: sizes the bulk update timeout (spec §6.2).
    pub state_limit: u32,
    /// pfd's authenticated mode; `None` (the default) speaks plain
    /// OpenBSD pfsync.
    pub auth: Option<AuthConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("hostid 0 is invalid: peers refuse states with creatorid 0")]
    ZeroCreator,
    #[error("mtu {mtu} too small: at least {min} needed for one full state record")]
    MtuTooSmall { mtu: u16, min: usize },
}

impl Config {
    pub fn new(creator: u32) -> Self {
        Config {
            creator,
            maxupd: DEFAULT_MAXUPD,
            bulk_burst: 1,
            defer: false,
            mtu: DEFAULT_MTU,
            state_limit: DEFAULT_STATE_LIMIT,
            auth: None,
        }
    }

    /// Bytes every packet spends besides its sections: IPv4 and pfsync
    /// headers, and the authentication trailer when on.
    pub fn overhead(&self) -> usize {
        IP_HEADER_LEN
            + HEADER_LEN
            + if self.auth.is_some() {
                crate::auth::TRAILER_LEN
            } else {
                0
            }
    }

    /// The smallest MTU that carries a bulk packet's BUS section and one
    /// state. OpenBSD accepts anything above 40 but then cannot send a
    /// state at all; pfd refuses such an MTU up front.
    pub fn min_mtu(&self) -> usize {
        self.overhead() + SUBHEADER_LEN + bus::LEN + SUBHEADER_LEN + state::LEN
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.creator == 0 {
            return Err(ConfigError::ZeroCreator);
        }
        if usize::from(self.mtu) < self.min_mtu() {
            return Err(ConfigError::MtuTooSmall {
                mtu: self.mtu,
                min: self.min_mtu(),
            });
        }
        Ok(())
    }

    /// Bulk update timeout (spec §6.2): 4 × t seconds with
    /// t = ⌊⌊limit ÷ states per packet⌋ ÷ 50⌋, at least 1.
    pub fn bulk_timeout_ns(&self) -> u64 {
        let per_pkt = (usize::from(self.mtu).saturating_sub(IP_HEADER_LEN + HEADER_LEN)
            / state::LEN)
            .max(1) as u64;
        let t = (u64::from(self.state_limit) / per_pkt / 50).max(1);
        4 * t * super::SEC
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_give_openbsds_1600_second_bulk_timeout() {
        let c = Config::new(1);
        assert_eq!(c.bulk_timeout_ns(), 1600 * super::super::SEC);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn refuses_zero_hostid_and_tiny_mtu() {
        assert_eq!(Config::new(0).validate(), Err(ConfigError::ZeroCreator));
        let mut c = Config::new(1);
        c.mtu = 300;
        assert!(matches!(
            c.validate(),
            Err(ConfigError::MtuTooSmall { min: 324, .. })
        ));
        c.state_limit = 10;
        c.mtu = 1500;
        assert_eq!(c.bulk_timeout_ns(), 4 * super::super::SEC);
    }
}
