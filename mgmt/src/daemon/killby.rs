//! `pfctl -k label NAME`, `pfctl -k id ID[/CREATOR]` and `pfctl -k
//! gateway -k ADDR[/PREFIX]` (states whose route-to, reply-to or dup-to
//! next hop is in the network) on the running pfd (`killed N states`);
//! `-k key` is refused.

use super::show::View;
use crate::control::{ErrorKind, KillBy, Response};
use serde_json::json;

impl View {
    pub(super) fn kill_by(&self, interface: Option<&str>, by: KillBy) -> Response {
        let engine = self.engine.get();
        let on_if = |st: &dataplane::state::StateInfo| {
            interface.is_none_or(|i| self.state_ifname(&engine, st) == i)
        };
        let n = match by {
            KillBy::Label { label } => {
                // the label of the rule that created the state
                let label_of = |st: &dataplane::state::StateInfo| {
                    let r = engine.state_ref(st.rule)?;
                    let id = engine.rules().get(r)?.actions.label?;
                    engine.compiled().labels.get(id.0 as usize).cloned()
                };
                self.kill(|st| on_if(st) && label_of(st).as_deref() == Some(label.as_str()))
            }
            KillBy::Id { id, creator } => {
                // pf: the creator defaults to this host's
                let creator = creator.unwrap_or_else(|| engine.states().host_id());
                self.kill(|st| st.sync.id == id && st.sync.creator == creator)
            }
            KillBy::Gateway { addr } => {
                let Ok(net) = crate::net::parse_net(&addr) else {
                    return Response::error(
                        ErrorKind::BadRequest,
                        format!("{addr}: not an address or network"),
                    );
                };
                let routed_via = |st: &dataplane::state::StateInfo| {
                    engine
                        .state_route(st.id)
                        .is_some_and(|r| crate::net::in_net(r.next_hop, &net))
                };
                self.kill(|st| on_if(st) && routed_via(st))
            }
            other => {
                return Response::error(
                    ErrorKind::NotSupported,
                    format!(
                        "not supported: -k {}",
                        match other {
                            KillBy::Key { .. } => "key",
                            _ => "in this form",
                        }
                    ),
                )
            }
        };
        Response::Ok {
            text: Some(format!("killed {n} states\n")),
            json: Some(json!({ "killed": n })),
        }
    }
}
