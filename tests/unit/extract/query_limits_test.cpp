// Issue 15, row 10: query limits are named errors, never bad_alloc or minutes of matching.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <string>

#include "core/limits.h"
#include "extract/jsonpath/iregexp.h"
#include "extract/jsonpath/jsonpath.h"
#include "extract/xml.h"

namespace extdata::extract {
namespace {

// {"a":{"a":…}} nested `levels` deep: about 2 KB for 1,000 levels written as arrays.
std::string deep_document(size_t levels) {
  return std::string(levels, '[') + std::string(levels, ']');
}

TEST(JsonPathLimits, DescendantsOfDescendantsOnADeepDocumentIsANamedError) {
  simdjson::dom::parser parser;
  const std::string text = deep_document(1000);
  ASSERT_LE(text.size(), 2048u);
  simdjson::dom::element root = parser.parse(text).value();
  auto path = JsonPath::compile("$..*..*..*").value();
  auto selected = path.select(root);
  ASSERT_FALSE(selected.ok());
  EXPECT_EQ(selected.error().code, "jsonpath.too_many_nodes");
  EXPECT_NE(selected.error().hint.find("jsonpath_max_nodes"), std::string::npos);
  auto paths = path.select_paths(root);
  ASSERT_FALSE(paths.ok());
  EXPECT_EQ(paths.error().code, "jsonpath.too_many_nodes");
  EXPECT_FALSE(path.first(root).has_value());
}

TEST(JsonPathLimits, QueriesUnderTheLimitAreUnchanged) {
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(deep_document(100)).value();
  auto all = JsonPath::compile("$..*").value().select(root);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 99u);
  Limits tight;
  tight.jsonpath_max_nodes = 50;
  ScopedLimits scoped(tight);
  EXPECT_FALSE(JsonPath::compile("$..*").value().select(root).ok());
  EXPECT_TRUE(JsonPath::compile("$[0][0]").value().select(root).ok());  // singular: no walk
}

TEST(IRegexpLimits, QuantifierCountsAboveTheCapAreRefusedNamingTheLimit) {
  EXPECT_TRUE(IRegexp::compile("a{0,1000}c").ok());
  auto big = IRegexp::compile("a{0,6000}c");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("regex_max_repeat"), std::string::npos) << big.error().message;
  // In a JSONPath an invalid regex is not an error (RFC 9535: the test is false), so an
  // over-the-cap pattern matches nothing rather than running.
  auto in_path = JsonPath::compile("$[?search(@, 'a{0,6000}c')]");
  ASSERT_TRUE(in_path.ok());
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(std::string(R"(["ac","aac"])")).value();
  auto selected = in_path->select(root);
  ASSERT_TRUE(selected.ok());
  EXPECT_TRUE(selected->empty());
}

TEST(IRegexpLimits, MatchingCostIsBoundedByTextTimesProgram) {
  auto regex = IRegexp::compile("a{0,999}a{0,999}a{0,999}c").value();
  const std::string megabyte(1 << 20, 'a');
  const auto started = std::chrono::steady_clock::now();
  auto r = regex.match(megabyte, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "iregexp.too_costly");
  EXPECT_NE(r.error().hint.find("regex_max_cost"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  EXPECT_TRUE(*regex.match("aaac", true));
}

TEST(IRegexpLimits, AnOverBudgetMatchInAFilterStopsTheQueryWithItsError) {
  simdjson::dom::parser parser;
  const std::string text = "[\"" + std::string(100000, 'a') + "\"]";
  simdjson::dom::element root = parser.parse(text).value();
  auto path = JsonPath::compile("$[?search(@, 'a{0,999}a{0,999}c')]").value();
  auto r = path.select(root);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "iregexp.too_costly");
}

TEST(XmlLimits, DeepDocumentsAreRefusedBeforeXPathRuns) {
  std::string xml;
  for (int i = 0; i < 30000; ++i) xml += "<a>";
  for (int i = 0; i < 30000; ++i) xml += "</a>";
  const auto started = std::chrono::steady_clock::now();
  auto r = xpath_values_json(xml, "//a", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "xml.too_deep");
  EXPECT_NE(r.error().hint.find("xml_max_depth"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  std::string ok;
  for (int i = 0; i < 256; ++i) ok += "<a>";
  ok += "x";
  for (int i = 0; i < 256; ++i) ok += "</a>";
  auto fine = xpath_values_json(ok, "count(//a)", {});
  ASSERT_TRUE(fine.ok()) << fine.error().message;
  EXPECT_EQ(*fine, "[\"256\"]");
}

}  // namespace
}  // namespace extdata::extract
