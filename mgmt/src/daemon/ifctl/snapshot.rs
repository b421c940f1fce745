//! What ifctl shows of the carp interfaces, copied out of the host in
//! the CARP thread (one call, so every line is of one moment).

use carp::{CarpHost, LinkState, State};

/// One carp interface at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CarpView {
    pub name: String,
    pub carpdev: String,
    pub lladdr: [u8; 6],
    pub up: bool,
    pub running: bool,
    pub link: LinkState,
    /// `carp: MASTER carpdev em0 vhid 1 advbase 1 advskew 0` (and the
    /// per-vhost lines of a carpnodes interface).
    pub lines: Vec<String>,
    /// `carp` and the interface's other groups.
    pub groups: Vec<String>,
    pub state: State,
    pub vhid: u8,
    pub advbase: u8,
    pub advskew: u8,
    /// The demote count it advertises.
    pub demote: u8,
}

pub fn snapshot(host: &CarpHost) -> Vec<CarpView> {
    host.interfaces()
        .iter()
        .map(|i| {
            let cfg = i.config();
            let mut groups = vec![carp::demote::GROUP_CARP.to_string()];
            groups.extend(cfg.groups.iter().cloned());
            let leader = i.vhosts().first();
            CarpView {
                name: i.name().to_string(),
                carpdev: i.carpdev().to_string(),
                lladdr: i.lladdr(),
                up: i.is_up(),
                running: i.is_running(),
                link: i.link_state(),
                lines: i.status_lines(),
                groups,
                state: i.state(),
                vhid: leader.map_or(0, |v| v.vhid()),
                advbase: cfg.advbase,
                advskew: cfg.nodes.first().map_or(0, |n| n.advskew),
                demote: host.demote_count(i.name()).unwrap_or(0),
            }
        })
        .collect()
}

/// `status:` of a carp interface (`get_linkstate` for IFT_CARP).
pub fn status_word(l: LinkState) -> &'static str {
    match l {
        LinkState::Up => "master",
        LinkState::Down => "backup",
        LinkState::Invalid => "invalid",
    }
}
