# The HA pair's namespaces, sourced by demo/ha.sh and benches/soak.sh:
#
#   client 192.0.2.10 ── LAN ──┬── eth0 fw1 eth1 ──┬── WAN ── server 198.51.100.10
#        gateway 192.0.2.1     └── eth0 fw2 eth1 ──┘
#                                 eth2 ══ sync ══ eth2
#
# The caller sets P (the namespaces' name prefix), WORK (a scratch
# directory for sockets, logs and pids), PFD and ETC (a directory
# holding fw1/ and fw2/), and declares the array PIDS; every process
# started here is added to it, for the caller's cleanup to kill.

TOPO_NS="lan wan fw1 fw2 client server"

# The namespaces, switches (a bridge each) and cables.
topo_up() {
    local n sw c
    for n in $TOPO_NS; do
        ip netns add "$P$n"
        ip -n "$P$n" link set lo up
        ip netns exec "$P$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
        ip netns exec "$P$n" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    done
    for sw in lan wan; do
        ip -n "$P$sw" link add br0 type bridge
        ip -n "$P$sw" link set br0 type bridge mcast_snooping 0
        ip -n "$P$sw" link set br0 up
    done
    # switch port, switch, host, the host's NIC
    for c in "p1 lan fw1 eth0" "p2 lan fw2 eth0" "p3 lan client eth0" \
        "p1 wan fw1 eth1" "p2 wan fw2 eth1" "p3 wan server eth0"; do
        set -- $c
        ip -n "$P$2" link add "$1" type veth peer name "$4" netns "$P$3"
        ip -n "$P$2" link set "$1" master br0 up
        ip -n "$P$3" link set "$4" up
    done
    ip -n "${P}fw1" link add eth2 type veth peer name eth2 netns "${P}fw2"
    ip -n "${P}fw1" link set eth2 up
    ip -n "${P}fw2" link set eth2 up
    ip -n "${P}client" addr add 192.0.2.10/24 dev eth0
    ip -n "${P}client" route add default via 192.0.2.1
    ip -n "${P}server" addr add 198.51.100.10/24 dev eth0
}

# Every namespace topo_up made (quietly: some may not exist).
topo_down() {
    local n
    for n in $TOPO_NS; do ip netns del "$P$n" 2>/dev/null || true; done
}

# start_fw fw1|fw2: pfd booting from $ETC/NAME in its namespace; its
# pid in $WORK/NAME.pid, its log in $WORK/NAME.log, its control socket
# $WORK/NAME.sock.
start_fw() {
    ip netns exec "$P$1" "$PFD" run --etc "$ETC/$1" --control "$WORK/$1.sock" \
        </dev/null >/dev/null 2>>"$WORK/$1.log" &
    PIDS+=($!)
    echo $! >"$WORK/$1.pid"
    # killed on purpose by the callers: no "Killed" notice from bash
    disown $!
}

# master fw carpN: the firewall's log last says carpN became MASTER
master() { grep "$2: state transition" "$WORK/$1.log" 2>/dev/null | tail -1 | grep -q -- '-> MASTER$'; }
both_master() { master "$1" carp0 && master "$1" carp1; }

# states fw: its state count (pfctl -si's current entries)
states() {
    ip netns exec "$P$1" "$PFCTL" --control "$WORK/$1.sock" -si 2>/dev/null |
        awk '/current entries/ { print $3; exit }'
}
