//! What the workers tell each other. Each worker routes with a router
//! of its own (no lock on the per-packet path), so a neighbour one of
//! them learns, the others are told of: the kernel's fanout may hand
//! the answer to a solicitation to another worker than the one that
//! asked and holds the packets waiting for it.
//!
//! A worker's mailbox is a channel plus a waking loopback port in its
//! port list: a letter is posted on the channel, then an empty frame is
//! injected on the port, which wakes the worker from poll(2) and makes
//! it read its letters. The daemon's ticker uses the same port.

use dataplane::port::LoopbackHandle;
use dataplane::router::Fact;
use std::net::IpAddr;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};

/// One letter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mail {
    /// A neighbour another worker learned from the wire.
    Neighbor(Fact),
    /// A frame the CARP thread built (an advert), to send out of
    /// `port` after pf outbound there; a `unicast` one (to a carppeer)
    /// is routed and its next hop resolved first. To worker 0 only.
    Send {
        port: usize,
        frame: Vec<u8>,
        unicast: bool,
    },
    /// A packet pfsync held for the peer (`defer`), to send out of
    /// `port` as it is: pf passed it and it was routed before it was
    /// held. To the worker that held it.
    Release { port: usize, frame: Vec<u8> },
    /// Answer ARP/ND for these CARP addresses (MASTER) or stop (BACKUP).
    /// To every worker.
    Vip {
        ifindex: u32,
        addrs: Vec<IpAddr>,
        master: bool,
    },
    /// Announce these addresses at `mac`: gratuitous ARP, unsolicited
    /// NA (CARP takeover). To worker 0 only.
    Announce {
        ifindex: u32,
        mac: [u8; 6],
        addrs: Vec<IpAddr>,
    },
    /// These CARP addresses' interface answers with `mac` from now on
    /// (its vhid changed: `ifctl carpN vhid M`). To every worker, before
    /// any `Vip` that makes them master again.
    VipMac {
        ifindex: u32,
        addrs: Vec<IpAddr>,
        mac: [u8; 6],
    },
}

/// Where letters to one worker go.
#[derive(Clone, Debug)]
pub struct Address {
    tx: Sender<Mail>,
    wake: LoopbackHandle,
}

impl Address {
    pub fn new(tx: Sender<Mail>, wake: LoopbackHandle) -> Address {
        Address { tx, wake }
    }

    /// Post `letters` and wake the worker once. False if the worker is
    /// gone (it stopped; nothing to do).
    pub fn post(&self, letters: impl IntoIterator<Item = Mail>) -> bool {
        let mut any = false;
        for m in letters {
            if self.tx.send(m).is_err() {
                return false;
            }
            any = true;
        }
        if any {
            self.wake.inject(&[]);
        }
        true
    }

    /// Wake the worker with no letter (the daemon's tick).
    pub fn tick(&self) {
        self.wake.inject(&[]);
    }

    /// Ticks waiting to be read: the ticker sends one only when none is.
    pub fn pending(&self) -> usize {
        self.wake.pending_rx()
    }
}

/// A worker's own mailbox and the addresses of the other workers.
#[derive(Debug)]
pub struct Mailbox {
    inbox: Receiver<Mail>,
    peers: Vec<Address>,
}

impl Mailbox {
    pub fn new(inbox: Receiver<Mail>, peers: Vec<Address>) -> Mailbox {
        Mailbox { inbox, peers }
    }

    /// Every letter waiting, oldest first.
    pub fn read(&self) -> Vec<Mail> {
        let mut out = Vec::new();
        loop {
            match self.inbox.try_recv() {
                Ok(m) => out.push(m),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return out,
            }
        }
    }

    /// Send `letters` to every other worker.
    pub fn tell_all(&self, letters: &[Mail]) {
        for p in &self.peers {
            p.post(letters.iter().cloned());
        }
    }

    pub fn peers(&self) -> usize {
        self.peers.len()
    }
}

/// Each worker's mailbox with the waking port it reads it by.
pub type WorkerMail = (Mailbox, dataplane::port::LoopbackPort);

/// Mailboxes for `n` workers, each with a waking port for its port
/// list, every one addressed to all the others; and every worker's
/// address, for the ticker.
pub fn mailboxes(n: usize) -> std::io::Result<(Vec<WorkerMail>, Vec<Address>)> {
    let mut addrs = Vec::with_capacity(n);
    let mut parts = Vec::with_capacity(n);
    for w in 0..n {
        let (port, wake) =
            dataplane::port::LoopbackPort::waking(&format!("mail{w}"), [2, 0, 0, 0, 0, 1], 1)?;
        let (tx, rx) = std::sync::mpsc::channel();
        addrs.push(Address::new(tx, wake));
        parts.push((rx, port));
    }
    let boxes = parts
        .into_iter()
        .enumerate()
        .map(|(w, (rx, port))| {
            let peers = addrs
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != w)
                .map(|(_, a)| a.clone())
                .collect();
            (Mailbox::new(rx, peers), port)
        })
        .collect();
    Ok((boxes, addrs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataplane::port::{Port, RxBatch};
    use dataplane::router::Learn;

    fn fact(i: u8) -> Mail {
        Mail::Neighbor(Fact {
            ifindex: 1,
            ip: std::net::IpAddr::from([192, 0, 2, i]),
            mac: [2, 0, 0, 0, 0, i],
            how: Learn::Reachable,
        })
    }

    #[test]
    fn letters_reach_every_other_worker_and_wake_it() {
        let (mut boxes, addrs) = mailboxes(3).unwrap();
        assert_eq!(addrs.len(), 3);
        assert!(boxes.iter().all(|(b, _)| b.peers() == 2));
        boxes[0].0.tell_all(&[fact(1), fact(2)]);
        assert!(boxes[0].0.read().is_empty(), "not to itself");
        for (b, port) in boxes.iter_mut().skip(1) {
            assert_eq!(b.read(), vec![fact(1), fact(2)]);
            let mut rx = RxBatch::new(8, 64);
            // one wake-up frame for the two letters
            assert_eq!(port.rx_burst(&mut rx).unwrap(), 1);
        }
        addrs[2].tick();
        assert_eq!(addrs[2].pending(), 1);
        assert!(boxes[2].0.read().is_empty(), "a tick carries no letter");
    }

    #[test]
    fn posting_to_a_stopped_worker_is_harmless() {
        let (mut boxes, addrs) = mailboxes(2).unwrap();
        drop(boxes.remove(1));
        assert!(!addrs[1].post([fact(3)]));
        boxes[0].0.tell_all(&[fact(4)]);
    }
}
