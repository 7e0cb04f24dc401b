#include "webconfig/web_config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <set>

#include "tls/certificate.h"

namespace webconfig {

namespace {

// Go's crypto/tls names (tls.CipherSuites(), the ones the toolkit accepts)
// and OpenSSL's. The TLS 1.3 suites are accepted and, as in Go, not
// configurable: they do not go into the TLS <= 1.2 cipher list.
struct CipherName {
  const char* go;
  const char* openssl;  // nullptr: a TLS 1.3 suite
};
constexpr CipherName kCiphers[] = {
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
    {"TLS_AES_128_GCM_SHA256", nullptr},
    {"TLS_AES_256_GCM_SHA384", nullptr},
    {"TLS_CHACHA20_POLY1305_SHA256", nullptr},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
};

struct CurveName {
  const char* go;
  const char* openssl;
};
constexpr CurveName kCurves[] = {
    {"CurveP256", "P-256"}, {"CurveP384", "P-384"}, {"CurveP521", "P-521"}, {"X25519", "X25519"}};

// Headers the toolkit lets a web config add, with their allowed values
// (empty: any value).
struct HeaderRule {
  const char* name;
  std::vector<const char*> values;
};
const std::vector<HeaderRule>& header_rules() {
  static const std::vector<HeaderRule> rules = {{"Strict-Transport-Security", {}},
                                                {"X-Content-Type-Options", {"nosniff"}},
                                                {"X-Frame-Options", {"deny", "sameorigin"}},
                                                {"X-XSS-Protection", {}},
                                                {"Content-Security-Policy", {}}};
  return rules;
}

// Errors carry the key path, like the toolkit's YAML decoder.
struct Problem {
  std::string what;
};

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "empty";
    default:
      return "\"" + n.Scalar() + "\"";
  }
}

std::string scalar(const YAML::Node& n, const std::string& key) {
  if (n.IsNull()) return "";
  if (!n.IsScalar()) throw Problem{key + ": expected a string, found " + describe(n)};
  return n.Scalar();
}

bool boolean(const YAML::Node& n, const std::string& key, bool dflt) {
  if (n.IsNull()) return dflt;
  const std::string s = scalar(n, key);
  // YAML 1.1 booleans, as Go's yaml.v2 reads them.
  static const std::set<std::string> yes = {"true", "True", "TRUE", "yes", "Yes", "YES",
                                            "on",   "On",   "ON",   "y",   "Y"};
  static const std::set<std::string> no = {"false", "False", "FALSE", "no", "No", "NO",
                                           "off",   "Off",   "OFF",   "n",  "N"};
  if (yes.count(s)) return true;
  if (no.count(s)) return false;
  throw Problem{key + ": expected true or false, found \"" + s + "\""};
}

std::vector<std::string> string_list(const YAML::Node& n, const std::string& key) {
  std::vector<std::string> out;
  if (n.IsNull()) return out;
  if (!n.IsSequence()) throw Problem{key + ": expected a list, found " + describe(n)};
  for (size_t i = 0; i < n.size(); i++) out.push_back(scalar(n[i], key + "[" + std::to_string(i) + "]"));
  return out;
}

// The entries of a map node, refusing repeated keys and keys that are not
// strings (yaml-cpp keeps both of a repeated key; Go's decoder refuses them).
std::vector<std::pair<std::string, YAML::Node>> entries(const YAML::Node& n, const std::string& key) {
  std::vector<std::pair<std::string, YAML::Node>> out;
  if (n.IsNull()) return out;
  if (!n.IsMap())
    throw Problem{(key.empty() ? std::string("the file") : key) + ": expected a map, found " + describe(n)};
  std::set<std::string> seen;
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!it->first.IsScalar()) throw Problem{key + ": a key is not a string"};
    const std::string name = it->first.Scalar();
    if (!seen.insert(name).second) throw Problem{(key.empty() ? "" : key + ".") + name + ": given twice"};
    out.emplace_back(name, it->second);
  }
  return out;
}

int tls_version(const std::string& s, const std::string& key) {
  if (s == "TLS10") return 0x0301;
  if (s == "TLS11") return 0x0302;
  if (s == "TLS12") return 0x0303;
  if (s == "TLS13") return 0x0304;
  throw Problem{key + ": unknown TLS version \"" + s + "\" (TLS10, TLS11, TLS12 or TLS13)"};
}

std::string join_dir(const std::string& dir, const std::string& file) {
  if (file.empty() || file[0] == '/' || dir.empty()) return file;
  return dir + "/" + file;
}

void parse_tls(const YAML::Node& node, const std::string& dir, Tls* t) {
  std::string ciphers;
  for (const auto& [k, v] : entries(node, "tls_server_config")) {
    const std::string key = "tls_server_config." + k;
    if (k == "cert_file") {
      t->cert_file = scalar(v, key);
    } else if (k == "key_file") {
      t->key_file = scalar(v, key);
    } else if (k == "client_ca_file") {
      t->client_ca_file = scalar(v, key);
    } else if (k == "cert") {
      t->cert_pem = scalar(v, key);
    } else if (k == "key") {
      t->key_pem = scalar(v, key);
    } else if (k == "client_ca") {
      t->client_ca_pem = scalar(v, key);
    } else if (k == "client_auth_type") {
      const std::string s = scalar(v, key);
      if (s.empty() || s == "NoClientCert") {
        t->client_auth = ClientAuth::kNone;
      } else if (s == "RequestClientCert") {
        t->client_auth = ClientAuth::kRequest;
      } else if (s == "RequireAnyClientCert" || s == "RequireClientCert") {
        t->client_auth = ClientAuth::kRequireAny;
      } else if (s == "VerifyClientCertIfGiven") {
        t->client_auth = ClientAuth::kVerifyIfGiven;
      } else if (s == "RequireAndVerifyClientCert") {
        t->client_auth = ClientAuth::kRequireAndVerify;
      } else {
        throw Problem{key + ": invalid client auth type \"" + s + "\""};
      }
      if (!s.empty()) t->enabled = true;
    } else if (k == "min_version") {
      t->min_version = tls_version(scalar(v, key), key);
    } else if (k == "max_version") {
      t->max_version = tls_version(scalar(v, key), key);
    } else if (k == "cipher_suites") {
      for (const std::string& name : string_list(v, key)) {
        const CipherName* found = nullptr;
        for (const CipherName& c : kCiphers) {
          if (name == c.go) found = &c;
        }
        if (found == nullptr) throw Problem{key + ": unknown cipher \"" + name + "\""};
        if (found->openssl == nullptr) continue;
        if (!ciphers.empty()) ciphers += ':';
        ciphers += found->openssl;
      }
    } else if (k == "curve_preferences") {
      for (const std::string& name : string_list(v, key)) {
        const CurveName* found = nullptr;
        for (const CurveName& c : kCurves) {
          if (name == c.go) found = &c;
        }
        if (found == nullptr) throw Problem{key + ": unknown curve \"" + name + "\""};
        if (!t->groups.empty()) t->groups += ':';
        t->groups += found->openssl;
      }
    } else if (k == "prefer_server_cipher_suites") {
      t->prefer_server_cipher_suites = boolean(v, key, true);
    } else if (k == "client_allowed_sans") {
      t->client_allowed_sans = string_list(v, key);
    } else {
      throw Problem{key + ": unknown setting"};
    }
  }
  t->cipher_list = ciphers;
  if (!t->cert_file.empty() || !t->key_file.empty() || !t->cert_pem.empty() || !t->key_pem.empty() ||
      !t->client_ca_file.empty() || !t->client_ca_pem.empty())
    t->enabled = true;
  if (!t->enabled) return;
  // The toolkit's checks, in its order.
  if (t->cert_file.empty() && t->cert_pem.empty())
    throw Problem{"tls_server_config: missing one of cert or cert_file"};
  if (t->key_file.empty() && t->key_pem.empty())
    throw Problem{"tls_server_config: missing one of key or key_file"};
  if (!t->cert_file.empty() && !t->cert_pem.empty())
    throw Problem{"tls_server_config: give cert or cert_file, not both"};
  if (!t->key_file.empty() && !t->key_pem.empty())
    throw Problem{"tls_server_config: give key or key_file, not both"};
  if ((!t->client_ca_file.empty() || !t->client_ca_pem.empty()) && t->client_auth == ClientAuth::kNone)
    throw Problem{"tls_server_config: client CA's have been configured without a Client Auth Policy"};
  if (!t->client_allowed_sans.empty() && t->client_auth != ClientAuth::kRequireAny &&
      t->client_auth != ClientAuth::kRequireAndVerify)
    throw Problem{
        "tls_server_config: client_allowed_sans requires client_auth_type to be one of RequireAnyClientCert "
        "or RequireAndVerifyClientCert"};
  if (t->min_version > t->max_version) throw Problem{"tls_server_config: min_version is above max_version"};
  t->cert_file = join_dir(dir, t->cert_file);
  t->key_file = join_dir(dir, t->key_file);
  t->client_ca_file = join_dir(dir, t->client_ca_file);
}

void parse_http(const YAML::Node& node, Config* c) {
  for (const auto& [k, v] : entries(node, "http_server_config")) {
    const std::string key = "http_server_config." + k;
    if (k == "http2") {
      c->http2 = boolean(v, key, true);
    } else if (k == "headers") {
      for (const auto& [name, value] : entries(v, key)) {
        const std::string text = scalar(value, key + "." + name);
        const HeaderRule* rule = nullptr;
        for (const HeaderRule& r : header_rules()) {
          if (name == r.name) rule = &r;
        }
        if (rule == nullptr) throw Problem{key + ": HTTP header \"" + name + "\" can not be configured"};
        bool ok = rule->values.empty();
        for (const char* allowed : rule->values) ok |= text == allowed;
        if (!ok) throw Problem{key + "." + name + ": invalid value \"" + text + "\""};
        for (char ch : text) {
          if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
            throw Problem{key + "." + name + ": control characters are not allowed in a header"};
        }
        if (!text.empty()) c->headers.emplace_back(name, text);  // blank: unset
      }
    } else {
      throw Problem{key + ": unknown setting"};
    }
  }
}

void parse_users(const YAML::Node& node, Config* c) {
  for (const auto& [name, hash] : entries(node, "basic_auth_users")) {
    const std::string h = scalar(hash, "basic_auth_users." + name);
    if (!looks_like_bcrypt(h))
      throw Problem{"basic_auth_users." + name + ": not a bcrypt hash (htpasswd -nBC 10 \"\" makes one)"};
    if (name.find(':') != std::string::npos)
      throw Problem{"basic_auth_users." + name + ": a user name cannot contain ':'"};
    c->users.emplace_back(name, h);
  }
}

void parse_rate_limit(const YAML::Node& node, Config* c) {
  for (const auto& [k, v] : entries(node, "rate_limit")) {
    const std::string key = "rate_limit." + k;
    if (k == "interval") {
      const std::string s = scalar(v, key);
      if (!s.empty() && !parse_go_duration(s, &c->rate_limit.interval_seconds))
        throw Problem{key + ": not a duration \"" + s + "\""};
    } else if (k == "burst") {
      const std::string s = scalar(v, key);
      char* end = nullptr;
      long n = std::strtol(s.c_str(), &end, 10);
      if (s.empty() || *end != '\0' || n < 0 || n > 1000000)
        throw Problem{key + ": not a count \"" + s + "\""};
      c->rate_limit.burst = static_cast<int>(n);
    } else {
      throw Problem{key + ": unknown setting"};
    }
  }
}

}  // namespace

bool looks_like_bcrypt(std::string_view h) {
  // $2?$NN$ + 22 characters of salt + 31 of hash, in bcrypt's base64 alphabet.
  if (h.size() != 60 || h[0] != '$' || h[1] != '2' || h[3] != '$' || h[6] != '$') return false;
  if (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') return false;
  if (h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9') return false;
  const int cost = (h[4] - '0') * 10 + (h[5] - '0');
  if (cost < 4 || cost > 31) return false;
  for (size_t i = 7; i < h.size(); i++) {
    char ch = h[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '/';
    if (!ok) return false;
  }
  return true;
}

bool parse_go_duration(std::string_view s, double* seconds) {
  if (s == "0") {
    *seconds = 0;
    return true;
  }
  double total = 0;
  size_t i = 0;
  if (s.empty()) return false;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) i++;
    if (i == start || i - start > 20) return false;
    const std::string number(s.substr(start, i - start));
    char* end = nullptr;
    const double v = std::strtod(number.c_str(), &end);
    if (*end != '\0' || !std::isfinite(v)) return false;
    size_t u = i;
    while (i < s.size() && !((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) i++;
    const std::string_view unit = s.substr(u, i - u);
    double scale;
    if (unit == "ns") {
      scale = 1e-9;
    } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {
      scale = 1e-6;
    } else if (unit == "ms") {
      scale = 1e-3;
    } else if (unit == "s") {
      scale = 1;
    } else if (unit == "m") {
      scale = 60;
    } else if (unit == "h") {
      scale = 3600;
    } else {
      return false;
    }
    total += v * scale;
  }
  if (!std::isfinite(total) || total > 1e9) return false;
  *seconds = total;
  return true;
}

std::string parse(std::string_view yaml, const std::string& dir, Config* out) {
  *out = Config{};
  if (yaml.size() > kMaxFileBytes)
    return "the file is larger than " + std::to_string(kMaxFileBytes) + " bytes";
  if (yaml.find('\0') != std::string_view::npos) return "the file contains a NUL byte";
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    for (const auto& [k, v] : entries(root, "")) {
      if (k == "tls_server_config") {
        parse_tls(v, dir, &out->tls);
      } else if (k == "http_server_config") {
        parse_http(v, out);
      } else if (k == "basic_auth_users") {
        parse_users(v, out);
      } else if (k == "rate_limit") {
        parse_rate_limit(v, out);
      } else {
        return k + ": unknown setting (tls_server_config, http_server_config, basic_auth_users, rate_limit)";
      }
    }
    return "";
  } catch (const Problem& p) {
    *out = Config{};
    return p.what;
  } catch (const YAML::Exception& e) {
    *out = Config{};
    return std::string("not valid YAML: ") + e.what();
  } catch (const std::exception& e) {
    *out = Config{};
    return std::string("could not be read: ") + e.what();
  }
}

std::string load(const std::string& path, Config* out) {
  std::string text, error;
  if (!tls::read_small_file(path, kMaxFileBytes, &text, &error)) return error;
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  return parse(text, dir, out);
}

}  // namespace webconfig
