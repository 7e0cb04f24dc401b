#!/usr/bin/env bash
# Builds the Debian package postgresql-VERSION-pg-exporter from this tree
# (debian/, pg_buildext), installs it, creates a clean cluster of that
# version with pg_exporter preloaded, and scrapes the worker's endpoint:
#
#   bash scripts/deb-check.sh VERSION      (as root)
#
# It runs in the Debian chroot scripts/test-pg.sh provides for 17 (trixie)
# and 19 (sid with experimental), whose PostgreSQL comes from Debian packages:
# installing there leaves the machine's own PostgreSQL alone. The .deb is
# left in $PG_WORK/deb/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ver=${1:?usage: deb-check.sh VERSION}
PG_ROOT=${PG_ROOT:-/var/tmp/pg-versions}
PG_WORK=${PG_WORK:-/var/tmp/pg_exporter-test}
case "$ver" in
  17) ch=$PG_ROOT/chroot-trixie ;;
  19) ch=$PG_ROOT/chroot-sid ;;
  *) echo "deb-check.sh: $ver has no Debian-packaged server here (17 and 19 do, in their chroots)" >&2; exit 2 ;;
esac
[ -d "$ch/usr/lib/postgresql/$ver" ] || { echo "no chroot with PostgreSQL $ver: run scripts/test-pg.sh $ver server" >&2; exit 1; }
in_ch() { chroot "$ch" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 "$@"; }

echo "== build dependencies (debian/control.in) in $ch"
# 19 is in experimental only: its server-dev package comes from there.
tsel=; [ "$ver" = 19 ] && tsel=/experimental
in_ch bash -c "export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq --no-install-recommends \
  debhelper dpkg-dev fakeroot postgresql-common-dev postgresql-server-dev-$ver$tsel libisal-dev curl >/dev/null"

echo "== dpkg-buildpackage (PostgreSQL $ver)"
b=/tmp/pg-exporter-deb-$ver
in_ch rm -rf "$b"
mkdir -p "$ch$b/pg-exporter"
git -C "$here" ls-files -co --exclude-standard -z | tar -C "$here" --null -T - -cf - | tar -C "$ch$b/pg-exporter" -xf -
# debian/control for exactly this version (pg_buildext's supported versions).
# -d: the build dependencies are installed above, except the
# postgresql-server-dev-all metapackage, which would pull in the suite's
# default server-dev package too (18 in sid).
in_ch bash -c "cd $b/pg-exporter && export PG_SUPPORTED_VERSIONS=$ver && pg_buildext updatecontrol && \
  dpkg-buildpackage -us -uc -b -d" >"$ch$b/build.log" 2>&1 || { tail -n 60 "$ch$b/build.log"; exit 1; }
deb=$(cd "$ch$b" && ls postgresql-"$ver"-pg-exporter_*.deb)
mkdir -p "$PG_WORK/deb"
cp "$ch$b/$deb" "$PG_WORK/deb/"
echo "built $deb"
in_ch dpkg-deb -c "$b/$deb" | grep -E 'pg_exporter(\.so|\.control|--)' | awk '{print "  " $NF}'

echo "== installing $deb"
in_ch bash -c "export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq --no-install-recommends $b/$deb >/dev/null"
in_ch dpkg -s "postgresql-$ver-pg-exporter" | grep -E '^(Status|Version|Depends):'

# A free TCP port on the loopback (the chroot shares the host's network).
free_port() {
  local p
  for p in $(seq "$1" $(($1 + 200))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}
port=$(free_port 55400)
cluster=pgexporter_ci
echo "== clean cluster $ver/$cluster on port $port, pg_exporter preloaded"
in_ch pg_dropcluster --stop "$ver" "$cluster" 2>/dev/null || true
trap 'in_ch pg_dropcluster --stop "$ver" "$cluster" >/dev/null 2>&1 || true' EXIT
in_ch pg_createcluster "$ver" "$cluster" -p "$port" >/dev/null
# As a user would: preload it in postgresql.conf (port 0: a free port).
cat >>"$ch/etc/postgresql/$ver/$cluster/postgresql.conf" <<'CONF'
shared_preload_libraries = 'pg_exporter'
pg_exporter.listen_addresses = '127.0.0.1'
pg_exporter.port = 0
CONF
in_ch pg_ctlcluster "$ver" "$cluster" start
psql() { in_ch su postgres -c "psql -X -At -p $port -d postgres -c \"$1\""; }
psql 'CREATE EXTENSION pg_exporter'
listen=
for _ in $(seq 1 100); do
  listen=$(psql 'SELECT port FROM pgexporter.worker_status() WHERE listening')
  [ -n "$listen" ] && break
  sleep 0.2
done
[ -n "$listen" ] || { echo "the worker is not listening"; psql 'SELECT * FROM pgexporter.worker_status()'; exit 1; }
body=$(in_ch curl -sf "http://127.0.0.1:$listen/metrics")
echo "== scraped http://127.0.0.1:$listen/metrics: $(grep -c '^# TYPE' <<<"$body") families, $(grep -c '^[a-z]' <<<"$body") samples"
grep -E '^(pg_up|pg_version_info\{|pg_exporter_collector_success\{collector="database"\})' <<<"$body" || true
grep -q '^pg_up 1$' <<<"$body" || { echo "pg_up is not 1"; exit 1; }
grep -q "^pg_version_info{.*version_num=\"${ver}" <<<"$body" || { echo "pg_version_info does not say $ver"; exit 1; }
failed=$(grep -E '^pg_exporter_collector_success\{.*\} 0$' <<<"$body" || true)
[ -z "$failed" ] || { echo "failed collectors: $failed"; exit 1; }
echo "== PostgreSQL $ver: $deb installed, preloaded on a clean cluster and scraped"
