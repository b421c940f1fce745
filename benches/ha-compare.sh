#!/usr/bin/env bash
# Lab script: pfd's HA pair (CARP + pfsync) side by side with Linux's
# (keepalived VRRP + conntrackd, kernel forwarding with nftables and
# conntrack) on one topology, in one run.
#
#   benches/ha-compare.sh        (as root)
#
# Environment (defaults in brackets):
#   IMPLS       which pairs                              ["pfd linux"]
#   TESTS       which tests                              ["lag bulk failover"]
#   RATES       new flows per second for the lag test    ["10000 100000"]
#   RATE_SECS   seconds of new flows per rate            [2]
#   LOW         pfd's low-latency setting for the lag
#               test too (hostname.pfsync0 `defer`): 1/0 [1]
#   BULK        states on the master for the bulk test   [200000]
#   PFD_BULK    the same for pfd alone (the kernel's
#               nf_conntrack_max, global, is 262,144
#               here and is not changed)                 [1000000]
#   FILL_RATE   new flows/s filling the master           [20000]
#   CONNS NATED long-lived TCP connections, part NATed  [100 40]
#   RUNS        failover runs per pair                   [3]
#   PFD         a pfd binary (else a release build)
#
# Topology (the OpenBSD FAQ's pair; namespaces created and deleted here,
# the root namespace is never touched):
#
#   client 192.0.2.10 -- LAN bridge -- fw1 veth0 .2 / fw2 veth0 .3   gateway 192.0.2.1
#   server 198.51.100.10 -- WAN bridge -- fw1 veth1 .2 / fw2 veth1 .3  gateway 198.51.100.1
#   fw1 veth2 203.0.113.2 ---- sync cable ---- fw2 veth2 203.0.113.3
#   (MTU 1500; 9000 for the bulk test, both pairs)
#
#   pfd:   pfd owns veth0-2 (AF_PACKET); carp0 vhid 1 / carp1 vhid 2,
#          advbase 1, fw1 advskew 0, fw2 100, preempt; pfsync0 syncdev
#          veth2 (OpenBSD's defaults; the bulk test adds bulkburst 200);
#          pf.conf: the FAQ's, one state in and one out per flow.
#   linux: kernel forwarding, nftables forward policy drop with
#          `ct state established,related accept` and the same passes,
#          snat of port 7001 to the WAN address, tcp_loose 0 (no
#          mid-stream pickup: a connection lives on fw2 only if its
#          entry was replicated); keepalived VRRPv2 advert_int 1, a
#          sync group, fw1 priority 150, fw2 100; conntrackd FTFW over
#          UDP on veth2, DisableExternalCache On (entries go straight
#          into fw2's kernel table, as pfsync's into pf's), TCP and UDP.
#
# Tests:
#   lag       the client opens new UDP flows (benches/src/bin/flowgen.rs)
#             at RATE/s for RATE_SECS s; both firewalls' state counts
#             are sampled every 2 ms (ha-compare/sample.py); the
#             replication lag of each flow is when fw2 came to hold it
#             minus when fw1 did, and end to end minus when the client
#             sent it (ha-compare/lag.py): p50, p99, max, and how many
#             of the flows fw1 and fw2 hold.
#   bulk      fw2 stopped and emptied, fw1 filled with BULK flows, then
#             fw2 started: the time from its start until it holds them.
#   failover  CONNS TCP connections (NATED through the WAN address) each
#             exchange a line every 100 ms through fw1 (ha-compare/
#             tcpconns.py); fw1 dies (every process of it SIGKILLed and
#             its three links down, in one instant); 20 s on, how many
#             still echo, how many were reset, the longest stall.
#
# Output: lines on stdout and in $OUT (default /tmp/ha-compare.tsv).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/benches/ha-compare
IMPLS=${IMPLS:-"pfd linux"}
TESTS=${TESTS:-"lag bulk failover"}
RATES=${RATES:-"10000 100000"}
RATE_SECS=${RATE_SECS:-2}
LOW=${LOW:-1}
BULK=${BULK:-200000}
PFD_BULK=${PFD_BULK:-1000000}
FILL_RATE=${FILL_RATE:-20000}
CONNS=${CONNS:-100}
NATED=${NATED:-40}
RUNS=${RUNS:-3}
OUT=${OUT:-/tmp/ha-compare.tsv}
LOGS=${LOGS:-/tmp/ha-compare-logs}
PY=/usr/bin/python3
P=hac$$
WORK=$(mktemp -d /tmp/ha-compare.XXXXXX)
PIDS=()
SYNC_MTU=1500

if [ "$(id -u)" -ne 0 ]; then
    echo "ha-compare: needs root (network namespaces)" >&2
    exit 1
fi
for t in keepalived conntrackd conntrack nft ip; do
    command -v "$t" >/dev/null 2>&1 || {
        echo "ha-compare: $t is missing (apt-get install keepalived conntrackd conntrack nftables iproute2)" >&2
        exit 1
    }
done

if [ -z "${PFD:-}" ]; then
    (cd "$ROOT" && cargo build -q --release -p mgmt --bin pfd --bin pfctl --bin ifctl)
    PFD=${CARGO_TARGET_DIR:-$ROOT/target}/release/pfd
fi
PFCTL=$(dirname "$PFD")/pfctl
IFCTL=$(dirname "$PFD")/ifctl
(cd "$ROOT" && cargo build -q --release -p pfd-benches --bin flowgen)
FLOWGEN=${CARGO_TARGET_DIR:-$ROOT/target}/release/flowgen

say() { printf '%s\n' "$*" | tee -a "$OUT"; }

# --- processes and namespaces --------------------------------------------

# bg NAME NS CMD...: start CMD in NS, its PID in $WORK/NAME.pid
bg() {
    local name=$1 ns=$2
    shift 2
    ip netns exec "$ns" "$@" </dev/null >"$WORK/$name.log" 2>&1 &
    echo $! >"$WORK/$name.pid"
    PIDS+=($!)
}

# kill_fw N: every process of firewall N, SIGKILL, by PID
kill_fw() {
    local f p
    for f in "$WORK"/fw"$1"-*.pid; do
        [ -e "$f" ] || continue
        for p in $(cat "$f"); do kill -KILL "$p" 2>/dev/null || true; done
        rm -f "$f"
    done
}

stop_all() {
    local p f
    for f in "$WORK"/*.pid; do
        [ -e "$f" ] || continue
        for p in $(cat "$f"); do kill -KILL "$p" 2>/dev/null || true; done
    done
    for p in "${PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
        { wait "$p"; } 2>/dev/null || true
    done
    PIDS=()
    rm -f "$WORK"/*.pid "$WORK"/linux*/ready "$WORK"/*.log "$WORK"/*.txt
    for n in l w 1 2 c s; do ip netns del "$P$n" 2>/dev/null || true; done
}
cleanup() {
    stop_all
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# bash reports every SIGKILLed background job ("... Killed ..."); the
# script kills them on purpose
exec 2> >(grep --line-buffered -v '^benches/ha-compare.sh: line [0-9]*: *[0-9]* Killed' >&2)

# wait_for SECONDS CMD...: true once CMD succeeds (polled every 50 ms)
wait_for() {
    local n=$(($1 * 20))
    shift
    while [ "$n" -gt 0 ]; do
        "$@" && return 0
        sleep 0.05
        n=$((n - 1))
    done
    return 1
}

topo() {
    local n h
    for n in l w 1 2 c s; do
        ip netns add "$P$n"
        ip -n "$P$n" link set lo up
        ip netns exec "$P$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
        ip netns exec "$P$n" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    done
    for sw in l w; do
        ip -n "$P$sw" link add br0 type bridge
        ip -n "$P$sw" link set br0 type bridge mcast_snooping 0
        ip -n "$P$sw" link set br0 up
    done
    # port name, switch, host, host's device
    for h in "l1 l 1 veth0" "l2 l 2 veth0" "l3 l c cl0" "w1 w 1 veth1" "w2 w 2 veth1" "w3 w s sv0"; do
        set -- $h
        ip -n "$P$2" link add "$1" type veth peer name "$4" netns "$P$3"
        ip -n "$P$2" link set "$1" master br0 up
        ip -n "$P$3" link set "$4" up
    done
    ip -n "${P}1" link add veth2 mtu "$SYNC_MTU" type veth peer name veth2 netns "${P}2" mtu "$SYNC_MTU"
    ip -n "${P}1" link set veth2 up
    ip -n "${P}2" link set veth2 up
    ip -n "${P}c" addr add 192.0.2.10/24 dev cl0
    ip -n "${P}c" route add default via 192.0.2.1
    ip -n "${P}s" addr add 198.51.100.10/24 dev sv0
    ip -n "${P}s" route add default via 198.51.100.1
    # the flows' datagrams end here, dropped without an ICMP answer
    ip netns exec "${P}s" nft -f - <<'EOF'
table inet hacsrv {
    chain input {
        type filter hook input priority 0; policy accept;
        udp dport 1024-65535 drop
    }
}
EOF
    bg srv-tcp "${P}s" "$PY" "$HERE/tcpconns.py" server 198.51.100.10 7000 7001
}

# --- pfd -----------------------------------------------------------------

PF_CONF='set limit states 2000000
set timeout udp.first 600
pass quick on veth2 proto pfsync keep state (no-sync)
pass quick on { veth0 veth1 } proto carp keep state (no-sync)
block
pass in on veth0 proto icmp
pass in on veth0 proto tcp from 192.0.2.0/24 to any port { 7000 7001 }
pass in on veth0 proto udp from 192.0.2.0/24 to 198.51.100.10
pass out on veth1
match out on veth1 proto tcp from 192.0.2.0/24 to any port 7001 nat-to 198.51.100.1
'

# pfd_etc N [PFSYNC_EXTRA]
pfd_etc() {
    local n=$1 me=$(($1 + 1)) skew=0 d=$WORK/etc$1
    [ "$n" = 2 ] && skew=100
    rm -rf "$d"
    mkdir -p "$d"
    printf 'inet 192.0.2.%s 255.255.255.0\nup\n' $me >"$d/hostname.veth0"
    printf 'inet 198.51.100.%s 255.255.255.0\nup\n' $me >"$d/hostname.veth1"
    printf 'inet 203.0.113.%s 255.255.255.0\nup\n' $me >"$d/hostname.veth2"
    printf 'inet 192.0.2.1 255.255.255.0 192.0.2.255 vhid 1 carpdev veth0 pass lanpw advskew %s\n' $skew >"$d/hostname.carp0"
    printf 'inet 198.51.100.1 255.255.255.0 198.51.100.255 vhid 2 carpdev veth1 pass wanpw advskew %s\n' $skew >"$d/hostname.carp1"
    printf 'up syncdev veth2 %s\n' "${2:-}" >"$d/hostname.pfsync0"
    printf 'net.inet.ip.forwarding=1\nnet.inet.carp.preempt=1\n' >"$d/sysctl.conf"
    printf '%s' "$PF_CONF" >"$d/pf.conf"
}

pfd_start() {
    bg "fw$1-pfd" "$P$1" "$PFD" run --etc "$WORK/etc$1" --control "$WORK/fw$1.sock"
}

# logged N TEXT [TIMES]: fw N's log holds TEXT at least TIMES times
logged() {
    local n
    n=$(grep -c "$2" "$WORK/fw$1-$IMPL.log" 2>/dev/null || true)
    [ "${n:-0}" -ge "${3:-1}" ]
}

# master N: fw N's last word on both gateways is MASTER
master() {
    case $IMPL in
    pfd)
        local c
        for c in carp0 carp1; do
            grep "$c: state transition:" "$WORK/fw$1-pfd.log" 2>/dev/null | tail -1 | grep -q -- '-> MASTER$' || return 1
        done
        ;;
    linux)
        local i
        for i in LAN WAN; do
            grep -E "\($i\) Entering (MASTER|BACKUP) STATE" "$WORK/fw$1-keepalived.log" 2>/dev/null |
                tail -1 | grep -q MASTER || return 1
        done
        ;;
    esac
}

# --- linux ---------------------------------------------------------------

linux_fw() {
    local n=$1 me=$(($1 + 1)) peer prio=100 d=$WORK/linux$1 ns=$P$1
    peer=$((5 - me))
    [ "$n" = 1 ] && prio=150
    mkdir -p "$d"
    if [ ! -e "$d/ready" ]; then
        ip -n "$ns" addr add 192.0.2.$me/24 dev veth0
        ip -n "$ns" addr add 198.51.100.$me/24 dev veth1
        ip -n "$ns" addr add 203.0.113.$me/24 dev veth2
        ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
        ip netns exec "$ns" sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0
        ip netns exec "$ns" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600
        ip netns exec "$ns" nft -f - <<'EOF'
table inet hac {
    chain forward {
        type filter hook forward priority 0; policy drop;
        ct state established,related accept
        iifname "veth0" ip saddr 192.0.2.0/24 tcp dport { 7000, 7001 } ct state new accept
        iifname "veth0" ip saddr 192.0.2.0/24 ip daddr 198.51.100.10 meta l4proto udp ct state new accept
        iifname "veth0" icmp type echo-request accept
    }
}
table ip hacnat {
    chain postrouting {
        type nat hook postrouting priority 100;
        oifname "veth1" ip saddr 192.0.2.0/24 tcp dport 7001 snat to 198.51.100.1
    }
}
EOF
        touch "$d/ready"
    fi
    cat >"$d/conntrackd.conf" <<EOF
Sync {
    Mode FTFW {
        DisableExternalCache On
        StartupResync On
    }
    UDP {
        IPv4_address 203.0.113.$me
        IPv4_Destination_Address 203.0.113.$peer
        Port 3780
        Interface veth2
        SndSocketBuffer 24985600
        RcvSocketBuffer 24985600
        Checksum on
    }
}
General {
    HashSize 262144
    HashLimit 4000000
    LogFile $d/conntrackd.log
    Syslog off
    LockFile $d/conntrackd.lock
    UNIX {
        Path $d/conntrackd.ctl
    }
    NetlinkBufferSize 2097152
    NetlinkBufferSizeMaxGrowth 134217728
    NetlinkOverrunResync On
    Filter From Kernelspace {
        Protocol Accept {
            TCP
            UDP
        }
        Address Ignore {
            IPv4_address 127.0.0.1
            IPv4_address 203.0.113.2
            IPv4_address 203.0.113.3
        }
    }
}
EOF
    cat >"$d/keepalived.conf" <<EOF
global_defs {
    router_id fw$n
    vrrp_garp_master_delay 0
}
vrrp_sync_group G {
    group {
        LAN
        WAN
    }
}
vrrp_instance LAN {
    state BACKUP
    interface veth0
    virtual_router_id 1
    priority $prio
    advert_int 1
    virtual_ipaddress {
        192.0.2.1/24 dev veth0
    }
}
vrrp_instance WAN {
    state BACKUP
    interface veth1
    virtual_router_id 2
    priority $prio
    advert_int 1
    virtual_ipaddress {
        198.51.100.1/24 dev veth1
    }
}
EOF
}

linux_start() {
    local d=$WORK/linux$1
    rm -f "$d/conntrackd.lock" "$d/conntrackd.ctl" "$d/ka.pid" "$d/vrrp.pid"
    bg "fw$1-conntrackd" "$P$1" conntrackd -C "$d/conntrackd.conf"
    bg "fw$1-keepalived" "$P$1" keepalived -n -l -D -P -f "$d/keepalived.conf" \
        -p "$d/ka.pid" -r "$d/vrrp.pid"
    # keepalived's VRRP child is not our child: its PID is in its file
    wait_for 5 test -s "$d/vrrp.pid" || true
    cat "$d/vrrp.pid" >>"$WORK/fw$1-keepalived.pid" 2>/dev/null || true
}

# --- both ----------------------------------------------------------------

fw_start() {
    case $IMPL in
    pfd) pfd_start "$1" ;;
    linux) linux_start "$1" ;;
    esac
}

# count N: states fw N holds now
count() {
    case $IMPL in
    pfd) ip netns exec "$P$1" "$PFCTL" --control "$WORK/fw$1.sock" -si 2>/dev/null |
        awk '/current entries/ { print $3; exit }' ;;
    linux) ip netns exec "$P$1" cat /proc/sys/net/netfilter/nf_conntrack_count ;;
    esac
}

flush() {
    case $IMPL in
    pfd) local n
        for n in 1 2; do
            ip netns exec "$P$n" "$PFCTL" --control "$WORK/fw$n.sock" -F states >/dev/null 2>&1 || true
        done ;;
    linux) local n
        for n in 1 2; do ip netns exec "$P$n" conntrack -F >/dev/null 2>&1 || true; done ;;
    esac
}

per_flow() { [ "$IMPL" = pfd ] && echo 2 || echo 1; }

# the pair up: fw1 master, fw2 backup and in sync
pair_up() {
    topo
    case $IMPL in
    pfd) pfd_etc 1 "${1:-}"; pfd_etc 2 "${1:-}" ;;
    linux) linux_fw 1; linux_fw 2 ;;
    esac
    fw_start 1
    wait_for 20 master 1 || { echo "ha-compare: $IMPL fw1 never became master" >&2; tail -n 20 "$WORK"/fw1-*.log >&2; return 1; }
    fw_start 2
    case $IMPL in
    pfd)
        wait_for 30 logged 2 "pfsync0: bulk update done" || { echo "ha-compare: fw2's bulk update" >&2; return 1; }
        ;;
    esac
    sleep 5
    wait_for 15 master 1 || { echo "ha-compare: $IMPL fw1 lost the gateways" >&2; return 1; }
}

# diag NAME: both firewalls' counters into $WORK/NAME-fwN.txt
diag() {
    local n
    for n in 1 2; do
        case $IMPL in
        pfd)
            { ip netns exec "$P$n" "$PFCTL" --control "$WORK/fw$n.sock" -si -v
              ip netns exec "$P$n" "$PFCTL" --control "$WORK/fw$n.sock" --json -si -v
              ip netns exec "$P$n" "$IFCTL" --control "$WORK/fw$n.sock" -s pfsync
              ip netns exec "$P$n" "$IFCTL" --control "$WORK/fw$n.sock" --json pfsync0; } \
                >"$WORK/$1-fw$n.txt" 2>&1 || true
            ;;
        linux)
            { ip netns exec "$P$n" conntrackd -C "$WORK/linux$n/conntrackd.conf" -s
              ip netns exec "$P$n" conntrack -S; } >"$WORK/$1-fw$n.txt" 2>&1 || true
            ;;
        esac
    done
}

keep_logs() {
    mkdir -p "$LOGS/$1"
    cp "$WORK"/*.txt "$LOGS/$1/" 2>/dev/null || true
    cp "$WORK"/*.log "$LOGS/$1/" 2>/dev/null || true
    cp -r "$WORK"/linux* "$LOGS/$1/" 2>/dev/null || true
}

# --- the tests -------------------------------------------------------------

# lag SETTING: one run per rate
lag_test() {
    local setting=$1 rate base1 base2 r fw1 t
    for rate in $RATES; do
        flush
        sleep 1
        base1=$(count 1)
        base2=$(count 2)
        rm -f "$WORK/stop"
        local n
        for n in 1 2; do
            case $IMPL in
            pfd) bg "sampler$n" "$P$n" "$PY" "$HERE/sample.py" pfd "$WORK/fw$n.sock" "$WORK/samples$n" "$WORK/stop" 2 ;;
            linux) bg "sampler$n" "$P$n" "$PY" "$HERE/sample.py" ct - "$WORK/samples$n" "$WORK/stop" 2 ;;
            esac
        done
        sleep 0.3
        ip netns exec "${P}c" "$FLOWGEN" 198.51.100.10 "$rate" $((rate * RATE_SECS)) "$WORK/sent"
        # until fw2's count has not moved for 2 s (at most 20 s)
        local last=-1 same=0
        for t in $(seq 1 100); do
            r=$(count 2)
            if [ "$r" = "$last" ]; then same=$((same + 1)); else same=0; fi
            last=$r
            [ $same -ge 10 ] && break
            sleep 0.2
        done
        touch "$WORK/stop"
        wait_for 5 test ! -e /proc/"$(cat "$WORK/sampler1.pid")" || true
        wait_for 5 test ! -e /proc/"$(cat "$WORK/sampler2.pid")" || true
        local pf e2e rep
        pf=$(per_flow)
        # end to end: from the client's send to fw2 (meaningful when fw1
        # forwarded every flow); replication: from fw1 holding the state
        # to fw2 holding it
        e2e=$($PY "$HERE/lag.py" "$WORK/sent" 0 1 "$WORK/samples2" "$base2" "$pf")
        rep=$($PY "$HERE/lag.py" "$WORK/samples1" "$base1" "$pf" "$WORK/samples2" "$base2" "$pf")
        read -r sent held p50 p99 max <<<"$e2e"
        read -r fw1 _ rp50 rp99 rmax <<<"$rep"
        say "$(printf 'lag\t%s\t%s\t%s/s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$IMPL" "$setting" "$rate" "$sent" \
            "$fw1" "$held" "$rp50" "$rp99" "$rmax" "$p50" "$p99" "$max")"
        diag "lag-$rate"
        cp "$WORK/sent" "$LOGS/sent-$IMPL-$setting-$rate"
        cp "$WORK/samples1" "$LOGS/samples1-$IMPL-$setting-$rate"
        cp "$WORK/samples2" "$LOGS/samples2-$IMPL-$setting-$rate"
    done
}

# bulk STATES: fw1 filled with STATES states (pfd keeps two per flow)
bulk_test() {
    local n=$(($1 / $(per_flow))) t0 have want
    flush
    kill_fw 2
    [ "$IMPL" = linux ] && ip netns exec "${P}2" conntrack -F >/dev/null 2>&1 || true
    sleep 1
    ip netns exec "${P}c" "$FLOWGEN" 198.51.100.10 "$FILL_RATE" "$n" "$WORK/sent" 21000
    sleep 2
    want=$(count 1)
    t0=$(date +%s%N)
    fw_start 2
    local deadline=$((t0 + 300000000000)) done_at=""
    while [ "$(date +%s%N)" -lt $deadline ]; do
        have=$(count 2 || echo 0)
        if [ -n "$have" ] && [ "$have" -ge $((want * 999 / 1000)) ]; then
            done_at=$(date +%s%N)
            break
        fi
        sleep 0.05
    done
    have=$(count 2 || echo 0)
    if [ -n "$done_at" ]; then
        say "$(printf 'bulk\t%s\t%s states on fw1\t%s on fw2\t%.2f s from start' "$IMPL" "$want" "$have" \
            "$(echo "($done_at - $t0) / 1000000000" | bc -l)")"
    else
        say "$(printf 'bulk\t%s\t%s states on fw1\t%s on fw2\tnot done in 300 s' "$IMPL" "$want" "$have")"
    fi
    if [ "$IMPL" = pfd ]; then
        say "# fw2: $(grep -m1 'bulk update done' "$WORK/fw2-pfd.log" || echo 'no bulk update done')"
    fi
    diag bulk
}

failover_test() {
    local i=$1 t r
    bg client "${P}c" "$PY" "$HERE/tcpconns.py" client 198.51.100.10 "$CONNS" "$NATED" 25 "$WORK/conns"
    sleep 5
    local before
    before=$(count 2)
    kill_fw 1
    for d in veth0 veth1 veth2; do ip -n "${P}1" link set "$d" down; done
    local t0
    t0=$(date +%s%N)
    wait_for 20 master 2 || echo "ha-compare: $IMPL fw2 did not take over" >&2
    local took
    took=$(echo "($(date +%s%N) - $t0) / 1000000" | bc)
    wait_for 30 test -s "$WORK/conns" || echo "ha-compare: the client did not finish" >&2
    read -r alive reset other stall <<<"$(cat "$WORK/conns" 2>/dev/null || echo "0 0 0 0")"
    diag failover
    say "$(printf 'failover\t%s\trun %s\t%s/%s alive\t%s reset\t%s other\tstall %s ms\tfw2 master after ~%s ms\tfw2 held %s states' \
        "$IMPL" "$i" "$alive" "$CONNS" "$reset" "$other" "$stall" "$took" "$before")"
}

: >"$OUT"
mkdir -p "$LOGS"
say "# $(date -u '+%F %T') UTC; $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1); kernel $(uname -r)"
say "# $(keepalived --version 2>&1 | head -1); $(conntrackd -v 2>&1 | head -1); pfd $PFD"
say "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
say "# lag: test impl setting rate sent fw1_flows fw2_flows fw1->fw2: p50_ms p99_ms max_ms; client->fw2: p50_ms p99_ms max_ms"
for IMPL in $IMPLS; do
    for test in $TESTS; do
        case $test in
        lag)
            pair_up
            lag_test default
            keep_logs "lag-$IMPL-default"
            stop_all
            if [ "$IMPL" = pfd ] && [ "$LOW" = 1 ]; then
                pair_up defer
                lag_test defer
                keep_logs "lag-$IMPL-defer"
                stop_all
            fi
            ;;
        bulk)
            SYNC_MTU=9000
            if [ "$IMPL" = pfd ]; then
                pair_up "bulkburst 200"
                bulk_test "$BULK"
                keep_logs "bulk-$IMPL-$BULK"
                stop_all
                pair_up "bulkburst 200"
                bulk_test "$PFD_BULK"
                keep_logs "bulk-$IMPL-$PFD_BULK"
                stop_all
            else
                pair_up
                bulk_test "$BULK"
                keep_logs "bulk-$IMPL-$BULK"
                stop_all
            fi
            SYNC_MTU=1500
            ;;
        failover)
            for i in $(seq 1 "$RUNS"); do
                pair_up
                failover_test "$i"
                keep_logs "failover-$IMPL-$i"
                stop_all
            done
            ;;
        esac
    done
done
say "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
