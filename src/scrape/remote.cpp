#include "scrape/remote.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace scrape {

namespace {

constexpr std::string_view kRequestMagic = "pg_exporter remote request 1\n";
constexpr std::string_view kResultMagic = "pg_exporter remote result 1\n";
// More than a scrape could make: the bytes are not ours.
constexpr size_t kMaxItems = 100000;

void put_string(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out.push_back(':');
  out.append(s);
  out.push_back('\n');
}

void put_number(std::string& out, long long v) {
  out += std::to_string(v);
  out.push_back('\n');
}

// Reads what put_* wrote; every read checks what is left.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : s_(bytes) {}
  bool number(long long* v, long long min, long long max) {
    size_t nl = s_.find('\n', at_);
    if (nl == std::string_view::npos || nl == at_ || nl - at_ > 20) return false;
    long long x = 0;
    auto [p, ec] = std::from_chars(s_.data() + at_, s_.data() + nl, x);
    if (ec != std::errc() || p != s_.data() + nl || x < min || x > max) return false;
    *v = x;
    at_ = nl + 1;
    return true;
  }
  bool string(std::string* out) {
    size_t colon = s_.find(':', at_);
    if (colon == std::string_view::npos || colon == at_ || colon - at_ > 20) return false;
    size_t len = 0;
    auto [p, ec] = std::from_chars(s_.data() + at_, s_.data() + colon, len);
    if (ec != std::errc() || p != s_.data() + colon) return false;
    if (len > s_.size() - colon - 1 || s_.size() - colon - 1 - len < 1 || s_[colon + 1 + len] != '\n')
      return false;
    out->assign(s_.substr(colon + 1, len));
    at_ = colon + 2 + len;
    return true;
  }
  bool expect(std::string_view magic) {
    if (s_.substr(at_, magic.size()) != magic) return false;
    at_ += magic.size();
    return true;
  }
  bool done() const { return at_ == s_.size(); }

 private:
  std::string_view s_;
  size_t at_ = 0;
};

}  // namespace

std::string encode(const RemoteRequest& r) {
  std::string out(kRequestMagic);
  put_number(out, r.budget_ms);
  put_number(out, r.statement_timeout_ms);
  put_number(out, r.superuser_owners_allowed ? 1 : 0);
  put_number(out, static_cast<long long>(r.taken.size()));
  for (const auto& name : r.taken) put_string(out, name);
  return out;
}

bool decode(std::string_view bytes, RemoteRequest* out, std::string* why) {
  Reader in(bytes);
  long long budget, timeout, allowed, n;
  if (!in.expect(kRequestMagic) || !in.number(&budget, 0, 24LL * 3600 * 1000) ||
      !in.number(&timeout, 0, 24LL * 3600 * 1000) || !in.number(&allowed, 0, 1) ||
      !in.number(&n, 0, static_cast<long long>(kMaxItems))) {
    *why = "malformed request";
    return false;
  }
  out->budget_ms = static_cast<int>(budget);
  out->statement_timeout_ms = static_cast<int>(timeout);
  out->superuser_owners_allowed = allowed != 0;
  out->taken.assign(static_cast<size_t>(n), std::string());
  for (auto& name : out->taken) {
    if (!in.string(&name)) {
      *why = "malformed request";
      return false;
    }
  }
  if (!in.done()) {
    *why = "malformed request";
    return false;
  }
  return true;
}

std::string encode(const RemoteResult& r) {
  std::string out(kResultMagic);
  put_string(out, r.error);
  put_number(out, static_cast<long long>(r.outcomes.size()));
  for (const Outcome& o : r.outcomes) {
    put_string(out, o.name);
    put_number(out, (o.ran ? 1 : 0) | (o.success ? 2 : 0) | (o.short_of_time ? 4 : 0));
    // Microseconds: the duration as the self-metrics show it.
    put_number(out, static_cast<long long>(o.duration * 1e6));
    put_string(out, o.error);
  }
  put_string(out, r.rendered);
  return out;
}

bool decode(std::string_view bytes, const collectors::Collector* collector, RemoteResult* out,
            std::string* why) {
  Reader in(bytes);
  long long n;
  *why = "malformed result";
  if (!in.expect(kResultMagic) || !in.string(&out->error) ||
      !in.number(&n, 0, static_cast<long long>(kMaxItems)))
    return false;
  out->outcomes.assign(static_cast<size_t>(n), Outcome());
  for (Outcome& o : out->outcomes) {
    long long flags, micros;
    if (!in.string(&o.name) || !in.number(&flags, 0, 7) ||
        !in.number(&micros, 0, 100LL * 24 * 3600 * 1000000) || !in.string(&o.error))
      return false;
    o.collector = collector;
    o.ran = (flags & 1) != 0;
    o.success = (flags & 2) != 0;
    o.short_of_time = (flags & 4) != 0;
    o.duration = static_cast<double>(micros) / 1e6;
  }
  if (!in.string(&out->rendered) || !in.done()) return false;
  why->clear();
  return true;
}

}  // namespace scrape
