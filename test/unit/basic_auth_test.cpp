// Basic authentication: the header's parsing (hostile ones included), bcrypt
// through libxcrypt ($2a$, $2b$, $2y$), the cache and the ration of bcrypt
// checks that keeps wrong passwords from occupying the event loop.
#include <crypt.h>

#include <string>

#include "http/basic_auth.h"
#include "unit.h"

namespace {

// bcrypt of "fakepassword" at cost 10, made by Go's bcrypt (exporter-toolkit's decoy).
const char* kGoHash = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

std::string b64(const std::string& s) {
  static const char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    unsigned n = (static_cast<unsigned char>(s[i]) << 16) | (static_cast<unsigned char>(s[i + 1]) << 8) |
                 static_cast<unsigned char>(s[i + 2]);
    out += {k[n >> 18], k[(n >> 12) & 63], k[(n >> 6) & 63], k[n & 63]};
  }
  if (i + 1 == s.size()) {
    unsigned n = static_cast<unsigned char>(s[i]) << 16;
    out += {k[n >> 18], k[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == s.size()) {
    unsigned n = (static_cast<unsigned char>(s[i]) << 16) | (static_cast<unsigned char>(s[i + 1]) << 8);
    out += {k[n >> 18], k[(n >> 12) & 63], k[(n >> 6) & 63], '='};
  }
  return out;
}

// A fresh bcrypt hash of `password` at cost 4 with the given prefix.
std::string make_hash(const std::string& password, const char* prefix) {
  char salt[64];
  if (crypt_gensalt_rn(prefix, 4, nullptr, 0, salt, sizeof salt) == nullptr) return "";
  crypt_data data{};
  const char* h = crypt_r(password.c_str(), salt, &data);
  return h ? h : "";
}

}  // namespace

TEST(basic_auth_header_parsing) {
  std::string u, p;
  CHECK(http::parse_basic_authorization("Basic " + b64("alice:s3cret"), &u, &p));
  CHECK_EQ(u, "alice");
  CHECK_EQ(p, "s3cret");
  CHECK(http::parse_basic_authorization("basic   " + b64("a:b:c") + "  ", &u, &p));
  CHECK_EQ(p, "b:c");  // the first colon splits
  CHECK(http::parse_basic_authorization("BASIC " + b64(":"), &u, &p));
  CHECK_EQ(u, "");
  CHECK(http::parse_basic_authorization("Basic " + b64("ab:"), &u, &p));  // one = of padding
  CHECK_EQ(u, "ab");
  CHECK(!http::parse_basic_authorization("", &u, &p));
  CHECK(!http::parse_basic_authorization("Bearer abc", &u, &p));
  CHECK(!http::parse_basic_authorization("Basic", &u, &p));
  CHECK(!http::parse_basic_authorization("Basic ", &u, &p));
  CHECK(!http::parse_basic_authorization("Basicx " + b64("a:b"), &u, &p));
  CHECK(!http::parse_basic_authorization("Basic " + b64("nocolon"), &u, &p));
  CHECK(!http::parse_basic_authorization("Basic YWJj", &u, &p));  // "abc": no colon
  CHECK(!http::parse_basic_authorization("Basic YW=j", &u, &p));  // padding inside
  CHECK(!http::parse_basic_authorization("Basic YWJ", &u, &p));   // not a multiple of 4
  CHECK(!http::parse_basic_authorization("Basic YW*j", &u, &p));  // not base64
  CHECK(!http::parse_basic_authorization("Basic ====", &u, &p));
  CHECK(!http::parse_basic_authorization(std::string("Basic YQ==\0", 11), &u, &p));
  // Huge and binary headers: an answer, not a crash (the head limit bounds them in the server).
  CHECK(!http::parse_basic_authorization("Basic " + std::string(1 << 20, 'A'), &u, &p));
  std::string bin;
  for (int i = 0; i < 256; i++) bin.push_back(static_cast<char>(i));
  CHECK(!http::parse_basic_authorization("Basic " + bin, &u, &p));
  CHECK(http::parse_basic_authorization("Basic " + b64(bin + ":" + bin), &u, &p));
  CHECK_EQ(u.size(), 58u);  // up to the first ':' (0x3A)
}

TEST(basic_auth_bcrypt_variants_through_libxcrypt) {
  CHECK(http::bcrypt_matches("fakepassword", kGoHash));
  CHECK(!http::bcrypt_matches("fakepasswore", kGoHash));
  CHECK(!http::bcrypt_matches("", kGoHash));
  for (const char* prefix : {"$2b$", "$2y$", "$2a$"}) {
    const std::string h = make_hash("pässwörd", prefix);
    CHECK_EQ(h.substr(0, 4), prefix);
    CHECK(http::bcrypt_matches("pässwörd", h));
    CHECK(!http::bcrypt_matches("passwörd", h));
  }
  // Not bcrypt, or malformed: false, never a crash.
  CHECK(!http::bcrypt_matches("x", "plaintext"));
  CHECK(!http::bcrypt_matches("x", ""));
  CHECK(!http::bcrypt_matches("x", "$2y$99$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"));
  CHECK(!http::bcrypt_matches(std::string("fake\0password", 13), kGoHash));
}

TEST(basic_auth_cache_and_unknown_users) {
  const std::string h = make_hash("right", "$2b$");
  http::BasicAuth auth({{"prom", h}});
  const std::string good = "Basic " + b64("prom:right");
  double now = 100;
  CHECK(auth.check(good, now) == http::BasicAuth::Verdict::kAllowed);
  CHECK_EQ(auth.bcrypt_checks(), 1u);
  for (int i = 0; i < 20; i++) CHECK(auth.check(good, now += 0.01) == http::BasicAuth::Verdict::kAllowed);
  CHECK_EQ(auth.bcrypt_checks(), 1u);  // cached
  CHECK(auth.check("Basic " + b64("prom:wrong"), now += 1) == http::BasicAuth::Verdict::kDenied);
  CHECK(auth.check("Basic " + b64("prom:wrong"), now += 0.01) == http::BasicAuth::Verdict::kDenied);
  CHECK_EQ(auth.bcrypt_checks(), 2u);  // the wrong one is cached too
  // An unknown user costs a bcrypt check like a known one, and is denied
  // even with the decoy's own password.
  CHECK(auth.check("Basic " + b64("eve:fakepassword"), now += 1) == http::BasicAuth::Verdict::kDenied);
  CHECK_EQ(auth.bcrypt_checks(), 3u);
  CHECK(auth.check("Basic " + b64("eve:fakepassword"), now += 1) == http::BasicAuth::Verdict::kDenied);
  CHECK(auth.check("", now) == http::BasicAuth::Verdict::kDenied);
  CHECK(auth.check("Basic !!!!", now) == http::BasicAuth::Verdict::kDenied);
  // Another user's hash does not let a password through.
  http::BasicAuth two({{"a", make_hash("pa", "$2b$")}, {"b", make_hash("pb", "$2b$")}});
  CHECK(two.check("Basic " + b64("a:pb"), 0) == http::BasicAuth::Verdict::kDenied);
  CHECK(two.check("Basic " + b64("b:pb"), 0) == http::BasicAuth::Verdict::kAllowed);
}

TEST(basic_auth_rations_bcrypt_and_keeps_known_good) {
  const std::string h = make_hash("right", "$2b$");
  http::BasicAuth auth({{"prom", h}});
  const std::string good = "Basic " + b64("prom:right");
  CHECK(auth.check(good, 0) == http::BasicAuth::Verdict::kAllowed);
  // A stream of new wrong passwords at one instant: the ration runs out.
  int busy = 0, denied = 0;
  for (int i = 0; i < 40; i++) {
    auto v = auth.check("Basic " + b64("prom:guess" + std::to_string(i)), 0.5);
    busy += v == http::BasicAuth::Verdict::kBusy;
    denied += v == http::BasicAuth::Verdict::kDenied;
  }
  CHECK(denied <= static_cast<int>(http::BasicAuth::kChecksPerSecond));
  CHECK(busy >= 40 - static_cast<int>(http::BasicAuth::kChecksPerSecond));
  CHECK(auth.bcrypt_checks() <= 1 + static_cast<uint64_t>(http::BasicAuth::kChecksPerSecond));
  // The known good credentials still pass at once, from the cache.
  CHECK(auth.check(good, 0.5) == http::BasicAuth::Verdict::kAllowed);
  // And the ration refills with time.
  CHECK(auth.check("Basic " + b64("prom:later"), 5) == http::BasicAuth::Verdict::kDenied);
  // Many wrong passwords never push the good one out of the cache.
  for (int i = 0; i < 400; i++) auth.check("Basic " + b64("prom:x" + std::to_string(i)), 10 + i);
  const uint64_t before = auth.bcrypt_checks();
  CHECK(auth.check(good, 1000) == http::BasicAuth::Verdict::kAllowed);
  CHECK_EQ(auth.bcrypt_checks(), before);
}
