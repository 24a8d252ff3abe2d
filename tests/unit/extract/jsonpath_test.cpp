#include "extract/jsonpath/jsonpath.h"

#include <gtest/gtest.h>

#include <string>

#include "extract/jsonpath/iregexp.h"

namespace extdata::extract {
namespace {

simdjson::dom::element parse(simdjson::dom::parser& parser, const std::string& json) {
  return parser.parse(json).value();
}

std::vector<std::string> values(const JsonPath& path, simdjson::dom::element root) {
  std::vector<std::string> out;
  const auto selected = path.select(root).value();
  for (auto e : selected) out.push_back(simdjson::minify(e));
  return out;
}

TEST(JsonPath, SyntaxErrorsNamePositionAndExpectation) {
  auto path = JsonPath::compile("$.value[1");
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.error().code, "jsonpath.syntax");
  EXPECT_EQ(path.error().message, "JSONPath error at 9: expected ',' or ']'");
  EXPECT_EQ(path.error().details.at("position"), "9");

  auto unterminated = JsonPath::compile("$['abc");
  ASSERT_FALSE(unterminated.ok());
  EXPECT_EQ(unterminated.error().message, "JSONPath error at 2: unterminated string literal");

  auto no_root = JsonPath::compile("value[*]");
  ASSERT_FALSE(no_root.ok());
  EXPECT_NE(no_root.error().message.find("at 0: expected '$'"), std::string::npos);
}

TEST(JsonPath, TypeErrorsAreReportedAtTheOffendingExpression) {
  auto path = JsonPath::compile("$[?length(@.a)]");
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.error().code, "jsonpath.type");
  EXPECT_NE(path.error().message.find("at 3:"), std::string::npos) << path.error().message;

  EXPECT_FALSE(JsonPath::compile("$[?@.* == 1]").ok());  // non-singular comparison
  EXPECT_FALSE(JsonPath::compile("$[?count(1) == 1]").ok());
  EXPECT_TRUE(JsonPath::compile("$[?count(@.*) == 1]").ok());
}

TEST(JsonPath, DeepNestingIsRejectedNotACrash) {
  std::string deep = "$[?";
  for (int i = 0; i < 5000; ++i) deep += "(";
  deep += "@.a";
  for (int i = 0; i < 5000; ++i) deep += ")";
  deep += "]";
  auto path = JsonPath::compile(deep);
  ASSERT_FALSE(path.ok());
  EXPECT_NE(path.error().message.find("nested too deeply"), std::string::npos);

  EXPECT_FALSE(JsonPath::compile(std::string(JsonPath::kMaxExpressionLength + 1, '$')).ok());
}

TEST(JsonPath, InvalidUtf8InExpressionIsAnError) {
  auto path = JsonPath::compile("$['\xC3\x28']");
  ASSERT_FALSE(path.ok());
  EXPECT_NE(path.error().message.find("invalid UTF-8"), std::string::npos);
}

TEST(JsonPath, SelectsGraphListItemsAndColumns) {
  simdjson::dom::parser parser;
  const auto root = parse(parser, R"({"value":[{"id":"1","fields":{"Title":"Acme","Country":"DE"}},
    {"id":"2","fields":{"Title":"Globex","Country":"US"}}]})");
  auto records = JsonPath::compile("$.value[*]").value();
  EXPECT_FALSE(records.is_singular());
  const auto items = records.select(root).value();
  ASSERT_EQ(items.size(), 2u);
  auto title = JsonPath::compile("$.fields.Title").value();
  EXPECT_TRUE(title.is_singular());
  EXPECT_EQ(std::string(title.first(items[1])->get_string().value()), "Globex");
  EXPECT_FALSE(JsonPath::compile("$.fields.Missing").value().first(items[0]).has_value());

  auto german = JsonPath::compile("$.value[?@.fields.Country == 'DE'].fields.Title").value();
  EXPECT_EQ(values(german, root), std::vector<std::string>{"\"Acme\""});
  EXPECT_EQ(german.select_paths(root).value(),
            std::vector<std::string>{"$['value'][0]['fields']['Title']"});
}

TEST(JsonPath, ElementsPointIntoTheDocumentWithoutCopies) {
  simdjson::dom::parser parser;
  const auto root = parse(parser, R"({"a":{"b":"text"}})");
  auto path = JsonPath::compile("$.a.b").value();
  const auto direct = root["a"]["b"].get_string().value();
  const auto selected = path.first(root)->get_string().value();
  EXPECT_EQ(direct.data(), selected.data());
}

TEST(JsonPath, NormalizedPathsEscapeNames) {
  simdjson::dom::parser parser;
  const auto root = parse(parser, R"({"it's":{"\u0001":1}})");
  auto path = JsonPath::compile("$..*").value();
  EXPECT_EQ(path.select_paths(root).value(),
            (std::vector<std::string>{"$['it\\'s']", "$['it\\'s']['\\u0001']"}));
}

TEST(JsonPath, EvaluatesRepeatedlyWithTheSameCompiledPath) {
  simdjson::dom::parser parser;
  auto path = JsonPath::compile("$[?search(@.name, '^A')].name").value();
  for (int round = 0; round < 3; ++round) {
    const auto root = parse(parser, R"([{"name":"Alpha"},{"name":"beta"},{"name":"Ann"}])");
    EXPECT_EQ(values(path, root), (std::vector<std::string>{"\"Alpha\"", "\"Ann\""}));
  }
}

TEST(IRegexp, MatchesCodePointsAndCategories) {
  auto upper = IRegexp::compile("\\p{Lu}+").value();
  EXPECT_TRUE(upper.full_match("\xD0\x96\xC3\x84"));  // ЖÄ
  EXPECT_FALSE(upper.full_match("\xD0\xB6"));         // ж
  auto dot = IRegexp::compile("a.c").value();
  EXPECT_TRUE(
      dot.full_match("a\xF0\x9F\x98\x80"
                     "c"));  // one code point, four bytes
  EXPECT_FALSE(dot.full_match("a\nc"));
  EXPECT_TRUE(IRegexp::compile("[a-c]{2,3}").value().search("xxbcay"));
  EXPECT_FALSE(IRegexp::compile("[^a-c]").value().full_match("b"));
}

TEST(IRegexp, RejectsInvalidPatternsWithPosition) {
  auto bad = IRegexp::compile("a(b");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "I-Regexp error at 3: expected ')'");
  EXPECT_FALSE(IRegexp::compile("\\d").ok());  // not in I-Regexp
  EXPECT_FALSE(IRegexp::compile("a{2,1}").ok());
  EXPECT_FALSE(IRegexp::compile("(a{1000}){1000}").ok());  // program too large
}

TEST(IRegexp, HostilePatternRunsInLinearTime) {
  auto regex = IRegexp::compile("(a|a)*(a|a)*(a|a)*b").value();
  EXPECT_FALSE(regex.full_match(std::string(20000, 'a')));
}

}  // namespace
}  // namespace extdata::extract
