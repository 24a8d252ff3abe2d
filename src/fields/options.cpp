#include "fields/options.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <numeric>
#include <set>

#include "extract/json_text.h"
#include "extract/jsonpath/jsonpath_scope.h"
#include "fields/text_fold.h"

namespace extdata::fields {

namespace {

Result<extract::Template> compile_template(const config::FieldConfig& field, const std::string& key,
                                           const std::string& text) {
  auto compiled = extract::Template::compile(text);
  if (!compiled.ok()) {
    Error error = std::move(compiled).error();
    return Error("field.bad_template", "fields." + field.name + "." + key + ": " + error.message,
                 "fix the template; placeholders look like {fields.Title} and literal braces are "
                 "{{ }}")
        .with("key", key)
        .with("position", error.details["position"]);
  }
  return compiled;
}

std::string spec_string(const nlohmann::json& spec, const char* key, const char* fallback) {
  const auto it = spec.find(key);
  if (it != spec.end() && it->is_string()) return it->get<std::string>();
  return fallback;
}

std::optional<double> as_number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A record's sort key: numbers (in number order) before texts (folded, then as written).
struct SortKey {
  std::optional<double> number;
  std::string folded;
  std::string raw;
};

SortKey sort_key(const extract::Template& sort, extract::RecordRef record) {
  SortKey key;
  key.raw = sort.render(extract::RecordContext(record));
  key.number = as_number(key.raw);
  key.folded = fold_for_search(key.raw);
  return key;
}

bool sorts_before(const SortKey& x, const SortKey& y) {
  if (x.number && y.number) return *x.number < *y.number;
  if (x.number != y.number) return x.number.has_value();  // numbers before text
  if (x.folded != y.folded) return x.folded < y.folded;
  return x.raw < y.raw;
}

// Dotted names of everything in `value` (objects are walked, arrays are leaves).
void collect_names(simdjson::dom::element value, const std::string& prefix, int depth,
                   std::set<std::string>& out) {
  if (value.type() != simdjson::dom::element_type::OBJECT || depth > 4) return;
  const simdjson::dom::object object =
      value.get_object().value_unsafe();  // a copy: the result is a temporary
  for (const auto field : object) {
    std::string name =
        prefix.empty() ? std::string(field.key) : prefix + "." + std::string(field.key);
    collect_names(field.value, name, depth + 1, out);
    out.insert(std::move(name));
  }
}

Result<ContextRule> compile_context_rule(const config::FieldConfig& field, const std::string& key,
                                         const nlohmann::json& spec) {
  ContextRule rule;
  if (!spec.is_object()) return rule;
  if (const auto it = spec.find("max_length"); it != spec.end() && it->is_number_integer()) {
    rule.max_length = static_cast<size_t>(std::max<long long>(0, it->get<long long>()));
  }
  if (const auto it = spec.find("pattern"); it != spec.end() && it->is_string()) {
    rule.pattern_text = it->get<std::string>();
    auto compiled = extract::IRegexp::compile(rule.pattern_text);
    if (!compiled.ok()) {
      return Error(
          "field.bad_context_rule",
          "fields." + field.name + ".context." + key + ".pattern: " + compiled.error().message,
          "write an I-Regexp (RFC 9485) the whole value must match, e.g. [A-Z]{2}");
    }
    rule.pattern = std::move(compiled).value();
  }
  if (const auto it = spec.find("values"); it != spec.end() && it->is_array()) {
    for (const auto& value : *it)
      rule.values.push_back(value.is_string() ? value.get<std::string>() : value.dump());
  }
  return rule;
}

// Declared context: the names the variables' templates use, then the `context:` section.
Status compile_context(const config::FieldConfig& field, FieldMapping& mapping) {
  for (const auto& [variable, tmpl] : mapping.variables)
    for (const auto& name : tmpl.referenced_names()) mapping.context.try_emplace(name);
  const auto it = field.spec.find("context");
  if (it == field.spec.end() || !it->is_object()) return ok_status();
  for (const auto& [key, spec] : it->items()) {
    EXTDATA_ASSIGN_OR_RETURN(mapping.context[key], compile_context_rule(field, key, spec));
  }
  return ok_status();
}

}  // namespace

Result<FieldMapping> FieldMapping::compile(const config::FieldConfig& field) {
  const auto& spec = field.spec;
  FieldMapping mapping;
  mapping.name = field.name;
  mapping.type = spec_string(spec, "type", "select");
  mapping.source = field.source;
  EXTDATA_ASSIGN_OR_RETURN(mapping.value,
                           compile_template(field, "value", spec_string(spec, "value", "{id}")));
  EXTDATA_ASSIGN_OR_RETURN(
      mapping.label,
      compile_template(field, "label", spec_string(spec, "label", "{fields.Title}")));
  if (const auto it = spec.find("search"); it != spec.end() && it->is_string()) {
    EXTDATA_ASSIGN_OR_RETURN(mapping.search,
                             compile_template(field, "search", it->get<std::string>()));
  }
  if (const auto it = spec.find("sort");
      it != spec.end() && it->is_string() && !it->get<std::string>().empty()) {
    std::string text = it->get<std::string>();
    if (text.front() == '-') {
      mapping.sort_descending = true;
      text.erase(0, 1);
    }
    EXTDATA_ASSIGN_OR_RETURN(mapping.sort, compile_template(field, "sort", text));
  }
  if (const auto it = spec.find("filter");
      it != spec.end() && it->is_string() && !it->get<std::string>().empty()) {
    auto path = extract::JsonPath::compile(it->get<std::string>());
    if (!path.ok()) {
      Error error = std::move(path).error();
      return Error("field.bad_filter", "fields." + field.name + ".filter: " + error.message,
                   "the filter is a JSONPath over the array of records, e.g. $[?@.fields.Active == "
                   "true]")
          .with("position", error.details["position"]);
    }
    mapping.filter = std::move(path).value();
    mapping.filter_per_element = extract::selects_per_element(*mapping.filter);
  }
  if (const auto it = spec.find("variables"); it != spec.end() && it->is_object()) {
    for (const auto& [variable, text] : it->items()) {
      if (!text.is_string()) {
        return Error("field.bad_template",
                     "fields." + field.name + ".variables." + variable + " is not a string",
                     "bind the variable to a template such as {country}");
      }
      EXTDATA_ASSIGN_OR_RETURN(
          auto compiled, compile_template(field, "variables." + variable, text.get<std::string>()));
      mapping.variables.emplace(variable, std::move(compiled));
    }
  }
  if (const auto it = spec.find("data"); it != spec.end() && it->is_object()) {
    for (const auto& [name, text] : it->items()) {
      if (!text.is_string())
        return Error(
            "field.bad_template", "fields." + field.name + ".data." + name + " is not a string",
            "name a column (fields.City) or write a template ({fields.City}, {fields.Country})");
      std::string source = text.get<std::string>();
      // A bare column or path is the template of that one value.
      if (source.find('{') == std::string::npos) source = "{" + source + "}";
      EXTDATA_ASSIGN_OR_RETURN(auto compiled, compile_template(field, "data." + name, source));
      mapping.data.emplace_back(name, std::move(compiled));
    }
  }
  if (const auto it = spec.find("limit"); it != spec.end() && it->is_number_integer()) {
    const auto limit = it->get<long long>();
    if (limit < kMinLimit || limit > kMaxLimit) {
      return Error(
          "field.bad_limit",
          "fields." + field.name + ".limit is " + std::to_string(limit) + ", outside 1..1000",
          "choose a default limit between 1 and 1000");
    }
    mapping.limit = static_cast<int>(limit);
  }
  if (const auto it = spec.find("cache_ttl"); it != spec.end() && it->is_number()) {
    mapping.cache_ttl = it->get<double>();
  }
  EXTDATA_TRY(compile_context(field, mapping));
  if (const auto it = spec.find("snapshot"); it != spec.end() && it->is_boolean()) {
    mapping.snapshot = it->get<bool>();
  }
  return mapping;
}

namespace {

// The filter over the records `ids[0..count)` (ascending indexes): the ones it keeps.
Result<std::vector<uint32_t>> filter_records(const extract::JsonPath& filter,
                                             const extract::RecordSet& records, size_t count,
                                             const std::function<uint32_t(size_t)>& ids) {
  // Records live in separate documents; the filter wants one array. Rebuild arrays of a
  // bounded number of records, so memory stays proportional to a chunk, and map the
  // normalized paths the filter selects ("$[12]...") back to record indexes.
  constexpr size_t kChunk = 4096;
  std::vector<uint32_t> kept;
  simdjson::dom::parser parser;
  std::string text;
  for (size_t start = 0; start < count; start += kChunk) {
    const size_t end = std::min(count, start + kChunk);
    text.assign("[");
    for (size_t i = start; i < end; ++i) {
      if (i != start) text.push_back(',');
      extract::append_json(text, records[ids(i)].json().root());
    }
    text.push_back(']');
    simdjson::dom::element root;
    if (const auto error = parser.parse(text).get(root); error) {
      return Error("field.filter_failed",
                   std::string("could not evaluate the filter: ") + simdjson::error_message(error));
    }
    size_t last = SIZE_MAX;
    auto selected = filter.select_paths(root);
    if (!selected.ok()) return selected.error();
    for (const std::string& path : *selected) {
      if (path.size() < 4 || path.compare(0, 2, "$[") != 0) continue;
      size_t position = 0;
      const auto [ptr, ec] = std::from_chars(path.data() + 2, path.data() + path.size(), position);
      if (ec != std::errc() || *ptr != ']' || position >= end - start || position == last) continue;
      last = position;
      kept.push_back(ids(start + position));
    }
  }
  std::sort(kept.begin(), kept.end());
  kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
  return kept;
}

}  // namespace

Result<std::vector<uint32_t>> apply_filter(const extract::JsonPath& filter,
                                           const extract::RecordSet& records) {
  return filter_records(filter, records, records.size(),
                        [](size_t i) { return static_cast<uint32_t>(i); });
}

Result<std::vector<uint32_t>> apply_filter(const extract::JsonPath& filter,
                                           const extract::RecordSet& records,
                                           std::span<const uint32_t> only) {
  return filter_records(filter, records, only.size(), [&](size_t i) { return only[i]; });
}

Result<OptionsTable> OptionsTable::build(const FieldMapping& mapping,
                                         const extract::RecordSet& records) {
  if (records.size() > UINT32_MAX) {
    return Error("field.too_many_records", "the record set is too large to map to options");
  }
  std::vector<uint32_t> selected;
  if (mapping.filter) {
    EXTDATA_ASSIGN_OR_RETURN(selected, apply_filter(*mapping.filter, records));
  } else {
    selected.resize(records.size());
    std::iota(selected.begin(), selected.end(), 0u);
  }

  OptionsTable table;
  table.filtered_out_ = records.size() - selected.size();

  // Sort first (on temporary keys) so the arena is written in field order.
  if (mapping.sort) {
    std::vector<SortKey> keys(records.size());
    for (const uint32_t r : selected) keys[r] = sort_key(*mapping.sort, records[r]);
    const auto less = [&](uint32_t a, uint32_t b) { return sorts_before(keys[a], keys[b]); };
    if (mapping.sort_descending) {
      std::stable_sort(selected.begin(), selected.end(),
                       [&](uint32_t a, uint32_t b) { return less(b, a); });
    } else {
      std::stable_sort(selected.begin(), selected.end(), less);
    }
  }

  table.records_.reserve(selected.size());
  table.offsets_.reserve(selected.size() * 2 + 1);
  table.offsets_.push_back(0);
  // The search texts in one buffer, not a string each: at a million records the strings' own
  // allocations were ~50 MB more at the build's peak (the index is built while they live).
  std::string search_arena;
  std::vector<size_t> search_ends;
  if (mapping.search) search_ends.reserve(selected.size());
  for (const uint32_t r : selected) {
    const extract::RecordContext context(records[r]);
    std::string value = mapping.value.render(context);
    if (value.empty()) {
      ++table.without_value_;
      continue;
    }
    table.arena_ += value;
    table.offsets_.push_back(static_cast<uint32_t>(table.arena_.size()));
    table.arena_ += mapping.label.render(context);
    if (table.arena_.size() > kMaxArena) {
      return Error(
          "field.too_many_records",
          "the values and labels of " + std::to_string(records.size()) + " records exceed 4 GiB",
          "map a shorter label for this field, or narrow the source");
    }
    table.offsets_.push_back(static_cast<uint32_t>(table.arena_.size()));
    table.records_.push_back(r);
    if (mapping.search) {
      search_arena += mapping.search->render(context);
      search_ends.push_back(search_arena.size());
    }
  }
  table.arena_.shrink_to_fit();
  table.offsets_.shrink_to_fit();  // exact when records without a value were skipped
  table.records_.shrink_to_fit();

  std::vector<std::string_view> texts;
  texts.reserve(table.size());
  for (size_t i = 0; i < table.size(); ++i) {
    if (!mapping.search) {
      texts.push_back(table.label(i));
      continue;
    }
    const size_t begin = i == 0 ? 0 : search_ends[i - 1];
    texts.push_back(std::string_view(search_arena).substr(begin, search_ends[i] - begin));
  }
  EXTDATA_ASSIGN_OR_RETURN(table.index_, SearchIndex::build(texts, table.labels()));

  table.by_value_.resize(table.size());
  std::iota(table.by_value_.begin(), table.by_value_.end(), 0u);
  std::stable_sort(table.by_value_.begin(), table.by_value_.end(),
                   [&](uint32_t a, uint32_t b) { return table.value(a) < table.value(b); });
  return table;
}

namespace {

// A fresh record's option, rendered; `at`: how many kept options come before it.
struct FreshOption {
  uint32_t record;
  std::string value, label, search;
  SortKey key;
  size_t at = 0;
  uint32_t position = 0;  // in the new table
};

// Field order: the sort key (ascending or descending), then the record order.
struct FieldOrder {
  const FieldMapping& mapping;
  bool operator()(const SortKey& a, uint32_t record_a, const SortKey& b, uint32_t record_b) const {
    if (!mapping.sort) return record_a < record_b;
    const bool a_first = mapping.sort_descending ? sorts_before(b, a) : sorts_before(a, b);
    const bool b_first = mapping.sort_descending ? sorts_before(a, b) : sorts_before(b, a);
    return a_first || (!b_first && record_a < record_b);
  }
};

// How the removed records that had no option split: an empty value or filtered out. The filter,
// asked about them in the previous records, tells which (without one, all had an empty value).
// nullopt when `removed_with_option` (ascending) is not part of `changes.removed`.
struct RemovedWithout {
  size_t empty = 0, filtered = 0;
};

std::optional<RemovedWithout> removed_without_option(
    const FieldMapping& mapping, const extract::RecordSet& previous_records,
    const extract::RecordChanges& changes, const std::vector<uint32_t>& removed_with_option) {
  std::vector<uint32_t> without;
  std::set_difference(changes.removed.begin(), changes.removed.end(), removed_with_option.begin(),
                      removed_with_option.end(), std::back_inserter(without));
  if (without.size() + removed_with_option.size() != changes.removed.size()) return std::nullopt;
  RemovedWithout out{without.size(), 0};
  if (mapping.filter && !without.empty()) {
    auto selected = apply_filter(*mapping.filter, previous_records, without);
    if (!selected.ok()) return std::nullopt;
    out = {selected->size(), without.size() - selected->size()};
  }
  return out;
}

}  // namespace

std::optional<OptionsTable> OptionsTable::patch(const OptionsTable& previous,
                                                const FieldMapping& mapping,
                                                const extract::RecordSet& previous_records,
                                                const extract::RecordSet& records,
                                                const extract::RecordChanges& changes,
                                                std::string& why_not, Touched* touched) {
  if (mapping.filter && !mapping.filter_per_element) {
    why_not = "filter";
    return std::nullopt;
  }
  if (changes.new_size != records.size() || records.size() > UINT32_MAX ||
      changes.old_size != previous_records.size() ||
      previous.size() + previous.without_value_ + previous.filtered_out_ != changes.old_size) {
    why_not = "mismatch";
    return std::nullopt;
  }
  if (changes.count() > max_patched_changes(records.size())) {
    why_not = "changes";
    return std::nullopt;
  }
  const std::vector<uint32_t> record_ids = changes.new_indexes();  // old record → new record
  std::vector<uint32_t> kept;             // old options whose record stays, in field order
  std::vector<uint32_t> removed_options;  // old options whose record goes, ascending
  kept.reserve(previous.size());
  for (uint32_t option = 0; option < previous.size(); ++option) {
    if (record_ids[previous.records_[option]] != extract::RecordChanges::kGone) {
      kept.push_back(option);
    } else {
      removed_options.push_back(option);
    }
  }
  const auto kept_record = [&](size_t k) { return record_ids[previous.records_[kept[k]]]; };

  // Counts that do not add up mean the changes do not describe these records: build instead.
  std::vector<uint32_t> removed_with_option;
  for (const uint32_t option : removed_options)
    removed_with_option.push_back(previous.records_[option]);
  std::sort(removed_with_option.begin(), removed_with_option.end());
  const auto removed =
      removed_without_option(mapping, previous_records, changes, removed_with_option);
  if (!removed || removed->empty > previous.without_value_ ||
      removed->filtered > previous.filtered_out_) {
    why_not = "mismatch";
    return std::nullopt;
  }
  OptionsTable table;
  table.without_value_ = previous.without_value_ - removed->empty;
  table.filtered_out_ = previous.filtered_out_ - removed->filtered;

  // The fresh records the filter keeps (a filter that selects per element answers for each
  // record alone), rendered.
  std::vector<uint32_t> selected = changes.fresh;
  if (mapping.filter && !selected.empty()) {
    auto kept_fresh = apply_filter(*mapping.filter, records, changes.fresh);
    if (!kept_fresh.ok()) {
      why_not = "filter";  // the build reports the error
      return std::nullopt;
    }
    table.filtered_out_ += selected.size() - kept_fresh->size();
    selected = std::move(kept_fresh).value();
  }
  std::vector<FreshOption> fresh;
  for (const uint32_t r : selected) {
    const extract::RecordContext context(records[r]);
    FreshOption option{r, mapping.value.render(context), {}, {}, {}};
    if (option.value.empty()) {
      ++table.without_value_;
      continue;
    }
    option.label = mapping.label.render(context);
    if (mapping.search) option.search = mapping.search->render(context);
    if (mapping.sort) option.key = sort_key(*mapping.sort, records[r]);
    fresh.push_back(std::move(option));
  }
  const FieldOrder before{mapping};
  std::sort(fresh.begin(), fresh.end(), [&](const FreshOption& a, const FreshOption& b) {
    return before(a.key, a.record, b.key, b.record);
  });
  for (FreshOption& option : fresh) {
    size_t low = 0, high = kept.size();  // the kept options before it: [0, low)
    while (low < high) {
      const size_t mid = low + (high - low) / 2;
      const SortKey key =
          mapping.sort ? sort_key(*mapping.sort, records[kept_record(mid)]) : SortKey{};
      if (before(key, kept_record(mid), option.key, option.record)) {
        low = mid + 1;
      } else {
        high = mid;
      }
    }
    option.at = low;
  }

  // The new table in field order: kept options copied, fresh ones at their places.
  const size_t size = kept.size() + fresh.size();
  std::vector<uint32_t> option_ids(previous.size(), SearchIndex::kGone);  // old → new option
  table.records_.reserve(size);
  table.offsets_.reserve(2 * size + 1);
  table.offsets_.push_back(0);
  size_t arena_size = previous.arena_.size();
  for (const FreshOption& option : fresh) arena_size += option.value.size() + option.label.size();
  if (arena_size > kMaxArena) {
    why_not = "mismatch";  // the build says why
    return std::nullopt;
  }
  table.arena_.reserve(arena_size);  // an upper bound: removed options' text is not copied
  size_t next_fresh = 0;
  for (size_t k = 0; k <= kept.size(); ++k) {
    for (; next_fresh < fresh.size() && fresh[next_fresh].at == k; ++next_fresh) {
      FreshOption& option = fresh[next_fresh];
      option.position = static_cast<uint32_t>(table.records_.size());
      table.arena_ += option.value;
      table.offsets_.push_back(static_cast<uint32_t>(table.arena_.size()));
      table.arena_ += option.label;
      table.offsets_.push_back(static_cast<uint32_t>(table.arena_.size()));
      table.records_.push_back(option.record);
    }
    if (k == kept.size()) break;
    const uint32_t old = kept[k];
    option_ids[old] = static_cast<uint32_t>(table.records_.size());
    const uint32_t begin = previous.offsets_[2 * old];
    const uint32_t at = static_cast<uint32_t>(table.arena_.size());
    table.arena_.append(previous.arena_, begin, previous.offsets_[2 * old + 2] - begin);
    table.offsets_.push_back(previous.offsets_[2 * old + 1] - begin + at);
    table.offsets_.push_back(previous.offsets_[2 * old + 2] - begin + at);
    table.records_.push_back(kept_record(k));
  }

  // Value order: the kept options' order renumbered, the fresh ones put in by binary search.
  std::vector<uint32_t> by_value;
  by_value.reserve(previous.by_value_.size());
  for (const uint32_t old : previous.by_value_) {
    if (option_ids[old] != SearchIndex::kGone) by_value.push_back(option_ids[old]);
  }
  const auto value_less = [&](uint32_t a, uint32_t b) {
    const std::string_view x = table.value(a), y = table.value(b);
    return x < y || (x == y && a < b);
  };
  std::vector<uint32_t> fresh_positions;
  for (const FreshOption& option : fresh) fresh_positions.push_back(option.position);
  std::sort(fresh_positions.begin(), fresh_positions.end(), value_less);
  table.by_value_.reserve(size);
  auto from = by_value.begin();
  for (const uint32_t position : fresh_positions) {
    const auto to = std::lower_bound(from, by_value.end(), position, value_less);
    table.by_value_.insert(table.by_value_.end(), from, to);
    table.by_value_.push_back(position);
    from = to;
  }
  table.by_value_.insert(table.by_value_.end(), from, by_value.end());

  std::vector<SearchIndex::Insert> inserts;
  inserts.reserve(fresh.size());
  for (const FreshOption& option : fresh) {
    inserts.push_back(
        {option.position, mapping.search ? option.search : option.label, option.label});
  }
  auto index = SearchIndex::patch(previous.index_, option_ids, inserts, size);
  if (!index) {
    why_not = "mismatch";
    return std::nullopt;
  }
  table.index_ = std::move(*index);
  if (touched) {
    touched->removed = std::move(removed_options);
    touched->added.clear();
    for (const FreshOption& option : fresh) touched->added.push_back(option.position);
  }
  return table;
}

std::optional<size_t> OptionsTable::find_value(std::string_view key) const {
  const auto it =
      std::lower_bound(by_value_.begin(), by_value_.end(), key,
                       [&](uint32_t option, std::string_view k) { return value(option) < k; });
  if (it == by_value_.end() || value(*it) != key) return std::nullopt;
  return *it;
}

size_t OptionsTable::memory_bytes() const {
  return arena_.capacity() + offsets_.capacity() * sizeof(uint32_t) +
         records_.capacity() * sizeof(uint32_t) + by_value_.capacity() * sizeof(uint32_t) +
         index_.memory_bytes();
}

Result<std::vector<std::string>> check_field(const config::FieldConfig& field,
                                             const extract::RecordSet* sample) {
  EXTDATA_ASSIGN_OR_RETURN(auto mapping, FieldMapping::compile(field));
  std::vector<std::string> warnings;
  if (!sample || sample->empty()) return warnings;

  constexpr size_t kSampleRecords = 200;
  const size_t count = std::min(sample->size(), kSampleRecords);
  std::set<std::string> available(sample->column_names().begin(), sample->column_names().end());
  for (size_t i = 0; i < count; ++i) collect_names((*sample)[i].json().root(), "", 0, available);

  std::string listing;
  size_t listed = 0;
  for (const auto& name : available) {
    if (listed == 40) {
      listing += ", ...";
      break;
    }
    listing += (listed++ ? ", " : "") + name;
  }

  const auto check = [&](const char* key, const extract::Template& tmpl) {
    for (const std::string& name : tmpl.referenced_names()) {
      if (available.count(name)) continue;
      bool resolved = false;  // paths with array indexes ("items.0.name") are not listed
      for (size_t i = 0; i < count && !resolved; ++i) {
        resolved = extract::RecordContext((*sample)[i]).lookup(name).has_value();
      }
      if (!resolved) {
        warnings.push_back(std::string(key) + " uses " + name +
                           ", which no record has; available: " + listing);
      }
    }
  };
  check("value", mapping.value);
  check("label", mapping.label);
  if (mapping.search) check("search", *mapping.search);
  if (mapping.sort) check("sort", *mapping.sort);
  return warnings;
}

}  // namespace extdata::fields
