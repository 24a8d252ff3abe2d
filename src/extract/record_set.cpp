#include "extract/record_set.h"

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
  TapeCompactor compactor;
};

PageScratch& page_scratch() {
  thread_local PageScratch scratch;
  return scratch;
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

simdjson::dom::element RecordRef::json() const {
  return set_->records_[index_];
}

std::optional<simdjson::dom::element> RecordRef::column(size_t column_index) const {
  const size_t width = set_->column_names_.size();
  if (column_index >= width) return std::nullopt;
  const size_t slot = index_ * width + column_index;
  if (!set_->present_[slot]) return std::nullopt;
  return set_->values_[slot];
}

std::optional<simdjson::dom::element> RecordRef::column(std::string_view name) const {
  const auto index = set_->column_index(name);
  if (!index) return std::nullopt;
  return column(*index);
}

std::optional<simdjson::dom::element> RecordSet::last_page_root() const {
  if (pages_.empty()) return std::nullopt;
  return pages_.back().document->root();
}

std::optional<size_t> RecordSet::column_index(std::string_view name) const {
  for (size_t i = 0; i < column_names_.size(); ++i) {
    if (column_names_[i] == name) return i;
  }
  return std::nullopt;
}

Result<RecordSet::Page> RecordSet::parse_page(std::string& json_text,
                                              std::string_view omitted_suffix) {
  // simdjson reads up to SIMDJSON_PADDING bytes past the end; giving it room avoids a copy.
  if (json_text.capacity() < json_text.size() + simdjson::SIMDJSON_PADDING) {
    json_text.reserve(json_text.size() + simdjson::SIMDJSON_PADDING);
  }
  PageScratch& scratch = page_scratch();
  // Every page is parsed into the warm scratch document and copied out compacted (see
  // copy_compacted): the copy costs far less than the memory it saves. The scratch gets no
  // huge-page advice: it is reused warm, and huge pages would round what stays resident up.
  Page page;
  page.document = std::make_shared<simdjson::dom::document>();
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
  std::string().swap(json_text);  // the parsed document holds everything; free it before copying
  page.bytes = scratch.compactor.compact(scratch.document, *page.document, omitted_suffix);
  if (scratch.document.capacity() > kKeepScratchBytes ||
      scratch.parser.capacity() > kKeepScratchBytes) {
    scratch.document = simdjson::dom::document();
    scratch.parser = simdjson::dom::parser();
  }
  return page;
}

Status RecordSet::check_columns(const std::vector<ColumnSpec>& columns) const {
  if (pages_.empty() && records_.empty()) return ok_status();
  bool same = columns.size() == column_names_.size();
  for (size_t i = 0; same && i < columns.size(); ++i) same = columns[i].name == column_names_[i];
  if (same) return ok_status();
  return Error("extract.columns", "a page was appended with different columns than the first page",
               "use the same column specification for every page of a source");
}

Status RecordSet::append_page(std::string json_text, const JsonPath& records,
                              const std::vector<ColumnSpec>& columns) {
  EXTDATA_TRY(check_columns(columns));
  EXTDATA_ASSIGN_OR_RETURN(Page page, parse_page(json_text, omitted_member_suffix_));
  const size_t first_new = records_.size();
  EXTDATA_TRY(records.select(page.document->root(), records_));
  add_page(std::move(page), first_new, columns);
  return ok_status();
}

void RecordSet::add_page(Page page, size_t first_new, const std::vector<ColumnSpec>& columns) {
  if (pages_.empty()) {
    column_names_.clear();
    for (const ColumnSpec& column : columns) column_names_.push_back(column.name);
  }
  record_page_.resize(records_.size(), static_cast<std::uint32_t>(pages_.size()));
  const size_t width = columns.size();
  values_.resize(records_.size() * width);
  present_.resize(records_.size() * width);
  const ColumnPlan plan(columns);
  for (size_t r = first_new; r < records_.size(); ++r) {
    const size_t row = r * width;
    ColumnPlan::walk(plan.root, records_[r], [&](size_t c, simdjson::dom::element value) {
      if (present_[row + c]) return;
      values_[row + c] = value;
      present_[row + c] = true;
    });
    for (size_t c : plan.general_columns) {
      if (auto value = columns[c].path.first(records_[r])) {
        values_[row + c] = *value;
        present_[row + c] = true;
      }
    }
  }
  pages_.push_back(std::move(page));
}

std::string RecordSet::to_json() const {
  std::string out = "[";
  const size_t width = column_names_.size();
  for (size_t r = 0; r < records_.size(); ++r) {
    if (r > 0) out += ',';
    out += "{\"record\":";
    append_json(out, records_[r]);
    out += ",\"columns\":{";
    bool first = true;
    for (size_t c = 0; c < width; ++c) {
      if (!present_[r * width + c]) continue;
      if (!first) out += ',';
      first = false;
      append_json_string(out, column_names_[c]);
      out += ':';
      append_json(out, values_[r * width + c]);
    }
    out += "}}";
  }
  out += ']';
  return out;
}

Result<RecordSet> RecordSet::from_json(std::string json_text) {
  RecordSet set;
  EXTDATA_ASSIGN_OR_RETURN(Page page, parse_page(json_text, {}));
  simdjson::dom::array items;
  if (page.document->root().get_array().get(items) != simdjson::SUCCESS) {
    return Error("extract.snapshot", "a record snapshot must be a JSON array", "");
  }
  // Column names in order of first appearance.
  std::unordered_map<std::string, size_t> index_of;
  for (auto item : items) {
    simdjson::dom::object columns;
    if (item["columns"].get_object().get(columns) != simdjson::SUCCESS) continue;
    for (auto field : columns) {
      if (index_of.emplace(std::string(field.key), set.column_names_.size()).second) {
        set.column_names_.emplace_back(field.key);
      }
    }
  }
  const size_t width = set.column_names_.size();
  size_t position = 0;
  for (auto item : items) {
    simdjson::dom::element record;
    if (item["record"].get(record) != simdjson::SUCCESS) {
      return Error("extract.snapshot",
                   "record snapshot item " + std::to_string(position) + " has no \"record\" member",
                   "");
    }
    set.records_.push_back(record);
    set.record_page_.push_back(0);
    set.values_.resize(set.records_.size() * width);
    set.present_.resize(set.records_.size() * width);
    simdjson::dom::object columns;
    if (item["columns"].get_object().get(columns) == simdjson::SUCCESS) {
      for (auto field : columns) {
        const size_t slot = position * width + index_of.at(std::string(field.key));
        set.values_[slot] = field.value;
        set.present_[slot] = true;
      }
    }
    ++position;
  }
  set.pages_.push_back(std::move(page));
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
  out.present_.reserve(picks.size() * width);
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
    for (size_t c = 0; c < width; ++c) {
      out.values_.push_back(from.values_[r * width + c]);
      out.present_.push_back(from.present_[r * width + c]);
    }
  }
  return out;
}

size_t RecordSet::memory_bytes() const {
  size_t bytes = sizeof(*this);
  for (const Page& page : pages_)
    bytes += page.bytes + sizeof(Page) + sizeof(simdjson::dom::document);
  bytes += records_.capacity() * sizeof(simdjson::dom::element);
  bytes += values_.capacity() * sizeof(simdjson::dom::element);
  bytes += present_.capacity() / 8;
  bytes += record_page_.capacity() * sizeof(std::uint32_t);
  for (const std::string& name : column_names_) bytes += sizeof(std::string) + name.capacity();
  return bytes;
}

}  // namespace extdata::extract
