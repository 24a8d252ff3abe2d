#include "sources/common/merge_changes.h"

#include <unordered_map>
#include <vector>

namespace extdata::sources {

Result<MergedRecords> merge_changes(const extract::RecordSet& base,
                                    const extract::RecordSet& changes, const ChangeRules& rules) {
  // key → the index of its last change: a page may carry a record twice (changed twice).
  std::unordered_map<std::string, size_t> last_change;
  last_change.reserve(changes.size());
  std::vector<bool> keyed(changes.size(), false);
  for (size_t i = 0; i < changes.size(); ++i) {
    if (auto key = rules.key(changes[i])) {
      last_change[std::move(*key)] = i;
      keyed[i] = true;
    }
  }
  using Pick = extract::RecordSet::Pick;
  ChangeCounts counts;
  std::vector<Pick> picks;
  picks.reserve(base.size() + changes.size());
  std::vector<bool> used(changes.size(), false);
  // Changed records keep their place (a full read would list them there too); removed ones go.
  for (size_t r = 0; r < base.size(); ++r) {
    const auto key = last_change.empty() ? std::nullopt : rules.key(base[r]);
    const auto found = key ? last_change.find(*key) : last_change.end();
    if (found == last_change.end()) {
      picks.push_back({static_cast<std::uint32_t>(r), false});
      continue;
    }
    used[found->second] = true;
    if (rules.removes(changes[found->second])) {
      ++counts.removed;
    } else {
      ++counts.updated;
      picks.push_back({static_cast<std::uint32_t>(found->second), true});
    }
  }
  // New records follow, in the order of the changes: the last change of each new key.
  for (size_t i = 0; i < changes.size(); ++i) {
    if (!keyed[i] || used[i]) continue;
    const auto key = rules.key(changes[i]);
    if (last_change.at(*key) != i || rules.removes(changes[i])) continue;
    ++counts.added;
    picks.push_back({static_cast<std::uint32_t>(i), true});
  }
  EXTDATA_ASSIGN_OR_RETURN(extract::RecordSet combined,
                           extract::RecordSet::combine(base, changes, picks));
  std::shared_ptr<const extract::RecordChanges> changed;
  if (auto described = extract::RecordChanges::of_picks(base.size(), picks))
    changed = std::make_shared<const extract::RecordChanges>(std::move(*described));
  return MergedRecords{std::move(combined), counts, std::move(changed)};
}

}  // namespace extdata::sources
