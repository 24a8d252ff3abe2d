#include "http/http_client.h"

#include <strings.h>

namespace extdata::http {

std::optional<std::string> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  return std::nullopt;
}

void set_header(Headers& headers, std::string name, std::string value) {
  for (auto it = headers.begin(); it != headers.end();) {
    if (it->first.size() == name.size() &&
        strncasecmp(it->first.data(), name.data(), name.size()) == 0)
      it = headers.erase(it);
    else
      ++it;
  }
  headers.emplace_back(std::move(name), std::move(value));
}

}  // namespace extdata::http
