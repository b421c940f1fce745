//! pfsync's `defer` on the per-packet path (pf_test's `pfsync_defer`):
//! a forwarded packet that created a synced state, routed and addressed,
//! ready to leave, goes to the pfsync thread instead, which holds it
//! until the peer has the state and then hands it back to this worker
//! to send (`Mail::Release`). The state it is held for is the one pf
//! outbound created, as OpenBSD defers at PF_OUT, else the one pf
//! inbound did (the INS of both go out together). Never held, as in
//! OpenBSD: packets that matched a state, `no-sync` states' packets,
//! broadcast and multicast frames. pfd also sends at once a packet
//! that waits for its next hop's address (the router holds it until
//! the neighbour answers) and the firewall's own packets, which OpenBSD
//! would hold too.

use super::Pipeline;
use dataplane::state::SyncId;

impl Pipeline {
    /// Whether `frame`, leaving by `port`, is held for pfsync's peer
    /// (the caller sends it otherwise). A copy goes to the pfsync
    /// thread: the frame's buffer is the port's.
    pub(super) fn deferred(&self, port: usize, frame: &[u8], created: Option<SyncId>) -> bool {
        let (Some(id), Some(h)) = (created, &self.pfsync) else {
            return false;
        };
        // M_BCAST|M_MCAST: the group bit of the destination MAC
        let group = frame.first().is_some_and(|b| b & 1 != 0);
        !group && h.defer(self.index, port, id, frame)
    }
}
