#include "sources/sql/connection_url.h"

#include <charconv>

#include "core/strings.h"

namespace extdata::sources::sql {

namespace {

Error bad(const std::string& why, const std::string& hint) {
  Error e("sql.bad_connection", "connection: " + why, hint);
  e.with("key", "connection");
  return e.as(ErrorCategory::invalid_input);
}

Error password_inside() {
  Error e("sql.password_in_url", "connection contains a password",
          "remove it from connection and put it in password (a secret, sealed in the store and "
          "never shown)");
  e.with("key", "connection");
  return e.as(ErrorCategory::invalid_input);
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

}  // namespace

Result<ConnectionUrl> parse_connection_url(const std::string& text) {
  const std::string hint = "e.g. mysql://app@db.example.com:3306/shop?sslmode=verify-ca";
  ConnectionUrl url;
  const size_t scheme_end = text.find("://");
  if (scheme_end == std::string::npos) return bad("not a URL", hint);
  url.scheme = lower(std::string_view(text).substr(0, scheme_end));
  std::string_view rest = std::string_view(text).substr(scheme_end + 3);
  if (const size_t q = rest.find('?'); q != std::string_view::npos) {
    for (const auto& pair : split(rest.substr(q + 1), '&')) {
      if (pair.empty()) continue;
      const size_t eq = pair.find('=');
      auto key = percent_decode(pair.substr(0, eq));
      auto value =
          percent_decode(eq == std::string::npos ? std::string_view() : pair.substr(eq + 1));
      if (!key || !value) return bad("bad percent-encoding in the options", hint);
      if (lower(*key) == "password") return password_inside();
      url.options[lower(*key)] = *value;
    }
    rest = rest.substr(0, q);
  }
  if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
    auto db = percent_decode(rest.substr(slash + 1));
    if (!db) return bad("bad percent-encoding in the database name", hint);
    url.database = *db;
    rest = rest.substr(0, slash);
  }
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    if (userinfo.find(':') != std::string_view::npos) return password_inside();
    auto user = percent_decode(userinfo);
    if (!user) return bad("bad percent-encoding in the user name", hint);
    url.user = *user;
    rest = rest.substr(at + 1);
  }
  std::string_view host = rest;
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    if (close == std::string_view::npos) return bad("unclosed [ in the host", hint);
    url.host = std::string(host.substr(1, close - 1));
    host = host.substr(close + 1);
    if (!host.empty() && host.front() != ':') return bad("text after the host", hint);
  } else {
    const size_t colon = host.find(':');
    url.host = std::string(host.substr(0, colon));
    host = colon == std::string_view::npos ? std::string_view() : host.substr(colon);
  }
  if (!host.empty()) {
    std::string_view port = host.substr(1);
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), url.port);
    if (ec != std::errc() || ptr != port.data() + port.size() || url.port <= 0 || url.port > 65535)
      return bad("the port is not a number from 1 to 65535", hint);
  }
  if (url.host.empty()) return bad("no host", hint);
  return url;
}

Result<std::vector<OdbcEntry>> parse_odbc_entries(const std::string& text) {
  const std::string hint = "DSN=name;UID=user or Driver={...};Server=host;Database=db";
  std::vector<OdbcEntry> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ';' || text[i] == ' ')) ++i;
    if (i >= text.size()) break;
    const size_t eq = text.find('=', i);
    if (eq == std::string::npos) return bad("'" + text.substr(i) + "' is not key=value", hint);
    std::string key(trim(std::string_view(text).substr(i, eq - i)));
    std::string value;
    i = eq + 1;
    if (i < text.size() && text[i] == '{') {
      ++i;
      for (;;) {
        if (i >= text.size()) return bad("unclosed { in the value of " + lower(key), hint);
        if (text[i] == '}') {
          if (i + 1 < text.size() && text[i + 1] == '}') {
            value += '}';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        value += text[i++];
      }
    } else {
      const size_t end = text.find(';', i);
      value = std::string(trim(std::string_view(text).substr(
          i, end == std::string::npos ? std::string::npos : end - i)));
      i = end == std::string::npos ? text.size() : end;
    }
    const std::string name = lower(key);
    if (name == "pwd" || name == "password") return password_inside();
    if (name.empty()) return bad("an empty key", hint);
    for (const auto& e : out)
      if (e.name == name)
        return bad(key + " is given twice",
                   "give each key once; drivers differ in which they take");
    out.push_back({key, name, value});
  }
  if (out.empty()) return bad("empty", hint);
  return out;
}

Result<std::map<std::string, std::string>> parse_odbc_string(const std::string& text) {
  EXTDATA_ASSIGN_OR_RETURN(auto entries, parse_odbc_entries(text));
  std::map<std::string, std::string> out;
  for (auto& e : entries) out[e.name] = std::move(e.value);
  return out;
}

std::string odbc_string(const std::vector<OdbcEntry>& entries) {
  std::string out;
  for (const auto& e : entries) {
    const bool braces = e.value.find_first_of(";{}=") != std::string::npos ||
                        (!e.value.empty() && (e.value.front() == ' ' || e.value.back() == ' '));
    out += e.key + "=";
    if (!braces) {
      out += e.value;
    } else {
      out += '{';
      for (char c : e.value) out += c == '}' ? std::string("}}") : std::string(1, c);
      out += '}';
    }
    out += ';';
  }
  return out;
}

}  // namespace extdata::sources::sql
