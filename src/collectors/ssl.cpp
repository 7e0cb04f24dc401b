// TLS: whether the server has ssl on, its client connections by protocol
// version and cipher, and the validity dates of its certificate. Names follow
// the Rust pg_exporter's tls collectors (postgres_exporter has none), except
// that connections are one gauge with both labels, pg_ssl_connections{version,
// cipher}, instead of its pg_ssl_connections_total gauge (a gauge must not end
// in _total) and two per-label copies: sum by (version) gives those.
//
// The certificate is the file named by ssl_cert_file (relative names are in
// the data directory), parsed by tls/certificate.cpp. It is read only when the
// exporter's role may see that setting (superuser or pg_read_all_settings, as
// in pg_monitor): otherwise there are no certificate series. A file that cannot
// be read or parsed while ssl is on fails the collector with the reason, since
// the server would not accept it either on its next reload.
// pg_ssl_certificate_expiry_seconds is the time left (negative once expired),
// the Rust crate's meaning; the absolute dates are the *_timestamp gauges.
#include <ctime>
#include <map>
#include <string>
#include <utility>

#include "collectors/collector.h"
#include "tls/certificate.h"

namespace collectors {

namespace {

// The rows pg_settings would give for these three, without building all
// 350 of its rows (a third of this collector's time): data_directory is the
// one a role without pg_read_all_settings may not read, and like
// pg_settings this leaves it out rather than fail.
constexpr const char* kSettings =
    "SELECT 'ssl' AS name, current_setting('ssl') AS setting "
    "UNION ALL SELECT 'ssl_cert_file', current_setting('ssl_cert_file') "
    "UNION ALL SELECT 'data_directory', current_setting('data_directory') "
    "WHERE pg_has_role('pg_read_all_settings', 'USAGE')";

void collect_ssl(const Context& ctx, metrics::Sink& out) {
  pgx::ResultSet settings = ctx.query(kSettings);
  const int name_c = settings.column("name"), setting_c = settings.column("setting");
  if (name_c < 0 || setting_c < 0) throw std::runtime_error("pg_settings query returned unexpected columns");
  std::string ssl, cert_file, data_dir;
  bool cert_visible = false;
  for (size_t r = 0; r < settings.rows(); r++) {
    std::string_view name = settings.text(r, static_cast<size_t>(name_c));
    std::string value(settings.text(r, static_cast<size_t>(setting_c)));
    if (name == "ssl") ssl = value;
    if (name == "ssl_cert_file") cert_file = value, cert_visible = true;
    if (name == "data_directory") data_dir = value;
  }
  const bool ssl_on = ssl == "on";
  if (!ssl.empty()) {
    out.gauge("pg_ssl_enabled", "Whether the server accepts TLS connections (ssl = on).").add(ssl_on ? 1 : 0);
  }

  // Sessions (client backends, walsenders) with TLS, from the scrape's shared
  // read of pg_stat_activity (sessions.h).
  std::map<std::pair<std::string, std::string>, double> tls;
  for (const Session& session : ctx.sessions().rows) {
    if (session.ssl) tls[{session.ssl_version, session.ssl_cipher}]++;
  }
  metrics::Family connections =
      out.gauge("pg_ssl_connections", "Sessions using TLS, by protocol version and cipher.");
  for (const auto& [key, n] : tls) connections.add({{"version", key.first}, {"cipher", key.second}}, n);

  if (!ssl_on || !cert_visible || cert_file.empty()) return;
  std::string path = cert_file;
  if (path[0] != '/' && !data_dir.empty()) path = data_dir + "/" + path;
  std::string pem, error;
  if (!tls::read_small_file(path, tls::kMaxCertificateFileBytes, &pem, &error)) {
    throw std::runtime_error("ssl_cert_file: " + error);
  }
  tls::CertificateDates dates;
  if (!tls::parse_pem_certificate_dates(pem, &dates, &error)) {
    throw std::runtime_error("ssl_cert_file \"" + path + "\": " + error);
  }
  const double now = static_cast<double>(std::time(nullptr));
  const double not_before = static_cast<double>(dates.not_before);
  const double not_after = static_cast<double>(dates.not_after);
  out.gauge("pg_ssl_certificate_not_before_timestamp_seconds",
            "Start of the server certificate's validity (ssl_cert_file), in Unix seconds.")
      .add(not_before);
  out.gauge("pg_ssl_certificate_not_after_timestamp_seconds",
            "End of the server certificate's validity (ssl_cert_file), in Unix seconds.")
      .add(not_after);
  out.gauge("pg_ssl_certificate_expiry_seconds",
            "Seconds until the server certificate expires (negative once expired).")
      .add(not_after - now);
  out.gauge("pg_ssl_certificate_valid",
            "Whether the server certificate is within its validity dates (1 = yes).")
      .add(now >= not_before && now <= not_after ? 1 : 0);
}

}  // namespace

extern const Collector ssl_collector = {"ssl",
                                        "TLS: ssl on/off, sessions by protocol version and cipher "
                                        "(pg_stat_ssl), server certificate validity dates.",
                                        true,
                                        true,
                                        0,
                                        0,
                                        &collect_ssl};

}  // namespace collectors
