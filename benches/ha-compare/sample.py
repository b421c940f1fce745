#!/usr/bin/python3
"""How many states a firewall holds, sampled every INTERVAL ms until
STOPFILE exists (or LIMIT s pass): a line `unix_ns count` each time the
count changes, for benches/ha-compare.sh.

  sample.py pfd SOCK OUT STOPFILE [INTERVAL_MS] [LIMIT_S]
      pfd's control socket: `pfctl -si`'s "current entries", the
      request sent on one connection kept open
  sample.py ct - OUT STOPFILE [INTERVAL_MS] [LIMIT_S]
      the kernel's conntrack count of this network namespace
"""
import json
import os
import re
import socket
import sys
import time

ENTRIES = re.compile(r"current entries\s+(\d+)")


def pfd_reader(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    f = s.makefile("rwb")
    req = json.dumps({"version": 1, "request": {"kind": "show", "what": "info"}}).encode() + b"\n"

    def read():
        f.write(req)
        f.flush()
        line = f.readline()
        if not line:
            raise SystemExit("sample: pfd closed the control socket")
        m = ENTRIES.search(line.decode())
        if not m:
            raise SystemExit("sample: no 'current entries' in pfd's answer: %r" % line[:200])
        return int(m.group(1))

    return read


def ct_reader():
    path = "/proc/sys/net/netfilter/nf_conntrack_count"

    def read():
        with open(path) as f:
            return int(f.read())

    return read


def main():
    if len(sys.argv) < 5:
        raise SystemExit(__doc__)
    kind, sock, out, stop = sys.argv[1:5]
    interval = float(sys.argv[5]) / 1000 if len(sys.argv) > 5 else 0.002
    limit = float(sys.argv[6]) if len(sys.argv) > 6 else 600
    read = pfd_reader(sock) if kind == "pfd" else ct_reader()
    end = time.monotonic() + limit
    last = None
    with open(out, "w") as o:
        while time.monotonic() < end and not os.path.exists(stop):
            n = read()
            if n != last:
                o.write("%d %d\n" % (time.time_ns(), n))
                last = n
            time.sleep(interval)
        o.write("%d %d\n" % (time.time_ns(), read()))


if __name__ == "__main__":
    main()
