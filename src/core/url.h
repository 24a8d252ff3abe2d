#pragma once
// One URL model for the whole program, on libcurl's URL API (CURLU), so that what we check is
// what libcurl will connect to: the same parser decides the host, the port and the IP address
// behind every notation libcurl accepts (2852039166, 0xA9FEA9FE, 0251.0376.0251.0376,
// 169.254.43518 and 127.1 are all 169.254.169.254 / 127.0.0.1 to it, and to us).
//
//   EXTDATA_ASSIGN_OR_RETURN(Url url, Url::parse("https://Graph.Microsoft.com/v1.0/sites?x=1"));
//   url.scheme();   // "https"            url.host();  // "graph.microsoft.com"
//   url.port();     // 443 (the default)  url.path();  // "/v1.0/sites"
//   url.origin();   // "https://graph.microsoft.com"
//   url.same_origin(other);  // scheme + host + effective port
//   url.ip();       // the address when the host is an IP literal
//   url.with_query({{"$top", "100"}}).str();  // ".../sites?x=1&%24top=100"
//
// Normalisation (done by libcurl, kept here): the scheme and host are lower case, IPv4
// literals are dotted decimal, IPv6 literals are in their canonical text form in brackets,
// "." and ".." path segments are removed (unless ParseOptions::keep_dot_segments), an empty
// path is "/". Percent-encoding in the path, query and fragment is kept as written.
//
// Input is bounded: URLs longer than Url::kMaxLength bytes are refused before libcurl sees
// them. Every failure is an Error with code "url.invalid", a message naming the reason, and
// details["position"] when the offending byte is known. Nothing here throws or aborts.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace extdata {

// An IP address: 4 bytes for IPv4, 16 for IPv6.
struct IpAddress {
  enum class Family { v4, v6 };
  Family family = Family::v4;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4

  bool is_v4() const { return family == Family::v4; }
  // For ::ffff:a.b.c.d (IPv4-mapped IPv6) the embedded IPv4 address, else nullopt.
  std::optional<IpAddress> mapped_v4() const;
  // "169.254.169.254" or "::1" (canonical text, no brackets).
  std::string str() const;

  // Parses a bare literal ("10.0.0.1", "::1", "[::1]", "fe80::1%eth0" — the zone is dropped);
  // only the strict dotted-decimal IPv4 form is an address here (use Url for the URL forms).
  static std::optional<IpAddress> parse(std::string_view text);
  bool operator==(const IpAddress&) const = default;
};

class Url {
 public:
  static constexpr size_t kMaxLength = 8192;

  struct ParseOptions {
    // Keep "." and ".." path segments instead of resolving them (to inspect what was written).
    bool keep_dot_segments = false;
    // Accept spaces in the path and query (pasted browser addresses); they are kept as written.
    bool allow_spaces = false;
  };

  // An absolute URL with a scheme and a host. Any scheme is accepted; callers that connect
  // check scheme() (is_http() for http/https).
  static Result<Url> parse(std::string_view text);
  static Result<Url> parse(std::string_view text, const ParseOptions& options);

  Url(const Url& other);
  Url& operator=(const Url& other);
  Url(Url&&) noexcept;
  Url& operator=(Url&&) noexcept;
  ~Url();

  const std::string& scheme() const { return scheme_; }  // lower case
  // Lower case; IPv6 literals in brackets ("[::1]"), without a zone id.
  const std::string& host() const { return host_; }
  // The IPv6 zone id ("eth0" of [fe80::1%25eth0]), empty when none.
  const std::string& zone_id() const { return zone_; }
  // The port to connect to: the explicit one, else the scheme's default (80, 443, ...; 0 when
  // the scheme has none known to libcurl).
  int port() const { return port_; }
  bool has_explicit_port() const { return explicit_port_; }
  // host() plus ":port" when a port was written: "contoso.com", "[::1]:8443".
  std::string authority() const;
  const std::string& path() const { return path_; }                   // "/" at least; encoding kept
  const std::optional<std::string>& query() const { return query_; }  // without '?'
  const std::optional<std::string>& fragment() const { return fragment_; }  // without '#'
  const std::optional<std::string>& user() const { return user_; }
  const std::optional<std::string>& password() const { return password_; }
  bool has_userinfo() const { return user_.has_value() || password_.has_value(); }
  bool is_http() const { return scheme_ == "http" || scheme_ == "https"; }

  // The host's IP address when the host is an IP literal (in any notation libcurl accepts).
  std::optional<IpAddress> ip() const;
  // True for "localhost", "*.localhost" and loopback literals (127.0.0.0/8, ::1, mapped).
  bool is_loopback() const;

  // RFC 6454 serialisation: "https://host" with ":port" only when it is not the default.
  std::string origin() const;
  // Same scheme, host and effective port (so https://h and https://H:443 are the same origin).
  bool same_origin(const Url& other) const;

  // The whole URL as libcurl writes it.
  std::string str() const;

  // A copy with name=value pairs appended to the query, each percent-encoded (RFC 3986
  // unreserved characters kept); an existing query and the fragment are kept.
  Url with_query(const std::vector<std::pair<std::string, std::string>>& params) const;
  // The absolute URL that `reference` (absolute or relative, e.g. a Location header) points
  // to, resolved against this one.
  Result<Url> resolve(std::string_view reference) const;

 private:
  struct Handle;
  explicit Url(std::unique_ptr<Handle> handle);
  static Result<Url> from_handle(std::unique_ptr<Handle> handle, std::string_view text);

  std::unique_ptr<Handle> handle_;
  std::string scheme_, host_, zone_, path_;
  std::optional<std::string> query_, fragment_, user_, password_;
  int port_ = 0;
  bool explicit_port_ = false;
};

// RFC 3986 percent-encoding: everything but unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string percent_encode(std::string_view text);
// Decodes %XX sequences; malformed ones are kept as written. '+' stays '+'.
std::string percent_decode(std::string_view text);

}  // namespace extdata
