// TLS for the endpoint: an OpenSSL server context built from the web
// config's tls_server_config (the OpenSSL PostgreSQL itself links), and a
// non-blocking session per connection, driven by the worker's single event
// loop like a plain socket (no threads, no blocking handshake). Certificate,
// key and client CA files are watched: a changed, consistent set replaces
// the context for new connections without a restart; an inconsistent one
// (the key not yet rotated with its certificate) keeps the previous context.
// OpenSSL's error queue is left empty after every call.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "webconfig/web_config.h"

struct ssl_ctx_st;
struct ssl_st;

namespace http {

class TlsContext {
 public:
  // Reads the files and builds the context; nullptr and *error when the
  // configuration cannot be used (a missing file, a key that does not
  // match its certificate, an unknown cipher for OpenSSL...).
  static std::shared_ptr<TlsContext> create(const webconfig::Tls& settings, std::string* error);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // The context for a new connection. At most once a second the files are
  // looked at; *note gets a line to log when they changed (reloaded, or
  // refused and why).
  ssl_ctx_st* current(double now, std::string* note);
  const webconfig::Tls& settings() const { return settings_; }
  uint64_t reloads() const { return reloads_; }

 private:
  struct FileStamp {
    bool exists = false;
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_ns = 0, ctime_ns = 0;
    bool operator==(const FileStamp& o) const {
      return exists == o.exists && dev == o.dev && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns &&
             ctime_ns == o.ctime_ns;
    }
  };
  explicit TlsContext(const webconfig::Tls& s) : settings_(s) {}
  std::vector<FileStamp> stamps() const;

  webconfig::Tls settings_;
  ssl_ctx_st* ctx_ = nullptr;
  std::vector<FileStamp> stamps_;   // of the files ctx_ was built from
  std::vector<FileStamp> refused_;  // of a set that failed (not retried until it changes)
  double checked_at_ = -1;
  uint64_t reloads_ = 0;
};

// Builds an SSL_CTX from the settings (files read now). nullptr + *error.
ssl_ctx_st* build_ssl_ctx(const webconfig::Tls& settings, std::string* error);

class TlsSession {
 public:
  TlsSession(ssl_ctx_st* ctx, int fd);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  enum class Step { kDone, kAgain, kFailed };
  // Advances the handshake; kAgain: wait for wants_write() ? writable : readable.
  Step handshake(std::string* error);
  // As recv()/send(): bytes, 0 at the peer's close (read), or -1 with
  // errno EAGAIN (see wants_write()) or another error.
  ssize_t read(char* buf, size_t len);
  ssize_t write(const char* buf, size_t len);
  bool wants_write() const { return want_write_; }
  // Bytes OpenSSL has decrypted but not handed out (no poll will say so).
  bool pending() const;
  // Sends close_notify, without waiting for anything.
  void shutdown();
  // "" when the peer certificate has one of the subject alternative names
  // (DNS, e-mail, IP, URI), else why not.
  std::string check_sans(const std::vector<std::string>& allowed) const;
  // The negotiated protocol, e.g. "TLSv1.3".
  std::string version() const;

 private:
  ssl_st* ssl_ = nullptr;
  bool want_write_ = false;
};

}  // namespace http
