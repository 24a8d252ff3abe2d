// The network policy (src/http/network_policy.h): which addresses are refused in every
// notation, the allow-list forms, and the checks CurlHttpClient makes on the address it
// connects to — the first request, names resolving to blocked addresses, every redirect hop —
// and what crosses to another origin on a redirect.
#include "http/network_policy.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "http/curl_client.h"
#include "unit/sources_rest/scripted_server.h"

namespace extdata::http {
namespace {

using testing::RecordingServer;
using testing::with_header;

IpAddress address_of(const std::string& url) {
  auto parsed = Url::parse(url);
  EXPECT_TRUE(parsed.ok()) << url;
  auto ip = parsed.ok() ? parsed->ip() : std::nullopt;
  EXPECT_TRUE(ip.has_value()) << url;
  return ip.value_or(IpAddress{});
}

std::shared_ptr<const NetworkPolicy> policy_of(std::string_view entries) {
  auto p = NetworkPolicy::parse(entries);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
  return std::make_shared<const NetworkPolicy>(p.ok() ? *p : NetworkPolicy());
}

int port_of(const std::string& url) {
  return Url::parse(url)->port();
}

// ------------------------------------------------------------------ address classes

TEST(NetworkPolicy, RefusesEveryNonPublicClassInEveryNotation) {
  const std::vector<std::pair<std::string, std::string>> blocked = {
      {"http://2852039166/", "link-local"},                // decimal 169.254.169.254
      {"http://0xa9fea9fe/", "link-local"},                // hex
      {"http://0251.0376.0251.0376/", "link-local"},       // octal
      {"http://169.254.43518/", "link-local"},             // two-part form
      {"http://[::ffff:169.254.169.254]/", "link-local"},  // IPv4-mapped, dotted
      {"http://[::ffff:a9fe:a9fe]/", "link-local"},        // IPv4-mapped, hex
      {"http://[::169.254.169.254]/", "link-local"},       // IPv4-compatible
      {"http://[64:ff9b::a9fe:a9fe]/", "link-local"},      // NAT64
      {"http://[2002:a9fe:a9fe::1]/", "link-local"},       // 6to4
      {"http://127.1/", "loopback"},
      {"http://127.0.0.1/", "loopback"},
      {"http://0x7f000001/", "loopback"},
      {"http://[::1]/", "loopback"},
      {"http://[::ffff:127.0.0.1]/", "loopback"},
      {"http://10.0.0.1/", "private"},
      {"http://172.16.0.1/", "private"},
      {"http://172.31.255.255/", "private"},
      {"http://192.168.1.1/", "private"},
      {"http://100.64.0.1/", "carrier-grade NAT"},
      {"http://[fd00:ec2::254]/", "unique-local"},
      {"http://[fc00::1]/", "unique-local"},
      {"http://[fe80::1]/", "link-local"},
      {"http://224.0.0.1/", "multicast"},
      {"http://[ff02::1]/", "multicast"},
      {"http://0.0.0.0/", "unspecified"},
      {"http://0/", "unspecified"},
      {"http://[::]/", "unspecified"},
      {"http://255.255.255.255/", "broadcast"},
      {"http://192.0.2.1/", "documentation"},
      {"http://[2001:db8::1]/", "documentation"},
      {"http://240.0.0.1/", "reserved"},
      {"http://198.18.0.1/", "benchmarking"},
  };
  for (const auto& [url, why] : blocked) {
    auto cls = NetworkPolicy::blocked_class(address_of(url));
    ASSERT_TRUE(cls.has_value()) << url;
    EXPECT_NE(cls->find(why), std::string::npos) << url << " → " << *cls;
  }
}

TEST(NetworkPolicy, PublicUnicastAddressesPass) {
  for (const char* url :
       {"http://93.184.216.34/", "http://8.8.8.8/", "http://172.32.0.1/", "http://172.15.255.255/",
        "http://100.128.0.1/", "http://169.253.255.255/", "http://[2606:4700::1111]/",
        "http://[64:ff9b::808:808]/", "http://[::ffff:8.8.8.8]/"})
    EXPECT_FALSE(NetworkPolicy::blocked_class(address_of(url)).has_value()) << url;
}

TEST(NetworkPolicy, BlockedErrorNamesHostAddressReasonAndHowToAllow) {
  NetworkPolicy policy;
  auto e = policy.check("metadata.internal", 80, *IpAddress::parse("169.254.169.254"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "network.blocked");
  EXPECT_EQ(e->category(), ErrorCategory::forbidden);
  EXPECT_NE(e->message.find("metadata.internal"), std::string::npos) << e->message;
  EXPECT_NE(e->message.find("169.254.169.254:80"), std::string::npos) << e->message;
  EXPECT_NE(e->message.find("link-local"), std::string::npos) << e->message;
  EXPECT_NE(e->hint.find("--allow-host metadata.internal"), std::string::npos) << e->hint;
  EXPECT_NE(e->hint.find("EXTDATA_ALLOW_HOSTS"), std::string::npos) << e->hint;
  EXPECT_EQ(e->details.at("address"), "169.254.169.254");
}

// ------------------------------------------------------------------ allow-list entries

TEST(NetworkPolicy, AllowEntriesOfEachForm) {
  auto p = policy_of(
      "intranet.corp, *.corp.example, sp.lan:8443, 10.1.2.3, [fd00::5]:443, 10.20.0.0/16, "
      "fd12::/16, 192.168.7.7:80");
  const auto ip = [](const char* s) { return *IpAddress::parse(s); };
  // host: the name, any port, whatever it resolves to
  EXPECT_FALSE(p->check("intranet.corp", 80, ip("10.9.9.9")));
  EXPECT_FALSE(p->check("INTRANET.corp", 8080, ip("127.0.0.1")));
  EXPECT_TRUE(p->check("other.corp", 80, ip("10.9.9.9")));
  // *.domain: names under it, not the domain itself, not a lookalike
  EXPECT_FALSE(p->check("a.b.corp.example", 443, ip("10.9.9.9")));
  EXPECT_TRUE(p->check("corp.example", 443, ip("10.9.9.9")));
  EXPECT_TRUE(p->check("evilcorp.example", 443, ip("10.9.9.9")));
  // host:port: that port only
  EXPECT_FALSE(p->check("sp.lan", 8443, ip("192.168.0.9")));
  EXPECT_TRUE(p->check("sp.lan", 443, ip("192.168.0.9")));
  // IP: that address, whatever name led to it (also IPv4-mapped)
  EXPECT_FALSE(p->check("10.1.2.3", 80, ip("10.1.2.3")));
  EXPECT_FALSE(p->check("alias.lan", 80, ip("::ffff:10.1.2.3")));
  EXPECT_TRUE(p->check("10.1.2.4", 80, ip("10.1.2.4")));
  // [v6]:port
  EXPECT_FALSE(p->check("[fd00::5]", 443, ip("fd00::5")));
  EXPECT_TRUE(p->check("[fd00::5]", 80, ip("fd00::5")));
  // CIDR, v4 and v6
  EXPECT_FALSE(p->check("10.20.255.1", 80, ip("10.20.255.1")));
  EXPECT_TRUE(p->check("10.21.0.1", 80, ip("10.21.0.1")));
  EXPECT_FALSE(p->check("[fd12:3::1]", 80, ip("fd12:3::1")));
  EXPECT_TRUE(p->check("[fd13::1]", 80, ip("fd13::1")));
  // IP:port
  EXPECT_FALSE(p->check("192.168.7.7", 80, ip("192.168.7.7")));
  EXPECT_TRUE(p->check("192.168.7.7", 81, ip("192.168.7.7")));
}

TEST(NetworkPolicy, InvalidEntriesAreRefusedNamingThem) {
  for (const char* bad : {"http://x.corp", "10.0.0.0/33", "fd00::/129", "host:0", "host:99999",
                          "*.", "a b", "[fd00::1", "10.0.0.1/x", "*.-/x"}) {
    auto p = NetworkPolicy::parse(std::string("ok.corp, ") + bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.error().code, "network.bad_allow_entry") << bad;
    EXPECT_NE(p.error().message.find(bad), std::string::npos) << p.error().message;
  }
  EXPECT_TRUE(NetworkPolicy::parse(" , ,127.0.0.1 ,").ok());
}

TEST(NetworkPolicy, OwnListenAddressIsRefusedEvenWhenAllowed) {
  auto policy = NetworkPolicy::parse("127.0.0.1").value();
  policy.refuse_own_address(*IpAddress::parse("127.0.0.1"), 8080);
  auto e = policy.check("127.0.0.1", 8080, *IpAddress::parse("127.0.0.1"));
  ASSERT_TRUE(e.has_value());
  EXPECT_NE(e->message.find("own listen address"), std::string::npos) << e->message;
  EXPECT_FALSE(policy.check("127.0.0.1", 8081, *IpAddress::parse("127.0.0.1")));

  auto wildcard = NetworkPolicy::parse("127.0.0.0/8").value();
  wildcard.refuse_own_address(*IpAddress::parse("0.0.0.0"), 9000);
  EXPECT_TRUE(wildcard.check("127.0.0.2", 9000, *IpAddress::parse("127.0.0.2")));
  EXPECT_TRUE(wildcard.check("[::ffff:127.0.0.1]", 9000, *IpAddress::parse("::ffff:127.0.0.1")));
  EXPECT_FALSE(wildcard.check("127.0.0.2", 9001, *IpAddress::parse("127.0.0.2")));
}

TEST(NetworkPolicy, ProxyFromEnvironmentHonoursNoProxy) {
  ::setenv("https_proxy", "http://proxy.corp:3128", 1);
  ::setenv("no_proxy", "localhost,.internal.corp,10.0.0.0/8", 1);
  EXPECT_EQ(proxy_for(*Url::parse("https://graph.microsoft.com/")), "http://proxy.corp:3128");
  EXPECT_EQ(proxy_for(*Url::parse("https://a.internal.corp/")), "");
  EXPECT_EQ(proxy_for(*Url::parse("https://internal.corp/")), "");
  EXPECT_EQ(proxy_for(*Url::parse("https://10.1.1.1/")), "");
  EXPECT_EQ(proxy_for(*Url::parse("http://graph.microsoft.com/")), "");  // http_proxy unset
  ::unsetenv("https_proxy");
  ::unsetenv("no_proxy");
  // Through a proxy, a literal target is still checked by its class.
  NetworkPolicy policy;
  EXPECT_TRUE(policy.check_proxied(*Url::parse("http://169.254.169.254/latest/")));
  EXPECT_TRUE(policy.check_proxied(*Url::parse("http://localhost:8080/")));
  EXPECT_FALSE(policy.check_proxied(*Url::parse("https://graph.microsoft.com/")));
}

// ------------------------------------------------------------------ through CurlHttpClient

TEST(NetworkPolicyClient, BlockedLiteralFailsAtOnceWithoutRetriesOrConnection) {
  ManualClock clock;
  Metrics metrics;
  CurlHttpClient client({.policy = std::make_shared<const NetworkPolicy>()}, &clock, &metrics);
  for (const char* url :
       {"http://2852039166/latest/meta-data/", "http://0xa9fea9fe/", "http://[::ffff:a9fe:a9fe]/",
        "http://[fd00:ec2::254]/", "http://10.0.0.1/", "http://127.1:9/"}) {
    auto r = client.send({.url = url});
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.error().code, "network.blocked") << url << ": " << r.error().message;
  }
  EXPECT_EQ(clock.sleeps(), 0);  // never retried
}

TEST(NetworkPolicyClient, NameResolvingToABlockedAddressIsRefusedUnlessAllowed) {
  RecordingServer srv(
      [](int, const server::Request&) { return server::Response::json(200, "{}"); });
  const int port = port_of(srv.url());
  const std::string resolve = "internal.test:" + std::to_string(port) + ":127.0.0.1";
  const std::string url = "http://internal.test:" + std::to_string(port) + "/x";
  Metrics metrics;
  CurlHttpClient strict({.retry = {.max_attempts = 1},
                         .policy = std::make_shared<const NetworkPolicy>(),
                         .resolve = {resolve}},
                        nullptr, &metrics);
  auto refused = strict.send({.url = url});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "network.blocked");
  EXPECT_NE(refused.error().message.find("internal.test (127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << refused.error().message;
  EXPECT_TRUE(srv.received().empty());

  CurlHttpClient allowed(
      {.retry = {.max_attempts = 1}, .policy = policy_of("internal.test"), .resolve = {resolve}},
      nullptr, &metrics);
  auto ok = allowed.send({.url = url});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->status, 200);
  ASSERT_EQ(srv.received().size(), 1u);
  EXPECT_EQ(srv.received()[0].header("Host"), "internal.test:" + std::to_string(port));
}

TEST(NetworkPolicyClient, LocalhostIsLoopbackAndRefusedByDefault) {
  Metrics metrics;
  CurlHttpClient client({.retry = {.max_attempts = 1}, .policy = policy_of("")}, nullptr, &metrics);
  auto r = client.send({.url = "http://localhost:9/"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "network.blocked") << r.error().message;
}

TEST(NetworkPolicyClient, RedirectToEachBlockedClassIsRefusedAtTheHop) {
  const std::vector<std::string> targets = {
      "http://169.254.169.254/latest/meta-data/",
      "http://2852039166/",
      "http://10.0.0.1/",
      "http://192.168.0.1/",
      "http://[fd00:ec2::254]/",
      "http://[::ffff:a9fe:a9fe]/",
      "http://[fe80::1]/",
      "http://224.0.0.1/",
      "http://0.0.0.0/",
      "http://127.0.0.1:9/"};  // loopback on a port the allow entry does not name
  RecordingServer srv([&](int n, const server::Request&) {
    return with_header(server::Response::text(302, ""), "Location",
                       targets[(n - 1) % targets.size()]);
  });
  const std::string allow = "127.0.0.1:" + std::to_string(port_of(srv.url()));
  Metrics metrics;
  CurlHttpClient client({.retry = {.max_attempts = 1},
                         .policy = policy_of(allow),
                         .follow_redirects = CurlOptions::Redirects::any},
                        nullptr, &metrics);
  for (const auto& target : targets) {
    auto r = client.send({.url = srv.url("/start")});
    ASSERT_FALSE(r.ok()) << target;
    EXPECT_EQ(r.error().code, "network.blocked") << target << ": " << r.error().message;
  }
  EXPECT_EQ(srv.received().size(), targets.size());
}

TEST(NetworkPolicyClient, CrossOriginRedirectIsRefusedByDefault) {
  RecordingServer other(
      [](int, const server::Request&) { return server::Response::json(200, "{}"); });
  RecordingServer first([&](int, const server::Request&) {
    return with_header(server::Response::text(302, ""), "Location", other.url("/landing"));
  });
  Metrics metrics;
  CurlHttpClient client({.retry = {.max_attempts = 1}}, nullptr, &metrics);
  auto r = client.send({.url = first.url("/start"), .headers = {{"X-Partner-Key", "p-1"}}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "http.redirect");
  EXPECT_NE(r.error().message.find("another origin"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().hint.find("follow_redirects: any"), std::string::npos) << r.error().hint;
  EXPECT_TRUE(other.received().empty());
}

TEST(NetworkPolicyClient, FollowedCrossOriginRedirectCarriesNoCallerHeadersWhateverTheirNames) {
  RecordingServer other(
      [](int, const server::Request&) { return server::Response::json(200, "{}"); });
  RecordingServer first([&](int n, const server::Request&) {
    if (n == 1) return with_header(server::Response::text(302, ""), "Location", "/same-origin");
    return with_header(server::Response::text(302, ""), "Location", other.url("/landing"));
  });
  Metrics metrics;
  CurlHttpClient client({.follow_redirects = CurlOptions::Redirects::any}, nullptr, &metrics);
  Request req{.url = first.url("/start")};
  req.headers = {{"Authorization", "Bearer secret-token-value"},
                 {"X-Partner-Key", "partner-123"},
                 {"apikey", "k-123456"},
                 {"X-Internal-Auth", "internal-xyz"},
                 {"X-Tenant", "contoso"},
                 {"Accept", "application/json"}};
  req.http_auth = Request::HttpAuth{.user = "svc", .password = "pw-secret"};
  auto r = client.send(req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  auto same = first.received();
  ASSERT_EQ(same.size(), 2u);
  EXPECT_EQ(same[1].header("X-Partner-Key"), "partner-123");  // the same origin keeps them
  EXPECT_TRUE(same[1].header("Authorization").has_value());
  auto landed = other.received();
  ASSERT_EQ(landed.size(), 1u);
  for (const char* name :
       {"Authorization", "X-Partner-Key", "apikey", "X-Internal-Auth", "X-Tenant"})
    EXPECT_FALSE(landed[0].header(name).has_value()) << name;
  EXPECT_EQ(landed[0].header("Accept"), "application/json");
}

TEST(NetworkPolicyClient, CrossOriginRedirectThatResendsTheBodyIsRefused) {
  RecordingServer other(
      [](int, const server::Request&) { return server::Response::json(200, "{}"); });
  RecordingServer first([&](int, const server::Request&) {
    return with_header(server::Response::text(307, ""), "Location", other.url("/token"));
  });
  Metrics metrics;
  CurlHttpClient client(
      {.retry = {.max_attempts = 1}, .follow_redirects = CurlOptions::Redirects::any}, nullptr,
      &metrics);
  auto r =
      client.send({.method = "POST", .url = first.url("/token"), .body = "client_secret=s3cret"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "http.redirect");
  EXPECT_TRUE(other.received().empty());
}

TEST(NetworkPolicyClient, ConnectionToOwnListenAddressIsRefused) {
  RecordingServer srv(
      [](int, const server::Request&) { return server::Response::json(200, "{}"); });
  auto policy = NetworkPolicy::parse("127.0.0.1").value();
  policy.refuse_own_address(*IpAddress::parse("127.0.0.1"), port_of(srv.url()));
  Metrics metrics;
  CurlHttpClient client(
      {.retry = {.max_attempts = 1}, .policy = std::make_shared<const NetworkPolicy>(policy)},
      nullptr, &metrics);
  auto r = client.send({.url = srv.url("/api/v1/sources/x/test")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "network.blocked");
  EXPECT_TRUE(srv.received().empty());
}

}  // namespace
}  // namespace extdata::http
