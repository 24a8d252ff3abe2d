#include "extract/json_text.h"

#include <gtest/gtest.h>

namespace extdata::extract {
namespace {

std::string written(const std::string& json) {
  simdjson::dom::parser parser;
  std::string out;
  append_json(out, parser.parse(json).value());
  return out;
}

TEST(JsonText, WritesMinifiedJsonThatReadsBackTheSame) {
  const std::string text =
      R"({"id":"4","n":-12,"big":18446744073709551615,"d":2.5,"whole":2.0,"tiny":1e-300,)"
      R"("t":true,"f":false,"z":null,"a":[1,[],{}],"o":{"k":"v"},"":""})";
  EXPECT_EQ(written(text),
            R"({"id":"4","n":-12,"big":18446744073709551615,"d":2.5,"whole":2.0,"tiny":1e-300,)"
            R"("t":true,"f":false,"z":null,"a":[1,[],{}],"o":{"k":"v"},"":""})");
  // The text reads back to the same document.
  EXPECT_EQ(written(written(text)), written(text));
}

TEST(JsonText, EscapesOnlyWhatJsonRequires) {
  EXPECT_EQ(written(R"(["a\"b\\c\/d"])"), R"(["a\"b\\c/d"])");
  EXPECT_EQ(written(R"(["\n\r\t\b\f\u0001\u001f"])"), R"(["\n\r\t\b\f\u0001\u001f"])");
  EXPECT_EQ(written(R"(["Müller — 株式会社 \ud83d\ude00"])"),
            "[\"Müller — 株式会社 \xF0\x9F\x98\x80\"]");
  EXPECT_EQ(written(R"({"ke\"y":1})"), R"({"ke\"y":1})");
}

TEST(JsonText, StringLiteralsOfPlainAndEscapedText) {
  std::string out;
  append_json_string(out, "plain");
  append_json_string(out, "");
  append_json_string(out, std::string("nul\0end", 7));
  EXPECT_EQ(out, R"("plain""""nul\u0000end")");
  // Escapes before, on and after 8-byte boundaries, and UTF-8 next to them.
  for (const std::string& s : {std::string("abcdefgh\"ijklmnop\\q"), std::string("abcdefg\x1f"),
                               std::string("ääää\tüüüüüüüü\n"), std::string(64, 'x') + "\"",
                               std::string("\"") + std::string(64, 'y')}) {
    std::string literal;
    append_json_string(literal, s);
    simdjson::dom::parser parser;
    auto back = parser.parse(literal);
    ASSERT_FALSE(back.error()) << literal;
    EXPECT_EQ(std::string(back.value().get_string().value()), s) << literal;
  }
}

TEST(JsonText, DisplayTextOfScalarsAndContainers) {
  simdjson::dom::parser parser;
  const std::string text = R"({"s":"x y","i":7,"d":0.1,"w":3.0,"n":null,"b":true,"o":{"a":[1]}})";
  auto doc = parser.parse(text).value();
  EXPECT_EQ(display_text(doc["s"].value()), "x y");
  EXPECT_EQ(display_text(doc["i"].value()), "7");
  EXPECT_EQ(display_text(doc["d"].value()), "0.1");
  EXPECT_EQ(display_text(doc["w"].value()), "3.0");
  EXPECT_EQ(display_text(doc["n"].value()), "");
  EXPECT_EQ(display_text(doc["b"].value()), "true");
  EXPECT_EQ(display_text(doc["o"].value()), R"({"a":[1]})");
}

}  // namespace
}  // namespace extdata::extract
