#!/usr/bin/env bash
# CI's checks beyond `make installcheck`, side by side to save wall time (the
# TAP tests mostly wait, the fuzzers compute): the sanitizer run of the whole
# suite (.ci/sanitize.sh) and the fuzz targets (.ci/fuzz.sh, FUZZ_SECONDS each,
# 30 s by default here). Each one's output is printed when both are done;
# fails if either failed.
set -uo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d /tmp/pg_exporter-extra.XXXXXX)
trap 'rm -rf "$logs"' EXIT

bash .ci/sanitize.sh >"$logs/sanitize.log" 2>&1 &
san=$!
FUZZ_SECONDS=${FUZZ_SECONDS:-30} bash .ci/fuzz.sh >"$logs/fuzz.log" 2>&1 &
fuzz=$!
wait "$fuzz"
fuzz_rc=$?
wait "$san"
san_rc=$?

echo "== sanitizer run (.ci/sanitize.sh): exit $san_rc"
cat "$logs/sanitize.log"
echo "== fuzzing (.ci/fuzz.sh): exit $fuzz_rc"
cat "$logs/fuzz.log"
[ "$san_rc" -eq 0 ] && [ "$fuzz_rc" -eq 0 ]
