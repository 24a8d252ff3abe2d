#include "sources/sharepoint/delta.h"

#include <string>

namespace extdata::sources::sharepoint {

std::optional<std::string_view> item_id(simdjson::dom::element item) {
  std::string_view id;
  if (item["id"].get(id) != simdjson::SUCCESS) return std::nullopt;
  return id;
}

bool is_tombstone(simdjson::dom::element item) {
  simdjson::dom::element deleted;
  return item["deleted"].get(deleted) == simdjson::SUCCESS;
}

Result<MergedRecords> apply_delta(const extract::RecordSet& base,
                                  const extract::RecordSet& changes) {
  static const ChangeRules rules{
      .key = [](const extract::RecordRef& item) -> std::optional<std::string> {
        if (auto id = item_id(item.json().root())) return std::string(*id);
        return std::nullopt;
      },
      .removes = [](const extract::RecordRef& item) { return is_tombstone(item.json().root()); }};
  return merge_changes(base, changes, rules);
}

}  // namespace extdata::sources::sharepoint
