#include "core/redact.h"

#include <gtest/gtest.h>

#include "core/log.h"

namespace extdata {
namespace {

TEST(Redact, ScrubsCredentialsInEveryShape) {
  const std::string jwt = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl";
  std::string text =
      "Authorization: Bearer abc.def-123\nGET /x?api_key=k123&q=ok "
      "body client_secret=s3cr3t&client_assertion=" +
      jwt + " {\"password\": \"hunter22\", \"access_token\": \"tok-1\"} https://user:pw@host/x";
  std::string out = redact(text);
  for (const char* leak :
       {"abc.def-123", "k123", "s3cr3t", "hunter22", "tok-1", ":pw@", "eyJhbGci"})
    EXPECT_EQ(out.find(leak), std::string::npos) << leak << " leaked in: " << out;
  EXPECT_NE(out.find("q=ok"), std::string::npos);  // ordinary parameters stay readable
  EXPECT_NE(out.find("[REDACTED]"), std::string::npos);
}

TEST(Redact, ProseNamingASchemeStaysReadableWhileItsCredentialsAreMasked) {
  EXPECT_EQ(redact("use Basic auth with an API token, or a Bearer token; Basic username cannot "
                   "contain ':'"),
            "use Basic auth with an API token, or a Bearer token; Basic username cannot "
            "contain ':'");
  EXPECT_EQ(redact("sent Bearer tokenXYZ and Basic dXNlcjpwdw=="),
            "sent Bearer [REDACTED] and Basic [REDACTED]");
}

TEST(Redact, RegisteredSecretValuesNeverAppear) {
  register_secret("Zx9~registered-secret-value");
  EXPECT_EQ(redact("upstream said: Zx9~registered-secret-value is wrong"),
            "upstream said: [REDACTED] is wrong");
}

TEST(Redact, SensitiveNames) {
  EXPECT_TRUE(is_sensitive_header("authorization"));
  EXPECT_TRUE(is_sensitive_header("X-Api-Key"));
  EXPECT_FALSE(is_sensitive_header("Accept"));
  EXPECT_TRUE(is_sensitive_key("client_secret"));
  EXPECT_TRUE(is_sensitive_key("refresh_token"));
  EXPECT_FALSE(is_sensitive_key("client_id"));
}

TEST(Log, LinesAreRedactedWhoeverWritesThem) {
  std::string captured;
  log::capture_to(&captured);
  log::warn("token request failed client_secret=plain-secret-1",
            {{"client_secret", "plain-secret-2"},
             {"header", "Bearer plain-token-3"},
             {"source", "customers"}});
  log::capture_to(nullptr);
  EXPECT_EQ(captured.find("plain-secret-1"), std::string::npos) << captured;
  EXPECT_EQ(captured.find("plain-secret-2"), std::string::npos) << captured;
  EXPECT_EQ(captured.find("plain-token-3"), std::string::npos) << captured;
  EXPECT_NE(captured.find("source=customers"), std::string::npos) << captured;
}

}  // namespace
}  // namespace extdata
