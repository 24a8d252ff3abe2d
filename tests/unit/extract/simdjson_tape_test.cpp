// The checks behind extract/simdjson_tape.h: if a simdjson upgrade changes how it lays out its
// tape or string buffer, these fail before RecordSet corrupts records.
#include "extract/simdjson_tape.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

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

// PageMemory: where each buffer lies, and that documents keep it.
uintptr_t address(const void* p) {
  return reinterpret_cast<uintptr_t>(p);
}

TEST(PageMemory, ASmallSeriesGetsExactBuffersOfItsOwn) {
  PageMemory memory;
  std::vector<std::shared_ptr<simdjson::dom::document>> kept;
  size_t handed_out = 0;
  while (handed_out + 200'000 < PageMemory::kExactBytes) {
    kept.push_back(memory.document(10'000, 120'000));
    handed_out += 200'000;
  }
  EXPECT_EQ(memory.chunks(), 0u);
  for (const auto& d : kept) {
    ASSERT_NE(d->tape.get(), nullptr);
    ASSERT_NE(d->string_buf.get(), nullptr);
  }
}

TEST(PageMemory, PastTheExactPartBuffersAreCutFromChunksInOrderWithoutOverlapping) {
  PageMemory memory;
  constexpr size_t kWords = 50'000, kStrings = 100'001;  // 400,000 + 100,001 bytes
  std::vector<std::shared_ptr<simdjson::dom::document>> kept;
  for (int i = 0; i < 100; ++i) kept.push_back(memory.document(kWords, kStrings));
  // 100 × ~0.5 MB (500,032 bytes aligned): the first 8 MB exact, the rest in chunks.
  constexpr size_t kExact = PageMemory::kExactBytes / 500'032;
  constexpr size_t kPerChunk = PageMemory::kChunkBytes / 500'032;
  EXPECT_EQ(memory.chunks(), (100 - kExact + kPerChunk - 1) / kPerChunk);
  // In a chunk a document's strings follow its tape, and the next document follows them
  // (64-byte aligned), except where a chunk ends.
  size_t cut = 0, next_in_chunk = 0;
  for (size_t i = 0; i < kept.size(); ++i) {
    const uintptr_t tape = address(kept[i]->tape.get());
    const uintptr_t strings = address(kept[i]->string_buf.get());
    if (strings != tape + kWords * sizeof(uint64_t)) {
      EXPECT_EQ(cut, 0u) << i << ": exact buffers come first";
      continue;
    }
    ++cut;
    EXPECT_EQ(tape % 64, 0u);
    const uintptr_t previous_end = address(kept[i - 1]->string_buf.get()) + kStrings;
    if (tape >= previous_end && tape - previous_end < 64) ++next_in_chunk;
  }
  EXPECT_EQ(cut, 100u - kExact);
  EXPECT_EQ(next_in_chunk, cut - memory.chunks());  // the first of each chunk starts elsewhere
  // Every byte of every buffer is writable, and one document's bytes are not another's.
  for (size_t i = 0; i < kept.size(); ++i) {
    std::memset(kept[i]->tape.get(), static_cast<int>(i), kWords * sizeof(uint64_t));
    std::memset(kept[i]->string_buf.get(), static_cast<int>(i), kStrings);
  }
  for (size_t i = 0; i < kept.size(); ++i) {
    EXPECT_EQ(kept[i]->tape[kWords - 1] & 0xFF, i) << i;
    EXPECT_EQ(kept[i]->string_buf[0], i) << i;
    EXPECT_EQ(kept[i]->string_buf[kStrings - 1], i) << i;
  }
}

TEST(PageMemory, DocumentsKeepTheirChunkAfterTheMemoryIsGone) {
  std::shared_ptr<simdjson::dom::document> late;
  {
    PageMemory memory;
    for (size_t handed_out = 0; handed_out <= PageMemory::kExactBytes; handed_out += 1'000'000)
      memory.document(100'000, 200'000);
    late = memory.document(100, 1000);
    ASSERT_EQ(memory.chunks(), 1u);
  }
  std::memset(late->tape.get(), 0xAB, 100 * sizeof(uint64_t));  // ASan: not unmapped
  std::memset(late->string_buf.get(), 0xCD, 1000);
  EXPECT_EQ(late->string_buf[999], 0xCD);
}

TEST(PageMemory, ABufferOverAQuarterChunkGetsMemoryOfItsOwn) {
  PageMemory memory;
  for (size_t handed_out = 0; handed_out <= PageMemory::kExactBytes; handed_out += 1'000'000)
    memory.document(100'000, 200'000);
  const size_t chunks = memory.chunks();
  auto huge = memory.document(10, PageMemory::kChunkBytes / 4 + 1);
  EXPECT_EQ(memory.chunks(), chunks);
  std::memset(huge->string_buf.get(), 1, PageMemory::kChunkBytes / 4 + 1);
  auto huger = memory.document(10, PageMemory::kChunkBytes * 2);  // more than a chunk
  EXPECT_EQ(memory.chunks(), chunks);
  huger->string_buf[PageMemory::kChunkBytes * 2 - 1] = 2;
}

}  // namespace
}  // namespace extdata::extract
