#include "extract/record_set.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "extract/json_text.h"
#include "extract/simdjson_tape.h"

namespace extdata::extract {
namespace {

// Per thread, a parser and a scratch document reused from page to page: parsing into warm
// memory avoids page faults on simdjson's worst-case sized buffers. Very large scratch
// buffers are released after use so one huge page does not pin memory for good.
constexpr size_t kKeepScratchBytes = size_t{256} << 20;

struct PageScratch {
  simdjson::dom::parser parser;
  simdjson::dom::document document;
  ShapeEncoder encoder;
  std::vector<simdjson::dom::element> records;
};

PageScratch& page_scratch() {
  thread_local PageScratch scratch;
  return scratch;
}

// Room for `needed` elements, growing by doubling (so many pages append in linear time) into a
// table advised for huge pages before it is first written (a million records' tables are
// megabytes of fresh memory).
template <typename T>
void reserve_doubling(std::vector<T>& table, size_t needed) {
  if (table.capacity() >= needed) return;
  std::vector<T> bigger;
  bigger.reserve(std::max(needed, table.capacity() * 2));
  advise_huge_pages(bigger.data(), bigger.capacity() * sizeof(T));
  bigger.insert(bigger.end(), table.begin(), table.end());
  table.swap(bigger);
}

// The singular column paths as a trie, so that a record is walked once for all columns:
// `$.fields.Title` and `$.fields.City` look up "fields" once and then scan the fields object
// once for both names. Non-singular column paths are evaluated one by one.
struct ColumnPlan {
  struct Node {
    JsonPath::Step step;
    std::vector<size_t> columns;  // columns whose path ends here
    std::vector<Node> children;
  };
  Node root;
  std::vector<size_t> general_columns;

  explicit ColumnPlan(const std::vector<ColumnSpec>& specs) {
    for (size_t c = 0; c < specs.size(); ++c) {
      auto steps = specs[c].path.singular_steps();
      if (!steps) {
        general_columns.push_back(c);
        continue;
      }
      Node* node = &root;
      for (const JsonPath::Step& step : *steps) {
        Node* next = nullptr;
        for (Node& child : node->children) {
          if (child.step.is_index == step.is_index && child.step.name == step.name &&
              child.step.index == step.index) {
            next = &child;
            break;
          }
        }
        if (!next) {
          node->children.push_back(Node{step, {}, {}});
          next = &node->children.back();
        }
        node = next;
      }
      node->columns.push_back(c);
    }
  }

  template <typename Store>
  static void walk(const Node& node, simdjson::dom::element value, const Store& store) {
    for (size_t column : node.columns) store(column, value);
    if (node.children.empty()) return;
    simdjson::dom::object object;
    if (value.get_object().get(object) == simdjson::SUCCESS) {
      size_t wanted = 0;
      for (const Node& child : node.children) wanted += !child.step.is_index;
      if (wanted == 0) return;
      // First match wins, as with at_key(); each child is found at most once.
      uint64_t found_mask = 0;
      const bool use_mask = node.children.size() <= 64;
      for (auto field : object) {
        for (size_t i = 0; i < node.children.size(); ++i) {
          const Node& child = node.children[i];
          if (child.step.is_index || child.step.name != field.key) continue;
          if (use_mask) {
            if (found_mask & (uint64_t{1} << i)) continue;
            found_mask |= uint64_t{1} << i;
          }
          walk(child, field.value, store);
          --wanted;
        }
        if (wanted == 0) break;
      }
      return;
    }
    simdjson::dom::array array;
    if (value.get_array().get(array) != simdjson::SUCCESS) return;
    const int64_t size = static_cast<int64_t>(array.size());
    for (const Node& child : node.children) {
      if (!child.step.is_index) continue;
      const int64_t index = child.step.index < 0 ? child.step.index + size : child.step.index;
      simdjson::dom::element item;
      if (index >= 0 && index < size &&
          array.at(static_cast<size_t>(index)).get(item) == simdjson::SUCCESS) {
        walk(child, item, store);
      }
    }
  }
};

}  // namespace

RecordJson RecordRef::json() const {
  return RecordJson(set_->pages_[set_->record_page_[index_]], set_->records_[index_]);
}

bool RecordRef::has_column(size_t column_index) const {
  const size_t width = set_->column_names_.size();
  return column_index < width &&
         set_->values_[index_ * width + column_index] != ShapePage::kMissing;
}

std::optional<RecordJson> RecordRef::column(size_t column_index) const {
  if (!has_column(column_index)) return std::nullopt;
  const uint32_t slot = set_->values_[index_ * set_->column_names_.size() + column_index];
  return RecordJson(set_->pages_[set_->record_page_[index_]], slot);
}

std::optional<RecordJson> RecordRef::column(std::string_view name) const {
  const auto index = set_->column_index(name);
  if (!index) return std::nullopt;
  return column(*index);
}

std::optional<RecordJson> RecordSet::last_page_root() const {
  if (pages_.empty()) return std::nullopt;
  RecordJson root(pages_.back(), pages_.back().root);
  root.keep(pages_.back().memory);
  return root;
}

std::optional<size_t> RecordSet::column_index(std::string_view name) const {
  for (size_t i = 0; i < column_names_.size(); ++i) {
    if (column_names_[i] == name) return i;
  }
  return std::nullopt;
}

// Parses `json_text` into this thread's scratch document (and frees the text).
Status RecordSet::parse_scratch(std::string& json_text) {
  // simdjson reads up to SIMDJSON_PADDING bytes past the end; giving it room avoids a copy.
  if (json_text.capacity() < json_text.size() + simdjson::SIMDJSON_PADDING) {
    json_text.reserve(json_text.size() + simdjson::SIMDJSON_PADDING);
  }
  PageScratch& scratch = page_scratch();
  // The scratch gets no huge-page advice: it is reused warm, and huge pages would round what
  // stays resident up.
  simdjson::dom::document& target = scratch.document;
  if (target.capacity() < json_text.size()) {
    if (target.allocate(json_text.size()) != simdjson::SUCCESS) {
      return Error(
          "extract.memory",
          "not enough memory to parse a " + std::to_string(json_text.size()) + " byte page",
          "request smaller pages from the source");
    }
  }
  simdjson::dom::element root;
  const auto error =
      scratch.parser
          .parse_into_document(target, reinterpret_cast<const uint8_t*>(json_text.data()),
                               json_text.size(), false)
          .get(root);
  if (error == simdjson::DEPTH_ERROR) {
    return Error("extract.depth",
                 "the JSON document is nested deeper than " + std::to_string(kMaxDepth) + " levels",
                 "such documents are not supported");
  }
  if (error != simdjson::SUCCESS) {
    return Error("extract.json",
                 std::string("the response is not valid JSON: ") + simdjson::error_message(error),
                 "check that the source returns JSON (or configure the XML / CSV format)");
  }
  std::string().swap(json_text);  // the parsed document holds everything
  return ok_status();
}

namespace {
// Very large scratch buffers are released after use so one huge page does not pin memory.
void release_large_scratch() {
  PageScratch& scratch = page_scratch();
  if (scratch.document.capacity() > kKeepScratchBytes ||
      scratch.parser.capacity() > kKeepScratchBytes) {
    scratch.document = simdjson::dom::document();
    scratch.parser = simdjson::dom::parser();
  }
}
}  // namespace

Status RecordSet::check_columns(const std::vector<ColumnSpec>& columns) const {
  if (pages_.empty() && records_.empty()) return ok_status();
  bool same = columns.size() == column_names_.size();
  for (size_t i = 0; same && i < columns.size(); ++i) same = columns[i].name == column_names_[i];
  if (same) return ok_status();
  return Error("extract.columns", "a page was appended with different columns than the first page",
               "use the same column specification for every page of a source");
}

void RecordSet::select(const std::vector<simdjson::dom::element>& records,
                       const std::vector<ColumnSpec>& columns, Selection& out) {
  const size_t width = columns.size();
  out.records = records.size();
  out.width = width;
  out.wanted.clear();
  out.wanted.reserve(records.size() * (width + 1));
  const ColumnPlan plan(columns);
  std::vector<bool> found(width);
  for (size_t r = 0; r < records.size(); ++r) {
    const auto position = static_cast<uint32_t>(r * (width + 1));
    const size_t first = out.wanted.size();
    out.wanted.push_back({tape_index(records[r]), position});
    if (width == 0) continue;
    found.assign(width, false);
    ColumnPlan::walk(plan.root, records[r], [&](size_t c, simdjson::dom::element value) {
      if (found[c]) return;
      found[c] = true;
      out.wanted.push_back({tape_index(value), static_cast<uint32_t>(position + 1 + c)});
    });
    for (size_t c : plan.general_columns) {
      if (auto value = columns[c].path.first(records[r]))
        out.wanted.push_back({tape_index(*value), static_cast<uint32_t>(position + 1 + c)});
    }
    // A record's columns lie inside it: sorting each record's few entries usually leaves the
    // whole list sorted (records in document order).
    std::sort(out.wanted.begin() + static_cast<ptrdiff_t>(first), out.wanted.end(),
              [](const auto& a, const auto& b) { return a.index < b.index; });
  }
}

Status RecordSet::add_page(Selection& selection, const std::vector<std::string>& column_names,
                           const Encode& encode) {
  auto& wanted = selection.wanted;
  const auto by_index = [](const Selection::Wanted& a, const Selection::Wanted& b) {
    return a.index < b.index;
  };
  if (!std::is_sorted(wanted.begin(), wanted.end(), by_index))
    std::stable_sort(wanted.begin(), wanted.end(), by_index);
  thread_local std::vector<uint64_t> indexes;
  thread_local std::vector<uint32_t> refs, found;
  indexes.resize(wanted.size());
  refs.resize(wanted.size());
  for (size_t i = 0; i < wanted.size(); ++i) indexes[i] = wanted[i].index;
  ShapePage page;
  EXTDATA_TRY(encode(indexes, refs.data(), page));
  const size_t width = selection.width;
  found.assign(selection.records * (width + 1), ShapePage::kMissing);
  for (size_t i = 0; i < wanted.size(); ++i) found[wanted[i].position] = refs[i];

  if (pages_.empty()) column_names_ = column_names;
  const auto page_index = static_cast<uint32_t>(pages_.size());
  size_t kept = 0;
  for (size_t r = 0; r < selection.records; ++r)
    kept += found[r * (width + 1)] != ShapePage::kMissing;
  reserve_doubling(records_, records_.size() + kept);
  reserve_doubling(record_page_, record_page_.size() + kept);
  reserve_doubling(values_, values_.size() + kept * width);
  for (size_t r = 0; r < selection.records; ++r) {
    const uint32_t* row = found.data() + r * (width + 1);
    if (row[0] == ShapePage::kMissing) continue;  // left out with an omitted member
    records_.push_back(row[0]);
    record_page_.push_back(page_index);
    values_.insert(values_.end(), row + 1, row + 1 + width);
  }
  pages_.push_back(std::move(page));
  constexpr size_t kKeepEntries = size_t{1} << 20;  // a huge page's tables are not kept
  if (found.capacity() > kKeepEntries) {
    std::vector<uint64_t>().swap(indexes);
    std::vector<uint32_t>().swap(refs);
    std::vector<uint32_t>().swap(found);
  }
  return ok_status();
}

Status RecordSet::append_page(std::string json_text, const JsonPath& records,
                              const std::vector<ColumnSpec>& columns) {
  EXTDATA_TRY(check_columns(columns));
  EXTDATA_TRY(parse_scratch(json_text));
  PageScratch& scratch = page_scratch();
  scratch.records.clear();
  Status selected = records.select(scratch.document.root(), scratch.records);
  thread_local Selection selection;
  if (selected.ok()) {
    select(scratch.records, columns, selection);
    std::vector<std::string> names;
    for (const ColumnSpec& column : columns) names.push_back(column.name);
    const simdjson::dom::document& document = scratch.document;
    selected = add_page(selection, names,
                        [&](const std::vector<uint64_t>& wanted, uint32_t* refs, ShapePage& page) {
                          return scratch.encoder.encode(
                              document.tape.get(), tape_length(document), document.string_buf.get(),
                              omitted_member_suffix_, wanted, refs, nullptr, page);
                        });
  }
  release_large_scratch();
  return selected;
}

std::string RecordSet::to_json() const {
  std::string out = "[";
  const size_t width = column_names_.size();
  for (size_t r = 0; r < records_.size(); ++r) {
    if (r > 0) out += ',';
    out += "{\"record\":";
    const RecordRef record = (*this)[r];
    append_json(out, record.json().root());
    out += ",\"columns\":{";
    bool first = true;
    for (size_t c = 0; c < width; ++c) {
      const auto value = record.column(c);
      if (!value) continue;
      if (!first) out += ',';
      first = false;
      append_json_string(out, column_names_[c]);
      out += ':';
      append_json(out, value->root());
    }
    out += "}}";
  }
  out += ']';
  return out;
}

Result<RecordSet> RecordSet::from_json(std::string json_text) {
  RecordSet set;
  EXTDATA_TRY(parse_scratch(json_text));
  PageScratch& scratch = page_scratch();
  const simdjson::dom::document& document = scratch.document;
  simdjson::dom::array items;
  if (document.root().get_array().get(items) != simdjson::SUCCESS) {
    release_large_scratch();
    return Error("extract.snapshot", "a record snapshot must be a JSON array", "");
  }
  // Column names in order of first appearance.
  std::vector<std::string> names;
  std::unordered_map<std::string, size_t> index_of;
  for (auto item : items) {
    simdjson::dom::object columns;
    if (item["columns"].get_object().get(columns) != simdjson::SUCCESS) continue;
    for (auto field : columns) {
      if (index_of.emplace(std::string(field.key), names.size()).second)
        names.emplace_back(field.key);
    }
  }
  const size_t width = names.size();
  Selection selection;
  selection.width = width;
  size_t position = 0;
  for (auto item : items) {
    simdjson::dom::element record;
    if (item["record"].get(record) != simdjson::SUCCESS) {
      release_large_scratch();
      return Error("extract.snapshot",
                   "record snapshot item " + std::to_string(position) + " has no \"record\" member",
                   "");
    }
    const auto row = static_cast<uint32_t>(position * (width + 1));
    selection.wanted.push_back({tape_index(record), row});
    simdjson::dom::object columns;
    if (item["columns"].get_object().get(columns) == simdjson::SUCCESS) {
      for (auto field : columns) {
        const size_t c = index_of.at(std::string(field.key));
        selection.wanted.push_back({tape_index(field.value), static_cast<uint32_t>(row + 1 + c)});
      }
    }
    ++position;
  }
  selection.records = position;
  Status added = set.add_page(
      selection, names, [&](const std::vector<uint64_t>& wanted, uint32_t* refs, ShapePage& page) {
        return scratch.encoder.encode(document.tape.get(), tape_length(document),
                                      document.string_buf.get(), {}, wanted, refs, nullptr, page);
      });
  release_large_scratch();
  if (!added.ok()) return added.error();
  return set;
}

Result<RecordSet> RecordSet::combine(const RecordSet& base, const RecordSet& additions,
                                     const std::vector<Pick>& picks) {
  const bool both = !base.pages_.empty() && !additions.pages_.empty();
  if (both && base.column_names_ != additions.column_names_) {
    return Error("extract.columns", "records with different columns cannot be combined",
                 "use the same column specification for every page of a source");
  }
  RecordSet out;
  out.column_names_ = base.pages_.empty() ? additions.column_names_ : base.column_names_;
  out.omitted_member_suffix_ = base.omitted_member_suffix_;
  const size_t width = out.column_names_.size();
  // Per input set, old page index → new one (UINT32_MAX: not used yet).
  std::vector<std::uint32_t> page_map[2] = {
      std::vector<std::uint32_t>(base.pages_.size(), UINT32_MAX),
      std::vector<std::uint32_t>(additions.pages_.size(), UINT32_MAX)};
  out.records_.reserve(picks.size());
  out.record_page_.reserve(picks.size());
  out.values_.reserve(picks.size() * width);
  for (const Pick& pick : picks) {
    const RecordSet& from = pick.from_additions ? additions : base;
    const size_t r = pick.index;  // in range: picks name records of their sets
    std::uint32_t& mapped = page_map[pick.from_additions][from.record_page_[r]];
    if (mapped == UINT32_MAX) {
      mapped = static_cast<std::uint32_t>(out.pages_.size());
      out.pages_.push_back(from.pages_[from.record_page_[r]]);
    }
    out.records_.push_back(from.records_[r]);
    out.record_page_.push_back(mapped);
    const auto row = from.values_.begin() + static_cast<ptrdiff_t>(r * width);
    out.values_.insert(out.values_.end(), row, row + static_cast<ptrdiff_t>(width));
  }
  return out;
}

size_t RecordSet::memory_bytes() const {
  size_t bytes = sizeof(*this);
  for (const ShapePage& page : pages_) bytes += page.bytes() + sizeof(ShapePage);
  bytes += records_.capacity() * sizeof(std::uint32_t);
  bytes += values_.capacity() * sizeof(std::uint32_t);
  bytes += record_page_.capacity() * sizeof(std::uint32_t);
  for (const std::string& name : column_names_) bytes += sizeof(std::string) + name.capacity();
  return bytes;
}

}  // namespace extdata::extract
