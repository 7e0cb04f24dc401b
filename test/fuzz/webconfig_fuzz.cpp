// libFuzzer target: the web config file (YAML through yaml-cpp, then the
// toolkit's rules) and the request headers the endpoint interprets itself
// (Authorization, Accept, Accept-Encoding). Any input is an answer (an error
// message, a verdict), never a crash or an exception.
#include <cstddef>
#include <cstdint>
#include <string>

#include "http/basic_auth.h"
#include "http/negotiate.h"
#include "webconfig/web_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  webconfig::Config c;
  const std::string error = webconfig::parse(text, "/etc", &c);
  // A file that parses has what its rules promise.
  if (error.empty()) {
    for (const auto& [user, hash] : c.users) {
      if (!webconfig::looks_like_bcrypt(hash)) __builtin_trap();
    }
    if (c.tls.enabled && c.tls.cert_file.empty() && c.tls.cert_pem.empty()) __builtin_trap();
    if (c.tls.min_version > c.tls.max_version) __builtin_trap();
  }
  std::string user, password;
  if (http::parse_basic_authorization(text, &user, &password) && user.find(':') != std::string::npos)
    __builtin_trap();
  (void)http::accepts_gzip(text);
  (void)http::prefers_openmetrics(text);
  double seconds = 0;
  if (webconfig::parse_go_duration(text, &seconds) && !(seconds >= 0)) __builtin_trap();
  return 0;
}
