//! `pfctl -F states` with pfsync: pf removes every state without a
//! delete of its own (DIOCCLRSTATES marks them no-sync) and pfsync
//! sends one CLR naming this host as the creator
//! (`pfsync_clear_states`), so the peer drops the states made here in
//! one go, as many as there are. `pfctl -k` stays a delete per state.

use super::driver::PfsyncHandle;
use ::pfsync::{LocalChange, StateId};
use dataplane::state::SyncId;

impl PfsyncHandle {
    /// The table has just dropped `gone` with no events: one CLR goes to
    /// the peer at once (when pfsync is up), and the machine forgets the
    /// states, updates queued for them included.
    pub fn states_cleared(&self, gone: Vec<SyncId>) -> Result<(), String> {
        self.call(move |m, store, _, now| {
            m.handle_local(now, store, LocalChange::Clear { ifname: None });
            for s in gone {
                let id = StateId::new(s.id, s.creator);
                m.handle_local(now, store, LocalChange::Forget { id });
            }
        })
    }
}
