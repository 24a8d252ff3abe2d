// Which Authorization headers carry an API token (issue 20: Jira Forms sends Basic).
#include "api/access.h"

#include <gtest/gtest.h>

#include "auth/oauth2/base64url.h"

namespace extdata::api {
namespace {

std::string basic(std::string_view user_colon_password) {
  return "Basic " + auth::base64_encode(user_colon_password);
}

TEST(ApiToken, BearerTokensAndBasicPasswordsAreTokensWhateverTheUserName) {
  EXPECT_EQ(api_token("Bearer edt_abc"), "edt_abc");
  EXPECT_EQ(api_token(basic("jira-forms:edt_abc")), "edt_abc");
  EXPECT_EQ(api_token(basic(":edt_abc")), "edt_abc");
  EXPECT_EQ(api_token("basic   " + auth::base64_encode("x:edt:with:colons")), "edt:with:colons");
}

TEST(ApiToken, MalformedBasicCredentialsAndOtherSchemesCarryNoToken) {
  EXPECT_FALSE(api_token("Basic not*base64"));
  EXPECT_FALSE(api_token(basic("no-colon")));
  EXPECT_FALSE(api_token(basic("user:")));  // an empty password is no token
  EXPECT_FALSE(api_token("Basic"));
  EXPECT_FALSE(api_token("Digest username=x"));
  EXPECT_FALSE(api_token("Basicdeadbeef"));
}

}  // namespace
}  // namespace extdata::api
