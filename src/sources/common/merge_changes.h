#pragma once
// Incremental syncs of any kind (Graph's delta query, a REST API's "changed since"): the records
// of the last sync and the changed records an upstream returned become the new records, as a
// full read would list them, without copying or parsing a record again
// (extract::RecordSet::combine). Each kind says how a change names its record and whether it
// removes it (ChangeRules).
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/error.h"
#include "extract/record_changes.h"
#include "extract/record_set.h"

namespace extdata::sources {

struct ChangeRules {
  // The record's identity; nullopt: the change names no record and is ignored.
  std::function<std::optional<std::string>(const extract::RecordRef&)> key;
  // A removal (a tombstone) rather than the record's new version.
  std::function<bool(const extract::RecordRef&)> removes;
};

struct ChangeCounts {
  size_t added = 0;    // keys not in the base
  size_t updated = 0;  // keys in the base, replaced by their new version
  size_t removed = 0;  // removals of keys in the base
};

struct MergedRecords {
  extract::RecordSet records;
  ChangeCounts counts;
  // Which records of `records` are new and which base records are gone (replaced ones are
  // both), for patching what was built from the base.
  std::shared_ptr<const extract::RecordChanges> changes;
};

// `base` with every record whose key appears in `changes` replaced in place by its last
// version there, the removed ones dropped and new keys appended in the order of the changes.
// Removals of keys the base does not have, and changes without a key, are ignored; of base
// records sharing a key, each is replaced (or removed). O(base + changes).
Result<MergedRecords> merge_changes(const extract::RecordSet& base,
                                    const extract::RecordSet& changes, const ChangeRules& rules);

}  // namespace extdata::sources
