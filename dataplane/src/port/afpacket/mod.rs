//! The production port: Linux `AF_PACKET` with memory-mapped rings.
//!
//! Two sockets per worker per interface. The receive socket has a
//! TPACKET_V3 ring (the kernel packs frames into blocks, so one poll
//! wake-up hands over many frames), joins the interface's fanout group
//! (the kernel hashes each flow to one worker) and ignores the frames
//! this host sends. The transmit socket has a TPACKET_V2 ring (V3's
//! blocks buy nothing for sending, and fixed slots make "is there room"
//! one status load), bypasses the qdisc layer (a firewall forwards at
//! line rate; queueing disciplines are for the hosts behind it), and is
//! bound with protocol 0 so it receives nothing. Splitting the two also
//! keeps fanout and the ignore-outgoing filter off the transmit path.
//!
//! Limits worth knowing: a frame is handed over when its block is full
//! or `rx_retire_ms` after the block's first frame, so at low rates
//! that is added latency; frames larger than a block (GRO super-frames
//! on interfaces with GRO left on) arrive truncated and are counted,
//! not forwarded: turn GRO/LRO off on firewall interfaces.
//! Fragments hash on addresses only (the kernel's flow dissector does
//! not read ports of fragments), so all fragments of a datagram reach
//! the same worker, though not necessarily the one its first unfragmented
//! packets went to; the engine's reassembly state is shared.
//!
//! What the engine receives is what was on the wire: VLAN tags the
//! kernel moved into the ring header are put back, and TCP/UDP
//! checksums left for offload by a local sender (veth, tap) are filled
//! in. Needs Linux 4.20 or later (PACKET_IGNORE_OUTGOING and its fanout
//! flag); older kernels fail at open, naming the option.

mod rx_ring;
pub mod sys;
mod tx_ring;

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::{Port, PortStats, RxBatch, TxBatch};
use rx_ring::RxRing;
use tx_ring::TxRing;

const ETH_P_ALL: u16 = 0x0003;
/// Ethernet header plus one 802.1Q tag.
const ETH_VLAN_HLEN: u32 = 18;
/// What a V3 block spends besides frame bytes, at most: the block
/// header and one frame header with its alignment and link-layer slack.
const RX_FRAME_OVERHEAD: u32 = 256;

/// How one worker's port on an interface is set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AfPacketCfg {
    /// Bytes per receive block (a multiple of the page size; also the
    /// largest frame that arrives whole, so it must exceed the MTU).
    pub rx_block_size: u32,
    pub rx_block_nr: u32,
    /// Milliseconds before the kernel hands over a block that is not
    /// full: the latency bound at low rates.
    pub rx_retire_ms: u32,
    /// Bytes per transmit slot (a power of two from 256 to 65536); the
    /// largest frame sent is this minus a 32-byte header, which must
    /// cover the MTU plus 18 (Ethernet header and a VLAN tag).
    pub tx_frame_size: u32,
    pub tx_frame_nr: u32,
    /// `PACKET_FANOUT_HASH` group: every worker's port on one interface
    /// uses the same id, and no other interface or process in the
    /// network namespace may use it (the kernel would refuse the join or,
    /// worse, mix the groups). `None` for one worker. A port receives
    /// alone between its bind and its join, so frames arriving in that
    /// instant at start-up can reach two workers.
    pub fanout_group: Option<u16>,
    pub qdisc_bypass: bool,
    /// Receive frames for any destination address, as a bridge or a
    /// firewall in front of other hosts' MACs must.
    pub promisc: bool,
}

impl Default for AfPacketCfg {
    fn default() -> Self {
        // 4 MiB of receive ring and 2 MiB of transmit ring per worker
        // per interface: a few milliseconds of 10 Gb/s, modest enough
        // for a two-core box with several interfaces.
        AfPacketCfg {
            rx_block_size: 1 << 17,
            rx_block_nr: 32,
            rx_retire_ms: 1,
            tx_frame_size: 2048,
            tx_frame_nr: 1024,
            fanout_group: None,
            qdisc_bypass: true,
            promisc: true,
        }
    }
}

/// Why a port could not be opened: the interface, the step that
/// failed (a socket option or call, as strace would name it), and the
/// kernel's answer.
#[derive(Debug)]
pub struct OpenError {
    pub iface: String,
    pub step: &'static str,
    pub source: io::Error,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "af_packet {}: {}: {}",
            self.iface, self.step, self.source
        )
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// One worker's rings on one interface.
pub struct AfPacketPort {
    name: String,
    mac: [u8; 6],
    // Fields drop in order: the rings are unmapped before their sockets
    // close, so the kernel never tears down a ring still mapped.
    rx: RxRing,
    tx: TxRing,
    rx_fd: OwnedFd,
    tx_fd: OwnedFd,
    stats: PortStats,
}

impl AfPacketPort {
    /// Open `iface` (in the calling thread's network namespace).
    pub fn open(iface: &str, cfg: &AfPacketCfg) -> Result<AfPacketPort, OpenError> {
        let err = |step: &'static str| {
            let iface = iface.to_owned();
            move |source: io::Error| OpenError {
                iface,
                step,
                source,
            }
        };
        let invalid = |step: &'static str, why: &str| OpenError {
            iface: iface.to_owned(),
            step,
            source: io::Error::new(io::ErrorKind::InvalidInput, why.to_owned()),
        };
        if cfg.rx_block_size == 0
            || !cfg.rx_block_size.is_multiple_of(sys::page_size())
            || cfg.rx_block_nr == 0
        {
            return Err(invalid(
                "rx ring",
                "block size must be a non-zero multiple of the page size, with at least one block",
            ));
        }
        if !cfg.tx_frame_size.is_power_of_two()
            || !(256..=65536).contains(&cfg.tx_frame_size)
            || cfg.tx_frame_nr == 0
        {
            return Err(invalid(
                "tx ring",
                "slot size must be a power of two from 256 to 65536, with at least one slot",
            ));
        }
        let ifindex = sys::ifindex(iface).map_err(err("if_nametoindex"))?;
        let probe = sys::packet_socket().map_err(err("socket"))?;
        let mtu = sys::mtu(&probe, iface).map_err(err("SIOCGIFMTU"))?;
        drop(probe);
        // Frames the rings cannot hold would be dropped one by one
        // (counted, but every large frame): refuse the set-up instead.
        // The largest frame: MTU, Ethernet header and one VLAN tag.
        let frame_max = mtu.saturating_add(ETH_VLAN_HLEN);
        // A jumbo interface (a pfsync link at MTU 9000, say) gets slots
        // that hold its frames, the next power of two, rather than a
        // refusal the operator could not act on; the slot count stays.
        let tx_frame_size = cfg.tx_frame_size.max(
            frame_max
                .saturating_add(tx_ring::DATA_OFF as u32)
                .checked_next_power_of_two()
                .unwrap_or(u32::MAX),
        );
        let tx_max = tx_frame_size.min(65536) - tx_ring::DATA_OFF as u32;
        if frame_max > tx_max {
            return Err(invalid(
                "tx ring",
                &format!("slots hold frames up to {tx_max} bytes; MTU {mtu} needs {frame_max}: the largest slot is 65536 bytes"),
            ));
        }
        if frame_max.saturating_add(RX_FRAME_OVERHEAD) > cfg.rx_block_size {
            return Err(invalid(
                "rx ring",
                &format!(
                    "a {} byte block cannot hold a frame of MTU {mtu}: raise rx_block_size",
                    cfg.rx_block_size
                ),
            ));
        }

        // Receive side.
        let rx_fd = sys::packet_socket().map_err(err("socket"))?;
        sys::set_packet_opt(
            &rx_fd,
            libc::PACKET_VERSION,
            &(libc::tpacket_versions::TPACKET_V3 as libc::c_int),
        )
        .map_err(err("PACKET_VERSION"))?;
        // The frame size only matters to the kernel's bookkeeping in V3
        // (frames are packed); it must divide the block evenly.
        let frame = 2048u32;
        let req3 = libc::tpacket_req3 {
            tp_block_size: cfg.rx_block_size,
            tp_block_nr: cfg.rx_block_nr,
            tp_frame_size: frame,
            tp_frame_nr: cfg.rx_block_size / frame * cfg.rx_block_nr,
            tp_retire_blk_tov: cfg.rx_retire_ms,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        sys::set_packet_opt(&rx_fd, libc::PACKET_RX_RING, &req3).map_err(err("PACKET_RX_RING"))?;
        let rx_len = cfg.rx_block_size as usize * cfg.rx_block_nr as usize;
        let rx_map = sys::RingMap::new(&rx_fd, rx_len).map_err(err("mmap rx ring"))?;
        // Ignoring our own transmissions is a must for a forwarder
        // (otherwise every forwarded frame comes back to it); older
        // kernels (< 4.20) lack the option and cannot run pfd.
        sys::set_packet_opt(&rx_fd, libc::PACKET_IGNORE_OUTGOING, &1 as &libc::c_int)
            .map_err(err("PACKET_IGNORE_OUTGOING"))?;
        sys::bind_packet(&rx_fd, ifindex, ETH_P_ALL).map_err(err("bind rx"))?;
        if cfg.promisc {
            let mreq = libc::packet_mreq {
                mr_ifindex: ifindex as libc::c_int,
                mr_type: libc::PACKET_MR_PROMISC as u16,
                mr_alen: 0,
                mr_address: [0; 8],
            };
            sys::set_packet_opt(&rx_fd, libc::PACKET_ADD_MEMBERSHIP, &mreq)
                .map_err(err("PACKET_ADD_MEMBERSHIP"))?;
        }
        if let Some(group) = cfg.fanout_group {
            // Once in a group, the group's hook receives for the socket
            // and the socket's own PACKET_IGNORE_OUTGOING no longer
            // applies: the group needs the flag itself.
            let kind = libc::PACKET_FANOUT_HASH | libc::PACKET_FANOUT_FLAG_IGNORE_OUTGOING;
            let arg: u32 = u32::from(group) | (kind << 16);
            sys::set_packet_opt(&rx_fd, libc::PACKET_FANOUT, &arg).map_err(err("PACKET_FANOUT"))?;
        }
        let mac = sys::bound_mac(&rx_fd).map_err(err("getsockname"))?;

        // Transmit side.
        let tx_fd = sys::packet_socket().map_err(err("socket"))?;
        sys::set_packet_opt(
            &tx_fd,
            libc::PACKET_VERSION,
            &(libc::tpacket_versions::TPACKET_V2 as libc::c_int),
        )
        .map_err(err("PACKET_VERSION"))?;
        // Malformed frames come back as free slots instead of stalling
        // the ring behind them.
        sys::set_packet_opt(&tx_fd, libc::PACKET_LOSS, &1 as &libc::c_int)
            .map_err(err("PACKET_LOSS"))?;
        if cfg.qdisc_bypass {
            sys::set_packet_opt(&tx_fd, libc::PACKET_QDISC_BYPASS, &1 as &libc::c_int)
                .map_err(err("PACKET_QDISC_BYPASS"))?;
        }
        let tx_block = tx_frame_size.max(1 << 16);
        let per_block = tx_block / tx_frame_size;
        let tx_blocks = cfg.tx_frame_nr.div_ceil(per_block);
        let req = libc::tpacket_req {
            tp_block_size: tx_block,
            tp_block_nr: tx_blocks,
            tp_frame_size: tx_frame_size,
            tp_frame_nr: per_block * tx_blocks,
        };
        sys::set_packet_opt(&tx_fd, libc::PACKET_TX_RING, &req).map_err(err("PACKET_TX_RING"))?;
        let tx_len = tx_block as usize * tx_blocks as usize;
        let tx_map = sys::RingMap::new(&tx_fd, tx_len).map_err(err("mmap tx ring"))?;
        sys::bind_packet(&tx_fd, ifindex, 0).map_err(err("bind tx"))?;

        Ok(AfPacketPort {
            name: iface.to_owned(),
            mac,
            rx: RxRing::new(rx_map, cfg.rx_block_size as usize, cfg.rx_block_nr as usize),
            tx: TxRing::new(
                tx_map,
                tx_frame_size as usize,
                (per_block * tx_blocks) as usize,
            ),
            rx_fd,
            tx_fd,
            stats: PortStats::default(),
        })
    }

    /// Read the kernel's count of frames dropped for want of ring room
    /// into the stats (the kernel resets its counter on each read).
    pub fn refresh_kernel_stats(&mut self) -> io::Result<()> {
        let s = sys::packet_stats_v3(&self.rx_fd)?;
        self.stats.rx_ring_drops += u64::from(s.tp_drops);
        Ok(())
    }

    /// Largest frame one transmit slot holds.
    pub fn max_tx_frame(&self) -> usize {
        self.tx.max_frame()
    }
}

impl Port for AfPacketPort {
    fn rx_burst(&mut self, out: &mut RxBatch) -> io::Result<usize> {
        Ok(self.rx.read_burst(out, &mut self.stats))
    }

    fn tx_burst(&mut self, frames: &mut TxBatch) -> io::Result<usize> {
        self.tx.send_burst(&self.tx_fd, frames, &mut self.stats)
    }

    fn poll_fd(&self) -> Option<RawFd> {
        Some(self.rx_fd.as_raw_fd())
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn mac(&self) -> [u8; 6] {
        self.mac
    }

    fn stats(&self) -> PortStats {
        self.stats
    }

    fn refresh_stats(&mut self) -> io::Result<()> {
        self.refresh_kernel_stats()
    }
}
