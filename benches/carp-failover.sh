#!/usr/bin/env bash
# Lab script: how long a client loses a shared gateway address when the
# master dies or stops, for pfd's CARP, ucarp and keepalived (VRRP), in
# one topology.
#
#   benches/carp-failover.sh          (as root; RUNS=N runs per case,
#                                      IMPLS="pfd ucarp keepalived",
#                                      SETTINGS="1s sub", MODES="kill stop",
#                                      PFD=path/to/pfd to skip the release
#                                      build)
#
# Topology (rebuilt for every run, in namespaces this script creates
# and deletes; the root namespace is never touched):
#
#   <p>sw: br0 (Linux bridge, multicast snooping off)
#     sw-a ---- <p>a:eth0 198.51.100.11  node A, preferred
#     sw-b ---- <p>b:eth0 198.51.100.12  node B, backup
#     sw-c ---- <p>c:eth0 198.51.100.50  client: ping -D -i 0.01 VIP
#   VIP 198.51.100.100/24, vhid / virtual router id 1
#
# One run: start A and wait until it is master, start B and let it
# settle as backup, start the client's ping, then
#   kill: SIGKILL every process of A and cut A's switch port in the
#         same instant (a dead host: a SIGKILLed ucarp or keepalived
#         would leave its address on the kernel of A otherwise);
#   stop: SIGTERM A (pfd bows out, keepalived sends priority 0, ucarp
#         runs its downscript and sends nothing);
# wait (bounded) until B says it is master, ping one more second, and
# report the longest interval between two consecutive echo replies
# (ping -D timestamps), the most replies lost in a row, duplicate
# replies, the longest round trip, and how often B said it became
# master while A was still alive (split brain: two masters on the
# segment, which duplicate replies alone would not show, as the client
# sends to one MAC).
#
# Settings:
#   1s:  pfd advbase 1, A advskew 0, B advskew 100
#        ucarp --advbase=1, A --advskew=0, B --advskew=100
#        keepalived VRRPv2 advert_int 1, A priority 150, B priority 100
#   sub: pfd advbase 0, A advskew 20, B advskew 40
#        ucarp --advbase=0, A --advskew=20, B --advskew=40
#        keepalived VRRPv3 advert_int 0.1, A priority 150, B priority 100
#
# Output: one line per run on stdout and in $OUT (default
# /tmp/carp-failover.tsv), then a summary per case.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-5}
IMPLS=${IMPLS:-"pfd ucarp keepalived"}
SETTINGS=${SETTINGS:-"1s sub"}
MODES=${MODES:-"kill stop"}
OUT=${OUT:-/tmp/carp-failover.tsv}
# every run's ping output and node logs are kept here
LOGS=${LOGS:-/tmp/carp-failover-logs}
P=cfo$$
WORK=$(mktemp -d /tmp/carp-failover.XXXXXX)
VIP=198.51.100.100
PIDS=()

if [ "$(id -u)" -ne 0 ]; then
    echo "carp-failover: needs root (network namespaces)" >&2
    exit 1
fi
for t in ucarp keepalived ping stdbuf; do
    command -v "$t" >/dev/null 2>&1 || {
        echo "carp-failover: $t is missing (apt-get install ucarp keepalived iputils-ping coreutils)" >&2
        exit 1
    }
done

if [ -z "${PFD:-}" ]; then
    (cd "$ROOT" && cargo build -q --release -p mgmt --bin pfd)
    PFD=${CARGO_TARGET_DIR:-$ROOT/target}/release/pfd
fi

# Stop what this script started, by PID, then the namespaces.
stop_all() {
    local p
    # keepalived's VRRP child is not our child: its PID is in the file
    for p in $(cat "$WORK"/*.pids 2>/dev/null) "${PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    PIDS=()
    rm -f "$WORK"/*.pids
    for n in a b c sw; do
        ip netns del "$P$n" 2>/dev/null || true
    done
}
cleanup() {
    stop_all
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

lab() {
    local h
    for n in sw a b c; do ip netns add "$P$n"; done
    ip -n "${P}sw" link add br0 type bridge
    ip -n "${P}sw" link set br0 type bridge mcast_snooping 0
    ip -n "${P}sw" link set br0 up
    for h in a b c; do
        ip -n "${P}sw" link add "sw-$h" type veth peer name eth0 netns "$P$h"
        ip -n "${P}sw" link set "sw-$h" master br0
        ip -n "${P}sw" link set "sw-$h" up
        ip -n "$P$h" link set lo up
        ip -n "$P$h" link set eth0 address "02:00:00:00:00:0$h"
        ip netns exec "$P$h" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
        ip netns exec "$P$h" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
        ip -n "$P$h" link set eth0 up
    done
    ip -n "${P}c" addr add 198.51.100.50/24 dev eth0
}

addr_of() { case $1 in a) echo 198.51.100.11 ;; b) echo 198.51.100.12 ;; esac; }

# skew_of SETTING NODE -> "advbase advskew" (pfd, ucarp) 
skew_of() {
    case $1/$2 in
    1s/a) echo "1 0" ;;
    1s/b) echo "1 100" ;;
    sub/a) echo "0 20" ;;
    sub/b) echo "0 40" ;;
    esac
}

# start IMPL SETTING NODE: starts the node, records its PIDs in
# $WORK/NODE.pids (first line: the PID to signal), logs in $WORK/NODE.log
start() {
    local impl=$1 setting=$2 h=$3 me d ab sk
    me=$(addr_of "$h")
    read -r ab sk <<<"$(skew_of "$setting" "$h")"
    d=$WORK/$h
    rm -rf "$d"
    mkdir -p "$d"
    case $impl in
    pfd)
        # pfd owns eth0 (its own stack answers for both addresses)
        printf 'inet %s 255.255.255.0\nup\n' "$me" >"$d/hostname.eth0"
        printf 'inet %s 255.255.255.0 198.51.100.255 vhid 1 carpdev eth0 pass lanpasswd advbase %s advskew %s\n' \
            "$VIP" "$ab" "$sk" >"$d/hostname.carp0"
        echo pass >"$d/pf.conf"
        ip netns exec "$P$h" "$PFD" run --etc "$d" --control "$d/pfd.sock" \
            </dev/null >/dev/null 2>"$WORK/$h.log" &
        echo $! >"$WORK/$h.pids"
        PIDS+=($!)
        ;;
    ucarp)
        ip -n "$P$h" addr add "$me/24" dev eth0
        printf '#!/bin/sh\nexec ip addr add "$2"/24 dev "$1"\n' >"$d/up.sh"
        printf '#!/bin/sh\nexec ip addr del "$2"/24 dev "$1" 2>/dev/null\n' >"$d/down.sh"
        chmod +x "$d/up.sh" "$d/down.sh"
        ip netns exec "$P$h" stdbuf -oL -eL ucarp --interface=eth0 --srcip="$me" \
            --vhid=1 --pass=lanpasswd --addr=$VIP --advbase="$ab" --advskew="$sk" \
            --upscript="$d/up.sh" --downscript="$d/down.sh" --shutdown --facility=none \
            </dev/null >"$WORK/$h.log" 2>&1 &
        echo $! >"$WORK/$h.pids"
        PIDS+=($!)
        ;;
    keepalived)
        ip -n "$P$h" addr add "$me/24" dev eth0
        local ver=2 int=1 prio=100
        [ "$setting" = sub ] && ver=3 int=0.1
        [ "$h" = a ] && prio=150
        cat >"$d/keepalived.conf" <<EOF
global_defs {
    router_id node$h
    vrrp_version $ver
    vrrp_garp_master_delay 0
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 1
    priority $prio
    advert_int $int
    virtual_ipaddress {
        $VIP/24 dev eth0
    }
}
EOF
        ip netns exec "$P$h" keepalived -n -l -D -G -P -R -f "$d/keepalived.conf" \
            -p "$d/ka.pid" -r "$d/vrrp.pid" </dev/null >"$WORK/$h.log" 2>&1 &
        local parent=$!
        PIDS+=("$parent")
        local t=0
        while [ ! -s "$d/vrrp.pid" ] && [ $t -lt 100 ]; do sleep 0.05; t=$((t + 1)); done
        local child
        child=$(cat "$d/vrrp.pid" 2>/dev/null || true)
        # the parent is the one to signal; the VRRP child is killed too
        printf '%s\n%s\n' "$parent" "$child" >"$WORK/$h.pids"
        ;;
    esac
}

master_re() {
    case $1 in
    pfd) echo 'carp0: state transition: BACKUP -> MASTER' ;;
    ucarp) echo 'Switching to state: MASTER' ;;
    keepalived) echo 'Entering MASTER STATE' ;;
    esac
}

# masters IMPL NODE: how often the node has said it became master
masters() { grep -c "$(master_re "$1")" "$WORK/$2.log" 2>/dev/null || true; }

# wait_master IMPL NODE SECONDS [BEFORE]: true once the node has said
# it became master more than BEFORE (default 0) times
wait_master() {
    local t=0
    while [ $t -lt $(($3 * 20)) ]; do
        [ "$(masters "$1" "$2")" -gt "${4:-0}" ] && return 0
        sleep 0.05
        t=$((t + 1))
    done
    return 1
}

# gap FILE -> "gap_ms lost dups rtt_ms": longest interval between
# consecutive echo replies, most replies lost in a row, duplicates, and
# the longest round trip (late replies rather than lost ones, or a
# client that did not get the CPU, show there)
gap() {
    awk '/bytes from/ {
        if ($0 ~ /DUP!/) { dup++; next }
        ts = substr($1, 2, length($1) - 2) + 0
        split($0, a, "icmp_seq="); split(a[2], b, " "); seq = b[1] + 0
        split($0, c, "time="); split(c[2], d, " "); rtt = d[1] + 0
        if (rtt > mrtt) mrtt = rtt
        if (n > 0 && ts - last > g) g = ts - last
        if (n > 0 && seq - lseq - 1 > lost) lost = seq - lseq - 1
        last = ts; lseq = seq; n++
    } END { printf "%.0f %d %d %.0f\n", g * 1000, lost, dup, mrtt }' "$1"
}

run() {
    local impl=$1 setting=$2 mode=$3 i=$4 ab sk ping pid p
    lab
    start "$impl" "$setting" a
    if ! wait_master "$impl" a 20; then
        echo "carp-failover: $impl A never became master" >&2
        cat "$WORK/a.log" >&2
        stop_all
        return 1
    fi
    start "$impl" "$setting" b
    # B hears A and stays backup: let one master-down time pass
    read -r ab sk <<<"$(skew_of "$setting" b)"
    sleep "$(awk -v b="$ab" -v s="$sk" 'BEGIN { print 3 * (b + s / 256) + 1 }')"
    ip netns exec "${P}c" ping -D -n -i 0.01 $VIP >"$WORK/ping.txt" 2>&1 &
    ping=$!
    PIDS+=("$ping")
    local t=0
    while [ "$(grep -c 'bytes from' "$WORK/ping.txt" || true)" -lt 100 ] && [ $t -lt 100 ]; do
        sleep 0.05
        t=$((t + 1))
    done
    # B's takeovers while A was alive: split brain, counted apart
    local flaps
    flaps=$(masters "$impl" b)
    case $mode in
    kill)
        # children first: keepalived's parent would stop its child cleanly
        for p in $(tac "$WORK/a.pids"); do kill -KILL "$p" 2>/dev/null || true; done
        ip -n "${P}sw" link set sw-a down
        ;;
    stop)
        pid=$(head -1 "$WORK/a.pids")
        kill -TERM "$pid"
        ;;
    esac
    wait_master "$impl" b 20 "$flaps" || echo "carp-failover: $impl B did not take over (run $i)" >&2
    # replies flow again for a second after B's takeover
    sleep 1
    t=0
    while [ $t -lt 100 ]; do
        tail -1 "$WORK/ping.txt" | grep -q 'bytes from' && break
        sleep 0.05
        t=$((t + 1))
    done
    sleep 1
    kill -INT "$ping" 2>/dev/null || true
    wait "$ping" 2>/dev/null || true
    local keep=$LOGS/$impl-$setting-$mode-$i
    mkdir -p "$keep"
    cp "$WORK/ping.txt" "$WORK/a.log" "$WORK/b.log" "$keep/"
    local r
    r=$(gap "$WORK/ping.txt")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$impl" "$setting" "$mode" "$i" "${r// /$'\t'}" "$flaps" | tee -a "$OUT"
    stop_all
}

: >"$OUT"
echo "# $(date -u '+%F %T') UTC; $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1); kernel $(uname -r)"
echo "# $(ucarp --help 2>&1 | sed -n 2p); $(keepalived --version 2>&1 | head -1); pfd $PFD"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$LOGS"
echo -e "impl\tsetting\tmode\trun\tgap_ms\tlost\tdups\trtt_ms\tb_flaps"
for impl in $IMPLS; do
    for setting in $SETTINGS; do
        for mode in $MODES; do
            for i in $(seq 1 "$RUNS"); do
                run "$impl" "$setting" "$mode" "$i"
            done
        done
    done
done

echo
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "summary (gap ms: min / median / max over $RUNS runs; most replies lost in"
echo "a row; duplicate replies, total; longest round trip; B's takeovers while"
echo "A was alive, total). Logs of every run: $LOGS"
sort -k1,1 -k2,2 -k3,3 -k5,5n "$OUT" | awk -F'\t' '
{ k = $1 " " $2 " " $3; v[k, ++n[k]] = $5; if ($6 > l[k]) l[k] = $6; d[k] += $7; if ($8 > r[k]) r[k] = $8; f[k] += $9; if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
END { for (j = 1; j <= m; j++) { k = order[j]; c = n[k]
    printf "%-22s %5d / %5d / %5d ms  lost<=%d dups=%d rtt<=%dms flaps=%d\n", k, v[k, 1], v[k, int((c + 1) / 2)], v[k, c], l[k], d[k], r[k], f[k] } }'
