// HTTP basic authentication against bcrypt hashes (the web config's
// basic_auth_users), as exporter-toolkit does it: a bcrypt check costs tens
// of milliseconds of the worker's only thread, so results are cached (a
// bounded cache keyed by a SHA-256 of user, password and hash), an unknown
// user costs the same as a known one (no user enumeration by timing), and
// checks that miss the cache are rationed so that a stream of wrong
// passwords cannot keep the event loop busy. Pure C++ (libxcrypt, libcrypto).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace http {

// "Basic <base64 of user:password>" (scheme case-insensitive). False when
// the header is absent, of another scheme or malformed.
bool parse_basic_authorization(std::string_view header, std::string* user, std::string* password);

// crypt_r() of `password` with the settings of `hash`, compared in constant
// time with `hash`. False for anything crypt_r refuses.
bool bcrypt_matches(std::string_view password, const std::string& hash);

class BasicAuth {
 public:
  // How many cache-missing bcrypt checks run per second at most (a burst of
  // as many), and how many results are kept.
  static constexpr double kChecksPerSecond = 4;
  static constexpr size_t kAllowedCacheSize = 32;
  static constexpr size_t kDeniedCacheSize = 128;

  explicit BasicAuth(std::vector<std::pair<std::string, std::string>> users) : users_(std::move(users)) {}

  enum class Verdict { kAllowed, kDenied, kBusy };
  // kBusy: the check would need bcrypt and the ration is used up; answer 503.
  Verdict check(std::string_view authorization_header, double now);

  uint64_t bcrypt_checks() const { return bcrypt_checks_; }
  uint64_t cache_hits() const { return cache_hits_; }

 private:
  using Key = std::array<unsigned char, 32>;
  struct Entry {
    Key key;
    double used;
  };
  static bool find(std::vector<Entry>& cache, const Key& key, double now);
  static void remember(std::vector<Entry>& cache, size_t cap, const Key& key, double now);

  std::vector<std::pair<std::string, std::string>> users_;
  std::vector<Entry> allowed_, denied_;
  double tokens_ = kChecksPerSecond;
  double tokens_at_ = -1;
  uint64_t bcrypt_checks_ = 0;
  uint64_t cache_hits_ = 0;
};

}  // namespace http
