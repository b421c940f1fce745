//! CARP advertisements as frames: the carp crate gives the 36-byte CARP
//! header; this adds the IP header as carp_send_ad does (IPv4: TOS
//! IPTOS_LOWDELAY 0x10, DF, TTL 255, protocol 112; IPv6: hop limit 255,
//! next header 112) and the Ethernet header (source the carp
//! interface's MAC, destination the group's multicast MAC).

use carp::{Family, Transmit};
use dataplane::wire::build::ethernet_wrap;
use dataplane::wire::ipv4::{Ipv4Options, Ipv4Repr};
use dataplane::wire::ipv6::Ipv6Repr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPPROTO_CARP.
pub const PROTO_CARP: u8 = 112;
/// IPTOS_LOWDELAY, as OpenBSD marks adverts.
const TOS_LOWDELAY: u8 = 0x10;

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

/// The Ethernet multicast address of an IPv4 or IPv6 group.
pub fn multicast_mac(dst: IpAddr) -> Option<[u8; 6]> {
    match dst {
        IpAddr::V4(a) if a.is_multicast() => {
            let o = a.octets();
            Some([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]])
        }
        IpAddr::V6(a) if a.is_multicast() => {
            let o = a.octets();
            Some([0x33, 0x33, o[12], o[13], o[14], o[15]])
        }
        _ => None,
    }
}

/// The frame for `t`, or why not: no address of the family to send
/// from (OpenBSD counts `onomem`/fails the send the same way).
pub fn advert(t: &Transmit, src: &Sources, ident: u16) -> Result<Advert, &'static str> {
    let payload = &t.payload[..];
    let ip = match (t.family, t.dst) {
        (Family::V4, IpAddr::V4(dst)) => {
            let src = src.v4.ok_or("no IPv4 address on the carpdev")?;
            let r = Ipv4Repr {
                src,
                dst,
                protocol: PROTO_CARP,
                tos: TOS_LOWDELAY,
                ttl: t.ttl,
                ident,
                dont_frag: true,
                more_frags: false,
                frag_offset: 0,
                payload_len: payload.len() as u16,
                options: Ipv4Options::default(),
            };
            let mut b = vec![0u8; r.buffer_len()];
            r.emit(&mut b);
            b[r.header_len()..].copy_from_slice(payload);
            b
        }
        (Family::V6, IpAddr::V6(dst)) => {
            let r = Ipv6Repr {
                src: src.v6,
                dst,
                next_header: PROTO_CARP,
                payload_len: payload.len() as u16,
                hop_limit: t.ttl,
                traffic_class: 0,
                flow_label: 0,
            };
            let mut b = vec![0u8; r.buffer_len()];
            r.emit(&mut b);
            b[40..].copy_from_slice(payload);
            b
        }
        _ => return Err("address family mismatch"),
    };
    let mac = multicast_mac(t.dst);
    Ok(Advert {
        frame: ethernet_wrap(&ip, t.src_mac, mac.unwrap_or([0; 6]), None),
        unicast: mac.is_none(),
    })
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
