#!/usr/bin/env bash
# Lab script: the packet engine's per-core figures, and the references
# measured in the same run.
#
#   benches/engine-bench.sh     (MEASURE=SECONDS per criterion bench, default 5)
#
# 1. criterion: wire parse, state table (track at 1M states, inserts,
#    bytes per state), the whole engine (established with and without
#    NAT, first packet with and without state events), rule evaluation
#    on 10 / 1,000 / 10,000 rules against the linear scan;
# 2. callgrind instruction counts per established packet (load-proof);
# 3. the reference: Linux conntrack's object size on this kernel, read
#    from /proc/slabinfo in a scratch network namespace where an nft
#    stateful rule has loaded nf_conntrack (never the root namespace's
#    firewall).
# Figures go in BENCHMARKS.md with the machine they came from.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
MEASURE=${MEASURE:-5}
NS=pfd-engine-bench-$$
cleanup() { ip netns del "$NS" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

cd "$ROOT"
crit() { cargo bench -q -p "$1" --bench "$2" -- --warm-up-time 2 --measurement-time "$MEASURE" 2>&1 |
    grep -E '^[a-z_0-9/]+|time:|thrpt:|bytes per state|shard|rules tested' ; }

echo "== machine"
nproc; grep -m1 'model name' /proc/cpuinfo || true; uname -r; rustc --version

echo "== wire";   crit dataplane wire
echo "== state";  crit dataplane state
echo "== engine"; crit dataplane engine
echo "== eval";   crit pfd-benches eval

echo "== instructions per established packet (callgrind)"
cargo build -q --release -p dataplane --example engine_profile
EX=$TARGET/release/examples/engine_profile
for args in "1000 100000" "nat 1000 100000"; do
    out=$(mktemp)
    # shellcheck disable=SC2086
    valgrind --tool=callgrind --toggle-collect='engine_profile::hot' \
        --callgrind-out-file="$out" "$EX" $args >/dev/null 2>&1
    ir=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
    echo "engine_profile $args: $((ir / 100000)) instructions per packet"
    rm -f "$out"
done
for args in "1000 5000000" "100000 5000000" "nat 1000 5000000"; do
    # shellcheck disable=SC2086
    "$EX" $args
done

echo "== reference: Linux conntrack object size"
if [ "$(id -u)" -eq 0 ] && command -v nft >/dev/null; then
    ip netns add "$NS"
    ip netns exec "$NS" nft add table inet t
    ip netns exec "$NS" nft add chain inet t c '{ type filter hook forward priority 0; }'
    ip netns exec "$NS" nft add rule inet t c ct state established accept
    grep -E '^nf_conntrack ' /proc/slabinfo | awk '{ print "nf_conntrack slab object: " $4 " bytes" }'
else
    echo "(needs root and nft)"
fi
