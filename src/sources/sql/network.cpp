#include "sources/sql/network.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <optional>

#include "core/url.h"
#include "http/network_policy.h"

namespace extdata::sources::sql {

namespace {

std::optional<IpAddress> to_ip(const addrinfo& a) {
  IpAddress ip;
  if (a.ai_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(a.ai_addr);
    std::memcpy(ip.bytes.data(), &in->sin_addr, 4);
    return ip;
  }
  if (a.ai_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a.ai_addr);
    ip.family = IpAddress::Family::v6;
    std::memcpy(ip.bytes.data(), &in6->sin6_addr, 16);
    return ip;
  }
  return std::nullopt;
}

}  // namespace

Result<std::string> checked_address(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || !found)
    return Error("sql.unreachable",
                 "database host '" + host + "' does not resolve: " + gai_strerror(rc),
                 "check the host name in connection")
        .with("host", host);
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, freeaddrinfo);
  const auto policy = http::NetworkPolicy::process();
  std::optional<Error> first_refusal;
  for (int family : {AF_INET, AF_INET6}) {
    for (const addrinfo* a = found; a; a = a->ai_next) {
      if (a->ai_family != family) continue;
      auto ip = to_ip(*a);
      if (!ip) continue;
      auto refused = policy->check(host, port, *ip);
      if (!refused) return ip->str();
      if (!first_refusal) first_refusal = std::move(refused);
    }
  }
  if (first_refusal) return *first_refusal;
  return Error("sql.unreachable", "database host '" + host + "' has no IP address",
               "check the host name in connection");
}

}  // namespace extdata::sources::sql
