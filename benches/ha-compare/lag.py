#!/usr/bin/python3
"""Replication lag from a flowgen send log and a sample.py log of the
backup, for benches/ha-compare.sh.

  lag.py SENDLOG SAMPLES BASE PER_FLOW

Flow k (0-based) is taken as sent at the first send-log line whose count
exceeds k (the end of the 1 ms tick that sent it: an over-estimate of at
most one tick's sending, so lags are under-estimated by as much), and as
held by the backup at the first sample whose count reaches
BASE + PER_FLOW * (k + 1) (states arrive in order; pfd keeps two
states per forwarded flow, in and out; the kernel one). Prints
`sent held p50_ms p99_ms max_ms` over every flow the backup came to hold.
"""
import bisect
import sys


def main():
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    send_t, send_n = [], []
    for line in open(sys.argv[1]):
        if line.startswith("#"):
            continue
        t, n = line.split()
        send_t.append(int(t))
        send_n.append(int(n))
    samp_t, samp_n = [], []
    for line in open(sys.argv[2]):
        t, n = line.split()
        samp_t.append(int(t))
        samp_n.append(int(n))
    base, per = int(sys.argv[3]), int(sys.argv[4])
    sent = send_n[-1] if send_n else 0
    # running maximum: a state that expires must not hide later arrivals
    best = []
    m = 0
    for n in samp_n:
        m = max(m, n)
        best.append(m)
    held = max(0, (best[-1] - base) // per) if best else 0
    held = min(held, sent)
    lags = []
    for k in range(held):
        i = bisect.bisect_right(send_n, k)
        j = bisect.bisect_left(best, base + per * (k + 1))
        if i >= len(send_t) or j >= len(samp_t):
            continue
        lags.append((samp_t[j] - send_t[i]) / 1e6)
    lags.sort()

    def pct(p):
        if not lags:
            return float("nan")
        return lags[min(len(lags) - 1, int(p / 100 * len(lags)))]

    print("%d %d %.1f %.1f %.1f" % (sent, held, max(pct(50), 0), max(pct(99), 0), max(lags[-1] if lags else float("nan"), 0)))


if __name__ == "__main__":
    main()
