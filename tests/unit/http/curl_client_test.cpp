#include "http/curl_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "server/http_server.h"

namespace extdata::http {
namespace {

// A loopback server whose answers are scripted per request number, recording what it received.
class ScriptedServer {
 public:
  using Script = std::function<server::Response(int n, const server::Request&)>;
  explicit ScriptedServer(Script script)
      : server_({.listen = "127.0.0.1:0", .threads = 1, .max_body_bytes = 1024},
                server::sync_handler([this](const server::Request& req) {
                  std::lock_guard lock(mu_);
                  received_.push_back(req);
                  return script_(static_cast<int>(received_.size()), req);
                })),
        script_(std::move(script)) {
    auto s = server_.start();
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  }
  std::string url(const std::string& path = "/") const { return server_.url() + path; }
  std::vector<server::Request> received() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  server::HttpServer server_;
  Script script_;
  std::mutex mu_;
  std::vector<server::Request> received_;
};

server::Response with_header(server::Response r, std::string k, std::string v) {
  r.headers.emplace_back(std::move(k), std::move(v));
  return r;
}

TEST(RetryAfter, ParsesSecondsFractionsAndDates) {
  auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(parse_retry_after("41", now), std::chrono::milliseconds(41000));
  EXPECT_EQ(parse_retry_after("2.128", now), std::chrono::milliseconds(2128));
  EXPECT_EQ(parse_retry_after(" 0 ", now), std::chrono::milliseconds(0));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            std::chrono::milliseconds(30000));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now), std::chrono::milliseconds(0));
  EXPECT_FALSE(parse_retry_after("soon", now).has_value());
  EXPECT_FALSE(parse_retry_after("-3", now).has_value());
  EXPECT_FALSE(parse_retry_after("", now).has_value());
}

TEST(CurlHttpClient, RetriesThrottledResponsesHonouringRetryAfter) {
  ScriptedServer srv([](int n, const server::Request&) {
    if (n == 1) return with_header(server::Response::json(429, "{}"), "Retry-After", "2.128");
    if (n == 2) return with_header(server::Response::json(503, "{}"), "Retry-After", "3");
    return server::Response::json(200, R"({"ok":true})");
  });
  ManualClock clock;
  Metrics metrics;
  CurlHttpClient client({.metrics_label = "t"}, &clock, &metrics);
  auto r = client.send({.url = srv.url("/items")});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->attempts, 3);
  EXPECT_EQ(r->body, R"({"ok":true})");
  EXPECT_EQ(clock.total_slept(), std::chrono::milliseconds(2128 + 3000));
  EXPECT_EQ(srv.received().size(), 3u);
  EXPECT_EQ(metrics.counter_value("extdata_http_retries_total", {{"client", "t"}}), 2);
  EXPECT_EQ(metrics.counter_value("extdata_http_throttled_total", {{"client", "t"}}), 2);
  EXPECT_EQ(metrics.counter_value("extdata_http_requests_total", {{"client", "t"}}), 3);
}

TEST(CurlHttpClient, BacksOffExponentiallyWithoutRetryAfterAndStopsAtMaxAttempts) {
  ScriptedServer srv([](int, const server::Request&) { return server::Response::json(503, "{}"); });
  ManualClock clock;
  Metrics metrics;
  CurlOptions opts;
  opts.retry.max_attempts = 4;
  opts.retry.base_delay = std::chrono::milliseconds(1000);
  CurlHttpClient client(opts, &clock, &metrics);
  auto r = client.send({.url = srv.url()});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->attempts, 4);
  EXPECT_EQ(srv.received().size(), 4u);
  EXPECT_EQ(clock.sleeps(), 3);
  // Jittered between half and all of 1 s, 2 s, 4 s.
  EXPECT_GE(clock.total_slept(), std::chrono::milliseconds(3500));
  EXPECT_LE(clock.total_slept(), std::chrono::milliseconds(7000));
}

TEST(CurlHttpClient, CapsEachRetryAfterWait) {
  ScriptedServer srv([](int n, const server::Request&) {
    if (n == 1) return with_header(server::Response::json(429, "{}"), "Retry-After", "100000");
    return server::Response::json(200, "{}");
  });
  ManualClock clock;
  CurlOptions opts;
  opts.retry.max_retry_after = std::chrono::milliseconds(300'000);
  Metrics metrics;
  CurlHttpClient client(opts, &clock, &metrics);
  ASSERT_TRUE(client.send({.url = srv.url()}).ok());
  EXPECT_EQ(clock.total_slept(), std::chrono::milliseconds(300'000));
}

TEST(CurlHttpClient, DoesNotRetryClientErrors) {
  ScriptedServer srv([](int, const server::Request&) { return server::Response::json(400, "{}"); });
  ManualClock clock;
  Metrics metrics;
  CurlHttpClient client({}, &clock, &metrics);
  auto r = client.send({.url = srv.url()});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(srv.received().size(), 1u);
  EXPECT_EQ(clock.sleeps(), 0);
}

TEST(CurlHttpClient, ResponseSizeLimitEndsWithClearError) {
  ScriptedServer srv([](int, const server::Request&) {
    return server::Response::text(200, std::string(100'000, 'x'));
  });
  Metrics metrics;
  CurlHttpClient client({.max_response_bytes = 10'000}, nullptr, &metrics);
  auto r = client.send({.url = srv.url()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "http.too_large");
  EXPECT_NE(r.error().message.find("10000 bytes"), std::string::npos);
  EXPECT_FALSE(r.error().hint.empty());
}

// A body of announced length arrives in one buffer with room for a parser's read-ahead, so a
// multi-megabyte page is neither regrown while it arrives nor copied before it is parsed.
TEST(CurlHttpClient, AnnouncedBodyIsReceivedIntoOneSizedBuffer) {
  const std::string page(3'000'000, 'p');
  ScriptedServer srv(
      [&](int, const server::Request&) { return server::Response::text(200, page); });
  Metrics metrics;
  CurlHttpClient client({}, nullptr, &metrics);
  auto r = client.send({.url = srv.url()});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, page);
  EXPECT_GE(r->body.capacity(), page.size() + 64);
  EXPECT_LT(r->body.capacity(), page.size() + 4096);
}

TEST(CurlHttpClient, SendsMethodHeadersAndBody) {
  ScriptedServer srv([](int, const server::Request& req) {
    return server::Response::json(200, "{\"echo\":\"" + req.method + "\"}");
  });
  Metrics metrics;
  CurlHttpClient client({}, nullptr, &metrics);
  Request req{.method = "POST", .url = srv.url("/token?x=1")};
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Test", "yes"}};
  req.body = form_encode({{"grant_type", "client_credentials"}, {"scope", "https://g/.default"}});
  auto r = client.send(req);
  ASSERT_TRUE(r.ok());
  auto got = srv.received().at(0);
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.path, "/token");
  EXPECT_EQ(got.query_param("x"), "1");
  EXPECT_EQ(got.header("X-Test"), "yes");
  EXPECT_EQ(got.body, "grant_type=client_credentials&scope=https%3A%2F%2Fg%2F.default");
}

TEST(CurlHttpClient, RedirectToAnotherHostDropsCredentials) {
  ScriptedServer other(
      [](int, const server::Request&) { return server::Response::json(200, "{}"); });
  std::string target = other.url("/landing");
  ScriptedServer first([&](int n, const server::Request&) {
    if (n == 1) return with_header(server::Response::text(302, ""), "Location", "/same-host");
    return with_header(server::Response::text(302, ""), "Location", target);
  });
  Metrics metrics;
  CurlHttpClient client({.follow_redirects = CurlOptions::Redirects::any}, nullptr, &metrics);
  Request req{.url = first.url("/start")};
  req.headers = {{"Authorization", "Bearer secret-token-value"},
                 {"X-Api-Key", "k-123456"},
                 {"Accept", "application/json"}};
  auto r = client.send(req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  auto same = first.received();
  ASSERT_EQ(same.size(), 2u);
  EXPECT_EQ(same[1].header("Authorization"), "Bearer secret-token-value");  // same origin keeps it
  auto landed = other.received();
  ASSERT_EQ(landed.size(), 1u);
  EXPECT_FALSE(landed[0].header("Authorization").has_value());
  EXPECT_FALSE(landed[0].header("X-Api-Key").has_value());
  EXPECT_EQ(landed[0].header("Accept"), "application/json");
}

TEST(CurlHttpClient, TooManyRedirectsIsAnError) {
  ScriptedServer srv([](int, const server::Request&) {
    return with_header(server::Response::text(302, ""), "Location", "/again");
  });
  Metrics metrics;
  CurlHttpClient client({.max_redirects = 3}, nullptr, &metrics);
  auto r = client.send({.url = srv.url()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "http.redirect");
  EXPECT_EQ(srv.received().size(), 4u);
}

TEST(CurlHttpClient, ConnectionRefusedIsRetriedThenReported) {
  // Bind and immediately stop a server to get a port nobody listens on.
  std::string url;
  {
    server::HttpServer s({.listen = "127.0.0.1:0"},
                         server::sync_handler([](const server::Request&) {
                           return server::Response::json(200, "{}");
                         }));
    ASSERT_TRUE(s.start().ok());
    url = s.url();
    s.stop();
  }
  ManualClock clock;
  Metrics metrics;
  CurlOptions opts;
  opts.retry.max_attempts = 3;
  CurlHttpClient client(opts, &clock, &metrics);
  auto r = client.send({.url = url});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "http.connect");
  EXPECT_EQ(clock.sleeps(), 2);
}

TEST(CurlHttpClient, DroppedConnectionMidBodyIsATransferError) {
  ScriptedServer srv([](int, const server::Request&) {
    auto r = server::Response::json(200, std::string(5000, 'a'));
    r.close_after_body_bytes = 100;
    return r;
  });
  ManualClock clock;
  Metrics metrics;
  CurlOptions opts;
  opts.retry.max_attempts = 2;
  CurlHttpClient client(opts, &clock, &metrics);
  auto r = client.send({.url = srv.url()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "http.transfer");
  EXPECT_EQ(srv.received().size(), 2u);
}

TEST(HttpServer, RejectsOversizeBodyWith413) {
  ScriptedServer srv([](int, const server::Request&) { return server::Response::json(200, "{}"); });
  Metrics metrics;
  CurlHttpClient client({}, nullptr, &metrics);
  auto r = client.send({.method = "PUT", .url = srv.url("/x"), .body = std::string(5000, 'b')});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("request.too_large"), std::string::npos);
}

TEST(HttpServer, KeepsConnectionsAliveAcrossRequests) {
  ScriptedServer srv(
      [](int n, const server::Request&) { return server::Response::json(200, std::to_string(n)); });
  Metrics metrics;
  CurlHttpClient client({}, nullptr, &metrics);
  for (int i = 1; i <= 5; ++i) {
    auto r = client.send({.url = srv.url()});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->body, std::to_string(i));
  }
}

TEST(ServerQuery, DecodesPercentAndPlus) {
  auto q = server::parse_query("q=M%C3%BCller+GmbH&ctx.country=DE&flag");
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q[0].second, "Müller GmbH");
  EXPECT_EQ(q[1].first, "ctx.country");
  EXPECT_EQ(q[2].first, "flag");
  EXPECT_EQ(server::percent_decode("%zz%4", false), "%zz%4");
}

}  // namespace
}  // namespace extdata::http
