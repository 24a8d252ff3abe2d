#include "config/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/schema.h"

namespace extdata::config {
namespace {

const char* kGood = R"yaml(sources:
  - name: customers
    type: sharepoint-list
    tenant: contoso.onmicrosoft.com
    client_id: 11111111-2222-3333-4444-555555555555
    client_secret: s3cr3t-value-abc
    site: https://contoso.sharepoint.com/sites/Sales
    list: Customers
    cache_ttl: 15m
  - name: countries
    type: rest
    url: https://api.example.com/countries?q={q}
    auth:
      type: api_key
      name: X-Api-Key
      value: key-123456
    records: $.items[*]
fields:
  - name: customer
    source: customers
    label: "{fields.Title} ({fields.Country})"
)yaml";

TEST(Config, ParsesValidFileWithDefaultsAndSecrets) {
  auto r = parse_config(kGood);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->sources.size(), 2u);
  const auto& sp = r->sources[0];
  EXPECT_EQ(sp.type, "sharepoint-list");
  EXPECT_EQ(sp.spec["cache_ttl"], 900.0);
  EXPECT_EQ(sp.spec["page_size"], 5000);
  EXPECT_EQ(sp.spec["graph"], "https://graph.microsoft.com/v1.0");
  EXPECT_EQ(sp.secret_pointers, (std::set<std::string>{"/client_secret"}));
  EXPECT_EQ(sp.masked()["client_secret"], (nlohmann::json{{"set", true}}));
  EXPECT_EQ(r->sources[1].secret_pointers, (std::set<std::string>{"/auth/value"}));
  ASSERT_EQ(r->fields.size(), 1u);
  EXPECT_EQ(r->fields[0].spec["value"], "{id}");
  EXPECT_EQ(r->fields[0].spec["limit"], 20);
}

TEST(Config, UnknownKeySuggestsTheClosestAndNamesTheLine) {
  std::string text = kGood;
  text.replace(text.find("    records:"), 12, "    recrods:");
  auto r = parse_config(text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "config.invalid");
  EXPECT_EQ(r.error().message, "sources[1].recrods (line 17): unknown key 'recrods'");
  EXPECT_EQ(r.error().hint, "Did you mean 'records'?");
}

TEST(Config, ClosestMatchCountsSwappedNeighboursAsOneEdit) {
  const std::vector<std::string> keys{"name", "site", "list", "select", "timeout"};
  EXPECT_EQ(closest_match("lsit", keys), "list");
  EXPECT_EQ(closest_match("tiemout", keys), "timeout");
  EXPECT_EQ(closest_match("SITE", keys), "site");
  EXPECT_EQ(closest_match("zzzzzz", keys), std::nullopt);
}

TEST(Config, InvalidUrlNamesKeyPathAndLine) {
  const char* text = R"(sources:
  - name: a
    type: rest
    url: https://ok.example.com/
  - name: b
    type: rest
    url: https://example.com/x
    auth:
      type: oauth2
      client_id: abc
      client_secret: xyz-secret
      token_url: not a url
)";
  auto r = parse_config(text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "sources[1].auth.token_url (line 12): not a valid URL: 'not a url'");
}

TEST(Config, CollectsEveryProblem) {
  const char* text = R"(sources:
  - name: a
    type: rest
    url: https://x.example.com
    timeout: soon
    method: FETCH
  - type: sharepoint-list
fields:
  - name: f
    source: nope
)";
  auto r = parse_config(text);
  ASSERT_FALSE(r.ok());
  const std::string issues = r.error().details.at("issues");
  EXPECT_NE(issues.find("sources[0].timeout (line 5): not a duration: 'soon'"), std::string::npos)
      << issues;
  EXPECT_NE(issues.find("sources[0].method (line 6): 'FETCH' is not one of"), std::string::npos)
      << issues;
  EXPECT_NE(issues.find("sources[1].name (line 7): missing required key 'name'"), std::string::npos)
      << issues;
  EXPECT_NE(issues.find("fields[0].source (line 10): no source named 'nope'"), std::string::npos)
      << issues;
}

TEST(Config, MissingRequiredAndCrossKeyChecks) {
  auto r = parse_config(R"(sources:
  - name: sp
    type: sharepoint-list
    tenant: t
    client_id: c
    list: L
    site: https://contoso.sharepoint.com/sites/Sales
)");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "sources[0].client_secret (line 2): needs client_secret or client_certificate");
}

TEST(Config, UnknownSourceTypeSuggests) {
  auto r = parse_config("sources:\n  - name: x\n    type: sharepoint\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("'sharepoint' is not one of: rest, sharepoint-list"),
            std::string::npos);
  EXPECT_EQ(r.error().hint, "Did you mean 'sharepoint-list'?");
}

TEST(Config, MalformedYamlReportsLineAndColumn) {
  auto r = parse_config("sources:\n  - name: x\n    type: [rest\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "config.syntax");
  EXPECT_NE(r.error().message.find("line "), std::string::npos);
}

TEST(Config, JsonFilesWork) {
  auto r =
      parse_config(R"({"sources": [{"name": "r", "type": "rest", "url": "https://a.example.com/x",
    "cache_ttl": 30}], "fields": []})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->sources[0].spec["cache_ttl"], 30.0);
}

TEST(Config, ResolvesEnvAndFileReferences) {
  setenv("EXTDATA_TEST_SECRET", "from-env-secret", 1);
  auto dir = std::filesystem::temp_directory_path() / "extdata-config-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "secret.txt") << "from-file-secret\n";
  std::string text = R"(sources:
  - name: a
    type: sharepoint-list
    tenant: t
    client_id: c
    client_secret: ${env:EXTDATA_TEST_SECRET}
    site: https://contoso.sharepoint.com/sites/Sales
    list: L
  - name: b
    type: rest
    url: https://x.example.com
    auth: {type: bearer, token: "${file:secret.txt}"}
)";
  ParseOptions options;
  options.secrets_dir = dir.string();
  auto r = parse_config(text, options);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->sources[0].spec["client_secret"], "from-env-secret");
  EXPECT_EQ(r->sources[1].spec["auth"]["token"], "from-file-secret");
}

TEST(Config, UnsetEnvAndUnreadableFileAreClearErrors) {
  unsetenv("EXTDATA_TEST_UNSET");
  auto r = parse_config(R"(sources:
  - name: a
    type: rest
    url: https://x.example.com
    auth: {type: bearer, token: "${env:EXTDATA_TEST_UNSET}"}
  - name: b
    type: rest
    url: https://x.example.com
    auth: {type: bearer, token: "${file:/nonexistent/token}"}
)");
  ASSERT_FALSE(r.ok());
  const auto& issues = r.error().details.at("issues");
  EXPECT_NE(
      issues.find(
          "sources[0].auth.token (line 5): environment variable EXTDATA_TEST_UNSET is not set"),
      std::string::npos)
      << issues;
  EXPECT_NE(issues.find("sources[1].auth.token (line 9): ${file:/nonexistent/token} needs a "
                        "secrets directory — Start extdata with --secrets-dir DIR"),
            std::string::npos)
      << issues;
}

TEST(Config, FieldOfASourceWithAnErrorGetsNoFollowOnError) {
  unsetenv("EXTDATA_TEST_UNSET");
  auto r = parse_config(R"(sources:
  - name: a
    type: rest
    url: https://x.example.com
    auth: {type: bearer, token: "${env:EXTDATA_TEST_UNSET}"}
fields:
  - name: f
    source: a
)");
  ASSERT_FALSE(r.ok());
  const auto& issues = r.error().details.at("issues");
  EXPECT_NE(issues.find("environment variable EXTDATA_TEST_UNSET is not set"), std::string::npos)
      << issues;
  EXPECT_EQ(issues.find("no source named"), std::string::npos) << issues;
}

TEST(Config, DuplicateNamesAndBadNames) {
  auto r = parse_config(R"(sources:
  - {name: a, type: rest, url: "https://x.example.com"}
  - {name: a, type: rest, url: "https://y.example.com"}
  - {name: "bad name", type: rest, url: "https://y.example.com"}
)");
  ASSERT_FALSE(r.ok());
  const auto& issues = r.error().details.at("issues");
  EXPECT_NE(issues.find("sources[1].name (line 3): duplicate source name 'a'"), std::string::npos)
      << issues;
  EXPECT_NE(issues.find("sources[2].name (line 4): 'bad name' is not a valid name"),
            std::string::npos);
}

TEST(Config, ParseSourceForTheApiChecksNameAgainstUrl) {
  auto ok = parse_source(R"({"type":"rest","url":"https://x.example.com"})", "r1");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->name, "r1");
  auto mismatch =
      parse_source(R"({"name":"other","type":"rest","url":"https://x.example.com"})", "r1");
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("does not match"), std::string::npos);
}

TEST(Config, Durations) {
  EXPECT_EQ(parse_duration("15m"), 900);
  EXPECT_EQ(parse_duration("500ms"), 0.5);
  EXPECT_EQ(parse_duration("2h"), 7200);
  EXPECT_EQ(parse_duration("30"), 30);
  EXPECT_FALSE(parse_duration("m15").has_value());
  EXPECT_FALSE(parse_duration("15 minutes").has_value());
}

TEST(Schema, MarkdownListsEverySetting) {
  std::string md = schema_markdown();
  EXPECT_NE(md.find("| `client_secret_expires` | date |"), std::string::npos);
  EXPECT_NE(md.find("### sources (type: sharepoint-list)"), std::string::npos);
}

}  // namespace
}  // namespace extdata::config
