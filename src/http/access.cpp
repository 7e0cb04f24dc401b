#include "http/access.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "http/text.h"

namespace http {

namespace {

// The host part of a Host value: "[::1]:9187" -> "[::1]", "a.b:80" -> "a.b".
std::string host_part(std::string_view h) {
  if (!h.empty() && h.front() == '[') {
    size_t close = h.find(']');
    return lower(h.substr(0, close == std::string_view::npos ? h.size() : close + 1));
  }
  size_t colon = h.find(':');
  std::string_view host = h.substr(0, colon);
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);  // a fully qualified name
  return lower(host);
}

bool matches(const unsigned char* a, const unsigned char* b, int prefix) {
  int full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a, b, static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

bool parse_networks(std::string_view list, std::vector<Network>* out, std::string* error) {
  out->clear();
  if (list.size() > 4096) {
    *error = "the list is longer than 4096 characters";
    return false;
  }
  for (const std::string& item : split_list(list)) {
    Network n;
    std::string addr = item;
    int prefix = -1;
    size_t slash = item.find('/');
    if (slash != std::string::npos) {
      addr = item.substr(0, slash);
      std::string p = item.substr(slash + 1);
      if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string::npos) {
        *error = "\"" + item + "\": the prefix length is not a number";
        return false;
      }
      prefix = std::stoi(p);
    }
    if (inet_pton(AF_INET, addr.c_str(), n.addr) == 1) {
      n.family = AF_INET;
      if (prefix < 0) prefix = 32;
      if (prefix > 32) {
        *error = "\"" + item + "\": an IPv4 prefix is at most 32";
        return false;
      }
    } else if (inet_pton(AF_INET6, addr.c_str(), n.addr) == 1) {
      n.family = AF_INET6;
      if (prefix < 0) prefix = 128;
      if (prefix > 128) {
        *error = "\"" + item + "\": an IPv6 prefix is at most 128";
        return false;
      }
    } else {
      *error = "\"" + item + "\" is not an IP address or network (such as 10.0.0.0/8 or fd00::/8)";
      return false;
    }
    n.prefix = prefix;
    out->push_back(n);
  }
  return true;
}

bool network_allows(const std::vector<Network>& nets, const sockaddr* peer) {
  if (nets.empty()) return true;
  if (peer == nullptr) return false;
  unsigned char v4[4];
  bool have_v4 = false;
  const unsigned char* v6 = nullptr;
  if (peer->sa_family == AF_INET) {
    std::memcpy(v4, &reinterpret_cast<const sockaddr_in*>(peer)->sin_addr, 4);
    have_v4 = true;
  } else if (peer->sa_family == AF_INET6) {
    v6 = reinterpret_cast<const sockaddr_in6*>(peer)->sin6_addr.s6_addr;
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (std::memcmp(v6, kMapped, 12) == 0) {
      std::memcpy(v4, v6 + 12, 4);
      have_v4 = true;
    }
  }
  for (const Network& n : nets) {
    if (n.family == AF_INET && have_v4 && matches(v4, n.addr, n.prefix)) return true;
    if (n.family == AF_INET6 && v6 != nullptr && matches(v6, n.addr, n.prefix)) return true;
  }
  return false;
}

bool parse_hosts(std::string_view list, std::vector<std::string>* out, std::string* error) {
  out->clear();
  if (list.size() > 4096) {
    *error = "the list is longer than 4096 characters";
    return false;
  }
  for (const std::string& item : split_list(list)) {
    for (char c : item) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                c == '-' || c == '_' || c == ':' || c == '[' || c == ']';
      if (!ok) {
        *error = "\"" + item + "\": only host names and addresses are allowed";
        return false;
      }
    }
    // An IPv6 address without brackets is how it appears in Host with them.
    struct in6_addr a6;
    if (item.front() != '[' && inet_pton(AF_INET6, item.c_str(), &a6) == 1) {
      out->push_back("[" + lower(item) + "]");
    } else {
      out->push_back(host_part(item));
    }
  }
  return true;
}

bool host_allowed(const std::vector<std::string>& hosts, std::string_view host_header) {
  if (hosts.empty()) return true;
  const std::string h = host_part(host_header);
  if (h.empty()) return false;
  for (const std::string& allowed : hosts) {
    if (allowed == h) return true;
  }
  return false;
}

}  // namespace http
