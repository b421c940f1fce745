//! pf.conf's view of CARP in pfd. `proto carp`, a carp interface as an
//! address (`to carp0`, `(carp0)`) and rules on the carpdev (`pass on
//! em0 proto carp`, the OpenBSD FAQ's advice) are enforced. A rule `on
//! carp0` is not: pfd has no carp interface for traffic to arrive on
//! (OpenBSD's carp_input hands the master's traffic to carp0, pfd's
//! pipeline sees it on the carpdev), so such a rule would never match.
//! It is refused by line rather than silently dead.

use crate::etc::is_carp_name;
use ruleset::compile::Compiled;
use ruleset::hostenv::HostEnv;

/// Does `on NAME` name only carp interfaces: a carp interface, or a
/// group whose every member is one (`carp`)?
fn only_carp(env: &dyn HostEnv, name: &str) -> bool {
    let ifs = env.interfaces();
    if ifs.iter().any(|i| i.name == name) {
        return is_carp_name(name);
    }
    let mut members = ifs.iter().filter(|i| i.groups.iter().any(|g| g == name));
    let mut any = false;
    members.all(|i| {
        any = true;
        is_carp_name(&i.name)
    }) && any
}

/// `FILE:LINE: not supported: ...` for every rule `on` a carp
/// interface (or a group of them), in ruleset order.
pub fn refusals(c: &Compiled, env: &dyn HostEnv, file: &str) -> Vec<String> {
    let mut out = Vec::new();
    for rs in &c.rulesets {
        for r in &rs.rules {
            let Some(id) = r.if_id else { continue };
            let Some(name) = c.ifnames.get(id.0 as usize) else {
                continue;
            };
            if !only_carp(env, name) {
                continue;
            }
            let at = if rs.path.is_empty() {
                String::new()
            } else {
                format!(" (anchor {})", rs.path)
            };
            out.push(format!(
                "{file}:{}: not supported: on {name}: pfd sees a carp interface's traffic on its carpdev; filter there (pass on em0 ...), as the OpenBSD FAQ advises{at}",
                r.line
            ));
        }
    }
    out
}
