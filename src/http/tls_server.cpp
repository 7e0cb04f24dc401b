#include "http/tls_server.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls/certificate.h"

namespace http {

namespace {

constexpr double kCheckFilesEvery = 1.0;
constexpr size_t kMaxPemBytes = 1 << 20;
constexpr unsigned char kSessionContext[] = "pg_exporter";

// The first queued OpenSSL error as text, and an empty queue afterwards.
std::string ssl_error(const std::string& what) {
  std::string msg = what;
  unsigned long code = ERR_get_error();
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    msg += ": ";
    msg += buf;
  }
  ERR_clear_error();
  return msg;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr mem_bio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Every certificate in PEM text, in order.
std::vector<X509*> read_certs(const std::string& pem) {
  std::vector<X509*> out;
  BioPtr bio = mem_bio(pem);
  if (!bio) return out;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.push_back(x);
  ERR_clear_error();  // the end of the text reads as an error
  return out;
}

void free_certs(std::vector<X509*>& certs) {
  for (X509* x : certs) X509_free(x);
  certs.clear();
}

bool text_of(const std::string& inline_pem, const std::string& file, const char* what, std::string* out,
             std::string* error) {
  if (file.empty()) {
    *out = inline_pem;
    return true;
  }
  std::string why;
  if (!tls::read_small_file(file, kMaxPemBytes, out, &why)) {
    *error = std::string(what) + ": " + why;
    return false;
  }
  return true;
}

int accept_any(int, X509_STORE_CTX*) { return 1; }

}  // namespace

ssl_ctx_st* build_ssl_ctx(const webconfig::Tls& s, std::string* error) {
  ERR_clear_error();
  std::string cert_pem, key_pem, ca_pem;
  if (!text_of(s.cert_pem, s.cert_file, "cert_file", &cert_pem, error)) return nullptr;
  if (!text_of(s.key_pem, s.key_file, "key_file", &key_pem, error)) return nullptr;
  if (!text_of(s.client_ca_pem, s.client_ca_file, "client_ca_file", &ca_pem, error)) return nullptr;

  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    *error = ssl_error("could not create a TLS context");
    return nullptr;
  }
  auto fail = [&](const std::string& why) -> ssl_ctx_st* {
    *error = ssl_error(why);
    SSL_CTX_free(ctx);
    return nullptr;
  };
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               (s.prefer_server_cipher_suites ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
  SSL_CTX_set_mode(
      ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_sess_set_cache_size(ctx, 256);
  if (SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1) != 1)
    return fail("could not set the session context");
  if (SSL_CTX_set_min_proto_version(ctx, s.min_version) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, s.max_version) != 1)
    return fail("tls_server_config: TLS versions not supported by this OpenSSL");
  if (!s.cipher_list.empty() && SSL_CTX_set_cipher_list(ctx, s.cipher_list.c_str()) != 1)
    return fail("tls_server_config.cipher_suites: not usable with this OpenSSL (" + s.cipher_list + ")");
  if (!s.groups.empty() && SSL_CTX_set1_groups_list(ctx, s.groups.c_str()) != 1)
    return fail("tls_server_config.curve_preferences: not usable with this OpenSSL (" + s.groups + ")");

  // The certificate and its chain.
  std::vector<X509*> certs = read_certs(cert_pem);
  if (certs.empty())
    return fail(std::string(s.cert_file.empty() ? "cert" : "cert_file") + ": no PEM certificate");
  bool ok = SSL_CTX_use_certificate(ctx, certs[0]) == 1;
  for (size_t i = 1; ok && i < certs.size(); i++) ok = SSL_CTX_add1_chain_cert(ctx, certs[i]) == 1;
  free_certs(certs);
  if (!ok) return fail("cert_file: the certificate cannot be used");
  {
    BioPtr bio = mem_bio(key_pem);
    EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    if (key == nullptr)
      return fail(std::string(s.key_file.empty() ? "key" : "key_file") + ": no PEM private key");
    ok = SSL_CTX_use_PrivateKey(ctx, key) == 1;
    EVP_PKEY_free(key);
    if (!ok || SSL_CTX_check_private_key(ctx) != 1)
      return fail("key_file: the private key does not match the certificate");
  }

  // Client certificates.
  using webconfig::ClientAuth;
  if (s.client_auth != ClientAuth::kNone) {
    if (!ca_pem.empty()) {
      std::vector<X509*> cas = read_certs(ca_pem);
      if (cas.empty()) return fail("client_ca_file: no PEM certificate");
      X509_STORE* store = SSL_CTX_get_cert_store(ctx);
      STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
      for (X509* ca : cas) {
        ok &= X509_STORE_add_cert(store, ca) == 1;
        if (names != nullptr) {
          X509_NAME* n = X509_NAME_dup(X509_get_subject_name(ca));
          if (n != nullptr && sk_X509_NAME_push(names, n) == 0) X509_NAME_free(n);
        }
      }
      free_certs(cas);
      if (names != nullptr) SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
      if (!ok) return fail("client_ca_file: a certificate cannot be used");
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return fail("no client_ca_file, and the system's CA certificates cannot be read");
    }
    int mode = SSL_VERIFY_PEER;
    if (s.client_auth == ClientAuth::kRequireAny || s.client_auth == ClientAuth::kRequireAndVerify)
      mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    // Request/RequireAny ask for a certificate without verifying it (Go's semantics).
    const bool verify =
        s.client_auth == ClientAuth::kVerifyIfGiven || s.client_auth == ClientAuth::kRequireAndVerify;
    SSL_CTX_set_verify(ctx, mode, verify ? nullptr : accept_any);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  ERR_clear_error();
  return ctx;
}

std::shared_ptr<TlsContext> TlsContext::create(const webconfig::Tls& settings, std::string* error) {
  std::shared_ptr<TlsContext> t(new TlsContext(settings));
  t->stamps_ = t->stamps();
  t->ctx_ = build_ssl_ctx(settings, error);
  if (t->ctx_ == nullptr) return nullptr;
  return t;
}

TlsContext::~TlsContext() {
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

std::vector<TlsContext::FileStamp> TlsContext::stamps() const {
  std::vector<FileStamp> out;
  for (const std::string* f : {&settings_.cert_file, &settings_.key_file, &settings_.client_ca_file}) {
    FileStamp st;
    struct stat sb;
    if (!f->empty() && ::stat(f->c_str(), &sb) == 0) {
      st.exists = true;
      st.dev = sb.st_dev;
      st.ino = sb.st_ino;
      st.size = static_cast<uint64_t>(sb.st_size);
      st.mtime_ns = static_cast<int64_t>(sb.st_mtim.tv_sec) * 1000000000 + sb.st_mtim.tv_nsec;
      st.ctime_ns = static_cast<int64_t>(sb.st_ctim.tv_sec) * 1000000000 + sb.st_ctim.tv_nsec;
    }
    out.push_back(st);
  }
  return out;
}

ssl_ctx_st* TlsContext::current(double now, std::string* note) {
  if (checked_at_ >= 0 && now - checked_at_ < kCheckFilesEvery && now >= checked_at_) return ctx_;
  checked_at_ = now;
  std::vector<FileStamp> st = stamps();
  if (st == stamps_ || st == refused_) return ctx_;
  std::string error;
  ssl_ctx_st* fresh = build_ssl_ctx(settings_, &error);
  if (fresh == nullptr) {
    refused_ = st;
    *note =
        "TLS files changed but cannot be used (" + error + "): new connections keep the previous certificate";
    return ctx_;
  }
  SSL_CTX_free(ctx_);  // sessions still open keep their own reference
  ctx_ = fresh;
  stamps_ = st;
  refused_.clear();
  reloads_++;
  *note = "TLS certificate files changed: new connections use them";
  return ctx_;
}

TlsSession::TlsSession(ssl_ctx_st* ctx, int fd) {
  ssl_ = ctx ? SSL_new(ctx) : nullptr;
  if (ssl_ != nullptr && SSL_set_fd(ssl_, fd) != 1) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (ssl_ != nullptr) SSL_set_accept_state(ssl_);
  ERR_clear_error();
}

TlsSession::~TlsSession() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

TlsSession::Step TlsSession::handshake(std::string* error) {
  want_write_ = false;
  if (ssl_ == nullptr) {
    *error = ssl_error("could not start a TLS session");
    return Step::kFailed;
  }
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    ERR_clear_error();
    return Step::kDone;
  }
  const int e = SSL_get_error(ssl_, rc);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    want_write_ = e == SSL_ERROR_WANT_WRITE;
    ERR_clear_error();
    return Step::kAgain;
  }
  if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    *error = errno != 0 ? std::string("TLS handshake: ") + std::strerror(errno)
                        : "TLS handshake: the client closed";
    ERR_clear_error();
  } else {
    *error = ssl_error("TLS handshake failed");
  }
  return Step::kFailed;
}

ssize_t TlsSession::read(char* buf, size_t len) {
  want_write_ = false;
  if (ssl_ == nullptr) {
    errno = ECONNRESET;
    return -1;
  }
  const int n = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(len, 1 << 30)));
  if (n > 0) return n;
  const int e = SSL_get_error(ssl_, n);
  ERR_clear_error();
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    want_write_ = e == SSL_ERROR_WANT_WRITE;
    errno = EAGAIN;
    return -1;
  }
  if (e == SSL_ERROR_ZERO_RETURN) return 0;
  errno = ECONNRESET;
  return -1;
}

ssize_t TlsSession::write(const char* buf, size_t len) {
  want_write_ = false;
  if (ssl_ == nullptr) {
    errno = ECONNRESET;
    return -1;
  }
  if (len == 0) return 0;
  const int n = SSL_write(ssl_, buf, static_cast<int>(std::min<size_t>(len, 1 << 30)));
  if (n > 0) return n;
  const int e = SSL_get_error(ssl_, n);
  ERR_clear_error();
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    want_write_ = e == SSL_ERROR_WANT_WRITE;
    errno = EAGAIN;
    return -1;
  }
  errno = EPIPE;
  return -1;
}

bool TlsSession::pending() const { return ssl_ != nullptr && SSL_pending(ssl_) > 0; }

void TlsSession::shutdown() {
  if (ssl_ == nullptr) return;
  if (SSL_is_init_finished(ssl_)) (void)SSL_shutdown(ssl_);
  ERR_clear_error();
}

std::string TlsSession::version() const { return ssl_ ? SSL_get_version(ssl_) : ""; }

std::string TlsSession::check_sans(const std::vector<std::string>& allowed) const {
  if (allowed.empty()) return "";
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  X509* cert = ssl_ ? SSL_get1_peer_certificate(ssl_) : nullptr;
#else
  X509* cert = ssl_ ? SSL_get_peer_certificate(ssl_) : nullptr;
#endif
  if (cert == nullptr) return "the client sent no certificate to match against client_allowed_sans";
  std::vector<std::string> sans;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); i++) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
    if (g->type == GEN_DNS || g->type == GEN_EMAIL || g->type == GEN_URI) {
      const ASN1_IA5STRING* s = g->d.ia5;
      sans.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                        static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (g->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = g->d.ip;
      char text[64] = "";
      const int family = ASN1_STRING_length(ip) == 4 ? AF_INET : ASN1_STRING_length(ip) == 16 ? AF_INET6 : 0;
      if (family != 0 && inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof text) != nullptr)
        sans.emplace_back(text);
    }
  }
  if (names != nullptr) GENERAL_NAMES_free(names);
  X509_free(cert);
  ERR_clear_error();
  for (const std::string& s : sans) {
    for (const std::string& a : allowed) {
      if (s == a) return "";
    }
  }
  return "the client certificate has none of client_allowed_sans";
}

}  // namespace http
