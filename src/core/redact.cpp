#include "core/redact.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <mutex>
#include <regex>
#include <set>

#include "core/strings.h"

namespace extdata {

namespace {

constexpr std::array<std::string_view, 12> kSensitiveKeys = {
    "client_secret", "client_assertion", "password", "passwd", "access_token", "refresh_token",
    "id_token",      "api_key",          "apikey",   "secret", "token",        "assertion"};

std::mutex& secrets_mutex() {
  static std::mutex mu;
  return mu;
}
std::set<std::string, std::greater<>>& secrets() {
  // Longest first, so a secret that contains another is replaced whole.
  static std::set<std::string, std::greater<>> values;
  return values;
}

}  // namespace

bool is_sensitive_header(std::string_view name) {
  const std::string n = lower(name);
  return n == "authorization" || n == "proxy-authorization" || n == "cookie" || n == "set-cookie" ||
         n == "x-api-key" || n == "api-key" || n == "ocp-apim-subscription-key" ||
         n.find("token") != std::string::npos || n.find("secret") != std::string::npos;
}

bool is_sensitive_key(std::string_view key) {
  const std::string k = lower(key);
  for (auto s : kSensitiveKeys)
    if (k == s) return true;
  return k.find("secret") != std::string::npos || k.find("password") != std::string::npos ||
         k.ends_with("_token") || k.ends_with("_key") || k == "key" || k == "sig";
}

void register_secret(std::string_view value) {
  if (value.size() < 4) return;
  std::lock_guard lock(secrets_mutex());
  secrets().emplace(value);
}

std::string redact(std::string_view text) {
  std::string out(text);
  {
    std::lock_guard lock(secrets_mutex());
    for (const auto& s : secrets()) {
      for (size_t pos = out.find(s); pos != std::string::npos; pos = out.find(s, pos)) {
        out.replace(pos, s.size(), kRedacted);
        pos += kRedacted.size();
      }
    }
  }
  static const std::regex bearer(R"re(((?:Bearer|Basic|NTLM|Negotiate)\s+)[A-Za-z0-9\-._~+/=]+)re",
                                 std::regex::icase);
  static const std::regex jwt(R"re(eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*)re");
  static const std::regex kv_form(
      R"re(((?:^|[?&;\s])(?:client_secret|client_assertion|password|passwd|access_token|refresh_token|id_token|api_key|apikey|secret|token|assertion|key|sig)=)[^&\s"';]*)re",
      std::regex::icase);
  static const std::regex kv_json(
      R"re(("(?:client_secret|client_assertion|password|passwd|access_token|refresh_token|id_token|api_key|apikey|secret|token|assertion)"\s*:\s*")(?:[^"\\]|\\.)*")re",
      std::regex::icase);
  static const std::regex header_line(
      R"re(((?:^|\n)\s*(?:authorization|proxy-authorization|cookie|x-api-key|api-key)\s*:\s*)[^\r\n]*)re",
      std::regex::icase);
  static const std::regex url_userinfo(R"re((://[^/\s:@]+:)[^@\s/]+@)re");
  out = std::regex_replace(out, header_line, "$1[REDACTED]");
  out = std::regex_replace(out, bearer, "$1[REDACTED]");
  out = std::regex_replace(out, jwt, "[REDACTED]");
  out = std::regex_replace(out, kv_form, "$1[REDACTED]");
  out = std::regex_replace(out, kv_json, "$1[REDACTED]\"");
  out = std::regex_replace(out, url_userinfo, "$1[REDACTED]@");
  return out;
}

}  // namespace extdata
