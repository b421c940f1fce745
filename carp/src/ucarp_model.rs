//! A test-only model of ucarp 1.5.2's protocol core, as the lab measured
//! it (spec §2.4, §2.5, §4.4, §5.2, §5.4): the peer our ucarp-compat mode
//! is simulated against. It authenticates one IPv4 VIP, ignores the
//! demote byte, sends a fresh random counter until it hears a peer and
//! then the adopted counter + 1, breaks interval ties by source address
//! (compared as ucarp does on little-endian hosts), sends one extra
//! advert when stepping down, and never bows out. Timers are nominal:
//! the pcap batching and poll quantisation of the real daemon are left
//! out.

use crate::auth::{Authenticator, Key, MessageInput};
use crate::event::{Event, Family, State, Transmit, GROUP_V4};
use crate::host::Received;
use crate::timing::AdvInterval;
use crate::wire::{CarpPacket, CarpRepr, AUTHLEN, TTL, TYPE_ADVERTISEMENT, VERSION};
use std::net::{IpAddr, Ipv4Addr};

pub struct Ucarp {
    pub vhid: u8,
    pub advbase: u8,
    pub advskew: u8,
    pub preempt: bool,
    pub deadratio: u64,
    pub srcip: Ipv4Addr,
    pub state: State,
    auth: Authenticator,
    /// The last counter heard from a peer, once any was.
    adopted: Option<u64>,
    rng: u64,
    ad_at: Option<u64>,
    md_at: Option<u64>,
    out: Vec<Transmit>,
    events: Vec<Event>,
    /// `Bad digest` log lines: adverts that failed its HMAC.
    pub bad_digest: u64,
}

impl Ucarp {
    /// `ucarp --vhid --pass --addr --srcip --advbase --advskew
    /// [--preempt]`, started at `now`: straight to BACKUP with its
    /// master-down timer armed.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        now: u64,
        vhid: u8,
        pass: &[u8],
        vip: Ipv4Addr,
        srcip: Ipv4Addr,
        advbase: u8,
        advskew: u8,
        preempt: bool,
        seed: u64,
    ) -> Self {
        let v4 = [vip];
        let auth = Authenticator::new(
            &Key::from_passphrase(pass),
            &MessageInput {
                vhid,
                hashed_lladdr: None,
                v4: &v4,
                v6: &[],
            },
        );
        let mut u = Ucarp {
            vhid,
            advbase,
            advskew,
            preempt,
            deadratio: 3,
            srcip,
            state: State::Backup,
            auth,
            adopted: None,
            rng: seed | 1,
            ad_at: None,
            md_at: None,
            out: Vec::new(),
            events: Vec::new(),
            bad_digest: 0,
        };
        u.arm_master_down(now);
        u
    }

    fn interval_ns(&self) -> u64 {
        (u64::from(self.advbase) * 1_000_000 + u64::from(self.advskew) * 1_000_000 / 256) * 1_000
    }

    fn arm_master_down(&mut self, now: u64) {
        let ns = (self.deadratio * u64::from(self.advbase) * 1_000_000
            + u64::from(self.advskew) * 1_000_000 / 256)
            * 1_000;
        self.md_at = Some(now + ns);
    }

    fn set_state(&mut self, to: State) {
        let from = self.state;
        self.state = to;
        self.events.push(Event::StateChanged {
            ifname: "ucarp".into(),
            vhid: self.vhid,
            leader: true,
            from,
            to,
            reason: crate::event::Reason::Forced,
        });
    }

    fn next_counter(&mut self) -> u64 {
        match self.adopted {
            Some(c) => {
                let n = c.wrapping_add(1);
                self.adopted = Some(n);
                n
            }
            None => {
                self.rng ^= self.rng << 13;
                self.rng ^= self.rng >> 7;
                self.rng ^= self.rng << 17;
                self.rng
            }
        }
    }

    fn send(&mut self) {
        let counter = self.next_counter();
        let repr = CarpRepr {
            version: VERSION,
            type_: TYPE_ADVERTISEMENT,
            vhid: self.vhid,
            advskew: self.advskew,
            authlen: AUTHLEN,
            demote: 0,
            advbase: self.advbase,
            counter,
            md: self.auth.generate(&counter.to_be_bytes()),
        };
        self.out.push(Transmit {
            ifname: "ucarp".into(),
            carpdev: "eth0".into(),
            vhid: self.vhid,
            family: Family::V4,
            src_mac: [0, 0, 0x5e, 0, 0, self.vhid],
            dst: IpAddr::V4(GROUP_V4),
            ttl: TTL,
            payload: repr.to_bytes(),
        });
    }

    fn become_master(&mut self, now: u64) {
        self.set_state(State::Master);
        self.md_at = None;
        self.send();
        self.ad_at = Some(now + self.interval_ns());
    }

    pub fn handle_advert(&mut self, now: u64, rx: &Received<'_>) {
        let IpAddr::V4(src) = rx.src else { return };
        if src == self.srcip || rx.ttl != TTL || rx.dst != IpAddr::V4(GROUP_V4) {
            return;
        }
        let Ok(p) = CarpPacket::new_checked(rx.payload) else {
            return;
        };
        let Ok(ch) = CarpRepr::parse(&p) else { return };
        if ch.version != VERSION || ch.vhid != self.vhid {
            return;
        }
        if !self.auth.verify(&ch.counter.to_be_bytes(), &ch.md) {
            self.bad_digest += 1;
            return;
        }
        self.adopted = Some(ch.counter);
        let own = AdvInterval::new(self.advbase, self.advskew);
        let peer = AdvInterval::new(ch.advbase, ch.advskew);
        // ucarp reads the address as a host integer: little-endian here.
        let ip_less = u32::from_le_bytes(src.octets()) < u32::from_le_bytes(self.srcip.octets());
        match self.state {
            State::Master => {
                if peer < own || (peer == own && ip_less) {
                    self.send();
                    self.ad_at = None;
                    self.set_state(State::Backup);
                    self.arm_master_down(now);
                }
            }
            State::Backup => {
                let dead = AdvInterval {
                    sec: own.sec * self.deadratio as u32,
                    usec: own.usec,
                };
                if (self.preempt && own < peer) || dead < peer {
                    self.become_master(now);
                } else {
                    self.arm_master_down(now);
                }
            }
            State::Init => {}
        }
    }

    pub fn handle_timeout(&mut self, now: u64) {
        if self.ad_at.is_some_and(|t| t <= now) {
            self.send();
            self.ad_at = Some(now + self.interval_ns());
        }
        if self.md_at.is_some_and(|t| t <= now) && self.state == State::Backup {
            self.become_master(now);
        }
    }

    pub fn poll_timeout(&self) -> Option<u64> {
        [self.ad_at, self.md_at].into_iter().flatten().min()
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        (!self.out.is_empty()).then(|| self.out.remove(0))
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        (!self.events.is_empty()).then(|| self.events.remove(0))
    }
}
