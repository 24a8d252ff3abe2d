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
  RecordSet::Page page;
  page.bytes = writer_.finish_document(memory_, page.document);
  const size_t first_new = set_.records_.size();
  const size_t needed = first_new + record_starts_.size();
  if (set_.records_.capacity() < needed) {  // exact for one page, doubling for many
    // Moved into a table advised for huge pages before it is first written (a million
    // records' table is 16 MB of fresh memory).
    std::vector<simdjson::dom::element> bigger;
    bigger.reserve(std::max(needed, set_.records_.capacity() * 2));
    advise_huge_pages(bigger.data(), bigger.capacity() * sizeof(simdjson::dom::element));
    bigger.insert(bigger.end(), set_.records_.begin(), set_.records_.end());
    set_.records_.swap(bigger);
  }
  for (const size_t start : record_starts_)
    set_.records_.push_back(element_at(*page.document, start));
  record_starts_.clear();
  set_.add_page(std::move(page), first_new, *columns_);
  return ok_status();
}

}  // namespace extdata::extract
