#!/usr/bin/env bash
# Fuzz the pf.conf parser and printer: fuzz/run.sh [SECONDS] (default 60).
# TARGET=engine_frames fuzz/run.sh [SECONDS] fuzzes the packet engine
# instead (arbitrary frames through a stateful NAT/synproxy ruleset;
# seeded from the committed capture fixtures).
#
# Seeds a scratch corpus (fuzz/corpus/parse_pfconf, not committed) with
# fuzz/seeds/* and OpenBSD's regression inputs from
# ../shared/conformance/pfctl/*.in (or $PFD_CONFORMANCE_DIR), then runs
# libFuzzer. Exits non-zero when it finds a crash; the input is left in
# fuzz/artifacts/parse_pfconf/. Stable Rust runs cargo-fuzz through
# RUSTC_BOOTSTRAP=1 (it needs -Z flags for the sanitizer).
set -euo pipefail

secs=${1:-60}
case "$secs" in
'' | *[!0-9]*)
	echo "usage: fuzz/run.sh [SECONDS]" >&2
	exit 2
	;;
esac

fuzz_dir=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$fuzz_dir")
conformance=${PFD_CONFORMANCE_DIR:-$root/../shared/conformance/pfctl}
target=${TARGET:-parse_pfconf}
corpus=$fuzz_dir/corpus/$target

if ! cargo fuzz --version >/dev/null 2>&1; then
	echo "fuzz/run.sh: installing cargo-fuzz" >&2
	cargo install cargo-fuzz --locked
fi

mkdir -p "$corpus"
if [ "$target" = engine_frames ]; then
	# Seeds: each frame of the committed captures as one record.
	/usr/bin/env python3 - "$corpus" "$root"/mgmt/tests/fixtures/*.pcap <<'PY'
import struct, sys, os
out = sys.argv[1]
for path in sys.argv[2:]:
    b = open(path, 'rb').read()
    off, recs = 24, b''
    while off + 16 <= len(b):
        cap = struct.unpack('<I', b[off + 8:off + 12])[0]
        frame = b[off + 16:off + 16 + cap]
        recs += bytes([2 | (frame[0:6] == bytes.fromhex('02000000000a'))]) + struct.pack('>H', len(frame)) + frame
        off += 16 + cap
    open(os.path.join(out, os.path.basename(path) + '.seed'), 'wb').write(recs)
PY
else
cp "$fuzz_dir"/seeds/* "$corpus"/
if compgen -G "$conformance/*.in" >/dev/null; then
	for f in "$conformance"/*.in; do
		cp "$f" "$corpus/conformance-$(basename "$f")"
	done
else
	echo "fuzz/run.sh: warning: no $conformance/*.in; seeding from fuzz/seeds only" >&2
fi
fi

cd "$fuzz_dir"
rc=0
RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "$corpus" -- \
	-max_total_time="$secs" -timeout=10 || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "fuzz/run.sh: $target failed (exit $rc); crashing inputs are in $fuzz_dir/artifacts/$target/" >&2
	exit "$rc"
fi
echo "fuzz/run.sh: $target ran ${secs}s with no crash"
