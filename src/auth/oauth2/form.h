#pragma once
// application/x-www-form-urlencoded encoding (WHATWG URL §5.2) for token requests and
// query-string API keys.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace extdata::auth {

// Percent-encodes everything but ALPHA / DIGIT / "-" / "." / "_" / "~"; a space becomes
// "%20" unless `space_as_plus`.
inline std::string url_encode(std::string_view in, bool space_as_plus = false) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size() * 3 / 2);
  for (unsigned char c : in) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ' && space_as_plus) {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

inline std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += url_encode(k, true);
    out += '=';
    out += url_encode(v, true);
  }
  return out;
}

}  // namespace extdata::auth
