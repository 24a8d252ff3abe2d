#include "extract/record_changes.h"

namespace extdata::extract {

std::optional<RecordChanges> RecordChanges::of_picks(size_t base_size,
                                                     const std::vector<RecordSet::Pick>& picks) {
  RecordChanges changes;
  changes.old_size = base_size;
  changes.new_size = picks.size();
  size_t next_old = 0;  // the old records before it are kept or listed as removed
  for (size_t i = 0; i < picks.size(); ++i) {
    if (picks[i].from_additions) {
      changes.fresh.push_back(static_cast<std::uint32_t>(i));
      continue;
    }
    if (picks[i].index < next_old || picks[i].index >= base_size) return std::nullopt;
    for (; next_old < picks[i].index; ++next_old)
      changes.removed.push_back(static_cast<std::uint32_t>(next_old));
    ++next_old;
  }
  for (; next_old < base_size; ++next_old)
    changes.removed.push_back(static_cast<std::uint32_t>(next_old));
  return changes;
}

std::vector<std::uint32_t> RecordChanges::new_indexes() const {
  std::vector<std::uint32_t> out(old_size, kGone);
  size_t removed_at = 0, fresh_at = 0;
  std::uint32_t next_new = 0;
  for (size_t old = 0; old < old_size; ++old) {
    if (removed_at < removed.size() && removed[removed_at] == old) {
      ++removed_at;
      continue;
    }
    while (fresh_at < fresh.size() && fresh[fresh_at] == next_new) ++fresh_at, ++next_new;
    out[old] = next_new++;
  }
  return out;
}

}  // namespace extdata::extract
