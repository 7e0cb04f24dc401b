// tls/certificate.cpp: the server certificate's dates from PEM, and the
// bounded, non-blocking file read. The certificates were generated once with
//   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days N
// and their dates read back with `openssl x509 -noout -dates`.
#include <cstdio>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "tls/certificate.h"
#include "unit.h"

namespace {

// notBefore=Nov 25 12:29:08 2026 GMT, notAfter=Dec 25 12:29:08 2026 GMT (UTCTime).
const char* const kUtcTimeCert =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBnTCCAUOgAwIBAgIUFpLDDYaiIlafcADJLs7f4rF7McwwCgYIKoZIzj0EAwIw\n"
    "JDEiMCAGA1UEAwwZcGdfZXhwb3J0ZXIgdW5pdCB0ZXN0IHV0YzAeFw0yNjExMjUx\n"
    "MjI5MDhaFw0yNjEyMjUxMjI5MDhaMCQxIjAgBgNVBAMMGXBnX2V4cG9ydGVyIHVu\n"
    "aXQgdGVzdCB1dGMwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARbIigybjxIt7YO\n"
    "cx6gh/V65lX/A5lPRnofz1pPxtZ2Z9bC34R3Tos0mYSuF3/AGfHM8ih74m6zsfCF\n"
    "q7WIg1Hqo1MwUTAdBgNVHQ4EFgQUo03Twfeo27P8JY0mGE0ZGvR9PfwwHwYDVR0j\n"
    "BBgwFoAUo03Twfeo27P8JY0mGE0ZGvR9PfwwDwYDVR0TAQH/BAUwAwEB/zAKBggq\n"
    "hkjOPQQDAgNIADBFAiEAxPKIL/WAkDrhIagQlFhjSOEgQkgV+SvtP4g6wVfiXQsC\n"
    "IHP+nSUdVbvU9kOGikbwEj98oOeUSWm9iMcIT+VcRrVn\n"
    "-----END CERTIFICATE-----\n";

// notBefore=Nov 25 12:29:08 2026 GMT, notAfter=Nov 1 12:29:08 2126 GMT
// (GeneralizedTime: years from 2050 on).
const char* const kGeneralizedTimeCert =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBrzCCAVWgAwIBAgIUBw6grpP9nFFnj8uEcZUJJaicDkIwCgYIKoZIzj0EAwIw\n"
    "LDEqMCgGA1UEAwwhcGdfZXhwb3J0ZXIgdW5pdCB0ZXN0IGdlbmVyYWxpemVkMCAX\n"
    "DTI2MTEyNTEyMjkwOFoYDzIxMjYxMTAxMTIyOTA4WjAsMSowKAYDVQQDDCFwZ19l\n"
    "eHBvcnRlciB1bml0IHRlc3QgZ2VuZXJhbGl6ZWQwWTATBgcqhkjOPQIBBggqhkjO\n"
    "PQMBBwNCAATkOEES0Zyc/8avt5mpK7vGIA0IE8KZ8QWt1eIrZh6Zi5FJ8m/rntWM\n"
    "RDGL1rhWN27PWB++R5p7T3ochbD1RlsYo1MwUTAdBgNVHQ4EFgQU4kEz5XsrWqLR\n"
    "U5VU3OwsZSVCsawwHwYDVR0jBBgwFoAU4kEz5XsrWqLRU5VU3OwsZSVCsawwDwYD\n"
    "VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEAvKmI6Ctn22TcH61J1JHm\n"
    "GRNsOUMwO4tHYUJ4U1fxYrUCIAebu5rvylfib9mnxLB3+eNW3Ux2wde8yCRowpqa\n"
    "S8Pz\n"
    "-----END CERTIFICATE-----\n";

std::string temp_path(const char* name) { return "/tmp/pg_exporter_unit_" + std::to_string(getpid()) + name; }

void write_file(const std::string& path, const std::string& data) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return;
  std::fwrite(data.data(), 1, data.size(), f);
  std::fclose(f);
}

}  // namespace

TEST(tls_days_from_civil) {
  CHECK_EQ(tls::days_from_civil(1970, 1, 1), 0);
  CHECK_EQ(tls::days_from_civil(2000, 3, 1), 11017);
  CHECK_EQ(tls::days_from_civil(2038, 1, 19) * 86400 + 3 * 3600 + 14 * 60 + 8, 2147483648LL);
  CHECK_EQ(tls::days_from_civil(1969, 12, 31), -1);
  CHECK_EQ(tls::days_from_civil(2126, 11, 1) * 86400 + 12 * 3600 + 29 * 60 + 8, 4949209748LL);
}

TEST(tls_pem_dates) {
  tls::CertificateDates d;
  std::string err;
  CHECK(tls::parse_pem_certificate_dates(kUtcTimeCert, &d, &err));
  CHECK_EQ(d.not_before, 1795609748LL);
  CHECK_EQ(d.not_after, 1798201748LL);
  CHECK(tls::parse_pem_certificate_dates(kGeneralizedTimeCert, &d, &err));
  CHECK_EQ(d.not_before, 1795609748LL);
  CHECK_EQ(d.not_after, 4949209748LL);
  // A chain: the first certificate is the server's.
  CHECK(tls::parse_pem_certificate_dates(std::string(kUtcTimeCert) + kGeneralizedTimeCert, &d, &err));
  CHECK_EQ(d.not_after, 1798201748LL);
  // Text before the first certificate (comments, a key) is skipped, as OpenSSL does.
  CHECK(tls::parse_pem_certificate_dates(std::string("subject=CN = x\n") + kGeneralizedTimeCert, &d, &err));
  CHECK_EQ(d.not_after, 4949209748LL);
}

TEST(tls_pem_garbage_is_an_error) {
  tls::CertificateDates d;
  d.not_after = 42;
  std::string err;
  const std::string good = kUtcTimeCert;
  for (const std::string& bad :
       {std::string(), std::string("not a certificate"), std::string("\0\xff\xfe", 3),
        std::string("-----BEGIN CERTIFICATE-----\nthis is not base64\n-----END CERTIFICATE-----\n"),
        good.substr(0, good.size() / 2),                  // truncated
        good.substr(0, 100) + "AAAA" + good.substr(104),  // corrupted DER
        std::string("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}) {
    err.clear();
    CHECK(!tls::parse_pem_certificate_dates(bad, &d, &err));
    CHECK(!err.empty());
  }
  CHECK_EQ(d.not_after, 42);  // untouched on failure
}

TEST(tls_file_reads_are_bounded) {
  std::string data, err;
  CHECK(!tls::read_small_file("/nonexistent/pg_exporter/server.crt", 1024, &data, &err));
  CHECK(err.find("could not open") != std::string::npos);
  CHECK(!tls::read_small_file("", 1024, &data, &err));
  CHECK(!tls::read_small_file("/tmp", 1024, &data, &err));  // a directory
  CHECK(err.find("not a regular file") != std::string::npos);

  const std::string file = temp_path(".crt");
  write_file(file, kUtcTimeCert);
  CHECK(tls::read_small_file(file, 1 << 20, &data, &err));
  CHECK_EQ(data, std::string(kUtcTimeCert));
  CHECK(!tls::read_small_file(file, 100, &data, &err));  // larger than allowed
  CHECK(err.find("larger than") != std::string::npos);
  std::remove(file.c_str());

  // A FIFO with no writer: refused at once, not waited on.
  const std::string fifo = temp_path(".fifo");
  if (mkfifo(fifo.c_str(), 0600) == 0) {
    CHECK(!tls::read_small_file(fifo, 1024, &data, &err));
    CHECK(err.find("not a regular file") != std::string::npos);
    std::remove(fifo.c_str());
  }
}
