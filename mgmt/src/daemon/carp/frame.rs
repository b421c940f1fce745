//! CARP advertisements as frames from the addresses of their carpdev
//! (the carp crate adds the IP header as carp_send_ad does: IPv4 TOS
//! IPTOS_LOWDELAY 0x10, DF, TTL 255, protocol 112; IPv6 hop limit 255,
//! next header 112; and the Ethernet header from the carp interface's
//! MAC to the group's multicast MAC).

use ::carp::{Family, Transmit};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPPROTO_CARP.
pub const PROTO_CARP: u8 = ::carp::wire::PROTO;

/// The source addresses adverts leave from on one carpdev.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sources {
    pub v4: Option<Ipv4Addr>,
    /// Its link-local address.
    pub v6: Ipv6Addr,
}

/// An advert ready to send: a whole frame to a multicast group, or one
/// to a unicast `carppeer` whose Ethernet destination the router must
/// still resolve (zero until then).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advert {
    pub frame: Vec<u8>,
    pub unicast: bool,
}

/// The frame for `t` (built by the carp crate, as OpenBSD and ucarp
/// frame adverts), or why not: no address of the family to send from
/// (ip_output would fail the same way).
pub fn advert(t: &Transmit, src: &Sources, ident: u16) -> Result<Advert, &'static str> {
    let src_ip = match t.family {
        Family::V4 => IpAddr::V4(src.v4.ok_or("no IPv4 address on the carpdev")?),
        Family::V6 => IpAddr::V6(src.v6),
    };
    let unicast = ::carp::frame::multicast_mac(t.dst).is_none();
    // A unicast carppeer's MAC is the router's to resolve: zero for now.
    let frame = t
        .to_frame(src_ip, ident, Some([0; 6]))
        .map_err(|_| "address family mismatch")?;
    Ok(Advert { frame, unicast })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataplane::wire::frame::{parse_frame, Link, Parsed};

    fn transmit(family: Family, dst: IpAddr) -> Transmit {
        let mut payload = [0u8; carp::wire::HEADER_LEN];
        payload[0] = 0x21;
        payload[1] = 7;
        Transmit {
            ifname: "carp0".into(),
            carpdev: "eth0".into(),
            vhid: 7,
            family,
            src_mac: [0, 0, 0x5e, 0, 1, 7],
            dst,
            ttl: 255,
            payload,
        }
    }

    fn src() -> Sources {
        Sources {
            v4: Some(Ipv4Addr::new(192, 0, 2, 2)),
            v6: "fe80::1".parse().unwrap(),
        }
    }

    #[test]
    fn ipv4_advert_to_the_group() {
        let a = advert(
            &transmit(Family::V4, IpAddr::from([224, 0, 0, 18])),
            &src(),
            9,
        )
        .unwrap();
        assert!(!a.unicast);
        let f = &a.frame;
        assert_eq!(&f[0..6], &[0x01, 0x00, 0x5e, 0, 0, 0x12]);
        assert_eq!(&f[6..12], &[0, 0, 0x5e, 0, 1, 7]);
        let Ok(Parsed::Ip(pd)) = parse_frame(f, Link::Ethernet) else {
            panic!("not IP")
        };
        assert_eq!(pd.proto, PROTO_CARP);
        assert_eq!(pd.ttl, 255);
        assert_eq!(f[14 + 1], 0x10, "TOS lowdelay");
        assert_eq!(f[14 + 6] & 0x40, 0x40, "DF");
        assert_eq!(pd.src_ip(), IpAddr::from([192, 0, 2, 2]));
        assert_eq!(
            &f[14 + 20..],
            &transmit(Family::V4, pd.dst_ip()).payload[..]
        );
    }

    #[test]
    fn ipv6_advert_and_unicast_peer() {
        let a = advert(
            &transmit(Family::V6, "ff02::12".parse().unwrap()),
            &src(),
            0,
        )
        .unwrap();
        assert_eq!(&a.frame[0..6], &[0x33, 0x33, 0, 0, 0, 0x12]);
        let Ok(Parsed::Ip(pd)) = parse_frame(&a.frame, Link::Ethernet) else {
            panic!("not IP")
        };
        assert_eq!(pd.proto, PROTO_CARP);
        assert_eq!(pd.ttl, 255);
        let u = advert(
            &transmit(Family::V4, IpAddr::from([192, 0, 2, 3])),
            &src(),
            1,
        )
        .unwrap();
        assert!(u.unicast);
        assert_eq!(&u.frame[0..6], &[0; 6]);
        let none = Sources { v4: None, ..src() };
        assert!(advert(
            &transmit(Family::V4, IpAddr::from([224, 0, 0, 18])),
            &none,
            1
        )
        .is_err());
    }
}
