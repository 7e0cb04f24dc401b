#!/usr/bin/env bash
# Scrape cost on an empty cluster: starts a temporary PostgreSQL 15 with
# pg_exporter preloaded (cache off), scrapes /metrics N times over loopback,
# and prints median/p95 wall time per scrape (curl), the exporter's own
# scrape duration, samples, bytes, and the worker's RSS before and after.
# Usage: bash bench/scrape_empty.sh [N]   (as root or any user; needs make install done)
set -euo pipefail
n=${1:-200}
if [ "$(id -u)" = 0 ]; then
  exec runuser -u postgres -- bash "$(readlink -f "$0")" "$n"
fi
bin=$(pg_config --bindir)
dir=$(mktemp -d /tmp/pgx-bench.XXXXXX)
port=$((20000 + RANDOM % 20000))
hport=$((port + 1))
cleanup() { "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT

"$bin/initdb" -D "$dir/data" >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log"; exit 1; }
cat >> "$dir/data/postgresql.conf" <<CONF
port = $port
unix_socket_directories = '$dir'
listen_addresses = ''
shared_preload_libraries = 'pg_exporter'
pg_exporter.listen_addresses = '127.0.0.1'
pg_exporter.port = $hport
pg_exporter.cache_ttl = 0
CONF
"$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$hport/" >/dev/null && break; sleep 0.1; done

pid=$("$bin/psql" -h "$dir" -p "$port" -d postgres -Atc "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_exporter'")
rss() { awk '/^VmRSS/ {print $2 / 1024}' "/proc/$pid/status"; }
hwm() { awk '/^VmHWM/ {print $2 / 1024}' "/proc/$pid/status"; }
curl -sf "http://127.0.0.1:$hport/metrics" > "$dir/first.txt"
rss_idle=$(rss)

: > "$dir/times"
: > "$dir/own"
for _ in $(seq 1 "$n"); do
  curl -s -o "$dir/body" -w '%{time_total}\n' "http://127.0.0.1:$hport/metrics" >> "$dir/times"
  awk '/^pg_exporter_last_scrape_duration_seconds / {print $2}' "$dir/body" >> "$dir/own"
  sed -n 's/^pg_exporter_collector_duration_seconds{collector="\([^"]*\)"} /\1 /p' "$dir/body" >> "$dir/per_collector"
done
rss_after=$(rss)

stats() { sort -g "$1" | awk '{a[NR] = $1} END {printf "%.2f ms median, %.2f ms p95", a[int((NR + 1) / 2)] * 1000, a[int(NR * 0.95)] * 1000}'; }
samples=$(grep -vc '^#' "$dir/body")
families=$(grep -c '^# TYPE' "$dir/body")
bytes=$(wc -c < "$dir/body")
echo "pg_exporter on an empty PostgreSQL $("$bin/postgres" --version | awk '{print $3}') cluster, $(nproc) CPUs, $n scrapes, cache off"
echo "  HTTP scrape (curl time_total):        $(stats "$dir/times")"
echo "  collectors (last_scrape_duration):    $(stats "$dir/own")"
echo "  output:                               $families families, $samples samples, $bytes bytes"
echo "  slowest collectors (median ms):      $(awk '{v[$1] = v[$1] " " $2} END {for (c in v) print c v[c]}' "$dir/per_collector" |
  while read -r c vals; do printf '%s %s\n' "$(printf '%s\n' $vals | sort -g | awk '{a[NR] = $1} END {printf "%.2f", a[int((NR + 1) / 2)] * 1000}')" "$c"; done |
  sort -rg | head -6 | awk '{printf "%s %s, ", $2, $1}')"
printf "  worker RSS: after 1st scrape %.1f MiB, after %d scrapes %.1f MiB, peak %.1f MiB\n" "$rss_idle" "$n" "$rss_after" "$(hwm)"
