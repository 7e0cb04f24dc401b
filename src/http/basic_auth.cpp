#include "http/basic_auth.h"

#include <crypt.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

namespace http {

namespace {

// bcrypt of "fakepassword", cost 10: what an unknown user is checked
// against, so that it costs what a known one does.
constexpr const char* kDecoyHash = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with padding (what RFC 7617 clients send); false when malformed.
bool b64_decode(std::string_view in, std::string* out) {
  out->clear();
  if (in.size() % 4 != 0) return false;
  for (size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; k++) {
      char c = in[i + k];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        pad++;
        continue;
      }
      if (pad > 0) return false;  // data after padding
      v[k] = b64_value(c);
      if (v[k] < 0) return false;
    }
    const unsigned n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out->push_back(static_cast<char>((n >> 16) & 0xFF));
    if (pad < 2) out->push_back(static_cast<char>((n >> 8) & 0xFF));
    if (pad < 1) out->push_back(static_cast<char>(n & 0xFF));
  }
  return true;
}

}  // namespace

bool parse_basic_authorization(std::string_view h, std::string* user, std::string* password) {
  while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
  if (h.size() < 6) return false;
  for (size_t i = 0; i < 5; i++) {
    char c = h[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != "basic"[i]) return false;
  }
  if (h[5] != ' ' && h[5] != '\t') return false;
  h.remove_prefix(6);
  while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
  while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
  std::string decoded;
  if (h.empty() || !b64_decode(h, &decoded)) return false;
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  *user = decoded.substr(0, colon);
  *password = decoded.substr(colon + 1);
  return true;
}

bool bcrypt_matches(std::string_view password, const std::string& hash) {
  // crypt_r's buffer is 32 KiB: not for the stack.
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  // bcrypt uses at most 72 bytes; crypt_r takes a C string (a NUL ends it).
  const std::string pw(password.substr(0, std::min<size_t>(password.size(), 256)));
  if (pw.find('\0') != std::string::npos) return false;
  const char* out = crypt_r(pw.c_str(), hash.c_str(), data.get());
  // libxcrypt returns "*0"/"*1" (never the hash) on failure.
  if (out == nullptr || out[0] != '$') return false;
  const size_t n = std::strlen(out);
  return n == hash.size() && CRYPTO_memcmp(out, hash.data(), n) == 0;
}

bool BasicAuth::find(std::vector<Entry>& cache, const Key& key, double now) {
  bool found = false;
  for (Entry& e : cache) {
    // Every entry compared, in constant time: nothing to learn from timing.
    if (CRYPTO_memcmp(e.key.data(), key.data(), key.size()) == 0) {
      e.used = now;
      found = true;
    }
  }
  return found;
}

void BasicAuth::remember(std::vector<Entry>& cache, size_t cap, const Key& key, double now) {
  if (cache.size() >= cap) {
    auto oldest = std::min_element(cache.begin(), cache.end(),
                                   [](const Entry& a, const Entry& b) { return a.used < b.used; });
    *oldest = Entry{key, now};
    return;
  }
  cache.push_back(Entry{key, now});
}

BasicAuth::Verdict BasicAuth::check(std::string_view header, double now) {
  std::string user, password;
  if (!parse_basic_authorization(header, &user, &password)) return Verdict::kDenied;
  const std::string* hash = nullptr;
  for (const auto& [name, h] : users_) {
    if (name == user) hash = &h;
  }
  const std::string decoy = kDecoyHash;
  const std::string& against = hash ? *hash : decoy;

  Key key{};
  {
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    unsigned int len = 0;
    const unsigned char zero = 0;
    bool ok = md != nullptr && EVP_DigestInit_ex(md, EVP_sha256(), nullptr) == 1 &&
              EVP_DigestUpdate(md, user.data(), user.size()) == 1 && EVP_DigestUpdate(md, &zero, 1) == 1 &&
              EVP_DigestUpdate(md, password.data(), password.size()) == 1 &&
              EVP_DigestUpdate(md, &zero, 1) == 1 &&
              EVP_DigestUpdate(md, against.data(), against.size()) == 1 &&
              EVP_DigestFinal_ex(md, key.data(), &len) == 1;
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    if (!ok) return Verdict::kBusy;
  }
  if (find(allowed_, key, now)) {
    cache_hits_++;
    return hash ? Verdict::kAllowed : Verdict::kDenied;
  }
  if (find(denied_, key, now)) {
    cache_hits_++;
    return Verdict::kDenied;
  }
  // Ration the expensive part: a token bucket.
  if (tokens_at_ < 0) tokens_at_ = now;
  tokens_ = std::min(kChecksPerSecond, tokens_ + (now - tokens_at_) * kChecksPerSecond);
  tokens_at_ = now;
  if (tokens_ < 1) return Verdict::kBusy;
  tokens_ -= 1;
  bcrypt_checks_++;
  const bool ok = bcrypt_matches(password, against) && hash != nullptr;
  if (ok) {
    remember(allowed_, kAllowedCacheSize, key, now);
    return Verdict::kAllowed;
  }
  remember(denied_, kDeniedCacheSize, key, now);
  return Verdict::kDenied;
}

}  // namespace http
