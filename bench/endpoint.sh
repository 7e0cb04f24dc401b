#!/usr/bin/env bash
# The endpoint as Prometheus uses it, side by side with postgres_exporter:
# bytes on the wire and CPU per scrape with and without gzip (and with
# OpenMetrics, which Prometheus asks for first), zlib against libdeflate on
# the scrape's own body, and availability under slot-exhaustion attacks.
#
# Starts a temporary cluster (unix socket in its own /tmp folder, HTTP on
# 127.0.0.1 only) with pg_exporter (cache_ttl = 0, every table), and for each
# table count (tables as in scale.sh: primary key, 3 rows):
#   - pg_exporter: N scrapes each as identity, gzip, and OpenMetrics + gzip
#     (Prometheus 2.42's Accept and Accept-Encoding); curl time_total and
#     size_download (bytes on the wire: curl does not decompress, the body is
#     discarded), the worker's CPU (utime+stime) per scrape;
#   - postgres_exporter (Debian's, with its example per-table queries.yaml, as
#     in scale.sh): the same, CPU of the exporter and its backend;
#   - bench/compress.cpp on a saved identity body: zlib levels 1/3/6 as one
#     stream in 64 KiB steps against libdeflate (whole body, and one gzip
#     member per 64 KiB);
#   - at the first table count: bench/slots.py (16 idle keep-alive clients,
#     300 slowloris, 50 slow readers, 2,000 held connections; a probe every
#     2 s must succeed within twice its unloaded time).
# Every process it starts is stopped by PID; bounded by -t.
#
# Usage: bench/endpoint.sh [-n N] [-s SECONDS] [-t SECONDS] [-o FILE] TABLES...   e.g. 100 20000
#   -n N        scrapes per exporter and mode (default 10)
#   -s SECONDS  seconds per attack in the availability step (default 20; 0 skips it)
#   -t SECONDS  deadline of the whole run (default 1800)
#   -o FILE     markdown report (default bench/results/<UTC date>-endpoint.md)
# Needs: pg_exporter installed in PG_CONFIG's installation, bench/install-deps.sh
# (postgres_exporter, libdeflate-dev, python3).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scrapes=10 attack=20 limit=1800 out=""
orig_args=("$@")
while getopts "n:s:t:o:h" opt; do
  case $opt in
    n) scrapes=$OPTARG ;;
    s) attack=$OPTARG ;;
    t) limit=$OPTARG ;;
    o) out=$OPTARG ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- 100 20000
for n in "$@" "$scrapes" "$attack" "$limit"; do [[ $n =~ ^[0-9]+$ ]] || { echo "not a number: $n" >&2; exit 2; }; done
[ -n "$out" ] || out="$here/results/$(date -u +%Y-%m-%d)-endpoint.md"

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$(dirname "$out")"
  tmpout=$(mktemp -d /tmp/pgx-endpoint-out.XXXXXX)
  cp "$here/endpoint.sh" "$here/slots.py" "$here/compress.cpp" "$tmpout/"
  chown -R postgres "$tmpout"
  rc=0
  runuser -u postgres -- env PG_CONFIG="${PG_CONFIG:-$(command -v pg_config || echo pg_config)}" PATH="$PATH" \
    BENCH_COMMAND="bench/endpoint.sh ${orig_args[*]}" \
    bash "$tmpout/endpoint.sh" -n "$scrapes" -s "$attack" -t "$limit" -o "$tmpout/report.md" "$@" || rc=$?
  [ -f "$tmpout/report.md" ] && cp "$tmpout/report.md" "$out" && echo "report written to $out"
  rm -rf "$tmpout"
  exit $rc
fi

start_time=$(date +%s)
remaining() { echo $((limit - ($(date +%s) - start_time))); }
bin=$("${PG_CONFIG:-pg_config}" --bindir)
pe=/usr/bin/prometheus-postgres-exporter
for t in curl python3 g++; do command -v $t >/dev/null || { echo "missing: $t" >&2; exit 1; }; done
pe_queries=$(ls /usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml* 2>/dev/null | head -1 || true)
[ -x "$pe" ] && [ -n "$pe_queries" ] || { echo "missing postgres_exporter: run bench/install-deps.sh" >&2; exit 1; }

dir=$(mktemp -d /tmp/pgx-endpoint.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$bin/pg_ctl" -D "$dir/data" -m immediate -t 30 stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

free_port() {
  local p=$1
  while (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}
pgport=$(free_port 56300)
hport=$(free_port $((pgport + 1)))
peport=$(free_port $((hport + 1)))

"$bin/initdb" -D "$dir/data" -A trust -U postgres >"$dir/initdb.log" 2>&1
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $pgport
shared_preload_libraries = 'pg_exporter'
pg_exporter.listen_addresses = '127.0.0.1'
pg_exporter.port = $hport
pg_exporter.cache_ttl = 0
pg_exporter.relations_limit = 0
max_connections = 100
CONF
"$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null
psql=("$bin/psql" -X -q -h "$dir" -p "$pgport" -U postgres -d postgres -v ON_ERROR_STOP=1)
"${psql[@]}" -c "CREATE EXTENSION pg_exporter" -c "CREATE ROLE pgexp_bench LOGIN SUPERUSER"
case $pe_queries in *.gz) zcat "$pe_queries" >"$dir/queries.yaml" ;; *) cp "$pe_queries" "$dir/queries.yaml" ;; esac
sed -i -E 's/\b(total|min|max|mean|stddev)_time \/ 1000/\1_exec_time \/ 1000/g' "$dir/queries.yaml"
for _ in $(seq 1 100); do curl -sf --max-time 5 -o /dev/null "http://127.0.0.1:$hport/" && break; sleep 0.2; done
g++ -O2 -o "$dir/compress" "$here/compress.cpp" -lz -ldeflate -lisal

cpu_ticks() {  # pids... -> utime+stime in ticks
  local sum=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    sum=$((sum + $(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat")))
  done
  echo "$sum"
}
hz=$(getconf CLK_TCK)
om_accept='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'

measure() {  # label url pids(comma) mode -> one markdown row
  local label=$1 url=$2 pidlist=$3 mode=$4 args=()
  case $mode in
    gzip) args=(-H 'Accept-Encoding: gzip') ;;
    om) args=(-H 'Accept-Encoding: gzip' -H "Accept: $om_accept") ;;
  esac
  IFS=, read -r -a ps <<<"$pidlist"
  curl -s --max-time 120 -o /dev/null "${args[@]}" "$url" || true  # warm-up
  local c0 times=() bytes=0 codes=""
  c0=$(cpu_ticks "${ps[@]}")
  for _ in $(seq 1 "$scrapes"); do
    read -r t b code < <(curl -s --max-time 120 -o /dev/null -w '%{time_total} %{size_download} %{http_code}\n' "${args[@]}" "$url")
    times+=("$t"); bytes=$b; codes="$codes $code"
  done
  local c1 med
  c1=$(cpu_ticks "${ps[@]}")
  med=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2) * 1000}')
  echo "| $label | $mode | $(printf '%.1f' "$med") | $bytes | $(awk -v c=$((c1 - c0)) -v n="$scrapes" -v hz="$hz" 'BEGIN {printf "%.0f", c * 1000 / hz / n}') | $(echo "$codes" | tr ' ' '\n' | sort -u | tr '\n' ' ') |"
}

{
  echo "# Endpoint: gzip, OpenMetrics, compression codecs, availability"
  echo
  echo "Command: \`${BENCH_COMMAND:-bench/endpoint.sh ${orig_args[*]}}\`; $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs; $("$bin/postgres" --version); $("$pe" --version 2>&1 | head -1)."
  echo
  echo "Scrape time: curl time_total, body discarded; bytes: size_download (on the wire, not decompressed); CPU: per scrape, pg_exporter's worker (collecting, serialising and compressing), postgres_exporter's process plus its backend. Median of $scrapes."
} >"$dir/report.md"

created=0
first=1
for n in "$@"; do
  [ "$(remaining)" -gt 60 ] || { echo "deadline reached" >&2; break; }
  if [ "$n" -gt "$created" ]; then
    echo "creating tables $((created + 1))..$n" >&2
    while [ "$created" -lt "$n" ]; do  # 1,000 a transaction: the lock table is bounded
      to=$((created + 1000 < n ? created + 1000 : n))
      "${psql[@]}" -c "DO \$\$ BEGIN FOR i IN $((created + 1))..$to LOOP
        EXECUTE format('CREATE TABLE public.t%s (id int PRIMARY KEY, v int)', i);
        EXECUTE format('INSERT INTO public.t%s VALUES (1, 1), (2, 2), (3, 3)', i); END LOOP; END \$\$" >/dev/null
      created=$to
    done
    "${psql[@]}" -c "VACUUM ANALYZE pg_class, pg_attribute, pg_index" >/dev/null
  fi
  wpid=$("${psql[@]}" -Atc "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_exporter'")
  {
    echo
    echo "## $n tables"
    echo
    echo "| exporter | mode | scrape ms | bytes on the wire | CPU ms per scrape | HTTP |"
    echo "|---|---|---:|---:|---:|---|"
  } >>"$dir/report.md"
  echo "pg_exporter, $n tables" >&2
  for mode in identity gzip om; do measure pg_exporter "http://127.0.0.1:$hport/metrics" "$wpid" "$mode" >>"$dir/report.md"; done
  curl -s --max-time 120 -o "$dir/body.txt" "http://127.0.0.1:$hport/metrics"
  echo "postgres_exporter, $n tables" >&2
  DATA_SOURCE_NAME="host=$dir port=$pgport user=pgexp_bench dbname=postgres sslmode=disable application_name=postgres_exporter" \
    "$pe" --web.listen-address="127.0.0.1:$peport" --log.level=warn --extend.query-path="$dir/queries.yaml" >"$dir/pe.log" 2>&1 &
  pep=$!
  pids+=("$pep")
  for _ in $(seq 1 100); do curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$peport/" && break; sleep 0.1; done
  curl -s --max-time 120 -o /dev/null "http://127.0.0.1:$peport/metrics" || true
  bp=$("${psql[@]}" -Atc "SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE application_name = 'postgres_exporter'")
  for mode in identity gzip om; do measure "postgres_exporter + queries.yaml" "http://127.0.0.1:$peport/metrics" "$pep,$bp" "$mode" >>"$dir/report.md"; done
  kill "$pep" 2>/dev/null || true
  wait "$pep" 2>/dev/null || true
  {
    echo
    echo "Compression of pg_exporter's identity body ($(stat -c %s "$dir/body.txt") bytes), bench/compress.cpp:"
    echo
    "$dir/compress" "$dir/body.txt" | tail -n +3
  } >>"$dir/report.md"
  if [ "$first" = 1 ] && [ "$attack" -gt 0 ]; then
    first=0
    echo "availability, $n tables" >&2
    {
      echo
      echo "### Availability under attack ($n tables, max_clients 16, ${attack} s per attack)"
      echo
      timeout "$(remaining)" python3 "$here/slots.py" --port "$hport" --seconds "$attack" || echo "(some probe failed or was slower than 2x)"
      echo
      echo "Worker counters after the attacks: $(curl -s "http://127.0.0.1:$hport/metrics" | grep -E '^pg_exporter_http_(connections_(evicted|refused)|timeouts)' | tr '\n' ';')"
    } >>"$dir/report.md"
  fi
done
cp "$dir/report.md" "$out"
cat "$out"
