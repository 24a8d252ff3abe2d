#include <gtest/gtest.h>

#include <cstdlib>

#include "auth/api_key.h"
#include "auth/credential.h"
#include "auth/custom_headers.h"
#include "auth/oauth2/base64url.h"
#include "auth/oauth2/token_cache.h"
#include "auth_test_support.h"
#include "core/redact.h"

namespace extdata::auth {
namespace {

using nlohmann::json;
using testing::FakeHttpClient;

struct Fixture {
  ManualClock clock;
  Metrics metrics;
  FakeHttpClient http{[](const http::Request&) -> Result<http::Response> {
    return Error("http.connect", "no token endpoint in this test");
  }};
  CredentialDeps deps{http, clock, metrics, std::make_shared<TokenCache>(clock), false, "crm"};
};

Result<std::shared_ptr<Credential>> make(const json& auth) {
  static Fixture f;
  return make_credential(auth, f.deps);
}

std::string key_of(const Result<std::shared_ptr<Credential>>& r) {
  if (r.ok()) return "<ok>";
  auto it = r.error().details.find("key");
  return it == r.error().details.end() ? "<no key>" : it->second;
}

TEST(MakeCredential, KnowsEveryType) {
  EXPECT_EQ(config::catalog().auth().size(), 7u);
  auto unknown = make({{"type", "kerberos"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(key_of(unknown), "type");
  EXPECT_NE(unknown.error().hint.find("oauth2"), std::string::npos);
  auto none = make(json::object());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ((*none)->type(), "none");
}

TEST(None, LeavesTheRequestAlone) {
  auto c = make({{"type", "none"}});
  ASSERT_TRUE(c.ok());
  http::Request r;
  r.url = "https://x.example/a";
  ASSERT_TRUE((*c)->apply(r).ok());
  EXPECT_TRUE(r.headers.empty());
  EXPECT_EQ(r.url, "https://x.example/a");
}

TEST(Basic, SendsRfc7617Header) {
  auto c = make({{"type", "basic"}, {"username", "Aladdin"}, {"password", "open sesame"}});
  ASSERT_TRUE(c.ok());
  http::Request r;
  ASSERT_TRUE((*c)->apply(r).ok());
  EXPECT_EQ(http::find_header(r.headers, "Authorization"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(redact("pw is open sesame"), "pw is [REDACTED]");
  EXPECT_EQ(key_of(make({{"type", "basic"}, {"username", "a:b"}, {"password", "x"}})), "username");
  EXPECT_EQ(key_of(make({{"type", "basic"}, {"password", "x"}})), "username");
  EXPECT_EQ(key_of(make({{"type", "basic"}, {"username", "u"}, {"password", "x\r\nEvil: 1"}})),
            "password");
}

TEST(Bearer, SendsTheStaticTokenAndReadsJwtExpiry) {
  const std::string jwt = base64url_encode(R"({"alg":"none"})") + "." +
                          base64url_encode(R"({"aud":"api://x","exp":1900000000})") + ".sig";
  auto c = make({{"type", "bearer"}, {"token", jwt}});
  ASSERT_TRUE(c.ok());
  http::Request r;
  ASSERT_TRUE((*c)->apply(r).ok());
  EXPECT_EQ(http::find_header(r.headers, "Authorization"), "Bearer " + jwt);
  ASSERT_EQ((*c)->expiring_secrets().size(), 1u);
  auto report = (*c)->authenticate();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->claims["aud"], "api://x");
  EXPECT_EQ(report->expires_in, 1900000000 - 1800000000);
  EXPECT_EQ(key_of(make({{"type", "bearer"}, {"token", "Bearer abc"}})), "token");
  EXPECT_EQ(key_of(make({{"type", "bearer"}})), "token");
}

TEST(ApiKey, HeaderOrQueryParameter) {
  auto header = make({{"type", "api_key"}, {"name", "X-Api-Key"}, {"value", "k-123456"}});
  ASSERT_TRUE(header.ok());
  http::Request r;
  r.url = "https://api.example/v1/items";
  ASSERT_TRUE((*header)->apply(r).ok());
  EXPECT_EQ(http::find_header(r.headers, "X-Api-Key"), "k-123456");
  EXPECT_EQ(r.url, "https://api.example/v1/items");

  auto query =
      make({{"type", "api_key"}, {"name", "api key"}, {"value", "k/12&34"}, {"in", "query"}});
  ASSERT_TRUE(query.ok());
  http::Request q;
  q.url = "https://api.example/v1/items?page=2#frag";
  ASSERT_TRUE((*query)->apply(q).ok());
  EXPECT_EQ(q.url, "https://api.example/v1/items?page=2&api%20key=k%2F12%2634#frag");
  EXPECT_EQ(append_query_parameter("https://a/b", "k", "v"), "https://a/b?k=v");
  EXPECT_EQ(append_query_parameter("https://a/b?", "k", "v"), "https://a/b?k=v");

  EXPECT_EQ(key_of(make({{"type", "api_key"}, {"name", "X-Key"}, {"value", "v"}, {"in", "body"}})),
            "in");
  EXPECT_EQ(key_of(make({{"type", "api_key"}, {"name", "Bad Header"}, {"value", "v"}})), "name");
}

TEST(CustomHeaders, RendersTemplatesPerRequest) {
  setenv("EXTDATA_TEST_PARTNER_KEY", "partner-secret-42", 1);
  auto c = make({{"type", "headers"},
                 {"headers",
                  {{"X-Partner-Key", "{{env.EXTDATA_TEST_PARTNER_KEY}}"},
                   {"X-Source", "extdata/{{ source }}"},
                   {"X-Request-Id", "{{uuid}}"},
                   {"X-Date", "{{now}}"},
                   {"X-Epoch", "{{unix_time}}"}}}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  http::Request a, b;
  ASSERT_TRUE((*c)->apply(a).ok());
  ASSERT_TRUE((*c)->apply(b).ok());
  EXPECT_EQ(http::find_header(a.headers, "X-Partner-Key"), "partner-secret-42");
  EXPECT_EQ(http::find_header(a.headers, "X-Source"), "extdata/crm");
  EXPECT_EQ(http::find_header(a.headers, "X-Date"), "2027-01-15T08:00:00Z");
  EXPECT_EQ(http::find_header(a.headers, "X-Epoch"), "1800000000");
  EXPECT_EQ(http::find_header(a.headers, "X-Request-Id")->size(), 36u);
  EXPECT_NE(http::find_header(a.headers, "X-Request-Id"),
            http::find_header(b.headers, "X-Request-Id"));
  EXPECT_EQ(redact("key=partner-secret-42 sent"), "key=[REDACTED] sent");

  EXPECT_EQ(
      key_of(make({{"type", "headers"}, {"headers", {{"X-A", "{{env.EXTDATA_TEST_UNSET_VAR}}"}}}})),
      "headers.X-A");
  auto unknown = make({{"type", "headers"}, {"headers", {{"X-A", "a {{secret}}"}}}});
  EXPECT_EQ(key_of(unknown), "headers.X-A");
  EXPECT_NE(unknown.error().message.find("position 3"), std::string::npos);
  EXPECT_EQ(key_of(make({{"type", "headers"}, {"headers", {{"X-A", "{{uuid"}}}})), "headers.X-A");
  EXPECT_EQ(key_of(make({{"type", "headers"}, {"headers", json::object()}})), "headers");
}

TEST(Ntlm, HandsTheCredentialsToTheHttpClient) {
  auto c =
      make({{"type", "ntlm"}, {"username", "CONTOSO\\svc-extdata"}, {"password", "pa55word!"}});
  ASSERT_TRUE(c.ok());
  http::Request r;
  ASSERT_TRUE((*c)->apply(r).ok());
  ASSERT_TRUE(r.http_auth.has_value());
  EXPECT_EQ(r.http_auth->scheme, http::Request::HttpAuth::Scheme::ntlm);
  EXPECT_EQ(r.http_auth->user, "CONTOSO\\svc-extdata");
  EXPECT_EQ(r.http_auth->password, "pa55word!");
  EXPECT_EQ(key_of(make({{"type", "ntlm"}, {"username", "u"}})), "password");
}

json entra(json extra = json::object()) {
  json auth = {{"type", "oauth2"},
               {"token_url", "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"},
               {"tenant", "contoso.onmicrosoft.com"},
               {"client_id", "11111111-2222-3333-4444-555555555555"},
               {"client_secret", "abc~DEF.secret-value"},
               {"scope", "https://graph.microsoft.com/.default"}};
  for (auto& [k, v] : extra.items()) {
    if (v.is_null())
      auth.erase(k);
    else
      auth[k] = v;
  }
  return auth;
}

TEST(OAuth2Config, ValidEntraConfigurations) {
  ASSERT_TRUE(make(entra()).ok());
  // token_url defaults to Entra's v2 endpoint when only tenant is given.
  ASSERT_TRUE(make(entra({{"token_url", nullptr}})).ok());
  ASSERT_TRUE(make(entra({{"scope", json::array({"https://graph.microsoft.com/.default"})}})).ok());
  ASSERT_TRUE(
      make(entra({{"client_auth", "basic"}, {"client_secret_expires", "2027-05-31"}})).ok());
  // Plain http only on loopback.
  ASSERT_TRUE(
      make(entra({{"token_url", "http://127.0.0.1:8123/{tenant}/oauth2/v2.0/token"}})).ok());
  ASSERT_TRUE(make(entra({{"token_url", "http://localhost:8123/token"}, {"scope", "read"}})).ok());
}

TEST(OAuth2Config, BadInputNamesTheKey) {
  struct Case {
    json auth;
    const char* key;
    const char* code;
  };
  const std::vector<Case> cases = {
      {entra({{"token_url", "http://login.example.com/token"}}), "token_url",
       "auth.insecure_token_url"},
      {entra({{"token_url", "http://10.0.0.5/token"}}), "token_url", "auth.insecure_token_url"},
      {entra({{"token_url", "not a url"}}), "token_url", "auth.bad_token_url"},
      {entra({{"token_url", nullptr}, {"tenant", nullptr}}), "token_url", "config.missing_key"},
      {entra({{"tenant", nullptr}}), "tenant", "config.missing_key"},
      {entra({{"tenant", "contoso/../x"}}), "tenant", "auth.invalid_tenant"},
      {entra({{"tenant", "common"}}), "tenant", "auth.tenant_required"},
      {entra({{"token_url", "https://login.microsoftonline.com/organizations/oauth2/v2.0/token"}}),
       "token_url", "auth.tenant_required"},
      {entra({{"scope", "Sites.Read.All"}}), "scope", "auth.invalid_scope"},
      {entra({{"scope", "https://graph.microsoft.com/.default https://x.sharepoint.com/.default"}}),
       "scope", "auth.invalid_scope"},
      {entra({{"scope", nullptr}}), "scope", "config.missing_key"},
      {entra({{"scope", 5}}), "scope", "config.wrong_type"},
      {entra({{"client_id", nullptr}}), "client_id", "config.missing_key"},
      {entra({{"client_secret", nullptr}}), "client_secret", "config.missing_key"},
      {entra({{"client_secret", " abc"}}), "client_secret", "auth.bad_secret"},
      {entra({{"client_certificate", {{"certificate", "x"}}}}), "client_certificate",
       "auth.conflicting_keys"},
      {entra({{"client_auth", "jwt"}}), "client_auth", "config.bad_value"},
      {entra({{"extra_params", {{"grant_type", "password"}}}}), "extra_params.grant_type",
       "auth.reserved_parameter"},
      {entra({{"extra_params", {{"resource", json::object()}}}}), "extra_params.resource",
       "config.wrong_type"},
      {entra({{"client_secret_expires", "31.05.2027"}}), "client_secret_expires",
       "config.bad_date"},
      {entra({{"client_secret_expires", "2027-02-30"}}), "client_secret_expires",
       "config.bad_date"},
      {entra({{"expiry_warning_days", -1}}), "expiry_warning_days", "config.bad_value"},
      {entra({{"client_secret", nullptr},
              {"client_certificate", {{"certificate", "/nonexistent/extdata/cert.pem"}}}}),
       "client_certificate.certificate", "auth.unreadable_file"},
      {entra({{"client_secret", nullptr}, {"client_certificate", {{"private_key", "x"}}}}),
       "client_certificate.certificate", "config.missing_key"},
  };
  for (const auto& c : cases) {
    auto r = make(c.auth);
    ASSERT_FALSE(r.ok()) << c.auth.dump();
    EXPECT_EQ(key_of(r), c.key) << c.auth.dump();
    EXPECT_EQ(r.error().code, c.code) << c.auth.dump();
    EXPECT_FALSE(r.error().message.empty());
    // No secret ever appears in an error.
    EXPECT_EQ(r.error().to_string().find("abc~DEF.secret-value"), std::string::npos);
  }
}

TEST(OAuth2Config, CertificateAlgorithmAndMismatch) {
  const auto k = testing::make_key_pair();
  const auto other = testing::make_key_pair();
  auto with_cert = [&](json cert) {
    return entra({{"client_secret", nullptr}, {"client_certificate", cert}});
  };
  EXPECT_TRUE(
      make(with_cert({{"certificate", k.certificate_pem}, {"private_key", k.private_key_pem}}))
          .ok());
  EXPECT_TRUE(make(with_cert({{"certificate", k.certificate_pem},
                              {"private_key", k.private_key_pem},
                              {"algorithm", "PS256"}}))
                  .ok());
  EXPECT_EQ(key_of(make(with_cert({{"certificate", k.certificate_pem},
                                   {"private_key", k.private_key_pem},
                                   {"algorithm", "HS256"}}))),
            "client_certificate.algorithm");
  auto mismatch =
      make(with_cert({{"certificate", k.certificate_pem}, {"private_key", other.private_key_pem}}));
  EXPECT_EQ(key_of(mismatch), "client_certificate");
  EXPECT_EQ(mismatch.error().code, "auth.certificate_key_mismatch");
  auto unreadable = make(
      with_cert({{"certificate", k.certificate_pem}, {"private_key", "/nonexistent/key.pem"}}));
  EXPECT_EQ(key_of(unreadable), "client_certificate.private_key");
}

}  // namespace
}  // namespace extdata::auth
