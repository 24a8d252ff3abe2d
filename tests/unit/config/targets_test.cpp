// `targets:` in a config document (issue 20): validated against the target type's table.
#include <gtest/gtest.h>

#include "config/catalog.h"
#include "config/config.h"

namespace extdata::config {
namespace {

const std::string kHead = R"(
sources:
  - {name: crm, type: rest, url: "https://api.example.com/c", records: "$.items[*]"}
fields:
  - {name: customer, source: crm}
targets:
)";

TEST(Targets, AJiraFieldOptionsTargetParsesWithDefaultsAndItsSecretListed) {
  auto cfg = parse_config(kHead + R"(
  - name: jira-customer
    type: jira-field-options
    field: customer
    jira: https://contoso.atlassian.net
    auth: {type: basic, username: admin@contoso.com, password: tok}
    field_id: customfield_10042
)");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  ASSERT_EQ(cfg->targets.size(), 1u);
  const TargetConfig& t = cfg->targets[0];
  EXPECT_EQ(t.field, "customer");
  EXPECT_EQ(t.spec["on_removed"], "disable");
  EXPECT_EQ(t.secret_pointers, std::set<std::string>{"/auth/password"});
  EXPECT_EQ(t.masked()["auth"]["password"], nlohmann::json({{"set", true}}));
}

TEST(Targets, ErrorsNameTheKeyAnUnknownFieldAndAnAuthJiraDoesNotTake) {
  auto cfg = parse_config(kHead + R"(
  - name: a
    type: jira-field-options
    field: custmer
    jira: https://contoso.atlassian.net
    auth: {type: basic, username: u, password: p}
    field_id: customfield_1
  - name: b
    type: jira-field-options
    field: customer
    jira: https://contoso.atlassian.net
    auth: {type: api-key, key: k, header: X-Key}
    field_id: customfield_1
    on_removed: vanish
  - name: c
    type: jira-cloud-magic
)");
  ASSERT_FALSE(cfg.ok());
  const std::string issues = cfg.error().details.at("issues");
  EXPECT_NE(issues.find("targets[0].field"), std::string::npos) << issues;
  EXPECT_NE(issues.find("Did you mean 'customer'?"), std::string::npos) << issues;
  EXPECT_NE(issues.find("targets[1].on_removed"), std::string::npos) << issues;
  EXPECT_NE(issues.find("targets[2].type"), std::string::npos) << issues;
}

TEST(Targets, TheAuthCheckRefusesMethodsJiraDoesNotTake) {
  auto cfg = parse_config(kHead + R"(
  - name: b
    type: jira-field-options
    field: customer
    jira: https://contoso.atlassian.net
    auth: {type: none}
    field_id: customfield_1
)");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("auth.type"), std::string::npos) << cfg.error().message;
}

TEST(Targets, TheKindsDocumentListsTargetTypesWithTheirSettings) {
  const auto doc = kinds_document();
  ASSERT_TRUE(doc.contains("targets"));
  bool found = false;
  for (const auto& t : doc["targets"])
    if (t["type"] == "jira-field-options") {
      found = true;
      std::set<std::string> keys;
      for (const auto& st : t["settings"]) keys.insert(st["key"]);
      for (const char* key :
           {"name", "type", "field", "jira", "auth", "field_id", "context_id", "on_removed"})
        EXPECT_TRUE(keys.count(key)) << key;
    }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace extdata::config
