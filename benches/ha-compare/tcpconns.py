#!/usr/bin/python3
"""Long-lived TCP connections through the gateway, for
benches/ha-compare.sh.

  tcpconns.py server ADDR PORT...
      echo every byte back, on each PORT, until killed
  tcpconns.py client ADDR CONNS NATED SECONDS OUT [PORT PORT_NAT]
      CONNS connections to ADDR (the last NATED to PORT_NAT, default
      7001, the others to PORT, 7000); each sends a line every 100 ms
      and waits for its echo, for SECONDS; then writes to OUT
      `alive reset other stall_ms` : connections still echoing in the
      last second, ones ended by a reset, by another error or silence,
      and the longest time any connection waited between two echoes.
      Runs until SECONDS have passed whatever happens (bounded).
"""
import errno
import selectors
import socket
import sys
import time


def server(addr, ports):
    sel = selectors.DefaultSelector()
    for p in ports:
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((addr, int(p)))
        ls.listen(1024)
        ls.setblocking(False)
        sel.register(ls, selectors.EVENT_READ, None)
    while True:
        for key, _ in sel.select():
            if key.data is None:
                c, _ = key.fileobj.accept()
                c.setblocking(False)
                c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sel.register(c, selectors.EVENT_READ, "c")
            else:
                try:
                    b = key.fileobj.recv(65536)
                except OSError:
                    b = b""
                if not b:
                    sel.unregister(key.fileobj)
                    key.fileobj.close()
                    continue
                try:
                    key.fileobj.sendall(b)
                except OSError:
                    pass


def client(addr, conns, nated, seconds, out, port, port_nat):
    sel = selectors.DefaultSelector()
    st = {}
    for i in range(conns):
        s = socket.create_connection((addr, port_nat if i >= conns - nated else port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        now = time.monotonic()
        st[s] = {"last_echo": now, "stall": 0.0, "buf": b"", "end": None, "next": now}
        sel.register(s, selectors.EVENT_READ)
    start = time.monotonic()
    end = start + seconds
    while True:
        now = time.monotonic()
        if now >= end:
            break
        for s, c in st.items():
            if c["end"] is None and now >= c["next"]:
                c["next"] = now + 0.1
                try:
                    s.send(b"x" * 15 + b"\n")
                except BlockingIOError:
                    pass
                except OSError as e:
                    c["end"] = "reset" if e.errno in (errno.ECONNRESET, errno.EPIPE) else "other"
        for key, _ in sel.select(timeout=0.01):
            s = key.fileobj
            c = st[s]
            try:
                b = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                c["end"] = "reset" if e.errno == errno.ECONNRESET else "other"
                sel.unregister(s)
                continue
            if not b:
                c["end"] = "other"
                sel.unregister(s)
                continue
            t = time.monotonic()
            c["stall"] = max(c["stall"], t - c["last_echo"])
            c["last_echo"] = t
    now = time.monotonic()
    alive = reset = other = 0
    stall = 0.0
    for s, c in st.items():
        if c["end"] == "reset":
            reset += 1
        elif c["end"] is None and now - c["last_echo"] < 1.0:
            alive += 1
        else:
            other += 1
        stall = max(stall, c["stall"], now - c["last_echo"] if c["end"] else 0)
        s.close()
    with open(out, "w") as f:
        f.write("%d %d %d %.0f\n" % (alive, reset, other, stall * 1000))


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    if sys.argv[1] == "server":
        server(sys.argv[2], sys.argv[3:])
    elif sys.argv[1] == "client":
        a = sys.argv[2:]
        port = int(a[5]) if len(a) > 5 else 7000
        port_nat = int(a[6]) if len(a) > 6 else 7001
        client(a[0], int(a[1]), int(a[2]), float(a[3]), a[4], port, port_nat)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
