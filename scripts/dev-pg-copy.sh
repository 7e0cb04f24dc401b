#!/bin/bash
# Makes a private, relocated copy of the installed PostgreSQL 15 (binaries,
# share files, PGXS) under DIR and prints the pg_config to build against, so
# that several checkouts can `make install` and `make installcheck` at once
# without overwriting each other's pg_exporter.so. PostgreSQL finds its
# libraries relative to its binaries, so the copy needs no configuration:
#   PGC=$(scripts/dev-pg-copy.sh /tmp/pg-mine)
#   make PG_CONFIG=$PGC install && make PG_CONFIG=$PGC installcheck
# The copy and the checkout must be readable/writable by the user running the
# tests (initdb refuses root): chown -R postgres both when testing as root.
set -euo pipefail
dir=${1:?usage: dev-pg-copy.sh DIR}
major=${PG_MAJOR:-15}
if [ ! -x "$dir/usr/lib/postgresql/$major/bin/pg_config" ]; then
  mkdir -p "$dir/usr/lib/postgresql" "$dir/usr/share/postgresql" "$dir/usr/include"
  cp -a "/usr/lib/postgresql/$major" "$dir/usr/lib/postgresql/"
  cp -a "/usr/share/postgresql/$major" "$dir/usr/share/postgresql/"
  ln -sfn /usr/include/postgresql "$dir/usr/include/postgresql"
fi
echo "$dir/usr/lib/postgresql/$major/bin/pg_config"
