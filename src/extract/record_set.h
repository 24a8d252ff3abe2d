#pragma once
// RecordSet: the records a source produced, extracted once and kept compactly.
//
//   RecordSet set;
//   auto records = JsonPath::compile("$.value[*]");
//   std::vector<ColumnSpec> columns = {{"title", *JsonPath::compile("$.fields.Title")}};
//   for (each page) EXTDATA_TRY(set.append_page(std::move(page_text), *records, columns));
//   set[i].json().root();   // the record's own JSON element (for templates)
//   set[i].column("title"); // its column value (a RecordJson), if the column path matched
//
// Ownership and layout: the set owns its pages. Each page is parsed by simdjson once (into a
// per-thread scratch document reused from page to page; the page text is not kept) and encoded
// in one pass into a shape page (extract/simdjson_tape.h, ShapePage): objects as a shape (their
// member names, kept once per page for all objects with the same members) and one 4-byte slot
// per value, arrays as a count and their slots, each distinct string once, numbers that do not
// fit a slot in a table of their own. A record and each of its column values is a 4-byte slot
// word of its page. memory_bytes() counts what is held: the pages, 8 bytes per record and 4 per
// column value.
//
// Reading: json() and column() decode the value into a small simdjson document of its own
// (RecordJson, ~100 tape words for a Graph item, written into a reused buffer) and return a
// handle that owns it: keep the handle alive while its root() element or anything taken from
// it is used. `auto e = set[i].json().root();` dangles (ASan reports it in the test build,
// where decoded documents are not reused).
//
// Column values are the FIRST node the column path selects, relative to the record (the record
// is `$` for column paths); a column that matches nothing is missing for that record.
//
// Snapshots: to_json() writes [{"record": <json>, "columns": {"name": <value>, ...}}, ...] and
// from_json() restores an equal set from that text.
//
// XML and CSV sources build a JSON array of one object per record (see xml.h, csv.h) and
// append it as a page, so all records present this same API.
#include <simdjson.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "extract/jsonpath/jsonpath.h"
#include "extract/simdjson_tape.h"

namespace extdata::extract {

struct ColumnSpec {
  std::string name;
  JsonPath path;  // evaluated with the record as root
};

class RecordSet;

// A record or column value decoded for reading: root() is its element, valid while the handle
// lives (and the set it came from).
using RecordJson = DecodedValue;

// A light view of one record; valid while its RecordSet lives and is not appended to.
class RecordRef {
 public:
  RecordRef(const RecordSet& set, size_t index) : set_(&set), index_(index) {}
  size_t index() const { return index_; }
  RecordJson json() const;
  std::optional<RecordJson> column(size_t column_index) const;
  std::optional<RecordJson> column(std::string_view name) const;
  // Whether the column has a value for this record, without decoding it.
  bool has_column(size_t column_index) const;
  const RecordSet& set() const { return *set_; }

 private:
  const RecordSet* set_;
  size_t index_;
};

class RecordSet {
 public:
  // simdjson's nesting limit for pages; deeper documents are rejected with an error.
  static constexpr size_t kMaxDepth = 1024;

  RecordSet() = default;
  RecordSet(RecordSet&&) noexcept = default;
  RecordSet& operator=(RecordSet&&) noexcept = default;
  RecordSet(const RecordSet&) = delete;
  RecordSet& operator=(const RecordSet&) = delete;

  // Parses one page, selects its records and evaluates the columns. The first page fixes the
  // column names; later pages must use the same names in the same order. Error codes:
  // "extract.json" (with the byte offset where simdjson gave up when known), "extract.depth",
  // "extract.columns". On error the set is unchanged.
  Status append_page(std::string json_text, const JsonPath& records,
                     const std::vector<ColumnSpec>& columns);

  // Pages appended from now on leave out every object member whose name ends with `suffix`,
  // value and all. For protocol annotations a source repeats in every record that describe the
  // response, not the record: Graph's per-item "fields@odata.context" URL is a fifth of a list
  // item's bytes. Empty: members are kept as parsed (the default).
  void omit_members_ending_with(std::string suffix) { omitted_member_suffix_ = std::move(suffix); }

  size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  RecordRef operator[](size_t index) const { return RecordRef(*this, index); }
  const std::vector<std::string>& column_names() const { return column_names_; }
  std::optional<size_t> column_index(std::string_view name) const;
  size_t page_count() const { return pages_.size(); }
  // The whole of the last appended page as parsed (not only its records), for reading a
  // pagination link or cursor without parsing the page again (it decodes the whole page; the
  // handle keeps the page alive). nullopt before the first page.
  std::optional<RecordJson> last_page_root() const;

  // Records of two sets in one, for incremental syncs: the records named by `picks`, in that
  // order, each from `base` or from `additions`. Both sets must have the same column names
  // (error "extract.columns") unless one is empty. No record is copied or parsed again: the
  // result shares the parsed pages of both sets (they stay alive while any set uses them), so
  // it costs 8 bytes per record and 4 per column value. Pages no pick uses are not kept.
  struct Pick {
    std::uint32_t index;  // of the record in its set; must be < that set's size()
    bool from_additions;
  };
  static Result<RecordSet> combine(const RecordSet& base, const RecordSet& additions,
                                   const std::vector<Pick>& picks);

  // Snapshot text, see above.
  std::string to_json() const;
  static Result<RecordSet> from_json(std::string json_text);

  // Bytes held: parsed pages plus the record and column tables.
  size_t memory_bytes() const;

 private:
  friend class RecordRef;
  friend class BinarySnapshot;    // record_set_binary.h: snapshots without a JSON parse
  friend class RecordSetBuilder;  // record_set_builder.h: pages from typed values, no JSON text
  // Values of one parsed document to keep: its records and their column values, as tape
  // positions (Wanted::position: record r at r * (width + 1), its column c at that + 1 + c).
  struct Selection {
    struct Wanted {
      std::uint64_t index;
      std::uint32_t position;
    };
    size_t records = 0;
    size_t width = 0;
    std::vector<Wanted> wanted;
  };
  // The records `records` of a parsed document with their columns evaluated.
  static void select(const std::vector<simdjson::dom::element>& records,
                     const std::vector<ColumnSpec>& columns, Selection& out);
  // Encodes the document on `tape` into a page keeping `selection` (ShapeEncoder::encode) and
  // appends its records; records left out with an omitted member are dropped. On error the set
  // is unchanged. `encode` runs the encoder with the sorted tape positions and their refs.
  using Encode = std::function<Status(const std::vector<std::uint64_t>& wanted, std::uint32_t* refs,
                                      ShapePage& page)>;
  Status add_page(Selection& selection, const std::vector<std::string>& column_names,
                  const Encode& encode);
  // "extract.columns" when `columns` differ from those of the pages already appended.
  Status check_columns(const std::vector<ColumnSpec>& columns) const;
  static Status parse_scratch(std::string& json_text);

  std::vector<ShapePage> pages_;  // shared between sets made by combine(); never changed
  std::vector<std::string> column_names_;
  std::string omitted_member_suffix_;
  std::vector<std::uint32_t> records_;  // slot words in their pages
  std::vector<std::uint32_t> values_;   // size() * column count, row-major; kMissing: none
  // Per record, the index in pages_ of the page it lies in: combine() keeps only the pages
  // still used.
  std::vector<std::uint32_t> record_page_;
};

}  // namespace extdata::extract
