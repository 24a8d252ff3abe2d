#pragma once
// BinarySnapshot: a RecordSet stored as it is held in memory — each shape page's block (slots,
// shapes, numbers, strings; extract/simdjson_tape.h) and the record and column tables as slot
// words — so that loading it is copying bytes into place instead of parsing JSON
// (docs/fields.md, "Snapshots").
//
//   BinarySnapshot::write(records, [&](std::string_view piece) { return store(piece); });
//   BinarySnapshot::Reader reader;
//   for (each stored piece, in order) EXTDATA_TRY(reader.add(piece));
//   EXTDATA_ASSIGN_OR_RETURN(RecordSet set, reader.finish());
//
// Pieces: a head (column names, page and record counts), one piece per page, and the tables.
// Each piece is written on its own, so the writer holds at most one page's copy on top of the
// records (the JSON snapshot held the whole text); each is read and copied into its page, so
// the reader holds at most one piece (as the store hands it) on top of the records.
//
// Every piece starts with the magic "EXRS", the format version and its sequence number, and
// ends with a 64-bit checksum of all its bytes before it: a flipped byte, a missing, repeated
// or reordered piece, or a snapshot of another format version is the error
// "extract.snapshot" (details.reason: "checksum", "version", "order", "truncated", "bounds"),
// and nothing is returned — a corrupt snapshot is never served. Positions read from a piece are
// checked against the page they point into, and each page is checked whole (ShapePage::valid:
// every offset in bounds, containers' children before them, nesting bounded) before use.
//
// The layout is ShapePage's (extract/simdjson_tape.h); kFormatVersion changes with any change
// of it, so a snapshot written by another version is refused, not misread. Version 1 stored
// simdjson tapes; version 2 stores shape pages.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "extract/record_set.h"

namespace extdata::extract {

class BinarySnapshot {
 private:
  class Cursor;

 public:
  static constexpr std::uint32_t kFormatVersion = 2;

  // True when `bytes` starts like a binary snapshot piece (JSON snapshots start with '[').
  static bool looks_binary(std::string_view bytes);

  // Writes `set` as pieces, calling `sink` once per piece, in order.
  static Status write(const RecordSet& set,
                      const std::function<Status(std::string_view piece)>& sink);

  class Reader {
   public:
    // The next bytes, in the order written: whole pieces, several pieces one after another,
    // or a piece split over several calls (a store that cut it into rows).
    Status add(std::string_view bytes);
    // The set, once every piece was added.
    Result<RecordSet> finish();

   private:
    static Result<size_t> piece_length(std::string_view header);
    Status add_one(std::string_view piece);
    Status add_page(Cursor& in);
    Status add_tables(Cursor& in);
    std::string partial_;  // a piece split between calls of add()
    std::uint32_t next_seq_ = 0;
    bool head_ = false, tables_ = false;
    size_t pages_expected_ = 0, records_expected_ = 0;
    RecordSet set_;
    PageMemory memory_;                       // the pages' blocks
    std::vector<std::vector<bool>> headers_;  // per page, where containers start (valid())
  };

  // The checksum pieces end with (exposed for tests).
  static std::uint64_t checksum(std::string_view bytes);
};

}  // namespace extdata::extract
