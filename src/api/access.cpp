#include "api/access.h"

#include <cctype>

#include "auth/oauth2/base64url.h"

namespace extdata::api {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool url_ends_at(char c) {
  return std::isspace(static_cast<unsigned char>(c)) || c == '\'' || c == '"' || c == '<' ||
         c == '>' || c == ')';
}

// "GET https://intranet:8443/x?y returned 500" → "GET [upstream URL] returned 500".
std::string without_urls(const std::string& text) {
  std::string out;
  size_t i = 0;
  for (size_t at = text.find("://"); at != std::string::npos; at = text.find("://", i)) {
    size_t begin = at;
    while (begin > i && std::isalpha(static_cast<unsigned char>(text[begin - 1]))) --begin;
    if (begin == at) {  // "://" without a scheme: not a URL
      out.append(text, i, at + 3 - i);
      i = at + 3;
      continue;
    }
    size_t end = at + 3;
    while (end < text.size() && !url_ends_at(text[end])) ++end;
    out.append(text, i, begin - i);
    out += "[upstream URL]";
    i = end;
  }
  out.append(text, i, std::string::npos);
  return out;
}

}  // namespace

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view scheme = "bearer";
  if (authorization.size() <= scheme.size() ||
      !iequals(authorization.substr(0, scheme.size()), scheme) ||
      authorization[scheme.size()] != ' ')
    return std::nullopt;
  std::string_view token = authorization.substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

std::optional<std::string> api_token(std::string_view authorization) {
  if (auto token = bearer_token(authorization)) return std::string(*token);
  constexpr std::string_view scheme = "basic";
  if (authorization.size() <= scheme.size() ||
      !iequals(authorization.substr(0, scheme.size()), scheme) ||
      authorization[scheme.size()] != ' ')
    return std::nullopt;
  std::string_view encoded = authorization.substr(scheme.size());
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  auto decoded = auth::base64_decode(encoded);
  if (!decoded) return std::nullopt;
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos || colon + 1 == decoded->size()) return std::nullopt;
  return decoded->substr(colon + 1);
}

Error visible_error(const Error& error, ErrorAudience audience) {
  if (audience == ErrorAudience::admin) return error;
  Error trimmed(error.code, without_urls(error.message), without_urls(error.hint));
  trimmed.explicit_category = error.explicit_category;  // the status stays the same
  // When to retry (the Retry-After header) is not an upstream detail.
  if (const auto it = error.details.find("retry_after");
      it != error.details.end() && error.category() == ErrorCategory::rate_limited)
    trimmed.with("retry_after", it->second);
  return trimmed;
}

}  // namespace extdata::api
