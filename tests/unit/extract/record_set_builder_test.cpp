// RecordSetBuilder: pages written from typed values give exactly the records, columns,
// snapshots and value types that the same records as JSON text give through append_page().
#include "extract/record_set_builder.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "extract/json_text.h"
#include "extract/record_set_binary.h"

namespace extdata::extract {
namespace {

// An element with the type of every value: to_json() prints 100 and 100.0 alike.
std::string typed(simdjson::dom::element e) {
  using T = simdjson::dom::element_type;
  std::string out;
  switch (e.type()) {
    case T::ARRAY: {
      out = "[";
      const simdjson::dom::array items = e.get_array().value_unsafe();
      for (auto item : items) out += typed(item) + ",";
      return out + "]";
    }
    case T::OBJECT: {
      out = "{";
      const simdjson::dom::object members = e.get_object().value_unsafe();
      for (auto field : members) out += std::string(field.key) + ":" + typed(field.value) + ",";
      return out + "}";
    }
    case T::INT64:
      return "l" + std::to_string(e.get_int64().value_unsafe());
    case T::UINT64:
      return "u" + std::to_string(e.get_uint64().value_unsafe());
    case T::DOUBLE: {
      double d = e.get_double().value_unsafe();
      uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      return "d" + std::to_string(bits);
    }
    default:
      append_json(out, e);
      return out;
  }
}

// Every record and column of a set, with types.
std::string typed(const RecordSet& set) {
  std::string out;
  for (size_t r = 0; r < set.size(); ++r) {
    out += typed(set[r].json().root()) + " |";
    for (size_t c = 0; c < set.column_names().size(); ++c) {
      auto value = set[r].column(c);
      out += value ? typed(value->root()) : "-";
      out += "|";
    }
    out += "\n";
  }
  return out;
}

std::vector<ColumnSpec> columns() {
  return {{"id", JsonPath::compile("$.id").value()},
          {"name", JsonPath::compile("$['näme']").value()},
          {"second_tag", JsonPath::compile("$.tags[1]").value()},
          {"deep", JsonPath::compile("$.nested.a.b").value()},
          {"any_b", JsonPath::compile("$..b").value()},  // not singular: evaluated on its own
          {"first_dup", JsonPath::compile("$.dup").value()}};
}

const std::string kLong(300, 'x');  // longer than the strings shared per page

// Writes record `i` into `b`; its JSON text is kRecordText(i).
void build_record(RecordSetBuilder& b, int i) {
  TapeWriter& v = b.values();
  b.begin_record();
  b.member(0, "id");
  v.int64(i == 0 ? std::numeric_limits<int64_t>::min() : i);
  b.member(1, "näme");
  v.string(i % 2 ? "Zoë \"q\" \\ \n\t\x01 東京" : std::string_view("nul\0in", 6));
  b.member(2, "max");
  v.int64(std::numeric_limits<int64_t>::max());
  b.member(3, "big");
  v.uint64(std::numeric_limits<uint64_t>::max());
  b.member(4, "real");
  v.real(i == 1 ? -0.0 : 1.25e-7 * i);
  b.member(5, "flags");
  v.start_array();
  v.boolean(true);
  v.boolean(false);
  v.null();
  v.end_array();
  b.member(6, "tags");
  v.start_array();
  v.string("a");
  v.string(i % 3 ? "b" : "c");
  v.end_array();
  b.member(7, "nested");
  v.start_object();
  v.key("a");
  v.start_object();
  v.key("b");
  v.int64(i * 10);
  v.end_object();
  v.key("empty");
  v.start_object();
  v.end_object();
  v.key("none");
  v.start_array();
  v.end_array();
  v.end_object();
  b.member(8, "long");
  v.string(kLong + std::to_string(i));
  b.member(9, "dup");
  v.string("first");
  b.member(10, "dup");
  v.string("second");
  b.end_record();
}

std::string record_text(int i) {
  std::string t = "{\"id\":";
  t += i == 0 ? "-9223372036854775808" : std::to_string(i);
  t += ",\"näme\":";
  append_json_string(t, i % 2 ? "Zoë \"q\" \\ \n\t\x01 東京" : std::string_view("nul\0in", 6));
  t += ",\"max\":9223372036854775807,\"big\":18446744073709551615,\"real\":";
  if (i == 1) {
    t += "-0.0";
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, 1.25e-7 * i, std::chars_format::scientific);
    t.append(buf, r.ptr);
  }
  t += ",\"flags\":[true,false,null],\"tags\":[\"a\",";
  t += i % 3 ? "\"b\"" : "\"c\"";
  t += "],\"nested\":{\"a\":{\"b\":" + std::to_string(i * 10) + "},\"empty\":{},\"none\":[]}";
  t += ",\"long\":\"" + kLong + std::to_string(i) + "\",\"dup\":\"first\",\"dup\":\"second\"}";
  return t;
}

// The same records both ways, `per_page` records per page.
struct Pair {
  RecordSet built, parsed;
};
Pair both(int records, int per_page) {
  Pair p;
  const auto cols = columns();
  const auto all = JsonPath::compile("$[*]").value();
  RecordSetBuilder builder(p.built, &cols);
  std::string text;
  for (int i = 0; i < records; ++i) {
    build_record(builder, i);
    text += text.empty() ? "[" : ",";
    text += record_text(i);
    if ((i + 1) % per_page == 0 || i + 1 == records) {
      EXPECT_TRUE(builder.finish_page().ok());
      EXPECT_TRUE(p.parsed.append_page(text + "]", all, cols).ok());
      text.clear();
    }
  }
  return p;
}

TEST(RecordSetBuilder, PagesAreTheRecordsTheirJsonTextGives) {
  const Pair p = both(7, 3);
  ASSERT_EQ(p.built.size(), 7u);
  EXPECT_EQ(p.built.page_count(), 3u);
  EXPECT_EQ(p.built.column_names(), p.parsed.column_names());
  EXPECT_EQ(p.built.to_json(), p.parsed.to_json());
  EXPECT_EQ(typed(p.built), typed(p.parsed));
  // The page root is the array of its records, as for the text "[...]".
  EXPECT_EQ(typed(p.built.last_page_root()->root()), typed(p.parsed.last_page_root()->root()));
  // Shared strings: no more held than the compacted parse (member names once per page).
  EXPECT_LE(p.built.memory_bytes(), p.parsed.memory_bytes());
}

TEST(RecordSetBuilder, ASingleRecordPage) {
  const Pair p = both(1, 10);
  EXPECT_EQ(p.built.size(), 1u);
  EXPECT_EQ(p.built.to_json(), p.parsed.to_json());
  EXPECT_EQ(typed(p.built), typed(p.parsed));
}

TEST(RecordSetBuilder, NoRecordsAppendNoPage) {
  RecordSet set;
  const auto cols = columns();
  RecordSetBuilder builder(set, &cols);
  EXPECT_TRUE(builder.finish_page().ok());
  EXPECT_EQ(set.size(), 0u);
  EXPECT_EQ(set.page_count(), 0u);
  EXPECT_TRUE(set.column_names().empty());  // as when no page was appended as text
  EXPECT_EQ(set.to_json(), "[]");
}

// Many distinct strings make the string buffer grow (and move) while a page is written.
TEST(RecordSetBuilder, StringsStaySharedWhileTheBufferGrows) {
  RecordSet built, parsed;
  RecordSetBuilder builder(built, nullptr);
  std::string text = "[";
  for (int i = 0; i < 20000; ++i) {
    builder.begin_record();
    builder.member(0, "k");
    builder.values().string("value " + std::to_string(i % 5000));
    builder.end_record();
    text += (i ? ",{\"k\":\"value " : "{\"k\":\"value ") + std::to_string(i % 5000) + "\"}";
  }
  ASSERT_TRUE(builder.finish_page().ok());
  ASSERT_TRUE(parsed.append_page(text + "]", JsonPath::compile("$[*]").value(), {}).ok());
  EXPECT_EQ(built.to_json(), parsed.to_json());
  EXPECT_LE(built.memory_bytes(), parsed.memory_bytes());
}

TEST(RecordSetBuilder, BinarySnapshotRoundTrips) {
  const Pair p = both(5, 2);
  std::vector<std::string> pieces;
  ASSERT_TRUE(BinarySnapshot::write(p.built, [&](std::string_view piece) {
                pieces.emplace_back(piece);
                return ok_status();
              }).ok());
  BinarySnapshot::Reader reader;
  for (const auto& piece : pieces) ASSERT_TRUE(reader.add(piece).ok());
  auto restored = reader.finish();
  ASSERT_TRUE(restored.ok()) << restored.error().to_string();
  EXPECT_EQ(restored->to_json(), p.parsed.to_json());
  EXPECT_EQ(typed(*restored), typed(p.parsed));
  auto from_text = RecordSet::from_json(p.built.to_json());
  ASSERT_TRUE(from_text.ok());
  EXPECT_EQ(from_text->to_json(), p.parsed.to_json());
}

TEST(RecordSetBuilder, CombinesWithParsedSets) {
  const Pair p = both(4, 2);
  auto combined = RecordSet::combine(p.built, p.parsed, {{3, false}, {0, true}, {1, false}});
  ASSERT_TRUE(combined.ok());
  auto expected = RecordSet::combine(p.parsed, p.parsed, {{3, false}, {0, true}, {1, false}});
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(combined->to_json(), expected->to_json());
}

// A series past PageMemory::kExactBytes: pages in exact buffers, then cut from chunks (and
// across a chunk's end), a cell larger than a quarter chunk in memory of its own; the records
// stay those of the JSON text, also once the builder (and its PageMemory) is gone.
TEST(RecordSetBuilder, PagesInChunksAndAHugeCellGiveTheRecordsOfTheirText) {
  RecordSet built, parsed;
  const auto all = JsonPath::compile("$[*]").value();
  const std::vector<ColumnSpec> cols = {{"id", JsonPath::compile("$.id").value()}};
  {
    RecordSetBuilder builder(built, &cols);
    std::string text;
    auto add = [&](int i, const std::string& value) {
      builder.begin_record();
      builder.member(0, "id");
      builder.values().int64(i);
      builder.member(1, "v");
      builder.values().string(value);
      builder.end_record();
      text += text.empty() ? "[" : ",";
      text += "{\"id\":" + std::to_string(i) + ",\"v\":\"" + value + "\"}";
    };
    auto finish = [&] {
      ASSERT_TRUE(builder.finish_page().ok());
      ASSERT_TRUE(parsed.append_page(text + "]", all, cols).ok());
      text.clear();
    };
    // 80 pages of ~0.6 MB (unique 2,000-byte strings): 8 MB exact, then ~40 MB in chunks.
    for (int page = 0; page < 80; ++page) {
      for (int r = 0; r < 300; ++r)
        add(page * 300 + r,
            std::string(1990, static_cast<char>('a' + r % 26)) + std::to_string(page * 300 + r));
      finish();
    }
    add(-1, std::string(PageMemory::kChunkBytes / 4 + 10, 'h'));
    finish();
    add(-2, "small after huge");
    finish();
  }
  ASSERT_EQ(built.size(), 24'002u);
  EXPECT_EQ(built.page_count(), 82u);
  EXPECT_EQ(built.to_json(), parsed.to_json());
  EXPECT_EQ(typed(built), typed(parsed));
}

TEST(RecordSetBuilder, OtherColumnsThanTheFirstPageAreRefusedAndTheSetIsUnchanged) {
  RecordSet set;
  const auto cols = columns();
  ASSERT_TRUE(set.append_page("[{\"id\":1}]", JsonPath::compile("$[*]").value(), cols).ok());
  const std::vector<ColumnSpec> other = {{"x", JsonPath::compile("$.x").value()}};
  RecordSetBuilder builder(set, &other);
  builder.begin_record();
  builder.member(0, "x");
  builder.values().int64(1);
  builder.end_record();
  auto s = builder.finish_page();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "extract.columns");
  EXPECT_EQ(set.size(), 1u);
  EXPECT_EQ(set.page_count(), 1u);
}

}  // namespace
}  // namespace extdata::extract
