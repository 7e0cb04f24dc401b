// ASCII text helpers shared by the request parser, content negotiation and
// the access settings (HTTP tokens, header values and host lists are ASCII).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace http {

// `s` without spaces and horizontal tabs at either end.
std::string_view trim(std::string_view s);
// `s` with ASCII letters lowered (other bytes unchanged).
std::string lower(std::string_view s);
// The items of a list separated by commas, spaces or tabs (empty ones dropped).
std::vector<std::string> split_list(std::string_view s);

}  // namespace http
