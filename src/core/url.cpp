#include "core/url.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <charconv>

#include "core/strings.h"

namespace extdata {

struct Url::Handle {
  CURLU* u = nullptr;
  Handle() : u(curl_url()) {}
  explicit Handle(CURLU* from) : u(curl_url_dup(from)) {}
  ~Handle() { curl_url_cleanup(u); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  // The part, or nullopt when absent (CURLUE_NO_QUERY and friends) or on any other failure.
  std::optional<std::string> get(CURLUPart part, unsigned flags = 0) const {
    char* value = nullptr;
    if (curl_url_get(u, part, &value, flags) != CURLUE_OK || value == nullptr) {
      curl_free(value);
      return std::nullopt;
    }
    std::string out(value);
    curl_free(value);
    return out;
  }
};

namespace {

constexpr size_t kShownLength = 200;
constexpr unsigned kParseFlags = CURLU_NON_SUPPORT_SCHEME;

std::string shown(std::string_view text) {
  if (text.size() <= kShownLength) return std::string(text);
  return std::string(text.substr(0, kShownLength)) + "...";
}

Error invalid(std::string_view text, std::string reason, std::optional<size_t> position = {}) {
  std::string message = "'" + shown(text) + "' is not a valid URL: " + reason;
  if (position) message += " (at position " + std::to_string(*position) + ")";
  Error e("url.invalid", std::move(message),
          "write an absolute URL such as https://example.com/path");
  if (position) e.with("position", std::to_string(*position));
  return e;
}

// What libcurl would refuse with a less precise message, found with its byte position.
std::optional<Error> precheck(std::string_view text, const Url::ParseOptions& options) {
  if (text.empty()) return invalid(text, "it is empty");
  if (text.size() > Url::kMaxLength)
    return invalid(text, "it is longer than " + std::to_string(Url::kMaxLength) + " bytes",
                   Url::kMaxLength);
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) return invalid(text, "it contains a control character", i);
    if (c == ' ' && !options.allow_spaces) return invalid(text, "it contains a space", i);
  }
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 ||
      text.substr(0, colon).find_first_of("/?#@[") != std::string_view::npos)
    return invalid(text, "it has no scheme (such as https://)", 0);
  return std::nullopt;
}

bool hex_digit(char c, int& value) {
  if (c >= '0' && c <= '9')
    value = c - '0';
  else if (c >= 'a' && c <= 'f')
    value = c - 'a' + 10;
  else if (c >= 'A' && c <= 'F')
    value = c - 'A' + 10;
  else
    return false;
  return true;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// A host name as libcurl resolves it after decoding: letters, digits, '-', '.', '_' (and the
// bytes of an internationalised name). Anything else ("%zz", "a!b") cannot name a host.
bool valid_host_name(std::string_view host) {
  for (const char ch : host) {
    const auto c = static_cast<unsigned char>(ch);
    if (!(is_unreserved(c) && c != '~') && c < 0x80) return false;
  }
  return true;
}

std::string_view unbracketed(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

// --- IpAddress ---

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  text = unbracketed(text);
  if (const size_t zone = text.find('%'); zone != std::string_view::npos)
    text = text.substr(0, zone);
  if (text.empty() || text.size() > 45) return std::nullopt;
  const std::string s(text);
  IpAddress ip;
  if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) return ip;
  ip.family = Family::v6;
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) return ip;
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::mapped_v4() const {
  if (is_v4()) return std::nullopt;
  for (size_t i = 0; i < 10; ++i)
    if (bytes[i] != 0) return std::nullopt;
  if (bytes[10] != 0xff || bytes[11] != 0xff) return std::nullopt;
  IpAddress v4;
  for (size_t i = 0; i < 4; ++i) v4.bytes[i] = bytes[12 + i];
  return v4;
}

std::string IpAddress::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf) == nullptr) return {};
  return buf;
}

// --- Url ---

Url::Url(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}
Url::Url(const Url& other)
    : handle_(std::make_unique<Handle>(other.handle_->u)),
      scheme_(other.scheme_),
      host_(other.host_),
      zone_(other.zone_),
      path_(other.path_),
      query_(other.query_),
      fragment_(other.fragment_),
      user_(other.user_),
      password_(other.password_),
      port_(other.port_),
      explicit_port_(other.explicit_port_) {}
Url& Url::operator=(const Url& other) {
  if (this != &other) *this = Url(other);
  return *this;
}
Url::Url(Url&&) noexcept = default;
Url& Url::operator=(Url&&) noexcept = default;
Url::~Url() = default;

Result<Url> Url::parse(std::string_view text) {
  return parse(text, ParseOptions{});
}

Result<Url> Url::parse(std::string_view text, const ParseOptions& options) {
  if (auto error = precheck(text, options)) return *error;
  auto handle = std::make_unique<Handle>();
  if (handle->u == nullptr) return invalid(text, "out of memory");
  unsigned flags = kParseFlags;
  if (options.keep_dot_segments) flags |= CURLU_PATH_AS_IS;
  if (options.allow_spaces) flags |= CURLU_ALLOW_SPACE;
  const CURLUcode rc = curl_url_set(handle->u, CURLUPART_URL, std::string(text).c_str(), flags);
  if (rc != CURLUE_OK) return invalid(text, lower(curl_url_strerror(rc)));
  return from_handle(std::move(handle), text);
}

// Reads the parts libcurl found and writes back the normalised host, so that str() and the
// parts agree.
Result<Url> Url::from_handle(std::unique_ptr<Handle> handle, std::string_view text) {
  Url url(std::move(handle));
  const Handle& h = *url.handle_;
  url.scheme_ = lower(h.get(CURLUPART_SCHEME).value_or(""));
  std::string host = lower(h.get(CURLUPART_HOST).value_or(""));
  if (url.scheme_.empty() || host.empty() || host == "[]") return invalid(text, "it has no host");
  url.zone_ = h.get(CURLUPART_ZONEID).value_or("");
  if (host.front() == '[') {
    auto ip = IpAddress::parse(host);
    if (!ip || ip->is_v4()) return invalid(text, "'" + host + "' is not an IPv6 address");
    host = "[" + ip->str() + "]";
  } else if (!valid_host_name(host)) {
    return invalid(text, "'" + shown(host) + "' is not a valid host name");
  }
  if (curl_url_set(h.u, CURLUPART_HOST, host.c_str(), 0) != CURLUE_OK ||
      (!url.zone_.empty() &&
       curl_url_set(h.u, CURLUPART_ZONEID, url.zone_.c_str(), 0) != CURLUE_OK))
    return invalid(text, "'" + shown(host) + "' is not a valid host");
  url.host_ = std::move(host);
  url.explicit_port_ = h.get(CURLUPART_PORT).has_value();
  const auto port = h.get(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (port) std::from_chars(port->data(), port->data() + port->size(), url.port_);
  url.path_ = h.get(CURLUPART_PATH).value_or("/");
  url.query_ = h.get(CURLUPART_QUERY);
  url.fragment_ = h.get(CURLUPART_FRAGMENT);
  url.user_ = h.get(CURLUPART_USER);
  url.password_ = h.get(CURLUPART_PASSWORD);
  return url;
}

std::string Url::authority() const {
  if (!explicit_port_) return host_;
  return host_ + ":" + std::to_string(port_);
}

std::optional<IpAddress> Url::ip() const {
  return IpAddress::parse(host_);
}

bool Url::is_loopback() const {
  if (host_ == "localhost" || host_.ends_with(".localhost")) return true;
  auto address = ip();
  if (!address) return false;
  if (auto v4 = address->mapped_v4()) address = v4;
  if (address->is_v4()) return address->bytes[0] == 127;
  static const IpAddress kLoopback6 = *IpAddress::parse("::1");
  return *address == kLoopback6;
}

std::string Url::origin() const {
  // libcurl reports no explicit port when the written port is the scheme's default.
  const bool show_port = explicit_port_ && handle_->get(CURLUPART_PORT, CURLU_NO_DEFAULT_PORT);
  return scheme_ + "://" + host_ + (show_port ? ":" + std::to_string(port_) : "");
}

bool Url::same_origin(const Url& other) const {
  return scheme_ == other.scheme_ && host_ == other.host_ && port_ == other.port_;
}

std::string Url::str() const {
  return handle_->get(CURLUPART_URL).value_or("");
}

Url Url::with_query(const std::vector<std::pair<std::string, std::string>>& params) const {
  auto handle = std::make_unique<Handle>(handle_->u);
  for (const auto& [name, value] : params) {
    const std::string pair = percent_encode(name) + "=" + percent_encode(value);
    curl_url_set(handle->u, CURLUPART_QUERY, pair.c_str(), CURLU_APPENDQUERY);
  }
  Url out(*this);
  out.handle_ = std::move(handle);
  out.query_ = out.handle_->get(CURLUPART_QUERY);
  return out;
}

Result<Url> Url::resolve(std::string_view reference) const {
  if (reference.size() > kMaxLength)
    return invalid(reference, "it is longer than " + std::to_string(kMaxLength) + " bytes",
                   kMaxLength);
  for (size_t i = 0; i < reference.size(); ++i) {
    const auto c = static_cast<unsigned char>(reference[i]);
    if (c < 0x20 || c == 0x7f) return invalid(reference, "it contains a control character", i);
  }
  auto handle = std::make_unique<Handle>(handle_->u);
  const CURLUcode rc =
      curl_url_set(handle->u, CURLUPART_URL, std::string(reference).c_str(), kParseFlags);
  if (rc != CURLUE_OK) return invalid(reference, lower(curl_url_strerror(rc)));
  return from_handle(std::move(handle), reference);
}

// --- percent-encoding ---

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (is_unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    int hi = 0, lo = 0;
    if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1], hi) &&
        hex_digit(text[i + 2], lo)) {
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

}  // namespace extdata
