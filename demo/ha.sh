#!/usr/bin/env bash
# pfd's HA pair in one command: CARP and pfsync at work, in about a
# minute, on this machine, in network namespaces of its own.
#
#   sudo bash demo/ha.sh         (PFD=path/to/pfd skips the release build;
#                                 CONNS=N connections, 50; KEEP=1 keeps
#                                 the logs in /tmp/pfd-demo; ETC=DIR
#                                 another directory holding fw1/ and fw2/)
#
#   client 192.0.2.10 ── LAN ──┬── eth0 fw1 eth1 ──┬── WAN ── server 198.51.100.10
#        gateway 192.0.2.1     └── eth0 fw2 eth1 ──┘
#                                 eth2 ══ sync ══ eth2
#
# fw1 and fw2 boot from etc/fw1 and etc/fw2 as they are (the OpenBSD
# FAQ's pair: carp0 192.0.2.1 on the LAN, carp1 198.51.100.1 on the
# WAN, pfsync on eth2, the LAN NATed to 198.51.100.1). The client opens
# long-lived TCP connections to the server through the gateway; each
# echoes a line every 100 ms. Then fw1 dies (SIGKILL, its cables
# pulled): fw2 takes both addresses and the connections carry on, on
# the states pfsync gave it. A timeline is printed as it happens, then
# a summary; everything is torn down at the end (or on Ctrl-C).
#
# Only the namespaces this script creates are touched (names pfddemo-*),
# and only documentation addresses are used.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONNS=${CONNS:-50}
ETC=${ETC:-$ROOT/etc}
PY=/usr/bin/python3
P=pfddemo-$$-
WORK=$(mktemp -d /tmp/pfd-demo.XXXXXX)
PIDS=()
T0=$(date +%s%N)

if [ "$(id -u)" -ne 0 ]; then
    echo "demo: needs root, for network namespaces (sudo bash demo/ha.sh)" >&2
    exit 1
fi
for t in ip "$PY"; do
    command -v "$t" >/dev/null 2>&1 || {
        echo "demo: $t is missing (apt-get install iproute2 python3)" >&2
        exit 1
    }
done
if [ -z "${PFD:-}" ]; then
    echo "demo: building pfd (cargo build --release) ..."
    (cd "$ROOT" && cargo build -q --release -p mgmt --bin pfd --bin pfctl --bin ifctl)
    PFD=${CARGO_TARGET_DIR:-$ROOT/target}/release/pfd
fi
PFCTL=$(dirname "$PFD")/pfctl

# shellcheck source=demo/topology.sh
. "$ROOT/demo/topology.sh"

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do { wait "$p"; } 2>/dev/null || true; done
    topo_down
    if [ "${KEEP:-0}" = 1 ]; then
        rm -rf /tmp/pfd-demo
        cp -r "$WORK" /tmp/pfd-demo && echo "demo: logs in /tmp/pfd-demo"
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# at: seconds since the start, to a tenth
at() { printf '%6.1fs' "$(echo "($(date +%s%N) - $T0) / 1000000000" | bc -l)"; }
say() { printf '%s  %s\n' "$(at)" "$*"; }

# wait_for SECONDS CMD...: true once CMD succeeds (polled every 50 ms)
wait_for() {
    local n=$(($1 * 20))
    shift
    while [ "$n" -gt 0 ]; do
        "$@" && return 0
        watch_logs
        sleep 0.05
        n=$((n - 1))
    done
    return 1
}

# Print what the firewalls said since the last look: CARP transitions
# and pfsync's bulk updates, with the time they were seen.
declare -A SEEN=([fw1]=0 [fw2]=0)
watch_logs() {
    local fw lines n
    for fw in fw1 fw2; do
        [ -e "$WORK/$fw.log" ] || continue
        n=$(wc -l <"$WORK/$fw.log")
        if [ "$n" -gt "${SEEN[$fw]}" ]; then
            # the message alone, without pfd's time, level and target
            lines=$(sed -n "$((SEEN[$fw] + 1)),${n}p" "$WORK/$fw.log" |
                grep -oE '(carp[0-9]+: state transition|pfsync0: bulk update).*' || true)
            SEEN[$fw]=$n
            [ -n "$lines" ] && while IFS= read -r l; do say "$fw  $l"; done <<<"$lines"
        fi
    done
    return 0
}

# pause SECONDS, printing what the firewalls say meanwhile
pause() {
    local n=$(($1 * 10))
    while [ "$n" -gt 0 ]; do
        watch_logs
        sleep 0.1
        n=$((n - 1))
    done
}

# --- the network ---------------------------------------------------------
topo_up

echo "pfd HA demo: client -- LAN -- fw1 / fw2 -- WAN -- server, pfsync on eth2 (etc/fw1, etc/fw2)"

# --- the firewalls -------------------------------------------------------
say "fw1 boots"
start_fw fw1
wait_for 20 both_master fw1 || { echo "demo: fw1 did not take the gateways" >&2; cat "$WORK/fw1.log" >&2; exit 1; }
say "fw2 boots"
start_fw fw2
wait_for 30 grep -q "pfsync0: bulk update done" "$WORK/fw2.log" || { echo "demo: fw2's bulk update" >&2; exit 1; }
# fw2 was demoted until its bulk update was in; fw1 (advskew 0, preempt) keeps both
wait_for 10 both_master fw1 || true
pause 2

# --- traffic ---------------------------------------------------------------
ip netns exec "${P}server" "$PY" "$ROOT/benches/ha-compare/tcpconns.py" server 198.51.100.10 7000 7001 \
    </dev/null >"$WORK/server.log" 2>&1 &
PIDS+=($!)
sleep 0.5
RUN=30
ip netns exec "${P}client" "$PY" "$ROOT/benches/ha-compare/tcpconns.py" client 198.51.100.10 \
    "$CONNS" "$CONNS" "$RUN" "$WORK/conns" 7000 7000 </dev/null >"$WORK/client.log" 2>&1 &
CLIENT=$!
PIDS+=($CLIENT)
pause 3
say "$CONNS TCP connections open from the client, through 192.0.2.1, NATed to 198.51.100.1, a line every 100 ms each"
say "states: fw1 $(states fw1), fw2 $(states fw2) (fw2's came by pfsync)"
pause 3

# --- fw1 dies ------------------------------------------------------------------
kill -KILL "$(cat "$WORK/fw1.pid")"
for d in eth0 eth1 eth2; do ip -n "${P}fw1" link set "$d" down; done
KILLED=$(date +%s%N)
say "fw1 dies: pfd SIGKILLed, its three cables pulled"
wait_for 20 both_master fw2 || echo "demo: fw2 did not take the gateways" >&2
TOOK=$(echo "($(date +%s%N) - $KILLED) / 1000000000" | bc -l)
say "fw2 holds both gateways, $(printf '%.1f' "$TOOK") s after fw1 died"
n=0
while [ ! -s "$WORK/conns" ] && [ $n -lt 700 ]; do
    watch_logs
    sleep 0.1
    n=$((n + 1))
done
read -r alive reset other stall <<<"$(cat "$WORK/conns" 2>/dev/null || echo "0 0 0 0")"
say "the client stops after ${RUN} s"
echo
echo "result: $alive of $CONNS connections alive after the failover, $reset reset, $other lost otherwise;"
echo "        the longest wait for an echo was $(printf '%.1f' "$(echo "$stall / 1000" | bc -l)") s (CARP's failover, ~3-4 s, plus TCP's retransmission back-off)"
[ "$alive" = "$CONNS" ]
