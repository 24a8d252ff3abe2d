#include "core/redact.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <mutex>
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

// The scrubbers below are hand-written single passes (no std::regex: its recursive matcher
// overflowed the stack on long runs of token characters, and redact() sees upstream text).

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool istarts_with(std::string_view text, size_t at, std::string_view word) {
  if (text.size() - at < word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[at + i])) != word[i]) return false;
  return true;
}

// Copies text up to `begin`, writes the marker instead of [begin, end); returns `end`.
size_t replace_span(std::string& out, std::string_view text, size_t& copied, size_t begin,
                    size_t end) {
  out.append(text.substr(copied, begin - copied));
  out.append(kRedacted);
  copied = end;
  return end;
}

// "Authorization: anything" (and other credential headers) up to the end of the line.
std::string redact_header_lines(std::string_view text) {
  static constexpr std::array<std::string_view, 5> names = {"authorization", "proxy-authorization",
                                                            "cookie", "x-api-key", "api-key"};
  std::string out;
  size_t copied = 0;
  for (size_t line = 0; line < text.size();) {
    size_t eol = text.find('\n', line);
    if (eol == std::string_view::npos) eol = text.size();
    size_t at = line;
    while (at < eol && is_space(text[at])) ++at;
    for (auto name : names) {
      if (!istarts_with(text, at, name)) continue;
      size_t colon = at + name.size();
      while (colon < eol && is_space(text[colon])) ++colon;
      if (colon >= eol || text[colon] != ':') continue;
      size_t value = colon + 1;
      while (value < eol && is_space(text[value]) && text[value] != '\r') ++value;
      size_t value_end = value;
      while (value_end < eol && text[value_end] != '\r') ++value_end;
      replace_span(out, text, copied, value, value_end);
      break;
    }
    line = eol + 1;
  }
  out.append(text.substr(std::min(copied, text.size())));
  return out;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~' || c == '+' || c == '/' || c == '=';
}

// Words that follow a scheme's name in prose ("a Bearer token", "Basic auth with …"), not a
// credential: masking them would garble hints without protecting anything.
bool is_prose_after_scheme(std::string_view word) {
  static constexpr std::array<std::string_view, 14> words = {
      "token", "tokens", "auth", "authentication", "username", "password", "credentials", "with",
      "or",    "and",    "nor",  "only",           "is",       "as"};
  for (auto w : words)
    if (word.size() == w.size() && istarts_with(word, 0, w)) return true;
  return false;
}

// "Bearer xyz", "Basic …", "NTLM …", "Negotiate …": the credential after the scheme.
std::string redact_auth_schemes(std::string_view text) {
  static constexpr std::array<std::string_view, 4> schemes = {"bearer", "basic", "ntlm",
                                                              "negotiate"};
  std::string out;
  size_t copied = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    for (auto scheme : schemes) {
      if (!istarts_with(text, i, scheme)) continue;
      size_t value = i + scheme.size();
      if (value >= text.size() || !is_space(text[value])) continue;
      while (value < text.size() && is_space(text[value])) ++value;
      size_t end = value;
      while (end < text.size() && is_token_char(text[end])) ++end;
      if (end == value || is_prose_after_scheme(text.substr(value, end - value))) continue;
      i = replace_span(out, text, copied, value, end) - 1;
      break;
    }
  }
  out.append(text.substr(copied));
  return out;
}

bool is_base64url_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// eyJ<header>.<payload>.<signature>: anything shaped like a JWT.
std::string redact_jwts(std::string_view text) {
  std::string out;
  size_t copied = 0;
  const auto run_end = [&](size_t from) {
    while (from < text.size() && is_base64url_char(text[from])) ++from;
    return from;
  };
  for (size_t at = text.find("eyJ"); at != std::string_view::npos; at = text.find("eyJ", at)) {
    // A start inside a failed run would fail at the same place: resume after it (linear).
    const size_t header = run_end(at + 3);
    if (header == at + 3 || header >= text.size() || text[header] != '.') {
      at = header;
      continue;
    }
    const size_t payload = run_end(header + 1);
    if (payload == header + 1 || payload >= text.size() || text[payload] != '.') {
      at = header + 1;
      continue;
    }
    at = replace_span(out, text, copied, at, run_end(payload + 1));
  }
  out.append(text.substr(copied));
  return out;
}

constexpr std::array<std::string_view, 14> kFormKeys = {
    "client_secret", "client_assertion", "password", "passwd", "access_token",
    "refresh_token", "id_token",         "api_key",  "apikey", "secret",
    "token",         "assertion",        "key",      "sig"};

// key=value in query strings and form bodies (the key at the start or after ?&; or space).
std::string redact_form_pairs(std::string_view text) {
  std::string out;
  size_t copied = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i > 0 &&
        !(text[i - 1] == '?' || text[i - 1] == '&' || text[i - 1] == ';' || is_space(text[i - 1])))
      continue;
    for (auto key : kFormKeys) {
      if (!istarts_with(text, i, key) || i + key.size() >= text.size() ||
          text[i + key.size()] != '=')
        continue;
      size_t value = i + key.size() + 1, end = value;
      while (end < text.size() && text[end] != '&' && !is_space(text[end]) && text[end] != '"' &&
             text[end] != '\'' && text[end] != ';')
        ++end;
      i = replace_span(out, text, copied, value, end) - 1;
      break;
    }
  }
  out.append(text.substr(copied));
  return out;
}

// "secret_key": "value" in JSON text: the string value.
std::string redact_json_pairs(std::string_view text) {
  std::string out;
  size_t copied = 0;
  for (size_t i = text.find('"'); i != std::string_view::npos; i = text.find('"', i + 1)) {
    for (size_t k = 0; k < kFormKeys.size() - 2; ++k) {  // not "key" and "sig" in JSON
      const auto key = kFormKeys[k];
      if (!istarts_with(text, i + 1, key) || i + 1 + key.size() >= text.size() ||
          text[i + 1 + key.size()] != '"')
        continue;
      size_t at = i + key.size() + 2;
      while (at < text.size() && is_space(text[at])) ++at;
      if (at >= text.size() || text[at] != ':') continue;
      ++at;
      while (at < text.size() && is_space(text[at])) ++at;
      if (at >= text.size() || text[at] != '"') continue;
      size_t end = at + 1;
      while (end < text.size() && text[end] != '"') end += text[end] == '\\' ? 2 : 1;
      if (end >= text.size()) {  // unterminated, and so is every later value
        out.append(text.substr(copied));
        return out;
      }
      i = replace_span(out, text, copied, at + 1, end);
      break;
    }
    if (i >= text.size()) break;
  }
  out.append(text.substr(copied));
  return out;
}

// scheme://user:password@host: the password.
std::string redact_url_passwords(std::string_view text) {
  std::string out;
  size_t copied = 0;
  for (size_t at = text.find("://"); at != std::string_view::npos; at = text.find("://", at)) {
    size_t user = at + 3, colon = user;
    while (colon < text.size() && text[colon] != '/' && !is_space(text[colon]) &&
           text[colon] != ':' && text[colon] != '@')
      ++colon;
    if (colon == user || colon >= text.size() || text[colon] != ':') {
      at = colon > user ? colon : user;
      continue;
    }
    size_t end = colon + 1;
    while (end < text.size() && text[end] != '@' && !is_space(text[end]) && text[end] != '/') ++end;
    if (end == colon + 1 || end >= text.size() || text[end] != '@') {
      at = end;
      continue;
    }
    at = replace_span(out, text, copied, colon + 1, end);
  }
  out.append(text.substr(copied));
  return out;
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
  out = redact_header_lines(out);
  out = redact_auth_schemes(out);
  out = redact_jwts(out);
  out = redact_form_pairs(out);
  out = redact_json_pairs(out);
  out = redact_url_passwords(out);
  return out;
}

}  // namespace extdata
