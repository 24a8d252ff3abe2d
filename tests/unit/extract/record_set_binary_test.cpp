// BinarySnapshot: a RecordSet written as pieces and read back without a JSON parse; every
// damage (a flipped byte, another format version, a missing or reordered piece) is refused.
#include "extract/record_set_binary.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace extdata::extract {
namespace {

std::vector<ColumnSpec> columns() {
  return {{"title", JsonPath::compile("$.fields.Title").value()},
          {"country", JsonPath::compile("$.fields.Country").value()}};
}

// Two pages, a record without a country, strings with escapes and non-ASCII text.
RecordSet sample() {
  RecordSet set;
  set.omit_members_ending_with("@odata.context");
  const auto path = JsonPath::compile("$.value[*]").value();
  EXPECT_TRUE(set.append_page(R"({"value":[{"id":"1","fields@odata.context":"x","fields":)"
                              R"({"Title":"A \"q\"","Country":"DE","n":1.5}},)"
                              R"({"id":"2","fields":{"Title":"Brême"}}]})",
                              path, columns())
                  .ok());
  EXPECT_TRUE(set.append_page(R"({"value":[{"id":"3","fields":{"Title":"東京","Country":"JP",)"
                              R"("tags":[1,true,null]}}]})",
                              path, columns())
                  .ok());
  return set;
}

std::vector<std::string> pieces_of(const RecordSet& set) {
  std::vector<std::string> pieces;
  auto written = BinarySnapshot::write(set, [&](std::string_view piece) {
    pieces.emplace_back(piece);
    return ok_status();
  });
  EXPECT_TRUE(written.ok());
  return pieces;
}

Result<RecordSet> read(const std::vector<std::string>& pieces) {
  BinarySnapshot::Reader reader;
  for (const auto& piece : pieces) EXTDATA_TRY(reader.add(piece));
  return reader.finish();
}

std::string reason_of(const Result<RecordSet>& r) {
  if (r.ok()) return "ok";
  EXPECT_EQ(r.error().code, "extract.snapshot");
  auto it = r.error().details.find("reason");
  return it == r.error().details.end() ? "?" : it->second;
}

TEST(BinarySnapshot, RoundTripGivesTheSameRecordsAndColumns) {
  const RecordSet set = sample();
  const auto pieces = pieces_of(set);
  EXPECT_EQ(pieces.size(), 1u + 2u + 1u);  // head, one per page, tables
  for (const auto& p : pieces) EXPECT_TRUE(BinarySnapshot::looks_binary(p));
  auto restored = read(pieces);
  ASSERT_TRUE(restored.ok()) << restored.error().to_string();
  EXPECT_EQ(restored->to_json(), set.to_json());
  EXPECT_EQ(restored->column_names(), set.column_names());
  // The same pages; the tables are sized exactly on reading (no vector growth slack).
  EXPECT_LE(restored->memory_bytes(), set.memory_bytes());
  EXPECT_GE(restored->memory_bytes() + 128, set.memory_bytes());
  EXPECT_FALSE(BinarySnapshot::looks_binary(set.to_json()));
}

TEST(BinarySnapshot, PiecesSplitOrJoinedAnyWayAreReadTheSame) {
  const RecordSet set = sample();
  std::string all;
  for (const auto& p : pieces_of(set)) all += p;
  for (size_t cut : {1u, 7u, 24u, 100u}) {
    BinarySnapshot::Reader reader;
    for (size_t at = 0; at < all.size(); at += cut)
      ASSERT_TRUE(reader.add(std::string_view(all).substr(at, cut)).ok()) << cut;
    auto restored = reader.finish();
    ASSERT_TRUE(restored.ok()) << cut;
    EXPECT_EQ(restored->to_json(), set.to_json()) << cut;
  }
  BinarySnapshot::Reader joined;
  ASSERT_TRUE(joined.add(all).ok());
  EXPECT_EQ(joined.finish()->to_json(), set.to_json());
}

TEST(BinarySnapshot, ACombinedSetKeepsOnlyThePagesItUses) {
  const RecordSet set = sample();
  auto combined = RecordSet::combine(set, RecordSet(), {{2, false}, {0, false}});
  ASSERT_TRUE(combined.ok());
  EXPECT_EQ(combined->page_count(), 2u);
  auto restored = read(pieces_of(*combined));
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->to_json(), combined->to_json());
  auto first_only = RecordSet::combine(set, RecordSet(), {{1, false}});
  ASSERT_TRUE(first_only.ok());
  EXPECT_EQ(first_only->page_count(), 1u);
  EXPECT_EQ(read(pieces_of(*first_only))->to_json(), first_only->to_json());
}

TEST(BinarySnapshot, EveryFlippedByteIsDetected) {
  const auto pieces = pieces_of(sample());
  for (size_t p = 0; p < pieces.size(); ++p) {
    for (size_t at = 0; at < pieces[p].size(); at += 3) {
      auto damaged = pieces;
      damaged[p][at] = static_cast<char>(damaged[p][at] ^ 0x10);
      const std::string reason = reason_of(read(damaged));
      EXPECT_NE(reason, "ok") << "piece " << p << " byte " << at;
    }
  }
  auto damaged = pieces;
  damaged[1][40] = static_cast<char>(damaged[1][40] ^ 1);  // inside the first page's tape
  EXPECT_EQ(reason_of(read(damaged)), "checksum");
}

TEST(BinarySnapshot, AnotherFormatVersionIsRefusedNotMisread) {
  auto pieces = pieces_of(sample());
  const std::uint32_t other = BinarySnapshot::kFormatVersion + 1;
  std::memcpy(pieces[0].data() + 4, &other, sizeof other);
  auto r = read(pieces);
  EXPECT_EQ(reason_of(r), "version");
  EXPECT_NE(r.error().message.find("format version " + std::to_string(other)), std::string::npos);
}

TEST(BinarySnapshot, ASnapshotOfTheTapeFormatVersion1IsAVersionMismatch) {
  auto pieces = pieces_of(sample());
  const std::uint32_t tape_format = 1;
  for (auto& piece : pieces) std::memcpy(piece.data() + 4, &tape_format, sizeof tape_format);
  EXPECT_EQ(reason_of(read(pieces)), "version");
}

// A piece whose checksum is right but whose contents are not (written by a faulty writer, or
// a collision): a slot pointing past the page's strings is refused before anything decodes it.
TEST(BinarySnapshot, APageThatWouldReadOutOfBoundsIsRefusedEvenWithAGoodChecksum) {
  auto pieces = pieces_of(sample());
  std::string& page = pieces[1];
  constexpr size_t kHeader = 24, kSizes = 36;  // piece header; the page's sizes and root
  std::uint64_t slot_count = 0;
  std::memcpy(&slot_count, page.data() + kHeader, sizeof slot_count);
  ASSERT_GT(slot_count, 3u);
  const std::uint32_t far_string = ShapePage::make(ShapePage::kString, (1u << 28));
  for (size_t i = 0; i < slot_count; ++i) {
    auto damaged = pieces;
    std::string& piece = damaged[1];
    std::memcpy(piece.data() + kHeader + kSizes + i * 4, &far_string, sizeof far_string);
    const size_t covered = piece.size() - 8;
    const std::uint64_t sum = BinarySnapshot::checksum(std::string_view(piece).substr(0, covered));
    std::memcpy(piece.data() + covered, &sum, sizeof sum);
    EXPECT_EQ(reason_of(read(damaged)), "bounds") << i;
  }
}

TEST(BinarySnapshot, MissingRepeatedOrReorderedPiecesAreRefused) {
  const auto pieces = pieces_of(sample());
  auto missing = pieces;
  missing.pop_back();
  EXPECT_EQ(reason_of(read(missing)), "truncated");
  auto repeated = pieces;
  repeated.insert(repeated.begin() + 1, pieces[1]);
  EXPECT_EQ(reason_of(read(repeated)), "order");
  auto swapped = pieces;
  std::swap(swapped[1], swapped[2]);
  EXPECT_EQ(reason_of(read(swapped)), "order");
  auto cut = pieces;
  cut[2].resize(cut[2].size() - 5);
  EXPECT_NE(reason_of(read(cut)), "ok");
}

TEST(BinarySnapshot, AnEmptySetRoundTrips) {
  RecordSet empty;
  auto restored = read(pieces_of(empty));
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->size(), 0u);
}

}  // namespace
}  // namespace extdata::extract
