// The checks behind extract/simdjson_tape.h: if a simdjson upgrade changes how it lays out its
// tape or string buffer, these fail before RecordSet corrupts records.
#include "extract/simdjson_tape.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "extract/record_set.h"

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

// Encodes the whole of `parsed` (its root wanted) into a shape page.
struct Encoded {
  ShapePage page;
  uint32_t root_ref = 0;
};
Encoded encode(ShapeEncoder& encoder, const simdjson::dom::document& document,
               std::string_view omitted = {}) {
  Encoded out;
  const std::vector<uint64_t> wanted = {1};
  const Status status =
      encoder.encode(document.tape.get(), tape_length(document), document.string_buf.get(), omitted,
                     wanted, &out.root_ref, nullptr, out.page);
  EXPECT_TRUE(status.ok()) << status.error().to_string();
  return out;
}

std::string decoded(const ShapePage& page, uint32_t slot) {
  const DecodedValue value(page, slot);
  return simdjson::to_string(value.root());
}

// Every scalar type at its extremes, empty containers, NUL and multi-byte UTF-8 in strings.
const char* const kScalars[] = {
    R"([0, -1, 268435455, 268435456, -268435456, -268435457, 9223372036854775807,
        -9223372036854775808, 18446744073709551615, 9223372036854775808, 0.5, -0.0, 1e308,
        2.2250738585072014e-308, 3.141592653589793, 100.0])",
    R"({"e": {}, "a": [], "n": null, "t": true, "f": false, "s": "", "z": "a\u0000b",
        "u": "Zoë 日本 🎉", "nested": [[], [{}], {"": []}]})",
};

TEST(ShapePage, EncodedDocumentsDecodeExactlyAsSimdjsonParsedThem) {
  ShapeEncoder encoder;
  std::vector<std::string> documents(std::begin(kDocuments), std::end(kDocuments));
  documents.insert(documents.end(), std::begin(kScalars), std::end(kScalars));
  for (const std::string& json : documents) {
    auto parsed = parse(json);
    const Encoded encoded = encode(encoder, parsed->document);
    EXPECT_EQ(encoded.root_ref, encoded.page.root) << json;
    EXPECT_EQ(decoded(encoded.page, encoded.page.root), minified(json)) << json;
    std::vector<bool> headers;
    EXPECT_TRUE(encoded.page.valid(RecordSet::kMaxDepth, headers)) << json;
  }
}

TEST(ShapePage, NumbersKeepTheirSimdjsonTypes) {
  ShapeEncoder encoder;
  auto parsed = parse(kScalars[0]);
  const Encoded encoded = encode(encoder, parsed->document);
  const DecodedValue value(encoded.page, encoded.page.root);
  const simdjson::dom::array items = value.root().get_array().value();
  const simdjson::dom::array expected = parsed->document.root().get_array().value();
  ASSERT_EQ(items.size(), expected.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const auto a = items.at(i).value(), b = expected.at(i).value();
    EXPECT_EQ(a.type(), b.type()) << i;
    if (b.is_int64()) {
      EXPECT_EQ(a.get_int64().value(), b.get_int64().value()) << i;
    }
    if (b.is_uint64()) {
      EXPECT_EQ(a.get_uint64().value(), b.get_uint64().value()) << i;
    }
    if (b.is_double()) {
      const double x = a.get_double().value(), y = b.get_double().value();
      EXPECT_EQ(std::memcmp(&x, &y, sizeof x), 0) << i;  // -0.0 stays -0.0
    }
  }
  // Integers within 29 bits are inline, the others in the number table.
  EXPECT_EQ(encoded.page.number_count, 12u);
}

TEST(ShapePage, ObjectsWithTheSameMembersShareOneShapeAndNamesAreStoredOnce) {
  std::string json = "[";
  for (int i = 0; i < 1000; ++i) {
    if (i) json += ',';
    json += R"({"id":)" + std::to_string(i) + R"(,"title":"T)" + std::to_string(i) +
            R"(","fields":{"City":"Lyon"}})";
    if (i % 2) json += R"(,{"other":true})";
  }
  json += "]";
  ShapeEncoder encoder;
  auto parsed = parse(json);
  const Encoded encoded = encode(encoder, parsed->document);
  // Three shapes: {id,title,fields}, {City}, {other}: 3 + 1 + 1 names and 3 counts.
  EXPECT_EQ(encoded.page.shape_words, 8u);
  // A record is a header and three slots, its fields object a header and one slot.
  EXPECT_EQ(encoded.page.slot_count, 1u + 1500u + 1000u * 4 + 1000u * 2 + 500u * 2);
  EXPECT_EQ(decoded(encoded.page, encoded.page.root), minified(json));
  // "Lyon" and every member name once; each "T<i>" once.
  EXPECT_LT(encoded.page.string_bytes, 1000u * 11 + 200);
}

TEST(ShapePage, WantedValuesAreAnsweredWithTheirSlotsAndDecodeAlone) {
  auto parsed = parse(kDocuments[7]);  // {"value": [{"id": "1", "t": "A"}, ...], "n": [...]}
  const simdjson::dom::element root = parsed->document.root();
  std::vector<simdjson::dom::element> elements = {root,
                                                  root["value"].value(),
                                                  root["value"].at(1).value(),
                                                  root["value"].at(1)["t"].value(),
                                                  root["n"].at(1).value(),
                                                  root["n"].at(1).at(1).at(0).value()};
  std::vector<uint64_t> wanted;
  for (const auto& e : elements) wanted.push_back(tape_index(e));
  wanted.push_back(tape_index(elements[2]));  // asked twice
  std::vector<size_t> order(wanted.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return wanted[a] < wanted[b]; });
  std::vector<uint64_t> sorted;
  for (size_t i : order) sorted.push_back(wanted[i]);
  std::vector<uint32_t> refs(sorted.size());
  ShapeEncoder encoder;
  ShapePage page;
  ASSERT_TRUE(encoder
                  .encode(parsed->document.tape.get(), tape_length(parsed->document),
                          parsed->document.string_buf.get(), {}, sorted, refs.data(), nullptr, page)
                  .ok());
  for (size_t k = 0; k < order.size(); ++k) {
    const size_t i = order[k];
    const auto& element = i < elements.size() ? elements[i] : elements[2];
    EXPECT_EQ(decoded(page, refs[k]), simdjson::to_string(element)) << i;
  }
}

TEST(ShapePage, OmittedMembersAreLeftOutAndValuesInsideThemAreMissing) {
  auto parsed =
      parse(R"({"a@x": {"deep": [1, 2]}, "keep": {"b@x": 5, "c": "C", "d@x": "gone"}, "e@x": 1})");
  const simdjson::dom::element root = parsed->document.root();
  const std::vector<uint64_t> wanted = {tape_index(root["a@x"]["deep"].value()),
                                        tape_index(root["keep"].value()),
                                        tape_index(root["keep"]["d@x"].value())};
  std::vector<uint32_t> refs(3);
  ShapeEncoder encoder;
  ShapePage page;
  ASSERT_TRUE(encoder
                  .encode(parsed->document.tape.get(), tape_length(parsed->document),
                          parsed->document.string_buf.get(), "@x", wanted, refs.data(), nullptr,
                          page)
                  .ok());
  EXPECT_EQ(decoded(page, page.root), R"({"keep":{"c":"C"}})");
  EXPECT_EQ(refs[0], ShapePage::kMissing);
  EXPECT_EQ(decoded(page, refs[1]), R"({"c":"C"})");
  EXPECT_EQ(refs[2], ShapePage::kMissing);
  const DecodedValue keep(page, refs[1]);
  EXPECT_EQ(keep.root().get_object().value().size(), 1u);  // the count was rewritten too
}

TEST(ShapePage, NestingUpToTheDepthLimitDecodes) {
  const size_t depth = RecordSet::kMaxDepth - 1;  // simdjson counts the root too
  std::string json;
  for (size_t i = 0; i < depth; ++i) json += i % 2 ? R"({"k":)" : "[";
  json += "7";
  for (size_t i = depth; i-- > 0;) json += i % 2 ? "}" : "]";
  auto parsed = parse(json);
  ShapeEncoder encoder;
  const Encoded encoded = encode(encoder, parsed->document);
  EXPECT_EQ(decoded(encoded.page, encoded.page.root), minified(json));
  std::vector<bool> headers;
  EXPECT_TRUE(encoded.page.valid(RecordSet::kMaxDepth, headers));
  EXPECT_FALSE(encoded.page.valid(depth - 1, headers));
}

// A random JSON value: every type, nested, with repeated and odd member names.
void random_json(std::mt19937& random, int depth, std::string& out) {
  const int kind = static_cast<int>(random() % (depth > 5 ? 6 : 9));
  static const char* const kNames[] = {"a", "b", "id", "", "é", "fields", "a\\u0000b"};
  switch (kind) {
    case 0:
      out += "null";
      return;
    case 1:
      out += random() % 2 ? "true" : "false";
      return;
    case 2:
      out += std::to_string(static_cast<int64_t>(random()) - (1ll << 31));
      return;
    case 3:
      out += std::to_string(static_cast<int64_t>((uint64_t{random()} << 32) | random()));
      return;
    case 4:
      out += std::to_string(random() % 100000) + "." + std::to_string(random() % 1000) + "e" +
             std::to_string(static_cast<int>(random() % 40) - 20);
      return;
    case 5:
      out += "\"s" + std::to_string(random() % 50) + (random() % 4 ? "" : "Zoë 🎉") + "\"";
      return;
    case 6:
    case 7: {
      out += '{';
      const size_t n = random() % 5;
      for (size_t i = 0; i < n; ++i) {
        if (i) out += ',';
        out += std::string("\"") + kNames[random() % 7] + "\":";
        random_json(random, depth + 1, out);
      }
      out += '}';
      return;
    }
    default: {
      out += '[';
      const size_t n = random() % 6;
      for (size_t i = 0; i < n; ++i) {
        if (i) out += ',';
        random_json(random, depth + 1, out);
      }
      out += ']';
    }
  }
}

TEST(ShapePage, RandomDocumentsDecodeExactlyAsSimdjsonParsedThem) {
  std::mt19937 random(18);
  ShapeEncoder encoder;
  for (int round = 0; round < 300; ++round) {
    std::string json;
    random_json(random, 0, json);
    auto parsed = parse(json);
    const Encoded encoded = encode(encoder, parsed->document);
    ASSERT_EQ(decoded(encoded.page, encoded.page.root), minified(json)) << json;
    std::vector<bool> headers;
    ASSERT_TRUE(encoded.page.valid(RecordSet::kMaxDepth, headers)) << json;
  }
}

// Records of a list: objects of one template, mutated at random the way real lists differ from
// record to record (a member missing, renamed at the same length, added, moved; a nested object
// of another shape; values repeated from the record before). The encoder predicts each object's
// member names and each member's value from the record before; every mispredicted case must
// still decode exactly.
std::string mutated_records(std::mt19937& random, size_t count) {
  static const char* const kMembers[] = {"id",          "Title",     "City",   "Cityx",   "Tags",
                                         "@odata.etag", "createdBy", "fields", "Country", "n"};
  static const char* const kValues[] = {"\"Lyon\"", "\"Wien\"", "\"Item\"", "1",  "2.5",
                                        "null",     "true",     "[]",       "{}", "\"\""};
  std::string json = "[";
  for (size_t r = 0; r < count; ++r) {
    if (r) json += ',';
    std::vector<std::string> members = {"id", "Title", "City", "fields", "createdBy", "Tags"};
    if (random() % 8 == 0) members.erase(members.begin() + random() % members.size());
    if (random() % 8 == 0) members[random() % members.size()] = kMembers[random() % 10];
    if (random() % 8 == 0) members.push_back(kMembers[random() % 10]);
    if (random() % 8 == 0) std::swap(members[0], members[random() % members.size()]);
    json += '{';
    for (size_t m = 0; m < members.size(); ++m) {
      if (m) json += ',';
      json += '"' + members[m] + "\":";
      if (members[m] == "fields" || members[m] == "createdBy") {
        json += random() % 6 ? R"({"user":{"id":")" + std::to_string(random() % 3) +
                                   R"(","email":"a@b"},"Title":)" + kValues[random() % 10] + "}"
                             : std::string(R"({"other":)") + kValues[random() % 10] + "}";
      } else if (members[m] == "id") {
        json += '"' + std::to_string(random() % 4 ? r : 7) + '"';
      } else if (members[m] == "Tags") {
        json += random() % 2 ? R"(["a","b",{"k":"v"}])" : R"([{"k":"w","x":1},[]])";
      } else {
        json += kValues[random() % 10];
      }
    }
    json += '}';
  }
  return json + "]";
}

TEST(ShapePage, RecordsThatDifferFromTheRecordBeforeDecodeExactly) {
  std::mt19937 random(1812);
  ShapeEncoder encoder;
  for (int round = 0; round < 40; ++round) {
    const std::string json = mutated_records(random, 200);
    auto parsed = parse(json);
    const Encoded encoded = encode(encoder, parsed->document);
    ASSERT_EQ(decoded(encoded.page, encoded.page.root), minified(json)) << json;
    std::vector<bool> headers;
    ASSERT_TRUE(encoded.page.valid(RecordSet::kMaxDepth, headers)) << json;
  }
}

TEST(ShapePage, AMispredictedShapeIsStillStoredOnce) {
  // Two shapes alternating under one member: every object is predicted from the other shape.
  std::string json = "[";
  for (int i = 0; i < 1000; ++i) {
    if (i) json += ',';
    json += i % 2 ? R"({"f":{"a":1,"b":2}})" : R"({"f":{"a":1,"c":2}})";
  }
  json += "]";
  ShapeEncoder encoder;
  auto parsed = parse(json);
  const Encoded encoded = encode(encoder, parsed->document);
  // {f}, {a,b}, {a,c}: three names lists and three counts.
  EXPECT_EQ(encoded.page.shape_words, 8u);
  EXPECT_EQ(decoded(encoded.page, encoded.page.root), minified(json));
}

TEST(ShapePage, AValueThatRepeatsTheRecordBeforeIsStoredOnceEvenWhenLong) {
  // Strings over 128 bytes are not looked up in the page's string table (long values rarely
  // repeat), but one equal to the same member's value in the record before is shared.
  const std::string site(300, 's');
  std::string json = "[";
  for (int i = 0; i < 1000; ++i) {
    if (i) json += ',';
    json += R"({"id":)" + std::to_string(i) + R"(,"site":")" + site + R"("})";
  }
  json += "]";
  ShapeEncoder encoder;
  auto parsed = parse(json);
  const Encoded encoded = encode(encoder, parsed->document);
  EXPECT_EQ(decoded(encoded.page, encoded.page.root), minified(json));
  EXPECT_LT(encoded.page.string_bytes, site.size() + 64);  // once, with "id" and "site"
}

TEST(ShapePage, ValidRefusesPagesThatWouldDecodeOutOfBoundsOrForever) {
  auto parsed = parse(R"({"a": [1, "x", {"b": 2.5}], "c": "y"})");
  ShapeEncoder encoder;
  const Encoded encoded = encode(encoder, parsed->document);
  const ShapePage& page = encoded.page;
  const auto corrupted = [&](size_t slot, uint32_t value) {
    const ShapePage::Layout at =
        ShapePage::layout(page.slot_count, page.shape_words, page.number_count, page.string_bytes);
    std::shared_ptr<uint8_t> copy(new uint8_t[at.total], std::default_delete<uint8_t[]>());
    std::memcpy(copy.get(), page.memory.get(), at.total);
    std::memcpy(copy.get() + slot * sizeof(uint32_t), &value, sizeof value);
    ShapePage bad = page;
    bad.attach(copy);
    std::vector<bool> headers;
    return !bad.valid(RecordSet::kMaxDepth, headers);
  };
  std::vector<bool> headers;
  ASSERT_TRUE(page.valid(RecordSet::kMaxDepth, headers));
  // The array [1, "x", {...}] comes after the {"b"} object it holds; find its string slot.
  size_t string_slot = SIZE_MAX, container_slot = SIZE_MAX;
  for (size_t i = 0; i < page.slot_count; ++i) {
    if (!headers[i] && ShapePage::tag(page.slots[i]) == ShapePage::kString &&
        string_slot == SIZE_MAX)
      string_slot = i;
    if (!headers[i] && ShapePage::tag(page.slots[i]) == ShapePage::kObject) container_slot = i;
  }
  ASSERT_NE(string_slot, SIZE_MAX);
  ASSERT_NE(container_slot, SIZE_MAX);
  EXPECT_TRUE(corrupted(string_slot, ShapePage::make(ShapePage::kString, page.string_bytes)));
  EXPECT_TRUE(corrupted(string_slot, ShapePage::make(ShapePage::kDouble, page.number_count)));
  // A container pointing at itself or after itself would never end.
  EXPECT_TRUE(corrupted(container_slot, ShapePage::make(ShapePage::kObject, container_slot)));
  EXPECT_TRUE(corrupted(container_slot, ShapePage::make(ShapePage::kArray, 0)));  // an object
  EXPECT_FALSE(corrupted(string_slot, page.slots[string_slot]));
}

// PageMemory: where each buffer lies, and that documents keep it.
uintptr_t address(const void* p) {
  return reinterpret_cast<uintptr_t>(p);
}

TEST(PageMemory, ASmallSeriesGetsExactBuffersOfItsOwn) {
  PageMemory memory;
  std::vector<std::shared_ptr<uint8_t>> kept;
  size_t handed_out = 0;
  while (handed_out + 200'032 <= PageMemory::kExactBytes) {
    kept.push_back(memory.bytes(200'000));
    handed_out += 200'032;
  }
  EXPECT_EQ(memory.chunks(), 0u);
  for (const auto& block : kept) ASSERT_NE(block.get(), nullptr);
}

TEST(PageMemory, PastTheExactPartBuffersAreCutFromChunksInOrderWithoutOverlapping) {
  PageMemory memory;
  constexpr size_t kBytes = 500'001;  // 500,032 once aligned
  std::vector<std::shared_ptr<uint8_t>> kept;
  for (int i = 0; i < 100; ++i) kept.push_back(memory.bytes(kBytes));
  constexpr size_t kExact = PageMemory::kExactBytes / 500'032;
  constexpr size_t kPerChunk = PageMemory::kChunkBytes / 500'032;
  EXPECT_EQ(memory.chunks(), (100 - kExact + kPerChunk - 1) / kPerChunk);
  // In a chunk each block follows the previous one (64-byte aligned), except where a chunk ends.
  size_t next_in_chunk = 0;
  for (size_t i = kExact + 1; i < kept.size(); ++i) {
    EXPECT_EQ(address(kept[i].get()) % 64, 0u);
    if (address(kept[i].get()) == address(kept[i - 1].get()) + 500'032) ++next_in_chunk;
  }
  EXPECT_EQ(next_in_chunk, 100 - kExact - memory.chunks());
  // Every byte of every buffer is writable, and one block's bytes are not another's.
  for (size_t i = 0; i < kept.size(); ++i) std::memset(kept[i].get(), static_cast<int>(i), kBytes);
  for (size_t i = 0; i < kept.size(); ++i) {
    EXPECT_EQ(kept[i].get()[0], i) << i;
    EXPECT_EQ(kept[i].get()[kBytes - 1], i) << i;
  }
}

TEST(PageMemory, BlocksKeepTheirChunkAfterTheMemoryIsGone) {
  std::shared_ptr<uint8_t> late;
  {
    PageMemory memory;
    for (size_t handed_out = 0; handed_out <= PageMemory::kExactBytes; handed_out += 1'000'000)
      memory.bytes(1'000'000);
    late = memory.bytes(1000);
    ASSERT_EQ(memory.chunks(), 1u);
  }
  std::memset(late.get(), 0xCD, 1000);  // ASan: not unmapped
  EXPECT_EQ(late.get()[999], 0xCD);
}

TEST(PageMemory, ABufferOverAQuarterChunkGetsMemoryOfItsOwn) {
  PageMemory memory;
  for (size_t handed_out = 0; handed_out <= PageMemory::kExactBytes; handed_out += 1'000'000)
    memory.bytes(1'000'000);
  const size_t chunks = memory.chunks();
  auto huge = memory.bytes(PageMemory::kChunkBytes / 4 + 1);
  EXPECT_EQ(memory.chunks(), chunks);
  std::memset(huge.get(), 1, PageMemory::kChunkBytes / 4 + 1);
  auto huger = memory.bytes(PageMemory::kChunkBytes * 2);  // more than a chunk
  EXPECT_EQ(memory.chunks(), chunks);
  huger.get()[PageMemory::kChunkBytes * 2 - 1] = 2;
}

}  // namespace
}  // namespace extdata::extract
