#!/usr/bin/env bash
# Lab script: forwarding through pfd against the Linux kernel, in the same
# namespace topology and the same run.
#
#   benches/forward-compare.sh        (as root; SECS=N per measurement, default 5;
#                                      PIN=1: iperf3 on core 0, pfd on core 1;
#                                      WORKERS=N: pfd run --workers N, default 1)
#
# client (192.0.2.10) -- fw -- server (198.51.100.10), veth pairs, three
# scratch network namespaces per mode, removed at the end. Modes:
#   kernel  the fw namespace's kernel forwards (addresses on its veths)
#   nft     the same with a stateful nftables ruleset (conntrack): new
#           flows from the client side accepted, established ones back
#   pfd     the fw kernel holds no address; `pfd run` (WORKERS workers) owns
#           the veths with the equivalent pf.conf
# Measured with iperf3: 64-byte UDP datagrams at full rate (packets/s the
# server received) and one TCP stream (Gbit/s). Never touches the root
# namespace. Figures go in BENCHMARKS.md with the machine they came from.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
SECS=${SECS:-5}
TAG=fc$$
WORK=$(mktemp -d /tmp/pfd-forward.XXXXXX)
PFD_PID=
SRV_PID=

cleanup() {
    [ -n "$PFD_PID" ] && kill "$PFD_PID" 2>/dev/null || true
    [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null || true
    for n in c f s; do ip netns del "$TAG$n" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

if [ "$(id -u)" -ne 0 ]; then
    echo "forward-compare: needs root (network namespaces)" >&2
    exit 1
fi
for t in iperf3 nft ip ethtool; do
    command -v "$t" >/dev/null || { echo "forward-compare: $t missing" >&2; exit 1; }
done
(cd "$ROOT" && cargo build -q --release -p mgmt --bin pfd)
PFD=$TARGET/release/pfd
# PIN=1: the traffic (iperf3 client and server, and with them the
# kernel's forwarding softirq, which runs on the sending core) on core 0,
# pfd's worker on core 1: pfd uses one core of its own.
IPERF_PIN=
PFD_PIN=
if [ "${PIN:-0}" = 1 ]; then
    IPERF_PIN="taskset -c 0"
    PFD_PIN="taskset -c 1"
fi

topology() { # $1: mode
    for n in c f s; do ip netns add "$TAG$n"; ip -n "$TAG$n" link set lo up; done
    ip link add "${TAG}c0" type veth peer name "${TAG}f0"
    ip link add "${TAG}s0" type veth peer name "${TAG}f1"
    ip link set "${TAG}c0" netns "${TAG}c"
    ip link set "${TAG}s0" netns "${TAG}s"
    ip link set "${TAG}f0" netns "${TAG}f"
    ip link set "${TAG}f1" netns "${TAG}f"
    ip -n "${TAG}f" link set "${TAG}f0" name veth0
    ip -n "${TAG}f" link set "${TAG}f1" name veth1
    ip -n "${TAG}c" addr add 192.0.2.10/24 dev "${TAG}c0"
    ip -n "${TAG}s" addr add 198.51.100.10/24 dev "${TAG}s0"
    ip -n "${TAG}c" link set "${TAG}c0" up
    ip -n "${TAG}s" link set "${TAG}s0" up
    ip -n "${TAG}f" link set veth0 up
    ip -n "${TAG}f" link set veth1 up
    # Every mode forwards MTU-sized packets: segmentation offloads off on
    # both ends and on the firewall's veths (pfd reads frames as they
    # arrive, so a 64 KB GSO frame would not fit its ring; the kernel
    # modes would otherwise forward a few large frames instead of many
    # small packets). OFFLOAD=on leaves them on, for the kernel modes.
    if [ "${OFFLOAD:-off}" = off ]; then
        ip netns exec "${TAG}c" ethtool -K "${TAG}c0" tso off gso off gro off >/dev/null 2>&1 || true
        ip netns exec "${TAG}s" ethtool -K "${TAG}s0" tso off gso off gro off >/dev/null 2>&1 || true
        ip netns exec "${TAG}f" ethtool -K veth0 tso off gso off gro off >/dev/null 2>&1 || true
        ip netns exec "${TAG}f" ethtool -K veth1 tso off gso off gro off >/dev/null 2>&1 || true
    fi
    ip -n "${TAG}c" route add default via 192.0.2.1
    ip -n "${TAG}s" route add default via 198.51.100.1
    case $1 in
    kernel | nft)
        ip -n "${TAG}f" addr add 192.0.2.1/24 dev veth0
        ip -n "${TAG}f" addr add 198.51.100.1/24 dev veth1
        ip netns exec "${TAG}f" sysctl -qw net.ipv4.ip_forward=1
        ;;
    esac
    if [ "$1" = nft ]; then
        ip netns exec "${TAG}f" nft add table inet fw
        ip netns exec "${TAG}f" nft add chain inet fw filterfwd '{ type filter hook forward priority 0; policy drop; }'
        ip netns exec "${TAG}f" nft add rule inet fw filterfwd ct state established,related accept
        ip netns exec "${TAG}f" nft add rule inet fw filterfwd iifname veth0 ct state new accept
    fi
    if [ "$1" = pfd ]; then
        mkdir -p "$WORK/etc"
        printf 'inet 192.0.2.1 255.255.255.0\nup\n' > "$WORK/etc/hostname.veth0"
        printf 'inet 198.51.100.1 255.255.255.0\nup\n' > "$WORK/etc/hostname.veth1"
        printf 'net.inet.ip.forwarding=1\n' > "$WORK/etc/sysctl.conf"
        printf 'block all\npass out\npass in on veth0\n' > "$WORK/etc/pf.conf"
        ip netns exec "${TAG}f" $PFD_PIN "$PFD" run --etc "$WORK/etc" --control "$WORK/pfd.sock" --workers "${WORKERS:-1}" 2>"$WORK/pfd.log" &
        PFD_PID=$!
        for _ in $(seq 50); do [ -S "$WORK/pfd.sock" ] && break; sleep 0.1; done
        [ -S "$WORK/pfd.sock" ] || { cat "$WORK/pfd.log" >&2; exit 1; }
    fi
    ip netns exec "${TAG}s" $IPERF_PIN iperf3 -s -1 -D -B 198.51.100.10 --logfile "$WORK/srv.log" 2>/dev/null || true
    sleep 0.5
}

teardown() {
    if [ -n "$PFD_PID" ]; then kill "$PFD_PID" 2>/dev/null || true; wait "$PFD_PID" 2>/dev/null || true; PFD_PID=; fi
    pkill -f "iperf3 -s -1 -D -B 198.51.100.10" 2>/dev/null || true
    for n in c f s; do ip netns del "$TAG$n" 2>/dev/null || true; done
    sleep 0.3
}

udp_pps() {
    ip netns exec "${TAG}c" ping -c 2 -W 1 198.51.100.10 >/dev/null 2>&1 || true
    ip netns exec "${TAG}c" $IPERF_PIN iperf3 -c 198.51.100.10 -u -l 64 -b 0 -t "$SECS" --json 2>/dev/null |
        /usr/bin/env python3 -c 'import json,sys; j=json.load(sys.stdin); s=j["end"]["sum"]; print(int((s["packets"]-s["lost_packets"])/s["seconds"]))'
}

tcp_gbps() {
    ip netns exec "${TAG}c" $IPERF_PIN iperf3 -c 198.51.100.10 -t "$SECS" --json 2>/dev/null |
        /usr/bin/env python3 -c 'import json,sys; j=json.load(sys.stdin); print("%.2f" % (j["end"]["sum_received"]["bits_per_second"]/1e9))'
}

echo "mode    udp64_pps  tcp_gbps"
for mode in kernel nft pfd; do
    topology "$mode"
    u=$(udp_pps)
    teardown
    topology "$mode"
    t=$(tcp_gbps)
    teardown
    printf '%-7s %10s %9s\n' "$mode" "$u" "$t"
done
