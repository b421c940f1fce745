//! Expiry keeps pace with a steady stream of new flows: pf's purge
//! walks the whole table once per `set timeout interval`, a slice each
//! second, so a state outlives its timeout by an interval at most and
//! the table holds about rate × (timeout + interval) states. The soak
//! lab found the walk behind: one 4,096-slot slice per interval let
//! 500 flows/s fill a 100,000-state table whose flows time out in 60 s.

use super::tests::engine_with;
use super::*;

const SEC: u64 = 1_000_000_000;

/// One UDP datagram from 192.0.2.10 port `sport` to 203.0.113.5:53.
fn udp(sport: u16) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 0xfe, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let mut ip = vec![
        0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 192, 0, 2, 10, 203, 0, 113, 5,
    ];
    let ck = crate::wire::checksum::finish(crate::wire::checksum::sum(&ip));
    ip[10..12].copy_from_slice(&ck.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&53u16.to_be_bytes());
    f.extend_from_slice(&[0, 8, 0, 0]);
    f
}

#[test]
fn a_steady_stream_of_flows_stays_at_rate_times_timeout_plus_interval() {
    // udp.first 60 s, interval 10 s; room for far more than the stream
    // should ever hold, so only expiry bounds it
    let eng = engine_with("set limit states 200000\npass out proto udp\n");
    let mut w = eng.worker();
    let (rate, secs) = (300u64, 200u64);
    let mut most = 0;
    for t in 1..=secs {
        for k in 0..rate {
            let sport = 1024 + ((t * rate + k) % 60000) as u16;
            let mut frame = udp(sport);
            // the flows of one second arrive spread over it
            let now = t * SEC + k * (SEC / rate);
            let v = eng.process(
                &mut w,
                now,
                &mut Packet {
                    frame: &mut frame,
                    ifindex: 0,
                    dir: Dir::Out,
                },
            );
            assert_eq!(v.action, Action::Pass, "t {t} k {k}");
        }
        // the worker's housekeeping tick
        eng.expire((t + 1) * SEC - 1);
        most = most.max(eng.state_count());
    }
    // at most rate × (timeout + interval), plus a second's arrivals
    let bound = (rate * (60 + 10 + 1)) as usize;
    assert!(most <= bound, "{most} states at most, over {bound}");
    // and no fewer than the flows still within their timeout
    assert!(
        eng.state_count() >= (rate * 59) as usize,
        "{}",
        eng.state_count()
    );
}
