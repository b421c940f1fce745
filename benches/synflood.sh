#!/usr/bin/env bash
# Lab script: a SYN flood against a server behind pfd, at the highest
# rate this machine makes, while a client keeps long-lived connections
# open and tries new ones. Not part of CI.
#
#   sudo bash benches/synflood.sh        (as root)
#
# Environment (defaults in brackets):
#   MODES   which protections, each a run of its own    ["state synproxy cookies"]
#             state     plain `keep state` (pf's default): the flood
#                       fills the table with half-open states; at
#                       `set limit states` new flows are dropped
#                       (reason memory) and established ones go on
#             synproxy  `synproxy state` on the server's rule: pf
#                       answers every SYN itself
#             cookies   `set syncookies adaptive (start 25%, end 12%)`
#                       with plain `keep state`
#   LIMIT   set limit states                            [20000]
#   RATE    SYNs per second, 0 for as fast as it goes   [0]
#   FLOOD   seconds of flood                            [10]
#   CONNS   long-lived connections kept open            [20]
#   PFD     a pfd binary (else a release build); pfctl beside it
#
# Topology (namespaces created and deleted here; documentation addresses):
#
#   client 192.0.2.10 (cl0) ---- veth0 192.0.2.1  pfd  veth1 198.51.100.1 ---- server 198.51.100.10
#   the flood leaves the client's cl0 too (AF_PACKET), from 203.0.113.0/24
#
# Per mode it prints: SYNs sent and their rate, pfd's largest state
# count and half-open count, its memory before and at most, the
# long-lived connections alive at the end, new connections that
# succeeded during the flood, and pfd's counters for the drops.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODES=${MODES:-state synproxy cookies}
LIMIT=${LIMIT:-20000}
RATE=${RATE:-0}
FLOOD=${FLOOD:-10}
CONNS=${CONNS:-20}
PY=/usr/bin/python3
P=pfdsyn-$$-
WORK=$(mktemp -d /tmp/pfd-synflood.XXXXXX)
PIDS=()

if [ "$(id -u)" -ne 0 ]; then
    echo "synflood: needs root, for network namespaces" >&2
    exit 1
fi
if [ -z "${PFD:-}" ]; then
    echo "synflood: building pfd and synflood (release) ..."
    (cd "$ROOT" && cargo build -q --release -p mgmt --bin pfd --bin pfctl &&
        cargo build -q --release -p pfd-benches --bin synflood)
    PFD=${CARGO_TARGET_DIR:-$ROOT/target}/release/pfd
fi
BIN=$(dirname "$PFD")
PFCTL=$BIN/pfctl
SYNFLOOD=${SYNFLOOD:-$BIN/synflood}

cleanup() {
    local p n
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do { wait "$p"; } 2>/dev/null || true; done
    for n in client fw server; do ip netns del "$P$n" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ctl() { ip netns exec "$P$1" "${@:2}"; }
si() { ctl fw "$PFCTL" --control "$WORK/fw.sock" -si 2>/dev/null; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

pf_conf() {
    local rule="pass in on veth0 proto tcp to 198.51.100.10 port 7000"
    case $1 in
    state) printf 'set limit states %s\nblock\n%s\npass out\n' "$LIMIT" "$rule" ;;
    synproxy) printf 'set limit states %s\nblock\n%s synproxy state\npass out\n' "$LIMIT" "$rule" ;;
    cookies) printf 'set limit states %s\nset syncookies adaptive (start 25%%, end 12%%)\nblock\n%s\npass out\n' "$LIMIT" "$rule" ;;
    *) echo "synflood: unknown mode $1" >&2; exit 2 ;;
    esac
}

run_mode() {
    local mode=$1 n
    for n in client fw server; do
        ip netns add "$P$n"
        ip -n "$P$n" link set lo up
    done
    ip -n "${P}fw" link add veth0 type veth peer name cl0 netns "${P}client"
    ip -n "${P}fw" link add veth1 type veth peer name sv0 netns "${P}server"
    for n in "fw veth0" "fw veth1" "client cl0" "server sv0"; do
        set -- $n
        ip -n "$P$1" link set "$2" up
        # one frame per segment, as on a real wire
        ctl "$1" ethtool -K "$2" tso off gso off gro off >/dev/null 2>&1 || true
    done
    ip -n "${P}client" addr add 192.0.2.10/24 dev cl0
    ip -n "${P}client" route add default via 192.0.2.1
    ip -n "${P}server" addr add 198.51.100.10/24 dev sv0
    ip -n "${P}server" route add default via 198.51.100.1
    mkdir -p "$WORK/etc"
    echo "inet 192.0.2.1 255.255.255.0" >"$WORK/etc/hostname.veth0"
    echo "inet 198.51.100.1 255.255.255.0" >"$WORK/etc/hostname.veth1"
    echo "net.inet.ip.forwarding=1" >"$WORK/etc/sysctl.conf"
    pf_conf "$mode" >"$WORK/etc/pf.conf"
    ip netns exec "${P}fw" "$PFD" run --etc "$WORK/etc" --control "$WORK/fw.sock" </dev/null >/dev/null 2>"$WORK/fw.log" &
    local pfd=$!
    PIDS+=($pfd)
    n=0
    until si >/dev/null; do
        n=$((n + 1))
        if [ "$n" -gt 100 ] || ! kill -0 "$pfd" 2>/dev/null; then
            echo "$mode: pfd did not start:" >&2
            cat "$WORK/fw.log" >&2
            return 1
        fi
        sleep 0.1
    done
    local fw_mac
    fw_mac=$(ip -n "${P}fw" -br link show veth0 | awk '{ print $3 }')

    ip netns exec "${P}server" "$PY" "$ROOT/benches/ha-compare/tcpconns.py" server 198.51.100.10 7000 \
        </dev/null >"$WORK/server.log" 2>&1 &
    PIDS+=($!)
    sleep 0.5
    local run=$((FLOOD + 8))
    rm -f "$WORK/conns"
    ip netns exec "${P}client" "$PY" "$ROOT/benches/ha-compare/tcpconns.py" client 198.51.100.10 \
        "$CONNS" 0 "$run" "$WORK/conns" 7000 7000 </dev/null >"$WORK/client.log" 2>&1 &
    PIDS+=($!)
    sleep 3
    local rss0
    rss0=$(rss "$pfd")
    ip netns exec "${P}client" "$SYNFLOOD" cl0 "$fw_mac" 198.51.100.10 7000 203.0.113.0/24 "$RATE" "$FLOOD" \
        >"$WORK/flood.out" 2>&1 &
    local flood=$!
    PIDS+=($flood)
    local tried=0 ok=0 max_states=0 max_half=0 max_rss=$rss0 s h r
    local t_end=$(($(date +%s) + FLOOD))
    while [ "$(date +%s)" -lt "$t_end" ]; do
        tried=$((tried + 1))
        if ctl client timeout 3 "$PY" -c 'import socket; socket.create_connection(("198.51.100.10", 7000), timeout=2).close()' 2>/dev/null; then
            ok=$((ok + 1))
        fi
        s=$(si | awk '/current entries/ { print $3; exit }')
        h=$(si | awk '/half-open tcp/ { print $3; exit }')
        r=$(rss "$pfd")
        [ "${s:-0}" -gt "$max_states" ] && max_states=$s
        [ "${h:-0}" -gt "$max_half" ] && max_half=$h
        [ "${r:-0}" -gt "$max_rss" ] && max_rss=$r
        sleep 0.5
    done
    wait "$flood" 2>/dev/null || true
    n=0
    while [ ! -s "$WORK/conns" ] && [ "$n" -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
    local alive reset other stall
    read -r alive reset other stall <<<"$(cat "$WORK/conns" 2>/dev/null || echo "0 0 0 0")"
    echo "== $mode (set limit states $LIMIT)"
    echo "   flood: $(tail -1 "$WORK/flood.out")"
    echo "   pfd: states at most $max_states, half-open at most $max_half; RSS $((rss0 / 1024)) MiB before, $((max_rss / 1024)) MiB at most"
    echo "   long-lived: $alive of $CONNS alive, $reset reset, $other lost; longest wait for an echo $stall ms"
    echo "   new connections during the flood: $ok of $tried"
    echo "   pfd's counters: $(si | grep -E '^  (memory|synproxy|state-mismatch|state-insert|syncookie)' | awk '{ printf "%s %s; ", $1, $2 }')"
    si | sed -n '/^Syncookies/,/^$/p' | sed 's/^/   /'
    kill -TERM "$pfd" 2>/dev/null || true
    for n in "${PIDS[@]}"; do kill -KILL "$n" 2>/dev/null || true; done
    for n in "${PIDS[@]}"; do { wait "$n"; } 2>/dev/null || true; done
    PIDS=()
    for n in client fw server; do ip netns del "$P$n" 2>/dev/null || true; done
}

echo "synflood: $FLOOD s of SYNs at ${RATE:-0}/s (0: as fast as it goes) against 198.51.100.10:7000, $CONNS long-lived connections"
for m in $MODES; do
    run_mode "$m" || echo "== $m: not run (see above)"
done
