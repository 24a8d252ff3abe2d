#include "http/network_policy.h"

#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/log.h"
#include "core/strings.h"

namespace extdata::http {

namespace {

constexpr const char* kEntryForms =
    "write a host (intranet.corp), *.domain, host:port, an IP address (10.0.0.5, [fd00::5]:443) "
    "or a CIDR network (10.20.0.0/16)";

std::string_view trim_blank(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Error bad_entry(std::string_view entry, std::string_view why) {
  return Error("network.bad_allow_entry",
               "allowed host '" + std::string(entry) + "' is not valid: " + std::string(why),
               kEntryForms)
      .with("entry", std::string(entry));
}

bool parse_number(std::string_view text, int max, int& out) {
  if (text.empty() || text.size() > 5) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && out >= 0 && out <= max;
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  for (unsigned char c : name)
    if (!std::isalnum(c) && c != '-' && c != '.' && c != '_') return false;
  return name.front() != '.' && name.back() != '.';
}

// True when the first `prefix` bits of a and b agree (same family).
bool in_network(const IpAddress& a, const IpAddress& network, int prefix) {
  if (a.family != network.family) return false;
  int full = prefix / 8;
  if (std::memcmp(a.bytes.data(), network.bytes.data(), static_cast<size_t>(full)) != 0)
    return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a.bytes[full] & mask) == (network.bytes[full] & mask);
}

IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  IpAddress ip;
  ip.bytes[0] = a, ip.bytes[1] = b, ip.bytes[2] = c, ip.bytes[3] = d;
  return ip;
}

IpAddress v4_at(const IpAddress& v6, size_t offset) {
  return v4(v6.bytes[offset], v6.bytes[offset + 1], v6.bytes[offset + 2], v6.bytes[offset + 3]);
}

struct Range {
  IpAddress network;
  int prefix;
  const char* why;
};

const std::vector<Range>& v4_ranges() {
  static const std::vector<Range> ranges = {
      {v4(0, 0, 0, 0), 8, "unspecified (\"this network\")"},
      {v4(10, 0, 0, 0), 8, "private"},
      {v4(100, 64, 0, 0), 10, "shared address space (carrier-grade NAT)"},
      {v4(127, 0, 0, 0), 8, "loopback"},
      {v4(169, 254, 0, 0), 16, "link-local (cloud metadata lives here)"},
      {v4(172, 16, 0, 0), 12, "private"},
      {v4(192, 0, 0, 0), 24, "reserved (IETF protocol assignments)"},
      {v4(192, 0, 2, 0), 24, "documentation"},
      {v4(192, 88, 99, 0), 24, "reserved (6to4 relay)"},
      {v4(192, 168, 0, 0), 16, "private"},
      {v4(198, 18, 0, 0), 15, "benchmarking"},
      {v4(198, 51, 100, 0), 24, "documentation"},
      {v4(203, 0, 113, 0), 24, "documentation"},
      {v4(224, 0, 0, 0), 4, "multicast"},
      {v4(255, 255, 255, 255), 32, "broadcast"},
      {v4(240, 0, 0, 0), 4, "reserved"},
  };
  return ranges;
}

std::optional<std::string> v4_class(const IpAddress& ip) {
  for (const Range& r : v4_ranges())
    if (in_network(ip, r.network, r.prefix)) return std::string(r.why);
  return std::nullopt;
}

IpAddress v6(std::string_view text) {
  return *IpAddress::parse(text);
}

// An IPv4 address carried inside an IPv6 one: mapped (::ffff:0:0/96), compatible (::/96),
// NAT64 (64:ff9b::/96) and 6to4 (2002::/16). Connecting to these reaches the IPv4 address.
std::optional<IpAddress> embedded_v4(const IpAddress& ip) {
  static const IpAddress mapped = v6("::ffff:0:0"), compatible = v6("::"), nat64 = v6("64:ff9b::"),
                         six_to_four = v6("2002::");
  if (in_network(ip, mapped, 96) || in_network(ip, compatible, 96) || in_network(ip, nat64, 96))
    return v4_at(ip, 12);
  if (in_network(ip, six_to_four, 16)) return v4_at(ip, 2);
  return std::nullopt;
}

std::optional<std::string> v6_class(const IpAddress& ip) {
  static const IpAddress unspecified = v6("::"), loopback = v6("::1");
  if (ip == unspecified) return "unspecified";
  if (ip == loopback) return "loopback";
  if (auto inner = embedded_v4(ip)) {
    if (auto why = v4_class(*inner)) return *why + " (IPv4 " + inner->str() + " inside IPv6)";
    return std::nullopt;
  }
  static const std::vector<Range> ranges = {
      {v6("fe80::"), 10, "link-local"},
      {v6("fec0::"), 10, "site-local (deprecated)"},
      {v6("fc00::"), 7, "unique-local (private)"},
      {v6("ff00::"), 8, "multicast"},
      {v6("2001:db8::"), 32, "documentation"},
      {v6("2001::"), 32, "reserved (Teredo tunnel)"},
      {v6("2001::"), 23, "reserved (IETF protocol assignments)"},
      {v6("100::"), 64, "reserved (discard)"},
      {v6("64:ff9b:1::"), 48, "reserved (local NAT64)"},
  };
  for (const Range& r : ranges)
    if (in_network(ip, r.network, r.prefix)) return std::string(r.why);
  // Global unicast is 2000::/3; the rest of the space is not assigned for public use.
  if ((ip.bytes[0] & 0xe0) != 0x20) return "reserved";
  return std::nullopt;
}

// "[fd00::1]:443" / "10.0.0.5:80" / "host:80" → host part and port (0 when none).
Status split_port(std::string_view entry, std::string_view& host, int& port) {
  host = entry;
  port = 0;
  if (entry.front() == '[') {
    size_t close = entry.find(']');
    if (close == std::string_view::npos) return bad_entry(entry, "missing ']'");
    host = entry.substr(0, close + 1);
    std::string_view rest = entry.substr(close + 1);
    if (rest.empty()) return ok_status();
    if (rest.front() != ':' || !parse_number(rest.substr(1), 65535, port) || port == 0)
      return bad_entry(entry, "the port must be a number from 1 to 65535");
    return ok_status();
  }
  size_t colon = entry.find(':');
  if (colon == std::string_view::npos || entry.find(':', colon + 1) != std::string_view::npos)
    return ok_status();  // no port, or a bare IPv6 address
  host = entry.substr(0, colon);
  if (!parse_number(entry.substr(colon + 1), 65535, port) || port == 0)
    return bad_entry(entry, "the port must be a number from 1 to 65535");
  return ok_status();
}

Result<NetworkPolicy::Entry> parse_entry(std::string_view text) {
  NetworkPolicy::Entry e;
  e.text = std::string(text);
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    auto ip = IpAddress::parse(text.substr(0, slash));
    if (!ip) return bad_entry(text, "not a host name, address or network (no scheme or path)");
    if (!parse_number(text.substr(slash + 1), ip->is_v4() ? 32 : 128, e.prefix))
      return bad_entry(text, "a network is an address and a prefix length (10.20.0.0/16)");
    e.kind = NetworkPolicy::Entry::Kind::network;
    e.network = *ip;
    return e;
  }
  std::string_view host;
  EXTDATA_TRY(split_port(text, host, e.port));
  if (auto ip = IpAddress::parse(host)) {
    e.kind = NetworkPolicy::Entry::Kind::network;
    e.network = *ip;
    e.prefix = ip->is_v4() ? 32 : 128;
    return e;
  }
  const std::string name = lower(host);
  if (name.starts_with("*.")) {
    if (!valid_name(name.substr(2))) return bad_entry(text, "not a domain name after '*.'");
    e.kind = NetworkPolicy::Entry::Kind::domain;
    e.host = name.substr(1);
    return e;
  }
  if (!valid_name(name)) return bad_entry(text, "not a host name, address or network");
  e.host = name;
  return e;
}

std::string unbracket(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    return std::string(host.substr(1, host.size() - 2));
  return std::string(host);
}

std::vector<IpAddress> local_addresses() {
  std::vector<IpAddress> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    IpAddress ip;
    if (i->ifa_addr->sa_family == AF_INET) {
      std::memcpy(ip.bytes.data(), &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, 4);
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      ip.family = IpAddress::Family::v6;
      std::memcpy(ip.bytes.data(), &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr, 16);
    } else {
      continue;
    }
    out.push_back(ip);
  }
  freeifaddrs(list);
  return out;
}

// The address as IPv4 when it is an IPv4 address written as IPv6 (::ffff:a.b.c.d).
IpAddress plain(const IpAddress& ip) {
  if (auto inner = ip.mapped_v4()) return *inner;
  return ip;
}

}  // namespace

Result<NetworkPolicy> NetworkPolicy::parse(std::string_view entries) {
  NetworkPolicy policy;
  while (!entries.empty()) {
    const size_t comma = entries.find(',');
    EXTDATA_TRY(policy.allow(entries.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    entries.remove_prefix(comma + 1);
  }
  return policy;
}

Status NetworkPolicy::allow(std::string_view entry) {
  entry = trim_blank(entry);
  if (entry.empty()) return ok_status();
  if (entry.size() > 300) return bad_entry(entry.substr(0, 300), "too long");
  EXTDATA_ASSIGN_OR_RETURN(Entry e, parse_entry(entry));
  entries_.push_back(std::move(e));
  return ok_status();
}

void NetworkPolicy::refuse_own_address(const IpAddress& address, int port) {
  const IpAddress a = plain(address);
  const bool wildcard = std::all_of(a.bytes.begin(), a.bytes.end(), [](auto b) { return b == 0; });
  own_.push_back({a, port, wildcard});
}

bool NetworkPolicy::is_own_address(const IpAddress& address, int port) const {
  const IpAddress a = plain(address);
  for (const Own& own : own_) {
    if (own.port != port) continue;
    if (!own.wildcard && own.address == a) return true;
    if (own.wildcard) {
      if (a.is_v4() ? a.bytes[0] == 127 || a.bytes == IpAddress{}.bytes
                    : a == v6("::1") || a == v6("::"))
        return true;
      for (const IpAddress& local : local_addresses())
        if (plain(local) == a) return true;
    }
  }
  return false;
}

bool NetworkPolicy::allowed_by_entry(std::string_view host, int port,
                                     const IpAddress& address) const {
  const std::string name = lower(unbracket(host));
  const IpAddress a = plain(address);
  for (const Entry& e : entries_) {
    if (e.port != 0 && e.port != port) continue;
    switch (e.kind) {
      case Entry::Kind::host:
        if (name == e.host) return true;
        break;
      case Entry::Kind::domain:
        if (name.size() > e.host.size() && name.ends_with(e.host)) return true;
        break;
      case Entry::Kind::network:
        if (in_network(a, plain(e.network), e.prefix) || in_network(address, e.network, e.prefix))
          return true;
        break;
    }
  }
  return false;
}

std::optional<std::string> NetworkPolicy::blocked_class(const IpAddress& address) {
  return address.is_v4() ? v4_class(address) : v6_class(address);
}

std::optional<Error> NetworkPolicy::check(std::string_view host, int port,
                                          const IpAddress& address) const {
  std::string why;
  if (is_own_address(address, port)) {
    why = "extdata's own listen address";
  } else if (allowed_by_entry(host, port, address)) {
    return std::nullopt;
  } else if (auto cls = blocked_class(address)) {
    why = *cls;
  } else {
    return std::nullopt;
  }
  const std::string shown_host = unbracket(host);
  const std::string where = address.is_v4() ? address.str() : "[" + address.str() + "]";
  Error e("network.blocked",
          "connecting to " + shown_host + " (" + where + ":" + std::to_string(port) +
              ") is not allowed: the address is " + why,
          why == "extdata's own listen address"
              ? "a source cannot call the extdata server it runs in"
              : "extdata connects only to public addresses unless the operator allows more: "
                "start it with --allow-host " +
                    shown_host + " (or " + kAllowHostsEnv + "=" + shown_host +
                    "); an address or network (CIDR) works as well");
  e.with("host", shown_host).with("address", address.str()).with("port", std::to_string(port));
  return e;
}

std::optional<Error> NetworkPolicy::check_proxied(const Url& target) const {
  if (auto ip = target.ip()) return check(target.host(), target.port(), *ip);
  const std::string& host = target.host();
  if (host == "localhost" || host.ends_with(".localhost"))
    return check(host, target.port(), v4(127, 0, 0, 1));
  return std::nullopt;
}

namespace {

std::string env_value(std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (const char* v = std::getenv(name); v && *v) return v;
  return {};
}

bool no_proxy_matches(std::string_view list, const Url& target) {
  const std::string host = lower(unbracket(target.host()));
  const auto ip = target.ip();
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string entry = lower(trim_blank(list.substr(0, comma)));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (entry == "*") return true;
    if (entry.starts_with(".")) entry.erase(0, 1);
    if (entry.empty()) continue;
    if (const size_t slash = entry.find('/'); slash != std::string::npos) {
      auto net = IpAddress::parse(entry.substr(0, slash));
      int bits = 0;
      if (ip && net && parse_number(std::string_view(entry).substr(slash + 1), 128, bits) &&
          in_network(plain(*ip), plain(*net), bits))
        return true;
      continue;
    }
    if (host == unbracket(entry) || (host.size() > entry.size() && host.ends_with(entry) &&
                                     host[host.size() - entry.size() - 1] == '.'))
      return true;
  }
  return false;
}

}  // namespace

std::string proxy_for(const Url& target) {
  std::string proxy = target.scheme() == "https" ? env_value({"https_proxy", "HTTPS_PROXY"})
                                                 : env_value({"http_proxy"});
  if (proxy.empty()) proxy = env_value({"all_proxy", "ALL_PROXY"});
  if (proxy.empty()) return {};
  if (no_proxy_matches(env_value({"no_proxy", "NO_PROXY"}), target)) return {};
  return proxy;
}

namespace {

std::mutex& process_mutex() {
  static std::mutex mu;
  return mu;
}

std::shared_ptr<const NetworkPolicy>& process_slot() {
  static std::shared_ptr<const NetworkPolicy> slot;
  return slot;
}

std::shared_ptr<const NetworkPolicy> from_environment() {
  const char* env = std::getenv(kAllowHostsEnv);
  auto policy = std::make_shared<NetworkPolicy>();
  std::string_view entries = env ? env : "";
  while (!entries.empty()) {
    const size_t comma = entries.find(',');
    if (auto s = policy->allow(entries.substr(0, comma)); !s.ok())
      log::warn("network.bad_allow_entry", {{"message", s.error().message}});
    if (comma == std::string_view::npos) break;
    entries.remove_prefix(comma + 1);
  }
  return policy;
}

}  // namespace

std::shared_ptr<const NetworkPolicy> NetworkPolicy::process() {
  std::lock_guard lock(process_mutex());
  auto& slot = process_slot();
  if (!slot) slot = from_environment();
  return slot;
}

void NetworkPolicy::set_process(std::shared_ptr<const NetworkPolicy> policy) {
  std::lock_guard lock(process_mutex());
  process_slot() = std::move(policy);
}

}  // namespace extdata::http
