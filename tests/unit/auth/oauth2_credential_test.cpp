// The oauth2 credential end to end over fakes: token endpoint, resource, clock, metrics.
#include <gtest/gtest.h>

#include <thread>

#include "auth/authenticated_client.h"
#include "auth/diagnostics.h"
#include "auth/oauth2.h"
#include "auth/oauth2/base64url.h"
#include "auth_test_support.h"
#include "core/error_json.h"
#include "core/log.h"

namespace extdata::auth {
namespace {

using nlohmann::json;
using testing::FakeHttpClient;
using testing::json_response;
using testing::parse_form;
using namespace std::chrono_literals;

constexpr const char* kSecret = "Xy7~Q.secret-value-0123456789";

std::string fake_jwt(const json& payload) {
  return base64url_encode(R"({"typ":"JWT","alg":"RS256","x5t":"abc"})") + "." +
         base64url_encode(payload.dump()) + ".c2lnbmF0dXJl";
}

json graph_claims(json roles = json::array({"Sites.Read.All"})) {
  json claims = {{"aud", "https://graph.microsoft.com"},
                 {"iss", "https://sts.windows.net/tid-1/"},
                 {"tid", "tid-1"},
                 {"appid", "11111111-2222-3333-4444-555555555555"},
                 {"idtyp", "app"},
                 {"exp", 1800003600}};
  if (!roles.is_null()) claims["roles"] = roles;
  return claims;
}

struct TokenEndpoint {
  std::atomic<int> issued{0};
  json claims = graph_claims();
  long expires_in = 3600;
  std::function<Result<http::Response>(const http::Request&)> override_answer;
  FakeHttpClient http{[this](const http::Request& r) -> Result<http::Response> {
    if (override_answer) return override_answer(r);
    const int n = issued.fetch_add(1) + 1;
    json c = claims;
    c["n"] = n;
    return json_response(200, json{{"token_type", "Bearer"},
                                   {"expires_in", expires_in},
                                   {"ext_expires_in", expires_in},
                                   {"access_token", fake_jwt(c)}}
                                  .dump());
  }};
};

json entra_auth() {
  return {{"type", "oauth2"},
          {"tenant", "contoso.onmicrosoft.com"},
          {"client_id", "11111111-2222-3333-4444-555555555555"},
          {"client_secret", kSecret},
          {"scope", "https://graph.microsoft.com/.default"},
          {"client_secret_expires", "2027-02-01"}};
}

struct Env {
  ManualClock clock;  // 2027-01-15T08:00:00Z
  Metrics metrics;
  TokenEndpoint endpoint;
  std::shared_ptr<TokenCache> cache = std::make_shared<TokenCache>(clock);
  std::shared_ptr<Credential> make(json auth = entra_auth(), bool sharepoint = true,
                                   const std::string& source = "customers") {
    CredentialDeps deps{endpoint.http, clock, metrics, cache, sharepoint, source};
    auto c = make_credential(auth, deps);
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? *c : nullptr;
  }
  long long token_requests(const std::string& source = "customers") {
    return metrics.counter_value("extdata_token_requests_total",
                                 {{"source", source}, {"result", "ok"}});
  }
};

std::string bearer_of(const http::Request& r) {
  return http::find_header(r.headers, "Authorization").value_or("").substr(7);
}

TEST(OAuth2Credential, AppliesACachedTokenAndRefreshesAheadOfExpiry) {
  Env env;
  auto cred = env.make();
  http::Request a, b, c;
  ASSERT_TRUE(cred->apply(a).ok());
  ASSERT_TRUE(cred->apply(b).ok());
  EXPECT_EQ(bearer_of(a), bearer_of(b));
  EXPECT_EQ(env.token_requests(), 1);
  EXPECT_EQ(env.metrics.counter_value("extdata_token_cache_hits_total", {{"source", "customers"}}),
            1);
  // The request the token endpoint got.
  auto form = parse_form(env.endpoint.http.last().body);
  EXPECT_EQ(form.at("client_secret"), kSecret);
  EXPECT_EQ(env.endpoint.http.last().url,
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
  env.clock.advance(3300s);
  ASSERT_TRUE(cred->apply(c).ok());
  EXPECT_NE(bearer_of(c), bearer_of(a));
  EXPECT_EQ(env.token_requests(), 2);
}

TEST(OAuth2Credential, ThousandConcurrentColdCallersCauseOneTokenRequest) {
  Env env;
  auto cred = env.make();
  constexpr int kCallers = 1000;
  std::atomic<int> started{0};
  std::mutex mu;
  std::condition_variable all_started;
  env.endpoint.override_answer = [&](const http::Request&) -> Result<http::Response> {
    std::unique_lock lock(mu);
    all_started.wait_for(lock, 30s, [&] { return started.load() == kCallers; });
    return json_response(
        200, R"({"token_type":"Bearer","expires_in":3599,"access_token":"tok-shared"})");
  };
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i)
    threads.emplace_back([&] {
      {
        std::lock_guard lock(mu);
        started.fetch_add(1);
      }
      all_started.notify_all();
      http::Request r;
      if (cred->apply(r).ok() && bearer_of(r) == "tok-shared") ok.fetch_add(1);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kCallers);
  EXPECT_EQ(env.endpoint.http.calls(), 1);
  EXPECT_EQ(env.token_requests(), 1);
}

TEST(OAuth2Credential, SourcesOfTheSameAppShareTokensButARotatedSecretDoesNot) {
  Env env;
  auto first = env.make(entra_auth(), true, "a");
  auto second = env.make(entra_auth(), true, "b");
  json rotated_auth = entra_auth();
  rotated_auth["client_secret"] = "Zz9~rotated-secret-value-9876";
  auto rotated = env.make(rotated_auth, true, "c");
  http::Request r1, r2, r3;
  ASSERT_TRUE(first->apply(r1).ok());
  ASSERT_TRUE(second->apply(r2).ok());
  ASSERT_TRUE(rotated->apply(r3).ok());
  EXPECT_EQ(bearer_of(r1), bearer_of(r2));
  EXPECT_NE(bearer_of(r1), bearer_of(r3));
  EXPECT_EQ(env.endpoint.issued.load(), 2);
}

TEST(AuthenticatedHttpClient, On401DropsTheTokenFetchesANewOneAndRetriesOnce) {
  Env env;
  auto cred = env.make();
  std::vector<std::string> tokens_seen;
  int refuse = 1;
  FakeHttpClient resource([&](const http::Request& r) -> Result<http::Response> {
    tokens_seen.push_back(bearer_of(r));
    if (refuse-- > 0) {
      auto resp = json_response(
          401,
          R"({"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired or is not yet valid."}})");
      resp.headers.emplace_back("WWW-Authenticate", R"(Bearer realm="", error="invalid_token")");
      return resp;
    }
    return json_response(200, R"({"value":[]})");
  });
  AuthenticatedHttpClient client(resource, cred, env.metrics, "customers");
  http::Request request;
  request.url = "https://graph.microsoft.com/v1.0/sites/root";
  auto response = client.send(request);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  ASSERT_EQ(tokens_seen.size(), 2u);
  EXPECT_NE(tokens_seen[0], tokens_seen[1]);
  EXPECT_EQ(env.token_requests(), 2);
  EXPECT_EQ(env.metrics.counter_value("extdata_auth_retries_total", {{"source", "customers"}}), 1);
  EXPECT_FALSE(http::find_header(request.headers, "Authorization").has_value())
      << "the caller's request is not modified";

  // A resource that keeps refusing gets exactly one retry; its 401 is the answer.
  refuse = 100;
  tokens_seen.clear();
  auto refused = client.send(request);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(tokens_seen.size(), 2u);
  EXPECT_EQ(env.metrics.counter_value("extdata_auth_retries_total", {{"source", "customers"}}), 2);
}

TEST(AuthenticatedHttpClient, StaticCredentialsAreNotRetried) {
  Env env;
  auto cred = env.make({{"type", "basic"}, {"username", "u"}, {"password", "wrong-password"}});
  FakeHttpClient resource(
      [](const http::Request&) -> Result<http::Response> { return json_response(401, "{}"); });
  AuthenticatedHttpClient client(resource, cred, env.metrics, "basic-src");
  auto response = client.send(http::Request{});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(resource.calls(), 1);
}

TEST(AuthenticatedHttpClient, TokenFailureComesBackAsTranslatedError) {
  Env env;
  auto cred = env.make();
  env.endpoint.override_answer = [](const http::Request&) -> Result<http::Response> {
    return json_response(
        401,
        R"({"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys for app 'x' are expired.","error_codes":[7000222],"trace_id":"t-9","correlation_id":"c-9"})");
  };
  FakeHttpClient resource(
      [](const http::Request&) -> Result<http::Response> { return json_response(200, "{}"); });
  AuthenticatedHttpClient client(resource, cred, env.metrics, "customers");
  auto response = client.send(http::Request{});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, "auth.secret_expired");
  EXPECT_EQ(response.error().details.at("correlation_id"), "c-9");
  EXPECT_EQ(resource.calls(), 0);
  EXPECT_EQ(env.endpoint.http.calls(), 1) << "4xx from the token endpoint is not retried";
}

TEST(Authenticate, ReportsClaimsExpiryAndWarnings) {
  Env env;
  auto cred = env.make();
  std::string logs;
  log::capture_to(&logs);
  auto report = authenticate(*cred, env.clock);
  log::capture_to(nullptr);
  ASSERT_TRUE(report.ok()) << report.error().message;
  const json out = to_json(*report, false);
  EXPECT_EQ(out["ok"], true);
  EXPECT_EQ(out["token_type"], "Bearer");
  EXPECT_EQ(out["expires_in"], 3600);
  EXPECT_EQ(out["claims"]["aud"], "https://graph.microsoft.com");
  EXPECT_EQ(out["claims"]["tid"], "tid-1");
  EXPECT_EQ(out["claims"]["roles"], json::array({"Sites.Read.All"}));
  EXPECT_FALSE(out.contains("access_token"));
  // Secret expires 2027-02-01, now is 2027-01-15: inside the 30-day window.
  ASSERT_EQ(out["warnings"].size(), 1u);
  EXPECT_NE(out["warnings"][0].get<std::string>().find("expires in 16 days (2027-02-01)"),
            std::string::npos);
  const std::string dumped = out.dump();
  EXPECT_EQ(dumped.find(kSecret), std::string::npos);
  EXPECT_EQ(dumped.find(report->token), std::string::npos);
  EXPECT_EQ(to_json(*report, true)["access_token"], report->token);
  EXPECT_EQ(logs.find(report->token), std::string::npos);
  EXPECT_EQ(logs.find(kSecret), std::string::npos);
  EXPECT_NE(logs.find("auth.token_obtained"), std::string::npos);
}

TEST(Authenticate, WarnsWithoutRolesOrSitesRole) {
  Env env;
  env.endpoint.claims = graph_claims(nullptr);
  auto no_roles = authenticate(*env.make(), env.clock);
  ASSERT_TRUE(no_roles.ok());
  ASSERT_GE(no_roles->warnings.size(), 1u);
  EXPECT_NE(no_roles->warnings[0].find("admin consent"), std::string::npos);

  env.endpoint.claims = graph_claims(json::array({"User.Read.All"}));
  auto wrong_role = authenticate(*env.make(), env.clock);
  ASSERT_TRUE(wrong_role.ok());
  EXPECT_NE(wrong_role->warnings[0].find("Sites.*"), std::string::npos);

  // Not a SharePoint source: User.Read.All is fine.
  auto other = authenticate(*env.make(entra_auth(), false), env.clock);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->warnings.size(), 1u) << "only the secret expiry warning";
}

TEST(Authenticate, FailureJsonCarriesCodeHintAndUpstream) {
  Env env;
  env.endpoint.override_answer = [](const http::Request&) -> Result<http::Response> {
    return json_response(
        401,
        R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215],"trace_id":"t-1","correlation_id":"c-1","timestamp":"2026-01-09 02:02:12Z"})");
  };
  auto report = authenticate(*env.make(), env.clock);
  ASSERT_FALSE(report.ok());
  const json out = error_document(report.error());
  EXPECT_EQ(out["ok"], false);
  EXPECT_EQ(out["error"]["code"], "auth.invalid_secret");
  EXPECT_FALSE(out["error"]["message"].get<std::string>().empty());
  EXPECT_NE(out["error"]["hint"].get<std::string>().find("wrong"), std::string::npos)
      << "the secret sent is not shaped like a secret ID";
  EXPECT_EQ(out["error"]["upstream"]["aadsts"], "7000215");
  EXPECT_EQ(out["error"]["upstream"]["trace_id"], "t-1");
  EXPECT_EQ(out["error"]["upstream"]["correlation_id"], "c-1");
  EXPECT_EQ(out.dump().find(kSecret), std::string::npos);
}

TEST(SecretExpiry, WarningsAndGaugeFromConfiguredDateAndCertificate) {
  Env env;
  auto cred = env.make();  // secret expires 2027-02-01, 16 days 16 hours from now
  update_expiry_gauge(env.metrics, "customers", *cred, env.clock.now());
  EXPECT_EQ(seconds_until_expiry(*cred, env.clock.now()), 16 * 86400 + 16 * 3600);
  EXPECT_NE(
      env.metrics.prometheus_text().find("extdata_secret_expiry_seconds{source=\"customers\"} "),
      std::string::npos);

  json quiet = entra_auth();
  quiet["expiry_warning_days"] = 10;
  EXPECT_TRUE(expiry_warnings(*env.make(quiet), env.clock.now()).empty());

  env.clock.advance(std::chrono::hours(24 * 20));
  auto expired = expiry_warnings(*cred, env.clock.now());
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_NE(expired[0].find("expired on 2027-02-01 (3 days ago)"), std::string::npos);
  EXPECT_LT(*seconds_until_expiry(*cred, env.clock.now()), 0);

  // No expiry known: no gauge.
  auto plain = env.make({{"type", "basic"}, {"username", "u"}, {"password", "pw-123456"}});
  EXPECT_FALSE(seconds_until_expiry(*plain, env.clock.now()).has_value());
  update_expiry_gauge(env.metrics, "plain", *plain, env.clock.now());
  EXPECT_EQ(env.metrics.prometheus_text().find("source=\"plain\""), std::string::npos);
}

TEST(SecretExpiry, CertificateNotAfterCounts) {
  Env env;
  // Self-signed certificates are made with the real clock; compare against it.
  const auto k = testing::make_key_pair(10L * 86400, "expiring-cert");
  json auth = entra_auth();
  auth.erase("client_secret");
  auth.erase("client_secret_expires");
  auth["client_certificate"] = {{"certificate", k.certificate_pem},
                                {"private_key", k.private_key_pem}};
  auto cred = env.make(auth);
  auto warnings = expiry_warnings(*cred, std::chrono::system_clock::now());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("client certificate (/CN=expiring-cert) expires in 9 days"),
            std::string::npos)
      << warnings[0];
}

}  // namespace
}  // namespace extdata::auth
