#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to metrics: installs the
# dependencies, builds and installs pg_exporter, preloads it in the local
# PostgreSQL 15 cluster (15/main), restarts it, and scrapes the endpoint.
# Run as root from the repository: bash scripts/quickstart.sh
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
make -s -j2
make -s install

# Debian's postgresql-15 package normally creates 15/main; make sure it exists.
if ! pg_lsclusters -h | awk '$1 == "15" && $2 == "main"' | grep -q .; then
  pg_createcluster 15 main >/dev/null
fi

# Add pg_exporter to shared_preload_libraries, keeping what is there.
current=$(pg_conftool -s 15 main show shared_preload_libraries 2>/dev/null | tr -d "'" || true)
case ",${current// /}," in
  *,pg_exporter,*) ;;
  ,,) pg_conftool 15 main set shared_preload_libraries pg_exporter ;;
  *) pg_conftool 15 main set shared_preload_libraries "$current,pg_exporter" ;;
esac

pg_ctlcluster 15 main restart
su postgres -c "psql -q -c 'CREATE EXTENSION IF NOT EXISTS pg_exporter'"

port=$(su postgres -c "psql -Atq -c 'SHOW pg_exporter.port'")
for _ in $(seq 1 50); do
  curl -sf "http://localhost:$port/metrics" >/dev/null && break
  sleep 0.2
done
echo "== curl -s http://localhost:$port/metrics (first lines)"
body=$(curl -sf "http://localhost:$port/metrics")
head -n 30 <<<"$body"
echo "..."
echo "== pg_exporter is serving http://localhost:$port/metrics"
