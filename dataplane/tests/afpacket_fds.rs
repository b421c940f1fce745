//! AfPacketPort gives back what it takes: sockets and mappings. Alone
//! in its test binary, so no other test opens or closes descriptors
//! while it counts them.

mod netns;

use dataplane::port::{AfPacketCfg, AfPacketPort};
use netns::{can_run, Ns};

fn cfg() -> AfPacketCfg {
    AfPacketCfg {
        rx_block_size: 1 << 16,
        rx_block_nr: 8,
        tx_frame_nr: 256,
        ..AfPacketCfg::default()
    }
}

/// Bytes of this process's address space (`VmSize`), in kB.
fn vm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .expect("read status")
        .lines()
        .find_map(|l| l.strip_prefix("VmSize:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmSize")
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("list fds")
        .count()
}

#[test]
fn opening_and_dropping_ports_leaks_no_descriptors() {
    if !can_run("opening_and_dropping_ports_leaks_no_descriptors") {
        return;
    }
    let ns = Ns::new("leak");
    ns.veth("pa", "pb");
    ns.run(|| {
        // Warm up whatever the first open allocates once (libc caches).
        drop(AfPacketPort::open("pa", &cfg()).expect("open"));
        let before = open_fds();
        let vm_before = vm_kb();
        for _ in 0..50 {
            let p = AfPacketPort::open("pa", &cfg()).expect("open");
            assert_eq!(open_fds(), before + 2, "a port holds two sockets");
            drop(p);
        }
        assert_eq!(open_fds(), before, "descriptors left open");
        // 50 ports of 1 MiB of rings each would show as 50 MiB.
        assert!(
            vm_kb() < vm_before + 8 * 1024,
            "rings left mapped: {} kB -> {} kB",
            vm_before,
            vm_kb()
        );
    });
}
