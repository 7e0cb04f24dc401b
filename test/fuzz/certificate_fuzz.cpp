// libFuzzer target: the server certificate parser (PEM through libcrypto).
// The first byte chooses what the rest is: even, the text of the file as is;
// odd, DER bytes that the harness wraps in a PEM envelope, so that mutations
// reach OpenSSL's ASN.1 decoder and our date conversion instead of stopping
// at base64. Either way: dates or an error message, never a crash, and
// OpenSSL's error queue left empty (PostgreSQL's TLS code in the same backend
// reads it).
#include <openssl/err.h>
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tls/certificate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string pem;
  if (data[0] % 2 == 0) {
    pem.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  } else {
    std::vector<unsigned char> b64(4 * ((size - 1 + 2) / 3) + 1);
    int n = EVP_EncodeBlock(b64.data(), data + 1, static_cast<int>(size - 1));
    pem = "-----BEGIN CERTIFICATE-----\n";
    for (int i = 0; i < n; i += 64) {
      pem.append(reinterpret_cast<const char*>(b64.data()) + i, static_cast<size_t>(n - i < 64 ? n - i : 64));
      pem += '\n';
    }
    pem += "-----END CERTIFICATE-----\n";
  }
  tls::CertificateDates dates;
  std::string error;
  bool ok = tls::parse_pem_certificate_dates(pem, &dates, &error);
  if (ok != error.empty()) __builtin_trap();  // success iff no error message
  if (ERR_peek_error() != 0) __builtin_trap();
  return 0;
}
