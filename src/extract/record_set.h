#pragma once
// RecordSet: the records a source produced, extracted once and kept compactly.
//
//   RecordSet set;
//   auto records = JsonPath::compile("$.value[*]");
//   std::vector<ColumnSpec> columns = {{"title", *JsonPath::compile("$.fields.Title")}};
//   for (each page) EXTDATA_TRY(set.append_page(std::move(page_text), *records, columns));
//   set[i].json();          // the record's own JSON element (for templates)
//   set[i].column("title"); // its column value, if the column path matched
//
// Ownership: the set owns the parsed documents its records point into. Each page is parsed
// by simdjson once and the page text is not kept. simdjson reserves ~9.7 bytes per input byte
// and writes every occurrence of a string; each page is copied out of that reservation into
// exactly sized buffers that hold each distinct string once (member names and repeated values
// are shared). memory_bytes() counts what is held: 8 bytes per JSON value, the page's distinct
// strings, and 32 bytes per record and per column value.
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

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "extract/jsonpath/jsonpath.h"

namespace extdata::extract {

struct ColumnSpec {
  std::string name;
  JsonPath path;  // evaluated with the record as root
};

class RecordSet;

// A light view of one record; valid while its RecordSet lives and is not appended to.
class RecordRef {
 public:
  RecordRef(const RecordSet& set, size_t index) : set_(&set), index_(index) {}
  size_t index() const { return index_; }
  simdjson::dom::element json() const;
  std::optional<simdjson::dom::element> column(size_t column_index) const;
  std::optional<simdjson::dom::element> column(std::string_view name) const;
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
  // pagination link or cursor without parsing the page again. nullopt before the first page.
  std::optional<simdjson::dom::element> last_page_root() const;

  // Records of two sets in one, for incremental syncs: the records named by `picks`, in that
  // order, each from `base` or from `additions`. Both sets must have the same column names
  // (error "extract.columns") unless one is empty. No record is copied or parsed again: the
  // result shares the parsed pages of both sets (they stay alive while any set uses them), so
  // it costs a few pointers per record. Pages no pick uses are not kept.
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
  struct Page {
    // Shared between sets made by combine(); never changed once parsed.
    std::shared_ptr<simdjson::dom::document> document;
    size_t bytes = 0;
  };
  static Result<Page> parse_page(std::string& json_text, std::string_view omitted_suffix);
  // "extract.columns" when `columns` differ from those of the pages already appended.
  Status check_columns(const std::vector<ColumnSpec>& columns) const;
  // Takes `page`, whose records were appended to records_ from `first_new` on: fixes the
  // column names on the first page and evaluates the columns of the new records.
  void add_page(Page page, size_t first_new, const std::vector<ColumnSpec>& columns);

  std::vector<Page> pages_;
  std::vector<std::string> column_names_;
  std::string omitted_member_suffix_;
  std::vector<simdjson::dom::element> records_;
  std::vector<simdjson::dom::element> values_;  // size() * column count, row-major
  std::vector<bool> present_;                   // same shape as values_
  // Per record, the index in pages_ of the page it points into: combine() keeps only the
  // pages still used.
  std::vector<std::uint32_t> record_page_;
};

}  // namespace extdata::extract
