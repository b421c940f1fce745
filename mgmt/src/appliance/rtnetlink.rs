//! The one rtnetlink exchange `/init` needs: `RTM_NEWLINK` setting
//! `IFF_UP` (and the MTU) on an interface, and the kernel's answer.
//! Netlink is in the host's byte order.

/// `RTM_NEWLINK`.
const RTM_NEWLINK: u16 = 16;
/// `NLMSG_ERROR`: the answer to a request with `NLM_F_ACK`.
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const IFF_UP: u32 = 0x1;
const IFLA_MTU: u16 = 4;
/// `struct nlmsghdr`.
const NLMSG_HDR: usize = 16;
/// `struct ifinfomsg`.
const IFINFOMSG: usize = 16;

/// The request bringing interface `index` up, with `mtu` if given.
pub fn link_up(index: u32, mtu: Option<u32>, seq: u32) -> Vec<u8> {
    let len = NLMSG_HDR + IFINFOMSG + if mtu.is_some() { 8 } else { 0 };
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&RTM_NEWLINK.to_ne_bytes());
    m.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes()); // to the kernel
    m.push(0); // AF_UNSPEC
    m.push(0);
    m.extend_from_slice(&0u16.to_ne_bytes()); // ifi_type
    m.extend_from_slice(&(index as i32).to_ne_bytes());
    m.extend_from_slice(&IFF_UP.to_ne_bytes()); // ifi_flags
    m.extend_from_slice(&IFF_UP.to_ne_bytes()); // ifi_change: only UP
    if let Some(mtu) = mtu {
        m.extend_from_slice(&8u16.to_ne_bytes());
        m.extend_from_slice(&IFLA_MTU.to_ne_bytes());
        m.extend_from_slice(&mtu.to_ne_bytes());
    }
    m
}

/// What the kernel said to request `seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ack {
    Ok,
    /// The errno it refused with.
    Refused(i32),
    /// Some other message (an answer to another request).
    Other,
}

/// Read the first message of `buf`; `None` if it is too short to be a
/// netlink acknowledgement.
pub fn parse_ack(buf: &[u8], seq: u32) -> Option<Ack> {
    let u16_at = |o: usize| Some(u16::from_ne_bytes(buf.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_ne_bytes(buf.get(o..o + 4)?.try_into().ok()?));
    let len = u32_at(0)? as usize;
    if len < NLMSG_HDR + 4 || len > buf.len() {
        return None;
    }
    if u16_at(4)? != NLMSG_ERROR || u32_at(8)? != seq {
        return Some(Ack::Other);
    }
    match u32_at(NLMSG_HDR)? as i32 {
        0 => Some(Ack::Ok),
        e => Some(Ack::Refused(-e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ne32(v: u32) -> [u8; 4] {
        v.to_ne_bytes()
    }

    #[test]
    fn link_up_is_an_ifinfomsg_changing_only_iff_up() {
        let m = link_up(3, None, 7);
        let mut want = Vec::new();
        want.extend_from_slice(&ne32(32));
        want.extend_from_slice(&16u16.to_ne_bytes());
        want.extend_from_slice(&5u16.to_ne_bytes());
        want.extend_from_slice(&ne32(7));
        want.extend_from_slice(&ne32(0));
        want.extend_from_slice(&[0, 0, 0, 0]);
        want.extend_from_slice(&ne32(3));
        want.extend_from_slice(&ne32(1));
        want.extend_from_slice(&ne32(1));
        assert_eq!(m, want);
    }

    #[test]
    fn the_mtu_rides_as_ifla_mtu() {
        let m = link_up(2, Some(9000), 1);
        assert_eq!(m.len(), 40);
        assert_eq!(&m[..4], &ne32(40));
        assert_eq!(&m[32..34], &8u16.to_ne_bytes());
        assert_eq!(&m[34..36], &4u16.to_ne_bytes());
        assert_eq!(&m[36..], &ne32(9000));
    }

    fn error_msg(seq: u32, errno: i32) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&ne32(36));
        m.extend_from_slice(&2u16.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&ne32(seq));
        m.extend_from_slice(&ne32(0));
        m.extend_from_slice(&(-errno).to_ne_bytes());
        m.extend_from_slice(&link_up(1, None, seq)[..16]);
        m
    }

    #[test]
    fn acks_and_refusals_are_read_and_short_input_is_not() {
        assert_eq!(parse_ack(&error_msg(9, 0), 9), Some(Ack::Ok));
        assert_eq!(parse_ack(&error_msg(9, 19), 9), Some(Ack::Refused(19)));
        assert_eq!(parse_ack(&error_msg(8, 0), 9), Some(Ack::Other));
        let m = error_msg(9, 0);
        for n in 0..20 {
            assert_eq!(parse_ack(&m[..n], 9), None, "{n} bytes");
        }
        let mut lying = m.clone();
        lying[..4].copy_from_slice(&ne32(400));
        assert_eq!(parse_ack(&lying, 9), None);
    }
}
