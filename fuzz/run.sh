#!/usr/bin/env bash
# Fuzz every surface for a bounded time: fuzz/run.sh [SECONDS] [TARGET...]
# (default 60 s each, all targets: pfconf pipeline carp pfsync control).
#
# For each target: build it, run libFuzzer on a scratch copy of the
# committed corpus (fuzz/corpus/TARGET) for SECONDS, merge what it found
# back into the committed corpus minimised (`-merge=1` keeps only inputs
# that add coverage), and print executions, exec/s and coverage (cov: =
# edges, ft: = features, libFuzzer's final figures). A crashing input is
# left in fuzz/artifacts/TARGET/; the script goes on with the next target
# and exits non-zero at the end. Save a crash as
# fuzz/regressions/TARGET/NAME, fix it, and name it in
# mgmt/tests/fuzz_regress.rs.
#
# An empty corpus is seeded by fuzz/seed.py (capture fixtures, carp and
# pfsync golden vectors, control lines, and OpenBSD's pfctl regression
# inputs from ../shared/conformance/pfctl or $PFD_CONFORMANCE_DIR).
# Stable Rust runs cargo-fuzz through RUSTC_BOOTSTRAP=1 (it needs -Z
# flags for the sanitizer); JOBS=N runs N libFuzzer workers per target.
set -euo pipefail

secs=${1:-60}
case "$secs" in
'' | *[!0-9]*)
	echo "usage: fuzz/run.sh [SECONDS] [TARGET...]" >&2
	exit 2
	;;
esac
shift || true
all=(pfconf pipeline carp pfsync control)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

fuzz_dir=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$fuzz_dir")
conformance=${PFD_CONFORMANCE_DIR:-$root/../shared/conformance/pfctl}
jobs=${JOBS:-1}
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
	echo "fuzz/run.sh: installing cargo-fuzz" >&2
	cargo install cargo-fuzz --locked
fi

cd "$fuzz_dir"
summary=()
failed=0
for t in "${targets[@]}"; do
	corpus=$fuzz_dir/corpus/$t
	mkdir -p "$corpus" "$fuzz_dir/artifacts/$t"
	if [ -z "$(ls -A "$corpus")" ]; then
		seeds=$(mktemp -d)
		python3 "$fuzz_dir/seed.py" "$seeds" "$root" "$conformance"
		cp "$seeds/$t"/* "$corpus"/
		rm -rf "$seeds"
	fi
	cargo fuzz build "$t"
	bin=$fuzz_dir/target/x86_64-unknown-linux-gnu/release/$t
	scratch=$(mktemp -d)
	cp "$corpus"/* "$scratch"/
	log=$fuzz_dir/artifacts/$t/run.log
	rc=0
	par=()
	[ "$jobs" -gt 1 ] && par=(-jobs="$jobs" -workers="$jobs")
	# Workers write fuzz-N.log in the current directory: the target's own.
	(cd "$fuzz_dir/artifacts/$t" && rm -f fuzz-*.log &&
		"$bin" "$scratch" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
			"${par[@]}" -print_final_stats=1 \
			-artifact_prefix="$fuzz_dir/artifacts/$t/") >"$log" 2>&1 || rc=$?
	if [ "$jobs" -gt 1 ]; then
		cat "$fuzz_dir/artifacts/$t"/fuzz-*.log >>"$log" 2>/dev/null || true
		rm -f "$fuzz_dir/artifacts/$t"/fuzz-*.log
	fi
	if [ "$rc" -ne 0 ]; then
		failed=1
		echo "fuzz/run.sh: $t failed (exit $rc); see $log and $fuzz_dir/artifacts/$t/" >&2
		grep -E 'panicked|ERROR|SUMMARY' "$log" | head -5 >&2 || true
	fi
	# Keep the committed corpus minimal: only inputs that add coverage.
	merged=$(mktemp -d)
	"$bin" -merge=1 "$merged" "$corpus" "$scratch" >"$fuzz_dir/artifacts/$t/merge.log" 2>&1 || true
	if [ -n "$(ls -A "$merged")" ]; then
		rm -f "$corpus"/*
		cp "$merged"/* "$corpus"/
	fi
	rm -rf "$scratch" "$merged"
	execs=$(grep -h 'stat::number_of_executed_units' "$log" | awk '{s += $2} END {print s + 0}')
	rate=$(grep -h 'stat::average_exec_per_sec' "$log" | awk '{s += $2} END {print s + 0}')
	last=$(grep -hE '^#[0-9]+.*(cov|ft):' "$log" | tail -1)
	cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
	ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")
	files=$(ls "$corpus" | wc -l)
	size=$(du -sk --apparent-size "$corpus" | cut -f1)
	summary+=("$(printf '%-9s %8ss %12s %8s %7s %7s %6s %7sK' "$t" "$secs" "$execs" "$rate" "${cov:-?}" "${ft:-?}" "$files" "$size")")
done
printf '%-9s %9s %12s %8s %7s %7s %6s %8s\n' target time execs exec/s cov ft inputs corpus
printf '%s\n' "${summary[@]}"
exit "$failed"
