// The exporter's own process: the PostgreSQL backend that runs the exporter
// (the background worker, or the session calling pgexporter.metrics()). Read
// from /proc/self with the kernel's own counters, under the names of the usual
// Prometheus process collector with a pg_exporter_ prefix, and without it.
#include <stdexcept>
#include <string>

#include "collectors/collector.h"
#include "procfs/process_stat.h"

namespace collectors {

static void collect_process(const Context&, metrics::Sink& out) {
  std::string error;
  auto s = procfs::sample_self(&error);
  if (!s) throw std::runtime_error("process: " + error);
  out.counter(
         "pg_exporter_process_cpu_seconds_total",
         "User and system CPU time spent by the PostgreSQL backend process running the exporter, in seconds "
         "(utime + stime of /proc/self/stat).")
      .add(s->cpu_seconds_total);
  out.gauge(
         "pg_exporter_process_cpu_cores",
         "Number of CPUs the PostgreSQL backend process running the exporter may run on (its affinity mask).")
      .add(s->cpu_cores);
  out.gauge("pg_exporter_process_resident_memory_bytes",
            "Resident memory size of the PostgreSQL backend process running the exporter, in bytes "
            "(includes the shared memory it has touched).")
      .add(s->resident_bytes);
  out.gauge("pg_exporter_process_virtual_memory_bytes",
            "Virtual memory size of the PostgreSQL backend process running the exporter, in bytes.")
      .add(s->virtual_bytes);
  out.gauge("pg_exporter_process_open_fds",
            "Number of open file descriptors of the PostgreSQL backend process running the exporter.")
      .add(s->open_fds);
  out.gauge("pg_exporter_process_max_fds",
            "Maximum number of open file descriptors (soft RLIMIT_NOFILE) of the PostgreSQL backend process "
            "running "
            "the exporter.")
      .add(s->max_fds);
  out.gauge("pg_exporter_process_threads",
            "Number of threads of the PostgreSQL backend process running the exporter.")
      .add(s->threads);
  out.gauge(
         "pg_exporter_process_start_time_seconds",
         "Start time of the PostgreSQL backend process running the exporter, in seconds since the Unix epoch "
         "(kernel start time: boot time + start ticks).")
      .add(s->start_time_seconds);
  // The standard client-library names too: dashboards such as Grafana's
  // "PostgreSQL Database" chart the exporter process under them.
  out.counter("process_cpu_seconds_total", "Same as pg_exporter_process_cpu_seconds_total.")
      .add(s->cpu_seconds_total);
  out.gauge("process_resident_memory_bytes", "Same as pg_exporter_process_resident_memory_bytes.")
      .add(s->resident_bytes);
  out.gauge("process_virtual_memory_bytes", "Same as pg_exporter_process_virtual_memory_bytes.")
      .add(s->virtual_bytes);
  out.gauge("process_open_fds", "Same as pg_exporter_process_open_fds.").add(s->open_fds);
  out.gauge("process_max_fds", "Same as pg_exporter_process_max_fds.").add(s->max_fds);
  out.gauge("process_start_time_seconds", "Same as pg_exporter_process_start_time_seconds.")
      .add(s->start_time_seconds);
}

extern const Collector process_collector = {"process",
                                            "CPU, memory, file descriptors, threads and start time of the "
                                            "PostgreSQL backend process running the exporter.",
                                            true,
                                            false,
                                            0,
                                            0,
                                            &collect_process};

}  // namespace collectors
