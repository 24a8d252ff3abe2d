// Issue 15, rows 2 and 8: hostile config documents are refused with the line and the limit,
// before yaml-cpp builds nodes from them.
#include <gtest/gtest.h>

#include <string>

#include "config/config.h"
#include "config/document_guard.h"
#include "core/limits.h"

namespace extdata::config {
namespace {

const char* kSource = R"(sources:
  - name: s1
    type: rest
    url: https://api.example.com/items
    records: $.items[*]
)";

std::string line_of(const Error& e) {
  auto it = e.details.find("line");
  return it == e.details.end() ? "" : it->second;
}

TEST(DocumentGuard, BillionLaughsIsRefusedByTheNodeLimit) {
  std::string doc = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    doc += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) doc += std::string(i ? ", " : "") + "*" + char(c - 1);
    doc += "]\n";
  }
  auto r = parse_config(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "config.too_large");
  EXPECT_NE(r.error().hint.find("config_max_nodes"), std::string::npos) << r.error().hint;
  EXPECT_NE(r.error().hint.find("EXTDATA_MAX_CONFIG_NODES"), std::string::npos);
}

TEST(DocumentGuard, ManyAliasesAreRefusedByTheAliasLimit) {
  std::string doc = "a: &a x\nb: [";
  for (int i = 0; i < 101; ++i) doc += std::string(i ? "," : "") + "*a";
  doc += "]\n";
  auto r = check_document(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "config.too_many_aliases");
  EXPECT_EQ(line_of(r.error()), "2");
}

TEST(DocumentGuard, SelfReferencingAliasIsRefused) {
  auto r = parse_config("sources: &s\n  - *s\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "config.self_alias");
  EXPECT_EQ(line_of(r.error()), "2");
}

TEST(DocumentGuard, AliasesOfCompleteNodesStillWork) {
  auto r = parse_config(R"(sources:
  - &base
    name: s1
    type: rest
    url: https://api.example.com/items
    records: $.items[*]
fields:
  - name: f1
    source: s1
)");
  EXPECT_TRUE(r.ok()) << r.error().message;
}

TEST(DocumentGuard, DuplicateKeyIsAnErrorWithItsLine) {
  auto r = parse_config(std::string(kSource) + "    name: s2\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "config.duplicate_key");
  EXPECT_EQ(line_of(r.error()), "6");
  EXPECT_NE(r.error().message.find("'name'"), std::string::npos) << r.error().message;
}

TEST(DocumentGuard, ASecondDocumentIsAnError) {
  auto r = parse_config(std::string(kSource) + "---\nsources: []\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "config.multiple_documents");
  EXPECT_EQ(line_of(r.error()), "6");
}

TEST(DocumentGuard, InvalidUtf8IsRefusedAtValidateWithItsLine) {
  std::string doc = std::string(kSource) + "    description: caf\xC3\n";
  auto r = parse_config(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "config.bad_utf8");
  EXPECT_EQ(line_of(r.error()), "6");
  EXPECT_FALSE(parse_config(std::string(kSource) + "    description: \xED\xA0\x80\n").ok());
  EXPECT_TRUE(parse_config(std::string(kSource) + "    description: caf\xC3\xA9\n").ok());
}

TEST(DocumentGuard, DeepNestingSaysWhatAndWhere) {
  std::string doc = std::string(kSource) + "    description: " + std::string(100000, '[') +
                    std::string(100000, ']') + "\n";
  auto r = parse_config(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "config.too_deep");
  EXPECT_EQ(line_of(r.error()), "6");
  EXPECT_NE(r.error().message.find("64 levels"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().hint.find("--max-config-depth"), std::string::npos) << r.error().hint;
}

TEST(DocumentGuard, LimitsAreOperatorSettings) {
  Limits tight;
  tight.config_max_depth = 3;
  ScopedLimits scoped(tight);
  EXPECT_EQ(check_document("a: {b: {c: 1}}").ok(), true);
  EXPECT_EQ(check_document("a: {b: {c: {d: 1}}}").error().code, "config.too_deep");
}

// Row 2 / row 8: a 60,000-character URL and an unclosed "${env:" of 500 KB overflowed the
// stack in std::regex.
TEST(ConfigRegexFree, LongUrlsAndUnclosedReferencesAreCheckedLinearly) {
  const std::string url = "https://api.example.com/" + std::string(60000, 'a');
  auto ok = parse_source(R"({"type":"rest","records":"$","url":")" + url + "\"}", "s");
  EXPECT_TRUE(ok.ok()) << ok.error().message.substr(0, 200);
  auto bad = parse_source(R"({"type":"rest","url":"ftp://)" + std::string(60000, 'a') + "\"}", "s");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "config.invalid");
  const std::string unclosed = "${env:" + std::string(500000, 'x');
  // A config file resolves references (the API refuses them: refuse_host_references).
  auto ref = parse_config(R"({"sources":[{"name":"s","type":"rest","records":"$",)"
                          R"("url":"https://a.example.com/","description":")" +
                          unclosed + "\"}]}");
  ASSERT_TRUE(ref.ok()) << ref.error().message.substr(0, 200);
  EXPECT_EQ(ref->sources[0].spec["description"], unclosed);  // not a reference: kept as written
  EXPECT_FALSE(refuse_host_references(nlohmann::json{{"description", unclosed}}));
}

TEST(ConfigRegexFree, UrlAndDateChecksKeepTheirMeaning) {
  auto url = [](const std::string& u) {
    return parse_source(R"({"type":"rest","records":"$","url":")" + u + "\"}", "s").ok();
  };
  EXPECT_TRUE(url("https://a.example.com"));
  EXPECT_TRUE(url("HTTP://a.example.com/x?y#z"));
  EXPECT_TRUE(url("https://a.example.com?q={q}"));
  EXPECT_FALSE(url("https://"));
  EXPECT_FALSE(url("https:///path"));
  EXPECT_FALSE(url("https://a.example.com/x y"));
  EXPECT_FALSE(url("ftp://a.example.com"));
  setenv("EXTDATA_TEST_REF", "v", 1);
  auto refs = parse_config(
      R"({"sources":[{"name":"s","type":"rest","records":"$","url":"https://a.example.com/","description":"${x ${env:EXTDATA_TEST_REF}-${env:EXTDATA_TEST_REF}}"}]})");
  ASSERT_TRUE(refs.ok()) << refs.error().message;
  EXPECT_EQ(refs->sources[0].spec["description"], "${x v-v}");
}

}  // namespace
}  // namespace extdata::config
