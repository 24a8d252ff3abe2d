#include "extract/record_set.h"

#include <cstring>
#include <unordered_map>

#include "extract/json_text.h"

namespace extdata::extract {
namespace {

simdjson::dom::parser& page_parser() {
  // One parser per thread: its buffers are reused from page to page.
  thread_local simdjson::dom::parser parser;
  return parser;
}

// simdjson sizes a document for the worst case (8 bytes of tape and 5/3 bytes of strings per
// input byte). Copies the used part into exactly sized buffers; elements refer to the document
// by tape index, so they stay valid. Returns the bytes now held.
size_t trim_document(simdjson::dom::document& document) {
  const uint64_t* tape = document.tape.get();
  constexpr uint64_t kPayloadMask = (uint64_t{1} << 56) - 1;
  const size_t tape_length = static_cast<size_t>(tape[0] & kPayloadMask) + 1;
  size_t strings_end = 0;
  for (size_t i = 0; i < tape_length; ++i) {
    const char type = static_cast<char>(tape[i] >> 56);
    if (type == '"') {
      const size_t offset = static_cast<size_t>(tape[i] & kPayloadMask);
      uint32_t length;
      std::memcpy(&length, document.string_buf.get() + offset, sizeof length);
      strings_end = std::max(strings_end, offset + sizeof length + length + 1);
    } else if (type == 'l' || type == 'u' || type == 'd') {
      ++i;  // the number itself occupies the next word
    }
  }
  std::unique_ptr<uint64_t[]> new_tape(new uint64_t[tape_length]);
  std::memcpy(new_tape.get(), tape, tape_length * sizeof(uint64_t));
  const size_t string_bytes = strings_end + simdjson::SIMDJSON_PADDING;
  std::unique_ptr<uint8_t[]> new_strings(new uint8_t[string_bytes]);
  std::memcpy(new_strings.get(), document.string_buf.get(), strings_end);
  std::memset(new_strings.get() + strings_end, 0, simdjson::SIMDJSON_PADDING);
  document.tape = std::move(new_tape);
  document.string_buf = std::move(new_strings);
  return tape_length * sizeof(uint64_t) + string_bytes;
}

}  // namespace

simdjson::dom::element RecordRef::json() const { return set_->records_[index_]; }

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

std::optional<size_t> RecordSet::column_index(std::string_view name) const {
  for (size_t i = 0; i < column_names_.size(); ++i) {
    if (column_names_[i] == name) return i;
  }
  return std::nullopt;
}

Result<RecordSet::Page> RecordSet::parse_page(std::string& json_text) {
  // simdjson reads up to SIMDJSON_PADDING bytes past the end; giving it room avoids a copy.
  if (json_text.capacity() < json_text.size() + simdjson::SIMDJSON_PADDING) {
    json_text.reserve(json_text.size() + simdjson::SIMDJSON_PADDING);
  }
  Page page;
  page.document = std::make_unique<simdjson::dom::document>();
  simdjson::dom::element root;
  const auto error = page_parser()
                         .parse_into_document(*page.document, reinterpret_cast<const uint8_t*>(json_text.data()),
                                              json_text.size(), false)
                         .get(root);
  if (error == simdjson::DEPTH_ERROR) {
    return Error("extract.depth",
                 "the JSON document is nested deeper than " + std::to_string(kMaxDepth) + " levels",
                 "such documents are not supported");
  }
  if (error != simdjson::SUCCESS) {
    return Error("extract.json", std::string("the response is not valid JSON: ") + simdjson::error_message(error),
                 "check that the source returns JSON (or configure the XML / CSV format)");
  }
  page.bytes = trim_document(*page.document);
  return page;
}

Status RecordSet::append_page(std::string json_text, const JsonPath& records, const std::vector<ColumnSpec>& columns) {
  if (!pages_.empty() || !records_.empty()) {
    bool same = columns.size() == column_names_.size();
    for (size_t i = 0; same && i < columns.size(); ++i) same = columns[i].name == column_names_[i];
    if (!same) {
      return Error("extract.columns", "a page was appended with different columns than the first page",
                   "use the same column specification for every page of a source");
    }
  }
  EXTDATA_ASSIGN_OR_RETURN(Page page, parse_page(json_text));
  json_text = std::string();  // the document holds everything it needs

  if (pages_.empty()) {
    column_names_.clear();
    for (const ColumnSpec& column : columns) column_names_.push_back(column.name);
  }
  const size_t first_new = records_.size();
  records.select(page.document->root(), records_);
  const size_t width = columns.size();
  values_.resize(records_.size() * width);
  present_.resize(records_.size() * width);
  for (size_t r = first_new; r < records_.size(); ++r) {
    for (size_t c = 0; c < width; ++c) {
      if (auto value = columns[c].path.first(records_[r])) {
        values_[r * width + c] = *value;
        present_[r * width + c] = true;
      }
    }
  }
  pages_.push_back(std::move(page));
  return ok_status();
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
  EXTDATA_ASSIGN_OR_RETURN(Page page, parse_page(json_text));
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
                   "record snapshot item " + std::to_string(position) + " has no \"record\" member", "");
    }
    set.records_.push_back(record);
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

size_t RecordSet::memory_bytes() const {
  size_t bytes = sizeof(*this);
  for (const Page& page : pages_) bytes += page.bytes + sizeof(Page) + sizeof(simdjson::dom::document);
  bytes += records_.capacity() * sizeof(simdjson::dom::element);
  bytes += values_.capacity() * sizeof(simdjson::dom::element);
  bytes += present_.capacity() / 8;
  for (const std::string& name : column_names_) bytes += sizeof(std::string) + name.capacity();
  return bytes;
}

}  // namespace extdata::extract
