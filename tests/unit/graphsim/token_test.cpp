// The token endpoint: client credentials with secrets (post and basic) and
// certificate assertions, and every Entra error graphsim can produce locally.
#include <gtest/gtest.h>

#include "crypto.h"
#include "helpers.h"

namespace graphsim::testing {
namespace {

using extdata::server::Response;

Response post(GraphSim& sim, const std::string& tenant, const std::string& body,
              extdata::server::Headers headers = {}) {
  return sim.handle(token_request(tenant, body, std::move(headers)));
}

std::string secret_form(const std::string& client_id, const std::string& secret,
                        const std::string& scope = "https://graph.microsoft.com/.default") {
  return form({{"grant_type", "client_credentials"},
               {"client_id", client_id},
               {"client_secret", secret},
               {"scope", scope}});
}

// Asserts the exact Entra error shape and returns the body.
nlohmann::json expect_entra_error(const Response& r, int status, const std::string& error,
                                  int code) {
  EXPECT_EQ(r.status, status) << r.body;
  auto j = body_json(r);
  EXPECT_EQ(j.value("error", ""), error) << r.body;
  std::string description = j.value("error_description", "");
  EXPECT_EQ(description.rfind("AADSTS" + std::to_string(code) + ": ", 0), 0u) << description;
  EXPECT_NE(description.find("\r\nTrace ID: "), std::string::npos);
  EXPECT_NE(description.find("\r\nCorrelation ID: "), std::string::npos);
  EXPECT_NE(description.find("\r\nTimestamp: 2026-06-01 00:00:00Z"), std::string::npos);
  EXPECT_EQ(j["error_codes"], nlohmann::json::array({code}));
  EXPECT_EQ(j.value("timestamp", ""), "2026-06-01 00:00:00Z");
  EXPECT_TRUE(is_guid(j.value("trace_id", ""))) << r.body;
  EXPECT_TRUE(j.contains("correlation_id"));
  EXPECT_EQ(j.value("error_uri", ""),
            "https://login.microsoftonline.com/error?code=" + std::to_string(code));
  return j;
}

TEST(GraphsimToken, SecretPostIssuesSignedTokenWithRoles) {
  auto s = make_sim();
  auto r = post(*s->sim, "contoso.onmicrosoft.com", secret_form(kAppId, kSecret));
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = body_json(r);
  EXPECT_EQ(j["token_type"], "Bearer");
  EXPECT_EQ(j["expires_in"], 3599);  // JSON numbers, as the v2 endpoint sends
  EXPECT_EQ(j["ext_expires_in"], 3599);
  auto claims = jwt_claims(j["access_token"]);
  EXPECT_EQ(claims["aud"], "https://graph.microsoft.com");
  EXPECT_EQ(claims["iss"], std::string("https://sts.windows.net/") + kTenantId + "/");
  EXPECT_EQ(claims["tid"], kTenantId);
  EXPECT_EQ(claims["appid"], kAppId);
  EXPECT_EQ(claims["appidacr"], "1");
  EXPECT_EQ(claims["idtyp"], "app");
  EXPECT_EQ(claims["roles"], nlohmann::json::array({"Sites.Read.All"}));
  EXPECT_EQ(claims["iat"], 1780272000);
  EXPECT_EQ(claims["nbf"], 1780272000);
  EXPECT_EQ(claims["exp"], 1780272000 + 3599);
  // Signed with the simulator's key.
  auto jwt = split_jwt(j["access_token"].get<std::string>());
  ASSERT_TRUE(jwt);
  EXPECT_TRUE(s->sim->signing_key().verify_rs256(jwt->signing_input, jwt->signature));
  EXPECT_EQ(s->sim->counters()["token_requests"]["by_client"][kAppId]["issued"], 1);
}

TEST(GraphsimToken, TenantByGuidAndSecondDomain) {
  auto s = make_sim();
  EXPECT_EQ(post(*s->sim, kTenantId, secret_form(kAppId, kSecret)).status, 200);
  EXPECT_EQ(post(*s->sim, "CONTOSO.COM", secret_form(kAppId, kSecret)).status, 200);
}

TEST(GraphsimToken, ClientSecretBasic) {
  auto s = make_sim();
  std::string credentials = std::string(kAppId) + ":" + form({{"x", kSecret}}).substr(2);
  auto r = post(*s->sim, "contoso.onmicrosoft.com",
                form({{"grant_type", "client_credentials"},
                      {"scope", "https://graph.microsoft.com/.default"}}),
                {{"Authorization", "Basic " + base64_encode(credentials)}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(jwt_claims(body_json(r)["access_token"])["appid"], kAppId);
}

TEST(GraphsimToken, ConfigurableLifetime) {
  auto fixture = load_test_fixture();
  fixture.token_lifetime_seconds = 5;
  auto s = make_sim(std::move(fixture));
  auto r = post(*s->sim, "contoso.onmicrosoft.com", secret_form(kAppId, kSecret));
  EXPECT_EQ(body_json(r)["expires_in"], 5);
  EXPECT_EQ(jwt_claims(body_json(r)["access_token"])["exp"], 1780272000 + 5);
}

TEST(GraphsimToken, NoAdminConsentStillIssuesTokenWithoutRoles) {
  auto s = make_sim();
  auto r = post(*s->sim, "contoso.onmicrosoft.com", secret_form(kNoConsentApp, kNoConsentSecret));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(jwt_claims(body_json(r)["access_token"]).contains("roles"));
}

TEST(GraphsimToken, WrongSecretAndSecretIdPastedInstead) {
  auto s = make_sim();
  expect_entra_error(post(*s->sim, "contoso.onmicrosoft.com", secret_form(kAppId, "nope")), 401,
                     "invalid_client", 7000215);
  auto j =
      expect_entra_error(post(*s->sim, "contoso.onmicrosoft.com", secret_form(kAppId, kSecretId)),
                         401, "invalid_client", 7000215);
  EXPECT_NE(j["error_description"].get<std::string>().find("not the client secret ID"),
            std::string::npos);
  auto counters = s->sim->counters()["token_requests"]["by_client"][kAppId];
  EXPECT_EQ(counters["failed"], 2);
  EXPECT_EQ(counters["errors"]["7000215"], 2);
}

TEST(GraphsimToken, ExpiredSecret) {
  auto s = make_sim();
  expect_entra_error(
      post(*s->sim, "contoso.onmicrosoft.com", secret_form(kExpiredApp, kExpiredSecret)), 401,
      "invalid_client", 7000222);
}

TEST(GraphsimToken, UnknownApp) {
  auto s = make_sim();
  expect_entra_error(post(*s->sim, "contoso.onmicrosoft.com",
                          secret_form("99999999-9999-4999-8999-999999999999", kSecret)),
                     400, "unauthorized_client", 700016);
}

TEST(GraphsimToken, UnknownTenantAndInvalidTenantIdentifier) {
  auto s = make_sim();
  expect_entra_error(post(*s->sim, "fabrikam.onmicrosoft.com", secret_form(kAppId, kSecret)), 400,
                     "invalid_tenant", 90002);
  expect_entra_error(
      post(*s->sim, "00000000-0000-4000-8000-000000000000", secret_form(kAppId, kSecret)), 400,
      "invalid_tenant", 90002);
  expect_entra_error(post(*s->sim, "not_a_tenant!", secret_form(kAppId, kSecret)), 400,
                     "invalid_request", 900023);
}

TEST(GraphsimToken, CommonAndConsumersRejectClientCredentials) {
  auto s = make_sim();
  expect_entra_error(post(*s->sim, "common", secret_form(kAppId, kSecret)), 400, "invalid_request",
                     9001023);
  expect_entra_error(post(*s->sim, "consumers", secret_form(kAppId, kSecret)), 400,
                     "invalid_request", 9001023);
}

TEST(GraphsimToken, BadScopes) {
  auto s = make_sim();
  expect_entra_error(
      post(*s->sim, "contoso.onmicrosoft.com", secret_form(kAppId, kSecret, "Sites.Read.All")), 400,
      "invalid_scope", 1002012);
  expect_entra_error(post(*s->sim, "contoso.onmicrosoft.com",
                          secret_form(kAppId, kSecret,
                                      "https://graph.microsoft.com/.default "
                                      "https://contoso.sharepoint.com/.default")),
                     400, "invalid_scope", 700022);
  expect_entra_error(
      post(*s->sim, "contoso.onmicrosoft.com", secret_form(kAppId, kSecret, "/.default")), 400,
      "invalid_scope", 70011);
  expect_entra_error(post(*s->sim, "contoso.onmicrosoft.com", secret_form(kAppId, kSecret, " ")),
                     400, "invalid_scope", 70011);
  expect_entra_error(post(*s->sim, "contoso.onmicrosoft.com",
                          secret_form(kAppId, kSecret, "https://unknown.example/.default")),
                     400, "invalid_resource", 500011);
}

TEST(GraphsimToken, MissingParametersAreNamed) {
  auto s = make_sim();
  auto j =
      expect_entra_error(post(*s->sim, "contoso.onmicrosoft.com", form({{"client_id", kAppId}})),
                         400, "invalid_request", 900144);
  EXPECT_NE(j["error_description"].get<std::string>().find("'grant_type'"), std::string::npos);
  j = expect_entra_error(post(*s->sim, "contoso.onmicrosoft.com",
                              form({{"grant_type", "client_credentials"},
                                    {"client_id", kAppId},
                                    {"client_secret", kSecret}})),
                         400, "invalid_request", 900144);
  EXPECT_NE(j["error_description"].get<std::string>().find("'scope'"), std::string::npos);
  j = expect_entra_error(post(*s->sim, "contoso.onmicrosoft.com",
                              form({{"grant_type", "client_credentials"},
                                    {"scope", "https://graph.microsoft.com/.default"}})),
                         400, "invalid_request", 900144);
  EXPECT_NE(j["error_description"].get<std::string>().find("'client_id'"), std::string::npos);
}

TEST(GraphsimToken, NoCredential) {
  auto s = make_sim();
  expect_entra_error(post(*s->sim, "contoso.onmicrosoft.com",
                          form({{"grant_type", "client_credentials"},
                                {"client_id", kAppId},
                                {"scope", "https://graph.microsoft.com/.default"}})),
                     401, "invalid_client", 7000218);
}

TEST(GraphsimToken, GetIsRejectedAndCorrelationIdEchoed) {
  auto s = make_sim();
  auto r = s->sim->handle(request("GET", "/contoso.onmicrosoft.com/oauth2/v2.0/token",
                                  {{"client-request-id", "8a1f2e3d-0000-4000-8000-000000000abc"}}));
  auto j = expect_entra_error(r, 400, "invalid_request", 900561);
  EXPECT_EQ(j["correlation_id"], "8a1f2e3d-0000-4000-8000-000000000abc");
}

// --- certificate credentials ---

nlohmann::json assertion_claims(const std::string& aud, long long now) {
  return {{"aud", aud},      {"iss", kCertApp},
          {"sub", kCertApp}, {"jti", "5f1c8e2a-0000-4000-8000-000000000001"},
          {"nbf", now},      {"exp", now + 600},
          {"iat", now}};
}

std::string assertion_form(const std::string& assertion) {
  return form({{"grant_type", "client_credentials"},
               {"client_id", kCertApp},
               {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
               {"client_assertion", assertion},
               {"scope", "https://graph.microsoft.com/.default"}});
}

const std::string kAud = std::string(kBase) + "/contoso.onmicrosoft.com/oauth2/v2.0/token";
constexpr long long kNow = 1780272000;

TEST(GraphsimToken, AssertionRs256WithX5t) {
  auto s = make_sim();
  std::string a = sign_jwt({{"alg", "RS256"}, {"typ", "JWT"}, {"x5t", x5t(test_certificate())}},
                           assertion_claims(kAud, kNow), test_certificate(), "RS256");
  auto r = post(*s->sim, "contoso.onmicrosoft.com", assertion_form(a));
  ASSERT_EQ(r.status, 200) << r.body;
  auto claims = jwt_claims(body_json(r)["access_token"]);
  EXPECT_EQ(claims["appid"], kCertApp);
  EXPECT_EQ(claims["appidacr"], "2");
}

TEST(GraphsimToken, AssertionPs256WithX5tS256AndLoginAudience) {
  auto s = make_sim();
  std::string a =
      sign_jwt({{"alg", "PS256"}, {"typ", "JWT"}, {"x5t#S256", x5t_s256(test_certificate())}},
               assertion_claims(std::string("https://login.microsoftonline.com/") + kTenantId +
                                    "/oauth2/v2.0/token",
                                kNow),
               test_certificate(), "PS256");
  auto r = post(*s->sim, "contoso.onmicrosoft.com", assertion_form(a));
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST(GraphsimToken, AssertionWithUnregisteredCertificate) {
  auto s = make_sim();
  std::string a = sign_jwt({{"alg", "RS256"}, {"x5t", x5t(other_certificate())}},
                           assertion_claims(kAud, kNow), other_certificate(), "RS256");
  auto j = expect_entra_error(post(*s->sim, "contoso.onmicrosoft.com", assertion_form(a)), 401,
                              "invalid_client", 700027);
  std::string thumbprint = hex_upper(base64url_decode(x5t(other_certificate())).value());
  EXPECT_NE(j["error_description"].get<std::string>().find(thumbprint), std::string::npos);
}

TEST(GraphsimToken, AssertionSignedByAnotherKeyFailsSignature) {
  auto s = make_sim();
  // Claims the registered certificate's thumbprint but is signed with another key.
  std::string a = sign_jwt({{"alg", "RS256"}, {"x5t", x5t(test_certificate())}},
                           assertion_claims(kAud, kNow), other_certificate(), "RS256");
  auto j = expect_entra_error(post(*s->sim, "contoso.onmicrosoft.com", assertion_form(a)), 401,
                              "invalid_client", 700027);
  EXPECT_NE(j["error_description"].get<std::string>().find("signature"), std::string::npos);
  // PS256 signature presented as RS256 fails too.
  a = sign_jwt({{"alg", "RS256"}, {"x5t", x5t(test_certificate())}}, assertion_claims(kAud, kNow),
               test_certificate(), "PS256");
  expect_entra_error(post(*s->sim, "contoso.onmicrosoft.com", assertion_form(a)), 401,
                     "invalid_client", 700027);
}

TEST(GraphsimToken, AssertionClaimsChecked) {
  auto s = make_sim();
  auto signed_with = [&](nlohmann::json claims) {
    return assertion_form(sign_jwt({{"alg", "RS256"}, {"x5t", x5t(test_certificate())}}, claims,
                                   test_certificate(), "RS256"));
  };
  auto wrong_aud =
      assertion_claims("https://login.microsoftonline.com/other/oauth2/v2.0/token", kNow);
  expect_entra_error(post(*s->sim, "contoso.onmicrosoft.com", signed_with(wrong_aud)), 401,
                     "invalid_client", 700023);
  auto wrong_iss = assertion_claims(kAud, kNow);
  wrong_iss["iss"] = kAppId;
  expect_entra_error(post(*s->sim, "contoso.onmicrosoft.com", signed_with(wrong_iss)), 401,
                     "invalid_client", 700021);
  auto expired = assertion_claims(kAud, kNow - 3600);
  expect_entra_error(post(*s->sim, "contoso.onmicrosoft.com", signed_with(expired)), 400,
                     "invalid_client", 700024);
  auto future = assertion_claims(kAud, kNow + 3600);
  expect_entra_error(post(*s->sim, "contoso.onmicrosoft.com", signed_with(future)), 400,
                     "invalid_client", 700024);
  // Within the tolerated skew (5 minutes) is fine.
  auto skewed = assertion_claims(kAud, kNow + 120);
  EXPECT_EQ(post(*s->sim, "contoso.onmicrosoft.com", signed_with(skewed)).status, 200);
}

TEST(GraphsimToken, MalformedAssertionAndMissingType) {
  auto s = make_sim();
  expect_entra_error(post(*s->sim, "contoso.onmicrosoft.com", assertion_form("not-a-jwt")), 400,
                     "invalid_request", 50027);
  std::string a = sign_jwt({{"alg", "RS256"}, {"x5t", x5t(test_certificate())}},
                           assertion_claims(kAud, kNow), test_certificate(), "RS256");
  expect_entra_error(post(*s->sim, "contoso.onmicrosoft.com",
                          form({{"grant_type", "client_credentials"},
                                {"client_id", kCertApp},
                                {"client_assertion", a},
                                {"scope", "https://graph.microsoft.com/.default"}})),
                     400, "invalid_request", 900144);
}

}  // namespace
}  // namespace graphsim::testing
