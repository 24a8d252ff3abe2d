#pragma once
// RecordChanges: how a record set differs from the one it was derived from, when an incremental
// sync replaced, removed or added a few records (RecordSet::combine with the old records'
// picks in order). Consumers of the old records (a field's option table) patch what they built
// instead of building it again (docs/fields.md, "Refresh").
//
// The new set is the old set without `removed` (old indexes) with `fresh` (new indexes)
// inserted; every other record is the same record, and records keep their relative order:
// the k-th old record not removed is the k-th new record not fresh. A replaced record is both
// removed (its old version) and fresh (its new one).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "extract/record_set.h"

namespace extdata::extract {

struct RecordChanges {
  static constexpr std::uint32_t kGone = 0xFFFFFFFF;

  size_t old_size = 0;
  size_t new_size = 0;
  std::vector<std::uint32_t> removed;  // old indexes, ascending
  std::vector<std::uint32_t> fresh;    // new indexes, ascending

  // The changes of combine(base, additions, picks) against base: nullopt when the picks from
  // the base are not in ascending order (records moved; nothing can be patched).
  static std::optional<RecordChanges> of_picks(size_t base_size,
                                               const std::vector<RecordSet::Pick>& picks);

  size_t count() const { return removed.size() + fresh.size(); }
  // The new index of every old record (kGone for removed ones). O(old_size).
  std::vector<std::uint32_t> new_indexes() const;
};

}  // namespace extdata::extract
