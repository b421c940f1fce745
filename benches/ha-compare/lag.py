#!/usr/bin/python3
"""Replication lag, for benches/ha-compare.sh.

  lag.py REF REF_BASE REF_PER SAMPLES BASE PER

REF is a log of `unix_ns count` lines, either flowgen's send log (flows
sent so far; REF_BASE 0, REF_PER 1) or sample.py's log of the master
(states it holds; its count before the run, and states per flow: two
in pfd, in and out, one in the kernel). SAMPLES is sample.py's log of
the backup, BASE its count before the run, PER its states per flow.

Flow k (0-based) is taken as there at the first REF line whose count
reaches REF_BASE + REF_PER * (k + 1), and as held by the backup at the
first sample whose count reaches BASE + PER * (k + 1): states arrive
in order. Against the send log a flow counts from the end of the 1 ms
tick that sent it (lags under-estimated by up to a tick's sending);
against the master's samples, from when the master was seen to hold it
(2 ms samples). Prints `sent held p50_ms p99_ms max_ms`: what REF came
to hold, what the backup came to hold, and the lags over the flows both
hold.
"""
import bisect
import sys


def read(path):
    t, n = [], []
    for line in open(path):
        if line.startswith("#"):
            continue
        a, b = line.split()
        t.append(int(a))
        n.append(int(b))
    # running maximum: a state that expires must not hide later arrivals
    m = 0
    for i, v in enumerate(n):
        m = max(m, v)
        n[i] = m
    return t, n


def main():
    if len(sys.argv) != 7:
        raise SystemExit(__doc__)
    rt, rn = read(sys.argv[1])
    rbase, rper = int(sys.argv[2]), int(sys.argv[3])
    st, sn = read(sys.argv[4])
    base, per = int(sys.argv[5]), int(sys.argv[6])
    sent = max(0, (rn[-1] - rbase) // rper) if rn else 0
    held = max(0, (sn[-1] - base) // per) if sn else 0
    lags = []
    for k in range(min(sent, held)):
        i = bisect.bisect_left(rn, rbase + rper * (k + 1))
        j = bisect.bisect_left(sn, base + per * (k + 1))
        if i < len(rt) and j < len(st):
            lags.append(max(0, st[j] - rt[i]) / 1e6)
    lags.sort()

    def pct(p):
        if not lags:
            return float("nan")
        return lags[min(len(lags) - 1, int(p / 100 * len(lags)))]

    print("%d %d %.1f %.1f %.1f" % (sent, held, pct(50), pct(99), lags[-1] if lags else float("nan")))


if __name__ == "__main__":
    main()
