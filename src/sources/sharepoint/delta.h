#pragma once
// Graph's delta query for list items (docs/sharepoint.md, "Delta sync"): the changes since a
// delta link are items (created or changed: the whole item) and tombstones
// ({"id":"3","deleted":{"state":"deleted"}}). apply_delta() turns the last records and the
// changes into the new records without copying or parsing a record again
// (extract::RecordSet::combine).
#include <cstddef>
#include <optional>
#include <string_view>

#include "core/error.h"
#include "extract/record_changes.h"
#include "extract/record_set.h"

namespace extdata::sources::sharepoint {

struct DeltaCounts {
  size_t added = 0;    // ids not in the base
  size_t updated = 0;  // ids in the base, replaced by their new version
  size_t removed = 0;  // tombstones of ids in the base
};

struct DeltaResult {
  extract::RecordSet records;
  DeltaCounts counts;
  // Which records of `records` are new and which base records are gone (replaced ones are
  // both), for patching what was built from the base.
  std::shared_ptr<const extract::RecordChanges> changes;
};

// The item's "id" string; nullopt when it has none.
std::optional<std::string_view> item_id(simdjson::dom::element item);
// A tombstone: the item has a "deleted" member.
bool is_tombstone(simdjson::dom::element item);

// `base` with every item whose id appears in `changes` replaced in place by its last version
// there, the tombstoned ones removed and new ids appended (in the order of the changes), as a
// full read would list them. Tombstones of ids the base does not have, and changes without an
// id, are ignored. O(base + changes); no record is copied.
Result<DeltaResult> apply_delta(const extract::RecordSet& base, const extract::RecordSet& changes);

}  // namespace extdata::sources::sharepoint
