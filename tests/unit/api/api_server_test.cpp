#include "api/api_server.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <algorithm>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "config/catalog.h"
#include "http/curl_client.h"

namespace extdata::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("EXTDATA_MASTER_KEY");
    dir_ = fs::temp_directory_path() / ("extdata-api-" + std::to_string(std::random_device{}()));
    auto store = store::open_sqlite_store(dir_.string());
    ASSERT_TRUE(store.ok()) << store.error().message;
    admin_ = *(*store)->create_token("admin", "test", 0);
    reader_ = *(*store)->create_token("reader", "test", 0);
    runtime_ = std::make_unique<Runtime>(std::move(*store), clock_, metrics_);
    ApiOptions options;
    options.server.listen = "127.0.0.1:0";
    options.server.max_body_bytes = 64 * 1024;
    options.workers = 2;
    options.cors_origins = {"https://forms.example.com"};
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
                      http::Headers extra = {}) {
    http::Request req{.method = method, .url = server_->url() + path, .body = body};
    req.headers = std::move(extra);
    if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
    if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    auto r = client_.send(req);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : http::Response{};
  }

  static json body(const http::Response& r) { return json::parse(r.body, nullptr, false); }

  const std::string rest_source_ = R"({"type":"rest","url":"https://api.example.com/customers",
    "records":"$.items[*]","auth":{"type":"bearer","token":"tok-SECRET-abc123"}})";

  // Cannot be fetched without a country: a field must bind the variable.
  const std::string cities_source_ = R"({"type":"rest",
    "url":"https://api.example.com/cities?country={country}","records":"$.items[*]",
    "variables":{"country":{"required":true}}})";

  fs::path dir_;
  ManualClock clock_;
  Metrics metrics_;
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<ApiServer> server_;
  http::CurlHttpClient client_{http::CurlOptions{.retry = {.max_attempts = 1}}, nullptr, &metrics_};
  std::string admin_, reader_;
};

TEST_F(ApiTest, KindsDocumentIsForAdminsAndListsEveryKindAndMethod) {
  EXPECT_EQ(call("GET", "/api/v1/kinds").status, 401);
  auto reader = call("GET", "/api/v1/kinds", reader_);
  EXPECT_EQ(reader.status, 403);
  EXPECT_EQ(body(reader)["error"]["code"], "api.forbidden");
  auto admin = call("GET", "/api/v1/kinds", admin_);
  ASSERT_EQ(admin.status, 200);
  const json doc = body(admin);
  EXPECT_EQ(doc, config::kinds_document());
  std::set<std::string> types;
  for (const auto& k : doc["sources"]) types.insert(k["type"].get<std::string>());
  EXPECT_EQ(types, (std::set<std::string>{"file", "rest", "sharepoint-list", "sql"}));
  EXPECT_EQ(doc["auth"].size(), 7u);
  EXPECT_EQ(call("POST", "/api/v1/kinds", admin_).status, 405);
}

TEST_F(ApiTest, HealthAndMetricsNeedNoToken) {
  auto h = call("GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(body(h)["status"], "ok");
  metrics_.counter("extdata_test_total").inc(3);
  auto m = call("GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("extdata_test_total 3"), std::string::npos);
}

TEST_F(ApiTest, ConfigEndpointsNeedAnAdminToken) {
  auto none = call("GET", "/api/v1/sources");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(body(none)["error"]["code"], "api.unauthenticated");
  EXPECT_FALSE(body(none)["error"]["hint"].get<std::string>().empty());
  auto bad = call("GET", "/api/v1/sources", "edt_not_a_token");
  EXPECT_EQ(bad.status, 401);
  auto reader = call("GET", "/api/v1/sources", reader_);
  EXPECT_EQ(reader.status, 403);
  EXPECT_EQ(body(reader)["error"]["code"], "api.forbidden");
  auto admin = call("GET", "/api/v1/sources", admin_);
  EXPECT_EQ(admin.status, 200);
  EXPECT_TRUE(body(admin)["sources"].is_array());
}

TEST_F(ApiTest, PutGetDeleteSourceNeverReturnsTheSecret) {
  auto created = call("PUT", "/api/v1/sources/crm", admin_, rest_source_);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.body.find("tok-SECRET-abc123"), std::string::npos);
  auto got = call("GET", "/api/v1/sources/crm", admin_);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(body(got)["auth"]["token"], (json{{"set", true}}));
  EXPECT_EQ(got.body.find("tok-SECRET-abc123"), std::string::npos);
  // Sending back {"set": true} keeps the stored secret.
  json again = body(got);
  again.erase("warnings");
  again["url"] = "https://api.example.com/v2/customers";
  auto updated = call("PUT", "/api/v1/sources/crm", admin_, again.dump());
  ASSERT_EQ(updated.status, 200) << updated.body;
  auto stored = runtime_->store().get_source("crm");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((**stored).spec["auth"]["token"], "tok-SECRET-abc123");
  EXPECT_EQ((**stored).spec["url"], "https://api.example.com/v2/customers");
  auto list = call("GET", "/api/v1/sources", admin_);
  EXPECT_EQ(list.body.find("tok-SECRET-abc123"), std::string::npos);
  EXPECT_EQ(call("DELETE", "/api/v1/sources/crm", admin_).status, 200);
  auto gone = call("GET", "/api/v1/sources/crm", admin_);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(body(gone)["error"]["code"], "source.not_found");
}

TEST_F(ApiTest, InvalidSourceIs400WithKeyPath) {
  auto r = call("PUT", "/api/v1/sources/crm", admin_,
                R"({"type":"rest","url":"ftp://x","recrods":"$"})");
  EXPECT_EQ(r.status, 400);
  auto e = body(r)["error"];
  EXPECT_EQ(e["code"], "config.invalid");
  EXPECT_NE(e["message"].get<std::string>().find("recrods"), std::string::npos) << e.dump();
  EXPECT_NE(e["message"].get<std::string>().find("url"), std::string::npos) << e.dump();
  auto not_json = call("PUT", "/api/v1/sources/crm", admin_, "{not json");
  EXPECT_EQ(not_json.status, 400);
  EXPECT_TRUE(runtime_->store().list_sources()->empty());
}

TEST_F(ApiTest, FieldsNeedAnExistingSourceAndBlockItsDeletion) {
  auto orphan = call("PUT", "/api/v1/fields/customer", admin_, R"({"source":"nope"})");
  EXPECT_EQ(orphan.status, 400);
  ASSERT_EQ(call("PUT", "/api/v1/sources/crm", admin_, rest_source_).status, 201);
  auto field =
      call("PUT", "/api/v1/fields/customer", admin_, R"({"source":"crm","label":"{name}"})");
  ASSERT_EQ(field.status, 201) << field.body;
  EXPECT_EQ(body(field)["limit"], 20);
  auto in_use = call("DELETE", "/api/v1/sources/crm", admin_);
  EXPECT_EQ(in_use.status, 409);
  EXPECT_EQ(body(in_use)["error"]["code"], "store.in_use");
  EXPECT_EQ(call("GET", "/api/v1/fields", admin_).status, 200);
  EXPECT_EQ(call("DELETE", "/api/v1/fields/customer", admin_).status, 200);
  EXPECT_EQ(call("DELETE", "/api/v1/fields/customer", admin_).status, 404);
}

// ------------------------------------------------------------ conditional requests (ETags)

std::string etag(const http::Response& r) {
  return r.header("ETag").value_or("");
}

TEST_F(ApiTest, GetAnswersTheStoredVersionAsAStrongETagAndEveryChangingPutANewOne) {
  auto created = call("PUT", "/api/v1/sources/crm", admin_, rest_source_);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string v1 = etag(created);
  ASSERT_GE(v1.size(), 3u);
  EXPECT_EQ(v1.front(), '"');  // strong: quoted, no W/
  EXPECT_EQ(v1.back(), '"');
  auto got = call("GET", "/api/v1/sources/crm", admin_);
  EXPECT_EQ(etag(got), v1);

  // Without If-Match / If-None-Match a PUT stays an upsert (config-as-code clients).
  json changed = json::parse(rest_source_);
  changed["url"] = "https://api.example.com/v2/customers";
  auto updated = call("PUT", "/api/v1/sources/crm", admin_, changed.dump());
  ASSERT_EQ(updated.status, 200) << updated.body;
  const std::string v2 = etag(updated);
  EXPECT_NE(v2, v1);
  EXPECT_EQ(etag(call("GET", "/api/v1/sources/crm", admin_)), v2);
  // The same spec again changes nothing, so the version stays.
  auto same = call("PUT", "/api/v1/sources/crm", admin_, changed.dump());
  EXPECT_EQ(same.status, 200);
  EXPECT_EQ(etag(same), v2);

  ASSERT_EQ(call("PUT", "/api/v1/fields/customer", admin_, R"({"source":"crm"})").status, 201);
  auto field = call("GET", "/api/v1/fields/customer", admin_);
  EXPECT_FALSE(etag(field).empty());
  EXPECT_NE(etag(field), v2);  // one counter for the whole store
}

TEST_F(ApiTest, PutWithIfNoneMatchStarCreatesButNeverReplaces) {
  const http::Headers create = {{"If-None-Match", "*"}};
  auto created = call("PUT", "/api/v1/sources/crm", admin_, rest_source_, create);
  ASSERT_EQ(created.status, 201) << created.body;
  json other = json::parse(cities_source_);
  auto taken = call("PUT", "/api/v1/sources/crm", admin_, other.dump(), create);
  EXPECT_EQ(taken.status, 412);
  auto e = body(taken)["error"];
  EXPECT_EQ(e["code"], "store.exists");
  EXPECT_EQ(e["category"], "version_mismatch");
  EXPECT_EQ(e["upstream"]["current_etag"], etag(created));
  EXPECT_FALSE(e["hint"].get<std::string>().empty());
  // Checked before the body: an invalid body with a taken name is still 412.
  EXPECT_EQ(call("PUT", "/api/v1/sources/crm", admin_, "{}", create).status, 412);
  auto stored = call("GET", "/api/v1/sources/crm", admin_);
  EXPECT_EQ(body(stored)["url"], "https://api.example.com/customers");
  EXPECT_EQ(etag(stored), etag(created));

  ASSERT_EQ(
      call("PUT", "/api/v1/fields/customer", admin_, R"({"source":"crm","label":"{a}"})", create)
          .status,
      201);
  auto field_taken =
      call("PUT", "/api/v1/fields/customer", admin_, R"({"source":"crm","label":"{b}"})", create);
  EXPECT_EQ(field_taken.status, 412);
  EXPECT_EQ(body(field_taken)["error"]["code"], "store.exists");
  EXPECT_EQ(body(call("GET", "/api/v1/fields/customer", admin_))["label"], "{a}");
}

TEST_F(ApiTest, PutWithIfMatchReplacesOnlyThatVersion) {
  auto created = call("PUT", "/api/v1/sources/crm", admin_, rest_source_);
  ASSERT_EQ(created.status, 201);
  const std::string read = etag(call("GET", "/api/v1/sources/crm", admin_));
  json mine = json::parse(rest_source_);
  mine["url"] = "https://api.example.com/mine";
  auto saved = call("PUT", "/api/v1/sources/crm", admin_, mine.dump(), {{"If-Match", read}});
  ASSERT_EQ(saved.status, 200) << saved.body;
  EXPECT_NE(etag(saved), read);

  // Someone who read the same version saves later: refused, told the current version.
  json theirs = json::parse(rest_source_);
  theirs["url"] = "https://api.example.com/theirs";
  auto late = call("PUT", "/api/v1/sources/crm", admin_, theirs.dump(), {{"If-Match", read}});
  EXPECT_EQ(late.status, 412);
  EXPECT_EQ(body(late)["error"]["code"], "store.version_mismatch");
  EXPECT_EQ(body(late)["error"]["upstream"]["current_etag"], etag(saved));
  EXPECT_EQ(body(call("GET", "/api/v1/sources/crm", admin_))["url"],
            "https://api.example.com/mine");
  // A list of tags matches any of them; a weak tag never matches (strong comparison).
  EXPECT_EQ(
      call("PUT", "/api/v1/sources/crm", admin_, theirs.dump(), {{"If-Match", "W/" + etag(saved)}})
          .status,
      412);
  EXPECT_EQ(call("PUT", "/api/v1/sources/crm", admin_, theirs.dump(),
                 {{"If-Match", read + ", " + etag(saved)}})
                .status,
            200);
  // If-Match on a name that does not exist creates nothing.
  auto missing = call("PUT", "/api/v1/sources/nobody", admin_, rest_source_, {{"If-Match", read}});
  EXPECT_EQ(missing.status, 412);
  EXPECT_EQ(body(missing)["error"]["code"], "store.version_mismatch");
  EXPECT_EQ(call("GET", "/api/v1/sources/nobody", admin_).status, 404);

  ASSERT_EQ(call("PUT", "/api/v1/fields/customer", admin_, R"({"source":"crm"})").status, 201);
  const std::string field_read = etag(call("GET", "/api/v1/fields/customer", admin_));
  auto field_saved = call("PUT", "/api/v1/fields/customer", admin_,
                          R"({"source":"crm","label":"{x}"})", {{"If-Match", field_read}});
  ASSERT_EQ(field_saved.status, 200) << field_saved.body;
  EXPECT_NE(etag(field_saved), field_read);
  auto field_late = call("PUT", "/api/v1/fields/customer", admin_,
                         R"({"source":"crm","label":"{y}"})", {{"If-Match", field_read}});
  EXPECT_EQ(field_late.status, 412);
  EXPECT_EQ(body(call("GET", "/api/v1/fields/customer", admin_))["label"], "{x}");
}

TEST_F(ApiTest, DeleteWithIfMatchDeletesOnlyThatVersion) {
  auto created = call("PUT", "/api/v1/sources/crm", admin_, rest_source_);
  ASSERT_EQ(created.status, 201);
  ASSERT_EQ(call("PUT", "/api/v1/fields/customer", admin_, R"({"source":"crm"})").status, 201);
  const std::string field_v1 = etag(call("GET", "/api/v1/fields/customer", admin_));
  auto field_v2 =
      call("PUT", "/api/v1/fields/customer", admin_, R"({"source":"crm","label":"{x}"})");
  ASSERT_EQ(field_v2.status, 200);
  auto stale = call("DELETE", "/api/v1/fields/customer", admin_, "", {{"If-Match", field_v1}});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(body(stale)["error"]["upstream"]["current_etag"], etag(field_v2));
  EXPECT_EQ(call("GET", "/api/v1/fields/customer", admin_).status, 200);
  EXPECT_EQ(
      call("DELETE", "/api/v1/fields/customer", admin_, "", {{"If-Match", etag(field_v2)}}).status,
      200);
  EXPECT_EQ(call("GET", "/api/v1/fields/customer", admin_).status, 404);

  auto wrong = call("DELETE", "/api/v1/sources/crm", admin_, "", {{"If-Match", field_v1}});
  EXPECT_EQ(wrong.status, 412);
  EXPECT_EQ(call("GET", "/api/v1/sources/crm", admin_).status, 200);
  EXPECT_EQ(call("DELETE", "/api/v1/sources/crm", admin_, "", {{"If-Match", etag(created)}}).status,
            200);
  // Deleted meanwhile: If-Match names a version that is gone.
  auto gone = call("DELETE", "/api/v1/sources/crm", admin_, "", {{"If-Match", etag(created)}});
  EXPECT_EQ(gone.status, 412);
  EXPECT_EQ(body(gone)["error"]["upstream"].count("current_etag"), 0u);
}

TEST_F(ApiTest, MalformedOrUnsupportedPreconditionsAre400) {
  ASSERT_EQ(call("PUT", "/api/v1/sources/crm", admin_, rest_source_).status, 201);
  for (const http::Headers& headers :
       std::vector<http::Headers>{{{"If-Match", "42"}},
                                  {{"If-Match", "\"unclosed"}},
                                  {{"If-None-Match", "\"42\""}},
                                  {{"If-Match", "*"}, {"If-None-Match", "*"}}}) {
    auto r = call("PUT", "/api/v1/sources/crm", admin_, rest_source_, headers);
    EXPECT_EQ(r.status, 400) << headers[0].second;
    EXPECT_EQ(body(r)["error"]["code"], "api.bad_precondition");
  }
  EXPECT_EQ(call("DELETE", "/api/v1/sources/crm", admin_, "", {{"If-None-Match", "*"}}).status,
            400);
  // If-Match: * means "any stored version": it replaces, but never creates.
  EXPECT_EQ(call("PUT", "/api/v1/sources/crm", admin_, rest_source_, {{"If-Match", "*"}}).status,
            200);
  EXPECT_EQ(call("PUT", "/api/v1/sources/new", admin_, rest_source_, {{"If-Match", "*"}}).status,
            412);
}

// Two admins who opened the same version save at once: one save wins, the other is refused.
TEST_F(ApiTest, OfTwoConcurrentPutsWithTheSameIfMatchExactlyOneWins) {
  ASSERT_EQ(call("PUT", "/api/v1/sources/crm", admin_, rest_source_).status, 201);
  const std::string read = etag(call("GET", "/api/v1/sources/crm", admin_));
  std::vector<long> statuses(2);
  auto save = [&](int i) {
    http::CurlHttpClient client{http::CurlOptions{.retry = {.max_attempts = 1}}, nullptr, nullptr};
    json mine = json::parse(rest_source_);
    mine["url"] = "https://api.example.com/from-" + std::to_string(i);
    http::Request req{
        .method = "PUT", .url = server_->url() + "/api/v1/sources/crm", .body = mine.dump()};
    req.headers = {{"Authorization", "Bearer " + admin_}, {"If-Match", read}};
    auto r = client.send(req);
    statuses[i] = r.ok() ? r->status : -1;
  };
  std::thread a(save, 0), b(save, 1);
  a.join();
  b.join();
  std::sort(statuses.begin(), statuses.end());
  EXPECT_EQ(statuses, (std::vector<long>{200, 412}));
}

TEST_F(ApiTest, OversizeBodyIs413AndNothingIsStored) {
  std::string big = R"({"type":"rest","url":"https://x.example.com","description":")" +
                    std::string(100000, 'x') + "\"}";
  auto r = call("PUT", "/api/v1/sources/big", admin_, big);
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(runtime_->store().list_sources()->empty());
}

TEST_F(ApiTest, UnknownRoutesAndMethods) {
  EXPECT_EQ(call("GET", "/api/v1/nothing", admin_).status, 404);
  EXPECT_EQ(call("POST", "/api/v1/sources", admin_).status, 405);
}

TEST_F(ApiTest, ConfigCommittedByAnotherProcessIsPickedUpBySync) {
  ASSERT_EQ(call("PUT", "/api/v1/sources/crm", admin_, rest_source_).status, 201);
  auto before = runtime_->source("crm");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ((*before)->config().spec["url"], "https://api.example.com/customers");

  // `extdata apply` from another process: its own connection to the same data directory.
  auto other = store::open_sqlite_store(dir_.string());
  ASSERT_TRUE(other.ok());
  json changed = json::parse(rest_source_);
  changed["name"] = "crm";
  changed["url"] = "https://api.example.com/v2/customers";
  auto cfg = config::source_from_json(changed);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  ASSERT_TRUE((*other)->put_source(*cfg).ok());

  // Requests are served from the built source until the server's once-a-second sync.
  EXPECT_EQ(runtime_->source("crm").value()->config().spec["url"],
            "https://api.example.com/customers");
  runtime_->sync_with_store();
  EXPECT_EQ(runtime_->source("crm").value()->config().spec["url"],
            "https://api.example.com/v2/customers");

  ASSERT_TRUE((*other)->delete_source("crm").ok());
  runtime_->sync_with_store();
  auto gone = runtime_->source("crm");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, "source.not_found");
}

TEST_F(ApiTest, EveryAnswerIsCountedByEndpointAndStatus) {
  const auto requests = [&](const char* endpoint, const char* status) {
    return metrics_.counter_value("extdata_api_requests_total",
                                  {{"endpoint", endpoint}, {"status", status}});
  };
  call("GET", "/api/v1/sources", admin_);
  call("GET", "/api/v1/sources", reader_);
  call("GET", "/api/v1/fields/nope/options?q=ab", reader_);
  call("GET", "/api/v1/fields/nope/options?q=ab");
  call("OPTIONS", "/api/v1/fields/nope/options", "", "", {{"Origin", "https://forms.example.com"}});
  EXPECT_EQ(requests("sources", "200"), 1);
  EXPECT_EQ(requests("sources", "403"), 1);
  EXPECT_EQ(requests("field_options", "404"), 1);
  EXPECT_EQ(requests("field_options", "401"), 1);
  EXPECT_EQ(requests("preflight", "204"), 1);
  // The label is the endpoint kind, never the path: no series per field name.
  EXPECT_EQ(call("GET", "/metrics").body.find("nope"), std::string::npos);
}

TEST_F(ApiTest, FieldWithAMissingRequiredVariableIs400NamingTheVariable) {
  ASSERT_EQ(call("PUT", "/api/v1/sources/cities", admin_, cities_source_).status, 201);
  ASSERT_EQ(
      call("PUT", "/api/v1/fields/city", admin_, R"({"source":"cities","label":"{name}"})").status,
      201);
  for (const char* method : {"GET", "POST"}) {
    auto r = call(method, "/api/v1/fields/city/options", reader_,
                  std::string(method) == "POST" ? "{}" : "");
    EXPECT_EQ(r.status, 400) << method << " " << r.body;
    auto e = body(r)["error"];
    EXPECT_EQ(e["code"], "source.variable_missing");
    EXPECT_EQ(e["category"], "invalid_input");
    EXPECT_NE(e["message"].get<std::string>().find("'country'"), std::string::npos) << e.dump();
  }
}

TEST_F(ApiTest, ErrorDocumentIsIdenticalFromTheApiAndTheCli) {
  ASSERT_EQ(call("PUT", "/api/v1/sources/cities", admin_, cities_source_).status, 201);
  ASSERT_EQ(
      call("PUT", "/api/v1/fields/city", admin_, R"({"source":"cities","label":"{name}"})").status,
      201);
  // An admin sees every detail of an error, as the CLI's user (the operator) does.
  auto api = call("GET", "/api/v1/fields/city/options", admin_);
  const std::string command = std::string(EXTDATA_BINARY_DIR) + "/extdata --data '" +
                              dir_.string() + "' --output json field options city 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  const int status = pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);  // invalid_input's exit code
  const json cli = json::parse(out, nullptr, false);
  ASSERT_FALSE(cli.is_discarded()) << out;
  EXPECT_EQ(cli, body(api)) << "CLI: " << out << "\nAPI: " << api.body;
  EXPECT_EQ(cli["ok"], false);
  EXPECT_EQ(cli["error"]["code"], "source.variable_missing");
  EXPECT_EQ(cli["error"]["upstream"]["variable"], "country");
}

TEST_F(ApiTest, RoleIsCheckedBeforeTheMethodAndUnknownPathsAre404) {
  EXPECT_EQ(call("POST", "/api/v1/sources").status, 401);
  EXPECT_EQ(call("POST", "/api/v1/sources", reader_).status, 403);
  auto wrong_method = call("PATCH", "/api/v1/fields/x", admin_);
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(body(wrong_method)["error"]["category"], "method_not_allowed");
  EXPECT_EQ(call("POST", "/api/v1/draft/nothing", admin_, "{}").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/sources/a/b/c", admin_).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/fields/x/value", reader_).status, 400);  // no key parameter
  EXPECT_EQ(call("DELETE", "/healthz").status, 405);
  EXPECT_EQ(call("POST", "/index.html").status, 405);
}

TEST_F(ApiTest, CorsOnlyForAllowedOrigins) {
  auto allowed = call("OPTIONS", "/api/v1/fields/x/options", "", "",
                      {{"Origin", "https://forms.example.com"}});
  EXPECT_EQ(allowed.status, 204);
  EXPECT_EQ(allowed.header("Access-Control-Allow-Origin"), "https://forms.example.com");
  auto other =
      call("OPTIONS", "/api/v1/fields/x/options", "", "", {{"Origin", "https://evil.example.com"}});
  EXPECT_FALSE(other.header("Access-Control-Allow-Origin").has_value());
}

}  // namespace
}  // namespace extdata::api
