#!/usr/bin/env bash
# Builds and tests pg_exporter against one PostgreSQL major version, as root,
# without touching the machine's own PostgreSQL 15 installation:
#
#   bash scripts/test-pg.sh VERSION [server|build|check|all]   (default: all)
#
#   server  provide the server (.ci/get-pg.sh: built from source into
#           $PG_ROOT/VERSION, or a Debian chroot $PG_ROOT/chroot-SUITE for 17
#           and 19; 15 is a private copy of the installed one, see
#           scripts/dev-pg-copy.sh). Cached: a second call reuses it.
#   build   copy this tree to a work directory, compile against VERSION
#           (PG_CONFIG=...) and install into that server.
#   check   make installcheck there as an unprivileged user (postgres on the
#           host, pgtest in a chroot); UNITCHECK=no skips the unit tests.
#
# Environment: PG_ROOT (/var/tmp/pg-versions), PG_WORK (/var/tmp/pg_exporter-test),
# PG_SHARED (where get-pg's source tarballs are, see .ci/find-shared.sh),
# JOBS (2), UNITCHECK, PROVE_FLAGS (--timer), PROVE_TESTS.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ver=${1:?usage: test-pg.sh VERSION [server|build|check|all]}
step=${2:-all}
PG_ROOT=${PG_ROOT:-/var/tmp/pg-versions}
PG_WORK=${PG_WORK:-/var/tmp/pg_exporter-test}
JOBS=${JOBS:-2}
export PG_ROOT

# Where each version runs: a chroot (17, 19: their binaries need a newer
# glibc than Debian 12's) or this host.
chroot_dir=
case "$ver" in
  17) chroot_dir=$PG_ROOT/chroot-trixie ;;
  19) chroot_dir=$PG_ROOT/chroot-sid ;;
  13 | 14 | 15 | 16 | 18) ;;
  *) echo "test-pg.sh: unsupported PostgreSQL version $ver" >&2; exit 2 ;;
esac
if [ -n "$chroot_dir" ]; then
  tree_in=/home/pgtest/pg_exporter-$ver     # path inside the chroot
  tree=$chroot_dir$tree_in
  pg_config=/usr/lib/postgresql/$ver/bin/pg_config
  in_env() { chroot "$chroot_dir" /usr/bin/env -i PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }
  as_tester() { in_env su pgtest -s /bin/bash -c "$1"; }
  tester=pgtest
else
  tree_in=$PG_WORK/$ver
  tree=$tree_in
  if [ "$ver" = 15 ]; then
    pg_config=$PG_WORK/pg15/usr/lib/postgresql/15/bin/pg_config
  else
    pg_config=$PG_ROOT/$ver/bin/pg_config
  fi
  in_env() { "$@"; }
  as_tester() { su postgres -s /bin/bash -c "$1"; }
  tester=postgres
fi

get_server() {
  if [ "$ver" = 15 ]; then
    mkdir -p "$PG_WORK"
    bash "$here/scripts/dev-pg-copy.sh" "$PG_WORK/pg15" >/dev/null
  else
    local tarball=
    if [ "$ver" = 14 ] || [ "$ver" = 16 ]; then
      tarball=$(ls "${PG_SHARED:?PG_SHARED must name the directory with pg-src/ (see .ci/find-shared.sh)}"/pg-src/postgresql-"$ver".*.tar.gz 2>/dev/null | tail -1)
      [ -n "$tarball" ] || { echo "no PostgreSQL $ver tarball in $PG_SHARED/pg-src" >&2; exit 1; }
    fi
    PG_SRC_TARBALL=$tarball JOBS=$JOBS bash "$here/.ci/get-pg.sh" "$ver" >/dev/null
  fi
  in_env test -x "$pg_config" || { echo "PostgreSQL $ver: no $pg_config" >&2; exit 1; }
  echo "PostgreSQL $ver: $(in_env "$pg_config" --version) ($([ -n "$chroot_dir" ] && echo "chroot $chroot_dir" || echo "$pg_config"))"
}

build() {
  rm -rf "$tree"
  mkdir -p "$tree"
  # The tracked (and new, unignored) files only: no object of another build.
  git -C "$here" ls-files -co --exclude-standard -z | tar -C "$here" --null -T - -cf - | tar -C "$tree" -xf -
  # -Werror: the tree must build warning-free against every version.
  in_env make -C "$tree_in" -s -j"$JOBS" PG_CONFIG="$pg_config" WERROR=1 >/dev/null
  in_env make -C "$tree_in" -s PG_CONFIG="$pg_config" install >/dev/null
  if [ "$ver" = 15 ]; then chown -R postgres: "$PG_WORK/pg15"; fi
  if [ -n "$chroot_dir" ]; then in_env chown -R pgtest: "$tree_in"; else chown -R postgres: "$tree"; fi
  echo "PostgreSQL $ver: built and installed (tree $tree)"
}

check() {
  # A world-traversable path to the tree for the unprivileged user.
  chmod 755 "$(dirname "$tree")"
  as_tester "cd '$tree_in' && make installcheck PG_CONFIG='$pg_config' UNITCHECK='${UNITCHECK:-}' PROVE_FLAGS='${PROVE_FLAGS:---timer}'${PROVE_TESTS:+ PROVE_TESTS='$PROVE_TESTS'}"
}

case "$step" in
  server) get_server ;;
  build) build ;;
  check) check ;;
  all) get_server && build && check ;;
  *) echo "unknown step $step" >&2; exit 2 ;;
esac
