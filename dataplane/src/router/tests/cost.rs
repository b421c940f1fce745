//! The forwarding cost, measured (ignored; run in release).

use super::*;

/// Cost of the forwarding path, printed; run with
/// `cargo test --release -p dataplane router::tests::cost -- --ignored --nocapture`.
#[test]
#[ignore = "timing measurement, not a test: run in release with --ignored --nocapture"]
fn forward_cost() {
    let mut r = router();
    learned(&mut r);
    let ifs = r.ifaces.clone();
    r.routes
        .set_default(ip("198.51.100.20"), None, &ifs)
        .unwrap();
    for i in 0..20u8 {
        r.routes
            .add_static(ip(&format!("10.{i}.0.0")), 16, ip("192.0.2.10"), None, &ifs)
            .unwrap();
    }
    let (p4, p6) = (pd(&UDP_FWD_IN), pd(&UDP6_FWD_IN));
    let n = 2_000_000u64;
    for (name, frame, p) in [("v4", &UDP_FWD_IN[..], &p4), ("v6", &UDP6_FWD_IN[..], &p6)] {
        let t = std::time::Instant::now();
        let mut bytes = 0usize;
        let mut tx = Vec::with_capacity(4);
        for i in 0..n {
            r.forward_into(frame, 1, p, i, &mut tx);
            bytes += tx.len();
            tx.clear();
        }
        let ns = t.elapsed().as_nanos() as f64 / n as f64;
        println!("forward {name}: {ns:.1} ns/packet ({bytes} frames)");
    }
    // in place: the frame is refilled each time as a receive ring would
    let mut buf = Vec::with_capacity(2048);
    let mut tx = Vec::with_capacity(4);
    for (name, frame, p) in [("v4", &UDP_FWD_IN[..], &p4), ("v6", &UDP6_FWD_IN[..], &p6)] {
        let t = std::time::Instant::now();
        let mut sent = 0usize;
        for i in 0..n {
            buf.clear();
            buf.extend_from_slice(frame);
            if let InPlace::Send { .. } = r.forward_in_place(&mut buf, 1, p, i, &mut tx) {
                sent += 1;
            }
            tx.clear();
        }
        let ns = t.elapsed().as_nanos() as f64 / n as f64;
        println!("forward_in_place {name}: {ns:.1} ns/packet ({sent} sent)");
    }
    let t = std::time::Instant::now();
    let mut hits = 0usize;
    for i in 0..n {
        let d = (i as u32).wrapping_mul(2654435761) | 0x0a00_0000;
        hits += usize::from(
            r.routes
                .lookup(ruleset::addr::Af::Inet, u128::from(d) << 96)
                .is_some(),
        );
    }
    let ns = t.elapsed().as_nanos() as f64 / n as f64;
    println!("route lookup v4 (23 routes, 3 prefix lengths): {ns:.1} ns ({hits} hits)");
}
