#pragma once
// Table images: a built OptionsTable (values, labels, value order and its SearchIndex) as bytes,
// stored beside the snapshot of the records it was built from, so that a restart loads the
// table instead of rendering, folding and indexing every record again (docs/fields.md,
// "Restart").
//
//   write_table_image(table, [&](std::string_view piece) { return store(piece); });
//   TableImageReader reader;                         // a ByteReceiver: the store copies each
//   store.read_snapshot_into(key, reader);           // member's bytes straight into place
//   auto table = reader.finish(records.size());
//   auto table = read_table_image(bytes, records.size());   // the same from bytes in memory
//
// Layout: a head (magic "EXOT", kTableImageVersion, the scalars) and one section per member
// (its byte length, its bytes as held in memory, a 64-bit checksum of both). A flipped byte, a
// missing or cut section, another format version or a table whose record indexes do not fit
// `record_count` is the error "field.table_image" (details.reason: "checksum", "version",
// "truncated", "bounds") and nothing is returned: the caller rebuilds, never serves it.
//
// The image says nothing about which records or which field definition it was built for: the
// caller keys it (cache::RecordCache::load_derived checks the records' fetch time, sync cursor
// and count; the field service adds the definition's hash).
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "core/byte_receiver.h"
#include "core/error.h"
#include "fields/options.h"

namespace extdata::fields {

// Changes with any change of OptionsTable's or SearchIndex's members or of what they mean
// (folding, tiers): an image of another version is refused, not misread.
// Version 3: the search index stores only the folded keys its labels do not give.
inline constexpr std::uint32_t kTableImageVersion = 3;

// Calls `sink` with the image's bytes in order (a few calls per member; nothing is copied).
Status write_table_image(const OptionsTable& table,
                         const std::function<Status(std::string_view)>& sink);

// Reads an image as it is handed over (core/byte_receiver.h): each section's bytes go straight
// into the member they belong to, allocated at its final size (huge pages for large members), so
// the image is copied once, never assembled first. Each section's checksum is checked as soon as
// its bytes are in; the first error stops the read (room() and received() return it).
class TableImageReader final : public ByteReceiver {
 public:
  TableImageReader();
  ~TableImageReader() override;
  Status begin(std::uint64_t total) override;
  Result<std::span<char>> room() override;
  Status received(size_t n) override;
  // The table, for a record set of `record_count` records, once every byte was received; else
  // the first error met (a missing section is "truncated").
  Result<OptionsTable> finish(size_t record_count);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The table of an image in memory, for a record set of `record_count` records.
Result<OptionsTable> read_table_image(std::string_view bytes, size_t record_count);

}  // namespace extdata::fields
