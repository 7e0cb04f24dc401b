// The web config file: what postgres_exporter's file may hold, what the
// toolkit refuses, and hostile YAML (never a crash, always a message).
#include <string>

#include "unit.h"
#include "webconfig/web_config.h"

namespace {

const char* kHash = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

std::string parse(const std::string& yaml, webconfig::Config* c = nullptr) {
  webconfig::Config local;
  return webconfig::parse(yaml, "/etc/pg", c ? c : &local);
}

bool refused_with(const std::string& yaml, const std::string& part) {
  const std::string e = parse(yaml);
  if (e.find(part) == std::string::npos) {
    std::cerr << "  got: \"" << e << "\" for: " << yaml.substr(0, 80) << "\n";
    return false;
  }
  return true;
}

}  // namespace

TEST(webconfig_full_file) {
  webconfig::Config c;
  const std::string yaml =
      std::string(
          "tls_server_config:\n"
          "  cert_file: server.crt\n"
          "  key_file: /abs/server.key\n"
          "  client_auth_type: RequireAndVerifyClientCert\n"
          "  client_ca_file: ca/ca.crt\n"
          "  min_version: TLS13\n"
          "  max_version: TLS13\n"
          "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]\n"
          "  curve_preferences: [X25519, CurveP256]\n"
          "  prefer_server_cipher_suites: false\n"
          "  client_allowed_sans: [prom.example.com]\n"
          "http_server_config:\n"
          "  http2: false\n"
          "  headers:\n"
          "    X-Frame-Options: deny\n"
          "    Strict-Transport-Security: max-age=31536000\n"
          "    X-XSS-Protection: ''\n"
          "rate_limit:\n"
          "  interval: 1m30s\n"
          "  burst: 5\n"
          "basic_auth_users:\n"
          "  alice: ") +
      kHash + "\n  bob: '" + kHash + "'\n";
  CHECK_EQ(parse(yaml, &c), "");
  CHECK(c.tls.enabled);
  CHECK_EQ(c.tls.cert_file, "/etc/pg/server.crt");
  CHECK_EQ(c.tls.key_file, "/abs/server.key");
  CHECK_EQ(c.tls.client_ca_file, "/etc/pg/ca/ca.crt");
  CHECK(c.tls.client_auth == webconfig::ClientAuth::kRequireAndVerify);
  CHECK_EQ(c.tls.min_version, 0x0304);
  CHECK_EQ(c.tls.cipher_list, "ECDHE-RSA-AES128-GCM-SHA256");
  CHECK_EQ(c.tls.groups, "X25519:P-256");
  CHECK(!c.tls.prefer_server_cipher_suites);
  CHECK_EQ(c.tls.client_allowed_sans.size(), 1u);
  CHECK(!c.http2);
  CHECK_EQ(c.headers.size(), 2u);  // the blank one is unset
  CHECK_EQ(c.headers[0].first, "X-Frame-Options");
  CHECK_EQ(c.users.size(), 2u);
  CHECK_EQ(c.users[1].second, kHash);
  CHECK_EQ(c.rate_limit.interval_seconds, 90.0);
  CHECK_EQ(c.rate_limit.burst, 5);
}

TEST(webconfig_defaults_and_plain_http) {
  webconfig::Config c;
  CHECK_EQ(parse("", &c), "");
  CHECK(!c.tls.enabled);
  CHECK(c.users.empty());
  // Only users: plain HTTP with authentication (the toolkit's behaviour).
  CHECK_EQ(parse(std::string("basic_auth_users:\n  u: ") + kHash + "\n", &c), "");
  CHECK(!c.tls.enabled);
  CHECK_EQ(c.users.size(), 1u);
  CHECK_EQ(parse("tls_server_config:\n  cert_file: a\n  key_file: b\n", &c), "");
  CHECK(c.tls.client_auth == webconfig::ClientAuth::kNone);
  CHECK_EQ(c.tls.min_version, 0x0303);
  CHECK_EQ(c.tls.max_version, 0x0304);
  CHECK(c.tls.prefer_server_cipher_suites);
  CHECK_EQ(
      parse("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireClientCert\n", &c),
      "");
  CHECK(c.tls.client_auth == webconfig::ClientAuth::kRequireAny);
}

TEST(webconfig_refuses_what_the_toolkit_refuses) {
  CHECK(refused_with("tls_server_config:\n  key_file: b\n", "missing one of cert or cert_file"));
  CHECK(refused_with("tls_server_config:\n  cert_file: a\n", "missing one of key or key_file"));
  CHECK(refused_with("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n",
                     "without a Client Auth Policy"));
  CHECK(refused_with("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Sometimes\n",
                     "invalid client auth type"));
  CHECK(refused_with("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS14\n",
                     "unknown TLS version"));
  CHECK(refused_with(
      "tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n  max_version: TLS12\n",
      "min_version is above max_version"));
  CHECK(refused_with(
      "tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n",
      "unknown cipher"));
  CHECK(refused_with("tls_server_config:\n  cert_file: a\n  key_file: b\n  curve_preferences: [CurveP999]\n",
                     "unknown curve"));
  CHECK(refused_with("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_allowed_sans: [x]\n",
                     "client_allowed_sans requires"));
  CHECK(refused_with("http_server_config:\n  headers:\n    Set-Cookie: a\n", "can not be configured"));
  CHECK(refused_with("http_server_config:\n  headers:\n    X-Frame-Options: allow\n", "invalid value"));
  CHECK(refused_with("basic_auth_users:\n  u: plaintext\n", "not a bcrypt hash"));
  CHECK(refused_with("basic_auth_users:\n  u: $2y$10$short\n", "not a bcrypt hash"));
  CHECK(refused_with("rate_limit:\n  interval: soon\n", "not a duration"));
}

TEST(webconfig_refuses_typos_and_repeats) {
  // A typo must not silently turn TLS or authentication off.
  CHECK(refused_with("tls_server_cofig:\n  cert_file: a\n", "tls_server_cofig: unknown setting"));
  CHECK(refused_with("tls_server_config:\n  certfile: a\n", "tls_server_config.certfile: unknown setting"));
  CHECK(refused_with("http_server_config:\n  header: {}\n", "unknown setting"));
  CHECK(refused_with(std::string("basic_auth_users:\n  u: ") + kHash + "\n  u: " + kHash + "\n",
                     "given twice"));
  CHECK(refused_with("tls_server_config:\n  cert_file: a\n  cert_file: b\n  key_file: c\n", "given twice"));
  CHECK(refused_with("- a\n- b\n", "expected a map"));
  CHECK(refused_with("tls_server_config: [a]\n", "expected a map"));
  CHECK(refused_with("tls_server_config:\n  cert_file: [a]\n  key_file: b\n", "expected a string"));
  CHECK(refused_with("http_server_config:\n  http2: maybe\n", "expected true or false"));
}

TEST(webconfig_hostile_yaml_is_an_error_not_a_crash) {
  CHECK(refused_with("tls_server_config: {cert_file: \"a\n", "not valid YAML"));
  CHECK(refused_with("\t- : : :\n  ]]]", "not valid YAML"));
  CHECK(refused_with(std::string("a\0b", 3), "NUL"));
  CHECK(refused_with(std::string(webconfig::kMaxFileBytes + 1, '#'), "larger than"));
  // Deep nesting: yaml-cpp's depth guard, not the stack.
  CHECK(!parse(std::string(100000, '[') + std::string(100000, ']')).empty());
  CHECK(!parse(std::string(50000, '{') + std::string(50000, '}')).empty());
  std::string indented;
  for (int i = 0; i < 3000; i++) indented += std::string(static_cast<size_t>(i), ' ') + "k:\n";
  CHECK(!parse(indented).empty());
  // Aliases that would expand exponentially: never expanded, and the shape is wrong anyway.
  std::string laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'z'; c++) {
    laughs += std::string(1, c) + ": &" + c + " [";
    for (int k = 0; k < 10; k++) laughs += std::string(k ? ", *" : "*") + static_cast<char>(c - 1);
    laughs += "]\n";
  }
  CHECK(refused_with(laughs, "unknown setting"));
  CHECK(refused_with("basic_auth_users: &u\n  x: *u\n", "expected a string"));
  CHECK(refused_with("basic_auth_users:\n  ? [a, b]\n  : c\n", "not a string"));
  // Random bytes never throw out of parse().
  unsigned seed = 7;
  for (int round = 0; round < 300; round++) {
    std::string junk;
    for (int i = 0; i < 200; i++) {
      seed = seed * 1103515245 + 12345;
      static const char kAlphabet[] = "{}[]:,-?&*!|>'\"%@`#\n \tabc12";
      junk.push_back(kAlphabet[(seed >> 16) % (sizeof kAlphabet - 1)]);
    }
    webconfig::Config c;
    (void)webconfig::parse(junk, ".", &c);
  }
}

TEST(webconfig_load_reads_relative_to_the_file) {
  webconfig::Config c;
  CHECK(webconfig::load("/nonexistent/web.yml", &c).find("could not open") != std::string::npos);
  CHECK(webconfig::load("/", &c).find("not a regular file") != std::string::npos);
  const std::string path = std::string(unit::temp_dir()) + "/web.yml";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n", f);
  std::fclose(f);
  CHECK_EQ(webconfig::load(path, &c), "");
  CHECK_EQ(c.tls.cert_file, std::string(unit::temp_dir()) + "/s.crt");
  std::remove(path.c_str());
}

TEST(webconfig_bcrypt_shape_and_durations) {
  CHECK(webconfig::looks_like_bcrypt(kHash));
  CHECK(webconfig::looks_like_bcrypt("$2b$04$abcdefghijklmnopqrstuuSFOZ3KMEJfUmXv/3pU.vJKn7GaBNVAy"));
  CHECK(!webconfig::looks_like_bcrypt("$2x$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"));
  CHECK(!webconfig::looks_like_bcrypt("$2y$03$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"));
  CHECK(!webconfig::looks_like_bcrypt("$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeS!"));
  CHECK(!webconfig::looks_like_bcrypt("$1$abc$def"));
  double s = -1;
  CHECK(webconfig::parse_go_duration("250ms", &s) && s == 0.25);
  CHECK(webconfig::parse_go_duration("1h2m3s", &s) && s == 3723);
  CHECK(webconfig::parse_go_duration("0", &s) && s == 0);
  CHECK(webconfig::parse_go_duration("1.5s", &s) && s == 1.5);
  CHECK(!webconfig::parse_go_duration("", &s));
  CHECK(!webconfig::parse_go_duration("5", &s));
  CHECK(!webconfig::parse_go_duration("5d", &s));
  CHECK(!webconfig::parse_go_duration("s", &s));
}
