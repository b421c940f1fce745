#!/usr/bin/env bash
# Soak: the HA pair of etc/fw1 and etc/fw2 (demo/topology.sh) under
# mixed traffic for SECS seconds, with forced failovers and ruleset
# reloads, sampling each pfd's memory and state count. Not part of CI.
#
#   sudo bash benches/soak.sh            (as root; about SECS + 1 min)
#
# Environment (defaults in brackets):
#   SECS      how long the traffic runs                      [1800]
#   CONNS     long-lived TCP connections, NATed, a line per
#             100 ms each, that must all live to the end      [50]
#   RATE      new UDP flows per second (flowgen: one datagram
#             each, a new 5-tuple, so states come and go)     [500]
#   FAILOVER  seconds between forced failovers: fw1's carp
#             group demoted by 50 (fw2 takes both gateways),
#             then lifted (fw1 preempts back)                 [120]
#   RELOAD    seconds between `pfctl -f` on both firewalls    [10]
#   SAMPLE    seconds between samples                         [10]
#   PFD       a pfd binary (else a release build); pfctl and
#             ifctl are taken from beside it
#   OUT       where the samples go                [/tmp/pfd-soak.csv]
#
# Also: a ping from the client to the server five times a second. The
# samples (time, each pfd's RSS in KiB, each one's states, who is
# master) go to OUT; the summary compares memory and states after the
# first tenth of the run (warm: the state table has reached its level)
# with the end, and says how many TCP connections lived through every
# failover. Only namespaces named pfdsoak-* are made, and deleted at
# the end; only documentation addresses are used.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECS=${SECS:-1800}
CONNS=${CONNS:-50}
RATE=${RATE:-500}
FAILOVER=${FAILOVER:-120}
RELOAD=${RELOAD:-10}
SAMPLE=${SAMPLE:-10}
OUT=${OUT:-/tmp/pfd-soak.csv}
ETC=$ROOT/etc
PY=/usr/bin/python3
P=pfdsoak-$$-
WORK=$(mktemp -d /tmp/pfd-soak.XXXXXX)
PIDS=()

if [ "$(id -u)" -ne 0 ]; then
    echo "soak: needs root, for network namespaces" >&2
    exit 1
fi
if [ -z "${PFD:-}" ]; then
    echo "soak: building pfd and flowgen (release) ..."
    (cd "$ROOT" && cargo build -q --release -p mgmt --bin pfd --bin pfctl --bin ifctl &&
        cargo build -q --release -p pfd-benches --bin flowgen)
    PFD=${CARGO_TARGET_DIR:-$ROOT/target}/release/pfd
fi
BIN=$(dirname "$PFD")
PFCTL=$BIN/pfctl
IFCTL=$BIN/ifctl
FLOWGEN=${FLOWGEN:-$BIN/flowgen}

# shellcheck source=demo/topology.sh
. "$ROOT/demo/topology.sh"

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do { wait "$p"; } 2>/dev/null || true; done
    topo_down
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS CMD...: true once CMD succeeds (polled every 100 ms)
wait_for() {
    local n=$(($1 * 10))
    shift
    while [ "$n" -gt 0 ]; do
        "$@" && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$(cat "$WORK/$1.pid")/status" 2>/dev/null || echo 0; }
ctl() { ip netns exec "$P$1" "${@:2}"; }

topo_up
start_fw fw1
wait_for 20 both_master fw1 || { echo "soak: fw1 did not take the gateways" >&2; exit 1; }
start_fw fw2
wait_for 30 grep -q "pfsync0: bulk update done" "$WORK/fw2.log" || { echo "soak: fw2's bulk update" >&2; exit 1; }
wait_for 10 both_master fw1 || true
sleep 2

ip netns exec "${P}server" "$PY" "$ROOT/benches/ha-compare/tcpconns.py" server 198.51.100.10 7000 7001 \
    </dev/null >"$WORK/server.log" 2>&1 &
PIDS+=($!)
sleep 0.5
ip netns exec "${P}client" "$PY" "$ROOT/benches/ha-compare/tcpconns.py" client 198.51.100.10 \
    "$CONNS" "$CONNS" "$SECS" "$WORK/conns" 7000 7000 </dev/null >"$WORK/client.log" 2>&1 &
CLIENT=$!
PIDS+=($CLIENT)
ip netns exec "${P}client" "$FLOWGEN" 198.51.100.10 "$RATE" "$((RATE * SECS))" "$WORK/flows.log" </dev/null >/dev/null 2>&1 &
PIDS+=($!)
ip netns exec "${P}client" ping -q -i 0.2 -w "$SECS" 198.51.100.10 </dev/null >"$WORK/ping.log" 2>&1 &
PIDS+=($!)

echo "soak: $SECS s, $CONNS TCP connections, $RATE new UDP flows/s, ping 5/s, failover every $FAILOVER s, reload every $RELOAD s"
echo "t_s,fw1_rss_kib,fw2_rss_kib,fw1_states,fw2_states,master" >"$OUT"
T0=$(date +%s)
failovers=0
reloads=0
reload_errors=0
demoted=0
next_sample=0
next_reload=$RELOAD
next_failover=$FAILOVER
while :; do
    t=$(($(date +%s) - T0))
    [ "$t" -ge "$SECS" ] && break
    if [ "$t" -ge "$next_reload" ]; then
        for fw in fw1 fw2; do
            if ctl "$fw" "$PFCTL" --control "$WORK/$fw.sock" -f "$ETC/$fw/pf.conf" 2>>"$WORK/reload.err"; then
                reloads=$((reloads + 1))
            else
                reload_errors=$((reload_errors + 1))
            fi
        done
        next_reload=$((next_reload + RELOAD))
    fi
    if [ "$t" -ge "$next_failover" ]; then
        if [ "$demoted" = 0 ]; then
            ctl fw1 "$IFCTL" --control "$WORK/fw1.sock" -g carp carpdemote 50 >/dev/null
            demoted=1
        else
            ctl fw1 "$IFCTL" --control "$WORK/fw1.sock" -g carp -carpdemote 50 >/dev/null
            demoted=0
        fi
        failovers=$((failovers + 1))
        next_failover=$((next_failover + FAILOVER))
    fi
    if [ "$t" -ge "$next_sample" ]; then
        m=none
        both_master fw1 && m=fw1
        both_master fw2 && m=fw2
        echo "$t,$(rss fw1),$(rss fw2),$(states fw1),$(states fw2),$m" >>"$OUT"
        next_sample=$((next_sample + SAMPLE))
    fi
    sleep 0.5
done

# the client ends by itself after SECS and writes its result
wait_for 60 test -s "$WORK/conns" || true
read -r alive reset other stall <<<"$(cat "$WORK/conns" 2>/dev/null || echo "0 0 0 0")"
for fw in fw1 fw2; do
    kill -0 "$(cat "$WORK/$fw.pid")" 2>/dev/null || { echo "soak: $fw died" >&2; tail -20 "$WORK/$fw.log" >&2; }
done

echo
echo "samples: $OUT"
"$PY" - "$OUT" <<'PYEOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
warm = rows[len(rows) // 10:]
if len(warm) < 2:
    sys.exit("soak: too few samples")
for fw in ("fw1", "fw2"):
    rss = [int(r[f"{fw}_rss_kib"]) for r in warm]
    st = [int(r[f"{fw}_states"] or 0) for r in warm]
    print(f"{fw}: RSS {rss[0] / 1024:.1f} MiB after warm-up -> {rss[-1] / 1024:.1f} MiB at the end "
          f"(max {max(rss) / 1024:.1f}, {100 * (rss[-1] - rss[0]) / rss[0]:+.1f} %); "
          f"states {min(st)}..{max(st)} (first {st[0]}, last {st[-1]})")
masters = {}
for r in rows:
    masters[r["master"]] = masters.get(r["master"], 0) + 1
print("samples by master:", ", ".join(f"{k} {v}" for k, v in sorted(masters.items())))
PYEOF
echo "failovers: $failovers; reloads: $reloads ok, $reload_errors failed"
echo "ping: $(grep -E 'packets transmitted' "$WORK/ping.log" || echo '?')"
echo "flows: $(tail -1 "$WORK/flows.log" 2>/dev/null || echo '?')"
echo "TCP: $alive of $CONNS connections alive at the end, $reset reset, $other lost otherwise; longest wait for an echo $stall ms"
[ "$alive" = "$CONNS" ] && [ "$reload_errors" = 0 ]
