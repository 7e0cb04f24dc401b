// The server certificate's validity dates, for the ssl collector. Pure C++ on
// OpenSSL's libcrypto, no PostgreSQL header: unit-tested without a server.
//
// The file named by ssl_cert_file is untrusted input: it is opened without
// blocking (a FIFO must not hang the scrape), must be a regular file no larger
// than kMaxCertificateFileBytes, and every failure is an error message, never
// an exception from OpenSSL or a crash. OpenSSL's error queue is left empty,
// because PostgreSQL's own TLS code in the same backend reads it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tls {

constexpr size_t kMaxCertificateFileBytes = 1 << 20;  // a chain of a few certificates is ~10 KiB

struct CertificateDates {
  int64_t not_before = 0;  // Unix seconds
  int64_t not_after = 0;
};

// Reads a whole regular file of at most max_bytes. false + *error otherwise.
bool read_small_file(const std::string& path, size_t max_bytes, std::string* contents, std::string* error);

// The validity of the first certificate in PEM text (a server certificate file
// starts with the server's own certificate, then its chain).
bool parse_pem_certificate_dates(std::string_view pem, CertificateDates* out, std::string* error);

// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12).
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);

}  // namespace tls
