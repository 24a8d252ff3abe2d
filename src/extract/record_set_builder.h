#pragma once
// RecordSetBuilder: records appended to a RecordSet from typed values, without JSON text.
//
//   RecordSetBuilder builder(set, columns);
//   builder.begin_record();
//   builder.member(0, "id");  builder.values().int64(7);
//   builder.member(1, "name"); builder.values().string("Zoë");
//   builder.end_record();
//   if (builder.page_records() >= 4096) EXTDATA_TRY(builder.finish_page());
//   ...
//   EXTDATA_TRY(builder.finish_page());
//
// Each page is the document [record, record, ...] written straight into simdjson's tape
// layout (TapeWriter, simdjson_tape.h) and encoded into a shape page as a parsed one is: the
// records, their to_json(), column values and snapshots are exactly those append_page() gives
// for the same records as JSON text with the records path $[*] — without writing that text and
// parsing it again. The columns are
// evaluated on each record as append_page() evaluates them. Member names are stored once per
// page, like every string of up to 128 bytes. omit_members_ending_with() does not apply here.
//
// Values are written through values() in document order; nested objects and arrays (a json
// column) with its start_/end_ calls. The builder holds at most one page; it must not outlive
// the set, and the set must not be appended to by other means between begin_record() and
// finish_page().
#include <string_view>
#include <vector>

#include "core/error.h"
#include "extract/record_set.h"
#include "extract/simdjson_tape.h"

namespace extdata::extract {

class RecordSetBuilder {
 public:
  RecordSetBuilder(RecordSet& set, const std::vector<ColumnSpec>* columns);

  // Starts a record (an object), and a page first when none is open.
  void begin_record();
  // The name of the record's member at `position`: stored once per page, so every record of
  // a page must use the same name at the same position (SQL rows do).
  void member(size_t position, std::string_view name);
  // The member's value, and everything nested (use values().key() inside nested objects).
  TapeWriter& values() { return writer_; }
  void end_record();

  size_t page_records() const { return record_starts_.size(); }
  // The open page's size so far: its tape and strings.
  size_t page_bytes() const { return writer_.size_bytes(); }
  // Appends the open page (if it has records) to the set. Error "extract.columns" when the
  // set's pages have other columns; the set is then unchanged.
  Status finish_page();

 private:
  RecordSet& set_;
  const std::vector<ColumnSpec>* columns_;
  TapeWriter writer_;
  ShapeEncoder encoder_;
  PageMemory memory_;  // the pages' kept buffers
  std::vector<simdjson::dom::element> records_;
  RecordSet::Selection selection_;
  bool page_open_ = false;
  std::vector<size_t> record_starts_;  // tape positions of this page's records
  std::vector<uint64_t> names_;        // per member position, its name's offset; kNoName: none
};

}  // namespace extdata::extract
