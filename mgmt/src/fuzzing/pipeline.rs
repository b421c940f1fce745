//! The packet pipeline: frames in, verdicts out, on an engine loaded with
//! [`RULES`](super::rules::RULES), states living from one frame to the
//! next.
//!
//! Each record is one Ethernet frame. Its flags: bit 0 inbound (else
//! outbound), bit 1 on em1 (else em0), bits 2..=7 seconds the virtual
//! clock advances before it (so states, fragments and source nodes
//! expire between frames). A frame the engine sends that pf would run
//! through the ruleset (synproxy's SYN and ACK to the server: not
//! `generated`) goes through it outbound, as the daemon does; every
//! verdict is rendered as `pfd replay` writes it.

use super::records::records;
use super::rules::engine;
use crate::replay::{summary_json, verdict_json};
use dataplane::engine::Packet;
use dataplane::pdesc::Dir;

const SEC: u64 = 1_000_000_000;

/// Frames the engine sends are run through it at most this deep, so
/// that a packet causing another cannot loop.
const MAX_DEPTH: usize = 2;

pub fn pipeline(data: &[u8]) {
    let eng = engine(9);
    let mut w = eng.worker();
    let mut now = SEC;
    let mut index = 0u64;
    for rec in records(data) {
        now += u64::from(rec.flags >> 2) * SEC;
        eng.expire(now);
        let dir = if rec.flags & 1 == 1 {
            Dir::In
        } else {
            Dir::Out
        };
        let ifindex = usize::from(rec.flags >> 1 & 1);
        let mut queue = vec![(rec.bytes.to_vec(), dir, 0usize)];
        while let Some((mut frame, dir, depth)) = queue.pop() {
            let v = eng.process(
                &mut w,
                now,
                &mut Packet {
                    frame: &mut frame,
                    ifindex,
                    dir,
                },
            );
            index += 1;
            // The JSON line names the rule and state; it must render.
            let _ = verdict_json(&eng, index, now, dir, &v);
            if depth < MAX_DEPTH {
                for e in v.emit.into_iter().filter(|e| !e.generated) {
                    queue.push((e.frame, Dir::Out, depth + 1));
                }
            }
        }
    }
    let _ = summary_json(&eng, &w, &Default::default());
}
