// Table images (fields/table_image.h): an option table written and read back answers every
// query, page and key exactly like the table built from the records; a damaged, cut, foreign
// or mismatched image is refused, never returned.
#include "fields/table_image.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "config/config.h"
#include "extract/record_set_binary.h"

namespace extdata::fields {
namespace {

config::FieldConfig field(const std::string& yaml) {
  auto parsed = config::parse_field(yaml, "customer", {"customers"});
  if (!parsed.ok()) throw std::runtime_error(parsed.error().to_string());
  return std::move(parsed).value();
}

// Enough records for dense (bitmap) posting segments (4,096 and more), with accents, repeated
// words, numbers, non-Latin text and records without a value; one in seven has an alias, which
// the field searches but does not show (so the index stores those records' keys).
extract::RecordSet customers(size_t count) {
  static const char* kNames[] = {"Müller", "Société", "Acme", "Abbott",  "Zürich", "Ωmega",
                                 "東京",   "Bäcker",  "ab",   "Mueller", "Øster",  "Ab Co"};
  static const char* kCities[] = {"Berlin", "Paris", "Abidjan", "Zug", "Åre", "Lyon"};
  std::string json = "[";
  for (size_t i = 0; i < count; ++i) {
    if (i) json += ',';
    json += i % 97 == 5 ? "{" : "{\"id\":" + std::to_string(i * 7919 % 100003) + ",";
    json += "\"fields\":{\"Title\":\"" + std::string(kNames[i % 12]) + " " +
            std::string(kNames[(i / 12) % 12]) + " " + std::to_string(i % 1000) + "\",\"City\":\"" +
            kCities[i % 6] + "\"";
    if (i % 7 == 3) json += ",\"Alias\":\"" + std::string(kNames[(i / 7) % 12]) + " Alias\"";
    json += "}}";
  }
  json += "]";
  extract::RecordSet set;
  auto path = extract::JsonPath::compile("$[*]");
  auto appended = set.append_page(std::move(json), *path, {});
  if (!appended.ok()) throw std::runtime_error(appended.error().message);
  return set;
}

struct Built {
  extract::RecordSet records;
  OptionsTable table;
  std::string image;
};

Built build_and_write(size_t count) {
  Built out{customers(count), {}, {}};
  auto mapping = FieldMapping::compile(
      field("source: customers\nlabel: '{fields.Title} ({fields.City})'\n"
            "search: '{fields.Title} {fields.City} {fields.Alias|}'\nsort: '{fields.Title}'\n"));
  if (!mapping.ok()) throw std::runtime_error(mapping.error().message);
  auto table = OptionsTable::build(*mapping, out.records);
  if (!table.ok()) throw std::runtime_error(table.error().message);
  out.table = std::move(table).value();
  const Status written = write_table_image(out.table, [&](std::string_view piece) {
    out.image.append(piece);
    return ok_status();
  });
  if (!written.ok()) throw std::runtime_error(written.error().message);
  return out;
}

void expect_same_answers(const OptionsTable& built, const OptionsTable& read) {
  ASSERT_EQ(read.size(), built.size());
  EXPECT_EQ(read.index().stored_keys(), built.index().stored_keys());
  EXPECT_EQ(read.without_value(), built.without_value());
  EXPECT_EQ(read.filtered_out(), built.filtered_out());
  for (size_t i = 0; i < built.size(); ++i) {
    ASSERT_EQ(read.value(i), built.value(i)) << i;
    ASSERT_EQ(read.label(i), built.label(i)) << i;
    ASSERT_EQ(read.record(i), built.record(i)) << i;
    ASSERT_EQ(read.search_key(i), built.search_key(i));
  }
  for (const char* q : {"",
                        "a",
                        "ab",
                        "mu",
                        "mül",
                        "muller",
                        "societe",
                        "ab co",
                        "zur 12",
                        "東",
                        "東京",
                        "ωm",
                        "ster",
                        "abidjan",
                        "bäcker müller",
                        "7",
                        "12",
                        "zz",
                        "acme berlin 3",
                        "alias",
                        "ab alias",
                        "muller ab 5",
                        "muller abb",
                        "ab co berlin",
                        "!!"}) {
    for (size_t offset : {0, 20, 1000}) {
      const SearchResult a = built.search(q, offset, 20);
      const SearchResult b = read.search(q, offset, 20);
      ASSERT_EQ(b.total, a.total) << q;
      ASSERT_EQ(b.ids, a.ids) << q << " offset " << offset;
    }
  }
  for (const char* key : {"0", "7919", "15838", "99999", "nope", ""}) {
    EXPECT_EQ(read.find_value(key), built.find_value(key)) << key;
  }
  EXPECT_EQ(read.memory_bytes() > 0, built.memory_bytes() > 0);
}

TEST(TableImage, AnImageReadBackAnswersEveryQueryPageAndKeyLikeTheBuiltTable) {
  const Built built = build_and_write(6000);
  const size_t stored = built.table.index().stored_keys();
  EXPECT_GT(stored, 0u);                          // the aliased records
  EXPECT_LT(stored, built.table.size() / 6 + 1);  // and no others
  auto read = read_table_image(built.image, built.records.size());
  ASSERT_TRUE(read.ok()) << read.error().to_string();
  expect_same_answers(built.table, *read);
}

TEST(TableImage, SmallAndEmptyTablesRoundTrip) {
  for (size_t count : {0, 1, 13}) {
    const Built built = build_and_write(count);
    auto read = read_table_image(built.image, built.records.size());
    ASSERT_TRUE(read.ok()) << count << ": " << read.error().to_string();
    expect_same_answers(built.table, *read);
  }
}

// Hands `image` to a TableImageReader as a store does: the total first, then at most `step`
// bytes per room.
Result<OptionsTable> read_in_steps(std::string_view image, size_t step, size_t record_count,
                                   std::uint64_t announced) {
  TableImageReader reader;
  EXPECT_TRUE(reader.begin(announced).ok());
  while (!image.empty()) {
    auto room = reader.room();
    if (!room.ok()) break;
    EXPECT_FALSE(room->empty());
    const size_t n = std::min({step, room->size(), image.size()});
    std::memcpy(room->data(), image.data(), n);
    if (!reader.received(n).ok()) break;
    image.remove_prefix(n);
  }
  return reader.finish(record_count);
}

TEST(TableImage, AnImageHandedOverInPiecesOfAnySizeReadsBackTheSame) {
  const Built built = build_and_write(6000);
  for (size_t step : {size_t{1}, size_t{3}, size_t{8}, size_t{13}, size_t{4096}, SIZE_MAX}) {
    auto read = read_in_steps(built.image, step, built.records.size(), built.image.size());
    ASSERT_TRUE(read.ok()) << step << ": " << read.error().to_string();
    expect_same_answers(built.table, *read);
  }
}

std::string reason_of(const Result<OptionsTable>& read) {
  EXPECT_FALSE(read.ok());
  if (read.ok()) return "";
  EXPECT_EQ(read.error().code, "field.table_image");
  return read.error().details.at("reason");
}

TEST(TableImage, AFlippedByteAnywhereIsRefused) {
  const Built built = build_and_write(500);
  size_t refused_by_checksum = 0;
  for (size_t at = 0; at < built.image.size(); at += built.image.size() / 97 + 1) {
    std::string damaged = built.image;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x20);
    const std::string reason = reason_of(read_table_image(damaged, built.records.size()));
    EXPECT_TRUE(reason == "checksum" || reason == "truncated") << at << ": " << reason;
    refused_by_checksum += reason == "checksum";
  }
  EXPECT_GT(refused_by_checksum, 50u);
}

TEST(TableImage, ACutOrExtendedImageIsRefused) {
  const Built built = build_and_write(500);
  for (size_t keep : {size_t{0}, size_t{7}, built.image.size() / 2, built.image.size() - 1}) {
    EXPECT_EQ(reason_of(read_table_image(built.image.substr(0, keep), built.records.size())),
              "truncated")
        << keep;
  }
  EXPECT_EQ(reason_of(read_table_image(built.image + built.image.substr(0, 24), 500)), "bounds")
      << "bytes after the last section";
}

TEST(TableImage, AReaderGivenFewerOrMoreBytesThanAnnouncedRefusesThem) {
  const Built built = build_and_write(500);
  const size_t size = built.image.size();
  EXPECT_EQ(reason_of(read_in_steps(built.image.substr(0, size - 9), 64, 500, size)), "truncated")
      << "the store handed over less than it announced";
  EXPECT_EQ(reason_of(read_in_steps(built.image, 64, 500, size - 9)), "truncated")
      << "a section longer than what is left of the announced total is never allocated";
  EXPECT_EQ(reason_of(read_in_steps(built.image + "x", 64, 500, size + 1)), "bounds")
      << "bytes after the last section";
}

TEST(TableImage, AnImageOfAnotherFormatVersionIsRefused) {
  const Built built = build_and_write(50);
  // The head section: length, {magic, version, ...}, checksum. Rewrite the version and the
  // section's checksum the way a writer of version 2 would.
  std::string image = built.image;
  std::uint64_t length = 0;
  std::memcpy(&length, image.data(), 8);
  const std::uint32_t other = kTableImageVersion + 1;
  std::memcpy(image.data() + 8 + 4, &other, sizeof other);
  const std::uint64_t sum =
      extract::BinarySnapshot::checksum(std::string_view(image).substr(8, length)) ^
      (length * 0x9e3779b97f4a7c15ULL);
  std::memcpy(image.data() + 8 + length, &sum, 8);
  EXPECT_EQ(reason_of(read_table_image(image, built.records.size())), "version");
}

// An image as its sections' bytes (the head first), and back with their lengths and checksums
// as a writer computes them: for images a faulty or older writer might have written.
std::vector<std::string> sections_of(const std::string& image) {
  std::vector<std::string> out;
  for (size_t at = 0; at + 16 <= image.size();) {
    std::uint64_t length = 0;
    std::memcpy(&length, image.data() + at, 8);
    out.push_back(image.substr(at + 8, length));
    at += 16 + length;
  }
  return out;
}

std::string image_of(const std::vector<std::string>& sections) {
  std::string image;
  for (const std::string& bytes : sections) {
    const std::uint64_t length = bytes.size();
    const std::uint64_t sum =
        extract::BinarySnapshot::checksum(bytes) ^ (length * 0x9e3779b97f4a7c15ULL);
    image.append(reinterpret_cast<const char*>(&length), 8);
    image += bytes;
    image.append(reinterpret_cast<const char*>(&sum), 8);
  }
  return image;
}

TEST(TableImage, SectionsReassembledUnchangedAreReadBack) {
  const Built built = build_and_write(200);
  EXPECT_EQ(image_of(sections_of(built.image)), built.image);
}

TEST(TableImage, AnImageOfTheFormerLayoutWithEightByteOffsetsIsRefusedNotMisread) {
  // Version 1 held each option's offsets in 8 bytes (the second section after the head).
  const Built built = build_and_write(300);
  std::vector<std::string> sections = sections_of(built.image);
  ASSERT_GT(kTableImageVersion, 1u);
  const std::uint32_t former = 1;
  std::memcpy(sections[0].data() + 4, &former, sizeof former);
  std::string wide;
  for (size_t i = 0; i + 4 <= sections[2].size(); i += 4) {
    std::uint32_t narrow = 0;
    std::memcpy(&narrow, sections[2].data() + i, 4);
    const std::uint64_t offset = narrow;
    wide.append(reinterpret_cast<const char*>(&offset), 8);
  }
  sections[2] = wide;
  EXPECT_EQ(reason_of(read_table_image(image_of(sections), built.records.size())), "version");
}

TEST(TableImage, AnImageOfTheFormerLayoutWithEveryKeyStoredIsRefusedNotMisread) {
  // Version 2 stored every option's folded key (the sections after by_value: keys, then their
  // n + 1 offsets) and had no key record ids and no keys_from_labels in its head.
  const Built built = build_and_write(300);
  std::vector<std::string> sections = sections_of(built.image);
  ASSERT_EQ(kTableImageVersion, 3u);
  std::string keys;
  std::vector<std::uint32_t> offsets{0};
  for (size_t i = 0; i < built.table.size(); ++i) {
    keys += built.table.search_key(i);
    offsets.push_back(static_cast<std::uint32_t>(keys.size()));
  }
  sections[0].resize(sections[0].size() - 8);  // no keys_from_labels
  const std::uint32_t former = 2;
  std::memcpy(sections[0].data() + 4, &former, sizeof former);
  sections[5] = keys;
  sections[6] = std::string(reinterpret_cast<const char*>(offsets.data()), offsets.size() * 4);
  sections.erase(sections.begin() + 7);  // the stored keys' record ids
  EXPECT_EQ(reason_of(read_table_image(image_of(sections), built.records.size())), "version");
  // Its head read as this version's (as if the version had not been bumped) is refused too.
  std::memcpy(sections[0].data() + 4, &kTableImageVersion, sizeof kTableImageVersion);
  EXPECT_NE(reason_of(read_table_image(image_of(sections), built.records.size())), "");
}

TEST(TableImage, StoredKeysThatDoNotAscendAreRefused) {
  const Built built = build_and_write(300);
  std::vector<std::string> sections = sections_of(built.image);
  std::string& ids = sections[7];
  ASSERT_GE(ids.size(), 8u);
  std::memcpy(ids.data() + 4, ids.data(), 4);  // the second stored key's record = the first's
  EXPECT_EQ(reason_of(read_table_image(image_of(sections), built.records.size())), "bounds");
}

TEST(TableImage, AVocabularyGramListThatDoesNotDecodeIsRefused) {
  // The last section: the gram → words lists, varints. One that runs past its list's end, or a
  // word that does not ascend, passes its checksum (a faulty writer) but not the bounds check.
  const Built built = build_and_write(300);
  std::vector<std::string> sections = sections_of(built.image);
  std::string& lists = sections.back();
  ASSERT_FALSE(lists.empty());
  std::string cut = lists;
  cut.back() = static_cast<char>(0x80);
  sections.back() = cut;
  EXPECT_EQ(reason_of(read_table_image(image_of(sections), built.records.size())), "bounds");
  sections.back() = std::string(lists.size(), '\0');  // zero deltas: words do not ascend
  EXPECT_EQ(reason_of(read_table_image(image_of(sections), built.records.size())), "bounds");
}

TEST(TableImage, AnImageOfMoreRecordsThanTheSetHoldsIsRefused) {
  const Built built = build_and_write(500);
  EXPECT_EQ(reason_of(read_table_image(built.image, 100)), "bounds");
}

}  // namespace
}  // namespace extdata::fields
