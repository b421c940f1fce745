//! The state side of a validated syncookie (pf_test's code after
//! `pf_syncookie_recreate_syn`): the client's handshake with the
//! firewall is already complete (its ACK brought the cookie back), so
//! the state the recreated SYN created goes straight to synproxy's
//! second phase, `PROXY_DST`, as if the firewall had proxied the
//! handshake itself with the cookie as its ISN. `synproxy_step` then
//! opens the connection to the server.

use super::info::StateEvent;
use super::peer::tcps;
use super::table::{secs, StateTable};
use super::tracked::StateId;
use crate::key::StateKey;
use crate::pdesc::Dir;

impl StateTable {
    /// Put the state the client's ACK (`key`, seen in `dir` on `ifidx`)
    /// belongs to in `PROXY_DST`: `isn` is the client's ISN and the
    /// firewall's (the cookie), `mss` what to announce to the server.
    /// `None` if the packet has no state (the rule that passed the
    /// recreated SYN kept none).
    pub fn syncookie_proxy(
        &self,
        key: &StateKey,
        dir: Dir,
        ifidx: u32,
        now_ns: u64,
        isn: (u32, u32),
        mss: u16,
    ) -> Option<StateId> {
        self.with_state(key, dir, ifidx, secs(now_ns), |g, si, idx| {
            let st = g.slots.get_mut(idx as usize)?;
            if st.wire().proto() != crate::pdesc::proto::TCP {
                return None;
            }
            st.src.state = tcps::PROXY_DST;
            st.src.seqlo = isn.0;
            st.src.seqhi = isn.1;
            // synproxy keeps the MSS for the server here (see synproxy.rs)
            st.dst.max_win = mss;
            // the recreated SYN passed no packet through the state
            st.packets = [0; 2];
            st.bytes = [0; 2];
            let id = StateId {
                shard: si as u32,
                idx,
                serial: st.serial,
            };
            self.emit(g, || {
                StateEvent::Update(
                    self.info_at(si, g, idx)
                        .expect("slot is live under this lock"),
                )
            });
            Some(id)
        })
        .flatten()
    }
}
