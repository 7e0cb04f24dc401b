#!/usr/bin/env bash
# pg_exporter vs postgres_exporter at scale, side by side in one run.
#
# Starts a temporary PostgreSQL cluster (loopback and a private unix socket
# only) with pg_exporter and pg_stat_statements preloaded, creates the given
# numbers of tables (each with a primary key and 3 rows, a third of them
# scanned), optionally holds C idle client connections, and for each table
# count measures:
#   - pg_exporter (default collectors, cache_ttl = 0): N scrapes with curl;
#   - the SQL floor: every statement a pg_exporter scrape runs (captured with
#     auto_explain from pgexporter.metrics()), replayed from psql;
#   - postgres_exporter (Debian's /usr/bin/prometheus-postgres-exporter) with
#     its default metrics, and with Debian's example queries.yaml (per-table
#     queries);
#   - 4 concurrent scrapers against pg_exporter with cache_ttl 0 and 1s;
#   - a leak check: many back-to-back pg_exporter scrapes, worker RSS traced.
# Prints one markdown report and writes it to a file. Installs nothing:
# bench/install-deps.sh installs postgres_exporter.
#
# Usage: bench/scale.sh [options] TABLES...      e.g. bench/scale.sh -n 15 -c 300 1000 20000
#   -n N         scrapes per exporter and mode (default 20)
#   -c C         idle client connections held open during the run (default 0)
#   -l L         leak-check scrapes per table count (default 200; 0 skips)
#   -r R         rounds of concurrent scrapes per cache_ttl setting (default 10; 0 skips)
#   -o FILE      markdown report (default bench/results/<UTC date>-scale.md)
#   -t SECONDS   global deadline for the whole run (default 1800)
#   -b SECONDS   time budget of the concurrency and of the leak step, each, per table count (default 120)
#   -m SECONDS   curl --max-time per scrape (default 60)
#   -P           skip postgres_exporter
#   -S           the simple schema: (id int PRIMARY KEY, v int), 3 rows, no
#                TOAST, no partitions, no statements, no writes (the default is
#                the realistic schema of bench/realistic.sql)
#   -w RATE      realistic mode: writes per second during the measurements (default 10)
#   -q Q         realistic mode: distinct statements run to warm pg_stat_statements (default 3000)
#   -a A         rounds of the side-by-side step (pg_exporter, pg_exporter gzip,
#                postgres_exporter + queries.yaml, alternating; default 15; 0 skips)
# Environment: PG_CONFIG (default: pg_config on PATH) selects the PostgreSQL
# installation (pg_exporter must be installed in it); BENCH_PORT_BASE (default
# 56100) is where the search for free loopback ports starts.
# Run as root it re-runs itself as the postgres user (initdb refuses root).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# saved: untimed scrapes per exporter and mode saved to a file (samples,
# bytes, self-metrics); the timed ones discard the body.
saved=3 scrapes=20 conns=0 leak=200 rounds=10 out="" limit=1800 max_time=60 skip_pe=0 budget=120
simple=0 write_rate=10 warm=3000 alt_rounds=15
orig_args=("$@")
while getopts "n:c:l:r:o:t:m:b:PSw:q:a:h" opt; do
  case $opt in
    n) scrapes=$OPTARG ;;
    c) conns=$OPTARG ;;
    l) leak=$OPTARG ;;
    r) rounds=$OPTARG ;;
    o) out=$OPTARG ;;
    t) limit=$OPTARG ;;
    m) max_time=$OPTARG ;;
    b) budget=$OPTARG ;;
    P) skip_pe=1 ;;
    S) simple=1 ;;
    w) write_rate=$OPTARG ;;
    q) warm=$OPTARG ;;
    a) alt_rounds=$OPTARG ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- 1000
for n in "$@" "$scrapes" "$conns" "$leak" "$rounds" "$limit" "$budget" "$max_time" "$write_rate" "$warm" "$alt_rounds"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "not a number: $n" >&2; exit 2; }
done
[ "$scrapes" -ge 1 ] || { echo "-n must be at least 1" >&2; exit 2; }
[ "$conns" -le 2000 ] || { echo "-c: at most 2000 connections" >&2; exit 2; }
[ -n "$out" ] || out="$here/results/$(date -u +%Y-%m-%d)-scale.md"

# --- root: run as postgres, then copy the report to where it was asked for
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "running as root needs a postgres user" >&2; exit 1; }
  mkdir -p "$(dirname "$out")"
  tmpout=$(mktemp -d "${TMPDIR:-/tmp}/pgx-scale-out.XXXXXX")
  # The checkout may not be readable by postgres: run a copy of the scripts.
  cp "$here/scale.sh" "$here/measure.py" "$here/realistic.sql" "$tmpout/"
  chown -R postgres "$tmpout"
  rc=0
  runuser -u postgres -- env TMPDIR="${TMPDIR:-/tmp}" PG_CONFIG="${PG_CONFIG:-$(command -v pg_config || echo pg_config)}" \
    BENCH_PORT_BASE="${BENCH_PORT_BASE:-56100}" PATH="$PATH" BENCH_COMMAND="bench/scale.sh ${orig_args[*]}" \
    bash "$tmpout/scale.sh" -n "$scrapes" -c "$conns" -l "$leak" -r "$rounds" -t "$limit" -m "$max_time" -b "$budget" \
    -w "$write_rate" -q "$warm" -a "$alt_rounds" $([ "$simple" = 1 ] && echo -S) \
    $([ "$skip_pe" = 1 ] && echo -P) -o "$tmpout/report.md" "$@" || rc=$?
  [ -f "$tmpout/report.md" ] && cp "$tmpout/report.md" "$out" && echo "report written to $out"
  rm -rf "$tmpout"
  exit $rc
fi

# --- tools
pgc=${PG_CONFIG:-pg_config}
missing=()
command -v "$pgc" >/dev/null 2>&1 || missing+=("pg_config ($pgc; set PG_CONFIG)")
for t in curl python3 awk; do command -v $t >/dev/null 2>&1 || missing+=("$t"); done
if command -v "$pgc" >/dev/null 2>&1; then
  bin=$("$pgc" --bindir)
  lib=$("$pgc" --pkglibdir)
  for t in initdb pg_ctl postgres psql pgbench; do [ -x "$bin/$t" ] || missing+=("$bin/$t"); done
  for l in pg_exporter pg_stat_statements auto_explain; do
    [ -f "$lib/$l.so" ] || missing+=("$lib/$l.so$([ $l = pg_exporter ] && echo ' (make install)')")
  done
fi
pe=/usr/bin/prometheus-postgres-exporter
pe_queries_src=""
if [ "$skip_pe" = 0 ]; then
  [ -x "$pe" ] || missing+=("$pe (bash bench/install-deps.sh, or -P to skip it)")
  for f in /usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml \
           /usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml.gz; do
    [ -f "$f" ] && { pe_queries_src=$f; break; }
  done
  [ -n "$pe_queries_src" ] || missing+=("postgres_exporter's example queries.yaml")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench/scale.sh: missing:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi

# --- state, cleanup, deadline
start=$(date +%s)
deadline=$((start + limit))
dir=$(mktemp -d "${TMPDIR:-/tmp}/pgx-scale.XXXXXX")
results=$dir/results.jsonl
pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -f "$dir/data/postmaster.pid" ]; then
    "$bin/pg_ctl" -D "$dir/data" -m immediate -t 30 stop >/dev/null 2>&1 || true
  fi
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$dir"
  exit $rc
}
trap cleanup EXIT
trap 'echo "bench/scale.sh: interrupted" >&2; exit 130' INT TERM
# Watchdog: the whole run ends at the deadline, whatever is running.
(
  trap 'kill "$sp" 2>/dev/null; exit 0' TERM
  sleep "$limit" & sp=$!
  wait "$sp"
  echo "bench/scale.sh: global deadline of ${limit}s reached" >&2
  kill -TERM $$
) &
pids+=($!)
remaining() { echo $((deadline - $(date +%s))); }
# Measurements stop a minute before the deadline, so that what was measured
# is still reported; the steps with a budget stop at its end.
soft_deadline=$((deadline - 60))
step_deadline() { local d=$(($(date +%s) + budget)); echo $((d < soft_deadline ? d : soft_deadline)); }
log() { printf '[%4ds] %s\n' $(($(date +%s) - start)) "$*" >&2; }

free_port() {
  python3 - "$1" <<'PY'
import socket, sys
p = int(sys.argv[1])
while p < 65535:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); s.close(); print(p); break
    except OSError:
        p += 1
PY
}
base=${BENCH_PORT_BASE:-56100}
pgport=$(free_port "$base")
hport=$(free_port $((pgport + 1)))
peport=$(free_port $((hport + 1)))

# --- the cluster
log "cluster in $dir (PostgreSQL from $bin), socket port $pgport, pg_exporter on 127.0.0.1:$hport"
"$bin/initdb" -D "$dir/data" -A trust -U postgres >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
cat >>"$dir/data/postgresql.conf" <<CONF
port = $pgport
listen_addresses = ''
unix_socket_directories = '$dir'
max_connections = $((conns + 40))
shared_preload_libraries = 'pg_exporter,pg_stat_statements'
pg_exporter.listen_addresses = '127.0.0.1'
pg_exporter.port = $hport
pg_exporter.cache_ttl = 0
pg_exporter.collectors = 'default'
pg_exporter.scrape_timeout = '60s'
pg_exporter.statement_timeout = '60s'
# Every table, like postgres_exporter's queries.yaml (the default keeps the
# 5,000 most active ones; measured separately below).
pg_exporter.relations_limit = 0
CONF
if [ "$simple" = 0 ]; then
  # Realistic mode: autovacuum as shipped but coming by every 10 s (the
  # workload is light and the run short), DDL of 250 tables per transaction.
  cat >>"$dir/data/postgresql.conf" <<CONF
autovacuum = on
autovacuum_naptime = '10s'
max_locks_per_transaction = 256
pg_stat_statements.max = 10000
CONF
fi
"$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null
postmaster=$(head -1 "$dir/data/postmaster.pid")
psql=("$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$pgport" -U postgres -d postgres)
sql() { timeout "$(remaining)" "${psql[@]}" -Atc "$1"; }
sql "CREATE EXTENSION pg_exporter; CREATE EXTENSION pg_stat_statements;
     CREATE ROLE pgexp_bench LOGIN SUPERUSER;"
[ "$simple" = 1 ] || timeout 60 "${psql[@]}" -f "$here/realistic.sql" >/dev/null
for _ in $(seq 1 100); do curl -sf --max-time 5 -o /dev/null "http://127.0.0.1:$hport/metrics" && break; sleep 0.2; done
worker=$(sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_exporter'")
[ -n "$worker" ] || { echo "pg_exporter's worker is not running" >&2; tail -20 "$dir/postgres.log" >&2; exit 1; }
log "pg_exporter worker pid $worker"

# --- metadata
pg_version=$("$bin/postgres" --version | awk '{print $3}')
pe_version=-
[ "$skip_pe" = 1 ] || pe_version=$("$pe" --version 2>&1 | awk '/version/ {print $3; exit}')
python3 - "$results" <<PY
import json, os, platform, sys
cpu = "?"
for l in open("/proc/cpuinfo"):
    if l.startswith("model name"):
        cpu = l.split(":", 1)[1].strip(); break
mem = int(open("/proc/meminfo").readline().split()[1]) / 1024 / 1024
json.dump({"kind": "meta", "date": "$(date -u '+%Y-%m-%d %H:%M UTC')", "kernel": "Linux " + platform.release(),
           "cpus": os.cpu_count(), "cpu_model": cpu, "mem_gib": round(mem), "pg_version": "$pg_version",
           "pe_version": "$pe_version", "connections": $conns, "scrapes": $scrapes, "saved": $saved,
           "schema": "$([ "$simple" = 1 ] && echo simple || echo realistic)", "warm": $warm, "write_rate": $write_rate,
           "command": "${BENCH_COMMAND:-bench/scale.sh ${orig_args[*]}}"}, open(sys.argv[1], "a"))
open(sys.argv[1], "a").write("\n")
PY

# --- postgres_exporter's queries.yaml (Debian example); fixed for PG13+
if [ "$skip_pe" = 0 ]; then
  case $pe_queries_src in
    *.gz) zcat "$pe_queries_src" >"$dir/queries.yaml" ;;
    *) cp "$pe_queries_src" "$dir/queries.yaml" ;;
  esac
  if grep -q 'total_time / 1000' "$dir/queries.yaml"; then
    # pg_stat_statements 1.8 (PostgreSQL 13) renamed total_time etc. to
    # *_exec_time: the example query fails on every supported server.
    sed -i -E 's/\b(total|min|max|mean|stddev)_time \/ 1000/\1_exec_time \/ 1000/g' "$dir/queries.yaml"
    msg="postgres_exporter's example queries.yaml ($pe_queries_src) selects total_time, min_time, ... from pg_stat_statements, which PostgreSQL 13+ renamed to *_exec_time; the bench uses a copy with that fixed."
    log "$msg"
    python3 - "$results" <<'PY'
import json, sys
p = sys.argv[1]
recs = [json.loads(l) for l in open(p) if l.strip()]
for r in recs:
    if r.get("kind") == "meta":
        r["fixed_pss"] = True
open(p, "w").write("".join(json.dumps(r) + "\n" for r in recs))
PY
  fi
fi

# --- idle connections: pgbench clients that sleep between (no) queries
if [ "$conns" -gt 0 ]; then
  # pgbench keeps \sleep in microseconds in 32 bits: 3600 s overflowed and
  # made it spin on both CPUs (every run before 2026-11-25 18:00 had that
  # load). 1000 s fits; the script simply repeats until -T.
  echo '\sleep 1000 s' >"$dir/idle.sql"
  "$bin/pgbench" -n -h "$dir" -p "$pgport" -U postgres -c "$conns" -j 2 -T "$limit" -f "$dir/idle.sql" postgres \
    >"$dir/pgbench.log" 2>&1 &
  pgbench_pid=$!
  pids+=($pgbench_pid)
  for _ in $(seq 1 300); do
    n=$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'")
    [ "$n" -ge "$conns" ] && break
    sleep 0.2
  done
  log "$n idle client connections open"
  # Idle means idle: a holder that burns CPU would skew every number below.
  c0=$(awk '{print $14 + $15}' "/proc/$pgbench_pid/stat")
  sleep 2
  c1=$(awk '{print $14 + $15}' "/proc/$pgbench_pid/stat")
  if [ $((c1 - c0)) -gt 20 ]; then
    echo "the idle connections' pgbench used $((c1 - c0)) ticks of CPU in 2 s: not idle, stopping" >&2
    exit 1
  fi
fi

# --- helpers
created=0
create_tables() {  # up to $1 tables, 1000 (realistic: 250) per transaction
  local target=$1 from
  local step=1000; [ "$simple" = 1 ] || step=250
  while [ "$created" -lt "$target" ]; do
    from=$((created + 1))
    local to=$((created + step)); [ "$to" -gt "$target" ] && to=$target
    if [ "$simple" = 0 ]; then
      sql "SELECT bench_create($from, $to)" >/dev/null
    else
    sql "DO \$\$
      DECLARE n int;
      BEGIN
        FOR i IN $from..$to LOOP
          EXECUTE format('CREATE TABLE public.t%s (id int PRIMARY KEY, v int)', i);
          EXECUTE format('INSERT INTO public.t%s VALUES (1, 1), (2, 2), (3, 3)', i);
          IF i % 3 = 0 THEN
            EXECUTE format('SELECT count(*) FROM public.t%s', i) INTO n;
          END IF;
        END LOOP;
      END \$\$;" >/dev/null
    fi
    created=$to
  done
  # The catalogs just grew a lot: vacuum/analyze them now rather than have
  # autovacuum do it during the measurements.
  timeout "$(remaining)" "${psql[@]}" -c "VACUUM ANALYZE pg_class, pg_attribute, pg_index, pg_type, pg_depend, pg_constraint, pg_inherits" \
    -c CHECKPOINT >/dev/null
  if [ "$simple" = 0 ] && [ "$warm" -gt 0 ]; then
    # A few thousand distinct statements for pg_stat_statements (two shapes
    # per table over the first tables).
    python3 - "$warm" "$created" >"$dir/warm.sql" <<'PY'
import sys
q, n = int(sys.argv[1]), int(sys.argv[2])
for k in range(q):
    i = k // 2 % n + 1
    print("SELECT count(*) FROM public.t%d WHERE v = %d;" % (i, k) if k % 2 == 0 else
          "SELECT note FROM public.t%d WHERE id = %d;" % (i, k))
PY
    timeout "$(remaining)" "${psql[@]}" -f "$dir/warm.sql" >/dev/null
  fi
}

# The light write workload of the realistic mode: $write_rate calls of
# bench_write per second on tables picked with a Zipf skew (a few hot tables
# get autovacuumed and analyzed during the run), for at most the time left.
writer_pid=
writer_start() {
  [ "$simple" = 0 ] && [ "$write_rate" -gt 0 ] || return 0
  printf '\\set t random_zipfian(1, %d, 1.1)\nSELECT bench_write(:t);\n' "$created" >"$dir/write.sql"
  "$bin/pgbench" -n -h "$dir" -p "$pgport" -U postgres -c 1 -j 1 -R "$write_rate" -T "$(remaining)" \
    -f "$dir/write.sql" postgres >"$dir/writer.log" 2>&1 &
  writer_pid=$!
  pids+=($writer_pid)
}
writer_stop() {
  [ -n "$writer_pid" ] || return 0
  kill "$writer_pid" 2>/dev/null || true
  wait "$writer_pid" 2>/dev/null || true
  writer_pid=
}

scrape() {  # name url pid [extra measure.py args]
  local name=$1 url=$2 pid=$3; shift 3
  curl -s --max-time "$max_time" -o /dev/null "$url" || true  # warm-up
  python3 "$here/measure.py" scrape --url "$url" --n "$scrapes" --pid "$pid" --postmaster "$postmaster" \
    --max-time "$max_time" --deadline "$soft_deadline" --tmp "$dir" --saved "$saved" "$@"
}

pe_run() {  # mode (default|queries) -> JSON on stdout
  local mode=$1 args=()
  [ "$mode" = queries ] && args=(--extend.query-path="$dir/queries.yaml")
  DATA_SOURCE_NAME="host=$dir port=$pgport user=pgexp_bench dbname=postgres sslmode=disable application_name=postgres_exporter" \
    "$pe" --web.listen-address="127.0.0.1:$peport" --log.level=warn "${args[@]}" >"$dir/pe-$mode.log" 2>&1 &
  local p=$!
  pids+=($p)
  local up=0
  for _ in $(seq 1 100); do
    curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$peport/" && { up=1; break; }
    sleep 0.1
  done
  [ "$up" = 1 ] || log "postgres_exporter ($mode) did not answer on port $peport: $(tail -3 "$dir/pe-$mode.log" | cut -c1-300)"
  curl -s --max-time "$max_time" -o /dev/null "http://127.0.0.1:$peport/metrics" || true  # connects
  local bp
  bp=$(sql "SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE application_name = 'postgres_exporter'")
  python3 "$here/measure.py" scrape --url "http://127.0.0.1:$peport/metrics" --n "$scrapes" --pid "$p" \
    --postmaster "$postmaster" --backend-pids "$bp" --max-time "$max_time" --deadline "$soft_deadline" \
    --tmp "$dir" --saved "$saved" --keep-body "$dir/pe-$mode.body"
  kill "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  if grep -qi 'level=error' "$dir/pe-$mode.log"; then
    log "postgres_exporter ($mode) logged errors: $(grep -i 'level=error' "$dir/pe-$mode.log" | sort -u | head -3 | cut -c1-300)"
  fi
}

set_conf() {  # name value ("DEFAULT": the built-in default)
  local v="'$2'"
  [ "$2" = DEFAULT ] && v=DEFAULT
  # The built-in default is not what postgresql.conf says: comment the line out.
  [ "$2" = DEFAULT ] && sed -i "s/^$1 = /# &/" "$dir/data/postgresql.conf"
  [ "$2" = DEFAULT ] || sed -i "s/^# \($1 = \)/\1/" "$dir/data/postgresql.conf"
  timeout 60 "${psql[@]}" -c "ALTER SYSTEM SET $1 = $v" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 1.5  # the worker reloads its configuration between requests
}
set_ttl() { set_conf pg_exporter.cache_ttl "$1"; }

capture() {  # collectors-array-or-NULL -> captured statements JSON file
  local arg=$1 f=$2
  timeout "$(remaining)" "${psql[@]}" -o /dev/null 2>"$dir/notices" <<SQL || true
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_level = notice;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_format = json;
SELECT length(pgexporter.metrics($arg));
SQL
  python3 "$here/measure.py" capture --notices "$dir/notices" >"$f"
}

# --- per table count
mkdir -p "$(dirname "$out")"
idle_rss=$(awk '/^VmRSS/ {print $2 * 1024}' "/proc/$worker/status")
idle_anon=$(awk '/^RssAnon/ {print $2 * 1024}' "/proc/$worker/status")
for n in "$@"; do
  if [ "$n" -lt "$created" ]; then log "skipping $n tables: counts must increase"; continue; fi
  t0=$(date +%s)
  log "creating tables up to $n"
  create_tables "$n"
  setup_s=$(($(date +%s) - t0))
  log "$n tables ready in ${setup_s}s; $(remaining)s left"
  writer_start

  log "pg_exporter: $scrapes scrapes"
  pge=$(scrape pge "http://127.0.0.1:$hport/metrics" "$worker" --pg-exporter --reset-hwm \
    --keep-body "$dir/pge-$n.body")

  # The same with the default pg_exporter.relations_limit (5,000 most active tables).
  pgd=null
  if [ "$n" -gt 5000 ]; then
    set_conf pg_exporter.relations_limit DEFAULT
    log "pg_exporter with the default relations_limit: $scrapes scrapes"
    pgd=$(scrape pgd "http://127.0.0.1:$hport/metrics" "$worker" --pg-exporter --reset-hwm)
    set_conf pg_exporter.relations_limit 0
  fi

  # What the worker's memory is made of, in PostgreSQL's own accounting.
  logoff=$(stat -c %s "$dir/postgres.log")
  sql "SELECT pg_log_backend_memory_contexts($worker)" >/dev/null
  sleep 1
  memctx=$(python3 "$here/measure.py" memctx --log "$dir/postgres.log" --offset "$logoff" --pid "$worker")

  log "SQL floor: capturing and replaying a scrape's statements"
  capture NULL "$dir/cap-all.json"
  capture "ARRAY['tables','indexes','relation_sizes']" "$dir/cap-tables.json"
  passes=$(( scrapes < 5 ? scrapes : 5 ))
  floor_all=$(python3 "$here/measure.py" replay --captured "$dir/cap-all.json" --passes "$passes" \
    --psql "${psql[*]}" --timeout "$(remaining)" --tmp "$dir")
  floor_tables=$(python3 "$here/measure.py" replay --captured "$dir/cap-tables.json" --passes "$passes" \
    --psql "${psql[*]}" --timeout "$(remaining)" --tmp "$dir")
  # The issue's own baseline: the two per-table statistics views, as a
  # view-based exporter reads them.
  echo '[{"sql": "SELECT * FROM pg_stat_user_tables", "ms": 0}, {"sql": "SELECT * FROM pg_statio_user_tables", "ms": 0}]' \
    >"$dir/cap-views.json"
  floor_views=$(python3 "$here/measure.py" replay --captured "$dir/cap-views.json" --passes "$passes" \
    --psql "${psql[*]}" --timeout "$(remaining)" --tmp "$dir")

  # Side by side: pg_exporter (identity and gzip) and postgres_exporter with
  # queries.yaml, one scrape of each per round, under the same load.
  alt=null
  if [ "$skip_pe" = 0 ] && [ "$alt_rounds" -gt 0 ]; then
    log "side by side: $alt_rounds alternating rounds"
    DATA_SOURCE_NAME="host=$dir port=$pgport user=pgexp_bench dbname=postgres sslmode=disable application_name=postgres_exporter" \
      "$pe" --web.listen-address="127.0.0.1:$peport" --log.level=warn --extend.query-path="$dir/queries.yaml" \
      >"$dir/pe-alt.log" 2>&1 &
    alt_pe=$!
    pids+=($alt_pe)
    for _ in $(seq 1 100); do curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$peport/" && break; sleep 0.1; done
    curl -s --max-time "$max_time" -o /dev/null "http://127.0.0.1:$peport/metrics" || true
    alt=$(python3 "$here/measure.py" alternate --pid "$worker" --rounds "$alt_rounds" --max-time "$max_time" \
      --deadline "$soft_deadline" --target "pge=http://127.0.0.1:$hport/metrics" \
      --target "pge_gzip=http://127.0.0.1:$hport/metrics|Accept-Encoding: gzip" \
      --target "pe_queries=http://127.0.0.1:$peport/metrics")
    kill "$alt_pe" 2>/dev/null || true
    wait "$alt_pe" 2>/dev/null || true
  fi

  ped=null peq=null
  if [ "$skip_pe" = 0 ]; then
    log "postgres_exporter, default metrics: $scrapes scrapes"
    ped=$(pe_run default)
    log "postgres_exporter with queries.yaml: $scrapes scrapes"
    peq=$(pe_run queries)
  fi

  conc="[]"
  if [ "$rounds" -gt 0 ]; then
    conc="["
    for ttl in 0 1s; do
      set_ttl "$ttl"
      log "4 concurrent scrapers, cache_ttl = $ttl: $rounds rounds"
      c=$(python3 "$here/measure.py" concurrent --url "http://127.0.0.1:$hport/metrics" --pid "$worker" \
        --postmaster "$postmaster" --rounds "$rounds" --clients 4 --interval 1 --max-time "$max_time" \
        --deadline "$(step_deadline)" --psql "${psql[*]}")
      conc+="${c%\}}, \"ttl\": \"$ttl\"},"
    done
    conc="${conc%,}]"
    set_ttl 0
  fi

  lk=null
  if [ "$leak" -gt 0 ]; then
    log "leak check: $leak pg_exporter scrapes"
    lk=$(python3 "$here/measure.py" scrape --url "http://127.0.0.1:$hport/metrics" --n "$leak" --pid "$worker" \
      --max-time "$max_time" --deadline "$(step_deadline)" --tmp "$dir" --reset-hwm --trace-every $(( (leak + 9) / 10 )))
    lk="${lk%\}}, \"trace_every\": $(( (leak + 9) / 10 ))}"
  fi

  printf '{"kind": "size", "tables": %d, "setup_seconds": %d, "idle_rss": %s, "idle_anon": %s, "pge": %s, "pge_defaults": %s, "memctx": %s, "floor_all": %s, "floor_tables": %s, "floor_views": %s, "pe_default": %s, "pe_queries": %s, "concurrent": %s, "leak": %s, "alternate": %s}\n' \
    "$n" "$setup_s" "$idle_rss" "$idle_anon" "$pge" "$pgd" "$memctx" "$floor_all" "$floor_tables" "$floor_views" "$ped" "$peq" "$conc" "$lk" "$alt" >>"$results"
  writer_stop
  python3 "$here/measure.py" report --results "$results" --out "$out" >/dev/null
  log "$n tables done; $(remaining)s left"
done

printf '{"kind": "end", "seconds": %d}\n' $(($(date +%s) - start)) >>"$results"
mkdir -p "$(dirname "$out")"
python3 "$here/measure.py" report --results "$results" --out "$out"
log "report written to $out"
