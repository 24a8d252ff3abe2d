#include "auth/oauth2/client_credentials.h"

#include <gtest/gtest.h>

#include "auth/oauth2/base64url.h"
#include "auth_test_support.h"
#include "core/redact.h"

namespace extdata::auth {
namespace {

using testing::FakeHttpClient;
using testing::json_response;
using testing::parse_form;
using namespace std::chrono_literals;

constexpr const char* kTokenUrl =
    "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";

ClientCredentialsConfig secret_config() {
  ClientCredentialsConfig c;
  c.token_url = kTokenUrl;
  c.client_id = "11111111-2222-3333-4444-555555555555";
  c.client_secret = "s3cr~et.Value_with+plus&amp";
  c.scopes = {"https://graph.microsoft.com/.default"};
  return c;
}

const testing::TestKeyPair& keys() {
  static const testing::TestKeyPair k = testing::make_key_pair();
  return k;
}

TEST(TokenRequest, ClientSecretPostSendsTheFormFields) {
  ManualClock clock;
  auto config = secret_config();
  config.extra_params = {{"resource", "https://api.example"}};
  auto request = build_token_request(config, clock.now());
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->method, "POST");
  EXPECT_EQ(request->url, kTokenUrl);
  EXPECT_EQ(http::find_header(request->headers, "Content-Type"),
            "application/x-www-form-urlencoded");
  EXPECT_FALSE(http::find_header(request->headers, "Authorization").has_value());
  auto form = parse_form(request->body);
  EXPECT_EQ(form.at("grant_type"), "client_credentials");
  EXPECT_EQ(form.at("client_id"), config.client_id);
  EXPECT_EQ(form.at("client_secret"), config.client_secret) << "round-trips through form encoding";
  EXPECT_EQ(form.at("scope"), "https://graph.microsoft.com/.default");
  EXPECT_EQ(form.at("resource"), "https://api.example");
  EXPECT_EQ(form.count("client_assertion"), 0u);
}

TEST(TokenRequest, ClientSecretBasicUsesTheAuthorizationHeader) {
  ManualClock clock;
  auto config = secret_config();
  config.client_auth = ClientAuth::basic;
  config.scopes = {"read", "write"};
  auto request = build_token_request(config, clock.now());
  ASSERT_TRUE(request.ok());
  auto form = parse_form(request->body);
  EXPECT_EQ(form.count("client_secret"), 0u);
  EXPECT_EQ(form.count("client_id"), 0u);
  EXPECT_EQ(form.at("scope"), "read write");
  const auto auth = http::find_header(request->headers, "Authorization").value();
  ASSERT_EQ(auth.rfind("Basic ", 0), 0u);
  const auto decoded = base64_decode(auth.substr(6)).value();
  // RFC 6749 §2.3.1: each part form-encoded before base64.
  EXPECT_EQ(decoded, config.client_id + ":s3cr~et.Value_with%2Bplus%26amp");
}

TEST(TokenRequest, CertificateSendsASignedAssertionWithMicrosoftClaims) {
  ManualClock clock;
  auto cert = ClientCertificate::load(keys().certificate_pem, keys().private_key_pem);
  ASSERT_TRUE(cert.ok());
  for (auto alg : {jwt::Algorithm::rs256, jwt::Algorithm::ps256}) {
    auto config = secret_config();
    config.client_secret.clear();
    config.certificate = *cert;
    config.assertion_algorithm = alg;
    auto request = build_token_request(config, clock.now());
    ASSERT_TRUE(request.ok()) << request.error().message;
    auto form = parse_form(request->body);
    EXPECT_EQ(form.count("client_secret"), 0u);
    EXPECT_EQ(form.at("client_id"), config.client_id);
    EXPECT_EQ(form.at("client_assertion_type"),
              "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    auto assertion = jwt::decode(form.at("client_assertion"));
    ASSERT_TRUE(assertion.ok());
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
    EXPECT_EQ(assertion->payload["aud"], kTokenUrl);
    EXPECT_EQ(assertion->payload["iss"], config.client_id);
    EXPECT_EQ(assertion->payload["sub"], config.client_id);
    EXPECT_EQ(assertion->payload["nbf"], now);
    EXPECT_EQ(assertion->payload["exp"], now + 600);
    EXPECT_EQ(assertion->payload["jti"].get<std::string>().size(), 36u);
    if (alg == jwt::Algorithm::rs256) {
      EXPECT_EQ(assertion->header["alg"], "RS256");
      EXPECT_EQ(assertion->header["x5t"], (*cert)->x5t());
      EXPECT_FALSE(assertion->header.contains("x5t#S256"));
    } else {
      EXPECT_EQ(assertion->header["alg"], "PS256");
      EXPECT_EQ(assertion->header["x5t#S256"], (*cert)->x5t_s256());
      EXPECT_FALSE(assertion->header.contains("x5t"));
    }
  }
  // Every assertion has its own jti.
  auto config = secret_config();
  config.certificate = *cert;
  auto a = jwt::decode(*client_assertion(config, clock.now()));
  auto b = jwt::decode(*client_assertion(config, clock.now()));
  EXPECT_NE(a->payload["jti"], b->payload["jti"]);
}

TEST(TokenResponse, AcceptsExpiresInAsNumberOrString) {
  ManualClock clock;
  for (const char* body :
       {R"({"token_type":"Bearer","expires_in":3599,"access_token":"tok-abcdef"})",
        R"({"token_type":"bearer","expires_in":"3599","access_token":"tok-abcdef"})"}) {
    auto token = parse_token_response(json_response(200, body), clock.now());
    ASSERT_TRUE(token.ok()) << body;
    EXPECT_EQ(token->access_token, "tok-abcdef");
    EXPECT_EQ(token->expires_at - clock.now(), 3599s);
  }
  // v1 endpoints: expires_on as an absolute time (string) and no expires_in.
  const auto now_s =
      std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
  auto v1 = parse_token_response(
      json_response(200, R"({"token_type":"Bearer","expires_on":")" + std::to_string(now_s + 1200) +
                             R"(","access_token":"tok-v1"})"),
      clock.now());
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->expires_at - clock.now(), 1200s);
}

TEST(TokenResponse, BadAnswersNameTheUpstreamProblem) {
  ManualClock clock;
  auto not_json = parse_token_response(json_response(200, "<html>login</html>"), clock.now());
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.error().code, "auth.token_response_invalid");
  EXPECT_NE(not_json.error().message.find("not a JSON"), std::string::npos);

  auto no_token =
      parse_token_response(json_response(200, R"({"token_type":"Bearer"})"), clock.now());
  ASSERT_FALSE(no_token.ok());
  EXPECT_NE(no_token.error().message.find("lacks access_token"), std::string::npos);

  auto bad_expiry = parse_token_response(
      json_response(200, R"({"access_token":"tok-xyz1","expires_in":"soon"})"), clock.now());
  ASSERT_FALSE(bad_expiry.ok());
  EXPECT_NE(bad_expiry.error().message.find("expires_in"), std::string::npos);

  auto mac = parse_token_response(
      json_response(200, R"({"access_token":"tok-xyz2","token_type":"mac","expires_in":60})"),
      clock.now());
  ASSERT_FALSE(mac.ok());
  EXPECT_NE(mac.error().message.find("mac"), std::string::npos);
  // The token never leaks into the error.
  EXPECT_EQ(mac.error().details.at("body").find("tok-xyz2"), std::string::npos);
}

TEST(RequestToken, FourHundredsAreFinalAndTranslated) {
  ManualClock clock;
  FakeHttpClient http([](const http::Request&) -> Result<http::Response> {
    return json_response(
        401,
        R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215],"trace_id":"tr-1","correlation_id":"co-1"})");
  });
  auto token = request_token(secret_config(), http, clock);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().code, "auth.invalid_secret");
  EXPECT_EQ(token.error().details.at("trace_id"), "tr-1");
  EXPECT_EQ(http.calls(), 1);
  EXPECT_EQ(clock.sleeps(), 0);
}

TEST(RequestToken, InternalServerErrorsAreRetriedWithBackoff) {
  ManualClock clock;
  int n = 0;
  FakeHttpClient http([&](const http::Request&) -> Result<http::Response> {
    if (++n < 3) return json_response(500, R"({"error":"server_error"})");
    return json_response(200, R"({"access_token":"tok-after-500","expires_in":3600})");
  });
  auto token = request_token(secret_config(), http, clock);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(http.calls(), 3);
  EXPECT_EQ(clock.sleeps(), 2);

  // Persisting 500s end in a translated error after three attempts.
  FakeHttpClient broken(
      [](const http::Request&) -> Result<http::Response> { return json_response(500, "oops"); });
  auto failed = request_token(secret_config(), broken, clock);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(broken.calls(), 3);
  EXPECT_EQ(failed.error().details.at("http_status"), "500");
}

TEST(RequestToken, NetworkErrorsNameTheTokenEndpoint) {
  ManualClock clock;
  FakeHttpClient http([](const http::Request&) -> Result<http::Response> {
    return Error("http.connect", "connection refused to login.example");
  });
  auto token = request_token(secret_config(), http, clock);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().code, "auth.token_endpoint_unreachable");
  EXPECT_EQ(token.error().details.at("cause"), "http.connect");
}

TEST(TokenCacheKey, ChangesWithSecretScopeAndParamsButNeverContainsTheSecret) {
  auto base = secret_config();
  const auto key = token_cache_key(base);
  EXPECT_EQ(key.find(base.client_secret), std::string::npos);
  auto rotated = base;
  rotated.client_secret = "a-new-secret-value";
  EXPECT_NE(token_cache_key(rotated), key);
  auto scoped = base;
  scoped.scopes = {"https://other.example/.default"};
  EXPECT_NE(token_cache_key(scoped), key);
  auto extra = base;
  extra.extra_params = {{"resource", "x"}};
  EXPECT_NE(token_cache_key(extra), key);
  EXPECT_EQ(token_cache_key(secret_config()), key);
}

}  // namespace
}  // namespace extdata::auth
