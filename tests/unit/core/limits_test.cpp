#include "core/limits.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/bounded_json.h"
#include "core/redact.h"

namespace extdata {
namespace {

TEST(Limits, EveryLimitHasOneSettingRowAndIsDocumented) {
  std::ifstream in(std::string(EXTDATA_SOURCE_DIR) + "/docs/limits.md");
  std::stringstream doc;
  doc << in.rdbuf();
  EXPECT_EQ(limit_settings().size(), sizeof(Limits) / sizeof(size_t));
  for (const auto& s : limit_settings()) {
    EXPECT_EQ(&limit_setting(s.member), &s) << s.name;
    for (const char* word : {s.name, s.flag, s.env})
      EXPECT_NE(doc.str().find(word), std::string::npos) << word << " missing in docs/limits.md";
    EXPECT_NE(doc.str().find(std::to_string(Limits{}.*s.member)), std::string::npos)
        << "default of " << s.name;
  }
}

TEST(BoundedJson, DepthIsCheckedBeforeParsingAndBracketsInStringsDoNotCount) {
  EXPECT_FALSE(json_depth_exceeded_at(R"({"a":[[1]]})", 3));
  EXPECT_EQ(json_depth_exceeded_at(R"({"a":[[1]]})", 2), 6u);
  EXPECT_FALSE(json_depth_exceeded_at(R"({"a":"[[[[\"[[["})", 1));
  auto deep = parse_request_json(std::string(100000, '[') + std::string(100000, ']'));
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().code, "api.json_too_deep");
  EXPECT_NE(deep.error().hint.find("--max-json-depth"), std::string::npos);
  EXPECT_EQ(parse_request_json("{nope").error().code, "api.bad_json");
  EXPECT_EQ(parse_request_object("[1]", "hint").error().hint, "hint");
  EXPECT_TRUE(parse_request_object("", "", true)->is_object());
}

// redact() sees upstream text: it must not recurse per character (std::regex did).
TEST(Redact, LongTokenRunsAreScrubbedInLinearTime) {
  const std::string token(1 << 18, 'A');  // std::regex overflowed the stack far below this
  const std::string out = redact("Authorization: Bearer " + token + "\nBearer " + token +
                                 " https://u:" + token + "@h/ eyJ" + token + "." + token + ".x");
  EXPECT_EQ(out.find("AAAA"), std::string::npos) << out.substr(0, 200);
  EXPECT_NE(out.find("https://u:[REDACTED]@h/"), std::string::npos) << out.substr(0, 200);
  EXPECT_EQ(redact("{\"token\": \"" + std::string(1 << 18, 'x')).size(), (1u << 18) + 11);
}

}  // namespace
}  // namespace extdata
