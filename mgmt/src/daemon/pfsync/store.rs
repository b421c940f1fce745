// COMPILE SHIM ONLY: replaced by the pfsync-store branch's store.rs at merge.
use dataplane::engine::Engine;
use dataplane::state::StateEvent;
use pfsync::sync::{ImportError, LocalState, Merge};
use pfsync::{LocalChange, StateId, StateRecord, StateStore};
use std::sync::Arc;
pub struct EngineStore {
    engine: Arc<Engine>,
    ifnames: Vec<String>,
}
impl EngineStore {
    pub fn new(engine: Arc<Engine>, ifnames: Vec<String>) -> Self {
        EngineStore { engine, ifnames }
    }
    pub fn set_engine(&mut self, engine: Arc<Engine>) {
        self.engine = engine;
    }
}
pub fn local_change(_ev: &StateEvent) -> LocalChange {
    unimplemented!()
}
impl StateStore for EngineStore {
    fn lookup(&self, _id: StateId) -> Option<LocalState> {
        unimplemented!()
    }
    fn export(&self, _id: StateId, _now_ns: u64) -> Option<StateRecord> {
        unimplemented!()
    }
    fn import(&mut self, _rec: &StateRecord, _now_ns: u64) -> Result<(), ImportError> {
        unimplemented!()
    }
    fn merge(&mut self, _id: StateId, _merge: &Merge, _now_ns: u64) {
        unimplemented!()
    }
    fn remove(&mut self, _id: StateId) -> bool {
        unimplemented!()
    }
    fn clear(&mut self, _creator: u32, _ifname: Option<&str>) -> Vec<StateId> {
        unimplemented!()
    }
    fn snapshot(&self) -> Vec<StateId> {
        unimplemented!()
    }
}
