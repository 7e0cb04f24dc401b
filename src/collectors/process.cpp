// The exporter's own process: the PostgreSQL backend that runs the worker (or,
// from pgexporter.metrics(), the calling session). Read from /proc/self with
// the kernel's own counters; names of the Rust pg_exporter's process collector.
#include <stdexcept>
#include <string>

#include "collectors/collector.h"
#include "procfs/process_stat.h"

namespace collectors {

namespace {

void collect_process(const Context&, metrics::Sink& out) {
  std::string error;
  auto s = procfs::sample_self(&error);
  if (!s) throw std::runtime_error(error);
  out.counter("pg_exporter_process_cpu_seconds_total",
              "User and system CPU time of the exporter's backend process, in seconds (from /proc/self/stat).")
      .add(s->cpu_seconds_total);
  out.gauge("pg_exporter_process_cpu_cores", "CPUs the exporter's backend process may run on.").add(s->cpu_cores);
  out.gauge("pg_exporter_process_resident_memory_bytes", "Resident memory of the exporter's backend process.")
      .add(s->resident_bytes);
  out.gauge("pg_exporter_process_virtual_memory_bytes", "Virtual memory size of the exporter's backend process.")
      .add(s->virtual_bytes);
  out.gauge("pg_exporter_process_open_fds", "Open file descriptors of the exporter's backend process.")
      .add(s->open_fds);
  out.gauge("pg_exporter_process_max_fds", "File descriptor limit (soft) of the exporter's backend process.")
      .add(s->max_fds);
  out.gauge("pg_exporter_process_threads", "Threads of the exporter's backend process.").add(s->threads);
  out.gauge("pg_exporter_process_start_time_seconds",
            "Start time of the exporter's backend process, in Unix seconds (kernel start time).")
      .add(s->start_time_seconds);
}

}  // namespace

extern const Collector process_collector = {
    "process", "CPU, memory, file descriptors and start time of the exporter's own backend process.",
    true, false, 0, 0, &collect_process};

}  // namespace collectors
