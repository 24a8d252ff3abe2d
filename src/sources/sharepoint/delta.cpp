#include "sources/sharepoint/delta.h"

#include <string>
#include <unordered_map>
#include <vector>

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

Result<DeltaResult> apply_delta(const extract::RecordSet& base, const extract::RecordSet& changes) {
  // id → the index of its last change: a page may carry an item twice (changed twice).
  std::unordered_map<std::string_view, size_t> last_change;
  last_change.reserve(changes.size());
  for (size_t i = 0; i < changes.size(); ++i) {
    if (auto id = item_id(changes[i].json())) last_change[*id] = i;
  }
  using Pick = extract::RecordSet::Pick;
  DeltaCounts counts;
  std::vector<Pick> picks;
  picks.reserve(base.size() + changes.size());
  std::vector<bool> used(changes.size(), false);
  // Changed items keep their place (a full read would list them there too); deleted ones go.
  for (size_t r = 0; r < base.size(); ++r) {
    const auto id = last_change.empty() ? std::nullopt : item_id(base[r].json());
    const auto found = id ? last_change.find(*id) : last_change.end();
    if (found == last_change.end()) {
      picks.push_back({static_cast<std::uint32_t>(r), false});
      continue;
    }
    used[found->second] = true;
    if (is_tombstone(changes[found->second].json())) {
      ++counts.removed;
    } else {
      ++counts.updated;
      picks.push_back({static_cast<std::uint32_t>(found->second), true});
    }
  }
  // New items follow, in the order of the changes.
  for (size_t i = 0; i < changes.size(); ++i) {
    const auto id = item_id(changes[i].json());
    if (!id || used[i] || last_change.at(*id) != i || is_tombstone(changes[i].json())) continue;
    ++counts.added;
    picks.push_back({static_cast<std::uint32_t>(i), true});
  }
  EXTDATA_ASSIGN_OR_RETURN(extract::RecordSet combined,
                           extract::RecordSet::combine(base, changes, picks));
  std::shared_ptr<const extract::RecordChanges> changed;
  if (auto described = extract::RecordChanges::of_picks(base.size(), picks))
    changed = std::make_shared<const extract::RecordChanges>(std::move(*described));
  return DeltaResult{std::move(combined), counts, std::move(changed)};
}

}  // namespace extdata::sources::sharepoint
