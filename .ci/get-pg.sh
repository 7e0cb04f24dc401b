#!/usr/bin/env bash
# Vendored from the team's shared tools (../shared/tools/get-pg.sh, see its README):
# .ci/run and scripts/test-pg.sh use this copy so that CI does not depend on
# where the shared directory is; .ci/run warns when the shared copy differs.
# get-pg.sh VERSION [METHOD]
# Provides PostgreSQL VERSION's server binaries, server headers, PGXS,
# pg_regress and the TAP modules (PostgreSQL::Test::Cluster) on a Debian 12
# host that reaches only deb.debian.org, without touching the host's apt
# configuration. Prints the pg_config to build against (last line of stdout).
#
# METHOD src    (default for 13 and 18; 14/16 with PG_SRC_TARBALL): build from
#               the upstream tarball with the host's own toolchain into
#               $PG_ROOT/VERSION (default /var/tmp/pg-versions/VERSION). The tarball is
#               Debian's .orig.tar.bz2 (bullseye-security for 13, sid for 18), or
#               PG_SRC_TARBALL=/path/postgresql-X.Y.tar.* (any upstream tarball /
#               git archive) for versions Debian no longer carries (14, 16).
# METHOD chroot (the only way for 17 and 19, whose sources 404 on the mirror
#               and whose binaries need a newer glibc than bookworm's): a
#               debootstrap'ed trixie/sid chroot in $PG_ROOT/chroot-SUITE with
#               postgresql-VERSION, -server-dev-VERSION and the project's build
#               deps installed by apt inside it. Prints the chroot path.
#
# METHOD umount: unmount a chroot's bind mounts (proc, sys, dev, checkouts).
#
# Needs root, bison and flex (apt-get install bison flex) for METHOD src,
# debootstrap for METHOD chroot.
set -euo pipefail
ver=${1:?usage: get-pg.sh VERSION [src|chroot|umount]}
root=${PG_ROOT:-/var/tmp/pg-versions}
here=$(cd "$(dirname "$0")" && pwd)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org}
jobs=${JOBS:-$(nproc)}
case "$ver" in
  13) suite=bullseye-security; uri=$mirror/debian-security; method=${2:-src}; chsuite=bullseye;;
  # Not in any Debian suite reachable here: source tarballs in ../pg-src (see its README).
  14|16) suite=; method=${2:-src}; chsuite=
         : "${PG_SRC_TARBALL:=$(ls "$here"/../pg-src/postgresql-"$ver".*.tar.gz 2>/dev/null | tail -1)}";;
  17) suite=trixie; uri=$mirror/debian; method=${2:-chroot}; chsuite=trixie;;
  18) suite=sid; uri=$mirror/debian; method=${2:-src}; chsuite=sid;;
  19) suite=experimental; uri=$mirror/debian; method=${2:-chroot}; chsuite=sid;;
  *) echo "unsupported version $ver" >&2; exit 2;;
esac
mkdir -p "$root"
log() { echo "[get-pg $ver $(date +%T)] $*" >&2; }

# A private apt state (lists, cache, sources) so the host's apt is untouched.
apt_private() {  # apt_private SUITE URI -> sets APT_OPTS
  local s=$1 u=$2 d=$root/apt-$1
  mkdir -p "$d/lists/partial" "$d/archives/partial" "$d/sources.d"
  : > "$d/empty.list"
  cat > "$d/sources.d/pg.sources" <<SRC
Types: deb deb-src
URIs: $u
Suites: $s
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  APT_OPTS=(-o Dir::Etc::sourcelist="$d/empty.list" -o Dir::Etc::sourceparts="$d/sources.d"
            -o Dir::State::Lists="$d/lists" -o Dir::Cache::Archives="$d/archives"
            -o Dir::Cache::pkgcache="" -o Dir::Cache::srcpkgcache="")
  if [ -z "$(ls "$d/lists" | grep -m1 Sources || true)" ]; then
    apt-get "${APT_OPTS[@]}" update -qq >&2
  fi
}

if [ "$method" = src ]; then
  prefix=$root/$ver
  if [ -x "$prefix/bin/pg_config" ]; then echo "$prefix/bin/pg_config"; exit 0; fi
  command -v bison >/dev/null && command -v flex >/dev/null || { echo "need bison flex" >&2; exit 1; }
  dl=$root/dl; mkdir -p "$dl"
  if [ -n "${PG_SRC_TARBALL:-}" ]; then
    tarball=$PG_SRC_TARBALL
  else
    [ -n "$suite" ] || { echo "PostgreSQL $ver is in no reachable Debian suite: set PG_SRC_TARBALL" >&2; exit 1; }
    apt_private "$suite" "$uri"
    (cd "$dl" && apt-get "${APT_OPTS[@]}" source --download-only -qq "postgresql-$ver" >&2)
    tarball=$(ls -t "$dl"/postgresql-"$ver"_*.orig.tar.* | head -1)
  fi
  build=$root/build-$ver; rm -rf "$build"; mkdir -p "$build"
  log "unpacking $tarball"
  tar -xf "$tarball" -C "$build" --strip-components=1
  cd "$build"
  log "configure"
  ./configure --prefix="$prefix" --enable-tap-tests --with-openssl --without-readline \
      --without-icu CFLAGS="-O2 -g0" >config.out 2>&1 || { tail -30 config.out >&2; exit 1; }
  log "make -j$jobs"
  make -s -j"$jobs" >make.out 2>&1 || { tail -40 make.out >&2; exit 1; }
  make -s install >>make.out 2>&1
  # Contrib modules the project's tests load.
  for m in pg_stat_statements pg_buffercache test_decoding; do
    make -s -C contrib/$m -j"$jobs" install >>make.out 2>&1
  done
  log "installed into $prefix ($(du -sh "$prefix" | cut -f1)); build dir $build ($(du -sh "$build" | cut -f1))"
  [ -n "${KEEP_BUILD:-}" ] || rm -rf "$build"
  echo "$prefix/bin/pg_config"
  exit 0
fi

if [ "$method" = chroot ]; then
  [ -n "$chsuite" ] || { echo "no Debian suite carries PostgreSQL $ver" >&2; exit 1; }
  [ "$chsuite" != bullseye ] || { echo "bullseye has no prometheus-cpp-dev: use METHOD src for 13" >&2; exit 1; }
  ch=$root/chroot-$chsuite
  if [ ! -e "$ch/.debootstrap-done" ]; then
    command -v debootstrap >/dev/null || { echo "need debootstrap (apt-get install debootstrap)" >&2; exit 1; }
    log "debootstrap $chsuite"
    debootstrap --variant=minbase "$chsuite" "$ch" "$mirror/debian" >"$root/debootstrap-$chsuite.log" 2>&1 \
      || { tail -20 "$root/debootstrap-$chsuite.log" >&2; exit 1; }
    touch "$ch/.debootstrap-done"
  fi
  {
    echo "deb $mirror/debian $chsuite main"
    case $chsuite in
      bullseye) echo "deb $mirror/debian-security bullseye-security main";;
      trixie) echo "deb $mirror/debian-security trixie-security main"; echo "deb $mirror/debian trixie-updates main";;
      sid) echo "deb $mirror/debian experimental main";;
    esac
  } > "$ch/etc/apt/sources.list"
  # The mirror's sid/experimental Release files can be past Valid-Until
  # (the host's apt is configured the same way).
  printf 'Acquire::Check-Valid-Until "false";\nAcquire::Check-Date "false";\n' > "$ch/etc/apt/apt.conf.d/99no-valid-until"
  # Services must not start inside the chroot.
  printf '#!/bin/sh\nexit 101\n' > "$ch/usr/sbin/policy-rc.d"; chmod +x "$ch/usr/sbin/policy-rc.d"
  mounts() {
    for m in proc sys dev dev/pts dev/shm; do
      mountpoint -q "$ch/$m" || mount --bind "/$m" "$ch/$m"
    done
  }
  mounts
  cp /etc/resolv.conf "$ch/etc/resolv.conf" 2>/dev/null || true
  # The host's promtool (bookworm 2.42) is used in the chroot when there is
  # one, so that lint findings match the host's CI (trixie's 2.53 lints
  # differently and took ~60 s per large exposition here); else Debian's.
  promtool_pkg=prometheus; [ -x /usr/bin/promtool ] && [ -z "${CHROOT_PROMTOOL:-}" ] && promtool_pkg=
  # 19 is only in experimental: take just its packages from there.
  tsel=; [ "$ver" = 19 ] && tsel=/experimental
  log "apt-get install in $ch"
  chroot "$ch" /bin/bash -c "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && \
    apt-get install -y -qq --no-install-recommends postgresql-$ver$tsel postgresql-server-dev-$ver$tsel postgresql-client-$ver$tsel ${tsel:+libpq-dev$tsel libpq5$tsel} \
      build-essential pkg-config ca-certificates prometheus-cpp-dev libipc-run-perl libssl-dev openssl \
      libisal-dev zlib1g-dev libcrypt-dev libyaml-cpp-dev curl $promtool_pkg >/dev/null" >&2
  [ -z "$promtool_pkg" ] && install -m 755 /usr/bin/promtool "$ch/usr/local/bin/promtool"
  # The TLS test scrapes with the host's Prometheus and compares with its
  # postgres_exporter (Go binaries, fine on the chroot's newer glibc).
  for b in prometheus prometheus-postgres-exporter; do
    if [ -x "/usr/bin/$b" ]; then install -m 755 "/usr/bin/$b" "$ch/usr/local/bin/$b"; fi
  done
  # A non-root user for initdb.
  chroot "$ch" /bin/bash -c "id pgtest >/dev/null 2>&1 || useradd -m pgtest" >&2
  log "chroot ready: $ch ($(du -shx "$ch" 2>/dev/null | cut -f1))"
  echo "$ch"
  exit 0
fi
if [ "$method" = umount ]; then
  # Undo the chroot's bind mounts (deepest first), e.g. before rm -rf.
  ch=$root/chroot-$chsuite
  for m in $(awk -v c="$ch" '$2 ~ "^"c"/" {print $2}' /proc/mounts | sort -r); do umount "$m"; done
  exit 0
fi
echo "unknown method $method" >&2; exit 2
