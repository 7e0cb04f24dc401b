// Who may use the endpoint, besides TLS: the web config's basic_auth_users,
// headers and rate_limit, and two optional allow-lists (off by default): of
// Host header values (against DNS rebinding: a web page that renames itself
// to 127.0.0.1 still sends its own host name) and of peer networks. Pure C++.
#pragma once

#include <sys/socket.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/basic_auth.h"

namespace http {

struct Network {
  int family = 0;  // AF_INET or AF_INET6
  unsigned char addr[16] = {};
  int prefix = 0;
};

// Comma- or space-separated CIDRs or addresses ("127.0.0.1, 10.0.0.0/8,
// ::1, fd00::/8"). An IPv4 network matches IPv4-mapped IPv6 peers too.
bool parse_networks(std::string_view list, std::vector<Network>* out, std::string* error);
bool network_allows(const std::vector<Network>& nets, const sockaddr* peer);

// Comma- or space-separated host names or addresses, compared without
// case and without the port ("localhost, db1.example.com, [::1]").
bool parse_hosts(std::string_view list, std::vector<std::string>* out, std::string* error);
bool host_allowed(const std::vector<std::string>& hosts, std::string_view host_header);

struct Access {
  std::vector<std::pair<std::string, std::string>> headers;  // added to every response
  std::shared_ptr<BasicAuth> auth;                           // null: no authentication
  double rate_interval = 0;                                  // seconds per request; 0: no limit
  int rate_burst = 0;
  std::vector<std::string> hosts;  // empty: any Host
  std::vector<Network> networks;   // empty: any peer
};

}  // namespace http
