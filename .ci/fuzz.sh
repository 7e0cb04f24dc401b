#!/usr/bin/env bash
# Builds the libFuzzer targets (`make fuzz`) and runs each for a bounded time
# on its seed corpus (test/fuzz/corpus/<target>, read only: new inputs go to
# a temporary folder). Any crash, sanitizer report, leak or timeout fails the
# run and leaves the input in build/fuzz/<target>-crash-* (printed here).
#   bash .ci/fuzz.sh                 # 60 s per target, two at a time
#   FUZZ_SECONDS=600 FUZZ_TARGETS=http_server bash .ci/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-2}

echo "== building the fuzz targets (make fuzz)"
make -s -j2 fuzz
targets=${FUZZ_TARGETS:-$(make -s --no-print-directory print-fuzz-targets)}

out=$(mktemp -d /tmp/pg_exporter-fuzz.XXXXXX)
trap 'rm -rf "$out"' EXIT

run_one() {
  local t=$1
  mkdir -p "$out/$t"
  # -timeout: one input may take at most 10 s; -rss_limit_mb: bounded memory.
  if build/fuzz/"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="build/fuzz/$t-" "$out/$t" "test/fuzz/corpus/$t" \
    >"$out/$t.log" 2>&1; then
    echo "fuzz $t: $(grep -E '^Done [0-9]+ runs' "$out/$t.log" || echo done), $(grep -oE 'cov: [0-9]+' "$out/$t.log" | tail -1)"
  else
    echo "== fuzz $t FAILED"
    grep -v -E '^#[0-9]+' "$out/$t.log" | tail -n 60
    return 1
  fi
}

echo "== fuzzing, $seconds s per target: $targets"
pids=() names=() failed=0
for t in $targets; do
  run_one "$t" &
  pids+=($!) names+=("$t")
  if [ "${#pids[@]}" -ge "$jobs" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}") names=("${names[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
if [ "$failed" -ne 0 ]; then
  echo "== fuzzing FAILED (inputs: $(ls build/fuzz/*-crash-* build/fuzz/*-leak-* build/fuzz/*-timeout-* build/fuzz/*-oom-* 2>/dev/null | tr '\n' ' '))"
  exit 1
fi
echo "== fuzzing: no crash"
