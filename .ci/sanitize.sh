#!/usr/bin/env bash
# The module itself under ASan + UBSan inside real servers: builds it with
# `make SANITIZE=1` (every report fatal, see the Makefile), installs it into a
# private PostgreSQL copy whose `postgres` is a wrapper that preloads the ASan
# runtime into the postmaster (so every backend and the worker inherit it),
# runs the unit tests, pg_regress and the TAP suite against it, and fails on
# any failed test AND on any sanitizer report, even one in a process whose
# death no test noticed (reports go to files in a folder that must stay empty).
#
#   bash .ci/sanitize.sh            # as root (tests then run as postgres) or as
#                                   # a user who can read /usr/lib/postgresql
# Environment: PROVE_FLAGS (default: --timer -j3), PROVE_TESTS (e.g. t/002_robustness.pl),
# SAN_KEEP=1 keeps the work folder.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

base=$(mktemp -d /tmp/pg_exporter-san.XXXXXX)
cleanup() { [ "${SAN_KEEP:-0}" = 1 ] && echo "(kept $base)" || rm -rf "$base"; }
trap cleanup EXIT

PGC=$(scripts/dev-pg-copy.sh "$base/pg")
bindir=$("$PGC" --bindir)
logs="$base/sanitizer-reports"
mkdir -p "$logs"
chmod 1777 "$logs"

# PostgreSQL's own allocations are never freed before exit (memory contexts,
# the postmaster's state inherited by fork): leak reports would be noise.
libasan=$(readlink -f "$(g++ -print-file-name=libasan.so)")
[ -f "$libasan" ] || { echo "no libasan for g++" >&2; exit 1; }
# A preloaded ASan initialises itself at its first intercepted call. In the
# postmaster that call is a malloc inside libgpg-error's constructor, under
# gettext's lock, and the initialisation then looks up swift_demangle, whose
# failure dlerror() translates under that same lock: the process hangs (seen
# with GCC 12's and clang 14's runtimes). A swift_demangle of our own makes
# the look-up succeed; ASan calls it only for Swift symbol names.
shim="$base/pg/asan-swift-shim.so"
printf '%s\n' '#include <stddef.h>' \
  'char *swift_demangle(const char *n, size_t l, char *o, size_t *ol, unsigned f) { (void)n; (void)l; (void)o; (void)ol; (void)f; return NULL; }' |
  gcc -x c -shared -fPIC -O1 -o "$shim" -
# ASan intercepts crypt_r and binds the real one when it starts; the server
# does not link libxcrypt (only our module does, loaded later), so without
# libcrypt preloaded too the interceptor calls a null pointer (basic auth).
# (awk reads to the end: leaving early would SIGPIPE ldconfig, and pipefail
# would end this script with 141, which CI once did.)
libcrypt=$(ldconfig -p | awk '!found && /libcrypt\.so\.1 .*x86-64|libcrypt\.so\.1 .*=>/ {print $NF; found = 1}')
[ -f "$libcrypt" ] || { echo "no libcrypt.so.1" >&2; exit 1; }
mv "$bindir/postgres" "$bindir/postgres.real"
cat >"$bindir/postgres" <<EOF
#!/bin/bash
# The ASan runtime must come first in the process: preloaded into the
# postmaster, inherited by every backend and the worker through fork().
# argv[0] stays this script's path: the postmaster writes it to
# postmaster.opts, and pg_ctl restart must come back through here.
LD_PRELOAD="$libasan:$shim:$libcrypt\${LD_PRELOAD:+:\$LD_PRELOAD}" \\
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:quarantine_size_mb=64:log_path=$logs/asan" \\
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1:log_path=$logs/ubsan" \\
exec -a "\$0" "$bindir/postgres.real" "\$@"
EOF
chmod 755 "$bindir/postgres"

# Build in a copy of the tree, sources only: the normal build (which CI runs
# at the same time) and the fuzzers keep their files apart.
work="$base/tree"
mkdir -p "$work"
tar -C "$src" --exclude=./.git --exclude='./tmp_check*' --exclude=./results --exclude=./build --exclude='*.o' \
  --exclude='*.so' --exclude='*.d' --exclude='*.bin' -cf - . | tar -C "$work" -xf -
echo "== sanitizer build (make SANITIZE=1)"
make -C "$work" -s -j2 SANITIZE=1 PG_CONFIG="$PGC" all test/unit/all_tests.bin
make -C "$work" -s SANITIZE=1 PG_CONFIG="$PGC" install
libdir=$("$PGC" --pkglibdir)
if ! readelf -d "$libdir/pg_exporter.so" | grep -q 'libasan'; then
  echo "== the installed module is not built with ASan" >&2
  exit 1
fi

prove_flags=${PROVE_FLAGS:---timer -j3}
cmd="make -C '$work' SANITIZE=1 PG_CONFIG='$PGC' installcheck PROVE_FLAGS='$prove_flags'"
[ -n "${PROVE_TESTS:-}" ] && cmd="$cmd PROVE_TESTS='$PROVE_TESTS'"
echo "== make installcheck against the sanitized module"
set +e
if [ "$(id -u)" = 0 ]; then
  chown -R postgres:postgres "$base"
  su postgres -s /bin/bash -c "$cmd" 2>&1 | tee "$base/installcheck.log"
else
  bash -c "$cmd" 2>&1 | tee "$base/installcheck.log"
fi
rc=${PIPESTATUS[0]}
set -e

reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
  echo "== FAILED: sanitizer reports"
  for f in $reports; do
    echo "---- $f"
    head -n 80 "$f"
  done
  rc=1
fi
# UBSan sets itself up at its first report, in a backend whose environment
# the postmaster has overwritten with process titles: it cannot see
# UBSAN_OPTIONS and reports to stderr, the server log (and exits with 1).
pattern='runtime error: |ERROR: AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer'
in_logs=$(grep -l -E "$pattern" "$work"/log/*.log "$work"/tmp_check/log/*.log 2>/dev/null | sort || true)
if [ -n "$in_logs" ]; then
  echo "== FAILED: sanitizer reports in server logs"
  for f in $in_logs; do
    echo "---- $f"
    grep -E -A 12 "$pattern" "$f" | head -n 80 || true
  done
  rc=1
fi
if [ "$rc" -ne 0 ]; then
  echo "== FAILED (exit $rc)"
  for f in "$work"/regression.diffs "$work"/tmp_check/log/regress_log_*; do
    [ -f "$f" ] || continue
    grep -q -E '^not ok|Bail out|died|FAILED' "$f" 2>/dev/null || [ "$f" = "$work/regression.diffs" ] || continue
    echo "---- $f (last 150 lines)"
    tail -n 150 "$f"
  done
  exit "$rc"
fi
echo "== sanitizer run: no report"
