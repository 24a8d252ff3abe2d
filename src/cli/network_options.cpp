#include "cli/network_options.h"

#include <netdb.h>
#include <netinet/in.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "core/url.h"
#include "http/network_policy.h"

namespace extdata::cli {

namespace {

// The listen host's addresses: the literal, or what a name (localhost) resolves to.
std::vector<IpAddress> addresses_of(const Url& url) {
  if (auto ip = url.ip()) return {*ip};
  std::vector<IpAddress> out;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  if (getaddrinfo(url.host().c_str(), nullptr, &hints, &list) != 0) return out;
  for (addrinfo* a = list; a; a = a->ai_next) {
    IpAddress ip;
    if (a->ai_family == AF_INET) {
      std::memcpy(ip.bytes.data(), &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, 4);
    } else if (a->ai_family == AF_INET6) {
      ip.family = IpAddress::Family::v6;
      std::memcpy(ip.bytes.data(), &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr, 16);
    } else {
      continue;
    }
    out.push_back(ip);
  }
  freeaddrinfo(list);
  return out;
}

}  // namespace

std::vector<std::string>& allow_host_flags() {
  static std::vector<std::string> flags;
  return flags;
}

Result<http::NetworkPolicy> operator_network_policy(std::string_view allow_hosts) {
  auto policy = http::NetworkPolicy::parse(allow_hosts);
  if (!policy.ok()) return policy.error();
  for (const auto& entry : allow_host_flags()) EXTDATA_TRY(policy->allow(entry));
  return policy;
}

std::function<void()> add_network_options(CLI::App& app) {
  app.add_option("--allow-host", allow_host_flags(),
                 "Allow connections to this host, *.domain, host:port, IP or CIDR network "
                 "(repeatable; adds to $EXTDATA_ALLOW_HOSTS). By default only public addresses "
                 "are reached (docs/network.md)")
      ->type_name("HOST")
      ->take_all()
      ->group("Network");
  return [] {
    const char* env = std::getenv(http::kAllowHostsEnv);
    if (auto from_env = http::NetworkPolicy::parse(env ? env : ""); !from_env.ok())
      throw CLI::ValidationError(std::string(http::kAllowHostsEnv), from_env.error().message);
    auto policy = operator_network_policy(env ? env : "");
    if (!policy.ok()) throw CLI::ValidationError("--allow-host", policy.error().message);
    http::NetworkPolicy::set_process(
        std::make_shared<const http::NetworkPolicy>(std::move(policy).value()));
  };
}

void refuse_own_address(const std::string& server_url) {
  auto url = Url::parse(server_url);
  if (!url.ok()) return;
  auto policy = std::make_shared<http::NetworkPolicy>(*http::NetworkPolicy::process());
  for (const IpAddress& address : addresses_of(*url))
    policy->refuse_own_address(address, url->port());
  http::NetworkPolicy::set_process(std::move(policy));
}

}  // namespace extdata::cli
