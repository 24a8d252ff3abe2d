#pragma once
// Which hosts extdata may connect to. Every outbound connection (source requests, token
// endpoints, steps, pagination links, each redirect hop) is checked by CurlHttpClient on the
// address libcurl is about to connect to, after DNS, so no notation of a literal (2852039166,
// 0xa9fea9fe, 127.1, [::ffff:a9fe:a9fe]) and no DNS answer (rebinding) gets around it.
//
//   auto policy = NetworkPolicy::parse("127.0.0.1, *.corp.example, 10.20.0.0/16, db:8443");
//   policy->check("graph.microsoft.com", 443, address);   // nullopt: allowed
//   policy->check("169.254.169.254", 80, address);        // Error "network.blocked"
//
// Default: public unicast addresses only. Refused unless allowed: loopback, private (10/8,
// 172.16/12, 192.168/16), shared (100.64/10), link-local (169.254/16, fe80::/10), unique-local
// (fc00::/7), multicast, unspecified, broadcast, documentation, benchmarking and reserved
// ranges, and IPv6 forms that embed such an IPv4 address (mapped, compatible, NAT64, 6to4).
// extdata's own listen address is refused even when allowed (a source must not call its own
// server).
//
// Allow entries (the operator's --allow-host flags and EXTDATA_ALLOW_HOSTS, comma-separated):
//   host            the name as written in URLs, any port        intranet.corp
//   *.domain        every name under domain (not domain itself)  *.corp.example
//   host:port       that name on that port only                  sp.corp:8443
//   IP, IP:port     that address ([v6] with a port)              10.0.0.5, [fd00::5]:443
//   CIDR            a network                                    10.20.0.0/16, fd00::/8
// A name entry allows whatever the name resolves to. This is an operator setting: it never
// comes from a config document or the API.
//
// Through a proxy (http_proxy, https_proxy, all_proxy from the environment, with no_proxy),
// libcurl connects to the proxy, whose address the operator chose; the target is then checked
// by what the URL says: an IP literal by its class, a name against the allow list only when it
// is "localhost" or under ".localhost" — the proxy resolves other names and is where egress
// to them is controlled.
//
// Thread-safety: a NetworkPolicy is immutable once built; process() returns a snapshot.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/url.h"

namespace extdata::http {

class NetworkPolicy {
 public:
  struct Entry {
    enum class Kind { host, domain, network } kind = Kind::host;
    std::string text;  // as written, for messages
    std::string host;  // Kind::host: the name; Kind::domain: ".corp.example"
    IpAddress network;
    int prefix = 0;  // Kind::network: prefix length (32 / 128 for a single address)
    int port = 0;    // 0: any port
  };

  // The default policy: public unicast only.
  NetworkPolicy() = default;
  // Comma-separated entries; blanks are ignored. Errors ("network.bad_allow_entry") name the
  // entry and say which forms are accepted.
  static Result<NetworkPolicy> parse(std::string_view entries);
  Status allow(std::string_view entry);
  // Refuses connections to extdata's own listen address. A wildcard host (0.0.0.0, ::) refuses
  // the port on every local address (loopback and the interfaces' addresses).
  void refuse_own_address(const IpAddress& address, int port);

  // nullopt when connecting to `address` for `host`:`port` is allowed, else "network.blocked"
  // naming the host, the address, why, and how to allow it.
  std::optional<Error> check(std::string_view host, int port, const IpAddress& address) const;
  // For a target reached through a proxy: checks what the URL says (see above).
  std::optional<Error> check_proxied(const Url& target) const;

  // Why an address is not public unicast ("loopback", "private", "link-local", ...), or
  // nullopt for a public unicast address.
  static std::optional<std::string> blocked_class(const IpAddress& address);

  const std::vector<Entry>& entries() const { return entries_; }

  // The process-wide operator policy CurlHttpClient uses unless its options name another:
  // at first use, EXTDATA_ALLOW_HOSTS from the environment (invalid entries are logged and
  // skipped; the CLI refuses them at start); the CLI replaces it with flags + environment, and
  // `serve` adds its listen address.
  static std::shared_ptr<const NetworkPolicy> process();
  static void set_process(std::shared_ptr<const NetworkPolicy> policy);

 private:
  bool allowed_by_entry(std::string_view host, int port, const IpAddress& address) const;
  bool is_own_address(const IpAddress& address, int port) const;

  std::vector<Entry> entries_;
  struct Own {
    IpAddress address;
    int port = 0;
    bool wildcard = false;
  };
  std::vector<Own> own_;
};

// The proxy libcurl would use for `target` by the environment (http_proxy for http;
// https_proxy / HTTPS_PROXY for https; then all_proxy / ALL_PROXY), unless no_proxy /
// NO_PROXY names the host ("*", a name or domain suffix, an IP address or CIDR network).
// Empty: no proxy. CurlHttpClient passes the answer to libcurl, so the check and the
// connection agree.
std::string proxy_for(const Url& target);

// The environment variable operators list allowed hosts in.
inline constexpr const char* kAllowHostsEnv = "EXTDATA_ALLOW_HOSTS";

}  // namespace extdata::http
