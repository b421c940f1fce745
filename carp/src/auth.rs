//! CARP's HMAC-SHA1 (spec §2): the key, the message OpenBSD hashes, its
//! two verification contexts, and ucarp's one-address case.
//!
//! OpenBSD keeps a 20-byte key buffer (the passphrase, NUL, zeros) and
//! runs a hand-rolled HMAC over it; since trailing zero bytes of an HMAC
//! key do not change the result, that is RFC 2104 HMAC-SHA1 keyed with the
//! passphrase itself, so the stock `Hmac<Sha1>` is used here (§2.1).

use hmac::{Hmac, Mac};
use sha1::Sha1;
use std::net::{Ipv4Addr, Ipv6Addr};

type HmacSha1 = Hmac<Sha1>;

/// `CARP_KEY_LEN`: the key buffer OpenBSD copies the passphrase into.
pub const KEY_LEN: usize = 20;
/// Passphrase bytes that survive: the buffer keeps room for a NUL.
pub const MAX_PASSPHRASE: usize = KEY_LEN - 1;

/// The shared key: the passphrase as OpenBSD's `ifconfig … pass` stores it.
#[derive(Clone)]
pub struct Key {
    buf: [u8; KEY_LEN],
    len: usize,
    truncated: bool,
}

/// Keys are equal when OpenBSD would hash with the same bytes.
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.buf == other.buf
    }
}
impl Eq for Key {}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A key never reaches a log line.
        f.write_str("Key(..)")
    }
}

impl Key {
    /// OpenBSD's rule: the first 19 bytes of `passphrase`, the rest
    /// dropped silently (`ifconfig` uses a bounded copy). Use
    /// [`Key::is_truncated`] to warn about it, as ucarp would refuse it.
    pub fn from_passphrase(passphrase: &[u8]) -> Self {
        let len = passphrase.len().min(MAX_PASSPHRASE);
        let mut buf = [0u8; KEY_LEN];
        buf[..len].copy_from_slice(&passphrase[..len]);
        Key {
            buf,
            len,
            truncated: passphrase.len() > MAX_PASSPHRASE,
        }
    }

    /// Did the passphrase this key came from lose bytes?
    pub fn was_truncated(&self) -> bool {
        self.truncated
    }

    /// Would `passphrase` lose bytes (and be refused by ucarp)?
    pub fn is_truncated(passphrase: &[u8]) -> bool {
        passphrase.len() > MAX_PASSPHRASE
    }

    /// The 20-byte buffer as OpenBSD holds it (passphrase, zero padding).
    pub fn as_buffer(&self) -> &[u8; KEY_LEN] {
        &self.buf
    }

    fn passphrase(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// OpenBSD's two message variants (§2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// `HMAC_ORIG`: link-local IPv6 addresses included.
    Orig,
    /// `HMAC_NOV6LL`: link-local IPv6 addresses skipped; what is sent.
    NoV6Ll,
}

/// Everything of a carp interface and vhost the message covers.
#[derive(Debug, Clone, Copy)]
pub struct MessageInput<'a> {
    pub vhid: u8,
    /// The carp lladdr when it must be hashed: set by the administrator
    /// to neither the leader's virtual MAC nor the carpdev's own MAC, and
    /// only for the leader vhost (§2.2 item 3). `None` otherwise.
    pub hashed_lladdr: Option<[u8; 6]>,
    pub v4: &'a [Ipv4Addr],
    pub v6: &'a [Ipv6Addr],
}

/// fe80::/10: the addresses the kernel stores with an embedded scope.
/// Interface addresses are unicast, so the multicast scoped ranges of
/// `IN6_IS_SCOPE_EMBED` never occur here.
pub fn is_v6_link_local(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

/// The sorted address part of the message. OpenBSD selects "the next
/// larger than the last" with strict comparisons starting from all-zeros
/// and bounded by all-ones, which sorts, collapses duplicates and can
/// never pick 0.0.0.0 / 255.255.255.255 (nor :: / ffff:…:ffff).
fn push_addresses(out: &mut Vec<u8>, ctx: Context, v4: &[Ipv4Addr], v6: &[Ipv6Addr]) {
    let mut four: Vec<u32> = v4
        .iter()
        .map(|a| u32::from(*a))
        .filter(|&a| a != 0 && a != u32::MAX)
        .collect();
    four.sort_unstable();
    four.dedup();
    for a in four {
        out.extend_from_slice(&a.to_be_bytes());
    }
    let mut six: Vec<[u8; 16]> = v6
        .iter()
        .filter(|a| ctx == Context::Orig || !is_v6_link_local(a))
        .map(|a| {
            let mut o = a.octets();
            if is_v6_link_local(a) {
                // The kernel form carries the scope in bytes 2-3; OpenBSD
                // zeroes them before hashing, giving the wire form.
                o[2] = 0;
                o[3] = 0;
            }
            o
        })
        .filter(|o| *o != [0u8; 16] && *o != [0xffu8; 16])
        .collect();
    six.sort_unstable();
    six.dedup();
    for a in six {
        out.extend_from_slice(&a);
    }
}

/// The message without its trailing counter: version 2, type 1, the
/// hashed lladdr if any, vhid, the sorted IPv4 then IPv6 addresses.
pub fn message_prefix(ctx: Context, input: &MessageInput<'_>) -> Vec<u8> {
    let mut m = vec![crate::wire::VERSION, crate::wire::TYPE_ADVERTISEMENT];
    if let Some(mac) = input.hashed_lladdr {
        m.extend_from_slice(&mac);
    }
    m.push(input.vhid);
    push_addresses(&mut m, ctx, input.v4, input.v6);
    m
}

/// The whole message for one counter (§2.2): what the inner hash covers
/// after the key pad.
pub fn message(ctx: Context, input: &MessageInput<'_>, counter: &[u8; 8]) -> Vec<u8> {
    let mut m = message_prefix(ctx, input);
    m.extend_from_slice(counter);
    m
}

/// One vhost's precomputed HMAC states, the way OpenBSD keeps
/// `vhe_sha1[HMAC_MAX]`: the keyed hash already fed the message prefix,
/// cloned per advert to add the counter.
#[derive(Clone)]
pub struct Authenticator {
    orig: HmacSha1,
    nov6ll: HmacSha1,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Authenticator(..)")
    }
}

impl Authenticator {
    pub fn new(key: &Key, input: &MessageInput<'_>) -> Self {
        let prepared = |ctx| {
            // HMAC takes keys of any length (longer ones are hashed), so
            // this cannot fail for the at most 19 bytes a Key holds.
            let mut mac = HmacSha1::new_from_slice(key.passphrase())
                .expect("HMAC-SHA1 accepts keys of any length");
            mac.update(&message_prefix(ctx, input));
            mac
        };
        Authenticator {
            orig: prepared(Context::Orig),
            nov6ll: prepared(Context::NoV6Ll),
        }
    }

    /// The md for `counter` in `ctx`.
    pub fn generate_in(&self, ctx: Context, counter: &[u8; 8]) -> [u8; 20] {
        let mut mac = match ctx {
            Context::Orig => self.orig.clone(),
            Context::NoV6Ll => self.nov6ll.clone(),
        };
        mac.update(counter);
        mac.finalize().into_bytes().into()
    }

    /// The md OpenBSD sends (`HMAC_NOV6LL`).
    pub fn generate(&self, counter: &[u8; 8]) -> [u8; 20] {
        self.generate_in(Context::NoV6Ll, counter)
    }

    /// Accept `md` if it matches either context, compared in constant
    /// time (`hmac`'s `verify_slice`), as `carp_hmac_verify` does.
    pub fn verify(&self, counter: &[u8; 8], md: &[u8; 20]) -> bool {
        [&self.orig, &self.nov6ll].into_iter().any(|base| {
            let mut mac = base.clone();
            mac.update(counter);
            mac.verify_slice(md).is_ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn key_is_the_passphrase_zero_padded_to_20() {
        let k = Key::from_passphrase(b"lanpasswd");
        assert_eq!(
            k.as_buffer().to_vec(),
            hex("6c616e7061737377640000000000000000000000")
        );
    }

    #[test]
    fn passphrase_is_truncated_to_19_bytes() {
        let long = b"0123456789abcdefghijXYZ";
        assert!(Key::is_truncated(long));
        assert!(!Key::is_truncated(&long[..19]));
        assert_eq!(
            Key::from_passphrase(long),
            Key::from_passphrase(&long[..19])
        );
    }

    /// Spec §2.6 vector 1: the real ucarp advert.
    #[test]
    fn vector1_ucarp_advert() {
        let v4 = [Ipv4Addr::new(198, 51, 100, 100)];
        let input = MessageInput {
            vhid: 1,
            hashed_lladdr: None,
            v4: &v4,
            v6: &[],
        };
        let counter: [u8; 8] = hex("ebb986ea3ba42cf4").try_into().unwrap();
        assert_eq!(
            message(Context::NoV6Ll, &input, &counter),
            hex("020101c6336464ebb986ea3ba42cf4")
        );
        let a = Authenticator::new(&Key::from_passphrase(b"lanpasswd"), &input);
        let md = a.generate(&counter);
        assert_eq!(md.to_vec(), hex("72b672c3a582fb5f2601e4ae39665a11f6def356"));
        assert!(a.verify(&counter, &md));
    }

    fn vector2_addrs() -> ([Ipv4Addr; 2], [Ipv6Addr; 3]) {
        (
            ["192.0.2.20".parse().unwrap(), "192.0.2.3".parse().unwrap()],
            [
                "2001:db8::20".parse().unwrap(),
                "fe80::200:5eff:fe00:107".parse().unwrap(),
                "2001:db8::3".parse().unwrap(),
            ],
        )
    }

    /// Spec §2.6 vector 2 (OpenBSD message with sorted v4 and v6).
    #[test]
    fn vector2_sorted_addresses_nov6ll() {
        let (v4, v6) = vector2_addrs();
        let input = MessageInput {
            vhid: 7,
            hashed_lladdr: None,
            v4: &v4,
            v6: &v6,
        };
        let counter = [1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(
            message(Context::NoV6Ll, &input, &counter),
            hex(concat!(
                "020107",
                "c0000203c0000214",
                "20010db8000000000000000000000003",
                "20010db8000000000000000000000020",
                "0102030405060708"
            ))
        );
        let a = Authenticator::new(&Key::from_passphrase(b"mekmitasdigoat"), &input);
        assert_eq!(
            a.generate(&counter).to_vec(),
            hex("ede93c1b23793fae9bcecafb917e85b241949853")
        );
    }

    #[test]
    fn vector2_with_lladdr_override() {
        let (v4, v6) = vector2_addrs();
        let input = MessageInput {
            vhid: 7,
            hashed_lladdr: Some([0x02, 0, 0, 0xaa, 0xbb, 0xcc]),
            v4: &v4,
            v6: &v6,
        };
        let a = Authenticator::new(&Key::from_passphrase(b"mekmitasdigoat"), &input);
        assert_eq!(
            a.generate(&[1, 2, 3, 4, 5, 6, 7, 8]).to_vec(),
            hex("db047ae6cc88fb2e27413fc4ff5b51a07fc1cacd")
        );
    }

    /// The ORIG context, cross-computed with Python's `hmac` over the
    /// message with the link-local sorted in: a peer hashing its
    /// link-local is accepted, and its md differs from what we send.
    #[test]
    fn orig_context_includes_link_local_and_is_accepted() {
        let (v4, v6) = vector2_addrs();
        let input = MessageInput {
            vhid: 7,
            hashed_lladdr: None,
            v4: &v4,
            v6: &v6,
        };
        let counter = [1, 2, 3, 4, 5, 6, 7, 8];
        let a = Authenticator::new(&Key::from_passphrase(b"mekmitasdigoat"), &input);
        let orig = a.generate_in(Context::Orig, &counter);
        assert_eq!(
            orig.to_vec(),
            hex("07b1244aacb806a0d444a4093d2400d19f508d6a")
        );
        assert!(a.verify(&counter, &orig));
        assert!(a.verify(&counter, &a.generate(&counter)));
        let mut bad = orig;
        bad[19] ^= 1;
        assert!(!a.verify(&counter, &bad));
    }

    #[test]
    fn wrong_key_vhid_or_address_fails() {
        let v4 = [Ipv4Addr::new(198, 51, 100, 100)];
        let input = MessageInput {
            vhid: 1,
            hashed_lladdr: None,
            v4: &v4,
            v6: &[],
        };
        let counter = [9; 8];
        let md = Authenticator::new(&Key::from_passphrase(b"lanpasswd"), &input).generate(&counter);
        assert!(
            !Authenticator::new(&Key::from_passphrase(b"lanpasswe"), &input).verify(&counter, &md)
        );
        let other = MessageInput { vhid: 2, ..input };
        assert!(
            !Authenticator::new(&Key::from_passphrase(b"lanpasswd"), &other).verify(&counter, &md)
        );
        let v4b = [
            Ipv4Addr::new(198, 51, 100, 100),
            Ipv4Addr::new(198, 51, 100, 101),
        ];
        let two = MessageInput { v4: &v4b, ..input };
        assert!(
            !Authenticator::new(&Key::from_passphrase(b"lanpasswd"), &two).verify(&counter, &md)
        );
    }

    #[test]
    fn duplicates_and_all_zero_or_all_one_addresses_are_not_hashed() {
        let v4 = [
            Ipv4Addr::new(10, 0, 0, 2),
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
            Ipv4Addr::BROADCAST,
        ];
        let input = MessageInput {
            vhid: 3,
            hashed_lladdr: None,
            v4: &v4,
            v6: &[],
        };
        assert_eq!(
            message_prefix(Context::NoV6Ll, &input),
            hex("0201030a0000010a000002")
        );
    }
}
