#include "extract/record_set_builder.h"

#include <algorithm>
#include <limits>
#include <memory>

namespace extdata::extract {
namespace {
constexpr uint64_t kNoName = std::numeric_limits<uint64_t>::max();
const std::vector<ColumnSpec> kNoColumns;
}  // namespace

RecordSetBuilder::RecordSetBuilder(RecordSet& set, const std::vector<ColumnSpec>* columns)
    : set_(set), columns_(columns ? columns : &kNoColumns) {}

void RecordSetBuilder::begin_record() {
  if (!page_open_) {
    writer_.begin_document();
    writer_.start_array();
    names_.assign(names_.size(), kNoName);
    page_open_ = true;
  }
  record_starts_.push_back(writer_.next_index());
  writer_.start_object();
}

void RecordSetBuilder::member(size_t position, std::string_view name) {
  if (position >= names_.size()) names_.resize(position + 1, kNoName);
  uint64_t& offset = names_[position];
  if (offset == kNoName) offset = writer_.string_offset(name);
  writer_.key_at(offset);
}

void RecordSetBuilder::end_record() {
  writer_.end_object();
}

Status RecordSetBuilder::finish_page() {
  if (!page_open_) return ok_status();
  page_open_ = false;
  if (Status same = set_.check_columns(*columns_); !same.ok()) {
    record_starts_.clear();
    return same;
  }
  writer_.end_array();
  writer_.finish_document();
  const simdjson::dom::document& document = writer_.document();
  records_.clear();
  for (const size_t start : record_starts_) records_.push_back(element_at(document, start));
  record_starts_.clear();
  RecordSet::select(records_, *columns_, selection_);
  std::vector<std::string> names;
  for (const ColumnSpec& column : *columns_) names.push_back(column.name);
  return set_.add_page(selection_, names,
                       [&](const std::vector<uint64_t>& wanted, uint32_t* refs, ShapePage& page) {
                         return encoder_.encode(document.tape.get(), writer_.tape_length(),
                                                document.string_buf.get(), {}, wanted, refs,
                                                &memory_, page, writer_.string_bytes());
                       });
}

}  // namespace extdata::extract
