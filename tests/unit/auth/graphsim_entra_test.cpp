// Every AADSTS case of the issue against graphsim's Entra token endpoint (tools/graphsim),
// over real HTTP with the libcurl client. Cases that extdata's own config checks refuse
// before sending (/common, a scope without /.default, several resources) are sent through
// the grant directly, and the local refusal is asserted too.
#include <gtest/gtest.h>

#include "auth/diagnostics.h"
#include "auth/oauth2.h"
#include "auth/oauth2/client_credentials.h"
#include "auth_test_support.h"
#include "graphsim.h"
#include "http/curl_client.h"

namespace extdata::auth {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kTenantId = "6f1d2e3a-0000-4000-8000-00000000c0de";
constexpr const char* kDomain = "contoso.onmicrosoft.com";
constexpr const char* kAppId = "11111111-2222-4333-8444-555555555555";
constexpr const char* kNoConsentAppId = "22222222-2222-4333-8444-555555555555";
constexpr const char* kUserReadAppId = "33333333-2222-4333-8444-555555555555";
constexpr const char* kSecret = "Gx8Q~valid.secret-value_0123456789abcdef";
constexpr const char* kExpiredSecret = "Hx8Q~expired.secret-value_0123456789abcd";
constexpr const char* kGraphScope = "https://graph.microsoft.com/.default";

class GraphsimEntraTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keys_ = new testing::TestKeyPair(testing::make_key_pair(200L * 86400, "extdata-graphsim"));
    const json app_base = {{"secrets",
                            {{{"value", kSecret}, {"expires", "2099-01-01T00:00:00Z"}},
                             {{"value", kExpiredSecret}, {"expires", "2020-01-01T00:00:00Z"}}}}};
    json fixture = {{"tenants",
                     {{{"id", kTenantId},
                       {"display_name", "Contoso"},
                       {"domains", {kDomain}},
                       {"apps",
                        {{{"client_id", kAppId},
                          {"display_name", "extdata"},
                          {"secrets", app_base["secrets"]},
                          {"certificates", {{{"pem", keys_->certificate_pem}}}},
                          {"roles", {"Sites.Read.All"}},
                          {"admin_consent", true}},
                         {{"client_id", kNoConsentAppId},
                          {"display_name", "extdata-no-consent"},
                          {"secrets", app_base["secrets"]},
                          {"roles", {"Sites.Read.All"}},
                          {"admin_consent", false}},
                         {{"client_id", kUserReadAppId},
                          {"display_name", "extdata-users"},
                          {"secrets", app_base["secrets"]},
                          {"roles", {"User.Read.All"}},
                          {"admin_consent", true}}}}}}}};
    auto parsed = graphsim::parse_fixture(fixture.dump());
    if (!parsed.ok()) {
      setup_error_ = new std::string("fixture: " + parsed.error().to_string());
      return;
    }
    auto sim = graphsim::GraphSim::create(std::move(*parsed));
    if (!sim.ok()) {
      setup_error_ = new std::string("graphsim: " + sim.error().to_string());
      return;
    }
    sim_ = std::move(*sim).release();
    server_ = new server::HttpServer(
        server::ServerOptions{},
        server::sync_handler([](const server::Request& r) { return sim_->handle(r); }));
    if (auto started = server_->start(); !started.ok())
      setup_error_ = new std::string("server: " + started.error().to_string());
  }
  static void TearDownTestSuite() {
    if (server_) server_->stop();
    delete server_;
    delete sim_;
    delete keys_;
    delete setup_error_;
    server_ = nullptr;
    sim_ = nullptr;
    setup_error_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(setup_error_, nullptr) << *setup_error_; }

  static std::string token_url(const std::string& tenant) {
    return server_->url() + "/" + tenant + "/oauth2/v2.0/token";
  }
  json entra(json changes = json::object()) const {
    json auth = {
        {"type", "oauth2"},         {"token_url", server_->url() + "/{tenant}/oauth2/v2.0/token"},
        {"tenant", kDomain},        {"client_id", kAppId},
        {"client_secret", kSecret}, {"scope", kGraphScope}};
    for (auto& [k, v] : changes.items()) {
      if (v.is_null())
        auth.erase(k);
      else
        auth[k] = v;
    }
    return auth;
  }
  Result<std::shared_ptr<Credential>> make(const json& auth,
                                           Clock& clock = SystemClock::instance()) {
    CredentialDeps deps{curl_, clock, metrics_, std::make_shared<TokenCache>(clock), true, "sp"};
    return make_credential(auth, deps);
  }
  // Authenticates with `auth` and returns the error (fails the test on success).
  Error refused(const json& auth, Clock& clock = SystemClock::instance()) {
    auto cred = make(auth, clock);
    if (!cred.ok()) {
      ADD_FAILURE() << "config refused locally: " << cred.error().to_string();
      return cred.error();
    }
    auto report = (*cred)->authenticate();
    if (report.ok()) {
      ADD_FAILURE() << "token was issued for " << auth.dump();
      return Error();
    }
    return report.error();
  }
  // Sends the grant without extdata's config checks.
  Error refused_raw(ClientCredentialsConfig config) {
    auto token = request_token(config, curl_, SystemClock::instance());
    if (token.ok()) {
      ADD_FAILURE() << "token was issued";
      return Error();
    }
    return token.error();
  }
  ClientCredentialsConfig raw(const std::string& tenant = kDomain) const {
    ClientCredentialsConfig c;
    c.token_url = token_url(tenant);
    c.client_id = kAppId;
    c.client_secret = kSecret;
    c.scopes = {kGraphScope};
    return c;
  }
  static void expect_upstream(const Error& e, const std::string& code, long long aadsts) {
    EXPECT_EQ(e.code, code) << e.to_string();
    ASSERT_EQ(e.details.count("aadsts"), 1u) << e.to_string();
    EXPECT_EQ(e.details.at("aadsts"), std::to_string(aadsts));
    EXPECT_FALSE(e.details.at("trace_id").empty());
    EXPECT_FALSE(e.details.at("correlation_id").empty());
    EXPECT_FALSE(e.hint.empty());
  }

  static inline testing::TestKeyPair* keys_ = nullptr;
  static inline graphsim::GraphSim* sim_ = nullptr;
  static inline server::HttpServer* server_ = nullptr;
  static inline std::string* setup_error_ = nullptr;
  Metrics metrics_;
  http::CurlHttpClient curl_{http::CurlOptions{}, &SystemClock::instance(), &metrics_};
};

TEST_F(GraphsimEntraTest, SecretAndCertificateCredentialsGetGraphTokens) {
  auto secret = make(entra());
  ASSERT_TRUE(secret.ok()) << secret.error().to_string();
  auto report = authenticate(**secret, SystemClock::instance());
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_EQ(report->claims["aud"], "https://graph.microsoft.com");
  EXPECT_EQ(report->claims["tid"], kTenantId);
  EXPECT_EQ(report->claims["appid"], kAppId);
  EXPECT_EQ(report->claims["roles"], json::array({"Sites.Read.All"}));
  EXPECT_TRUE(report->warnings.empty()) << report->warnings[0];

  for (const char* alg : {"RS256", "PS256"}) {
    auto cert = make(entra({{"client_secret", nullptr},
                            {"client_certificate",
                             {{"certificate", keys_->certificate_pem},
                              {"private_key", keys_->private_key_pem},
                              {"algorithm", alg}}}}));
    ASSERT_TRUE(cert.ok()) << cert.error().to_string();
    auto r = (*cert)->authenticate();
    ASSERT_TRUE(r.ok()) << alg << ": " << r.error().to_string();
    EXPECT_EQ(jwt::decode(r->token)->payload["appidacr"], "2");
  }
}

TEST_F(GraphsimEntraTest, MissingConsentAndMissingSitesRoleAreWarnings) {
  auto no_consent =
      authenticate(**make(entra({{"client_id", kNoConsentAppId}})), SystemClock::instance());
  ASSERT_TRUE(no_consent.ok());
  ASSERT_FALSE(no_consent->warnings.empty());
  EXPECT_NE(no_consent->warnings[0].find("admin consent"), std::string::npos);
  auto users_only =
      authenticate(**make(entra({{"client_id", kUserReadAppId}})), SystemClock::instance());
  ASSERT_TRUE(users_only.ok());
  ASSERT_FALSE(users_only->warnings.empty());
  EXPECT_NE(users_only->warnings[0].find("Sites.*"), std::string::npos);
}

TEST_F(GraphsimEntraTest, AADSTS7000215_WrongSecret) {
  expect_upstream(refused(entra({{"client_secret", "7c1e5d0a-secret-id-not-value"}})),
                  "auth.invalid_secret", 7000215);
}

TEST_F(GraphsimEntraTest, AADSTS7000222_ExpiredSecret) {
  expect_upstream(refused(entra({{"client_secret", kExpiredSecret}})), "auth.secret_expired",
                  7000222);
}

TEST_F(GraphsimEntraTest, AADSTS700016_UnknownClient) {
  expect_upstream(refused(entra({{"client_id", "99999999-2222-4333-8444-555555555555"}})),
                  "auth.unknown_client", 700016);
}

TEST_F(GraphsimEntraTest, AADSTS90002_UnknownTenant) {
  expect_upstream(refused(entra({{"tenant", "7a7a7a7a-0000-4000-8000-000000000000"}})),
                  "auth.unknown_tenant", 90002);
}

TEST_F(GraphsimEntraTest, AADSTS900023_TenantNeitherGuidNorDomain) {
  expect_upstream(refused(entra({{"tenant", "contoso"}})), "auth.invalid_tenant", 900023);
}

TEST_F(GraphsimEntraTest, AADSTS70011_MalformedScope) {
  auto config = raw();
  config.scopes = {" "};
  expect_upstream(refused_raw(config), "auth.invalid_scope", 70011);
}

TEST_F(GraphsimEntraTest, AADSTS1002012_ScopeWithoutDotDefault) {
  auto local = make(entra({{"scope", "Sites.Read.All"}}));
  ASSERT_FALSE(local.ok());
  EXPECT_EQ(local.error().details.at("key"), "scope");
  auto config = raw();
  config.scopes = {"Sites.Read.All"};
  const Error e = refused_raw(config);
  expect_upstream(e, "auth.invalid_scope", 1002012);
  EXPECT_NE(e.hint.find("https://graph.microsoft.com/.default"), std::string::npos);
}

TEST_F(GraphsimEntraTest, AADSTS700022_ScopesForTwoResources) {
  auto local = make(entra({{"scope", {kGraphScope, "https://contoso.sharepoint.com/.default"}}}));
  ASSERT_FALSE(local.ok());
  EXPECT_EQ(local.error().details.at("key"), "scope");
  auto config = raw();
  config.scopes = {kGraphScope, "https://contoso.sharepoint.com/.default"};
  expect_upstream(refused_raw(config), "auth.invalid_scope", 700022);
}

TEST_F(GraphsimEntraTest, AADSTS900144_MissingParameter) {
  auto config = raw();
  config.scopes.clear();  // no scope parameter at all
  const Error e = refused_raw(config);
  expect_upstream(e, "auth.missing_parameter", 900144);
  EXPECT_NE(e.details.at("error_description").find("scope"), std::string::npos);
}

TEST_F(GraphsimEntraTest, AADSTS7000218_NeitherSecretNorAssertion) {
  auto config = raw();
  config.client_secret.clear();
  expect_upstream(refused_raw(config), "auth.missing_credential", 7000218);
}

TEST_F(GraphsimEntraTest, AADSTS700027_CertificateNotRegistered) {
  const auto stranger = testing::make_key_pair();
  expect_upstream(refused(entra({{"client_secret", nullptr},
                                 {"client_certificate",
                                  {{"certificate", stranger.certificate_pem},
                                   {"private_key", stranger.private_key_pem}}}})),
                  "auth.certificate_not_registered", 700027);
}

TEST_F(GraphsimEntraTest, AADSTS700024_AssertionOutsideItsTimeRange) {
  // This machine's clock an hour behind the directory's.
  ManualClock behind(std::chrono::time_point_cast<std::chrono::system_clock::duration>(
      std::chrono::system_clock::now() - 1h));
  expect_upstream(refused(entra({{"client_secret", nullptr},
                                 {"client_certificate",
                                  {{"certificate", keys_->certificate_pem},
                                   {"private_key", keys_->private_key_pem}}}}),
                          behind),
                  "auth.assertion_time_invalid", 700024);
}

TEST_F(GraphsimEntraTest, AADSTS9001023_CommonEndpoint) {
  auto local = make(entra({{"tenant", "common"}}));
  ASSERT_FALSE(local.ok());
  EXPECT_EQ(local.error().code, "auth.tenant_required");
  expect_upstream(refused_raw(raw("common")), "auth.tenant_required", 9001023);
}

}  // namespace
}  // namespace extdata::auth
