//! Demotion counters per interface group (spec §5.6).
//!
//! Every interface group has a counter; a carp interface's demote count
//! (the byte it advertises and compares with) is the sum over its groups,
//! or its private count when that sum is zero, capped at 255.

use std::collections::BTreeMap;
use thiserror::Error;

/// The group every carp interface is in.
pub const GROUP_CARP: &str = "carp";
/// The group every interface is in; demotion adjustments skip it.
pub const GROUP_ALL: &str = "all";
/// The largest per-group value `ifconfig -g G carpdemote` may reach.
pub const MAX_GROUP_DEMOTE: u32 = 255;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DemoteError {
    /// `if_setgroupattribs` refuses a result outside 0..=255 (EINVAL).
    #[error("group {group}: carp demote count {current} {delta:+} is outside 0..=255")]
    OutOfRange {
        group: String,
        current: u32,
        delta: i32,
    },
}

/// One adjusted group, for the `demoted group` log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjusted {
    pub group: String,
    pub new: u32,
}

/// The counters of all groups, keyed by name. Groups spring into being at
/// zero when first named.
#[derive(Debug, Clone, Default)]
pub struct DemoteGroups {
    counters: BTreeMap<String, u32>,
}

fn apply(current: u32, delta: i32) -> u32 {
    // OpenBSD clamps adjustments at zero and leaves the top open (the sum
    // is capped at 255 when read).
    let v = i64::from(current) + i64::from(delta);
    v.clamp(0, i64::from(u32::MAX)) as u32
}

impl DemoteGroups {
    pub fn get(&self, group: &str) -> u32 {
        self.counters.get(group).copied().unwrap_or(0)
    }

    /// `carp_group_demote_adj` on the groups of one interface: every group
    /// but `all` moves by `delta`, never below zero. Returns the new values
    /// and whether some group went from 0 to 1 on a positive adjustment
    /// (then every MASTER vhost advertises at once).
    pub fn adjust<'a>(
        &mut self,
        groups: impl IntoIterator<Item = &'a str>,
        delta: i32,
    ) -> (Vec<Adjusted>, bool) {
        let mut out = Vec::new();
        let mut need_ad = false;
        for g in groups {
            if g == GROUP_ALL {
                continue;
            }
            let c = self.counters.entry(g.to_string()).or_insert(0);
            *c = apply(*c, delta);
            if delta > 0 && *c == 1 {
                need_ad = true;
            }
            out.push(Adjusted {
                group: g.to_string(),
                new: *c,
            });
        }
        (out, need_ad)
    }

    /// `ifconfig -g G [-]carpdemote N`: refused when the result leaves
    /// 0..=255, as the kernel does.
    pub fn set_attr(&mut self, group: &str, delta: i32) -> Result<u32, DemoteError> {
        let current = self.get(group);
        let v = i64::from(current) + i64::from(delta);
        if !(0..=i64::from(MAX_GROUP_DEMOTE)).contains(&v) {
            return Err(DemoteError::OutOfRange {
                group: group.to_string(),
                current,
                delta,
            });
        }
        self.counters.insert(group.to_string(), v as u32);
        Ok(v as u32)
    }

    /// The demote count of an interface in `groups` with private count
    /// `private`: the groups' sum, or the private count if the sum is
    /// zero, capped at 255.
    pub fn count<'a>(&self, groups: impl IntoIterator<Item = &'a str>, private: u32) -> u8 {
        let sum: u64 = groups.into_iter().map(|g| u64::from(self.get(g))).sum();
        let c = if sum == 0 { u64::from(private) } else { sum };
        c.min(255) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_of_groups_capped_at_255() {
        let mut d = DemoteGroups::default();
        d.set_attr("carp", 200).unwrap();
        d.set_attr("uplink", 100).unwrap();
        assert_eq!(d.count(["carp"], 0), 200);
        assert_eq!(d.count(["carp", "uplink"], 0), 255);
    }

    #[test]
    fn private_count_only_when_groups_sum_to_zero() {
        let mut d = DemoteGroups::default();
        assert_eq!(d.count(["carp"], 3), 3);
        d.set_attr("carp", 1).unwrap();
        assert_eq!(d.count(["carp"], 3), 1);
    }

    #[test]
    fn adjust_clamps_at_zero_skips_all_and_flags_zero_to_one() {
        let mut d = DemoteGroups::default();
        let (adj, need) = d.adjust(["all", "carp", "lan"], 1);
        assert!(need);
        assert_eq!(adj.len(), 2);
        assert_eq!(d.get("all"), 0);
        let (_, need) = d.adjust(["carp"], 1);
        assert!(!need, "1 -> 2 sends nothing");
        d.adjust(["carp"], -5);
        assert_eq!(d.get("carp"), 0);
    }

    #[test]
    fn group_attribute_refuses_leaving_0_to_255() {
        let mut d = DemoteGroups::default();
        assert_eq!(d.set_attr("carp", 128), Ok(128));
        assert!(d.set_attr("carp", 128).is_err());
        assert_eq!(d.get("carp"), 128);
        assert!(d.set_attr("carp", -129).is_err());
        assert_eq!(d.set_attr("carp", -128), Ok(0));
    }
}
