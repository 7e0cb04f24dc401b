#include "tls/certificate.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <memory>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace tls {

namespace {

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

// The first queued OpenSSL error as text, and an empty queue afterwards.
std::string openssl_error(const char* what) {
  std::string msg(what);
  unsigned long code = ERR_get_error();
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    msg += ": ";
    msg += buf;
  }
  ERR_clear_error();
  return msg;
}

bool asn1_time_to_unix(const ASN1_TIME* t, int64_t* out) {
  if (t == nullptr) return false;
  struct tm tm;
  std::memset(&tm, 0, sizeof(tm));
  if (ASN1_TIME_to_tm(t, &tm) != 1) return false;
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31) return false;
  *out = days_from_civil(static_cast<int64_t>(tm.tm_year) + 1900, static_cast<unsigned>(tm.tm_mon) + 1,
                         static_cast<unsigned>(tm.tm_mday)) *
             86400 +
         tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
  return true;
}

}  // namespace

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's algorithm: exact for every proleptic Gregorian date.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool read_small_file(const std::string& path, size_t max_bytes, std::string* contents, std::string* error) {
  contents->clear();
  if (path.empty()) {
    *error = "empty file name";
    return false;
  }
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  FdCloser f{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
  if (f.fd < 0) {
    *error = "could not open \"" + path + "\": " + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (::fstat(f.fd, &st) != 0) {
    *error = "could not stat \"" + path + "\": " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = "\"" + path + "\" is not a regular file";
    return false;
  }
  if (st.st_size < 0 || static_cast<unsigned long long>(st.st_size) > max_bytes) {
    *error = "\"" + path + "\" is larger than " + std::to_string(max_bytes) + " bytes";
    return false;
  }
  contents->reserve(static_cast<size_t>(st.st_size));
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(f.fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = "could not read \"" + path + "\": " + std::strerror(errno);
      return false;
    }
    if (n == 0) break;
    // The file may grow between fstat and read.
    if (contents->size() + static_cast<size_t>(n) > max_bytes) {
      *error = "\"" + path + "\" is larger than " + std::to_string(max_bytes) + " bytes";
      return false;
    }
    contents->append(buf, static_cast<size_t>(n));
  }
  return true;
}

bool parse_pem_certificate_dates(std::string_view pem, CertificateDates* out, std::string* error) {
  ERR_clear_error();
  if (pem.empty() || pem.size() > static_cast<size_t>(INT_MAX)) {
    *error = pem.empty() ? "empty certificate file" : "certificate file too large";
    return false;
  }
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) {
    *error = openssl_error("could not allocate a memory BIO");
    return false;
  }
  // No password callback: a certificate is never encrypted, and the default
  // callback would prompt on a terminal.
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, const_cast<char*>("")));
  if (!cert) {
    *error = openssl_error("no PEM certificate could be read");
    return false;
  }
  CertificateDates d;
  if (!asn1_time_to_unix(X509_get0_notBefore(cert.get()), &d.not_before) ||
      !asn1_time_to_unix(X509_get0_notAfter(cert.get()), &d.not_after)) {
    *error = openssl_error("the certificate's validity dates are malformed");
    return false;
  }
  ERR_clear_error();
  *out = d;
  return true;
}

}  // namespace tls
