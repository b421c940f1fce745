#!/usr/bin/env bash
# Lab script: pfd's ruleset load against nftables' on the same ruleset.
#
#   benches/nft-compare.sh            (as root; RUNS=N to change the run count,
#                                      SKIP_CRITERION=1 to reuse the last
#                                      criterion results)
#
# 1. builds pfd-benches (gen-rulesets) and pfctl in release,
# 2. writes pf-10k.conf, nft-10k.nft and table-100k.txt from the fixed seed,
# 3. runs the criterion benches (parse_10k_rules, parse_compile_10k_rules,
#    table_load_100k, table_lookup),
# 4. in a scratch network namespace it creates and deletes, times
#    `nft -c -f nft-10k.nft` (check mode: parsed, sent to the kernel's
#    nf_tables for validation, never committed) and `pfctl -nf pf-10k.conf`,
# 5. prints the medians and the ratios.
#
# It never touches the root namespace's firewall: nft only runs under
# `ip netns exec` in the scratch namespace, and only in check mode.
# Figures go in BENCHMARKS.md with the machine they came from.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
RUNS=${RUNS:-20}
NS=pfd-bench-$$
WORK=$(mktemp -d /tmp/pfd-nft-compare.XXXXXX)

cleanup() {
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

need() { command -v "$1" >/dev/null 2>&1; }

if ! need nft || ! need hyperfine; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "nft-compare: nft/hyperfine missing and not root: install nftables (and hyperfine)" >&2
        exit 1
    fi
    apt-get update -qq
    apt-get install -y -qq nftables >/dev/null
    apt-get install -y -qq hyperfine >/dev/null 2>&1 || echo "nft-compare: hyperfine not available; using a timing loop" >&2
fi

cd "$ROOT"
echo "== build (release)"
cargo build --release -q -p pfd-benches --bin gen-rulesets
PFCTL=""
if cargo build --release -q -p mgmt --bin pfctl; then
    PFCTL="$TARGET/release/pfctl"
fi

echo "== generate inputs in $WORK"
"$TARGET/release/gen-rulesets" --out "$WORK"
PF_CONF=$WORK/pf-10k.conf
NFT_FILE=$WORK/nft-10k.nft

if [ -z "${SKIP_CRITERION:-}" ]; then
    echo "== criterion benches"
    cargo bench -q -p pfd-benches 2>&1 | grep -E '^(ruleset|table|table_lookup)/|time:|thrpt:'
fi

# Median of a criterion benchmark in milliseconds.
criterion_ms() {
    jq '.median.point_estimate / 1e6' "$TARGET/criterion/$1/new/estimates.json"
}

# Median wall time of a command in milliseconds, over RUNS runs after two
# warm-up runs. The command runs in the scratch namespace ($1 = env
# assignments, may be empty).
median_ms() {
    local envs=$1
    shift
    if need hyperfine; then
        ip netns exec "$NS" env $envs hyperfine -N --warmup 2 --runs "$RUNS" \
            --export-json "$WORK/hf.json" "$*" >/dev/null
        jq '.results[0].median * 1000' "$WORK/hf.json"
    else
        local i t0 t1 times=()
        for i in 1 2; do ip netns exec "$NS" env $envs "$@" >/dev/null 2>&1; done
        for ((i = 0; i < RUNS; i++)); do
            t0=$(date +%s%N)
            ip netns exec "$NS" env $envs "$@" >/dev/null 2>&1
            t1=$(date +%s%N)
            times+=($(((t1 - t0) / 1000)))
        done
        printf '%s\n' "${times[@]}" | sort -n |
            awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; print m / 1000 }'
    fi
}

echo "== scratch namespace $NS"
ip netns add "$NS"
# Fail loudly if nft rejects the ruleset: a timing of an error is no timing.
ip netns exec "$NS" nft -c -f "$NFT_FILE"

NFT_MS=$(median_ms "" nft -c -f "$NFT_FILE")
PFCTL_MS=""
if [ -n "$PFCTL" ]; then
    PFD_HOST_PROFILE=openbsd-regress "$PFCTL" -nf "$PF_CONF" 2>/dev/null
    PFCTL_MS=$(median_ms "PFD_HOST_PROFILE=openbsd-regress" "$PFCTL" -nf "$PF_CONF")
fi
PARSE_MS=$(criterion_ms ruleset/parse_10k_rules)
COMPILE_MS=$(criterion_ms ruleset/parse_compile_10k_rules)
TABLE_MS=$(criterion_ms table/table_load_100k)

echo
echo "== results (median of $RUNS runs; criterion medians for pfd in-process)"
printf '%-48s %10.2f ms\n' "pfd parse+expand 10k rules (criterion)" "$PARSE_MS"
printf '%-48s %10.2f ms\n' "pfd parse+expand+compile 10k rules (criterion)" "$COMPILE_MS"
printf '%-48s %10.2f ms\n' "pfd table load 100k entries (criterion)" "$TABLE_MS"
[ -n "$PFCTL_MS" ] && printf '%-48s %10.2f ms\n' "pfctl -nf pf-10k.conf (end to end)" "$PFCTL_MS"
printf '%-48s %10.2f ms\n' "nft -c -f nft-10k.nft (end to end)" "$NFT_MS"
printf '%-48s %10.2f x\n' "ratio nft / pfd parse+expand+compile" "$(echo "$NFT_MS / $COMPILE_MS" | bc -l)"
[ -n "$PFCTL_MS" ] && printf '%-48s %10.2f x\n' "ratio nft / pfctl end to end" "$(echo "$NFT_MS / $PFCTL_MS" | bc -l)"
exit 0
