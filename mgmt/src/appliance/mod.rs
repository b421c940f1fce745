//! The appliance image's `/init` (`pfd-init`), the pure parts: which
//! etc directory the kernel command line picks, which interfaces
//! netstart brings up, and the rtnetlink request that does it. The
//! binary (`src/bin/pfd-init.rs`) does the system calls.

pub mod cmdline;
pub mod rtnetlink;

pub use cmdline::{etc_dir, EtcChoice, ETC_PARAM};

use crate::etc::EtcConfig;

/// The interfaces `/init` brings up before pfd starts, as netstart's
/// `ifconfig IF up` would: the physical ones (not carpN or pfsync0,
/// which pfd provides) whose hostname file leaves them up, with the
/// file's MTU if it sets one. Addresses stay off the kernel: pfd owns
/// the interfaces and answers for them itself.
pub fn links_to_raise(cfg: &EtcConfig) -> Vec<(String, Option<u32>)> {
    cfg.interfaces
        .iter()
        .filter(|i| i.up && crate::daemon::is_physical(&i.name))
        .map(|i| (i.name.clone(), i.mtu))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::etc::load_etc;
    use std::path::Path;

    #[test]
    fn the_example_pair_raises_its_three_nics_and_no_pseudo_interface() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../etc/fw1");
        let cfg = load_etc(&dir).unwrap();
        assert_eq!(
            links_to_raise(&cfg),
            [
                ("eth0".to_string(), None),
                ("eth1".to_string(), None),
                ("eth2".to_string(), None)
            ]
        );
    }
}
