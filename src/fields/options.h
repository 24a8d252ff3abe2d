#pragma once
// Mapping records to options: a field's templates and filter compiled once (FieldMapping),
// and the option table derived from one record set (OptionsTable), built once per record set
// and shared by every request.
//
//   auto mapping = FieldMapping::compile(field_config);           // errors name the key
//   auto table = OptionsTable::build(*mapping, record_set);       // filter, render, sort, index
//   table->value(i), table->label(i), table->record(i)            // option i, in field order
//   table->search("ab", 0, 20)                                    // ids are option positions
//   table->find_value("42")                                       // stored key → option
//   OptionsTable::patch(*table, *mapping, old_records, new_records, changes, why_not)
//
// Memory: values and labels live in one arena (raw UTF-8, escaped only when written out; at
// most 4 GiB), with two 4-byte offsets, a 4-byte record index and a 4-byte position in the
// value order per option, plus the SearchIndex, built over the labels: it keeps a folded search
// key only for the options whose search text folds differently from their label. Search and
// sort texts are not kept after the build.
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/error.h"
#include "extract/jsonpath/iregexp.h"
#include "extract/jsonpath/jsonpath.h"
#include "extract/record_changes.h"
#include "extract/record_set.h"
#include "extract/template.h"
#include "fields/search_index.h"

namespace extdata::fields {

constexpr int kMinLimit = 1;
constexpr int kMaxLimit = 1000;

// What a field accepts for one context key (`context:` in the field; keys its variables name
// are declared implicitly with no rule but the global length limit).
struct ContextRule {
  std::optional<size_t> max_length;         // bytes; limits().context_max_length applies as well
  std::optional<extract::IRegexp> pattern;  // the whole value must match
  std::string pattern_text;
  std::vector<std::string> values;  // when not empty: the only values accepted
};

struct FieldMapping {
  std::string name;
  std::string type;  // select | multiselect | text | number
  std::string source;
  extract::Template value;
  extract::Template label;
  std::optional<extract::Template> search;  // absent: the label is searched
  std::optional<extract::Template> sort;    // absent: source order
  bool sort_descending = false;
  std::optional<extract::JsonPath> filter;
  // The filter decides on each record alone (extract::selects_per_element): a patch asks it
  // about the changed records only.
  bool filter_per_element = false;
  std::map<std::string, extract::Template>
      variables;  // source variable → template over the context
  int limit = 20;
  std::optional<double> cache_ttl;  // seconds
  // The context keys the field accepts: every name its variables use, and `context:`.
  std::map<std::string, ContextRule, std::less<>> context;
  bool snapshot = false;  // `snapshot: true`: keep a snapshot of every key it asks for
  // What an option carries besides value and label (`data:`), by name. Empty:
  // nothing — a record's other columns never leave the server unless declared.
  std::vector<std::pair<std::string, extract::Template>> data;

  // Errors: "field.bad_template" / "field.bad_filter" naming the key and the position.
  static Result<FieldMapping> compile(const config::FieldConfig& field);
};

class OptionsTable {
 public:
  static Result<OptionsTable> build(const FieldMapping& mapping, const extract::RecordSet& records);
  // What a patch changed: the options it took out of `previous` and those it put into the new
  // table (positions in each). A query none of their search keys matches (key_matches) has the
  // same answer in both tables, with the kept options' new positions.
  struct Touched {
    std::vector<uint32_t> removed;  // options of `previous`
    std::vector<uint32_t> added;    // options of the patched table
  };
  // The table of `records` when they are `previous_records` (the records `previous` was built
  // from) changed by `changes` (an incremental sync, docs/fields.md "Refresh"): kept options are
  // copied, only the fresh records are filtered, rendered and placed (binary search in field
  // order and value order), and the search index is patched (SearchIndex::patch). The result
  // answers every query, find_value and record() exactly as build(mapping, records) would.
  // nullopt, with `why_not` ("filter", "changes", "mismatch"), when it cannot: the filter may
  // look at other records than the one it decides on (filter_per_element), more
  // than max_patched_changes() records changed (building is then about as quick), or `previous`
  // was not built from `changes.old_size` records.
  static std::optional<OptionsTable> patch(const OptionsTable& previous,
                                           const FieldMapping& mapping,
                                           const extract::RecordSet& previous_records,
                                           const extract::RecordSet& records,
                                           const extract::RecordChanges& changes,
                                           std::string& why_not, Touched* touched = nullptr);
  // The most changed records (removed plus fresh) patch() takes for a record set of `records`.
  static size_t max_patched_changes(size_t records) { return std::max<size_t>(64, records / 16); }

  size_t size() const { return records_.size(); }
  uint32_t record(size_t option) const { return records_[option]; }
  std::string_view value(size_t option) const {
    return std::string_view(arena_).substr(offsets_[2 * option],
                                           offsets_[2 * option + 1] - offsets_[2 * option]);
  }
  std::string_view label(size_t option) const {
    return std::string_view(arena_).substr(offsets_[2 * option + 1],
                                           offsets_[2 * option + 2] - offsets_[2 * option + 1]);
  }
  // The first option (in field order) whose value is `key`.
  std::optional<size_t> find_value(std::string_view key) const;
  // The index's search over this table's options (SearchIndex::search with the labels).
  SearchResult search(std::string_view query, size_t offset, size_t limit) const {
    return index_.search(query, offset, limit, labels());
  }
  // The folded search key of option `option` (what key_matches takes).
  std::string search_key(size_t option) const {
    return index_.key(static_cast<uint32_t>(option), labels());
  }
  const SearchIndex& index() const { return index_; }
  // Records dropped because their value rendered empty (no id), and by the filter.
  size_t without_value() const { return without_value_; }
  size_t filtered_out() const { return filtered_out_; }
  size_t memory_bytes() const;

 private:
  friend struct TableImage;  // table_image.cpp writes and reads the members as they are
  LabelTexts labels() const { return {arena_, offsets_, 2}; }
  std::string arena_;
  static constexpr size_t kMaxArena = 0xFFFFFFFF;  // offsets are 4 bytes
  std::vector<uint32_t> offsets_;                  // value i = [2i, 2i+1), label i = [2i+1, 2i+2)
  std::vector<uint32_t> records_;
  std::vector<uint32_t> by_value_;  // option positions sorted by value
  SearchIndex index_;
  size_t without_value_ = 0;
  size_t filtered_out_ = 0;
};

// The record indexes `filter` keeps, ascending. The filter runs over the JSON array of the
// records (`$[?@.fields.Active == true]`); a record is kept when the filter selects it or
// something inside it.
Result<std::vector<uint32_t>> apply_filter(const extract::JsonPath& filter,
                                           const extract::RecordSet& records);
// The same over the records `only` (ascending indexes) and no others. Their answer is the one
// the whole set gives them when the filter selects per element (FieldMapping::filter_per_element).
Result<std::vector<uint32_t>> apply_filter(const extract::JsonPath& filter,
                                           const extract::RecordSet& records,
                                           std::span<const uint32_t> only);

// Save-time check of a field against sample records: one warning per template name that no
// sample record has, listing the names that exist, e.g.
//   "label uses fields.Titel, which no record has; available: fields.Country, fields.Title, id"
// Errors: the field does not compile (see FieldMapping::compile).
Result<std::vector<std::string>> check_field(const config::FieldConfig& field,
                                             const extract::RecordSet* sample);

}  // namespace extdata::fields
