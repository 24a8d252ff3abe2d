// Issue 15, rows 1, 2, 9, 11 (healthz), 12: requests that used to crash the server or reach
// what they should not. Each test sends the reproduction to a real ApiServer on 127.0.0.1
// port 0 and then checks that the same server still answers /healthz.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "api/access.h"
#include "api/api_server.h"
#include "api/static_files.h"
#include "core/limits.h"
#include "http/curl_client.h"
#include "unit/sources_rest/scripted_server.h"

namespace extdata::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string deep_json(size_t levels) {
  return std::string(levels, '[') + std::string(levels, ']');
}

class ApiLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("EXTDATA_MASTER_KEY");
    dir_ = fs::temp_directory_path() / ("extdata-limits-" + std::to_string(std::random_device{}()));
    // web/ and a sibling whose name starts with "web": the sibling must never be served.
    fs::create_directories(dir_ / "web" / "demo");
    fs::create_directories(dir_ / "web-private");
    std::ofstream(dir_ / "web" / "index.html") << "<html>admin</html>";
    std::ofstream(dir_ / "web" / "demo" / "form.html") << "<html>form</html>";
    std::ofstream(dir_ / "web-private" / "secret.txt") << "do-not-serve";
    auto store = store::open_sqlite_store((dir_ / "data").string());
    // (the server starts in start_server, so a test may choose its worker count)
    ASSERT_TRUE(store.ok()) << store.error().message;
    admin_ = *(*store)->create_token("admin", "test", 0);
    reader_ = *(*store)->create_token("reader", "test", 0);
    runtime_ = std::make_unique<Runtime>(std::move(*store), clock_, metrics_);
    start_server(2);
  }
  void start_server(int workers) {
    server_.reset();
    ApiOptions options;
    options.server.listen = "127.0.0.1:0";  // the default 1 MiB body limit, as in production
    options.workers = workers;
    options.anonymous_read = true;
    options.web_dir = (dir_ / "web").string();
    server_ = std::make_unique<ApiServer>(*runtime_, options);
    ASSERT_TRUE(server_->start().ok());
  }
  void TearDown() override {
    server_.reset();
    runtime_.reset();
    fs::remove_all(dir_);
  }

  http::Response call(const std::string& method, const std::string& path,
                      const std::string& token = {}, const std::string& body = {},
                      const std::string& scheme = "Bearer") {
    http::Request req{.method = method, .url = server_->url() + path, .body = body};
    if (!token.empty()) req.headers.emplace_back("Authorization", scheme + " " + token);
    if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    auto r = client_.send(req);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : http::Response{};
  }

  // Sends bytes as they are (curl would normalise the target) and returns the whole answer.
  std::string raw(const std::string& request) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server_->port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
    std::string out;
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) out.append(buffer, n);
    ::close(fd);
    return out;
  }

  static json body(const http::Response& r) { return json::parse(r.body, nullptr, false); }

  void expect_alive() {
    auto h = call("GET", "/healthz");
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(body(h)["status"], "ok");
  }

  void expect_too_deep(const http::Response& r) {
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
    EXPECT_EQ(body(r)["error"]["code"], "api.json_too_deep");
    EXPECT_NE(body(r)["error"]["hint"].get<std::string>().find("json_max_depth"),
              std::string::npos);
  }

  // Port 9 on loopback refuses connections: the fetches of a field's template check fail
  // at once and nothing leaves the machine.
  const std::string rest_source_ = R"({"type":"rest","url":"http://127.0.0.1:9/customers",
    "records":"$.items[*]"})";

  fs::path dir_;
  ManualClock clock_;
  Metrics metrics_;
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<ApiServer> server_;
  http::CurlHttpClient client_{http::CurlOptions{.retry = {.max_attempts = 1}}, nullptr, &metrics_};
  std::string admin_, reader_;
};

// Row 1: an anonymous reader crashed the process with a 100,000-deep context.
TEST_F(ApiLimitsTest, DeepContextInOptionsQueryIs400NamingTheLimitAndTheServerLives) {
  ASSERT_EQ(call("PUT", "/api/v1/sources/crm", admin_, rest_source_).status, 201);
  ASSERT_EQ(call("PUT", "/api/v1/fields/customer", admin_, R"({"source":"crm"})").status, 201);
  const std::string payload = R"({"q":"mu","context":{"x":)" + deep_json(100000) + "}}";
  expect_too_deep(call("POST", "/api/v1/fields/customer/options", "", payload));
  expect_alive();
}

// Row 2: ~100,000-deep JSON in every admin body.
TEST_F(ApiLimitsTest, DeepJsonInEveryAdminBodyIs400AndTheServerLives) {
  ASSERT_EQ(call("PUT", "/api/v1/sources/crm", admin_, rest_source_).status, 201);
  const std::string deep = deep_json(100000);
  expect_too_deep(call("PUT", "/api/v1/sources/x", admin_, R"({"type":"rest","a":)" + deep + "}"));
  expect_too_deep(call("PUT", "/api/v1/fields/f", admin_, R"({"source":"crm","a":)" + deep + "}"));
  expect_too_deep(
      call("POST", "/api/v1/sources/crm/test", admin_, R"({"variables":{"v":)" + deep + "}}"));
  const std::string draft = R"({"source":)" + rest_source_ + R"(,"variables":{"v":)" + deep + "}}";
  expect_too_deep(call("POST", "/api/v1/draft/test", admin_, draft));
  expect_too_deep(call("POST", "/api/v1/draft/authenticate", admin_, draft));
  expect_too_deep(call("POST", "/api/v1/draft/field-options", admin_,
                       R"({"field":{"source":"crm"},"context":{"x":)" + deep + "}}"));
  expect_alive();
}

// Row 2: a 60,000-character URL and a "${env:" + 500 KB string overflowed std::regex.
TEST_F(ApiLimitsTest, HugeUrlAndUnclosedReferenceAreValidatedWithoutCrashing) {
  const std::string long_url = "https://api.example.com/" + std::string(60000, 'a');
  auto ok = call("PUT", "/api/v1/sources/long", admin_,
                 json{{"type", "rest"}, {"url", long_url}, {"records", "$[*]"}}.dump());
  EXPECT_EQ(ok.status, 201) << ok.body.substr(0, 300);
  auto bad = call("PUT", "/api/v1/sources/bad", admin_,
                  json{{"type", "rest"}, {"url", "ftp://" + std::string(60000, 'a')}}.dump());
  EXPECT_EQ(bad.status, 400);
  auto ref = call("PUT", "/api/v1/sources/ref", admin_,
                  json{{"type", "rest"},
                       {"url", "https://api.example.com/"},
                       {"description", "${env:" + std::string(500000, 'x')}}
                      .dump());
  EXPECT_NE(ref.status, 0);
  EXPECT_NE(ref.status, 500) << ref.body.substr(0, 300);
  expect_alive();
}

// Row 9: a target without the leading slash served the web dir's sibling "web-private".
TEST_F(ApiLimitsTest, RequestTargetWithoutLeadingSlashIs400) {
  const std::string answer = raw("GET -private/secret.txt HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
  EXPECT_NE(answer.find("request.bad_target"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("do-not-serve"), std::string::npos);
  expect_alive();
}

TEST_F(ApiLimitsTest, EncodedNulInThePathIs400) {
  const std::string answer = raw("GET /index.html%00.js HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
  EXPECT_EQ(answer.find("<html>"), std::string::npos);
  expect_alive();
}

// A malformed head used to close the connection without an answer ("Empty reply from server").
// Each request asks for Connection: close, so a wrongly accepted one ends instead of idling.
TEST_F(ApiLimitsTest, MalformedRequestHeadsGetA400NamingTheProblem) {
  const std::string no_colon = raw("GET /healthz HTTP/1.1\r\nConnection: close\r\nHost x\r\n\r\n");
  EXPECT_EQ(no_colon.rfind("HTTP/1.1 400", 0), 0u) << no_colon;
  EXPECT_NE(no_colon.find("request.malformed"), std::string::npos) << no_colon;
  EXPECT_NE(no_colon.find("one header per line"), std::string::npos) << no_colon;

  const std::string leading_fold =
      raw("GET /healthz HTTP/1.1\r\n  folded\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(leading_fold.rfind("HTTP/1.1 400", 0), 0u) << leading_fold;

  const std::string bad_version = raw("GET /healthz HTTP/9\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(bad_version.rfind("HTTP/1.1 400", 0), 0u) << bad_version;

  const std::string huge_head =
      raw("GET /healthz HTTP/1.1\r\nConnection: close\r\nX-Big: " + std::string(70 * 1024, 'a') +
          "\r\n\r\n");
  EXPECT_EQ(huge_head.rfind("HTTP/1.1 400", 0), 0u) << huge_head.substr(0, 200);
  EXPECT_NE(huge_head.find("65536 bytes"), std::string::npos) << huge_head.substr(0, 400);
  expect_alive();
}

TEST_F(ApiLimitsTest, DirectoriesServeTheirIndexOr404AndNeverAnEmpty200) {
  auto root = call("GET", "/");
  EXPECT_EQ(root.status, 200);
  EXPECT_EQ(root.body, "<html>admin</html>");
  EXPECT_EQ(call("GET", "/demo").status, 404);  // web/demo has no index.html
  EXPECT_EQ(call("GET", "/demo/").status, 404);
  auto form = call("GET", "/demo/form");
  EXPECT_EQ(form.status, 200);
  EXPECT_EQ(form.body, "<html>form</html>");
  std::ofstream(dir_ / "web" / "demo" / "index.html") << "<html>demo</html>";
  EXPECT_EQ(call("GET", "/demo/").body, "<html>demo</html>");
  EXPECT_EQ(call("GET", "/../web-private/secret.txt").status, 404);
  EXPECT_EQ(call("GET", "/%2e%2e/web-private/secret.txt").status, 404);
}

TEST(StaticFiles, ResolvesOnlyFilesInsideTheWebDirectory) {
  const fs::path dir =
      fs::temp_directory_path() / ("extdata-static-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir / "web" / "sub");
  fs::create_directories(dir / "web-private");
  std::ofstream(dir / "web" / "a.js") << "a";
  std::ofstream(dir / "web-private" / "s") << "s";
  const std::string web = (dir / "web").string();
  EXPECT_EQ(resolve_static_file(web, "/a.js"), (dir / "web" / "a.js").string());
  EXPECT_EQ(resolve_static_file(web, "/../web-private/s"), "");
  EXPECT_EQ(resolve_static_file(web + "/", "/../web-private/s"), "");
  EXPECT_EQ(resolve_static_file(web, "-private/s"), "");
  EXPECT_EQ(resolve_static_file(web, std::string("/a.js\0.html", 11)), "");
  EXPECT_EQ(resolve_static_file(web, "/sub"), "");  // a directory without index.html
  fs::remove_all(dir);
}

// Row 12: `Authorization: bearer …` was refused.
TEST_F(ApiLimitsTest, BearerSchemeIsCaseInsensitive) {
  EXPECT_EQ(call("GET", "/api/v1/sources", admin_, "", "bearer").status, 200);
  EXPECT_EQ(call("GET", "/api/v1/sources", admin_, "", "BEARER").status, 200);
  EXPECT_EQ(call("GET", "/api/v1/sources", admin_, "", "Basic").status, 401);
  EXPECT_EQ(bearer_token("bEaReR   tok"), "tok");
  EXPECT_FALSE(bearer_token("Bearertok"));
  EXPECT_FALSE(bearer_token("Bearer "));
}

// Row 12: reader and anonymous callers saw internal upstream URLs and body excerpts.
TEST_F(ApiLimitsTest, ReaderErrorsCarryNoUpstreamUrlsOrBodiesWhileAdminsSeeThem) {
  testing::RecordingServer upstream([](int, const server::Request&) {
    return server::Response::json(500, R"({"internal":"stack trace at db-7.corp"})");
  });
  json source = {
      {"type", "rest"}, {"url", upstream.url("/internal/customers")}, {"records", "$.items[*]"}};
  ASSERT_EQ(call("PUT", "/api/v1/sources/crm", admin_, source.dump()).status, 201);
  ASSERT_EQ(call("PUT", "/api/v1/fields/customer", admin_, R"({"source":"crm"})").status, 201);
  for (const std::string& token : {std::string(), reader_}) {
    auto r = call("GET", "/api/v1/fields/customer/options?q=a", token);
    EXPECT_GE(r.status, 400);
    const json e = body(r)["error"];
    EXPECT_FALSE(e["code"].get<std::string>().empty());
    EXPECT_TRUE(e.value("upstream", json::object()).empty()) << r.body;  // no upstream details
    EXPECT_EQ(r.body.find("/internal/customers"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("db-7.corp"), std::string::npos) << r.body;
  }
  auto admin = call("GET", "/api/v1/fields/customer/options?q=a", admin_);
  EXPECT_TRUE(body(admin)["error"].contains("upstream")) << admin.body;
}

TEST(VisibleError, ReadersGetCodeMessageAndHintWithoutUrls) {
  Error e("http.status", "GET https://intranet.corp:8443/x?y=1 returned 500", "see http://h/a");
  e.with("body", "secret excerpt").with("url", "https://intranet.corp:8443/x");
  const Error reader = visible_error(e, ErrorAudience::reader);
  EXPECT_EQ(reader.code, "http.status");
  EXPECT_EQ(reader.message, "GET [upstream URL] returned 500");
  EXPECT_EQ(reader.hint, "see [upstream URL]");
  EXPECT_TRUE(reader.details.empty());
  EXPECT_EQ(visible_error(e, ErrorAudience::admin).details.size(), 2u);
}

// Row 11 (in part): /healthz and /metrics are answered on the network thread.
TEST_F(ApiLimitsTest, HealthzIsAnsweredWhileEveryWorkerIsBusy) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  testing::RecordingServer slow([&](int, const server::Request&) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });
    return server::Response::json(200, R"({"items":[]})");
  });
  json source = {{"type", "rest"}, {"url", slow.url("/slow")}, {"records", "$.items[*]"}};
  ASSERT_EQ(call("PUT", "/api/v1/sources/slow", admin_, source.dump()).status, 201);
  start_server(1);
  // The only worker waits on the upstream.
  std::thread held([&] {
    http::CurlHttpClient own{http::CurlOptions{.retry = {.max_attempts = 1}}};
    http::Request req{
        .method = "POST", .url = server_->url() + "/api/v1/sources/slow/test", .body = "{}"};
    req.headers.emplace_back("Authorization", "Bearer " + admin_);
    (void)own.send(req);
  });
  for (int i = 0; i < 2000 && slow.received().empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // waits for arrival, not time
  EXPECT_EQ(slow.received().size(), 1u);
  http::CurlHttpClient quick{http::CurlOptions{.total_timeout = std::chrono::milliseconds(2000),
                                               .retry = {.max_attempts = 1}},
                             nullptr, &metrics_};
  auto h = quick.send(http::Request{.method = "GET", .url = server_->url() + "/healthz"});
  auto m = quick.send(http::Request{.method = "GET", .url = server_->url() + "/metrics"});
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  held.join();
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->status, 200);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->status, 200);
}

// Row 6: 3,300 anonymous requests with distinct ctx.country values grew RSS from 33 to 266 MB,
// wrote 3,303 snapshot rows and sent 6,602 upstream requests; nothing was ever evicted.
TEST_F(ApiLimitsTest, DistinctContextValuesAreBoundedInMemorySnapshotsAndUpstreamFetches) {
  Limits bounded = limits();
  bounded.new_keys_per_minute = 50;
  bounded.cache_source_max_entries = 20;
  bounded.snapshot_max_per_source = 10;
  ScopedLimits scoped(bounded);
  testing::RecordingServer upstream([](int, const server::Request&) {
    return server::Response::json(200, R"({"items":[{"id":1,"fields":{"Title":"X"}}]})");
  });
  const json source = {{"type", "rest"},
                       {"url", upstream.url("/cities?country={country}")},
                       {"records", "$.items[*]"},
                       {"variables", {{"country", {{"required", true}}}}}};
  ASSERT_EQ(call("PUT", "/api/v1/sources/cities", admin_, source.dump()).status, 201);
  ASSERT_EQ(call("PUT", "/api/v1/fields/city", admin_,
                 R"({"source":"cities","variables":{"country":"{country}"}})")
                .status,
            201);
  ASSERT_EQ(call("PUT", "/api/v1/fields/kept_city", admin_,
                 R"({"source":"cities","variables":{"country":"{country}"},"snapshot":true})")
                .status,
            201);
  // 15 keys through a field that keeps a snapshot of every key: the newest 10 rows stay.
  for (int i = 0; i < 15; ++i) {
    auto r = call("GET", "/api/v1/fields/kept_city/options?ctx.country=K" + std::to_string(i));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  EXPECT_EQ(*runtime_->store().count_snapshots("cities"), 10u);

  // 300 distinct values, each asked once by an anonymous caller.
  int answered = 0, refused = 0;
  for (int i = 0; i < 300; ++i) {
    auto r = call("GET", "/api/v1/fields/city/options?ctx.country=C" + std::to_string(i));
    if (r.status == 200) {
      ++answered;
    } else {
      ++refused;
      EXPECT_EQ(r.status, 429) << r.body;
      EXPECT_EQ(body(r)["error"]["code"], "cache.rate_limited");
      // 50 a minute: one more every 1.2 s, announced in whole seconds.
      EXPECT_EQ(r.header("Retry-After").value_or(""), "2");
    }
  }
  EXPECT_EQ(upstream.received().size(), 50u) << "the source's budget of new keys a minute";
  EXPECT_EQ(answered, 35);
  EXPECT_EQ(refused, 265);
  EXPECT_LE(metrics_.gauge("extdata_cache_entries").value(), 20);
  EXPECT_EQ(metrics_.counter_value("extdata_cache_evictions_total", {{"source", "cities"}}), 30);
  EXPECT_EQ(*runtime_->store().count_snapshots("cities"), 10u)
      << "keys served once leave no snapshot";

  auto undeclared = call("GET", "/api/v1/fields/city/options?ctx.country=C1&ctx.evil=1");
  EXPECT_EQ(undeclared.status, 400);
  EXPECT_EQ(body(undeclared)["error"]["code"], "field.undeclared_context");
  EXPECT_NE(body(undeclared)["error"]["message"].get<std::string>().find("'evil'"),
            std::string::npos)
      << undeclared.body;
  expect_alive();
}

TEST_F(ApiLimitsTest, UndeclaredContextKeysAre400OnTheInlineAndTheWorkerPath) {
  testing::RecordingServer upstream([](int, const server::Request&) {
    return server::Response::json(200, R"({"items":[{"id":1,"fields":{"Title":"X"}}]})");
  });
  const json source = {
      {"type", "rest"}, {"url", upstream.url("/customers")}, {"records", "$.items[*]"}};
  ASSERT_EQ(call("PUT", "/api/v1/sources/crm", admin_, source.dump()).status, 201);
  ASSERT_EQ(call("PUT", "/api/v1/fields/customer", admin_, R"({"source":"crm"})").status, 201);
  auto first = call("GET", "/api/v1/fields/customer/options?ctx.country=DE", reader_);
  EXPECT_EQ(first.status, 400) << first.body;
  EXPECT_EQ(body(first)["error"]["code"], "field.undeclared_context");
  ASSERT_EQ(call("GET", "/api/v1/fields/customer/options", reader_).status, 200);
  // Now field, records and table are in memory: the answer comes from the network thread.
  auto inline_answer = call("GET", "/api/v1/fields/customer/options?ctx.country=DE", reader_);
  EXPECT_EQ(inline_answer.status, 400) << inline_answer.body;
  EXPECT_NE(body(inline_answer)["error"]["message"].get<std::string>().find("'country'"),
            std::string::npos);
  auto posted =
      call("POST", "/api/v1/fields/customer/options", reader_, R"({"context":{"country":"DE"}})");
  EXPECT_EQ(posted.status, 400);
  EXPECT_EQ(upstream.received().size(), 1u);
  expect_alive();
}

}  // namespace
}  // namespace extdata::api
