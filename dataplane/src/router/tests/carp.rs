//! CARP virtual addresses.

use super::*;

const VMAC: [u8; 6] = [0, 0, 0x5e, 0, 1, 1];

pub(super) fn carp_router() -> Router {
    let mut r = router();
    r.add_vip(1, ip("192.0.2.254"), 24, VMAC).unwrap();
    r.add_vip(1, ip("2001:db8:1::fe"), 64, VMAC).unwrap();
    r
}

#[test]
fn carp_backup_stays_silent() {
    let mut r = carp_router();
    learned(&mut r);
    assert!(r.handle_local(&ARP_REQ_FOR_VIP, 1, 0).is_empty());
    assert!(r.handle_local(&NS_FOR_VIP, 1, 0).is_empty());
    assert!(!r.is_local(1, ip("192.0.2.254")));
    // frames to the virtual MAC are not ours
    assert!(r.handle_local(&ECHO4_TO_VIP, 1, 0).is_empty());
    let f = r.forward(&ECHO4_TO_VIP, 1, &pd(&ECHO4_TO_VIP), 0);
    assert_eq!(f.outcome, Outcome::Dropped(Drop::NotForUs));
    // the address is taken, and is not a usable gateway
    assert!(r.add_vip(2, ip("192.0.2.254"), 24, VMAC).is_err());
    let ifs = r.ifaces.clone();
    assert!(r
        .routes
        .add_static(ip("10.0.0.0"), 8, ip("192.0.2.254"), None, &ifs)
        .is_err());
}

#[test]
fn carp_master_answers_with_the_virtual_mac() {
    let mut r = carp_router();
    learned(&mut r);
    let tx = r.set_vip_master(1, ip("192.0.2.254"), true).unwrap();
    assert_eq!(frames(&tx), vec![(1, &GARP_VIP[..])]);
    let tx = r.set_vip_master(1, ip("2001:db8:1::fe"), true).unwrap();
    // the NA, and the MLD join of the address's solicited-node group
    assert_eq!(
        frames(&tx),
        vec![(1, &UNSOL_NA_VIP[..]), (1, &MLD_VIP_JOIN[..])]
    );
    // no second announcement without a change
    assert!(r
        .set_vip_master(1, ip("192.0.2.254"), true)
        .unwrap()
        .is_empty());
    let tx = r.handle_local(&ARP_REQ_FOR_VIP, 1, 0);
    assert_eq!(frames(&tx), vec![(1, &ARP_REPLY_FROM_VIP[..])]);
    let tx = r.handle_local(&NS_FOR_VIP, 1, 0);
    assert_eq!(frames(&tx), vec![(1, &NA_FROM_VIP[..])]);
    assert!(r.is_local(1, ip("192.0.2.254")));
    let tx = r.handle_local(&ECHO4_TO_VIP, 1, 0);
    assert_eq!(frames(&tx), vec![(1, &ECHO4_REPLY_VIP[..])]);
    // traffic to the virtual MAC is routed
    let mut v = UDP_FWD_IN.to_vec();
    v[0..6].copy_from_slice(&VMAC);
    let f = r.forward(&v, 1, &pd(&v), 0);
    assert_eq!(frames(&f.tx), vec![(2, &UDP_FWD_OUT[..])]);
    // our own announcement coming back, or the peer's, is no conflict
    r.handle_local(&GARP_VIP, 1, 0);
    assert_eq!(r.counters.dropped(Drop::DuplicateAddress), 0);
    // back to backup
    assert!(r
        .set_vip_master(1, ip("192.0.2.254"), false)
        .unwrap()
        .is_empty());
    assert!(r.handle_local(&ARP_REQ_FOR_VIP, 1, 0).is_empty());
    assert!(r.set_vip_master(1, ip("192.0.2.9"), true).is_err());
}

#[test]
fn a_new_virtual_mac_is_answered_with_and_the_old_one_dropped() {
    let mut r = carp_router();
    learned(&mut r);
    let vmac5 = [0, 0, 0x5e, 0, 1, 5];
    assert_eq!(r.set_vip_mac(1, ip("192.0.2.254"), vmac5), Ok(true));
    assert_eq!(r.set_vip_mac(1, ip("192.0.2.254"), vmac5), Ok(false));
    assert!(r
        .set_vip_mac(1, ip("192.0.2.254"), [1, 0, 0x5e, 0, 1, 5])
        .is_err());
    assert!(r.set_vip_mac(1, ip("192.0.2.9"), vmac5).is_err());
    let tx = r.set_vip_master(1, ip("192.0.2.254"), true).unwrap();
    // the gratuitous ARP comes from the new MAC
    let garp = &frames(&tx)[0].1;
    assert_eq!(garp[6..12], vmac5);
    let tx = r.handle_local(&ARP_REQ_FOR_VIP, 1, 0);
    let reply = &frames(&tx)[0].1;
    assert_eq!(reply[6..12], vmac5, "ARP reply from the new MAC");
    assert_eq!(reply[22..28], vmac5, "sender hardware address");
    // a frame to the old MAC is no longer ours
    assert!(r.handle_local(&ECHO4_TO_VIP, 1, 0).is_empty());
}
