// The exporter-toolkit web configuration file (postgres_exporter's
// --web.config.file), so that the file a deployment already has works
// unchanged: tls_server_config, http_server_config, basic_auth_users,
// rate_limit. Pure C++ over yaml-cpp, no PostgreSQL header.
//
// The file is untrusted input: its size is bounded before it is parsed, every
// yaml-cpp exception becomes an error message, and unknown or repeated keys
// are refused (as the toolkit's strict YAML decoding does), so that a typo
// never silently turns TLS or authentication off.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace webconfig {

constexpr size_t kMaxFileBytes = 1 << 20;

enum class ClientAuth { kNone, kRequest, kRequireAny, kVerifyIfGiven, kRequireAndVerify };

struct Tls {
  bool enabled = false;  // any TLS key given (the toolkit's IsEnabled)
  // File names are absolute: relative ones are taken from the config file's folder.
  std::string cert_file, key_file, client_ca_file;
  // Inline PEM (cert, key, client_ca) instead of files.
  std::string cert_pem, key_pem, client_ca_pem;
  ClientAuth client_auth = ClientAuth::kNone;
  int min_version = 0x0303;  // TLS 1.2, the toolkit's default
  int max_version = 0x0304;  // TLS 1.3
  std::string cipher_list;   // OpenSSL names of the TLS <= 1.2 suites; empty: OpenSSL's default
  std::string groups;        // OpenSSL group list from curve_preferences; empty: default
  bool prefer_server_cipher_suites = true;
  std::vector<std::string> client_allowed_sans;
};

struct RateLimit {
  double interval_seconds = 0;  // 0: off
  int burst = 0;
};

struct Config {
  Tls tls;
  bool http2 = true;  // accepted for compatibility: the endpoint speaks HTTP/1.1
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, std::string>> users;  // name, bcrypt hash
  RateLimit rate_limit;
};

// Parses the text of a web config file; `dir` is the folder relative file
// names are taken from. "" on success, else what is wrong (first problem).
std::string parse(std::string_view yaml, const std::string& dir, Config* out);

// Reads (bounded) and parses the file at `path`.
std::string load(const std::string& path, Config* out);

// Whether `hash` has the shape of a bcrypt hash ($2a$, $2b$, $2y$, cost 4..31).
bool looks_like_bcrypt(std::string_view hash);

// A Go duration ("1s", "250ms", "1m30s") in seconds; false when malformed.
bool parse_go_duration(std::string_view text, double* seconds);

}  // namespace webconfig
