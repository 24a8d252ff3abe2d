// Every AADSTS code the issue names, over bodies shaped like Microsoft's (reference §1),
// plus the RFC 6749 codes of other servers.
#include "auth/oauth2/entra_errors.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace extdata::auth {
namespace {

std::string entra_body(const std::string& error, long long code, const std::string& text) {
  const std::string description =
      "AADSTS" + std::to_string(code) + ": " + text +
      "\r\nTrace ID: 0b8e9a1c-1111-4c2f-9d6e-aaaaaaaa0001\r\nCorrelation "
      "ID: 5f2c7d3e-2222-4e8b-8f0a-bbbbbbbb0002\r\nTimestamp: "
      "2026-01-09 02:02:12Z";
  return nlohmann::json{
      {"error", error},
      {"error_description", description},
      {"error_codes", {code}},
      {"timestamp", "2026-01-09 02:02:12Z"},
      {"trace_id", "0b8e9a1c-1111-4c2f-9d6e-aaaaaaaa0001"},
      {"correlation_id", "5f2c7d3e-2222-4e8b-8f0a-bbbbbbbb0002"},
      {"error_uri", "https://login.microsoftonline.com/error?code=" + std::to_string(code)}}
      .dump();
}

struct Case {
  long long aadsts;
  const char* error;
  long status;
  const char* expected_code;
  const char* hint_fragment;
};

class EntraCodes : public ::testing::TestWithParam<Case> {};

TEST_P(EntraCodes, TranslatesToAnErrorWithHintAndUpstreamIds) {
  const Case c = GetParam();
  const Error e =
      translate_token_error(c.status, entra_body(c.error, c.aadsts, "Upstream text for the case."));
  EXPECT_EQ(e.code, c.expected_code);
  EXPECT_FALSE(e.message.empty());
  EXPECT_NE(e.hint.find(c.hint_fragment), std::string::npos) << e.hint;
  EXPECT_EQ(e.details.at("aadsts"), std::to_string(c.aadsts));
  EXPECT_EQ(e.details.at("error"), c.error);
  EXPECT_EQ(e.details.at("http_status"), std::to_string(c.status));
  EXPECT_EQ(e.details.at("trace_id"), "0b8e9a1c-1111-4c2f-9d6e-aaaaaaaa0001");
  EXPECT_EQ(e.details.at("correlation_id"), "5f2c7d3e-2222-4e8b-8f0a-bbbbbbbb0002");
  EXPECT_EQ(e.details.at("timestamp"), "2026-01-09 02:02:12Z");
  EXPECT_NE(e.details.at("error_description").find("AADSTS"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    AllIssueCodes, EntraCodes,
    ::testing::Values(
        Case{7000215, "invalid_client", 401, "auth.invalid_secret",
             "wrong or the secret was deleted"},
        Case{7000222, "invalid_client", 401, "auth.secret_expired", "Certificates & secrets"},
        Case{700016, "unauthorized_client", 400, "auth.unknown_client", "client_id"},
        Case{90002, "invalid_tenant", 400, "auth.unknown_tenant", "tenant"},
        Case{900023, "invalid_request", 400, "auth.invalid_tenant", "Directory (tenant) ID"},
        Case{70011, "invalid_scope", 400, "auth.invalid_scope",
             "https://graph.microsoft.com/.default"},
        Case{1002012, "invalid_scope", 400, "auth.invalid_scope",
             "https://graph.microsoft.com/.default"},
        Case{700022, "invalid_scope", 400, "auth.invalid_scope", "one resource"},
        Case{900144, "invalid_request", 400, "auth.missing_parameter", "upstream description"},
        Case{7000218, "invalid_client", 401, "auth.missing_credential", "client_secret"},
        Case{700027, "invalid_client", 401, "auth.certificate_not_registered",
             "Certificates & secrets"},
        Case{700024, "invalid_client", 401, "auth.assertion_time_invalid", "clock"},
        Case{9001023, "invalid_request", 400, "auth.tenant_required", "tenant ID"}),
    [](const auto& info) { return "AADSTS" + std::to_string(info.param.aadsts); });

TEST(EntraErrors, CodeFromDescriptionWhenErrorCodesIsMissing) {
  const std::string body =
      R"({"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys are expired."})";
  EXPECT_EQ(aadsts_code(body), 7000222);
  EXPECT_EQ(translate_token_error(401, body).code, "auth.secret_expired");
}

TEST(EntraErrors, UnknownAadstsKeepsUpstreamFirstLine) {
  const Error e = translate_token_error(
      400, entra_body("invalid_request", 50126,
                      "Error validating credentials due to invalid username."));
  EXPECT_EQ(e.code, "auth.invalid_request");
  EXPECT_NE(e.message.find("AADSTS50126: Error validating credentials"), std::string::npos);
  EXPECT_EQ(e.message.find("Trace ID"), std::string::npos);
  EXPECT_EQ(e.details.at("aadsts"), "50126");
}

TEST(RfcErrors, ExplainsEachStandardCode) {
  const std::map<std::string, std::string> expected = {
      {"invalid_client", "auth.invalid_client"},
      {"invalid_grant", "auth.invalid_grant"},
      {"unauthorized_client", "auth.unauthorized_client"},
      {"unsupported_grant_type", "auth.unsupported_grant_type"},
      {"invalid_scope", "auth.invalid_scope"},
      {"invalid_request", "auth.invalid_request"},
      {"invalid_target", "auth.invalid_target"}};
  for (const auto& [error, code] : expected) {
    const Error e = translate_token_error(
        400, nlohmann::json{{"error", error}, {"error_description", "server says no"}}.dump());
    EXPECT_EQ(e.code, code) << error;
    EXPECT_FALSE(e.hint.empty()) << error;
    EXPECT_EQ(e.details.at("error"), error);
    EXPECT_EQ(e.details.at("error_description"), "server says no");
    EXPECT_EQ(e.details.count("aadsts"), 0u);
  }
  const Error other = translate_token_error(400, R"({"error":"slow_down"})");
  EXPECT_EQ(other.code, "auth.token_request_failed");
  EXPECT_NE(other.message.find("slow_down"), std::string::npos);
}

TEST(TokenErrors, NonJsonAnswersKeepStatusAndATrimmedBody) {
  const Error e = translate_token_error(502, "<html>" + std::string(1000, 'x') + "</html>");
  EXPECT_EQ(e.code, "auth.token_request_failed");
  EXPECT_NE(e.message.find("HTTP 502"), std::string::npos);
  EXPECT_EQ(e.details.at("http_status"), "502");
  EXPECT_LT(e.details.at("body").size(), 320u);
}

TEST(TokenErrors, SecretsInUpstreamTextAreRedacted) {
  const Error e = translate_token_error(
      400,
      R"({"error":"invalid_request","error_description":"bad request client_secret=abc123xyz&x=1"})");
  EXPECT_EQ(e.details.at("error_description").find("abc123xyz"), std::string::npos);
}

TEST(EntraErrors, RejectedSecretBlamesAPastedSecretIdOnlyWhenTheSecretIsShapedLikeOne) {
  const std::string body = entra_body("invalid_client", 7000215, "Invalid client secret provided.");
  Error pasted_id = translate_token_error(401, body);
  explain_rejected_secret(pasted_id, "9d2c7a51-3e8f-4b6a-9c1d-0e5f4a3b2c10");
  EXPECT_NE(pasted_id.hint.find("secret ID was probably pasted"), std::string::npos);

  Error wrong_value = translate_token_error(401, body);
  explain_rejected_secret(wrong_value, "Abc8Q~notTheRightValue.0001xYz2");
  EXPECT_EQ(wrong_value.hint.find("secret ID"), std::string::npos);
  EXPECT_NE(wrong_value.hint.find("wrong or the secret was deleted"), std::string::npos);

  Error other = translate_token_error(401, entra_body("invalid_client", 7000222, "Expired."));
  const std::string before = other.hint;
  explain_rejected_secret(other, "9d2c7a51-3e8f-4b6a-9c1d-0e5f4a3b2c10");
  EXPECT_EQ(other.hint, before) << "only auth.invalid_secret is refined";
}

}  // namespace
}  // namespace extdata::auth
