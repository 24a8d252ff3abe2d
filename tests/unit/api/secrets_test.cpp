// Issue 15, row 7: an admin API token must not read the host (${file:}, ${env:}, {{env.}}) nor
// send a stored secret somewhere it was not entered for. Each test checks what the upstreams
// (recording servers on 127.0.0.1 port 0) received, not only the answers.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <tuple>

#include "api/api_server.h"
#include "api/kept_secrets.h"
#include "http/curl_client.h"
#include "unit/sources_rest/scripted_server.h"

namespace extdata::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::RecordingServer;

server::Response token_answer(int, const server::Request&) {
  return server::Response::json(
      200, R"({"access_token":"at-1","token_type":"Bearer","expires_in":3600})");
}

class ApiSecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("EXTDATA_MASTER_KEY");
    dir_ =
        fs::temp_directory_path() / ("extdata-secrets-" + std::to_string(std::random_device{}()));
    auto store = store::open_sqlite_store(dir_.string());
    ASSERT_TRUE(store.ok()) << store.error().message;
    admin_ = *(*store)->create_token("admin", "test", 0);
    runtime_ = std::make_unique<Runtime>(std::move(*store), clock_, metrics_);
    ApiOptions options;
    options.server.listen = "127.0.0.1:0";
    options.workers = 2;
    server_ = std::make_unique<ApiServer>(*runtime_, options);
    ASSERT_TRUE(server_->start().ok());
  }
  void TearDown() override {
    server_.reset();
    runtime_.reset();
    fs::remove_all(dir_);
  }

  http::Response call(const std::string& method, const std::string& path, const json& body = {}) {
    http::Request req{.method = method, .url = server_->url() + path};
    req.headers.emplace_back("Authorization", "Bearer " + admin_);
    if (!body.is_null()) {
      req.body = body.dump();
      req.headers.emplace_back("Content-Type", "application/json");
    }
    auto r = client_.send(req);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : http::Response{};
  }
  static json error_of(const http::Response& r) {
    return json::parse(r.body, nullptr, false).value("error", json::object());
  }
  // A source as GET shows it, ready to be sent back.
  json shown(const std::string& name) {
    json j = json::parse(call("GET", "/api/v1/sources/" + name).body);
    j.erase("warnings");
    j.erase("status");
    return j;
  }
  json oauth2_source(const std::string& token_url, const json& secret) {
    return {{"type", "rest"},
            {"url", api_.url("/items")},
            {"records", "$"},
            {"auth",
             {{"type", "oauth2"},
              {"token_url", token_url},
              {"client_id", "app-1"},
              {"client_secret", secret}}}};
  }

  RecordingServer login_{token_answer};
  RecordingServer attacker_{token_answer};
  RecordingServer api_{
      [](int, const server::Request&) { return server::Response::json(200, "[]"); }};
  fs::path dir_;
  ManualClock clock_;
  Metrics metrics_;
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<ApiServer> server_;
  http::CurlHttpClient client_{http::CurlOptions{.retry = {.max_attempts = 1}}, nullptr, &metrics_};
  std::string admin_;
};

TEST_F(ApiSecretsTest, FileAndEnvReferencesInApiDocumentsAre400NamingTheKey) {
  setenv("EXTDATA_TEST_API_ENV", "server-environment-value", 1);
  const json file_ref = {{"type", "rest"},
                         {"url", api_.url("/items")},
                         {"records", "$"},
                         {"auth", {{"type", "bearer"}, {"token", "${file:DATA/master.key}"}}}};
  auto put = call("PUT", "/api/v1/sources/leak", file_ref);
  EXPECT_EQ(put.status, 400) << put.body;
  EXPECT_EQ(error_of(put)["code"], "config.host_reference");
  EXPECT_EQ(error_of(put)["upstream"]["key"], "auth.token") << put.body;
  EXPECT_TRUE(runtime_->store().list_sources()->empty());

  json env_header = file_ref;
  env_header["auth"] = {{"type", "headers"},
                        {"headers", {{"X-Key", "{{env.EXTDATA_TEST_API_ENV}}"}}}};
  json env_url = file_ref;
  env_url.erase("auth");
  env_url["url"] = api_.url("/items?x=${env:EXTDATA_TEST_API_ENV}");
  const std::vector<std::tuple<std::string, std::string, json, std::string>> cases = {
      {"PUT", "/api/v1/sources/leak", env_header, "auth.headers.X-Key"},
      {"POST", "/api/v1/draft/test", json{{"source", env_url}}, "url"},
      {"POST", "/api/v1/draft/authenticate", json{{"source", file_ref}}, "auth.token"},
      {"POST", "/api/v1/draft/sharepoint/lists", json{{"source", file_ref}}, "auth.token"}};
  for (const auto& [method, path, body, key] : cases) {
    auto r = call(method, path, body);
    EXPECT_EQ(r.status, 400) << path << " " << r.body;
    EXPECT_EQ(error_of(r)["code"], "config.host_reference") << path;
    EXPECT_EQ(error_of(r)["upstream"]["key"], key) << path << " " << r.body;
  }
  auto field = call("PUT", "/api/v1/fields/f", {{"source", "nope"}, {"label", "${env:HOME}"}});
  EXPECT_EQ(field.status, 400);
  EXPECT_NE(error_of(field)["message"].get<std::string>().find("label"), std::string::npos);
  EXPECT_TRUE(api_.received().empty());
  unsetenv("EXTDATA_TEST_API_ENV");
}

TEST_F(ApiSecretsTest, KeepingAStoredSecretWhileTheTokenUrlMovesIs400AndNothingIsSent) {
  ASSERT_EQ(
      call("PUT", "/api/v1/sources/crm", oauth2_source(login_.url("/token"), "ORIGINAL-s3cret"))
          .status,
      201);
  json moved = shown("crm");
  ASSERT_EQ(moved["auth"]["client_secret"], (json{{"set", true}}));
  moved["auth"]["token_url"] = attacker_.url("/token");
  auto put = call("PUT", "/api/v1/sources/crm", moved);
  EXPECT_EQ(put.status, 400) << put.body;
  const json e = error_of(put);
  EXPECT_EQ(e["code"], "config.secret_rebound");
  EXPECT_EQ(e["upstream"]["key"], "auth.client_secret");
  EXPECT_EQ(e["upstream"]["changed"], "auth.token_url");
  EXPECT_NE(e["hint"].get<std::string>().find("Enter the secret again in auth.client_secret"),
            std::string::npos)
      << e.dump();
  // The wizard's Authenticate button on the edited (unsaved) source is refused the same way.
  json draft = moved;
  draft["name"] = "crm";
  auto button = call("POST", "/api/v1/draft/authenticate", {{"source", draft}});
  EXPECT_EQ(button.status, 400) << button.body;
  EXPECT_EQ(error_of(button)["code"], "config.secret_rebound");
  EXPECT_TRUE(attacker_.received().empty());
  EXPECT_EQ(runtime_->store().get_source("crm").value()->spec["auth"]["token_url"],
            login_.url("/token"));

  // Entered again, the new secret goes to the new endpoint — and never the old one.
  moved["auth"]["client_secret"] = "NEW-s3cret";
  auto again = call("PUT", "/api/v1/sources/crm", moved);
  ASSERT_EQ(again.status, 200) << again.body;
  ASSERT_EQ(call("POST", "/api/v1/sources/crm/authenticate").status, 200);
  ASSERT_EQ(attacker_.received().size(), 1u);
  EXPECT_NE(attacker_.received()[0].body.find("client_secret=NEW-s3cret"), std::string::npos);
  EXPECT_EQ(attacker_.received()[0].body.find("ORIGINAL"), std::string::npos);
  EXPECT_TRUE(login_.received().empty());
}

TEST_F(ApiSecretsTest, KeepingASecretWhileTheRequestOriginMovesIs400ButAPathChangeIsNot) {
  json bearer = {{"type", "rest"},
                 {"url", api_.url("/items")},
                 {"records", "$"},
                 {"auth", {{"type", "bearer"}, {"token", "tok-SECRET"}}}};
  ASSERT_EQ(call("PUT", "/api/v1/sources/crm", bearer).status, 201);
  json path_only = shown("crm");
  path_only["url"] = api_.url("/v2/items?page={page}");
  EXPECT_EQ(call("PUT", "/api/v1/sources/crm", path_only).status, 200);
  json elsewhere = shown("crm");
  elsewhere["url"] = attacker_.url("/items");
  auto r = call("PUT", "/api/v1/sources/crm", elsewhere);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(error_of(r)["upstream"]["changed"], "url");
  EXPECT_EQ(runtime_->store().get_source("crm").value()->spec["auth"]["token"], "tok-SECRET");
  EXPECT_EQ(runtime_->store().get_source("crm").value()->spec["url"],
            api_.url("/v2/items?page={page}"));
  EXPECT_TRUE(attacker_.received().empty());
}

config::SourceConfig sharepoint(const std::string& change_key, const std::string& value) {
  json spec = {{"type", "sharepoint-list"},
               {"tenant", "contoso.onmicrosoft.com"},
               {"client_id", "c"},
               {"client_secret", "s"},
               {"site", "https://contoso.sharepoint.com/sites/S"},
               {"list", "L"}};
  if (!change_key.empty()) spec[change_key] = value;
  return config::parse_source(spec.dump(), "sp").value();
}

TEST(KeptSecrets, TenantAuthorityAndGraphOfASharePointSourceBindItsSecret) {
  const auto stored = sharepoint("", "");
  const std::vector<std::string> kept = {"/client_secret"};
  EXPECT_FALSE(check_kept_secrets(kept, stored, sharepoint("list", "Other list")));
  EXPECT_FALSE(check_kept_secrets({}, stored, sharepoint("tenant", "fabrikam.onmicrosoft.com")));
  for (const auto& [key, value] : {std::pair{"tenant", "fabrikam.onmicrosoft.com"},
                                   std::pair{"authority", "https://login.evil.example.com"},
                                   std::pair{"graph", "https://graph.evil.example.com/v1.0"}}) {
    auto e = check_kept_secrets(kept, stored, sharepoint(key, value));
    ASSERT_TRUE(e) << key;
    EXPECT_EQ(e->code, "config.secret_rebound");
    EXPECT_EQ(e->details.at("changed"), key);
    EXPECT_EQ(e->details.at("key"), "client_secret");
  }
}

TEST(KeptSecrets, OnlySecretsSentBackAsSetTrueAreRestored) {
  const auto stored = sharepoint("", "");
  json doc = {{"client_secret", {{"set", true}}}, {"client_id", {{"set", true}}}};
  EXPECT_EQ(restore_kept_secrets(doc, &stored), std::vector<std::string>{"/client_secret"});
  EXPECT_EQ(doc["client_secret"], "s");
  EXPECT_EQ(doc["client_id"], (json{{"set", true}}));
  EXPECT_TRUE(restore_kept_secrets(doc, nullptr).empty());
}

}  // namespace
}  // namespace extdata::api
