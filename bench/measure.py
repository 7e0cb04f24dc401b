#!/usr/bin/env python3
"""Measurement helpers for bench/scale.sh (standard library only).

Subcommands (each prints one JSON object on stdout):
  scrape     N sequential scrapes with curl, the body discarded: time_total
             of each, CPU (utime+stime) of the exporter process and of the
             whole PostgreSQL cluster (postmaster, its live children and the
             children it reaped) over the N scrapes, peak RSS; then a few
             untimed scrapes saved to a file for samples, bytes and
             pg_exporter's self-metrics.
  concurrent rounds of K simultaneous scrapes, one round per interval, the
             bodies discarded; scrapes the worker executed from
             pgexporter.worker_status().
  capture    the statements a scrape runs, from auto_explain NOTICEs.
  replay     runs captured statements from psql, reports the time per pass.
  report     renders the markdown report from the collected JSON lines.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time

CLK = os.sysconf("SC_CLK_TCK")
MIB = 1024.0 * 1024.0


# ---------------------------------------------------------------- /proc


def stat_fields(pid):
    """Fields of /proc/PID/stat after the command name (index 0 = state), or None."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    return s[s.rindex(")") + 2:].split()


def proc_cpu(pid):
    f = stat_fields(pid)
    if f is None:
        return None
    return (int(f[11]) + int(f[12])) / CLK


def proc_status(pid):
    d = {}
    try:
        with open("/proc/%s/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                    d[k] = int(v.split()[0]) * 1024
    except OSError:
        return None
    return d


def cluster_cpu(postmaster):
    """CPU seconds of the postmaster, of its live children and of the children
    it has reaped (cutime/cstime), so that exited backends and parallel workers
    count too."""
    f = stat_fields(postmaster)
    if f is None:
        return None, {}
    total = (int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])) / CLK
    live = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        g = stat_fields(name)
        if g is None or int(g[1]) != postmaster:
            continue
        c = (int(g[11]) + int(g[12])) / CLK
        live[int(name)] = c
        total += c
    return total, live


def reset_hwm(pid):
    """Resets VmHWM (peak RSS) of a process we own: 5 > /proc/PID/clear_refs."""
    try:
        with open("/proc/%s/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Sampler(threading.Thread):
    """Polls /proc/PID/status and keeps the maxima of VmRSS and RssAnon."""

    def __init__(self, pid, interval):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.max_rss = self.max_anon = 0
        self.stop = threading.Event()

    def poll(self):
        s = proc_status(self.pid)
        if s:
            self.max_rss = max(self.max_rss, s.get("VmRSS", 0))
            self.max_anon = max(self.max_anon, s.get("RssAnon", 0))

    def run(self):
        while not self.stop.is_set():
            self.poll()
            self.stop.wait(self.interval)
        self.poll()


# ---------------------------------------------------------------- statistics


def median(xs):
    s = sorted(xs)
    if not s:
        return None
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def p95(xs):
    """Nearest-rank 95th percentile."""
    s = sorted(xs)
    if not s:
        return None
    k = -(-95 * len(s) // 100)  # ceil
    return s[max(k, 1) - 1]


# ---------------------------------------------------------------- scraping


def curl(url, max_time, out):
    r = subprocess.run(
        ["curl", "-s", "-o", out, "--max-time", "%g" % max_time, "-w",
         "%{time_total} %{http_code} %{size_download}", url],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True)
    parts = r.stdout.split()
    if len(parts) != 3:
        return float(max_time), 0, 0, r.returncode
    return float(parts[0]), int(parts[1]), int(float(parts[2])), r.returncode


def scrapes_total(psql):
    """pg_exporter's scrape counter, from SQL: reading it over HTTP would be a
    scrape itself."""
    r = subprocess.run(psql.split() + ["-X", "-At", "-c", "SELECT scrapes_total FROM pgexporter.worker_status()"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True, timeout=60)
    try:
        return int(r.stdout.strip())
    except ValueError:
        return None


def body_samples(path):
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    samples = sum(1 for l in lines if l and not l.startswith(b"#"))
    return samples, len(data), data


DUR_RE = re.compile(rb'^pg_exporter_collector_duration_seconds\{collector="([^"]+)"\} (\S+)$', re.M)
LAST_RE = re.compile(rb"^pg_exporter_last_scrape_duration_seconds (\S+)$", re.M)


def cmd_scrape(a):
    body = os.path.join(a.tmp, "body")
    pid = a.pid
    if a.reset_hwm:
        reset_hwm(pid)
    st0 = proc_status(pid) or {}
    sampler = Sampler(pid, a.sample_interval)
    cpu0 = proc_cpu(pid)
    cl0, live0 = cluster_cpu(a.postmaster) if a.postmaster else (None, {})
    t_start = time.monotonic()
    sampler.start()
    times, failures, durations, last_durs, trace = [], 0, {}, [], []
    code = 0
    # The timed scrapes discard the body, as a scraper that parses it in
    # memory would: curl writing a 60 MB body to a file is the client's time,
    # not the exporter's (bench/README.md).
    for i in range(a.n):
        if a.deadline and time.time() > a.deadline:
            break
        t, code, _, rc = curl(a.url, a.max_time, os.devnull)
        if code != 200 or rc != 0:
            failures += 1
        times.append(t)
        if a.trace_every and ((i + 1) % a.trace_every == 0 or i == 0):
            s = proc_status(pid) or {}
            trace.append({"scrape": i + 1, "rss": s.get("VmRSS"), "anon": s.get("RssAnon")})
    wall = time.monotonic() - t_start
    if a.trace_every and times and (not trace or trace[-1]["scrape"] != len(times)):
        s = proc_status(pid) or {}
        trace.append({"scrape": len(times), "rss": s.get("VmRSS"), "anon": s.get("RssAnon")})
    sampler.stop.set()
    sampler.join()
    cpu1 = proc_cpu(pid)
    cl1, live1 = cluster_cpu(a.postmaster) if a.postmaster else (None, {})
    st1 = proc_status(pid) or {}
    done = len(times)
    res = {"n": done, "failures": failures, "wall": wall, "times": times,
           "median": median(times), "p95": p95(times), "last_code": code}
    # Untimed scrapes saved to a file, after the CPU and RSS readings: the
    # samples and bytes, and (pg_exporter) its collectors' own durations.
    for _ in range(a.saved if done else 0):
        if a.deadline and time.time() > a.deadline:
            break
        _, scode, _, src = curl(a.url, a.max_time, body)
        if scode != 200 or src != 0:
            continue
        res["samples"], res["bytes"], data = body_samples(body)
        if a.pg_exporter:
            for m in DUR_RE.finditer(data):
                durations.setdefault(m.group(1).decode(), []).append(float(m.group(2)))
            m = LAST_RE.search(data)
            if m:
                last_durs.append(float(m.group(1)))
        if a.keep_body:
            os.replace(body, a.keep_body)
    if cpu0 is not None and cpu1 is not None and done:
        res["cpu_per_scrape"] = (cpu1 - cpu0) / done
    if cl0 is not None and cl1 is not None and done:
        res["cluster_cpu_per_scrape"] = (cl1 - cl0) / done
        # CPU of the given backends (postgres_exporter's connections).
        if a.backend_pids:
            bp = [int(x) for x in a.backend_pids.split(",") if x.strip()]
            res["backend_cpu_per_scrape"] = sum(
                live1.get(p, live0.get(p, 0)) - live0.get(p, live1.get(p, 0)) for p in bp) / done
    res["rss_before"] = st0.get("VmRSS")
    res["anon_before"] = st0.get("RssAnon")
    res["rss_after"] = st1.get("VmRSS")
    res["anon_after"] = st1.get("RssAnon")
    res["hwm"] = st1.get("VmHWM")
    res["rss_peak_sampled"] = sampler.max_rss
    res["anon_peak_sampled"] = sampler.max_anon
    if durations:
        res["collector_durations"] = {k: median(v) for k, v in durations.items()}
    if last_durs:
        res["own_duration_median"] = median(last_durs)
    if trace:
        res["trace"] = trace
    print(json.dumps(res))


def cmd_alternate(a):
    """Rounds of one scrape of each target in turn (pg_exporter, pg_exporter
    with gzip, postgres_exporter + queries.yaml): both exporters measured
    under the same load, so their ratio holds on a busy machine. The worker's
    private RSS (RssAnon) is sampled throughout, its VmHWM reset first."""
    targets = []
    for t in a.target:
        name, _, rest = t.partition("=")
        url, _, header = rest.partition("|")
        targets.append((name, url, header))
    reset_hwm(a.pid)
    sampler = Sampler(a.pid, a.sample_interval)
    sampler.start()
    times = {n: [] for n, _, _ in targets}
    failures = {n: 0 for n, _, _ in targets}
    sizes = {}
    load0 = os.getloadavg()
    rounds = 0
    for r in range(a.rounds):
        if a.deadline and time.time() > a.deadline:
            break
        order = targets if r % 2 == 0 else list(reversed(targets))
        for name, url, header in order:
            # A pause before each scrape, as between Prometheus's: the
            # previous exporter's after-work (Go's garbage collector, the
            # worker's cleanup) does not land in the next one's time.
            time.sleep(a.gap)
            cmd = ["curl", "-s", "-o", os.devnull, "--max-time", "%g" % a.max_time, "-w",
                   "%{time_total} %{http_code} %{size_download}", url]
            if header:
                cmd[1:1] = ["-H", header]
            out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 universal_newlines=True).stdout.split()
            if len(out) != 3 or out[1] != "200":
                failures[name] += 1
                continue
            times[name].append(float(out[0]))
            sizes[name] = int(float(out[2]))
        rounds += 1
    sampler.stop.set()
    sampler.join()
    st = proc_status(a.pid) or {}
    res = {"rounds": rounds, "loadavg_before": load0, "loadavg_after": os.getloadavg(),
           "anon_peak_sampled": sampler.max_anon, "hwm": st.get("VmHWM"), "targets": {}}
    for name, _, _ in targets:
        res["targets"][name] = {"median": median(times[name]), "p95": p95(times[name]), "min":
                                min(times[name]) if times[name] else None, "times": times[name],
                                "failures": failures[name], "bytes": sizes.get(name)}
    print(json.dumps(res))


def cmd_concurrent(a):
    """Rounds of `clients` simultaneous scrapes, a round every `interval`
    seconds (like several Prometheus servers on the same schedule)."""
    pid = a.pid
    cpu0 = proc_cpu(pid)
    cl0, _ = cluster_cpu(a.postmaster) if a.postmaster else (None, {})
    times, failures = [], 0
    round_max = []
    scrapes0 = scrapes_total(a.psql)
    t0 = time.monotonic()
    rounds = 0
    for r in range(a.rounds):
        if a.deadline and time.time() > a.deadline:
            break
        due = t0 + r * a.interval
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        results = [None] * a.clients

        def one(k):
            results[k] = curl(a.url, a.max_time, os.devnull)

        th = [threading.Thread(target=one, args=(k,)) for k in range(a.clients)]
        for t in th:
            t.start()
        for t in th:
            t.join()
        rounds += 1
        rt = []
        for t, code, _, rc in results:
            rt.append(t)
            times.append(t)
            if code != 200 or rc != 0:
                failures += 1
        round_max.append(max(rt))
    cpu1 = proc_cpu(pid)
    cl1, _ = cluster_cpu(a.postmaster) if a.postmaster else (None, {})
    scrapes1 = scrapes_total(a.psql)
    res = {"rounds": rounds, "clients": a.clients, "interval": a.interval, "failures": failures,
           "median": median(times), "p95": p95(times), "max": max(times) if times else None,
           "round_max_median": median(round_max),
           "executed": scrapes1 - scrapes0 if scrapes0 is not None and scrapes1 is not None else None,
           "cpu_per_round": (cpu1 - cpu0) / rounds if rounds else None,
           "cluster_cpu_per_round": (cl1 - cl0) / rounds if rounds and cl0 is not None else None}
    print(json.dumps(res))


# ---------------------------------------------------------------- SQL floor

NOTICE_RE = re.compile(r"^(?:psql:[^\n]*?)?NOTICE:  duration: ([0-9.]+) ms  plan:\n", re.M)


def cmd_capture(a):
    """Splits psql's stderr (auto_explain NOTICEs in JSON format) into the
    statements run inside pgexporter.metrics(): one JSON list of
    {"sql", "ms"} on stdout. The outer SELECT pgexporter.metrics() is dropped."""
    with open(a.notices) as f:
        text = f.read()
    ms = list(NOTICE_RE.finditer(text))
    out = []
    for i, m in enumerate(ms):
        end = ms[i + 1].start() if i + 1 < len(ms) else len(text)
        chunk = text[m.end():end]
        # the JSON object ends at the first line that is exactly "}"
        j = chunk.find("\n}")
        if j < 0:
            continue
        try:
            plan = json.loads(chunk[:j + 2])
        except ValueError:
            continue
        sql = plan.get("Query Text", "")
        if "pgexporter.metrics(" in sql:
            continue
        out.append({"sql": sql, "ms": float(m.group(1))})
    print(json.dumps(out))


def cmd_replay(a):
    """Runs the captured read-only statements `passes` times in one psql
    session (\\timing, results discarded) and reports the median time of a
    pass: the raw SQL cost of a scrape, result transfer included."""
    with open(a.captured) as f:
        stmts = json.load(f)
    runnable = [s["sql"].strip().rstrip(";") for s in stmts
                if re.match(r"(?is)^\s*(select|with|values|table)\b", s["sql"])]
    skipped = len(stmts) - len(runnable)
    script = os.path.join(a.tmp, "replay.sql")
    with open(script, "w") as f:
        f.write("\\timing on\nSET search_path = pg_catalog;\n")
        for _ in range(a.passes):
            for s in runnable:
                f.write(s + ";\n")
    cmd = a.psql.split() + ["-X", "-q", "-o", "/dev/null", "-v", "ON_ERROR_STOP=0", "-f", script]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=a.timeout)
    t = [float(x) for x in re.findall(r"^Time: ([0-9.]+) ms", r.stdout, re.M)]
    t = t[1:]  # the SET
    per = len(runnable)
    passes = [sum(t[i * per:(i + 1) * per]) / 1000.0 for i in range(len(t) // per)] if per else []
    # the slowest statements of the median pass, by position
    by_stmt = [median([t[p * per + k] for p in range(len(passes))]) / 1000.0 for k in range(per)] if passes else []
    top = sorted(range(per), key=lambda k: -by_stmt[k])[:3] if by_stmt else []
    res = {"statements": per, "skipped": skipped, "passes": len(passes), "median": median(passes),
           "errors": len(re.findall(r"ERROR:", r.stderr)),
           "in_server_ms_captured": sum(s["ms"] for s in stmts),
           "slowest": [{"seconds": by_stmt[k], "sql": runnable[k][:90]} for k in top]}
    print(json.dumps(res))


# ---------------------------------------------------------------- memory contexts

CTX_RE = re.compile(r"\[(\d+)\] LOG:  level: 1; (.*?): (\d+) total in")
GRAND_RE = re.compile(r"\[(\d+)\] LOG:  Grand total: (\d+) bytes")


def cmd_memctx(a):
    """The worker's memory contexts from pg_log_backend_memory_contexts()
    output in the server log (from byte offset `offset`): the grand total and
    the largest top-level contexts."""
    with open(a.log, errors="replace") as f:
        f.seek(a.offset)
        text = f.read()
    ctx, grand = [], None
    for line in text.splitlines():
        m = CTX_RE.search(line)
        if m and int(m.group(1)) == a.pid:
            ctx.append((m.group(2), int(m.group(3))))
        m = GRAND_RE.search(line)
        if m and int(m.group(1)) == a.pid:
            grand = int(m.group(2))
    ctx.sort(key=lambda x: -x[1])
    print(json.dumps({"grand_total": grand, "top": [{"name": n[:60], "bytes": b} for n, b in ctx[:3]]}))


# ---------------------------------------------------------------- report


def fmt_ms(x):
    return "–" if x is None else ("%.1f" % (x * 1000) if x < 10 else "%.0f" % (x * 1000))


def fmt_mib(x):
    return "–" if not x else "%.1f" % (x / MIB)


def fmt_int(x):
    return "–" if x is None else "{:,}".format(int(x))


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    r = a / b
    return "%.1f×" % r if r < 100 else "%.0f×" % r


def cmd_report(a):
    recs = [json.loads(l) for l in open(a.results) if l.strip()]
    meta = next((r for r in recs if r.get("kind") == "meta"), {})
    out = []
    w = out.append
    w("# pg_exporter vs postgres_exporter at scale")
    w("")
    w("%s; %s; %s CPUs (%s), %s GiB RAM; PostgreSQL %s; postgres_exporter %s; %s idle client connections; "
      "%s scrapes per exporter and mode (after one warm-up scrape), pg_exporter.cache_ttl = 0 for the "
      "single-scraper runs." % (
          meta.get("date", "?"), meta.get("kernel", "?"), meta.get("cpus", "?"), meta.get("cpu_model", "?"),
          meta.get("mem_gib", "?"), meta.get("pg_version", "?"), meta.get("pe_version", "?"),
          meta.get("connections", 0), meta.get("scrapes", "?")))
    w("")
    if meta.get("schema") == "realistic":
        w("Realistic schema (bench/realistic.sql): each table has int, text and jsonb columns (a TOAST table "
          "and its index), a primary key and two more indexes, 3 rows; in every 80 tables the last 8 are the "
          "partitions of one partitioned parent (a tenth of the tables are partitions; the parents are "
          "extra). pg_stat_statements warmed with %s distinct statements; autovacuum on (naptime 10 s) and "
          "%s writes per second (bench_write on Zipf-picked tables, pgbench -R) during the measurements, so "
          "autovacuum and autoanalyze change pg_class while the exporters are scraped." % (
              meta.get("warm", "?"), meta.get("write_rate", "?")))
    else:
        w("Simple schema (-S).")
    w("Each table has a primary key and 3 rows; a third of the tables were read by a sequential scan. "
      "pg_exporter runs its default collectors (incl. tables, indexes, relation_sizes, statements). "
      "postgres_exporter runs once with its default metrics and once with `--extend.query-path` = "
      "Debian's example queries.yaml (pg_stat_user_tables, pg_statio_user_tables, pg_stat_statements, ...)%s."
      % ("; its pg_stat_statements query selects total_time, min_time, ..., which PostgreSQL 13+ renamed "
         "*_exec_time: the bench fixed that in its copy" if meta.get("fixed_pss") else ""))
    w("")
    w("Scrape time: curl time_total over loopback, the body discarded (`-o /dev/null`, for both exporters); "
      "samples, bytes and pg_exporter's collector durations come from %s untimed scrapes saved to a file "
      "afterwards. CPU: utime+stime from /proc over the run, divided by the timed "
      "scrapes. *PostgreSQL CPU* is the whole cluster (postmaster, its live children and those it reaped), "
      "so it includes the pg_exporter worker, postgres_exporter's backend and a little background work. "
      "pg_exporter's RSS is the worker backend's: VmHWM includes the shared buffers it touched, RssAnon is "
      "its private memory." % meta.get("saved", "separate"))
    sizes = [r for r in recs if r.get("kind") == "size"]
    for s in sizes:
        pge, ped, peq = s.get("pge", {}), s.get("pe_default") or {}, s.get("pe_queries") or {}
        w("")
        w("## %s tables" % fmt_int(s["tables"]))
        w("")
        w("| | pg_exporter | postgres_exporter (default) | postgres_exporter (+queries.yaml) | "
          "ratio (+queries / pg_exporter) |")
        w("|---|---:|---:|---:|---:|")

        def row(name, key, f, rat=True):
            vals = [pge.get(key), ped.get(key), peq.get(key)]
            w("| %s | %s | %s | %s | %s |" % (name, f(vals[0]), f(vals[1]), f(vals[2]),
                                              ratio(vals[2], vals[0]) if rat else ""))

        row("scrape median (ms)", "median", fmt_ms)
        row("scrape p95 (ms)", "p95", fmt_ms)
        row("failed scrapes", "failures", fmt_int, rat=False)
        row("samples", "samples", fmt_int)
        row("bytes", "bytes", fmt_int)
        row("peak RSS, VmHWM (MiB)", "hwm", fmt_mib)
        row("peak private RSS, RssAnon (MiB, sampled)", "anon_peak_sampled", fmt_mib)
        row("exporter CPU per scrape (ms)", "cpu_per_scrape", fmt_ms)
        if ped.get("backend_cpu_per_scrape") is not None or peq.get("backend_cpu_per_scrape") is not None:
            w("| postgres_exporter's backend CPU per scrape (ms) | (in the worker) | %s | %s | |" % (
                fmt_ms(ped.get("backend_cpu_per_scrape")), fmt_ms(peq.get("backend_cpu_per_scrape"))))
        row("PostgreSQL CPU per scrape (ms)", "cluster_cpu_per_scrape", fmt_ms)
        tot = {}
        for k, d in (("pge", pge), ("ped", ped), ("peq", peq)):
            if d.get("cluster_cpu_per_scrape") is None:
                tot[k] = None
            elif k == "pge":  # the worker is part of the cluster
                tot[k] = d["cluster_cpu_per_scrape"]
            else:
                tot[k] = d["cluster_cpu_per_scrape"] + (d.get("cpu_per_scrape") or 0)
        w("| **total CPU per scrape (ms)** | %s | %s | %s | %s |" % (
            fmt_ms(tot["pge"]), fmt_ms(tot["ped"]), fmt_ms(tot["peq"]), ratio(tot["peq"], tot["pge"])))
        fl = s.get("floor_all") or {}
        ft = s.get("floor_tables") or {}
        fv = s.get("floor_views") or {}
        w("")
        pgd = s.get("pge_defaults") or {}
        if pgd.get("median") is not None:
            w("- pg_exporter with its default `pg_exporter.relations_limit` (the 5,000 most active tables; "
              "the table above has every table): median %s ms, p95 %s ms, %s samples, %s bytes, peak private "
              "RSS %s MiB, CPU %s ms per scrape." % (
                  fmt_ms(pgd.get("median")), fmt_ms(pgd.get("p95")), fmt_int(pgd.get("samples")),
                  fmt_int(pgd.get("bytes")), fmt_mib(pgd.get("anon_peak_sampled")),
                  fmt_ms(pgd.get("cluster_cpu_per_scrape"))))
        if fl.get("median") is not None:
            w("- SQL floor (same run, psql, results transferred and discarded; median of %d passes): all %d "
              "statements of a pg_exporter scrape **%s ms**; the per-table collectors' %d statements (tables, "
              "indexes, relation_sizes) %s ms. pg_exporter's median scrape is **%s** the full floor; its "
              "collectors' own time (pg_exporter_last_scrape_duration_seconds, median) %s ms." % (
                  fl.get("passes", 0), fl.get("statements", 0), fmt_ms(fl["median"]), ft.get("statements", 0),
                  fmt_ms(ft.get("median")), ratio(pge.get("median"), fl["median"]),
                  fmt_ms(pge.get("own_duration_median"))))
            w("  Two of those statements read pg_class and pg_index; the worker keeps that read across "
              "scrapes while no relation changes (pg_exporter_catalog_reads_total), so its own scrapes "
              "mostly run the others.")
            if fl.get("slowest"):
                w("- Slowest statements of that floor: " + "; ".join(
                    "%s ms `%s…`" % (fmt_ms(x["seconds"]), x["sql"][:60]) for x in fl["slowest"]))
        if fv.get("median") is not None:
            w("- The two per-table statistics views alone (`SELECT * FROM pg_stat_user_tables` and "
              "`pg_statio_user_tables`, as the issue's baseline measured them; same run, psql, median of %d "
              "passes): **%s ms**. pg_exporter's median scrape, which has those numbers and more (indexes, "
              "sizes, every default collector), is **%s** that." % (
                  fv.get("passes", 0), fmt_ms(fv["median"]), ratio(pge.get("median"), fv["median"])))
        alt = s.get("alternate") or {}
        at = alt.get("targets") or {}
        if at:
            w("")
            w("Side by side, alternating (%d rounds: one scrape of each per round, the order reversed every "
              "other round, 1 s apart, bodies discarded; load average %s before, %s after):" % (
                  alt.get("rounds", 0), "/".join("%.2f" % x for x in alt.get("loadavg_before", [])),
                  "/".join("%.2f" % x for x in alt.get("loadavg_after", []))))
            w("")
            w("| | median (ms) | p95 (ms) | min (ms) | bytes | failed | postgres_exporter / this |")
            w("|---|---:|---:|---:|---:|---:|---:|")
            peq_m = (at.get("pe_queries") or {}).get("median")
            for name, label in (("pge", "pg_exporter"), ("pge_gzip", "pg_exporter, gzip"),
                                ("pe_queries", "postgres_exporter + queries.yaml")):
                t = at.get(name)
                if not t:
                    continue
                w("| %s | %s | %s | %s | %s | %d | %s |" % (
                    label, fmt_ms(t.get("median")), fmt_ms(t.get("p95")), fmt_ms(t.get("min")),
                    fmt_int(t.get("bytes")), t.get("failures", 0),
                    ratio(peq_m, t.get("median")) if name != "pe_queries" else ""))
            w("")
            w("- gzip / identity (pg_exporter medians): %s; peak private RSS of the worker over these rounds "
              "(RssAnon, sampled every 20 ms): **%s MiB** (VmHWM %s MiB)." % (
                  ratio((at.get("pge_gzip") or {}).get("median"), (at.get("pge") or {}).get("median")),
                  fmt_mib(alt.get("anon_peak_sampled")), fmt_mib(alt.get("hwm"))))
        cd = pge.get("collector_durations") or {}
        if cd:
            w("")
            w("| collector | median duration (ms) |")
            w("|---|---:|")
            for k, v in sorted(cd.items(), key=lambda kv: -kv[1]):
                if v >= 0.0001:
                    w("| %s | %s |" % (k, fmt_ms(v)))
            w("| all collectors | %s |" % fmt_ms(sum(cd.values())))
            w("")
        if s.get("idle_rss"):
            w("- pg_exporter worker RSS before its first scrape (idle): %s MiB (private %s)." % (
                fmt_mib(s["idle_rss"]), fmt_mib(s.get("idle_anon"))))
        mc = s.get("memctx") or {}
        if mc.get("grand_total"):
            w("- pg_exporter worker's PostgreSQL memory contexts after the run (pg_log_backend_memory_contexts): "
              "%s MiB in all; largest: %s. The rest of its private RSS is outside PostgreSQL's allocator "
              "(C++ heap, libc)." % (fmt_mib(mc["grand_total"]), ", ".join(
                  "%s %s MiB" % (t["name"], fmt_mib(t["bytes"])) for t in mc.get("top", []))))
        if pge.get("rss_before"):
            w("- pg_exporter worker RSS: before the run %s MiB (private %s), after %s MiB (private %s)." % (
                fmt_mib(pge.get("rss_before")), fmt_mib(pge.get("anon_before")),
                fmt_mib(pge.get("rss_after")), fmt_mib(pge.get("anon_after"))))
        for c in s.get("concurrent", []):
            w("- %d scrapers at once, a round every %gs, %d rounds, pg_exporter.cache_ttl = %s: "
              "%s scrapes executed by the worker for %d requests; client time median %s ms, p95 %s ms, "
              "max %s ms (%s the single-scraper median, %s the worker's own scrape time); worker CPU per "
              "round %s ms; failures %d." % (
                  c["clients"], c["interval"], c["rounds"], c["ttl"],
                  "?" if c.get("executed") is None else c["executed"], c["rounds"] * c["clients"],
                  fmt_ms(c["median"]), fmt_ms(c["p95"]), fmt_ms(c["max"]), ratio(c["max"], pge.get("median")),
                  ratio(c["max"], pge.get("own_duration_median")), fmt_ms(c["cpu_per_round"]), c["failures"]))
        lk = s.get("leak")
        if lk and lk.get("trace"):
            tr = lk["trace"]
            w("- Leak check, %d back-to-back scrapes: worker RSS (private) after scrape 1 %s MiB (%s), after "
              "scrape %d %s MiB (%s); peak %s MiB (private %s); median scrape %s ms." % (
                  lk["n"], fmt_mib(tr[0]["rss"]), fmt_mib(tr[0]["anon"]), tr[-1]["scrape"], fmt_mib(tr[-1]["rss"]),
                  fmt_mib(tr[-1]["anon"]), fmt_mib(lk.get("hwm")), fmt_mib(lk.get("anon_peak_sampled")),
                  fmt_ms(lk.get("median"))))
            w("  Private RSS every %d scrapes (MiB): %s" % (
                lk.get("trace_every", 0), " ".join(fmt_mib(t["anon"]) for t in tr)))
        if s.get("setup_seconds") is not None:
            w("- Setup: %s s to create tables up to this count." % ("%.0f" % s["setup_seconds"]))
    if len(sizes) > 1:
        w("")
        w("## Scaling")
        w("")
        w("| tables | pg_exporter median (ms) | growth | pg_exporter CPU/scrape (ms) | SQL floor (ms) | "
          "postgres_exporter +queries median (ms) | growth |")
        w("|---:|---:|---:|---:|---:|---:|---:|")
        prev = None
        for s in sizes:
            pge, peq = s.get("pge", {}), s.get("pe_queries") or {}
            g1 = ratio(pge.get("median"), prev[0]) if prev else ""
            g2 = ratio(peq.get("median"), prev[1]) if prev else ""
            w("| %s | %s | %s | %s | %s | %s | %s |" % (
                fmt_int(s["tables"]), fmt_ms(pge.get("median")), g1, fmt_ms(pge.get("cpu_per_scrape")),
                fmt_ms((s.get("floor_all") or {}).get("median")), fmt_ms(peq.get("median")), g2))
            prev = (pge.get("median"), peq.get("median"))
    for note in meta.get("notes", []):
        w("")
        w("Note: " + note)
    for r in recs:
        if r.get("kind") == "note":
            w("")
            w("Note: " + r["text"])
    w("")
    w("Command: `%s` (%s s)." % (meta.get("command", "bench/scale.sh"), fmt_int(
        next((r["seconds"] for r in recs if r.get("kind") == "end"), None))))
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd")
    s = sub.add_parser("scrape")
    s.add_argument("--url", required=True)
    s.add_argument("--n", type=int, required=True)
    s.add_argument("--pid", type=int, required=True, help="exporter process (pg_exporter: its worker)")
    s.add_argument("--postmaster", type=int)
    s.add_argument("--backend-pids", default="")
    s.add_argument("--max-time", type=float, default=60)
    s.add_argument("--deadline", type=float, default=0, help="epoch seconds")
    s.add_argument("--tmp", required=True)
    s.add_argument("--pg-exporter", action="store_true", help="parse its self-metrics")
    s.add_argument("--reset-hwm", action="store_true")
    s.add_argument("--sample-interval", type=float, default=0.02)
    s.add_argument("--trace-every", type=int, default=0)
    s.add_argument("--keep-body")
    s.add_argument("--saved", type=int, default=1, help="untimed scrapes saved for samples and self-metrics")
    c = sub.add_parser("concurrent")
    c.add_argument("--url", required=True)
    c.add_argument("--pid", type=int, required=True)
    c.add_argument("--postmaster", type=int)
    c.add_argument("--rounds", type=int, default=10)
    c.add_argument("--clients", type=int, default=4)
    c.add_argument("--interval", type=float, default=1.0)
    c.add_argument("--max-time", type=float, default=60)
    c.add_argument("--deadline", type=float, default=0)
    c.add_argument("--psql", required=True, help="psql command line (connection options)")
    k = sub.add_parser("capture")
    k.add_argument("--notices", required=True)
    al = sub.add_parser("alternate")
    al.add_argument("--target", action="append", required=True, help="name=url[|header]")
    al.add_argument("--pid", type=int, required=True, help="pg_exporter's worker")
    al.add_argument("--rounds", type=int, default=15)
    al.add_argument("--max-time", type=float, default=60)
    al.add_argument("--deadline", type=float, default=0)
    al.add_argument("--sample-interval", type=float, default=0.02)
    al.add_argument("--gap", type=float, default=1.0, help="seconds of pause before each scrape")
    r = sub.add_parser("replay")
    r.add_argument("--captured", required=True)
    r.add_argument("--psql", required=True, help="psql command line (connection options)")
    r.add_argument("--passes", type=int, default=5)
    r.add_argument("--timeout", type=float, default=600)
    r.add_argument("--tmp", required=True)
    m = sub.add_parser("memctx")
    m.add_argument("--log", required=True)
    m.add_argument("--offset", type=int, default=0)
    m.add_argument("--pid", type=int, required=True)
    o = sub.add_parser("report")
    o.add_argument("--results", required=True)
    o.add_argument("--out")
    a = p.parse_args()
    fn = {"scrape": cmd_scrape, "concurrent": cmd_concurrent, "capture": cmd_capture,
          "replay": cmd_replay, "alternate": cmd_alternate, "memctx": cmd_memctx, "report": cmd_report}.get(a.cmd)
    if not fn:
        p.print_help()
        return 2
    fn(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
