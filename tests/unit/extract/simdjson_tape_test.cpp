// The checks behind extract/simdjson_tape.h: if a simdjson upgrade changes how it lays out its
// tape or string buffer, these fail before RecordSet corrupts records.
#include "extract/simdjson_tape.h"

#include <gtest/gtest.h>

#include <string>

namespace extdata::extract {
namespace {

struct Parsed {
  simdjson::dom::parser parser;
  simdjson::dom::document document;
};

// Parses `json` into a document of its own (as RecordSet's scratch document is).
std::unique_ptr<Parsed> parse(const std::string& json) {
  auto parsed = std::make_unique<Parsed>();
  simdjson::padded_string padded(json);
  EXPECT_EQ(parsed->document.allocate(padded.size()), simdjson::SUCCESS);
  simdjson::dom::element root;
  EXPECT_EQ(
      parsed->parser
          .parse_into_document(parsed->document, reinterpret_cast<const uint8_t*>(padded.data()),
                               padded.size(), false)
          .get(root),
      simdjson::SUCCESS)
      << json;
  return parsed;
}

std::string minified(const std::string& json) {
  simdjson::dom::parser parser;
  return simdjson::to_string(parser.parse(simdjson::padded_string(json)).value());
}

const char* const kDocuments[] = {
    R"("just a string")",
    R"(42)",
    R"({})",
    R"([])",
    R"([1, 2.5, -3, true, null])",
    R"({"a": 1})",
    R"({"a": "x", "b": {"c": "deep", "d": [1, 2, {"e": "deeper"}]}, "f": 7})",
    R"({"value": [{"id": "1", "t": "A"}, {"id": "2", "t": "B"}], "n": [1, [2, [3]]]})",
    R"([{"k": "\u00e9\ud83d\ude00\n\"q\""}, [[[]]], {"": ""}])",
    R"({"last": {"nested": {"x": 1, "y": [true, false]}}, "empty": ""})",
    R"({"@odata.etag": "W/1", "fields": {"Title": "A", "Title@odata.type": "#String"}})",
};

TEST(SimdjsonTape, TheVersionThisCodeWasVerifiedForIsTheOneBuiltAgainst) {
  // The static_assert in simdjson_tape.h already stops the build; this names it in the report.
  EXPECT_EQ(simdjson::SIMDJSON_VERSION_MAJOR, 3);
  EXPECT_EQ(simdjson::SIMDJSON_VERSION_MINOR, 0);
  EXPECT_EQ(simdjson::SIMDJSON_VERSION_REVISION, 1);
}

TEST(SimdjsonTape, StringEndByWalkingContainersMatchesAFullScan) {
  for (const char* json : kDocuments) {
    auto parsed = parse(json);
    EXPECT_EQ(TapeCompactor::strings_end(parsed->document),
              TapeCompactor::strings_end_by_scan(parsed->document))
        << json;
  }
}

TEST(SimdjsonTape, StringEndMatchesAFullScanOnALargeGeneratedPage) {
  std::string json = R"({"value":[)";
  for (int i = 0; i < 2000; ++i) {
    if (i) json += ',';
    json += R"({"id":")" + std::to_string(i) + R"(","n":)" + std::to_string(i * 3) +
            R"(,"tags":[)" + (i % 3 ? R"("a","b")" : "") + R"(],"o":{"x":[)" + std::to_string(i) +
            "]}}";
  }
  json += R"(],"count":2000})";
  auto parsed = parse(json);
  const size_t end = TapeCompactor::strings_end(parsed->document);
  EXPECT_GT(end, 0u);
  EXPECT_EQ(end, TapeCompactor::strings_end_by_scan(parsed->document));
}

TEST(SimdjsonTape, DocumentsWithoutStringsEndAtZero) {
  for (const char* json : {"42", "[1,2,[3,{}]]", "{}", "null"}) {
    auto parsed = parse(json);
    EXPECT_EQ(TapeCompactor::strings_end(parsed->document), 0u) << json;
    EXPECT_EQ(TapeCompactor::strings_end_by_scan(parsed->document), 0u) << json;
  }
}

TEST(SimdjsonTape, CompactedDocumentReadsExactlyAsTheParsedOne) {
  TapeCompactor compactor;
  for (const char* json : kDocuments) {
    auto parsed = parse(json);
    simdjson::dom::document compact;
    const size_t bytes = compactor.compact(parsed->document, compact, "");
    EXPECT_GT(bytes, 0u);
    EXPECT_EQ(simdjson::to_string(compact.root()), minified(json)) << json;
  }
}

TEST(SimdjsonTape, CompactionCanLeaveOutMembersBySuffix) {
  TapeCompactor compactor;
  auto parsed = parse(kDocuments[10]);
  simdjson::dom::document compact;
  compactor.compact(parsed->document, compact, "@odata.type");
  EXPECT_EQ(simdjson::to_string(compact.root()), R"({"@odata.etag":"W/1","fields":{"Title":"A"}})");
  // The element count of the shortened object was rewritten too.
  simdjson::dom::object fields = compact.root()["fields"].get_object().value();
  EXPECT_EQ(fields.size(), 1u);
}

}  // namespace
}  // namespace extdata::extract
